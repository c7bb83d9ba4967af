package bolna_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ringfence/ringfence/infra/testio"
	"github.com/ringfence/ringfence/shared/bolna"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// extracted_data sent as a string of JSON (as some agents' extraction prompts produce it) is read
// as the object it holds; the outcome and cost are read as from the object form.
func TestExtractedDataAsJSONString(t *testing.T) {
	ev, err := bolna.ParseWebhook(testio.MustReadFixture(t, "execution-extracted-data-string.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ev.ExtractedData, `{"user_name":"Vivek","callback":"thursday"}`; got != want {
		t.Fatalf("ExtractedData=%s, want %s", got, want)
	}
	if ev.Status != ringfence.StatusCompleted || ev.Cost.String() != "0.1271" {
		t.Fatalf("status=%s cost=%s, want completed at 0.1271", ev.Status, ev.Cost)
	}
}

// An optional field ringfence keeps but cannot read in its expected type is dropped (extracted
// data that is prose or a list) or read as absent (a text that is an object): the delivery is
// never refused for it, and its outcome and cost are kept.
func TestOptionalFieldsOfAnotherTypeNeverFailTheDelivery(t *testing.T) {
	for name, edit := range map[string]func(ex map[string]any){
		"extracted_data prose":        func(ex map[string]any) { ex["extracted_data"] = "The caller wants a call on Thursday." },
		"extracted_data list":         func(ex map[string]any) { ex["extracted_data"] = []any{"thursday"} },
		"extracted_data number":       func(ex map[string]any) { ex["extracted_data"] = 3 },
		"extracted_data empty string": func(ex map[string]any) { ex["extracted_data"] = "" },
		"transcript an object":        func(ex map[string]any) { ex["transcript"] = map[string]any{"turns": []any{}} },
		"user_number a number":        func(ex map[string]any) { ex["user_number"] = 917073122016 },
		"recording_url a list": func(ex map[string]any) {
			ex["telephony_data"].(map[string]any)["recording_url"] = []any{"https://recordings.example.com/1.mp3"}
		},
		"hangup_reason an object": func(ex map[string]any) {
			ex["telephony_data"].(map[string]any)["hangup_reason"] = map[string]any{"code": 4000}
		},
		"total_cost a string": func(ex map[string]any) { ex["total_cost"] = "12.71" },
	} {
		var ex map[string]any
		if err := json.Unmarshal(testio.MustReadFixture(t, "execution-completed.json"), &ex); err != nil {
			t.Fatal(err)
		}
		edit(ex)
		b, _ := json.Marshal(ex)
		ev, err := bolna.ParseWebhook(b)
		if err != nil {
			t.Fatalf("%s: %v, want the delivery read", name, err)
		}
		if ev.Status != ringfence.StatusCompleted || ev.Cost == nil || ev.Cost.String() != "0.1271" {
			t.Fatalf("%s: status=%s cost=%v, want completed at 0.1271", name, ev.Status, ev.Cost)
		}
		if strings.HasPrefix(name, "extracted_data") && ev.ExtractedData != "" {
			t.Fatalf("%s: ExtractedData=%q, want it dropped", name, ev.ExtractedData)
		}
	}
}
