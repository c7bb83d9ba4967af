// Package vapi is the adapter for Vapi: it authenticates Vapi's server messages, turns them into
// ringfence's terms (status updates, end-of-call reports, tool calls, assistant requests) and
// places and finds calls through Vapi's API. Vapi's quirks stop here.
package vapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"

	"github.com/ringfence/ringfence/shared/ringfence"
)

// CallIDVariable is the key under which ringfence passes its call id in the call's
// assistantOverrides.metadata; Vapi returns it with the call object in every server message.
const CallIDVariable = "ringfence_call_id"

// The server message types ringfence acts on.
const (
	TypeStatusUpdate     = "status-update"
	TypeEndOfCallReport  = "end-of-call-report"
	TypeToolCalls        = "tool-calls"
	TypeAssistantRequest = "assistant-request"
	typeInboundPhoneCall = "inboundPhoneCall"
)

// Envelope is every server message's body: {"message": {...}}.
type Envelope struct {
	Message *Message `json:"message"`
}

// Message is the part of a server message ringfence reads. Every other field is ignored, whatever
// its type, and the fields whose type has varied (timestamps, ids) accept each form.
type Message struct {
	Type        string             `json:"type"`
	Timestamp   Time               `json:"timestamp"` // ISO-8601 (2024), epoch ms (today).
	Status      string             `json:"status"`
	EndedReason string             `json:"endedReason"`
	Cost        *ringfence.Decimal `json:"cost"` // USD, a JSON number or a numeric string.
	StartedAt   Time               `json:"startedAt"`
	EndedAt     Time               `json:"endedAt"`
	Call        *Call              `json:"call"`
	Customer    *Party             `json:"customer"`
	PhoneNumber *Party             `json:"phoneNumber"`
	Artifact    *struct {
		Transcript   Text            `json:"transcript"`
		RecordingURL Text            `json:"recordingUrl"`
		Recording    json.RawMessage `json:"recording"` // An object today; read leniently.
		// StructuredOutputs holds the results of the assistant's structured outputs (Vapi's
		// changelog, August 2025), keyed by the output's id: {"<id>": {"name", "result"}}.
		StructuredOutputs json.RawMessage `json:"structuredOutputs"`
	} `json:"artifact"`
	Analysis *struct {
		StructuredData json.RawMessage `json:"structuredData"`
	} `json:"analysis"`
	ToolCallList []json.RawMessage `json:"toolCallList"` // Decoded item by item: see ToolCalls.
}

// Call is the part of Vapi's call object ringfence reads. In an end-of-call report it can be a
// stale snapshot (its status still "ringing"): the outcome comes from the message's endedReason.
type Call struct {
	ID                 string `json:"id"` // A string; a number is read as its digits.
	Type               string `json:"type"`
	Status             string `json:"status"`
	EndedReason        string `json:"endedReason"`
	PhoneNumberID      string `json:"phoneNumberId"`
	Customer           *Party `json:"customer"`
	PhoneNumber        *Party `json:"phoneNumber"`
	AssistantOverrides *struct {
		Metadata map[string]any `json:"metadata"`
	} `json:"assistantOverrides"`
}

// UnmarshalJSON reads a call object leniently: its id as a string or a number, and each of the
// fields above that holds a value of another type as absent, so that a call object is never
// refused over a field ringfence does not act on.
func (c *Call) UnmarshalJSON(b []byte) error {
	type plain Call
	var raw struct {
		plain
		ID                 ID              `json:"id"`
		Type               Text            `json:"type"`
		Status             Text            `json:"status"`
		EndedReason        Text            `json:"endedReason"`
		PhoneNumberID      Text            `json:"phoneNumberId"`
		AssistantOverrides json.RawMessage `json:"assistantOverrides"`
	}
	if err := json.Unmarshal(b, &raw); err != nil { // In place: a report's call object can be large.
		return err
	}
	*c = Call(raw.plain)
	c.ID, c.Type, c.Status = string(raw.ID), string(raw.Type), string(raw.Status)
	c.EndedReason, c.PhoneNumberID = string(raw.EndedReason), string(raw.PhoneNumberID)
	c.AssistantOverrides = nil
	if o := bytes.TrimSpace(raw.AssistantOverrides); len(o) > 0 && o[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(o))
		dec.UseNumber()
		if dec.Decode(&c.AssistantOverrides) != nil {
			c.AssistantOverrides = nil // A metadata that is not an object holds no call id.
		}
	}
	return nil
}

