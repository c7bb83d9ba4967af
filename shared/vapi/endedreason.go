package vapi

import (
	"log/slog"
	"strings"

	"github.com/ringfence/ringfence/shared/ringfence"
)

// MapStatus maps a status-update's status; "ended" takes its outcome from endedReason, and
// without one (the field is optional on status updates) only says that the line dropped: the
// end-of-call report then brings the outcome. The statuses of a call Vapi cannot report
// ("not-found", "deletion-failed") leave the call's status as it is, as does an unknown one
// (logged).
func MapStatus(status, endedReason string) ringfence.CallStatus {
	switch status {
	case "scheduled", "queued":
		return ringfence.StatusQueued
	case "ringing":
		return ringfence.StatusRinging
	case "in-progress", "forwarding":
		return ringfence.StatusInProgress
	case "ended":
		// Without a reason, or with one whose outcome depends on whether the customer was
		// heard, the line only dropped: the end-of-call report, which carries the transcript,
		// brings the outcome (and GET /call does, should the report never come).
		if strings.TrimSpace(endedReason) == "" || dependsOnCustomer[endedReason] {
			return ringfence.StatusEnded
		}
		return MapEndedReason(endedReason)
	case "not-found", "deletion-failed":
		return ""
	}
	slog.Warn("unknown Vapi call status; the call's status is left as it is", "provider", "vapi", "vapi_status", status)
	return ""
}

// MapEndedReason maps Vapi's endedReason to ringfence's outcome. Every value Vapi publishes has
// its outcome in endedReasons or in one of the error families Vapi documents; a value Vapi adds
// later ends the call as failed and is logged, so that the table can learn it.
func MapEndedReason(reason string) ringfence.CallStatus {
	if status, ok := lookupEndedReason(reason); ok {
		return status
	}
	slog.Warn("unknown Vapi endedReason; the call ends as failed", "provider", "vapi", "ended_reason", reason)
	return ringfence.StatusFailed
}

// dependsOnCustomer lists the endedReasons that say how the call ended but not whether anyone
// answered: a silence timeout ("no speech was detected for the configured silence timeout"), no
// audio from the customer ("a network issue, mic problem, or the customer disconnected
// silently") and a hook that ended the call while it rang. Each is a finished conversation when
// the customer was heard, and no-answer when not (OutcomeOf); endedReasons holds the latter.
var dependsOnCustomer = map[string]bool{
	"silence-timed-out": true,
	"call.in-progress.error-assistant-did-not-receive-customer-audio": true,
	"call.ringing.hook-executed-say":                                  true,
	"call.ringing.hook-executed-transfer":                             true,
}

// OutcomeOf is the outcome of a call Vapi reports ended for reason, customerHeard saying whether
// its transcript holds a turn of the customer's: by what happened, not by the reason's name.
func OutcomeOf(reason string, customerHeard bool) ringfence.CallStatus {
	if dependsOnCustomer[reason] && customerHeard {
		return ringfence.StatusCompleted
	}
	return MapEndedReason(reason)
}

// AtCapacity reports whether Vapi ended the call because the account's concurrency limit was
// reached: the callee was never dialled, and the call can be placed again later.
func AtCapacity(reason string) bool {
	return reason == "call.start.error-subscription-concurrency-limit-reached"
}

// lookupEndedReason returns the outcome of a published endedReason, and false for one it does
// not know.
func lookupEndedReason(reason string) (ringfence.CallStatus, bool) {
	if status, ok := endedReasons[reason]; ok {
		return status, true
	}
	for _, prefix := range failureFamilies {
		if strings.HasPrefix(reason, prefix) {
			return ringfence.StatusFailed, true
		}
	}
	return "", false
}

// failureFamilies are the endedReason prefixes Vapi's "Call ended reasons" page documents as
// failures: a call that could not start, and the errors of Vapi's pipeline (its LLM, voice and
// transcriber providers), whoever's fault. The named exceptions in endedReasons win over them.
var failureFamilies = []string{
	"call.start.error-",
	"pipeline-error-",
	"call.in-progress.error-vapifault-",
	"call.in-progress.error-providerfault-",
}

