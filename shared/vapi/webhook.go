// Package vapi is the adapter for Vapi: it authenticates Vapi's server messages, turns them into
// ringfence's terms (status updates, end-of-call reports, tool calls) and places and finds calls
// through Vapi's API. Vapi's quirks stop here.
package vapi

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/ringfence/ringfence/shared/ringfence"
)

// CallIDVariable is the key under which ringfence passes its call id in the call's
// assistantOverrides.metadata; Vapi returns it with the call object in every server message.
const CallIDVariable = "ringfence_call_id"

// The headers Vapi authenticates its server messages with.
const (
	SecretHeader    = "X-Vapi-Secret" // A shared secret, sent as is.
	SignatureHeader = "X-Signature"   // HMAC-SHA256 (hex) of "<timestamp>.<raw body>".
	TimestampHeader = "X-Timestamp"
)

// SignatureTolerance is how far an HMAC timestamp may be from now, either way.
const SignatureTolerance = 5 * time.Minute

// Authenticate checks a server message: the X-Vapi-Secret header, or Vapi's HMAC scheme with its
// default settings (x-signature = hex HMAC-SHA256 of "{timestamp}.{body}" over the raw body,
// x-timestamp in seconds or milliseconds within five minutes). Any failure is EUNAUTHORIZED.
func Authenticate(header func(string) string, body []byte, secret string, now time.Time) error {
	if secret == "" {
		return ringfence.Errorf(ringfence.EUNAUTHORIZED, "Vapi requests are not accepted: no Vapi webhook secret is configured")
	}
	if presented := header(SecretHeader); presented != "" {
		if subtle.ConstantTimeCompare([]byte(presented), []byte(secret)) != 1 {
			return ringfence.Errorf(ringfence.EUNAUTHORIZED, "the %s header is wrong", SecretHeader)
		}
		return nil
	}
	sig, ts := strings.TrimPrefix(header(SignatureHeader), "sha256="), header(TimestampHeader)
	if sig == "" || ts == "" {
		return ringfence.Errorf(ringfence.EUNAUTHORIZED, "send %s, or %s and %s", SecretHeader, SignatureHeader, TimestampHeader)
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || n <= 0 {
		return ringfence.Errorf(ringfence.EUNAUTHORIZED, "the %s header is not a Unix time", TimestampHeader)
	}
	at := time.Unix(n, 0)
	if len(ts) >= 13 {
		at = time.UnixMilli(n)
	}
	if skew := now.Sub(at); skew > SignatureTolerance || skew < -SignatureTolerance {
		return ringfence.Errorf(ringfence.EUNAUTHORIZED, "the %s is more than %s from now", TimestampHeader, SignatureTolerance)
	}
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, Sign(body, secret, ts)) {
		return ringfence.Errorf(ringfence.EUNAUTHORIZED, "the %s does not match the body", SignatureHeader)
	}
	return nil
}

// Sign returns the HMAC of body at timestamp ts, as Vapi's default HMAC scheme computes it.
func Sign(body []byte, secret, ts string) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts + "."))
	h.Write(body)
	return h.Sum(nil)
}

// The server message types ringfence acts on.
const (
	TypeStatusUpdate     = "status-update"
	TypeEndOfCallReport  = "end-of-call-report"
	TypeToolCalls        = "tool-calls"
	typeInboundPhoneCall = "inboundPhoneCall"
)

// Envelope is every server message's body: {"message": {...}}.
type Envelope struct {
	Message *Message `json:"message"`
}

// Message is the part of a server message ringfence reads.
type Message struct {
	Type        string             `json:"type"`
	Timestamp   *json.Number       `json:"timestamp"`
	Status      string             `json:"status"`
	EndedReason string             `json:"endedReason"`
	Cost        *ringfence.Decimal `json:"cost"` // USD.
	StartedAt   string             `json:"startedAt"`
	EndedAt     string             `json:"endedAt"`
	Call        *Call              `json:"call"`
	Customer    *Party             `json:"customer"`
	PhoneNumber *Party             `json:"phoneNumber"`
	Artifact    *struct {
		Transcript   string `json:"transcript"`
		RecordingURL string `json:"recordingUrl"`
		Recording    *struct {
			Mono *struct {
				CombinedURL string `json:"combinedUrl"`
			} `json:"mono"`
		} `json:"recording"`
	} `json:"artifact"`
	Analysis *struct {
		StructuredData json.RawMessage `json:"structuredData"`
	} `json:"analysis"`
	ToolCallList []ToolCallItem `json:"toolCallList"`
}

