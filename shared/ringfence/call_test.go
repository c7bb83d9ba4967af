package ringfence_test

import (
	"testing"

	"github.com/ringfence/ringfence/shared/ringfence"
)

func dec(s string) *ringfence.Decimal {
	d := ringfence.MustParseDecimal(s)
	return &d
}

func TestPlanCallUpdate(t *testing.T) {
	ended := ringfence.Call{Status: ringfence.StatusCompleted, Outcome: ringfence.StatusCompleted, Cost: dec("0.10"), ReportAt: "v2", Transcript: "hello there", RecordingURL: "https://r/1"}
	swept := ringfence.Call{Status: ringfence.StatusFailed, Outcome: ringfence.StatusFailed, EndReason: ringfence.EndReasonStale, EndedStale: true}
	tests := []struct {
		name   string
		call   ringfence.Call
		event  ringfence.CallEvent
		result ringfence.ApplyResult
		check  func(t *testing.T, u ringfence.CallUpdate)
	}{
		{"forward status", ringfence.Call{Status: ringfence.StatusInitiated}, ringfence.CallEvent{Status: ringfence.StatusRinging}, ringfence.ResultAdvanced, nil},
		{"late ringing after completed", ended, ringfence.CallEvent{Status: ringfence.StatusRinging}, ringfence.ResultDuplicate, nil},
		{"second terminal status is ignored", ended, ringfence.CallEvent{Status: ringfence.StatusFailed}, ringfence.ResultDuplicate, nil},
		{"unknown status moves nothing", ringfence.Call{Status: ringfence.StatusRinging}, ringfence.CallEvent{Status: ""}, ringfence.ResultDuplicate, nil},
		{"first terminal counts its cost", ringfence.Call{Status: ringfence.StatusInProgress}, ringfence.CallEvent{Status: ringfence.StatusCompleted, Cost: dec("0.25"), Version: "v1"}, ringfence.ResultFirstTerminal,
			func(t *testing.T, u ringfence.CallUpdate) {
				if got, want := u.CostDelta.String(), "0.25"; got != want {
					t.Fatalf("CostDelta=%s, want %s", got, want)
				}
			}},
		{"newer report moves cost by the difference", ended, ringfence.CallEvent{Status: ringfence.StatusCompleted, Cost: dec("0.13"), Version: "v3"}, ringfence.ResultMerged,
			func(t *testing.T, u ringfence.CallUpdate) {
				if got, want := u.CostDelta.String(), "0.03"; got != want {
					t.Fatalf("CostDelta=%s, want %s", got, want)
				}
			}},
		{"sweep ends a call still as it saw it", ringfence.Call{Status: ringfence.StatusRinging, LastActivity: "t1"}, ringfence.CallEvent{Status: ringfence.StatusFailed, Sweep: true, SeenActivity: "t1"}, ringfence.ResultFirstTerminal,
			func(t *testing.T, u ringfence.CallUpdate) {
				if !u.Stale || u.Activity != "t1" {
					t.Fatalf("Stale=%v Activity=%q, want a stale end conditioned on t1", u.Stale, u.Activity)
				}
			}},
		{"sweep stands down once the call moved", ringfence.Call{Status: ringfence.StatusInProgress, LastActivity: "t2"}, ringfence.CallEvent{Status: ringfence.StatusFailed, Sweep: true, SeenActivity: "t1"}, ringfence.ResultDuplicate, nil},
		{"provider's end after the sweep's corrects it", swept, ringfence.CallEvent{Status: ringfence.StatusCompleted}, ringfence.ResultCorrected, nil},
		{"late ringing after the sweep's end is no correction", swept, ringfence.CallEvent{Status: ringfence.StatusRinging}, ringfence.ResultDuplicate, nil},
		{"sweep without what it saw decides nothing", ringfence.Call{Status: ringfence.StatusRinging, LastActivity: "t1"}, ringfence.CallEvent{Status: ringfence.StatusFailed, Sweep: true}, ringfence.ResultDuplicate, nil},
		{"older report is ignored", ended, ringfence.CallEvent{Status: ringfence.StatusCompleted, Cost: dec("0.5"), Version: "v1"}, ringfence.ResultDuplicate, nil},
		{"the same report again is a duplicate", ended, ringfence.CallEvent{Status: ringfence.StatusCompleted, Cost: dec("0.10"), Version: "v2"}, ringfence.ResultDuplicate, nil},
		{"the same extracted data again is a duplicate", ringfence.Call{Status: ringfence.StatusCompleted, ExtractedData: `{"a":1}`, ExtractedAt: "v2"}, ringfence.CallEvent{Status: ringfence.StatusCompleted, ExtractedData: `{"a":1}`, Version: "v2"}, ringfence.ResultDuplicate, nil},
		{"report without version does not replace one", ended, ringfence.CallEvent{Status: ringfence.StatusCompleted, Cost: dec("0.5")}, ringfence.ResultDuplicate, nil},
		{"non-terminal cost is not a report", ringfence.Call{Status: ringfence.StatusInitiated}, ringfence.CallEvent{Status: ringfence.StatusRinging, Cost: dec("9"), Version: "v9"}, ringfence.ResultAdvanced,
			func(t *testing.T, u ringfence.CallUpdate) {
				if u.Report {
					t.Fatal("a ringing event planned a cost report")
				}
			}},
		{"shorter transcript is ignored", ended, ringfence.CallEvent{Status: ringfence.StatusCompleted, Transcript: "hi"}, ringfence.ResultDuplicate, nil},
		{"longer transcript merges", ended, ringfence.CallEvent{Status: ringfence.StatusCompleted, Transcript: "hello there, how are you"}, ringfence.ResultMerged, nil},
		{"recording only where absent", ended, ringfence.CallEvent{Status: ringfence.StatusCompleted, RecordingURL: "https://r/2"}, ringfence.ResultDuplicate, nil},
		{"extracted data where absent", ended, ringfence.CallEvent{Status: ringfence.StatusCompleted, ExtractedData: `{"a":1}`}, ringfence.ResultMerged, nil},
	}
	for _, tt := range tests {
		u := ringfence.PlanCallUpdate(tt.call, tt.event)
		if got := u.Result(); got != tt.result {
			t.Fatalf("%s: result=%s, want %s (%+v)", tt.name, got, tt.result, u)
		}
		if tt.check != nil {
			tt.check(t, u)
		}
	}
}

