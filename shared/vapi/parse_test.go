package vapi_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ringfence/ringfence/infra/testio"
	"github.com/ringfence/ringfence/shared/ringfence"
	"github.com/ringfence/ringfence/shared/vapi"
)

// usedFields lists the dotted paths of a server message that the adapter reads; toolCallList
// items are listed by index.
func usedFields() []string {
	used := []string{
		"message.type", "message.timestamp", "message.status", "message.endedReason", "message.cost",
		"message.startedAt", "message.endedAt", "message.customer.number", "message.phoneNumber.number",
		"message.call.id", "message.call.type", "message.call.endedReason", "message.call.customer.number",
		"message.call.phoneNumber.number", "message.call.assistantOverrides.metadata." + vapi.CallIDVariable,
		"message.artifact.transcript", "message.artifact.recordingUrl", "message.artifact.recording.mono.combinedUrl",
		"message.analysis.structuredData", "message.artifact.structuredOutputs",
	}
	for i := range vapi.MaxToolCalls + 5 {
		item := fmt.Sprintf("message.toolCallList.%d.", i)
		for _, f := range []string{"id", "name", "arguments", "parameters", "function.name", "function.arguments", "function.parameters"} {
			used = append(used, item+f)
		}
	}
	return used
}

// describe is everything ringfence decides from a server message, as one comparable string.
func describe(body []byte) string {
	m, err := vapi.ParseMessage(body)
	if err != nil {
		return "refused: " + err.Error()
	}
	var b strings.Builder
	ours, other := m.Numbers()
	_, _, inbound := m.Inbound()
	fmt.Fprintf(&b, "type=%s ours=%s other=%s inbound=%v\n", m.Type, ours, other, inbound)
	switch m.Type {
	case vapi.TypeStatusUpdate, vapi.TypeEndOfCallReport:
		ev, err := m.Event()
		fmt.Fprintf(&b, "err=%v status=%s call=%s provider_call=%s reason=%s version=%s at_capacity=%v\n",
			err, ev.Status, ev.CallID, ev.ProviderCallID, ev.EndReason, ev.Version, ev.AtCapacity)
		fmt.Fprintf(&b, "cost=%s duration=%s transcript=%q recording=%s data=%s\n",
			decimal(ev.Cost), decimal(ev.Duration), ev.Transcript, ev.RecordingURL, ev.ExtractedData)
	case vapi.TypeToolCalls:
		for _, tc := range m.ToolCalls() {
			fmt.Fprintf(&b, "tool id=%s name=%s args=%v err=%v\n", tc.ID, tc.Name, tc.Arguments, tc.Err)
		}
	case vapi.TypeAssistantRequest:
		fmt.Fprintf(&b, "call=%s\n", m.Call.ID)
	}
	return b.String()
}

func decimal(d *ringfence.Decimal) string {
	if d == nil {
		return "none"
	}
	return d.String()
}

// Every fixture, with any field the adapter does not read turned into any other JSON type, is
// read exactly as the fixture itself: the same decisions, and no error.
func TestUnusedFieldsNeverChangeTheResult(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	used := usedFields()
	messages := 0
	for _, file := range files {
		name := filepath.Base(file)
		doc := testio.MustReadFixture(t, name)
		var envelope struct {
			Message json.RawMessage `json:"message"`
		}
		if json.Unmarshal(doc, &envelope); envelope.Message == nil {
			continue // An API answer (a call object, a create-call result), not a server message.
		}
		messages++
		want := describe(doc)
		if strings.HasPrefix(want, "refused") {
			t.Fatalf("%s: %s", name, want)
		}
		variants := testio.UnusedFieldVariants(t, doc, used)
		if len(variants) == 0 {
			t.Fatalf("%s: no unused field to vary", name)
		}
		t.Logf("%s: %d variants", name, len(variants))
		for _, v := range variants {
			if got := describe(v.Body); got != want {
				t.Fatalf("%s with %s changed:\n got %s\nwant %s", name, v.Path, got, want)
			}
		}
	}
	if messages < 8 {
		t.Fatalf("%d server messages among the fixtures, want at least 8", messages)
	}
}

