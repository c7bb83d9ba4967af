package ringfence_test

import (
	"testing"
	"time"

	"github.com/ringfence/ringfence/shared/ringfence"
)

// HourMoveOf moves an hour by differences only: replaying every update of a call in order leaves
// the hour holding exactly the call as it ends up, whatever order its news came in.
func TestHourMoveOfSumsToTheCallAsItEnds(t *testing.T) {
	ended := time.Date(2026, 3, 2, 10, 20, 0, 0, time.UTC)
	later := ended.Add(2 * time.Hour)
	dialled := ended.Add(-time.Minute)
	tests := []struct {
		name   string
		events []ringfence.CallEvent
		// What the call's hour (10:00) holds at the end.
		outcome ringfence.CallStatus
		cost    string
		talk    string
	}{
		{"answered, report with the end", []ringfence.CallEvent{
			{Status: ringfence.StatusCompleted, Cost: dec("0.10"), Duration: dec("30"), Version: "1"},
		}, ringfence.StatusCompleted, "0.1", "30"},
		{"a later report moves cost and talk by the difference", []ringfence.CallEvent{
			{Status: ringfence.StatusCompleted, Cost: dec("0.10"), Duration: dec("30"), Version: "1"},
			{Status: ringfence.StatusCompleted, Cost: dec("0.25"), Duration: dec("41"), Version: "2"},
		}, ringfence.StatusCompleted, "0.25", "41"},
		{"an unanswered call's ringing is not talk", []ringfence.CallEvent{
			{Status: ringfence.StatusNoAnswer, Cost: dec("0.01"), Duration: dec("12"), Version: "1"},
		}, ringfence.StatusNoAnswer, "0.01", "0"},
		{"the sweep's end corrected by the provider's report", []ringfence.CallEvent{
			{Status: ringfence.StatusFailed, EndReason: ringfence.EndReasonStale, Sweep: true, SeenActivity: "a"},
			{Status: ringfence.StatusCompleted, Cost: dec("0.30"), Duration: dec("50"), Version: "1"},
		}, ringfence.StatusCompleted, "0.3", "50"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ringfence.Call{ID: "call_1", Status: ringfence.StatusInProgress, DialStartedAt: dialled, LastActivity: "a"}
			hour := ringfence.HourStats{Ended: map[ringfence.CallStatus]int{}}
			now := ended
			for _, ev := range tt.events {
				u := ringfence.PlanCallUpdate(c, ev)
				m := ringfence.HourMoveOf(c, u, now)
				if got, want := m.Hour, ended.Truncate(time.Hour); !got.Equal(want) {
					t.Fatalf("the move goes to the hour %v, want %v (the call's end)", got, want)
				}
				hour = hour.Plus(ringfence.HourStats{Ended: m.Ended, Dialled: m.Dialled, Cost: m.Cost, TalkSeconds: m.TalkSeconds})
				c = applied(c, u, now)
				now = later
			}
			if hour.EndedTotal() != 1 || hour.Ended[tt.outcome] != 1 || hour.Dialled != 1 {
				t.Fatalf("hour ended=%v dialled=%d, want one %s, dialled", hour.Ended, hour.Dialled, tt.outcome)
			}
			if hour.Cost.String() != tt.cost || hour.TalkSeconds.String() != tt.talk {
				t.Fatalf("hour cost=%s talk=%s, want %s and %s", hour.Cost, hour.TalkSeconds, tt.cost, tt.talk)
			}
		})
	}
}

// applied is the call as the store leaves it after writing u at now.
func applied(c ringfence.Call, u ringfence.CallUpdate, now time.Time) ringfence.Call {
	if u.Terminal {
		c.Status, c.Outcome, c.EndedAt, c.EndedStale = u.Status, u.Status, now, u.Stale
	}
	if u.Correction {
		c.Status, c.Outcome, c.EndedStale = u.Status, u.Status, false
	}
	if u.Report {
		if u.Cost != nil {
			c.Cost = u.Cost
		}
		if u.Duration != nil {
			c.Duration = u.Duration
		}
		c.ReportAt = u.ReportAt
	}
	return c
}
