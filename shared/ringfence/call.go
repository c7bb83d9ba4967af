package ringfence

import (
	"strings"
	"time"
)

// Provider names a voice-AI provider.
type Provider string

// The providers ringfence speaks.
const (
	ProviderBolna  Provider = "bolna"
	ProviderVapi   Provider = "vapi"
	ProviderRetell Provider = "retell"
)

// ParseProvider validates a provider name from outside.
func ParseProvider(s string) (Provider, error) {
	switch p := Provider(strings.ToLower(strings.TrimSpace(s))); p {
	case ProviderBolna, ProviderVapi, ProviderRetell:
		return p, nil
	}
	return "", Errorf(EINVALID, "provider %s is not one of bolna, vapi, retell", Excerpt(s))
}

// CallStatus is ringfence's own status of a call, the same whichever provider places it.
type CallStatus string

// The statuses, in the order a call moves through them. The five terminal statuses are also the
// outcomes a campaign counts.
const (
	StatusQueued     CallStatus = "queued"      // Waiting for a concurrency slot.
	StatusDialing    CallStatus = "dialing"     // Holds a slot; the provider is being asked to place it.
	StatusInitiated  CallStatus = "initiated"   // Accepted by the provider, dialling.
	StatusRinging    CallStatus = "ringing"     // The callee's phone rings.
	StatusInProgress CallStatus = "in-progress" // Answered; the conversation runs.
	StatusEnded      CallStatus = "ended"       // The line dropped; the provider's final report is pending.

	StatusCompleted CallStatus = "completed"
	StatusNoAnswer  CallStatus = "no-answer"
	StatusBusy      CallStatus = "busy"
	StatusFailed    CallStatus = "failed"
	StatusCancelled CallStatus = "cancelled"
	// StatusSkipped ends a call that was never dialled because its number is suppressed.
	StatusSkipped CallStatus = "skipped"
	// StatusExpired ends a campaign call that was not dialled before the campaign's end_at.
	StatusExpired CallStatus = "expired"
)

// TerminalRank is the rank shared by all terminal statuses: once a call has one, no status moves it.
const TerminalRank = 100

// Rank orders statuses so that a late "ringing" after "completed" changes nothing. The store
// keeps it on the call as a number, so "only forward" is a DynamoDB condition, not a comparison
// in code.
func (s CallStatus) Rank() int {
	switch s {
	case StatusQueued:
		return 10
	case StatusDialing:
		return 15
	case StatusInitiated:
		return 20
	case StatusRinging:
		return 30
	case StatusInProgress:
		return 40
	case StatusEnded:
		return 50
	case StatusCompleted, StatusNoAnswer, StatusBusy, StatusFailed, StatusCancelled, StatusSkipped, StatusExpired:
		return TerminalRank
	}
	return 0
}

// IsTerminal reports whether the status ends the call.
func (s CallStatus) IsTerminal() bool { return s.Rank() == TerminalRank }

// Outcomes lists the terminal statuses in the order the API shows them.
var Outcomes = []CallStatus{StatusCompleted, StatusNoAnswer, StatusBusy, StatusFailed, StatusCancelled}

// Call is one call placed (or to be placed) through a provider.
type Call struct {
	// Held says why a waiting call is held back (HoldContactFrequency), and HeldUntil when it
	// may go; RespectFrequency makes a direct call wait for the contact frequency cap.
	Held             string
	HeldUntil        time.Time
	RespectFrequency bool
	ID               string
	AccountID        string
	CampaignID       string // Empty for direct and scheduled calls.
	ContactID        string // Empty for direct calls.
	Provider         Provider
	ProviderCallID   string // The provider's execution or call id, once the provider answered.
	Status           CallStatus
	Outcome          CallStatus // Set once, by the first terminal transition.
	EndReason        string     // The provider's own word for how the call ended.
	Cost             *Decimal   // USD; nil until a terminal report carried one.
	Duration         *Decimal   // Seconds.
	ReportAt         string     // Version (provider timestamp) of Cost and Duration.
	Transcript       string
	// TranscriptLength is the transcript's length in bytes as the provider sent it: more than
	// len(Transcript) when what is kept was cut to fit the call's item; 0 for a call stored
	// before the length was kept, whose transcript is whole.
	TranscriptLength int
	RecordingURL     string
	ExtractedData    string // Raw JSON object, as the provider sent it.
	ExtractedAt      string // Version (provider timestamp) of ExtractedData.
	RescheduleDay    string // Written only by the reschedule tool.
	// RescheduleUnparsed is true when RescheduleDay holds the caller's words, not a day.
	RescheduleUnparsed bool
	// SlotKind is the kind of concurrency slot the call holds ("" when it holds none). The slot is
	// taken and given back in the same transactions that set and remove this attribute.
	SlotKind SlotKind
	// QueueKey is the sort key of the call's queue entry while it waits for a slot.
	QueueKey      string
	DialStartedAt time.Time
	DialError     string            // Why the provider's answer to the dial is unknown or negative.
	Variables     map[string]string // Passed to the agent (a campaign contact's extra fields, a direct call's metadata).
	// LastActivity is when the call last moved (created, dialled, a status change), as stored; ""
	// once the call is terminal. The stale-call sweep ends calls whose activity is too old.
	LastActivity string
	// History lists what happened to the call, one timestamped line per change, written by the
	// same writes that made the changes.
	History []string
	// Schedule is set on the scheduled (welcome and daily) calls: which customer's call of which
	// type on which local date this attempt places.
	Schedule *ScheduledCall
	// EndedStale is true while the call's terminal status came from the sweep rather than the
	// provider: the provider's own late report may then correct it, once.
	EndedStale bool
	ToNumber   string
	FromNumber string
	AgentID    string
	Direction  Direction
	// Attempt is a campaign call's attempt number for its contact (from 1), and Retry the
	// campaign's retry policy, copied onto the call so that its terminal transition can queue the
	// next attempt without reading the campaign.
	Attempt   int
	Retry     *RetryPolicy
	RetriedAs string        // The id of the attempt that followed this one, if any.
	Hours     *CallingHours // A campaign call's calling hours, the contact's own zone applied.
	// BusyRefusals counts the dials of this call the provider refused for its own limit.
	BusyRefusals int
	// Context is set on inbound calls, in the same write that creates the call.
	Context   CallContext
	CreatedAt time.Time
	UpdatedAt time.Time
	EndedAt   time.Time // Set by the first terminal transition.
}