// endedReasons maps each endedReason outside the failure families, and each exception within
// them, to its outcome. The rule is what happened to the person called, as Vapi's "Call ended
// reasons" page describes each value, whatever its name suggests:
//
//   - a conversation took place and ended (either side hung up, a time limit, a transfer, a
//     Twilio, SIP or Vonage "completed" call, a hook run while the call was ending): completed;
//   - nobody was reached (no answer, voicemail, an outbound SIP 408 or 480, which the page calls
//     "phone rang but no answer, normal behavior"): no-answer;
//   - the callee's side refused the call (customer-busy; vonage-rejected, the carrier's
//     "rejected by the destination", which Vonage says busy callees are often reported as): busy;
//   - the reasons of dependsOnCustomer: no-answer here, completed when the customer was heard;
//   - the call was cancelled or deleted before it ran: cancelled;
//   - anything that failed (the call could not start, the line, the transport or the pipeline
//     broke): failed.
var endedReasons = map[string]ringfence.CallStatus{
	// The conversation took place and ended normally.
	"assistant-ended-call":                            ringfence.StatusCompleted,
	"assistant-ended-call-after-message-spoken":       ringfence.StatusCompleted,
	"assistant-ended-call-with-hangup-task":           ringfence.StatusCompleted,
	"assistant-said-end-call-phrase":                  ringfence.StatusCompleted,
	"assistant-forwarded-call":                        ringfence.StatusCompleted,
	"customer-ended-call":                             ringfence.StatusCompleted,
	"customer-ended-call-before-warm-transfer":        ringfence.StatusCompleted,
	"customer-ended-call-after-warm-transfer-attempt": ringfence.StatusCompleted,
	"customer-ended-call-during-transfer":             ringfence.StatusCompleted,
	"exceeded-max-duration":                           ringfence.StatusCompleted,
	"call.in-progress.twilio-completed-call":          ringfence.StatusCompleted,
	"call.in-progress.sip-completed-call":             ringfence.StatusCompleted,
	"vonage-completed":                                ringfence.StatusCompleted,
	"call.ending.hook-executed-say":                   ringfence.StatusCompleted,
	"call.ending.hook-executed-transfer":              ringfence.StatusCompleted,
	// The callee was reached; only the leg the assistant forwarded to was busy or silent.
	"call.forwarding.operator-busy": ringfence.StatusCompleted,
	"call.forwarding.no-answer":     ringfence.StatusCompleted,

	// Nobody answered.
	"customer-did-not-answer": ringfence.StatusNoAnswer,
	"voicemail":               ringfence.StatusNoAnswer,
	"call.in-progress.error-providerfault-outbound-sip-408-request-timeout":         ringfence.StatusNoAnswer,
	"call.in-progress.error-providerfault-outbound-sip-480-temporarily-unavailable": ringfence.StatusNoAnswer,
	"call.ringing.sip-inbound-caller-hungup-before-call-connect":                    ringfence.StatusNoAnswer,

	// By what happened: no-answer unless the customer was heard (dependsOnCustomer).
	"silence-timed-out": ringfence.StatusNoAnswer,
	"call.in-progress.error-assistant-did-not-receive-customer-audio": ringfence.StatusNoAnswer,
	"call.ringing.hook-executed-say":                                  ringfence.StatusNoAnswer,
	"call.ringing.hook-executed-transfer":                             ringfence.StatusNoAnswer,

	// The callee's side refused the call.
	"customer-busy":   ringfence.StatusBusy,
	"vonage-rejected": ringfence.StatusBusy,

	"manually-canceled":      ringfence.StatusCancelled,
	"scheduled-call-deleted": ringfence.StatusCancelled,
	"call-deleted":           ringfence.StatusCancelled,

	// The call could not start: the assistant could not be found or fetched.
	"call-start-error-neither-assistant-nor-server-set":  ringfence.StatusFailed,
	"assistant-request-failed":                           ringfence.StatusFailed,
	"assistant-request-returned-error":                   ringfence.StatusFailed,
	"assistant-request-returned-unspeakable-error":       ringfence.StatusFailed,
	"assistant-request-returned-invalid-assistant":       ringfence.StatusFailed,
	"assistant-request-returned-no-assistant":            ringfence.StatusFailed,
	"assistant-request-returned-forwarding-phone-number": ringfence.StatusFailed,
	"call.start.assistant-version-error-validation":      ringfence.StatusFailed,
	"assistant-not-valid":                                ringfence.StatusFailed,
	"assistant-not-found":                                ringfence.StatusFailed,
	// Vapi's concurrency limit: failed, and marked AtCapacity so that it can be placed again.
	"call.start.error-subscription-concurrency-limit-reached": ringfence.StatusFailed,

	// The line or the transport failed.
	"twilio-failed-to-connect-call":                              ringfence.StatusFailed,
	"twilio-reported-customer-misdialed":                         ringfence.StatusFailed,
	"vonage-disconnected":                                        ringfence.StatusFailed,
	"vonage-failed-to-connect-call":                              ringfence.StatusFailed,
	"phone-call-provider-closed-websocket":                       ringfence.StatusFailed,
	"phone-call-provider-bypass-enabled-but-no-call-received":    ringfence.StatusFailed,
	"call.in-progress.error-sip-inbound-call-failed-to-connect":  ringfence.StatusFailed,
	"call.in-progress.error-sip-outbound-call-failed-to-connect": ringfence.StatusFailed,
	"call.ringing.error-sip-inbound-call-failed-to-connect":      ringfence.StatusFailed,
	"worker-shutdown":                                            ringfence.StatusFailed,

	// The assistant's pipeline or configuration failed mid-call.
	"call.in-progress.error-pipeline-no-available-llm-model":             ringfence.StatusFailed,
	"pipeline-no-available-llm-model":                                    ringfence.StatusFailed,
	"call.in-progress.error-pipeline-ws-model-connection-failed":         ringfence.StatusFailed,
	"call.in-progress.error-configfault-model-unsupported-in-squad":      ringfence.StatusFailed,
	"call.in-progress.error-configfault-transport-unsupported-for-model": ringfence.StatusFailed,
	"customer-did-not-give-microphone-permission":                        ringfence.StatusFailed,
	"assistant-join-timed-out":                                           ringfence.StatusFailed,

	// A transfer the assistant attempted failed.
	"call.in-progress.error-transfer-failed":                   ringfence.StatusFailed,
	"call.in-progress.error-warm-transfer-max-duration":        ringfence.StatusFailed,
	"call.in-progress.error-warm-transfer-assistant-cancelled": ringfence.StatusFailed,
	"call.in-progress.error-warm-transfer-silence-timeout":     ringfence.StatusFailed,
	"call.in-progress.error-warm-transfer-microphone-timeout":  ringfence.StatusFailed,
}
