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

// The webhook events of Retell's chat agents (API and SMS chats), sent to the same webhook URL:
// chat_started, chat_ended and chat_analyzed carry a "chat" object, and chat_inbound (an SMS
// reaching one of the account's numbers) asks, as call_inbound does, which agent takes it.
// ringfence places and tracks calls, not chats: each is acknowledged with a 2xx so that Retell
// does not retry it, and changes nothing.
const (
	EventChatStarted  = "chat_started"
	EventChatEnded    = "chat_ended"
	EventChatAnalyzed = "chat_analyzed"
	EventChatInbound  = "chat_inbound"
)

// IsChatEvent reports whether a webhook event is about a chat rather than a call.
func IsChatEvent(event string) bool {
	switch event {
	case EventChatStarted, EventChatEnded, EventChatAnalyzed, EventChatInbound:
		return true
	}
	return false
}

// Webhook is the body Retell POSTs for call events: {"event", "call"} (or, for the inbound
// webhook, {"event", "call_inbound"}).
type Webhook struct {
	Event          string                  `json:"event"`
	EventTimestamp *ringfence.ProviderTime `json:"event_timestamp"`
	Call           *Call                   `json:"call"`
	CallInbound    *InboundRequest         `json:"call_inbound"`
}

// Call is the part of Retell's call object ringfence reads, in webhooks, function calls and GET
// /v2/get-call alike. Only the fields ringfence uses are declared, so a change in the type of any
// other field never fails a message. Timestamps are accepted as Retell documents them (epoch
// milliseconds) and in the other forms providers send (ISO-8601, epoch seconds), ids as strings or
// integers, costs and durations as numbers or numeric strings.
type Call struct {
	CallID              string                  `json:"call_id"`
	AgentID             string                  `json:"agent_id"`
	CallType            string                  `json:"call_type"` // Read only when it is a string.
	Direction           string                  `json:"direction"`
	FromNumber          string                  `json:"from_number"`
	ToNumber            string                  `json:"to_number"`
	CallStatus          string                  `json:"call_status"`
	Metadata            map[string]any          `json:"metadata"` // Only when it is an object.
	StartTimestamp      *ringfence.ProviderTime `json:"start_timestamp"`
	EndTimestamp        *ringfence.ProviderTime `json:"end_timestamp"`
	DurationMS          *ringfence.Decimal      `json:"duration_ms"`
	Transcript          string                  `json:"transcript"`
	RecordingURL        string                  `json:"recording_url"`
	DisconnectionReason string                  `json:"disconnection_reason"`
	CallCost            *struct {
		CombinedCost *ringfence.Decimal `json:"combined_cost"` // Cents.
	} `json:"call_cost"`
	CallAnalysis json.RawMessage `json:"call_analysis"`
}

// UnmarshalJSON implements json.Unmarshaler. The ids are read as strings or integers; metadata,
// which holds whatever the caller of create-phone-call put there, and call_type, which ringfence
// does not act on, never fail a message whatever their type, nor does a text field (numbers,
// status, reason, transcript, recording URL) of another type: it reads as absent.
func (c *Call) UnmarshalJSON(b []byte) error {
	type fields Call // The same fields without this method, so decoding them does not recurse.
	var wire struct {
		fields
		CallID              ringfence.ProviderID `json:"call_id"`
		AgentID             ringfence.ProviderID `json:"agent_id"`
		CallType            json.RawMessage      `json:"call_type"`
		Metadata            json.RawMessage      `json:"metadata"`
		Direction           ringfence.Text       `json:"direction"`
		FromNumber          ringfence.Text       `json:"from_number"`
		ToNumber            ringfence.Text       `json:"to_number"`
		CallStatus          ringfence.Text       `json:"call_status"`
		Transcript          ringfence.Text       `json:"transcript"`
		RecordingURL        ringfence.Text       `json:"recording_url"`
		DisconnectionReason ringfence.Text       `json:"disconnection_reason"`
	}
	if err := json.Unmarshal(b, &wire); err != nil {
		return err
	}
	*c = Call(wire.fields)
	c.CallID, c.AgentID = string(wire.CallID), string(wire.AgentID)
	json.Unmarshal(wire.CallType, &c.CallType) // Left empty unless it is a string.
	c.Metadata = objectOrNil(wire.Metadata)
	c.Direction, c.FromNumber, c.ToNumber, c.CallStatus = string(wire.Direction), string(wire.FromNumber), string(wire.ToNumber), string(wire.CallStatus)
	c.Transcript, c.RecordingURL, c.DisconnectionReason = string(wire.Transcript), string(wire.RecordingURL), string(wire.DisconnectionReason)
	return nil
}

// objectOrNil decodes a JSON object, its numbers kept exact, and returns nil for anything else.
func objectOrNil(raw json.RawMessage) map[string]any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil {
		return nil
	}
	return m
}

