package retell

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"github.com/ringfence/ringfence/shared/ringfence"
)

// CallIDVariable is the key under which ringfence passes its call id in a call's metadata; Retell
// returns the metadata in every webhook and function call.
const CallIDVariable = "ringfence_call_id"

// The webhook events ringfence acts on.
const (
	EventCallStarted  = "call_started"
	EventCallEnded    = "call_ended"
	EventCallAnalyzed = "call_analyzed"
	EventCallInbound  = "call_inbound"
)

// Webhook is the body Retell POSTs for call events: {"event", "call"} (or, for the inbound
// webhook, {"event", "call_inbound"}).
type Webhook struct {
	Event          string          `json:"event"`
	EventTimestamp *json.Number    `json:"event_timestamp"`
	Call           *Call           `json:"call"`
	CallInbound    *InboundRequest `json:"call_inbound"`
}

// Call is the part of Retell's call object ringfence reads.
type Call struct {
	CallID              string             `json:"call_id"`
	AgentID             string             `json:"agent_id"`
	CallType            string             `json:"call_type"`
	Direction           string             `json:"direction"`
	FromNumber          string             `json:"from_number"`
	ToNumber            string             `json:"to_number"`
	CallStatus          string             `json:"call_status"`
	Metadata            map[string]any     `json:"metadata"`
	StartTimestamp      *json.Number       `json:"start_timestamp"`
	EndTimestamp        *json.Number       `json:"end_timestamp"`
	DurationMS          *ringfence.Decimal `json:"duration_ms"`
	Transcript          string             `json:"transcript"`
	RecordingURL        string             `json:"recording_url"`
	DisconnectionReason string             `json:"disconnection_reason"`
	CallCost            *struct {
		CombinedCost *ringfence.Decimal `json:"combined_cost"` // Cents.
	} `json:"call_cost"`
	CallAnalysis json.RawMessage `json:"call_analysis"`
}

// InboundRequest is the body of Retell's inbound webhook: a call is ringing one of the account's
// numbers and Retell asks which agent, variables and metadata to use.
type InboundRequest struct {
	AgentID    string `json:"agent_id"`
	FromNumber string `json:"from_number"`
	ToNumber   string `json:"to_number"`
}

// ParseWebhook decodes a webhook body. It refuses a body without an event, or a call event
// without a call id, with EINVALID.
func ParseWebhook(body []byte) (Webhook, error) {
	var w Webhook
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		return w, ringfence.Errorf(ringfence.EINVALID, "body is not a Retell webhook: %s", ringfence.DescribeJSONError(err))
	}
	if dec.More() {
		return w, ringfence.Errorf(ringfence.EINVALID, "body holds more than one JSON value")
	}
	switch {
	case w.Event == "":
		return w, ringfence.Errorf(ringfence.EINVALID, "event is missing")
	case w.Event == EventCallInbound:
		if w.CallInbound == nil || strings.TrimSpace(w.CallInbound.ToNumber) == "" {
			return w, ringfence.Errorf(ringfence.EINVALID, "call_inbound.to_number is missing")
		}
	case w.Call == nil || strings.TrimSpace(w.Call.CallID) == "":
		return w, ringfence.Errorf(ringfence.EINVALID, "call.call_id is missing")
	}
	return w, nil
}

// eventOrder orders a call's events for the same timestamp: the analysis follows the end.
var eventOrder = map[string]string{EventCallStarted: "1", EventCallEnded: "2", EventCallAnalyzed: "3"}

