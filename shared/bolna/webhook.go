// Package bolna is the adapter for Bolna: it turns Bolna's execution webhooks into ringfence's
// provider-agnostic call events and places calls through Bolna's API. Bolna's quirks stop here.
package bolna

import (
	"encoding/json"
	"log/slog"
	"strings"

	"github.com/ringfence/ringfence/shared/ringfence"
)

// CallIDVariable is the key under which ringfence passes its call id in the call's user_data.
// Bolna echoes user_data back in every execution webhook under context_details.recipient_data.
const CallIDVariable = "ringfence_call_id"

// VoicemailEndReason is added to the end reason of a call Bolna reports answered_by_voice_mail.
const VoicemailEndReason = "answered by voicemail"

// Execution is the part of Bolna's execution object that ringfence reads. Bolna POSTs the whole
// object to the agent's webhook URL again on every status change of the call, and GET
// /executions/{id} answers with the same object. Only the fields ringfence uses are declared, so a
// change in the type of any other field never fails a message; the declared fields take every
// form Bolna has sent them in.
type Execution struct {
	ID        ringfence.ProviderID    `json:"id"`
	AgentID   string                  `json:"agent_id"`
	Status    string                  `json:"status"`
	UpdatedAt *ringfence.ProviderTime `json:"updated_at"`
	// ConversationDuration is the conversation's length in seconds. Bolna's documentation has
	// also shown it as conversation_time, read when conversation_duration is absent.
	ConversationDuration *ringfence.Decimal `json:"conversation_duration"`
	ConversationTime     *ringfence.Decimal `json:"conversation_time"`
	TotalCost            *ringfence.Decimal `json:"total_cost"` // Cents.
	// AnsweredByVoiceMail is true when the call reached a voicemail box rather than a person.
	AnsweredByVoiceMail *bool           `json:"answered_by_voice_mail"`
	Transcript          ringfence.Text  `json:"transcript"`
	ExtractedData       json.RawMessage `json:"extracted_data"`
	UserNumber          ringfence.Text  `json:"user_number"`
	AgentNumber         ringfence.Text  `json:"agent_number"`
	TelephonyData       *telephonyData  `json:"telephony_data"`
	ContextDetails      *struct {
		RecipientData recipientData `json:"recipient_data"`
	} `json:"context_details"`
}

// telephonyData is the execution's telephony_data. Its texts are optional and read leniently
// (ringfence.Text): one of another type reads as absent, and never fails the message.
type telephonyData struct {
	RecordingURL ringfence.Text `json:"recording_url"`
	ToNumber     ringfence.Text `json:"to_number"`
	FromNumber   ringfence.Text `json:"from_number"`
	HangupReason ringfence.Text `json:"hangup_reason"`
	CallType     ringfence.Text `json:"call_type"`
}

// UnmarshalJSON implements json.Unmarshaler: agent_id, an id like the execution's, is read as a
// string or an integer while the field stays a string.
func (ex *Execution) UnmarshalJSON(b []byte) error {
	type fields Execution // The same fields without this method, so decoding them does not recurse.
	var wire struct {
		fields
		AgentID ringfence.ProviderID `json:"agent_id"`
	}
	if err := json.Unmarshal(b, &wire); err != nil {
		return err
	}
	*ex = Execution(wire.fields)
	ex.AgentID = string(wire.AgentID)
	return nil
}

// recipientData is the call's user_data as Bolna echoes it. ringfence reads only its own call id
// from it; anything else in it, or a value that is not an object at all, is the user's business
// and never fails a message.
type recipientData struct {
	CallID string
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *recipientData) UnmarshalJSON(b []byte) error {
	var fields map[string]json.RawMessage
	if json.Unmarshal(b, &fields) != nil {
		return nil
	}
	var id string
	if json.Unmarshal(fields[CallIDVariable], &id) == nil {
		r.CallID = strings.TrimSpace(id)
	}
	return nil
}

// ParseWebhook decodes one execution webhook body into a call event. It refuses a body that is not
// an execution object (no id or no status) with EINVALID.
func ParseWebhook(body []byte) (ringfence.CallEvent, error) {
	_, ev, err := ParseWebhookExecution(body)
	return ev, err
}

