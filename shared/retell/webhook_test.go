package retell_test

import (
	"testing"

	"github.com/ringfence/ringfence/infra/testio"

	"github.com/ringfence/ringfence/shared/retell"
	"github.com/ringfence/ringfence/shared/ringfence"
)

func TestParseCallEnded(t *testing.T) {
	w, err := retell.ParseWebhook(testio.MustReadFixture(t, "call-ended.json"))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := w.CallEvent()
	if err != nil {
		t.Fatal(err)
	}
	if ev.Status != ringfence.StatusCompleted || ev.ProviderCallID != "Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6" || ev.CallID != "call_0123456789abcdef01234567" {
		t.Fatalf("event=%+v", ev)
	}
	if ev.Cost.String() != "0.7" || ev.Duration.String() != "15.791" {
		t.Fatalf("cost=%s duration=%s, want 0.7 (70 cents) and 15.791", ev.Cost, ev.Duration)
	}
	if ev.EndReason != "user_hangup" || ev.Transcript == "" || ev.RecordingURL == "" {
		t.Fatalf("end data not read: %+v", ev)
	}
}

func TestParseInbound(t *testing.T) {
	w, err := retell.ParseWebhook(testio.MustReadFixture(t, "call-inbound.json"))
	if err != nil {
		t.Fatal(err)
	}
	if w.Event != retell.EventCallInbound || w.CallInbound.ToNumber != "+12137771235" || w.CallInbound.FromNumber != "+12137771234" {
		t.Fatalf("webhook=%+v", w)
	}
}

func TestAnalysisIsNewerThanEnd(t *testing.T) {
	body := func(event string) []byte {
		return []byte(`{"event":"` + event + `","call":{"call_id":"c1","call_status":"ended","disconnection_reason":"user_hangup","end_timestamp":1714608491736}}`)
	}
	var versions []string
	for _, e := range []string{retell.EventCallStarted, retell.EventCallEnded, retell.EventCallAnalyzed} {
		w, err := retell.ParseWebhook(body(e))
		if err != nil {
			t.Fatal(err)
		}
		ev, _ := w.CallEvent()
		versions = append(versions, ev.Version)
	}
	if !(versions[0] < versions[1] && versions[1] < versions[2]) {
		t.Fatalf("versions=%v, want started < ended < analyzed", versions)
	}
}

func TestMapStatus(t *testing.T) {
	tests := []struct {
		event, status, reason string
		want                  ringfence.CallStatus
	}{
		{"call_started", "ongoing", "", ringfence.StatusInProgress},
		{"transcript_updated", "ongoing", "", ""},
		{"call_ended", "ended", "user_hangup", ringfence.StatusCompleted},
		{"call_ended", "ended", "agent_hangup", ringfence.StatusCompleted},
		{"call_ended", "ended", "call_transfer", ringfence.StatusCompleted},
		{"call_ended", "ended", "voicemail_reached", ringfence.StatusNoAnswer},
		{"call_ended", "not_connected", "dial_no_answer", ringfence.StatusNoAnswer},
		{"call_ended", "not_connected", "dial_busy", ringfence.StatusBusy},
		{"call_ended", "not_connected", "dial_failed", ringfence.StatusFailed},
		{"call_ended", "error", "error_llm_websocket_open", ringfence.StatusFailed},
		{"call_ended", "error", "concurrency_limit_reached", ringfence.StatusFailed},
		{"call_analyzed", "ended", "manual_stopped", ringfence.StatusCancelled},
		{"call_ended", "ended", "something_new", ringfence.StatusCompleted},
		{"call_ended", "not_connected", "something_new", ringfence.StatusNoAnswer},
		{"call_ended", "", "something_new", ringfence.StatusFailed},
	}
	for _, tt := range tests {
		if got := retell.MapStatus(tt.event, tt.status, tt.reason); got != tt.want {
			t.Fatalf("MapStatus(%s, %s, %s)=%q, want %q", tt.event, tt.status, tt.reason, got, tt.want)
		}
	}
}

func TestParseWebhookRejects(t *testing.T) {
	for _, body := range []string{``, `[]`, `{}`, `{"event":"call_ended"}`, `{"event":"call_ended","call":{}}`, `{"event":"call_inbound","call_inbound":{}}`, `{"event":"call_ended","call":{"call_id":"x"}} {}`} {
		if _, err := retell.ParseWebhook([]byte(body)); err == nil {
			t.Fatalf("ParseWebhook(%s) succeeded, want an error", body)
		}
	}
}
