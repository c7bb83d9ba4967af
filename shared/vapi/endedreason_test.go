package vapi_test

import (
	"strings"
	"testing"

	"github.com/ringfence/ringfence/infra/testio"
	"github.com/ringfence/ringfence/shared/ringfence"
	"github.com/ringfence/ringfence/shared/vapi"
)

// Every endedReason Vapi publishes has an outcome of its own, not the fallback for values the
// table does not know.
func TestEveryPublishedEndedReasonHasAnOutcome(t *testing.T) {
	reasons := strings.Fields(string(testio.MustReadFixture(t, "ended-reasons.txt")))
	if got, want := len(reasons), 597; got < want {
		t.Fatalf("ended-reasons.txt lists %d values, want at least %d", got, want)
	}
	for _, reason := range reasons {
		status, ok := vapi.LookupEndedReason(reason)
		if !ok {
			t.Fatalf("endedReason %q has no outcome of its own", reason)
		}
		if !status.IsTerminal() {
			t.Fatalf("endedReason %q maps to %q, want a terminal status", reason, status)
		}
		if got := vapi.MapEndedReason(reason); got != status {
			t.Fatalf("MapEndedReason(%s)=%s, want %s", reason, got, status)
		}
	}
	if _, ok := vapi.LookupEndedReason("something-new-from-vapi"); ok {
		t.Fatal("an unpublished endedReason has an outcome of its own")
	}
}

// Where Vapi's documentation says what a value means, the outcome follows it, whatever the name
// suggests.
func TestEndedReasonsAsVapiDocumentsThem(t *testing.T) {
	tests := map[string]ringfence.CallStatus{
		"customer-ended-call":                       ringfence.StatusCompleted,
		"assistant-ended-call":                      ringfence.StatusCompleted,
		"assistant-ended-call-after-message-spoken": ringfence.StatusCompleted,
		"assistant-ended-call-with-hangup-task":     ringfence.StatusCompleted,
		"assistant-said-end-call-phrase":            ringfence.StatusCompleted,
		"assistant-forwarded-call":                  ringfence.StatusCompleted,
		"exceeded-max-duration":                     ringfence.StatusCompleted,
		"call.in-progress.twilio-completed-call":    ringfence.StatusCompleted,
		"call.in-progress.sip-completed-call":       ringfence.StatusCompleted,
		"vonage-completed":                          ringfence.StatusCompleted,
		"call.ending.hook-executed-say":             ringfence.StatusCompleted,
		"call.ending.hook-executed-transfer":        ringfence.StatusCompleted,
		"customer-did-not-answer":                   ringfence.StatusNoAnswer,
		"voicemail":                                 ringfence.StatusNoAnswer,
		"call.in-progress.error-providerfault-outbound-sip-408-request-timeout":         ringfence.StatusNoAnswer,
		"call.in-progress.error-providerfault-outbound-sip-480-temporarily-unavailable": ringfence.StatusNoAnswer,
		"customer-busy":          ringfence.StatusBusy,
		"manually-canceled":      ringfence.StatusCancelled,
		"scheduled-call-deleted": ringfence.StatusCancelled,
		"call.in-progress.error-providerfault-outbound-sip-503-service-unavailable": ringfence.StatusFailed,
		"call.start.error-subscription-concurrency-limit-reached":                   ringfence.StatusFailed,
		"call.start.error-subscription-insufficient-credits":                        ringfence.StatusFailed,
		"twilio-failed-to-connect-call":                                             ringfence.StatusFailed,
		"twilio-reported-customer-misdialed":                                        ringfence.StatusFailed,
		"vonage-rejected":                                                           ringfence.StatusBusy,
		"pipeline-error-openai-llm-failed":                                          ringfence.StatusFailed,
		"call.in-progress.error-vapifault-worker-died":                              ringfence.StatusFailed,
		"something-new-from-vapi":                                                   ringfence.StatusFailed,
	}
	for reason, want := range tests {
		if got := vapi.MapEndedReason(reason); got != want {
			t.Fatalf("MapEndedReason(%s)=%s, want %s", reason, got, want)
		}
	}
}

