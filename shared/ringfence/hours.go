package ringfence

import "time"

// HourStats are the counters of one hour of a campaign's or an account's calls, as the charts
// show them. They are moved by the same write that ends a call (see HourMoveOf), so they are as
// exact as the campaign's totals, and a chart reads one item per hour, never the calls.
type HourStats struct {
	Hour time.Time // The start of the hour, UTC.
	// Ended counts calls (every attempt, not contacts) by the outcome they ended with.
	Ended map[CallStatus]int
	// Dialled counts the calls among them that reached the provider: the campaign's attempts.
	Dialled int
	Cost    Decimal // USD, every call's reported cost.
	// TalkSeconds sums the durations of the answered (completed) calls only, so that average
	// talk time is TalkSeconds over the answered calls, not diluted by unanswered rings.
	TalkSeconds Decimal
}

// Answered is the number of calls that ended completed: the callee picked up and talked.
func (h HourStats) Answered() int { return h.Ended[StatusCompleted] }

// EndedTotal is the number of calls that ended in the hour, whatever their outcome.
func (h HourStats) EndedTotal() int {
	n := 0
	for _, v := range h.Ended {
		n += v
	}
	return n
}

// Plus adds o's counts to h's.
func (h HourStats) Plus(o HourStats) HourStats {
	sum := HourStats{Hour: h.Hour, Ended: map[CallStatus]int{}, Dialled: h.Dialled + o.Dialled,
		Cost: h.Cost.Add(o.Cost), TalkSeconds: h.TalkSeconds.Add(o.TalkSeconds)}
	for k, v := range h.Ended {
		sum.Ended[k] += v
	}
	for k, v := range o.Ended {
		sum.Ended[k] += v
	}
	return sum
}

// HourMove is what one call update adds to the hour its call ended in. Every field is a
// difference, so applying it once per written update keeps the hour equal to the sum of its calls.
type HourMove struct {
	Hour        time.Time
	Ended       map[CallStatus]int
	Dialled     int
	Cost        Decimal
	TalkSeconds Decimal
}

// IsZero reports whether the move changes nothing.
func (m HourMove) IsZero() bool {
	for _, v := range m.Ended {
		if v != 0 {
			return false
		}
	}
	return m.Dialled == 0 && m.Cost.IsZero() && m.TalkSeconds.IsZero()
}

// HourMoveOf decides what update u of call c moves in the hour the call ended: its first terminal
// transition counts it (in the hour of now), a correction moves it from one outcome to another,
// and a report moves cost and talk time by exactly the difference from what was counted, in the
// hour the call ended, however late the report comes.
func HourMoveOf(c Call, u CallUpdate, now time.Time) HourMove {
	m := HourMove{Hour: c.EndedAt, Ended: map[CallStatus]int{}, Cost: u.CostDelta}
	if u.Terminal {
		m.Hour = now
		m.Ended[u.Status]++
		if !c.DialStartedAt.IsZero() {
			m.Dialled = 1
		}
	}
	if m.Hour.IsZero() {
		m.Hour = c.UpdatedAt // A call that ended before ended_at was kept; its last change is its end.
	}
	m.Hour = m.Hour.UTC().Truncate(time.Hour)
	outcome, duration := c.Outcome, c.Duration
	if u.Correction && u.PreviousOutcome != u.Status {
		m.Ended[u.PreviousOutcome]--
		m.Ended[u.Status]++
	}
	if u.Terminal || u.Correction {
		outcome = u.Status
	}
	if u.Report && u.Duration != nil {
		duration = u.Duration
	}
	m.TalkSeconds = talkSeconds(outcome, duration).Sub(talkSeconds(c.Outcome, c.Duration))
	return m
}

// talkSeconds is what a call adds to talk time: its duration if it was answered.
func talkSeconds(outcome CallStatus, duration *Decimal) Decimal {
	if outcome != StatusCompleted || duration == nil {
		return Decimal{}
	}
	return *duration
}