// Call is the part of Vapi's call object ringfence reads. In an end-of-call report it can be a
// stale snapshot (its status still "ringing"): the outcome comes from the message's endedReason.
type Call struct {
	ID                 string `json:"id"`
	Type               string `json:"type"`
	Status             string `json:"status"`
	PhoneNumberID      string `json:"phoneNumberId"`
	Customer           *Party `json:"customer"`
	AssistantOverrides *struct {
		Metadata map[string]any `json:"metadata"`
	} `json:"assistantOverrides"`
}

// Party is a customer or phone number object: the part with the number.
type Party struct {
	Number string `json:"number"`
}

// ToolCallItem is one entry of toolCallList. Vapi's schema puts the name and the arguments (a JSON
// string) under "function"; its documentation shows them on the item, and the arguments as an
// object; both are read.
type ToolCallItem struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Arguments  json.RawMessage `json:"arguments"`
	Parameters json.RawMessage `json:"parameters"`
	Function   *struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	} `json:"function"`
}

// ParseMessage decodes a server message, refusing a body without a message type with EINVALID.
func ParseMessage(body []byte) (*Message, error) {
	var env Envelope
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&env); err != nil {
		return nil, ringfence.Errorf(ringfence.EINVALID, "body is not a Vapi server message: %s", ringfence.DescribeJSONError(err))
	}
	if dec.More() {
		return nil, ringfence.Errorf(ringfence.EINVALID, "body holds more than one JSON value")
	}
	if env.Message == nil || strings.TrimSpace(env.Message.Type) == "" {
		return nil, ringfence.Errorf(ringfence.EINVALID, "message.type is missing")
	}
	m := env.Message
	switch m.Type {
	case TypeStatusUpdate, TypeEndOfCallReport:
		if m.Call == nil || strings.TrimSpace(m.Call.ID) == "" {
			return nil, ringfence.Errorf(ringfence.EINVALID, "message.call.id is missing")
		}
	case TypeToolCalls:
		if len(m.ToolCallList) == 0 {
			return nil, ringfence.Errorf(ringfence.EINVALID, "message.toolCallList is empty")
		}
	}
	return m, nil
}

// Inbound reports whether the message is about a call someone placed to one of the account's
// numbers, and the numbers involved.
func (m *Message) Inbound() (ours, caller string, ok bool) {
	if m.Call == nil || m.Call.Type != typeInboundPhoneCall {
		return "", "", false
	}
	if m.PhoneNumber != nil {
		ours = m.PhoneNumber.Number
	}
	if m.Customer != nil {
		caller = m.Customer.Number
	} else if m.Call.Customer != nil {
		caller = m.Call.Customer.Number
	}
	return ours, caller, true
}

// CallID returns ringfence's call id from the call's metadata, or "".
func (c *Call) CallID() string {
	if c == nil || c.AssistantOverrides == nil {
		return ""
	}
	id, _ := c.AssistantOverrides.Metadata[CallIDVariable].(string)
	return id
}

// Event translates a status update or an end-of-call report into ringfence's terms.
func (m *Message) Event() (ringfence.CallEvent, error) {
	ev := ringfence.CallEvent{Provider: ringfence.ProviderVapi, ProviderCallID: m.Call.ID, CallID: m.Call.CallID(), EndReason: m.EndedReason}
	order := "1"
	when := m.timestamp()
	switch m.Type {
	case TypeStatusUpdate:
		ev.Status = MapStatus(m.Status, m.EndedReason)
	case TypeEndOfCallReport:
		order = "2"
		ev.Status = MapEndedReason(m.EndedReason)
		if m.Cost != nil {
			if m.Cost.Sign() < 0 {
				return ev, ringfence.Errorf(ringfence.EINVALID, "cost is negative")
			}
			ev.Cost = m.Cost // Vapi reports cost in dollars.
		}
		start, errStart := time.Parse(time.RFC3339Nano, m.StartedAt)
		end, errEnd := time.Parse(time.RFC3339Nano, m.EndedAt)
		if errStart == nil && errEnd == nil && !end.Before(start) {
			seconds := ringfence.MustParseDecimal(strconv.FormatInt(end.Sub(start).Milliseconds(), 10)).Shift(3)
			ev.Duration = &seconds
			when = end
		}
		if a := m.Artifact; a != nil {
			ev.Transcript, ev.RecordingURL = a.Transcript, a.RecordingURL
			if ev.RecordingURL == "" && a.Recording != nil && a.Recording.Mono != nil {
				ev.RecordingURL = a.Recording.Mono.CombinedURL
			}
		}
		if m.Analysis != nil {
			data := bytes.TrimSpace(m.Analysis.StructuredData)
			var buf bytes.Buffer
			if len(data) > 0 && data[0] == '{' && json.Compact(&buf, data) == nil && buf.String() != "{}" {
				ev.ExtractedData = buf.String()
			}
		}
	default:
		return ev, ringfence.Errorf(ringfence.EINVALID, "message type %s carries no call event", m.Type)
	}
	if !when.IsZero() {
		ev.Version = ringfence.Version(when) + "|" + order
	}
	return ev, nil
}