// Party is a customer or phone number object: the part with the number.
type Party struct {
	Number string `json:"number"`
}

// UnmarshalJSON reads a party object leniently: a number that is not a string, or a party that
// is not an object, reads as no number.
func (p *Party) UnmarshalJSON(b []byte) error {
	var raw struct {
		Number Text `json:"number"`
	}
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '{' && json.Unmarshal(b, &raw) == nil {
		p.Number = string(raw.Number)
		return nil
	}
	p.Number = ""
	return nil
}

// ParseMessage decodes a server message, refusing with EINVALID a body that is not one, or a
// message ringfence acts on that lacks what it needs (a call id, tool calls).
func ParseMessage(body []byte) (*Message, error) {
	var env Envelope
	// json.Unmarshal reads the body where it lies; a json.Decoder would copy it into a buffer
	// grown by doubling, several times a 6 MB body's size. Unmarshal refuses trailing data too.
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, ringfence.Errorf(ringfence.EINVALID, "body is not a Vapi server message: %s", ringfence.DescribeJSONError(err))
	}
	if env.Message == nil || strings.TrimSpace(env.Message.Type) == "" {
		return nil, ringfence.Errorf(ringfence.EINVALID, "message.type is missing")
	}
	m := env.Message
	switch m.Type {
	case TypeStatusUpdate, TypeEndOfCallReport:
		// call is optional on both (ServerMessageStatusUpdate, ServerMessageEndOfCallReport):
		// a chat's or a session's messages carry none, and are not about a call (IsAboutCall).
		if m.Call != nil && strings.TrimSpace(m.Call.ID) == "" {
			return nil, ringfence.Errorf(ringfence.EINVALID, "message.call.id is missing")
		}
	case TypeAssistantRequest:
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

// IsAboutCall reports whether a status update or an end-of-call report is about a phone or web
// call, which ringfence tracks, rather than a chat or a session, which carry no call object.
func (m *Message) IsAboutCall() bool { return m.Call != nil }

// Inbound reports whether the message is about a call someone placed to one of the account's
// numbers, and the numbers involved.
func (m *Message) Inbound() (ours, caller string, ok bool) {
	if m.Call == nil || m.Call.Type != typeInboundPhoneCall {
		return "", "", false
	}
	ours, caller = m.Numbers()
	return ours, caller, true
}

// Numbers returns the account's number (the message's phone number) and the other party's (the
// customer), from the message or else from its call object.
func (m *Message) Numbers() (ours, other string) {
	switch {
	case m.PhoneNumber != nil && m.PhoneNumber.Number != "":
		ours = m.PhoneNumber.Number
	case m.Call != nil && m.Call.PhoneNumber != nil:
		ours = m.Call.PhoneNumber.Number
	}
	switch {
	case m.Customer != nil && m.Customer.Number != "":
		other = m.Customer.Number
	case m.Call != nil && m.Call.Customer != nil:
		other = m.Call.Customer.Number
	}
	return strings.TrimSpace(ours), strings.TrimSpace(other)
}

// CallID returns ringfence's call id from the call's metadata, or "".
func (c *Call) CallID() string {
	if c == nil || c.AssistantOverrides == nil {
		return ""
	}
	switch id := c.AssistantOverrides.Metadata[CallIDVariable].(type) {
	case string:
		return strings.TrimSpace(id)
	case json.Number:
		return id.String()
	}
	return ""
}

// Event translates a status update or an end-of-call report into ringfence's terms.
func (m *Message) Event() (ringfence.CallEvent, error) {
	if !m.IsAboutCall() {
		return ringfence.CallEvent{}, ringfence.Errorf(ringfence.EINVALID, "message %s is not about a call", m.Type)
	}
	ev := ringfence.CallEvent{Provider: ringfence.ProviderVapi, ProviderCallID: m.Call.ID, CallID: m.Call.CallID(), EndReason: m.endedReason()}
	order := "1"
	when := m.Timestamp.Time
	switch m.Type {
	case TypeStatusUpdate:
		ev.Status = MapStatus(m.Status, ev.EndReason)
		ev.AtCapacity = m.Status == "ended" && AtCapacity(ev.EndReason)
	case TypeEndOfCallReport:
		order = "2"
		var transcript string
		if m.Artifact != nil {
			transcript = string(m.Artifact.Transcript)
		}
		ev.Status = OutcomeOf(ev.EndReason, ringfence.CallerSpoke(transcript))
		ev.AtCapacity = AtCapacity(ev.EndReason)
		if m.Cost != nil {
			if m.Cost.Sign() < 0 {
				return ev, ringfence.Errorf(ringfence.EINVALID, "cost is negative")
			}
			ev.Cost = m.Cost // Vapi reports cost in dollars.
		}
		start, end := m.StartedAt.Time, m.EndedAt.Time
		if !start.IsZero() && !end.IsZero() && !end.Before(start) {
			seconds := ringfence.MustParseDecimal(strconv.FormatInt(end.Sub(start).Milliseconds(), 10)).Shift(3)
			ev.Duration = &seconds
			when = end
		}
		if a := m.Artifact; a != nil {
			ev.Transcript, ev.RecordingURL = string(a.Transcript), string(a.RecordingURL)
			if ev.RecordingURL == "" {
				ev.RecordingURL = monoRecordingURL(a.Recording)
			}
		}
		ev.ExtractedData = m.extractedData()
	default:
		return ev, ringfence.Errorf(ringfence.EINVALID, "message type %s carries no call event", m.Type)
	}
	if !when.IsZero() {
		ev.Version = ringfence.Version(when) + "|" + order
	}
	return ev, nil
}

// extractedData is what the assistant extracted from the call: analysis.structuredData, the
// analysis plan's result, or else artifact.structuredOutputs, where assistants that use Vapi's
// structured outputs get theirs, kept as Vapi sends it (keyed by output id). Either in a shape
// that is not an object is dropped, and logged; the report is applied without it.
func (m *Message) extractedData() string {
	var sources []json.RawMessage
	if m.Analysis != nil {
		sources = append(sources, m.Analysis.StructuredData)
	}
	if m.Artifact != nil {
		sources = append(sources, m.Artifact.StructuredOutputs)
	}
	for _, raw := range sources {
		data, dropped := ringfence.ExtractedData(raw)
		if dropped {
			slog.Warn("Vapi structured data is not an object; dropped, the rest applied", "provider", "vapi", "data", ringfence.Excerpt(string(raw)))
		}
		if data != "" {
			return data
		}
	}
	return ""
}

// endedReason is the message's endedReason, or its call's: some reports carry it only there.
func (m *Message) endedReason() string {
	if r := strings.TrimSpace(m.EndedReason); r != "" || m.Call == nil {
		return r
	}
	return strings.TrimSpace(m.Call.EndedReason)
}

// monoRecordingURL reads artifact.recording.mono.combinedUrl, if the recording is an object of
// that shape; any other shape has no URL.
func monoRecordingURL(raw json.RawMessage) string {
	var rec struct {
		Mono *struct {
			CombinedURL Text `json:"combinedUrl"`
		} `json:"mono"`
	}
	if json.Unmarshal(raw, &rec) != nil || rec.Mono == nil {
		return ""
	}
	return string(rec.Mono.CombinedURL)
}

// MaxToolCalls is how many tool calls of one tool-calls message are run. Each may write to the
// table; the rest are answered with an error result, so one message can cause at most this many
// writes however long its list.
const MaxToolCalls = 20

// ToolCall is one function call of a tool-calls message, its arguments decoded. Err is set when
// the call cannot be run (no name, arguments that are not an object, past MaxToolCalls): it is
// answered with an error result for its id, and the message's other calls still run.
type ToolCall struct {
	ID        string
	Name      string
	Arguments map[string]any
	Err       error
}

// toolCallItem is one entry of toolCallList. Vapi's schema puts the name and the arguments (a
// JSON string) under "function"; its documentation shows them on the item, the arguments as an
// object under "arguments" or "parameters"; all are read.
type toolCallItem struct {
	ID         ID              `json:"id"`
	Name       Text            `json:"name"`
	Arguments  json.RawMessage `json:"arguments"`
	Parameters json.RawMessage `json:"parameters"`
	Function   json.RawMessage `json:"function"`
}

// ToolCalls decodes the message's tool calls, one per item of toolCallList, in order. An item
// that cannot be run has its Err set; it never affects the others.
func (m *Message) ToolCalls() []ToolCall {
	out := make([]ToolCall, 0, len(m.ToolCallList))
	for i, raw := range m.ToolCallList {
		tc := decodeToolCall(i, raw)
		if i >= MaxToolCalls && tc.Err == nil {
			tc.Err = ringfence.Errorf(ringfence.EINVALID, "this message holds more than %d tool calls; only the first %d are run", MaxToolCalls, MaxToolCalls)
		}
		out = append(out, tc)
	}
	return out
}

// decodeToolCall reads item i of toolCallList.
func decodeToolCall(i int, raw json.RawMessage) ToolCall {
	var item toolCallItem
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&item); err != nil {
		return ToolCall{ID: itemID(raw), Err: ringfence.Errorf(ringfence.EINVALID, "toolCallList[%d] is not a tool call object", i)}
	}
	tc := ToolCall{ID: string(item.ID), Name: strings.TrimSpace(string(item.Name))}
	args := item.Arguments
	if len(args) == 0 {
		args = item.Parameters
	}
	var fn struct {
		Name       Text            `json:"name"`
		Arguments  json.RawMessage `json:"arguments"`
		Parameters json.RawMessage `json:"parameters"`
	}
	if f := bytes.TrimSpace(item.Function); len(f) > 0 && f[0] == '{' && json.Unmarshal(f, &fn) == nil {
		if tc.Name == "" {
			tc.Name = strings.TrimSpace(string(fn.Name))
		}
		switch {
		case len(fn.Arguments) > 0:
			args = fn.Arguments
		case len(args) == 0:
			args = fn.Parameters
		}
	}
	if tc.ID == "" || tc.Name == "" {
		tc.Err = ringfence.Errorf(ringfence.EINVALID, "toolCallList[%d] needs an id and a function name", i)
		return tc
	}
	decoded, err := decodeArguments(args)
	if err != nil {
		tc.Err = ringfence.Errorf(ringfence.EINVALID, "toolCallList[%d].arguments: %s", i, ringfence.ErrorMessage(err))
		return tc
	}
	tc.Arguments = decoded
	return tc
}

// itemID returns the id of a tool call item that is otherwise malformed, so that its error
// result can still name it.
func itemID(raw json.RawMessage) string {
	var item struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(raw, &item) != nil {
		return ""
	}
	return flexString(item.ID)
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

// ToolResult is one tool call's result: "result" when it ran, "error" when it did not. Vapi adds
// either to the conversation as a string, and speaks a request-complete or request-failed message.
type ToolResult struct {
	Name       string `json:"name"`
	ToolCallID string `json:"toolCallId"`
	Result     string `json:"result,omitempty"`
	Error      string `json:"error,omitempty"`
}