// The endings that do not say whether anyone answered take their outcome from the report's
// transcript: a finished conversation when the customer was heard, no-answer when not. A status
// update with one of them only says the line dropped, and waits for the report.
func TestEndedReasonsByWhatHappened(t *testing.T) {
	for _, reason := range []string{
		"silence-timed-out", "call.in-progress.error-assistant-did-not-receive-customer-audio",
		"call.ringing.hook-executed-say", "call.ringing.hook-executed-transfer",
	} {
		if got := vapi.OutcomeOf(reason, false); got != ringfence.StatusNoAnswer {
			t.Fatalf("OutcomeOf(%s, not heard)=%s, want no-answer", reason, got)
		}
		if got := vapi.OutcomeOf(reason, true); got != ringfence.StatusCompleted {
			t.Fatalf("OutcomeOf(%s, heard)=%s, want completed", reason, got)
		}
		if got := vapi.MapStatus("ended", reason); got != ringfence.StatusEnded {
			t.Fatalf("MapStatus(ended, %s)=%s, want ended (the report decides)", reason, got)
		}
	}
	if got := vapi.OutcomeOf("customer-busy", true); got != ringfence.StatusBusy {
		t.Fatalf("OutcomeOf(customer-busy, heard)=%s, want busy", got)
	}
	for transcript, want := range map[string]ringfence.CallStatus{
		`AI: Hello, is this Vivek?\nUser: Yes, speaking.\nAI: Thank you.\n`: ringfence.StatusCompleted,
		`AI: Hello, is this Vivek?\nAI: Hello? Are you there?\n`:            ringfence.StatusNoAnswer,
	} {
		body := []byte(`{"message":{"type":"end-of-call-report","endedReason":"silence-timed-out","call":{"id":"c1"},"artifact":{"transcript":"` + transcript + `"}}}`)
		m, err := vapi.ParseMessage(body)
		if err != nil {
			t.Fatal(err)
		}
		if ev, err := m.Event(); err != nil || ev.Status != want {
			t.Fatalf("silence-timed-out with transcript %q: event=%+v err=%v, want %s", transcript, ev, err, want)
		}
	}
}

// Vapi's concurrency limit is the one ending that says the account was at capacity: the callee
// was never dialled.
func TestConcurrencyLimitIsAtCapacity(t *testing.T) {
	reasons := strings.Fields(string(testio.MustReadFixture(t, "ended-reasons.txt")))
	var atCapacity []string
	for _, reason := range reasons {
		if vapi.AtCapacity(reason) {
			atCapacity = append(atCapacity, reason)
		}
	}
	if got, want := strings.Join(atCapacity, ","), "call.start.error-subscription-concurrency-limit-reached"; got != want {
		t.Fatalf("at-capacity reasons=%s, want %s", got, want)
	}
	body := []byte(`{"message":{"type":"status-update","status":"ended","endedReason":"call.start.error-subscription-concurrency-limit-reached","call":{"id":"c1"}}}`)
	m, err := vapi.ParseMessage(body)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := m.Event()
	if err != nil || !ev.AtCapacity || ev.Status != ringfence.StatusFailed {
		t.Fatalf("event=%+v err=%v, want failed and at capacity", ev, err)
	}
}

func TestMapStatus(t *testing.T) {
	tests := []struct {
		status, reason string
		want           ringfence.CallStatus
	}{
		{"scheduled", "", ringfence.StatusQueued},
		{"queued", "", ringfence.StatusQueued},
		{"ringing", "", ringfence.StatusRinging},
		{"in-progress", "", ringfence.StatusInProgress},
		{"forwarding", "", ringfence.StatusInProgress},
		{"ended", "voicemail", ringfence.StatusNoAnswer},
		{"ended", "vonage-completed", ringfence.StatusCompleted},
		{"ended", "", ringfence.StatusEnded},
		{"not-found", "", ""},
		{"deletion-failed", "", ""},
		{"something-new", "", ""},
	}
	for _, tt := range tests {
		if got := vapi.MapStatus(tt.status, tt.reason); got != tt.want {
			t.Fatalf("MapStatus(%s, %s)=%q, want %q", tt.status, tt.reason, got, tt.want)
		}
	}
}