// Event translates the execution into ringfence's terms.
func (ex Execution) Event() (ringfence.CallEvent, error) {
	id := strings.TrimSpace(string(ex.ID))
	if id == "" {
		return ringfence.CallEvent{}, ringfence.Errorf(ringfence.EINVALID, "execution id is missing")
	}
	if strings.TrimSpace(ex.Status) == "" {
		return ringfence.CallEvent{}, ringfence.Errorf(ringfence.EINVALID, "execution status is missing")
	}
	duration := ex.ConversationDuration
	if duration == nil {
		duration = ex.ConversationTime
	}
	ev := ringfence.CallEvent{
		Provider:       ringfence.ProviderBolna,
		ProviderCallID: id,
		Status:         MapStatus(ex.Status, duration),
		EndReason:      ex.Status,
		Duration:       duration,
	}
	if ex.UpdatedAt != nil {
		ev.Version = ringfence.Version(ex.UpdatedAt.Time)
	}
	if ex.TotalCost != nil {
		if ex.TotalCost.Sign() < 0 {
			return ringfence.CallEvent{}, ringfence.Errorf(ringfence.EINVALID, "total_cost %s is negative", ex.TotalCost)
		}
		dollars := ex.TotalCost.Shift(2) // Bolna reports cost in cents.
		ev.Cost = &dollars
	}
	ev.Transcript = string(ex.Transcript)
	if td := ex.TelephonyData; td != nil {
		ev.RecordingURL = string(td.RecordingURL)
		if ev.Status.IsTerminal() && td.HangupReason != "" {
			ev.EndReason = ex.Status + ": " + string(td.HangupReason)
		}
	}
	// A call that reached a voicemail box reached no one, however long the recording ran: it is
	// no-answer, as a voicemail ending is for Vapi and Retell.
	if ev.Status == ringfence.StatusCompleted && ex.AnsweredByVoiceMail != nil && *ex.AnsweredByVoiceMail {
		ev.Status = ringfence.StatusNoAnswer
		ev.EndReason = ex.Status + ": " + VoicemailEndReason
	}
	data, dropped := ringfence.ExtractedData(ex.ExtractedData)
	if dropped {
		slog.Warn("Bolna extracted_data is neither an object nor a string holding one; dropped, the rest applied",
			"provider", "bolna", "execution_id", id, "extracted_data", ringfence.Excerpt(string(ex.ExtractedData)))
	}
	ev.ExtractedData = data
	if ex.ContextDetails != nil {
		ev.CallID = ex.ContextDetails.RecipientData.CallID
	}
	return ev, nil
}

// Inbound reports whether the execution is a call someone placed to one of the account's numbers,
// and the numbers: ours (the agent's) and the caller's. Bolna puts them under telephony_data, and
// real payloads repeat them at the top level as agent_number and user_number.
func (ex Execution) Inbound() (ours, caller string, ok bool) {
	td := ex.TelephonyData
	if td == nil || td.CallType != "inbound" {
		return "", "", false
	}
	ours, caller = string(td.ToNumber), string(td.FromNumber)
	if ex.AgentNumber != "" {
		ours = string(ex.AgentNumber)
	}
	if ex.UserNumber != "" {
		caller = string(ex.UserNumber)
	}
	return strings.TrimSpace(ours), strings.TrimSpace(caller), true
}

// ParseWebhookExecution is ParseWebhook that also returns the execution, for what the event does
// not carry (the numbers of an inbound call).
func ParseWebhookExecution(body []byte) (Execution, ringfence.CallEvent, error) {
	var ex Execution
	// json.Unmarshal reads the body where it lies; a json.Decoder would copy it into a buffer
	// grown by doubling, several times a 6 MB body's size. Unmarshal refuses trailing data too.
	if err := json.Unmarshal(body, &ex); err != nil {
		return ex, ringfence.CallEvent{}, ringfence.Errorf(ringfence.EINVALID, "body is not a Bolna execution object: %s", ringfence.DescribeJSONError(err))
	}
	ev, err := ex.Event()
	return ex, ev, err
}

// MapStatus maps Bolna's execution status to ringfence's status. A "completed" call with no
// conversation was never answered, so it counts as no-answer. An unknown status moves nothing: it
// maps to "" (rank 0) and is logged, so a new Bolna status can never end a call by mistake.
func MapStatus(status string, conversationSeconds *ringfence.Decimal) ringfence.CallStatus {
	switch strings.ToLower(strings.TrimSpace(status)) {
	case "scheduled", "queued", "rescheduled":
		return ringfence.StatusQueued
	case "initiated":
		return ringfence.StatusInitiated
	case "ringing":
		return ringfence.StatusRinging
	case "in-progress":
		return ringfence.StatusInProgress
	case "call-disconnected":
		return ringfence.StatusEnded
	case "completed":
		if conversationSeconds == nil || conversationSeconds.Sign() <= 0 {
			return ringfence.StatusNoAnswer
		}
		return ringfence.StatusCompleted
	case "busy":
		return ringfence.StatusBusy
	case "no-answer":
		return ringfence.StatusNoAnswer
	case "canceled", "cancelled", "stopped":
		return ringfence.StatusCancelled
	case "failed", "error", "balance-low", "balance_low":
		return ringfence.StatusFailed
	}
	slog.Warn("unknown Bolna execution status; the call's status is left as it is", "provider", "bolna", "bolna_status", status)
	return ""
}
