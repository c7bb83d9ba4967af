package retell

import (
	"testing"

	"github.com/ringfence/ringfence/infra/testio"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// Every disconnection_reason Retell publishes has a row here with the outcome Retell's
// documentation gives it, and an explicit entry in the adapter's table (not a fallback), so a
// reason the SDK adds fails this test until it is mapped.
func TestEveryDisconnectionReasonIsMapped(t *testing.T) {
	tests := []struct {
		reason     string
		want       ringfence.CallStatus
		atCapacity bool
	}{
		{"user_hangup", ringfence.StatusCompleted, false},
		{"agent_hangup", ringfence.StatusCompleted, false},
		{"call_transfer", ringfence.StatusCompleted, false},
		{"voicemail_reached", ringfence.StatusNoAnswer, false},
		{"ivr_reached", ringfence.StatusNoAnswer, false},
		{"inactivity", ringfence.StatusNoAnswer, false}, // Completed when the user was heard.
		{"max_duration_reached", ringfence.StatusCompleted, false},
		{"concurrency_limit_reached", ringfence.StatusFailed, true},
		{"no_concurrency_fallback", ringfence.StatusFailed, true},
		{"no_valid_payment", ringfence.StatusFailed, false},
		{"scam_detected", ringfence.StatusFailed, false},
		{"dial_busy", ringfence.StatusBusy, false},
		{"dial_failed", ringfence.StatusFailed, false},
		{"dial_no_answer", ringfence.StatusNoAnswer, false},
		{"invalid_destination", ringfence.StatusFailed, false},
		{"telephony_provider_permission_denied", ringfence.StatusFailed, false},
		{"telephony_provider_unavailable", ringfence.StatusFailed, false},
		{"sip_routing_error", ringfence.StatusFailed, false},
		{"marked_as_spam", ringfence.StatusFailed, false},
		{"user_declined", ringfence.StatusBusy, false},
		{"error_llm_websocket_open", ringfence.StatusFailed, false},
		{"error_llm_websocket_lost_connection", ringfence.StatusFailed, false},
		{"error_llm_websocket_runtime", ringfence.StatusFailed, false},
		{"error_llm_websocket_corrupt_payload", ringfence.StatusFailed, false},
		{"error_no_audio_received", ringfence.StatusNoAnswer, false}, // Completed when the user was heard.
		{"error_asr", ringfence.StatusFailed, false},
		{"error_retell", ringfence.StatusFailed, false},
		{"error_unknown", ringfence.StatusFailed, false},
		{"error_user_not_joined", ringfence.StatusFailed, false},
		{"registered_call_timeout", ringfence.StatusFailed, false},
		{"transfer_bridged", ringfence.StatusCompleted, false},
		{"transfer_cancelled", ringfence.StatusCompleted, false},
		{"manual_stopped", ringfence.StatusCancelled, false},
		{"call_take_over", ringfence.StatusCompleted, false},
		// Values of older versions of Retell's documentation.
		{"machine_detected", ringfence.StatusNoAnswer, false},
		{"error_inbound_webhook", ringfence.StatusFailed, false},
	}
	rows := map[string]bool{}
	for _, tt := range tests {
		rows[tt.reason] = true
		if _, explicit := disconnectionOutcomes[tt.reason]; !explicit {
			t.Fatalf("%s has no explicit mapping", tt.reason)
		}
		for _, event := range []string{EventCallEnded, EventCallAnalyzed} {
			if got := MapStatus(event, "", tt.reason); got != tt.want {
				t.Fatalf("MapStatus(%s, %s)=%q, want %q", event, tt.reason, got, tt.want)
			}
		}
		if got := AtCapacity(tt.reason); got != tt.atCapacity {
			t.Fatalf("AtCapacity(%s)=%v, want %v", tt.reason, got, tt.atCapacity)
		}
	}
	for _, reason := range testio.MustReadList(t, "disconnection-reasons.txt") {
		if !rows[reason] {
			t.Fatalf("published disconnection_reason %q has no row in this table", reason)
		}
	}
	if len(rows)-2 != len(testio.MustReadList(t, "disconnection-reasons.txt")) {
		t.Fatalf("the table has rows for reasons the SDK does not list beyond the two documented older ones")
	}
}

// Every call_status Retell publishes decides the outcome of an ended call whose
// disconnection_reason is new to ringfence.
func TestEveryCallStatusIsMapped(t *testing.T) {
	tests := []struct {
		callStatus string
		want       ringfence.CallStatus
	}{
		{"registered", ringfence.StatusFailed},
		{"not_connected", ringfence.StatusNoAnswer},
		{"ongoing", ringfence.StatusCompleted},
		{"ended", ringfence.StatusCompleted},
		{"error", ringfence.StatusFailed},
	}
	rows := map[string]bool{}
	for _, tt := range tests {
		rows[tt.callStatus] = true
		if _, explicit := callStatusOutcomes[tt.callStatus]; !explicit {
			t.Fatalf("%s has no explicit mapping", tt.callStatus)
		}
		if got := MapStatus(EventCallEnded, tt.callStatus, "a_reason_from_the_future"); got != tt.want {
			t.Fatalf("MapStatus(call_ended, %s, unknown reason)=%q, want %q", tt.callStatus, got, tt.want)
		}
	}
	for _, status := range testio.MustReadList(t, "call-statuses.txt") {
		if !rows[status] {
			t.Fatalf("published call_status %q has no row in this table", status)
		}
	}
}