func TestStatusRanksOnlyMoveForward(t *testing.T) {
	order := []ringfence.CallStatus{ringfence.StatusQueued, ringfence.StatusInitiated, ringfence.StatusRinging, ringfence.StatusInProgress, ringfence.StatusEnded, ringfence.StatusCompleted}
	for i := 1; i < len(order); i++ {
		if order[i-1].Rank() >= order[i].Rank() {
			t.Fatalf("rank(%s)=%d is not below rank(%s)=%d", order[i-1], order[i-1].Rank(), order[i], order[i].Rank())
		}
	}
	for _, o := range ringfence.Outcomes {
		if !o.IsTerminal() {
			t.Fatalf("%s is not terminal", o)
		}
	}
}

func TestParseRescheduleDay(t *testing.T) {
	good := map[string]string{"Monday": "monday", " thu ": "thursday", "2026-12-01": "2026-12-01", "SUNDAY": "sunday"}
	for in, want := range good {
		got, err := ringfence.ParseRescheduleDay(in)
		if err != nil || got != want {
			t.Fatalf("ParseRescheduleDay(%q)=%q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "someday", "2026-13-01", "mon day"} {
		if _, err := ringfence.ParseRescheduleDay(in); err == nil {
			t.Fatalf("ParseRescheduleDay(%q) succeeded, want an error", in)
		}
	}
}
