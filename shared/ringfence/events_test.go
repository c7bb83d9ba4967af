package ringfence_test

import (
	"testing"
	"time"

	"github.com/ringfence/ringfence/shared/ringfence"
)

func TestValidateEndpoint(t *testing.T) {
	tests := []struct {
		url           string
		events        []string
		allowLoopback bool
		wantValid     bool
	}{
		{"https://crm.example.com/hook", []string{"call.ended"}, false, true},
		{"https://crm.example.com:8443/hook?x=1", ringfence.EventTypes, false, true},
		{"http://crm.example.com/hook", []string{"call.ended"}, false, false},
		{"http://crm.example.com/hook", []string{"call.ended"}, true, false},
		{"http://127.0.0.1:4000/events", []string{"call.ended"}, false, false},
		{"http://127.0.0.1:4000/events", []string{"call.ended"}, true, true},
		{"http://localhost:4000/events", []string{"call.ended"}, true, true},
		{"http://[::1]:4000/events", []string{"call.ended"}, true, true},
		{"http://10.0.0.1/events", []string{"call.ended"}, true, false},
		{"https://user:pass@crm.example.com/hook", []string{"call.ended"}, false, false},
		{"ftp://crm.example.com/hook", []string{"call.ended"}, false, false},
		{"crm.example.com/hook", []string{"call.ended"}, false, false},
		{"", []string{"call.ended"}, false, false},
		{"https://crm.example.com/hook", nil, false, false},
		{"https://crm.example.com/hook", []string{"call.started"}, false, false},
	}
	for _, tt := range tests {
		err := ringfence.ValidateEndpoint(ringfence.Endpoint{URL: tt.url, Events: tt.events}, tt.allowLoopback)
		if got := err == nil; got != tt.wantValid {
			t.Fatalf("ValidateEndpoint(%q, %v, loopback %v) valid=%v (%v), want %v", tt.url, tt.events, tt.allowLoopback, got, err, tt.wantValid)
		}
		if err != nil && ringfence.ErrorCode(err) != ringfence.EINVALID {
			t.Fatalf("ValidateEndpoint(%q) code=%s, want %s", tt.url, ringfence.ErrorCode(err), ringfence.EINVALID)
		}
	}
}

// The first retry comes within a minute; the last attempt more than 24 hours after the first.
func TestRetryScheduleSpansADay(t *testing.T) {
	first, ok := ringfence.NextAttemptAfter(1)
	if !ok || first > time.Minute {
		t.Fatalf("first retry after %v (%v), want within a minute", first, ok)
	}
	var total time.Duration
	for n := 1; ; n++ {
		wait, more := ringfence.NextAttemptAfter(n)
		if !more {
			if got, want := n, ringfence.MaxDeliveryAttempts; got != want {
				t.Fatalf("attempts=%d, want %d", got, want)
			}
			break
		}
		total += wait
	}
	if total <= 24*time.Hour {
		t.Fatalf("last attempt %v after the first, want more than 24 h", total)
	}
}

func TestEventIDIsDerivedFromTheChange(t *testing.T) {
	a := ringfence.EventID(ringfence.EventCallEnded, "call_1")
	if got := ringfence.EventID(ringfence.EventCallEnded, "call_1"); got != a {
		t.Fatalf("EventID is %s then %s, want the same for one change", a, got)
	}
	for _, other := range []string{
		ringfence.EventID(ringfence.EventCallCorrected, "call_1"),
		ringfence.EventID(ringfence.EventCallEnded, "call_2"),
		ringfence.EventID(ringfence.EventCallEnded, "call_1", "x"),
	} {
		if other == a {
			t.Fatalf("two changes share the id %s", a)
		}
	}
}
