package ringfence_test

import (
	"testing"
	"time"

	"github.com/ringfence/ringfence/shared/ringfence"
)

func TestValidateEndpoint(t *testing.T) {
	tests := []struct {
		events    []string
		wantValid bool
	}{
		{[]string{"call.ended"}, true},
		{ringfence.EventTypes, true},
		{nil, false},
		{[]string{"call.started"}, false},
	}
	for _, tt := range tests {
		err := ringfence.ValidateEndpoint(ringfence.Endpoint{URL: "https://crm.example.com/hook", Events: tt.events})
		if got := err == nil; got != tt.wantValid {
			t.Fatalf("ValidateEndpoint(%v) valid=%v (%v), want %v", tt.events, got, err, tt.wantValid)
		}
		if err != nil && ringfence.ErrorCode(err) != ringfence.EINVALID {
			t.Fatalf("ValidateEndpoint(%v) code=%s, want %s", tt.events, ringfence.ErrorCode(err), ringfence.EINVALID)
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
