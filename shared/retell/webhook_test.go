package retell_test

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ringfence/ringfence/infra/testio"

	"github.com/ringfence/ringfence/shared/retell"
	"github.com/ringfence/ringfence/shared/ringfence"
)

func TestParseCallEnded(t *testing.T) {
	w, err := retell.ParseWebhook(testio.MustReadFixture(t, "call-ended.json"))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := w.CallEvent()
	if err != nil {
		t.Fatal(err)
	}
	if ev.Status != ringfence.StatusCompleted || ev.ProviderCallID != "Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6" || ev.CallID != "call_0123456789abcdef01234567" {
		t.Fatalf("event=%+v", ev)
	}
	if ev.Cost.String() != "0.7" || ev.Duration.String() != "15.791" {
		t.Fatalf("cost=%s duration=%s, want 0.7 (70 cents) and 15.791", ev.Cost, ev.Duration)
	}
	if ev.EndReason != "user_hangup" || ev.Transcript == "" || ev.RecordingURL == "" {
		t.Fatalf("end data not read: %+v", ev)
	}
}

func TestParseInbound(t *testing.T) {
	w, err := retell.ParseWebhook(testio.MustReadFixture(t, "call-inbound.json"))
	if err != nil {
		t.Fatal(err)
	}
	if w.Event != retell.EventCallInbound || w.CallInbound.ToNumber != "+12137771235" || w.CallInbound.FromNumber != "+12137771234" {
		t.Fatalf("webhook=%+v", w)
	}
}

func TestAnalysisIsNewerThanEnd(t *testing.T) {
	body := func(event string) []byte {
		return []byte(`{"event":"` + event + `","call":{"call_id":"c1","call_status":"ended","disconnection_reason":"user_hangup","end_timestamp":1714608491736}}`)
	}
	var versions []string
	for _, e := range []string{retell.EventCallStarted, retell.EventCallEnded, retell.EventCallAnalyzed} {
		w, err := retell.ParseWebhook(body(e))
		if err != nil {
			t.Fatal(err)
		}
		ev, _ := w.CallEvent()
		versions = append(versions, ev.Version)
	}
	if !(versions[0] < versions[1] && versions[1] < versions[2]) {
		t.Fatalf("versions=%v, want started < ended < analyzed", versions)
	}
}

func TestMapStatus(t *testing.T) {
	tests := []struct {
		event, status, reason string
		want                  ringfence.CallStatus
	}{
		{"call_started", "ongoing", "", ringfence.StatusInProgress},
		{"transcript_updated", "ongoing", "", ""},
		{"transfer_started", "ongoing", "", ""},
		{"call_ended", "ended", "user_hangup", ringfence.StatusCompleted},
		{"call_ended", "ended", "voicemail_reached", ringfence.StatusNoAnswer},
		{"call_ended", "error", "error_some_new_failure", ringfence.StatusFailed},
		{"call_analyzed", "ended", "manual_stopped", ringfence.StatusCancelled},
		{"call_ended", "ended", "something_new", ringfence.StatusCompleted},
		{"call_ended", "not_connected", "something_new", ringfence.StatusNoAnswer},
		{"call_ended", "", "something_new", ringfence.StatusFailed},
	}
	for _, tt := range tests {
		if got := retell.MapStatus(tt.event, tt.status, tt.reason); got != tt.want {
			t.Fatalf("MapStatus(%s, %s, %s)=%q, want %q", tt.event, tt.status, tt.reason, got, tt.want)
		}
	}
}

// The same call_ended, with its timestamps as Retell documents them (epoch milliseconds) and in
// the other forms a provider sends (ISO-8601 strings, epoch seconds, numeric strings), is read as
// the same event; only epoch seconds lose the milliseconds they do not carry.
func TestTimestampForms(t *testing.T) {
	tests := []struct {
		fixture, version string
	}{
		{"call-ended.json", "2024-05-02T00:08:11.736000000Z|2"},
		{"call-ended-iso-timestamps.json", "2024-05-02T00:08:11.736000000Z|2"},
		{"call-ended-numeric-strings.json", "2024-05-02T00:08:11.736000000Z|2"},
		{"call-ended-epoch-seconds.json", "2024-05-02T00:08:11.000000000Z|2"},
	}
	for _, tt := range tests {
		ev := mustEvent(t, tt.fixture)
		if ev.Version != tt.version || ev.Status != ringfence.StatusCompleted || ev.Cost.String() != "0.7" || ev.Duration.String() != "15.791" {
			t.Fatalf("%s: version=%s status=%s cost=%s duration=%s, want %s completed 0.7 15.791",
				tt.fixture, ev.Version, ev.Status, ev.Cost, ev.Duration, tt.version)
		}
	}
}

func TestVoicemailIsNoAnswer(t *testing.T) {
	ev := mustEvent(t, "call-analyzed-voicemail.json")
	if ev.Status != ringfence.StatusNoAnswer || ev.EndReason != "voicemail_reached" || ev.AtCapacity {
		t.Fatalf("event=%+v, want no-answer for voicemail_reached", ev)
	}
}

// Retell's concurrency-limit ending is recognisable, so the call can be placed again later.
func TestConcurrencyLimitIsAtCapacity(t *testing.T) {
	ev := mustEvent(t, "call-ended-concurrency-limit.json")
	if ev.Status != ringfence.StatusFailed || !ev.AtCapacity {
		t.Fatalf("status=%s at capacity=%v, want failed and at capacity", ev.Status, ev.AtCapacity)
	}
	if ev := mustEvent(t, "call-ended-no-answer.json"); ev.Status != ringfence.StatusNoAnswer || ev.AtCapacity {
		t.Fatalf("dial_no_answer: status=%s at capacity=%v, want no-answer, not at capacity", ev.Status, ev.AtCapacity)
	}
}

