package retell_test

import (
	"encoding/json"
	"testing"

	"github.com/ringfence/ringfence/infra/testio"
	"github.com/ringfence/ringfence/shared/retell"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// Retell's chat agents send chat_started, chat_ended, chat_analyzed and chat_inbound to the same
// webhook: each is read as a chat event, needing no call, so it can be acknowledged.
func TestChatEventsNeedNoCall(t *testing.T) {
	for _, name := range []string{"chat-started.json", "chat-ended.json", "chat-analyzed.json", "chat-inbound.json"} {
		w, err := retell.ParseWebhook(testio.MustReadFixture(t, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !retell.IsChatEvent(w.Event) || w.Call != nil {
			t.Fatalf("%s: event %q read as a call event", name, w.Event)
		}
	}
	if retell.IsChatEvent(retell.EventCallEnded) {
		t.Fatal("call_ended read as a chat event")
	}
}

// inactivity and error_no_audio_received say how a call ended but not whether anyone answered:
// the transcript says it. Retell's own example, where the user speaks, is a finished
// conversation; the same call with only the agent's turns reached nobody.
func TestSilentEndingsByWhatHappened(t *testing.T) {
	for _, tt := range []struct {
		fixture, reason string
		want            ringfence.CallStatus
	}{
		{"call-ended-inactivity.json", "inactivity", ringfence.StatusNoAnswer},
		{"call-ended-inactivity.json", "error_no_audio_received", ringfence.StatusNoAnswer},
		{"call-ended.json", "inactivity", ringfence.StatusCompleted},
		{"call-ended.json", "error_no_audio_received", ringfence.StatusCompleted},
	} {
		var body map[string]any
		if err := json.Unmarshal(testio.MustReadFixture(t, tt.fixture), &body); err != nil {
			t.Fatal(err)
		}
		body["call"].(map[string]any)["disconnection_reason"] = tt.reason
		b, _ := json.Marshal(body)
		w, err := retell.ParseWebhook(b)
		if err != nil {
			t.Fatal(err)
		}
		if ev, err := w.CallEvent(); err != nil || ev.Status != tt.want {
			t.Fatalf("%s with %s: event=%+v err=%v, want %s", tt.fixture, tt.reason, ev, err, tt.want)
		}
	}
}

// A text field of the call object in another JSON type reads as absent, never failing the
// delivery: the outcome and cost are kept.
func TestCallTextFieldsOfAnotherType(t *testing.T) {
	for _, field := range []string{"transcript", "recording_url", "from_number", "to_number", "direction", "call_status"} {
		var body map[string]any
		if err := json.Unmarshal(testio.MustReadFixture(t, "call-ended.json"), &body); err != nil {
			t.Fatal(err)
		}
		body["call"].(map[string]any)[field] = map[string]any{"unexpected": true}
		b, _ := json.Marshal(body)
		w, err := retell.ParseWebhook(b)
		if err != nil {
			t.Fatalf("%s an object: %v", field, err)
		}
		if ev, err := w.CallEvent(); err != nil || ev.Status != ringfence.StatusCompleted || ev.Cost.String() != "0.7" {
			t.Fatalf("%s an object: event=%+v err=%v, want completed at 0.7", field, ev, err)
		}
	}
}