// CallEvent translates a call webhook into ringfence's terms.
func (w Webhook) CallEvent() (ringfence.CallEvent, error) {
	c := w.Call
	ev := ringfence.CallEvent{
		Provider: ringfence.ProviderRetell, ProviderCallID: c.CallID, Transcript: c.Transcript,
		RecordingURL: c.RecordingURL, EndReason: c.DisconnectionReason,
	}
	ev.Status = MapStatus(w.Event, c.CallStatus, c.DisconnectionReason)
	if id, ok := c.Metadata[CallIDVariable].(string); ok {
		ev.CallID = id
	}
	stamp := c.EndTimestamp
	if stamp == nil {
		stamp = c.StartTimestamp
	}
	if stamp == nil {
		stamp = w.EventTimestamp
	}
	if stamp != nil {
		ms, err := stamp.Int64()
		if err != nil {
			return ev, ringfence.Errorf(ringfence.EINVALID, "timestamp %s is not whole milliseconds", stamp)
		}
		ev.Version = ringfence.Version(time.UnixMilli(ms)) + "|" + eventOrder[w.Event]
	}
	if c.CallCost != nil && c.CallCost.CombinedCost != nil {
		if c.CallCost.CombinedCost.Sign() < 0 {
			return ev, ringfence.Errorf(ringfence.EINVALID, "call_cost.combined_cost is negative")
		}
		dollars := c.CallCost.CombinedCost.Shift(2) // Retell reports cost in cents.
		ev.Cost = &dollars
	}
	if c.DurationMS != nil {
		seconds := c.DurationMS.Shift(3)
		ev.Duration = &seconds
	}
	analysis := bytes.TrimSpace(c.CallAnalysis)
	if len(analysis) > 0 && analysis[0] == '{' {
		var buf bytes.Buffer
		if json.Compact(&buf, analysis) == nil && buf.String() != "{}" {
			ev.ExtractedData = buf.String()
		}
	}
	return ev, nil
}

// MapStatus maps a Retell event to ringfence's status. call_started means the call connected;
// call_ended and call_analyzed end it, with the outcome read from disconnection_reason. An
// unknown reason on an ended call falls back on call_status, then on failed, and is logged.
func MapStatus(event, callStatus, reason string) ringfence.CallStatus {
	switch event {
	case EventCallStarted:
		return ringfence.StatusInProgress
	case EventCallEnded, EventCallAnalyzed:
	default:
		return "" // transcript_updated and the transfer events carry data, not a new status.
	}
	switch reason {
	case "user_hangup", "agent_hangup", "call_transfer", "inactivity", "max_duration_reached",
		"transfer_bridged", "transfer_cancelled", "call_take_over":
		return ringfence.StatusCompleted
	case "voicemail_reached", "ivr_reached", "dial_no_answer", "machine_detected":
		return ringfence.StatusNoAnswer
	case "dial_busy", "user_declined":
		return ringfence.StatusBusy
	case "manual_stopped":
		return ringfence.StatusCancelled
	case "dial_failed", "invalid_destination", "telephony_provider_permission_denied", "telephony_provider_unavailable",
		"sip_routing_error", "marked_as_spam", "scam_detected", "concurrency_limit_reached", "no_concurrency_fallback",
		"no_valid_payment", "registered_call_timeout", "error_inbound_webhook":
		return ringfence.StatusFailed
	}
	if strings.HasPrefix(reason, "error_") {
		return ringfence.StatusFailed
	}
	slog.Warn("unknown Retell disconnection_reason; mapped from call_status", "provider", "retell", "disconnection_reason", reason, "call_status", callStatus)
	switch callStatus {
	case "ended":
		return ringfence.StatusCompleted
	case "not_connected":
		return ringfence.StatusNoAnswer
	}
	return ringfence.StatusFailed
}

// InboundResponse is the answer to Retell's inbound webhook.
type InboundResponse struct {
	CallInbound InboundDecision `json:"call_inbound"`
}

// InboundDecision tells Retell how to take an inbound call.
type InboundDecision struct {
	OverrideAgentID  string            `json:"override_agent_id,omitempty"`
	DynamicVariables map[string]string `json:"dynamic_variables,omitempty"`
	Metadata         map[string]string `json:"metadata,omitempty"`
}

// FunctionCall is the body of a Retell custom-function request: {"name", "args", "call"}, or
// only the arguments when the function is set to "Payload: args only".
type FunctionCall struct {
	Name string         `json:"name"`
	Args map[string]any `json:"args"`
	Call *Call          `json:"call"`
}