// A call object without a webhook's envelope, as GET /v2/get-call answers, reads as the event its
// call_status implies.
func TestCallEventFromGetCall(t *testing.T) {
	var c retell.Call
	if err := json.Unmarshal(testio.MustReadFixture(t, "get-call-ended.json"), &c); err != nil {
		t.Fatal(err)
	}
	ev, err := c.Event()
	if err != nil {
		t.Fatal(err)
	}
	if ev.Status != ringfence.StatusCompleted || ev.CallID != "call_0123456789abcdef01234567" || ev.Cost.String() != "0.7" ||
		ev.Version != "2024-05-02T00:08:11.736000000Z|3" || ev.ExtractedData == "" {
		t.Fatalf("event=%+v, want the analyzed, completed call", ev)
	}
	for status, want := range map[string]ringfence.CallStatus{"registered": "", "ongoing": ringfence.StatusInProgress, "not_connected": ringfence.StatusNoAnswer} {
		c := retell.Call{CallID: "c1", CallStatus: status, DisconnectionReason: ""}
		if status == "not_connected" {
			c.DisconnectionReason = "dial_no_answer"
		}
		if ev, err := c.Event(); err != nil || ev.Status != want {
			t.Fatalf("call_status %s: status=%q (%v), want %q", status, ev.Status, err, want)
		}
	}
}

// usedFields are the paths of a webhook the adapter reads; every other field of every fixture is
// turned into every other JSON type, and the parse must come out the same.
var usedFields = []string{
	"event", "event_timestamp", "call.call_id", "call.agent_id", "call.direction", "call.from_number",
	"call.to_number", "call.call_status", "call.metadata." + retell.CallIDVariable, "call.start_timestamp",
	"call.end_timestamp", "call.duration_ms", "call.transcript", "call.recording_url", "call.disconnection_reason",
	"call.call_cost.combined_cost", "call.call_analysis",
	"call_inbound.to_number", "call_inbound.from_number",
}

func TestUnusedFieldsNeverChangeTheParse(t *testing.T) {
	fixtures, _ := filepath.Glob(filepath.Join("testdata", "call-*.json"))
	if len(fixtures) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range fixtures {
		name := filepath.Base(f)
		doc := testio.MustReadFixture(t, name)
		want := mustParseView(t, name, testio.MustReencode(t, doc))
		variants := testio.UnusedFieldVariants(t, doc, usedFields)
		if len(variants) == 0 {
			t.Fatalf("%s: no unused fields to vary", name)
		}
		for _, v := range variants {
			if got := mustParseView(t, name+" with "+v.Path+" changed", v.Body); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s with %s changed: %+v, want %+v", name, v.Path, got, want)
			}
		}
	}
}

// The call object GET /v2/get-call answers is read as leniently as a webhook's.
func TestUnusedFieldsNeverChangeTheGetCallParse(t *testing.T) {
	var used []string
	for _, u := range usedFields {
		if rest, ok := strings.CutPrefix(u, "call."); ok {
			used = append(used, rest)
		}
	}
	doc := testio.MustReadFixture(t, "get-call-ended.json")
	event := func(body []byte) ringfence.CallEvent {
		var c retell.Call
		if err := json.Unmarshal(body, &c); err != nil {
			t.Fatalf("%v\n%s", err, body)
		}
		ev, err := c.Event()
		if err != nil {
			t.Fatalf("%v\n%s", err, body)
		}
		return ev
	}
	want := event(testio.MustReencode(t, doc))
	variants := testio.UnusedFieldVariants(t, doc, used)
	if len(variants) == 0 {
		t.Fatal("no unused fields to vary")
	}
	for _, v := range variants {
		if got := event(v.Body); !reflect.DeepEqual(got, want) {
			t.Fatalf("get-call with %s changed: %+v, want %+v", v.Path, got, want)
		}
	}
}

// parseView is what ringfence decides from a webhook: the event, and for an inbound webhook the
// numbers it routes by.
type parseView struct {
	Event   ringfence.CallEvent
	Inbound retell.InboundRequest
	Call    [3]string // Direction and numbers, which route an inbound call's events.
}

func mustParseView(t *testing.T, what string, body []byte) parseView {
	t.Helper()
	w, err := retell.ParseWebhook(body)
	if err != nil {
		t.Fatalf("%s: %v\n%s", what, err, body)
	}
	var v parseView
	if w.Event == retell.EventCallInbound {
		v.Inbound = *w.CallInbound
		return v
	}
	if v.Event, err = w.CallEvent(); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, body)
	}
	v.Call = [3]string{w.Call.Direction, w.Call.FromNumber, w.Call.ToNumber}
	return v
}

func mustEvent(t *testing.T, fixture string) ringfence.CallEvent {
	t.Helper()
	w, err := retell.ParseWebhook(testio.MustReadFixture(t, fixture))
	if err != nil {
		t.Fatalf("%s: %v", fixture, err)
	}
	ev, err := w.CallEvent()
	if err != nil {
		t.Fatalf("%s: %v", fixture, err)
	}
	return ev
}

func TestParseWebhookRejects(t *testing.T) {
	for _, body := range []string{``, `[]`, `{}`, `{"event":"call_ended"}`, `{"event":"call_ended","call":{}}`, `{"event":"call_inbound","call_inbound":{}}`, `{"event":"call_ended","call":{"call_id":"x"}} {}`} {
		if _, err := retell.ParseWebhook([]byte(body)); err == nil {
			t.Fatalf("ParseWebhook(%s) succeeded, want an error", body)
		}
	}
}