// InboundRequest is the body of Retell's inbound webhook: a call is ringing one of the account's
// numbers and Retell asks which agent, variables and metadata to use. ringfence routes it by the
// called number alone.
type InboundRequest struct {
	FromNumber string `json:"from_number"`
	ToNumber   string `json:"to_number"`
}

// ParseWebhook decodes a webhook body. It refuses a body without an event, or a call event
// without a call id, with EINVALID. A chat event (IsChatEvent) needs nothing more.
func ParseWebhook(body []byte) (Webhook, error) {
	var w Webhook
	// json.Unmarshal reads the body where it lies; a json.Decoder would copy it into a buffer
	// grown by doubling, several times a 6 MB body's size. Unmarshal refuses trailing data too.
	if err := json.Unmarshal(body, &w); err != nil {
		return w, ringfence.Errorf(ringfence.EINVALID, "body is not a Retell webhook: %s", ringfence.DescribeJSONError(err))
	}
	switch {
	case w.Event == "":
		return w, ringfence.Errorf(ringfence.EINVALID, "event is missing")
	case IsChatEvent(w.Event):
		// A chat's events carry no call, and ringfence reads nothing else of them.
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
	if w.Call == nil {
		return ringfence.CallEvent{}, ringfence.Errorf(ringfence.EINVALID, "call is missing")
	}
	return w.Call.event(w.Event, w.EventTimestamp)
}

// Event translates a call object that comes without a webhook's event, as GET /v2/get-call
// answers, into ringfence's terms, as the webhook its call_status implies: an ended call as
// call_ended (call_analyzed once its analysis is in), an ongoing one as call_started, a call that
// is only registered as nothing new.
func (c Call) Event() (ringfence.CallEvent, error) {
	return c.event(c.impliedEvent(), nil)
}

// impliedEvent is the webhook event a call object's call_status corresponds to.
func (c Call) impliedEvent() string {
	switch c.CallStatus {
	case "ongoing":
		return EventCallStarted
	case "ended", "not_connected", "error":
		if len(bytes.TrimSpace(c.CallAnalysis)) > 0 && !bytes.Equal(bytes.TrimSpace(c.CallAnalysis), []byte("null")) {
			return EventCallAnalyzed
		}
		return EventCallEnded
	}
	return ""
}

// event translates the call as reported by event, at the event's timestamp when the call carries
// none of its own.
func (c Call) event(event string, eventTimestamp *ringfence.ProviderTime) (ringfence.CallEvent, error) {
	if strings.TrimSpace(c.CallID) == "" {
		return ringfence.CallEvent{}, ringfence.Errorf(ringfence.EINVALID, "call.call_id is missing")
	}
	ev := ringfence.CallEvent{
		Provider: ringfence.ProviderRetell, ProviderCallID: c.CallID, Transcript: c.Transcript,
		RecordingURL: c.RecordingURL, EndReason: c.DisconnectionReason,
	}
	ev.Status = MapStatus(event, c.CallStatus, c.DisconnectionReason)
	if ev.Status.IsTerminal() && dependsOnUser[c.DisconnectionReason] && ringfence.CallerSpoke(c.Transcript) {
		ev.Status = ringfence.StatusCompleted
	}
	ev.AtCapacity = ev.Status.IsTerminal() && AtCapacity(c.DisconnectionReason)
	if id, ok := c.Metadata[CallIDVariable].(string); ok {
		ev.CallID = id
	}
	var stamp time.Time
	for _, t := range []*ringfence.ProviderTime{c.EndTimestamp, c.StartTimestamp, eventTimestamp} {
		if t != nil && !t.IsZero() {
			stamp = t.Time
			break
		}
	}
	if !stamp.IsZero() {
		ev.Version = ringfence.Version(stamp) + "|" + eventOrder[event]
	}
	if c.CallCost != nil && c.CallCost.CombinedCost != nil {
		if c.CallCost.CombinedCost.Sign() < 0 {
			return ev, ringfence.Errorf(ringfence.EINVALID, "call_cost.combined_cost is negative")
		}
		dollars := c.CallCost.CombinedCost.Shift(2) // Retell reports cost in cents.
		ev.Cost = &dollars
	}
	if c.DurationMS != nil {
		if c.DurationMS.Sign() < 0 {
			return ev, ringfence.Errorf(ringfence.EINVALID, "duration_ms is negative")
		}
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

// disconnectionOutcomes maps every disconnection_reason Retell publishes (the enum of the
// retell-sdk type definitions, plus the values older versions of its documentation list) to
// ringfence's outcome. The rule is what happened to the person called, as Retell's "Debug call
// disconnection" page describes each reason, as for Vapi's endedReason: a conversation that
// ended is completed; voicemail_reached, ivr_reached and machine_detected reached a machine, not
// a person, so they are no-answer; user_declined is the callee refusing the call, as busy is;
// the reasons of dependsOnUser are no-answer unless the user was heard; every other error, and
// every ending at Retell's own limits, is failed.
var disconnectionOutcomes = map[string]ringfence.CallStatus{
	"user_hangup":          ringfence.StatusCompleted,
	"agent_hangup":         ringfence.StatusCompleted,
	"call_transfer":        ringfence.StatusCompleted,
	"max_duration_reached": ringfence.StatusCompleted,
	"transfer_bridged":     ringfence.StatusCompleted,
	"transfer_cancelled":   ringfence.StatusCompleted, // The callee was talking to the agent.
	"call_take_over":       ringfence.StatusCompleted, // A person took the call over from the agent.

	"voicemail_reached": ringfence.StatusNoAnswer,
	"ivr_reached":       ringfence.StatusNoAnswer,
	"machine_detected":  ringfence.StatusNoAnswer,
	"dial_no_answer":    ringfence.StatusNoAnswer,
	// By what happened: no-answer unless the user was heard (dependsOnUser).
	"inactivity":              ringfence.StatusNoAnswer,
	"error_no_audio_received": ringfence.StatusNoAnswer,

	"dial_busy":     ringfence.StatusBusy,
	"user_declined": ringfence.StatusBusy,

	"manual_stopped": ringfence.StatusCancelled,

	"dial_failed":                          ringfence.StatusFailed,
	"invalid_destination":                  ringfence.StatusFailed,
	"telephony_provider_permission_denied": ringfence.StatusFailed,
	"telephony_provider_unavailable":       ringfence.StatusFailed,
	"sip_routing_error":                    ringfence.StatusFailed,
	"marked_as_spam":                       ringfence.StatusFailed,
	"scam_detected":                        ringfence.StatusFailed,
	"concurrency_limit_reached":            ringfence.StatusFailed,
	"no_concurrency_fallback":              ringfence.StatusFailed,
	"no_valid_payment":                     ringfence.StatusFailed,
	"registered_call_timeout":              ringfence.StatusFailed,
	"error_inbound_webhook":                ringfence.StatusFailed,
	"error_llm_websocket_open":             ringfence.StatusFailed,
	"error_llm_websocket_lost_connection":  ringfence.StatusFailed,
	"error_llm_websocket_runtime":          ringfence.StatusFailed,
	"error_llm_websocket_corrupt_payload":  ringfence.StatusFailed,
	"error_asr":                            ringfence.StatusFailed,
	"error_retell":                         ringfence.StatusFailed,
	"error_unknown":                        ringfence.StatusFailed,
	"error_user_not_joined":                ringfence.StatusFailed,
}

// dependsOnUser lists the disconnection reasons that say how the call ended but not whether
// anyone answered: inactivity ("end_call_after_silence_ms" reached after long silence) and
// error_no_audio_received (no audio came from the user). Each is a finished conversation when
// the transcript holds a turn of the user's, and no-answer when it does not.
var dependsOnUser = map[string]bool{"inactivity": true, "error_no_audio_received": true}

// callStatusOutcomes maps every call_status Retell publishes to the outcome of an ended call
// whose disconnection_reason ringfence does not know: the call_status says whether the callee was
// reached at all. "ongoing" on an ended call means it had connected.
var callStatusOutcomes = map[string]ringfence.CallStatus{
	"ended":         ringfence.StatusCompleted,
	"ongoing":       ringfence.StatusCompleted,
	"not_connected": ringfence.StatusNoAnswer,
	"error":         ringfence.StatusFailed,
	"registered":    ringfence.StatusFailed,
}

// AtCapacity reports whether Retell ended a call because the workspace had no free concurrency
// ("concurrency_limit_reached"; "no_concurrency_fallback" when an inbound call waiting for a slot
// had no fallback to go to) rather than because of anything about the callee: such a call can be
// placed again later.
func AtCapacity(reason string) bool {
	return reason == "concurrency_limit_reached" || reason == "no_concurrency_fallback"
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
	if status, ok := disconnectionOutcomes[reason]; ok {
		return status
	}
	if strings.HasPrefix(reason, "error_") {
		return ringfence.StatusFailed
	}
	slog.Warn("unknown Retell disconnection_reason; mapped from call_status", "provider", "retell", "disconnection_reason", reason, "call_status", callStatus)
	if status, ok := callStatusOutcomes[callStatus]; ok {
		return status
	}
	return ringfence.StatusFailed
}

// ChatInboundResponse is the answer to Retell's inbound SMS webhook, chat_inbound: no override,
// so the number's own SMS agent takes the chat.
type ChatInboundResponse struct {
	ChatInbound struct{} `json:"chat_inbound"`
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