// CallEvent is what a provider reported about a call, translated by that provider's adapter into
// provider-agnostic terms.
type CallEvent struct {
	Provider       Provider
	ProviderCallID string
	CallID         string // ringfence's call id, when the provider echoed it from the call's metadata.
	Status         CallStatus
	EndReason      string
	// Version orders deliveries of the same call: the provider's own timestamp of the data,
	// normalised by Version(). Data from an older delivery never replaces newer data.
	Version    string
	Cost       *Decimal
	Duration   *Decimal
	Transcript string
	// TranscriptLength is the transcript's length in bytes as the provider sent it, set by
	// Validate when Transcript holds only its beginning (0 when it is whole).
	TranscriptLength int
	RecordingURL     string
	ExtractedData    string
	// Notes says what Validate dropped or cut from the event to keep the rest, for the logs.
	Notes []string
	// AtCapacity is true when the provider ended the call because the account's concurrency or
	// rate limit at the provider was reached, not because of anything about the callee: such a
	// call can be placed again later without spending one of the contact's attempts.
	AtCapacity bool
	// Sweep marks the stale-call sweep's own event: it applies only while the call's activity is
	// still the one the sweep saw, so a webhook that arrives meanwhile wins.
	Sweep bool
	// SeenActivity is, on the sweep's event, the call's LastActivity that the sweep judged stale.
	// The sweep's decision holds only for that activity: once the call has moved, the decision is
	// void, however often the write is planned again.
	SeenActivity string
}

// EndReasonStale is the end reason of a call the sweep ended because nothing was heard of it.
const EndReasonStale = "stale"

// Version turns a provider timestamp into a string that sorts in time order, so the store can
// compare versions in a condition expression.
func Version(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000000Z")
}

// CallUpdate is what applying one event to a call changes. PlanCallUpdate decides it from the call
// as read; the store writes it under conditions that hold only while the call is still as read, so
// a concurrent delivery that got there first turns this write into a no-op and a re-read.
type CallUpdate struct {
	// Status is the new status, or "" when the event does not move the call forward.
	Status CallStatus
	// Terminal is true for the call's first terminal transition, the one that counts.
	Terminal  bool
	EndReason string
	// Stale is true when the terminal transition is the sweep's; Activity is the call's activity
	// the sweep saw, which must still be the stored one.
	Stale    bool
	Activity string
	// Correction is true when the provider's real end replaces the sweep's "stale" end: the call's
	// outcome moves from PreviousOutcome to Status, once, and the campaign's counts with it.
	Correction      bool
	PreviousOutcome CallStatus
	// AtCapacity is true when the provider ended the call for its own concurrency limit: a
	// campaign's contact is then called again, without spending an attempt.
	AtCapacity bool

	// Transcript is set when the event's transcript is longer than the stored one, compared by
	// the lengths the provider sent, so a cut transcript gives way only to a longer original.
	// TranscriptLength is that original length; the store may cut Transcript further to fit.
	Transcript       string
	TranscriptLength int
	// RecordingURL is set when the call has none yet.
	RecordingURL string
	// ExtractedData is set when the event's data is newer than the stored data.
	ExtractedData string
	ExtractedAt   string

	// Report is true when the event's end-of-call report (cost, duration) is newer than the
	// stored one. Reports are taken only from terminal events: a call's cost is known at its end.
	Report   bool
	Cost     *Decimal
	Duration *Decimal
	ReportAt string
	// CostDelta is what the call's campaign total moves by: the new cost minus the cost already
	// counted, so a changed cost moves the total by exactly the difference.
	CostDelta Decimal
}

