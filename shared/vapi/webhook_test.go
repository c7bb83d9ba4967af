package vapi_test

import (
	"testing"

	"github.com/ringfence/ringfence/infra/testio"

	"github.com/ringfence/ringfence/shared/ringfence"
	"github.com/ringfence/ringfence/shared/vapi"
)

// The report's call object says "ringing"; the outcome comes from endedReason.
func TestEndOfCallReportWithStaleSnapshot(t *testing.T) {
	m, err := vapi.ParseMessage(testio.MustReadFixture(t, "end-of-call-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := m.Event()
	if err != nil {
		t.Fatal(err)
	}
	if ev.Status != ringfence.StatusCompleted || ev.CallID != "call_sch_cus_1_daily_20260101_a1" || ev.ProviderCallID != "2b1f2d1c-7c1e-4a57-9d7e-6e2f4b1c9a10" {
		t.Fatalf("event=%+v", ev)
	}
	if ev.Cost.String() != "0.1234" || ev.Duration.String() != "65.5" || ev.ExtractedData != `{"mood":"good"}` || ev.RecordingURL == "" || ev.Transcript == "" {
		t.Fatalf("report data: cost=%s duration=%s data=%s", ev.Cost, ev.Duration, ev.ExtractedData)
	}
}

func TestStatusUpdateEnded(t *testing.T) {
	m, err := vapi.ParseMessage(testio.MustReadFixture(t, "status-update-ended.json"))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := m.Event()
	if err != nil || ev.Status != ringfence.StatusBusy || ev.Cost != nil {
		t.Fatalf("event=%+v err=%v, want busy without a cost", ev, err)
	}
}

func TestToolCallArgumentsAsObjectOrString(t *testing.T) {
	for file, want := range map[string]map[string]string{
		"tool-calls-object.json": {"reschedule_day": "Friday"},
		"tool-calls-string.json": {"day": "monday"},
	} {
		m, err := vapi.ParseMessage(testio.MustReadFixture(t, file))
		if err != nil {
			t.Fatal(err)
		}
		calls := m.ToolCalls()
		if len(calls) != 1 || calls[0].Err != nil || calls[0].Name != "reschedule_lead" {
			t.Fatalf("%s: calls=%+v", file, calls)
		}
		for k, v := range want {
			if calls[0].Arguments[k] != v {
				t.Fatalf("%s: arguments=%v, want %s=%s", file, calls[0].Arguments, k, v)
			}
		}
	}
}