// The forms Vapi has sent its timestamps, ids and numbers in over time are all read the same.
func TestFieldTypesSeenInTheWild(t *testing.T) {
	const want = "2024-11-05T14:03:21.517000000Z|1"
	for _, ts := range []string{`"2024-11-05T14:03:21.517Z"`, `"2024-11-05T15:03:21.517+01:00"`, `"2024-11-05T14:03:21.517"`, `1730815401517`, `1730815401.517`, `"1730815401517"`, `"1730815401.517"`} {
		body := `{"message":{"type":"status-update","status":"ringing","timestamp":` + ts + `,"call":{"id":"c1"}}}`
		m, err := vapi.ParseMessage([]byte(body))
		if err != nil {
			t.Fatalf("timestamp %s: %v", ts, err)
		}
		ev, err := m.Event()
		if err != nil || ev.Version != want {
			t.Fatalf("timestamp %s: version=%s err=%v, want %s", ts, ev.Version, err, want)
		}
	}
	for _, ts := range []string{`null`, `"soon"`, `{}`, `[]`, `true`, `-5`} {
		body := `{"message":{"type":"status-update","status":"ringing","timestamp":` + ts + `,"call":{"id":"c1"}}}`
		m, err := vapi.ParseMessage([]byte(body))
		if err != nil {
			t.Fatalf("timestamp %s refused the message: %v", ts, err)
		}
		if ev, _ := m.Event(); ev.Version != "" || ev.Status != ringfence.StatusRinging {
			t.Fatalf("timestamp %s: event=%+v, want ringing without a version", ts, ev)
		}
	}

	body := `{"message":{"type":"end-of-call-report","endedReason":"customer-ended-call","cost":"0.0871","call":{"id":12345,"assistantOverrides":{"metadata":{"ringfence_call_id":"call_1"}}}}}`
	m, err := vapi.ParseMessage([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := m.Event()
	if err != nil || ev.ProviderCallID != "12345" || ev.CallID != "call_1" || decimal(ev.Cost) != "0.0871" {
		t.Fatalf("event=%+v cost=%s err=%v, want call 12345 costing 0.0871", ev, decimal(ev.Cost), err)
	}

	body = `{"message":{"type":"tool-calls","toolCallList":[{"id":42,"function":{"name":"reschedule_lead","arguments":"{\"day\":\"friday\"}"}}],"call":{"id":"c1"}}}`
	m, err = vapi.ParseMessage([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if calls := m.ToolCalls(); len(calls) != 1 || calls[0].ID != "42" || calls[0].Err != nil {
		t.Fatalf("tool calls=%+v, want id 42", calls)
	}
}

// A report that carries its endedReason only on its call object (as Vapi's queue-management
// guide shows it) ends the call with that reason.
func TestEndedReasonOnlyOnTheCall(t *testing.T) {
	m, err := vapi.ParseMessage(testio.MustReadFixture(t, "end-of-call-report-call-only.json"))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := m.Event()
	if err != nil || ev.Status != ringfence.StatusCompleted || ev.EndReason != "assistant-ended-call" || ev.Version != "" {
		t.Fatalf("event=%+v err=%v, want completed by assistant-ended-call", ev, err)
	}
}

// A report with an ISO timestamp and a recording under artifact.recording is read whole.
func TestEndOfCallReportWithISOTimestamp(t *testing.T) {
	m, err := vapi.ParseMessage(testio.MustReadFixture(t, "end-of-call-report-iso-timestamp.json"))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := m.Event()
	if err != nil {
		t.Fatal(err)
	}
	if ev.Status != ringfence.StatusCompleted || ev.CallID != "call_conformance_1" || decimal(ev.Cost) != "0.0871" || decimal(ev.Duration) != "106.75" {
		t.Fatalf("event=%+v cost=%s duration=%s", ev, decimal(ev.Cost), decimal(ev.Duration))
	}
	if got, want := ev.RecordingURL, "https://storage.vapi.ai/8f4b1d3e-mono.wav"; got != want {
		t.Fatalf("RecordingURL=%s, want %s", got, want)
	}
	if got, want := ev.Version, "2024-11-05T14:05:08.152000000Z|2"; got != want {
		t.Fatalf("Version=%s, want %s", got, want)
	}
}

// Each tool call item gets its own answer: a malformed one an error for its id, the others run.
// Past MaxToolCalls, items are answered with an error without running.
func TestToolCallsAnsweredItemByItem(t *testing.T) {
	items := []string{
		`{"id":"ok","function":{"name":"reschedule_lead","arguments":"{\"day\":\"friday\"}"}}`,
		`{"id":"no-name","function":{"arguments":"{}"}}`,
		`{"id":"bad-args","name":"reschedule_lead","arguments":"[1]"}`,
		`{"id":"bad-item","function":"reschedule_lead","name":{"x":1}}`,
		`"not an object"`,
	}
	for range vapi.MaxToolCalls {
		items = append(items, `{"id":"more","name":"reschedule_lead","arguments":{}}`)
	}
	body := `{"message":{"type":"tool-calls","toolCallList":[` + strings.Join(items, ",") + `],"call":{"id":"c1"}}}`
	m, err := vapi.ParseMessage([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	calls := m.ToolCalls()
	if got, want := len(calls), len(items); got != want {
		t.Fatalf("%d tool calls, want one per item (%d)", got, want)
	}
	if calls[0].Err != nil || calls[0].Arguments["day"] != "friday" {
		t.Fatalf("first call=%+v, want it to run", calls[0])
	}
	for i, id := range []string{"no-name", "bad-args", "bad-item", ""} {
		if c := calls[i+1]; c.Err == nil || c.ID != id || ringfence.ErrorCode(c.Err) != ringfence.EINVALID {
			t.Fatalf("item %d=%+v, want an invalid error for id %q", i+1, c, id)
		}
	}
	ran := 0
	for i, c := range calls {
		if c.Err == nil {
			ran++
		}
		if i >= vapi.MaxToolCalls && c.Err == nil {
			t.Fatalf("item %d runs past the cap of %d", i, vapi.MaxToolCalls)
		}
	}
	if got, want := ran, vapi.MaxToolCalls-4; got != want {
		t.Fatalf("%d calls run, want %d", got, want)
	}
}