// IsEmpty reports whether the update changes nothing, as for a duplicate delivery.
func (u CallUpdate) IsEmpty() bool {
	return u.Status == "" && !u.Correction && u.Transcript == "" && u.RecordingURL == "" && u.ExtractedData == "" && !u.Report
}

// PlanCallUpdate decides what ev changes on call c: statuses only move forward, and data merges
// in only when it is better (present where absent, longer, newer).
func PlanCallUpdate(c Call, ev CallEvent) CallUpdate {
	var u CallUpdate
	if ev.Sweep {
		// The sweep only ever ends a call that is not over yet, and brings no data. Its decision
		// was made on the activity it saw; if the call has moved since (a webhook arrived), the
		// decision no longer holds and the sweep stands down, however often it re-reads the call.
		if !c.Status.IsTerminal() && ev.Status.IsTerminal() && ev.SeenActivity != "" && c.LastActivity == ev.SeenActivity {
			u.Status, u.Terminal, u.EndReason = ev.Status, true, ev.EndReason
			u.Stale, u.Activity = true, ev.SeenActivity
		}
		return u
	}
	if ev.Status.Rank() > c.Status.Rank() {
		u.Status = ev.Status
		u.Terminal = ev.Status.IsTerminal()
		u.EndReason = ev.EndReason
		u.AtCapacity = u.Terminal && ev.AtCapacity
	}
	if c.EndedStale && ev.Status.IsTerminal() {
		// The provider's own end arrived after the sweep gave up on the call: it is the truth.
		u.Status, u.Correction, u.PreviousOutcome, u.EndReason = ev.Status, true, c.Outcome, ev.EndReason
	}
	if ev.FullTranscriptLength() > c.FullTranscriptLength() {
		u.Transcript, u.TranscriptLength = ev.Transcript, ev.FullTranscriptLength()
	}
	if ev.RecordingURL != "" && c.RecordingURL == "" {
		u.RecordingURL = ev.RecordingURL
	}
	if ev.ExtractedData != "" && isNewer(ev.Version, c.ExtractedAt, c.ExtractedData != "") {
		u.ExtractedData, u.ExtractedAt = ev.ExtractedData, ev.Version
	}
	hasReport := c.Cost != nil || c.Duration != nil
	if ev.Status.IsTerminal() && (ev.Cost != nil || ev.Duration != nil) && isNewer(ev.Version, c.ReportAt, hasReport) {
		u.Report, u.Cost, u.Duration, u.ReportAt = true, ev.Cost, ev.Duration, ev.Version
		if ev.Cost != nil {
			var counted Decimal
			if c.Cost != nil {
				counted = *c.Cost
			}
			u.CostDelta = ev.Cost.Sub(counted)
		}
	}
	return u
}

// FullTranscriptLength is the length in bytes of the call's transcript as the provider sent it,
// whether or not what is kept was cut.
func (c Call) FullTranscriptLength() int { return max(c.TranscriptLength, len(c.Transcript)) }

// TranscriptCut reports whether the call keeps only the beginning of its transcript.
func (c Call) TranscriptCut() bool { return c.FullTranscriptLength() > len(c.Transcript) }

// FullTranscriptLength is the length in bytes of the event's transcript as the provider sent it.
func (ev CallEvent) FullTranscriptLength() int { return max(ev.TranscriptLength, len(ev.Transcript)) }

// isNewer reports whether data at version v should replace data at version stored. Data without a
// version is accepted only where nothing is stored.
func isNewer(v, stored string, present bool) bool {
	if !present {
		return true
	}
	return v != "" && v > stored
}

// ApplyResult says what applying a provider event did, for the webhook's reply and the logs.
type ApplyResult string

// The results of applying an event.
const (
	ResultFirstTerminal ApplyResult = "first_terminal" // This delivery ended the call and counted it.
	ResultAdvanced      ApplyResult = "advanced"       // The call moved forward to a non-terminal status.
	ResultMerged        ApplyResult = "merged"         // Better data (transcript, cost, ...) was merged in.
	ResultDuplicate     ApplyResult = "duplicate"      // Nothing new: the delivery was absorbed.
	ResultCorrected     ApplyResult = "corrected"      // The provider's real end replaced the sweep's "stale" end.
)

// Result names what u does when written.
func (u CallUpdate) Result() ApplyResult {
	switch {
	case u.Correction:
		return ResultCorrected
	case u.Terminal:
		return ResultFirstTerminal
	case u.Status != "":
		return ResultAdvanced
	case u.IsEmpty():
		return ResultDuplicate
	}
	return ResultMerged
}
