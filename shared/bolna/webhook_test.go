package bolna_test

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ringfence/ringfence/infra/testio"

	"github.com/ringfence/ringfence/shared/bolna"
	"github.com/ringfence/ringfence/shared/ringfence"
)

func TestParseWebhookCompleted(t *testing.T) {
	ev, err := bolna.ParseWebhook(testio.MustReadFixture(t, "execution-completed.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ev.ProviderCallID != "6c972873-19b2-44b0-a6bf-d4f690a7a9cf" || ev.CallID != "call_0123456789abcdef01234567" {
		t.Fatalf("ids=%q/%q", ev.ProviderCallID, ev.CallID)
	}
	if ev.Status != ringfence.StatusCompleted {
		t.Fatalf("Status=%s, want completed", ev.Status)
	}
	if got, want := ev.Cost.String(), "0.1271"; got != want {
		t.Fatalf("Cost=%s, want %s (12.71 cents)", got, want)
	}
	if got, want := ev.Duration.String(), "68.4"; got != want {
		t.Fatalf("Duration=%s, want %s", got, want)
	}
	if ev.Version != "2026-11-21T04:19:08.672994000Z" {
		t.Fatalf("Version=%s", ev.Version)
	}
	if ev.RecordingURL == "" || ev.Transcript == "" || ev.ExtractedData != `{"user_name":"Vivek","callback":"thursday"}` {
		t.Fatalf("data not read: %+v", ev)
	}
}

func TestParseWebhookIntegerID(t *testing.T) {
	ev, err := bolna.ParseWebhook(testio.MustReadFixture(t, "execution-integer-id.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ev.ProviderCallID != "7432382142914" || ev.Version != "2024-01-29T18:31:22.000000000Z" {
		t.Fatalf("id=%s version=%s", ev.ProviderCallID, ev.Version)
	}
}

// Every execution status Bolna documents has an explicit row here, and the rows cover the list
// in testdata, so a status Bolna adds to its documentation fails this test until it is mapped.
func TestMapStatus(t *testing.T) {
	talked, silent := ringfence.MustParseDecimal("12.5"), ringfence.MustParseDecimal("0")
	tests := []struct {
		status   string
		duration *ringfence.Decimal
		want     ringfence.CallStatus
	}{
		{"scheduled", nil, ringfence.StatusQueued},
		{"queued", nil, ringfence.StatusQueued},
		{"rescheduled", nil, ringfence.StatusQueued},
		{"initiated", nil, ringfence.StatusInitiated},
		{"ringing", nil, ringfence.StatusRinging},
		{"in-progress", nil, ringfence.StatusInProgress},
		{"call-disconnected", nil, ringfence.StatusEnded},
		{"completed", &talked, ringfence.StatusCompleted},
		{"completed", &silent, ringfence.StatusNoAnswer},
		{"completed", nil, ringfence.StatusNoAnswer},
		{"balance-low", nil, ringfence.StatusFailed},
		{"balance_low", nil, ringfence.StatusFailed},
		{"busy", nil, ringfence.StatusBusy},
		{"no-answer", nil, ringfence.StatusNoAnswer},
		{"canceled", nil, ringfence.StatusCancelled},
		{"cancelled", nil, ringfence.StatusCancelled},
		{"stopped", nil, ringfence.StatusCancelled},
		{"failed", nil, ringfence.StatusFailed},
		{"error", nil, ringfence.StatusFailed},
		{"Completed", &talked, ringfence.StatusCompleted},
		{"teleported", nil, ""},
	}
	rows := map[string]bool{}
	for _, tt := range tests {
		rows[tt.status] = true
		if got := bolna.MapStatus(tt.status, tt.duration); got != tt.want {
			t.Fatalf("MapStatus(%q)=%q, want %q", tt.status, got, tt.want)
		}
	}
	for _, status := range testio.MustReadList(t, "execution-statuses.txt") {
		if !rows[status] {
			t.Fatalf("documented status %q has no row in this table", status)
		}
		if bolna.MapStatus(status, &talked) == "" {
			t.Fatalf("documented status %q has no mapping", status)
		}
	}
}

// Bolna's documented example of a completed call that reached voicemail: however long the
// recording, it reached no one, so it is no-answer (as a voicemail ending is on Vapi and Retell).
func TestVoicemailIsNoAnswer(t *testing.T) {
	ev, err := bolna.ParseWebhook(testio.MustReadFixture(t, "execution-voicemail.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ev.Status, ringfence.StatusNoAnswer; got != want {
		t.Fatalf("Status=%s, want %s", got, want)
	}
	if got, want := ev.EndReason, "completed: "+bolna.VoicemailEndReason; got != want {
		t.Fatalf("EndReason=%q, want %q", got, want)
	}
	if ev.Duration == nil || ev.Duration.String() != "123" || ev.Cost.String() != "1.23" {
		t.Fatalf("duration=%v cost=%v, want conversation_time 123 and 123 cents", ev.Duration, ev.Cost)
	}
	body := []byte(`{"id":"e1","status":"completed","conversation_duration":30,"answered_by_voice_mail":false}`)
	if ev := mustParse(t, body); ev.Status != ringfence.StatusCompleted {
		t.Fatalf("answered_by_voice_mail false: Status=%s, want completed", ev.Status)
	}
	body = []byte(`{"id":"e1","status":"call-disconnected","answered_by_voice_mail":true}`)
	if ev := mustParse(t, body); ev.Status != ringfence.StatusEnded {
		t.Fatalf("voicemail before the final report: Status=%s, want ended", ev.Status)
	}
}

// The fields whose JSON type has varied are read in each form: ids as strings or integers,
// timestamps with or without a zone or as epoch numbers, costs and durations as numbers or
// numeric strings.
func TestParseWebhookFieldForms(t *testing.T) {
	tests := []struct {
		body, id, version, cost, duration string
	}{
		{`{"id":"e1","status":"completed","updated_at":"2026-11-21T04:19:08.672994","total_cost":12.71,"conversation_duration":68.4}`,
			"e1", "2026-11-21T04:19:08.672994000Z", "0.1271", "68.4"},
		{`{"id":7432382142914,"status":"completed","updated_at":"2026-11-21T04:19:08.672994Z","total_cost":"12.71","conversation_duration":"68.4"}`,
			"7432382142914", "2026-11-21T04:19:08.672994000Z", "0.1271", "68.4"},
		{`{"id":"e1","status":"completed","updated_at":"2026-11-21T09:49:08.672994+05:30","total_cost":1271e-2,"conversation_time":68.4}`,
			"e1", "2026-11-21T04:19:08.672994000Z", "0.1271", "68.4"},
		{`{"id":"e1","status":"completed","updated_at":1795234748672,"total_cost":12.71,"conversation_duration":68.4}`,
			"e1", "2026-11-21T04:19:08.672000000Z", "0.1271", "68.4"},
		{`{"id":"e1","status":"completed","updated_at":"1795234748","total_cost":12.71,"conversation_duration":68.4}`,
			"e1", "2026-11-21T04:19:08.000000000Z", "0.1271", "68.4"},
	}
	ex, _, err := bolna.ParseWebhookExecution([]byte(`{"id":1,"agent_id":42,"status":"queued"}`))
	if err != nil || ex.AgentID != "42" {
		t.Fatalf("integer agent_id read as %q (%v), want 42", ex.AgentID, err)
	}
	for _, tt := range tests {
		ev := mustParse(t, []byte(tt.body))
		if ev.ProviderCallID != tt.id || ev.Version != tt.version || ev.Cost.String() != tt.cost || ev.Duration.String() != tt.duration {
			t.Fatalf("%s: id=%s version=%s cost=%s duration=%s, want %s %s %s %s",
				tt.body, ev.ProviderCallID, ev.Version, ev.Cost, ev.Duration, tt.id, tt.version, tt.cost, tt.duration)
		}
	}
}

// usedFields are the paths of the execution object the adapter reads; every other field of every
// fixture is turned into every other JSON type, and the parse must come out the same.
var usedFields = []string{
	"id", "agent_id", "status", "updated_at", "conversation_duration", "conversation_time", "total_cost",
	"answered_by_voice_mail", "transcript", "extracted_data", "user_number", "agent_number",
	"telephony_data.recording_url", "telephony_data.to_number", "telephony_data.from_number",
	"telephony_data.hangup_reason", "telephony_data.call_type", "context_details.recipient_data." + bolna.CallIDVariable,
}

func TestUnusedFieldsNeverChangeTheParse(t *testing.T) {
	fixtures, _ := filepath.Glob(filepath.Join("testdata", "execution-*.json")) // Execution objects, from webhooks and from GET /executions/{id}.
	if len(fixtures) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range fixtures {
		name := filepath.Base(f)
		doc := testio.MustReadFixture(t, name)
		// The variants are re-encoded, which sorts object keys; the fixture is compared in the
		// same encoding.
		wantEx, wantEv, err := bolna.ParseWebhookExecution(testio.MustReencode(t, doc))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		variants := testio.UnusedFieldVariants(t, doc, usedFields)
		if len(variants) == 0 {
			t.Fatalf("%s: no unused fields to vary", name)
		}
		for _, v := range variants {
			ex, ev, err := bolna.ParseWebhookExecution(v.Body)
			if err != nil {
				t.Fatalf("%s with %s changed: %v\n%s", name, v.Path, err, v.Body)
			}
			if !reflect.DeepEqual(ev, wantEv) || !reflect.DeepEqual(inbound(ex), inbound(wantEx)) {
				t.Fatalf("%s with %s changed: event %+v, want %+v", name, v.Path, ev, wantEv)
			}
		}
	}
}

func inbound(ex bolna.Execution) [3]any {
	ours, caller, ok := ex.Inbound()
	return [3]any{ours, caller, ok}
}

func mustParse(t *testing.T, body []byte) ringfence.CallEvent {
	t.Helper()
	ev, err := bolna.ParseWebhook(body)
	if err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return ev
}

func TestInboundExecution(t *testing.T) {
	ex, ev, err := bolna.ParseWebhookExecution(testio.MustReadFixture(t, "execution-inbound.json"))
	if err != nil {
		t.Fatal(err)
	}
	ours, caller, inbound := ex.Inbound()
	if !inbound || ours != "+14155550100" || caller != "+917073122016" || ev.CallID != "" {
		t.Fatalf("inbound=%v ours=%s caller=%s call id=%q", inbound, ours, caller, ev.CallID)
	}
	if _, _, inbound := mustExecution(t, "execution-completed.json").Inbound(); inbound {
		t.Fatal("an outbound execution reads as inbound")
	}
}

func mustExecution(t *testing.T, name string) bolna.Execution {
	ex, _, err := bolna.ParseWebhookExecution(testio.MustReadFixture(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return ex
}