// timestamp reads the message's timestamp (milliseconds, as Vapi's examples show).
func (m *Message) timestamp() time.Time {
	if m.Timestamp == nil {
		return time.Time{}
	}
	ms, err := m.Timestamp.Int64()
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// MapStatus maps a status-update's status; "ended" takes its outcome from endedReason.
func MapStatus(status, endedReason string) ringfence.CallStatus {
	switch status {
	case "scheduled", "queued":
		return ringfence.StatusQueued
	case "ringing":
		return ringfence.StatusRinging
	case "in-progress", "forwarding":
		return ringfence.StatusInProgress
	case "ended":
		return MapEndedReason(endedReason)
	}
	slog.Warn("unknown Vapi call status; the call's status is left as it is", "provider", "vapi", "vapi_status", status)
	return ""
}

// MapEndedReason maps Vapi's endedReason to ringfence's outcome. Vapi's list of reasons is long
// and grows; the ones that say how a call ended are mapped by name, the error families by their
// shape, and anything else ends the call as failed and is logged.
func MapEndedReason(reason string) ringfence.CallStatus {
	switch reason {
	case "customer-busy":
		return ringfence.StatusBusy
	case "customer-did-not-answer", "voicemail":
		return ringfence.StatusNoAnswer
	case "manually-canceled", "scheduled-call-deleted":
		return ringfence.StatusCancelled
	case "exceeded-max-duration", "silence-timed-out", "assistant-forwarded-call", "assistant-said-end-call-phrase":
		return ringfence.StatusCompleted
	}
	switch {
	case strings.HasPrefix(reason, "customer-ended-call"), strings.HasPrefix(reason, "assistant-ended-call"):
		return ringfence.StatusCompleted
	case strings.Contains(reason, "error"), strings.Contains(reason, "failed"), strings.Contains(reason, "rejected"),
		strings.Contains(reason, "misdialed"), strings.Contains(reason, "fault"):
		return ringfence.StatusFailed
	}
	slog.Warn("unknown Vapi endedReason; the call ends as failed", "provider", "vapi", "ended_reason", reason)
	return ringfence.StatusFailed
}

// ToolCall is one function call of a tool-calls message, its arguments decoded.
type ToolCall struct {
	ID        string
	Name      string
	Arguments map[string]any
}

// ToolCalls decodes the tool calls of a tool-calls message. Arguments may be an object or a JSON
// string holding one, under the item or under "function"; anything else is EINVALID.
func (m *Message) ToolCalls() ([]ToolCall, error) {
	var out []ToolCall
	for i, item := range m.ToolCallList {
		tc := ToolCall{ID: item.ID, Name: item.Name}
		raw := item.Arguments
		if len(raw) == 0 {
			raw = item.Parameters
		}
		if item.Function != nil {
			if tc.Name == "" {
				tc.Name = item.Function.Name
			}
			if len(item.Function.Arguments) > 0 {
				raw = item.Function.Arguments
			}
		}
		if tc.ID == "" || tc.Name == "" {
			return nil, ringfence.Errorf(ringfence.EINVALID, "toolCallList[%d] needs an id and a name", i)
		}
		args, err := decodeArguments(raw)
		if err != nil {
			return nil, ringfence.Errorf(ringfence.EINVALID, "toolCallList[%d].arguments: %s", i, ringfence.ErrorMessage(err))
		}
		tc.Arguments = args
		out = append(out, tc)
	}
	return out, nil
}

func decodeArguments(raw json.RawMessage) (map[string]any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return map[string]any{}, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, ringfence.Errorf(ringfence.EINVALID, "not valid JSON")
		}
		raw = []byte(s)
	}
	var args map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&args); err != nil || args == nil {
		return nil, ringfence.Errorf(ringfence.EINVALID, "must be a JSON object, or a string holding one")
	}
	return args, nil
}

// ToolResults is the reply to a tool-calls message.
type ToolResults struct {
	Results []ToolResult `json:"results"`
}

// ToolResult is one tool call's result; Vapi adds "result" to the conversation as a string.
type ToolResult struct {
	Name       string `json:"name,omitempty"`
	ToolCallID string `json:"toolCallId"`
	Result     string `json:"result,omitempty"`
	Error      string `json:"error,omitempty"`
}
