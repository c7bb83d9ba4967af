// Package bolna is the adapter for Bolna: it turns Bolna's execution webhooks into ringfence's
// provider-agnostic call events and places calls through Bolna's API. Bolna's quirks stop here.
package bolna

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"github.com/ringfence/ringfence/shared/ringfence"
)

// CallIDVariable is the key under which ringfence passes its call id in the call's user_data.
// Bolna echoes user_data back in every execution webhook under context_details.recipient_data.
const CallIDVariable = "ringfence_call_id"

// Execution is the part of Bolna's execution object that ringfence reads. Bolna POSTs the whole
// object to the agent's webhook URL again on every status change of the call.
type Execution struct {
	ID                   flexString         `json:"id"`
	AgentID              string             `json:"agent_id"`
	Status               string             `json:"status"`
	UpdatedAt            string             `json:"updated_at"`
	ConversationDuration *ringfence.Decimal `json:"conversation_duration"` // Seconds.
	TotalCost            *ringfence.Decimal `json:"total_cost"`            // Cents.
	Transcript           *string            `json:"transcript"`
	ExtractedData        json.RawMessage    `json:"extracted_data"`
	ErrorMessage         *string            `json:"error_message"`
	UserNumber           string             `json:"user_number"`
	AgentNumber          string             `json:"agent_number"`
	TelephonyData        *struct {
		RecordingURL *string    `json:"recording_url"`
		ToNumber     string     `json:"to_number"`
		FromNumber   string     `json:"from_number"`
		HangupReason *string    `json:"hangup_reason"`
		Duration     flexString `json:"duration"`
		CallType     string     `json:"call_type"`
	} `json:"telephony_data"`
	ContextDetails *struct {
		RecipientData map[string]any `json:"recipient_data"`
	} `json:"context_details"`
}

// flexString accepts a JSON string or number: Bolna's documentation shows execution ids as
// integers, real payloads carry UUID strings, and telephony durations come either way.
type flexString string

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return ringfence.Errorf(ringfence.EINVALID, "expected a string or a number, got %s", b)
	}
	*f = flexString(n.String())
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
	ev := ringfence.CallEvent{
		Provider:       ringfence.ProviderBolna,
		ProviderCallID: id,
		Status:         MapStatus(ex.Status, ex.ConversationDuration),
		EndReason:      ex.Status,
		Duration:       ex.ConversationDuration,
	}
	if t, ok := parseTime(ex.UpdatedAt); ok {
		ev.Version = ringfence.Version(t)
	}
	if ex.TotalCost != nil {
		if ex.TotalCost.Sign() < 0 {
			return ringfence.CallEvent{}, ringfence.Errorf(ringfence.EINVALID, "total_cost %s is negative", ex.TotalCost)
		}
		dollars := ex.TotalCost.Shift(2) // Bolna reports cost in cents.
		ev.Cost = &dollars
	}
	if ex.Transcript != nil {
		ev.Transcript = *ex.Transcript
	}
	if ex.TelephonyData != nil {
		if ex.TelephonyData.RecordingURL != nil {
			ev.RecordingURL = *ex.TelephonyData.RecordingURL
		}
		if ev.Status.IsTerminal() && ex.TelephonyData.HangupReason != nil && *ex.TelephonyData.HangupReason != "" {
			ev.EndReason = ex.Status + ": " + *ex.TelephonyData.HangupReason
		}
	}
	data, err := objectOrEmpty(ex.ExtractedData)
	if err != nil {
		return ringfence.CallEvent{}, err
	}
	ev.ExtractedData = data
	if ex.ContextDetails != nil {
		if id, ok := ex.ContextDetails.RecipientData[CallIDVariable].(string); ok {
			ev.CallID = id
		}
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
	ours, caller = td.ToNumber, td.FromNumber
	if ex.AgentNumber != "" {
		ours = ex.AgentNumber
	}
	if ex.UserNumber != "" {
		caller = ex.UserNumber
	}
	return strings.TrimSpace(ours), strings.TrimSpace(caller), true
}

// ParseWebhookExecution is ParseWebhook that also returns the execution, for what the event does
// not carry (the numbers of an inbound call).
func ParseWebhookExecution(body []byte) (Execution, ringfence.CallEvent, error) {
	var ex Execution
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&ex); err != nil {
		return ex, ringfence.CallEvent{}, ringfence.Errorf(ringfence.EINVALID, "body is not a Bolna execution object: %s", ringfence.DescribeJSONError(err))
	}
	if dec.More() {
		return ex, ringfence.CallEvent{}, ringfence.Errorf(ringfence.EINVALID, "body holds more than one JSON value")
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

// parseTime reads Bolna's timestamps, which come with a zone ("...Z") in the documentation and
// without one in real payloads ("2026-01-28T13:17:50.116924", UTC).
func parseTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// objectOrEmpty returns a JSON object's compact text, "" for null or absent, and EINVALID for
// anything that is not an object.
func objectOrEmpty(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	if raw[0] != '{' {
		return "", ringfence.Errorf(ringfence.EINVALID, "extracted_data must be an object or null")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return "", ringfence.Errorf(ringfence.EINVALID, "extracted_data is not valid JSON")
	}
	if buf.String() == "{}" {
		return "", nil
	}
	return buf.String(), nil
}
