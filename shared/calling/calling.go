// Package calling places calls through the providers and applies what the providers report about
// them. It decides nothing by comparing values it read: every decision is a conditional write in
// the store, and this package only chooses which write to attempt next.
package calling

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/metrics"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// Defaults are the settings of an account that sets none of its own.
type Defaults struct {
	DirectLimit   int
	CampaignLimit int
	// StaleAfter is how long a call may go without news from its provider before the sweep
	// asks the provider about it (default 5 minutes), and ends it as failed/stale only if the
	// provider has no record of it.
	StaleAfter time.Duration
	// DialTimeout is how long a dialled call may go without the provider's call id (default 2
	// minutes): past it, nothing will ever identify the call's webhooks, and the sweep ends it.
	DialTimeout time.Duration
	// MaxCallDuration is, per provider, the longest a call may run (default: the provider's own
	// maximum, DefaultMaxCallDuration). It matters only where the provider cannot be asked: a
	// quiet call is otherwise reconciled with its provider, which says whether it still runs.
	MaxCallDuration map[ringfence.Provider]time.Duration
	// ScheduleWindow is how far ahead the scheduler enqueues daily calls: its own interval
	// (default 15 minutes), so no call falls between two runs.
	ScheduleWindow time.Duration
}

func (d Defaults) withFallbacks() Defaults {
	if d.StaleAfter <= 0 {
		d.StaleAfter = 5 * time.Minute
	}
	if d.DialTimeout <= 0 {
		d.DialTimeout = 2 * time.Minute
	}
	if d.ScheduleWindow <= 0 {
		d.ScheduleWindow = 15 * time.Minute
	}
	return d
}

// Service places calls and applies provider events.
type Service struct {
	store    *dynamo.Store
	dialers  map[ringfence.Provider]ringfence.Dialer
	defaults Defaults
	log      *slog.Logger
	// Now is the clock of the scheduled jobs. Tests replace it to move time.
	Now func() time.Time
	// Metrics records dials, sweeps, slots and queues (nil records nothing).
	Metrics *metrics.Recorder
	// BusyBackoff is how long a call waits after a provider's first refusal for its own limit;
	// each further refusal of the call doubles it (default 5 seconds).
	BusyBackoff time.Duration
}

// New returns the service. dialers holds the providers that are configured; a call through any
// other provider is refused.
func New(store *dynamo.Store, dialers map[ringfence.Provider]ringfence.Dialer, defaults Defaults, log *slog.Logger) *Service {
	return &Service{store: store, dialers: dialers, defaults: defaults.withFallbacks(), log: log, Now: time.Now, BusyBackoff: 5 * time.Second}
}

// ResultParked is the result of an event whose call is not known yet; it is kept and applied
// when the provider's call id is recorded.
const ResultParked ringfence.ApplyResult = "parked"

// ResultKept is the result of an event that could not be applied because the store failed: it is
// kept, and the sweep applies it once the store answers again.
const ResultKept ringfence.ApplyResult = "kept"

// Keep keeps an authenticated, well-formed event whose application failed for a transient reason
// (the store answered EUNAVAILABLE or EINTERNAL), so that it is applied later by the sweep rather
// than depend on the provider retrying it. It is one conditional write; keeping the same event
// twice keeps it once.
func (s *Service) Keep(ctx context.Context, ev ringfence.CallEvent) error {
	// The event was validated when it was applied, but on the applier's copy: validating it
	// again here cuts what does not fit into a kept item.
	if err := ev.Validate(); err != nil {
		return err
	}
	return s.store.ParkEvent(ctx, ev)
}

// ApplyEvent applies a provider event to its call exactly once and returns the call as it was
// before (its id, account and campaign, for the logs) and what the event did. The call is found
// by ringfence's id when the provider echoed it, and otherwise by the provider's id. An event for
// a call not known yet is parked, not dropped. An event that fails the domain's checks (an id
// too long for a key, a cost or duration out of bounds, a recording URL that is not http(s)) is
// refused before anything is written, whichever adapter read it.
func (s *Service) ApplyEvent(ctx context.Context, ev ringfence.CallEvent) (ringfence.Call, ringfence.ApplyResult, error) {
	if err := ev.Validate(); err != nil {
		s.log.WarnContext(ctx, "provider event refused", "provider", ev.Provider, "reason", ringfence.ErrorMessage(err))
		return ringfence.Call{}, "", err
	}
	for _, note := range ev.Notes {
		s.log.WarnContext(ctx, "provider event kept in part", "provider", ev.Provider, "execution_id", ev.ProviderCallID, "note", note)
	}
	call, err := s.findCall(ctx, ev)
	if ringfence.ErrorCode(err) == ringfence.ENOTFOUND {
		id, result, err := s.park(ctx, ev)
		return ringfence.Call{ID: id}, result, err
	}
	if err != nil {
		return ringfence.Call{}, "", err
	}
	return s.applyFrom(ctx, call, ev)
}

// findCall resolves the event's call. When the event names ringfence's call, the call is read
// (strongly consistent) and returned whole, so applying the event need not read it again; when
// that call does not have the provider's id yet (the webhook outran the dial's answer), the id is
// recorded now. Otherwise only the call's id is known, from the provider's id.
func (s *Service) findCall(ctx context.Context, ev ringfence.CallEvent) (ringfence.Call, error) {
	if ev.CallID != "" {
		c, err := s.store.GetCall(ctx, ev.CallID)
		switch {
		case err == nil && c.Provider == ev.Provider && c.ProviderCallID == "" && ev.ProviderCallID != "":
			if err := s.store.RecordProviderCallID(ctx, c.ID, ev.ProviderCallID); err != nil {
				return c, err
			}
			return ringfence.Call{ID: c.ID}, nil
		case err == nil && c.Provider == ev.Provider && c.ProviderCallID == ev.ProviderCallID:
			return c, nil
		case err != nil && ringfence.ErrorCode(err) != ringfence.ENOTFOUND:
			return c, err
		}
		// The echoed id names no call of this provider call: trust the provider's own id.
		s.log.WarnContext(ctx, "event's call id does not match its provider call id", "provider", ev.Provider, "call_id", ev.CallID, "execution_id", ev.ProviderCallID)
	}
	if ev.ProviderCallID == "" {
		return ringfence.Call{}, ringfence.Errorf(ringfence.EINVALID, "the event names no call")
	}
	id, err := s.store.CallIDByProviderCallID(ctx, ev.Provider, ev.ProviderCallID)
	return ringfence.Call{ID: id}, err
}

// park keeps the event, then looks for the call once more: if the provider's id was recorded in
// the meantime, the recorder may have looked for parked events before this one was written, so
// the event is applied here. Applying it twice is harmless; losing it is not.
func (s *Service) park(ctx context.Context, ev ringfence.CallEvent) (string, ringfence.ApplyResult, error) {
	if err := s.store.ParkEvent(ctx, ev); err != nil {
		return "", "", err
	}
	callID, err := s.store.CallIDByProviderCallID(ctx, ev.Provider, ev.ProviderCallID)
	if ringfence.ErrorCode(err) == ringfence.ENOTFOUND {
		s.log.InfoContext(ctx, "event parked until its call is known", "provider", ev.Provider, "execution_id", ev.ProviderCallID, "event_status", ev.Status)
		return "", ResultParked, nil
	}
	if err != nil {
		return "", "", err
	}
	if err := s.applyParked(ctx, ev.Provider, ev.ProviderCallID, callID); err != nil {
		return "", "", err
	}
	return callID, ringfence.ResultMerged, nil
}

// apply applies the event and, when it ended a call that held a slot, dials the next call waiting
// for that slot.
func (s *Service) apply(ctx context.Context, callID string, ev ringfence.CallEvent) (string, ringfence.ApplyResult, error) {
	_, result, err := s.applyFrom(ctx, ringfence.Call{ID: callID}, ev)
	return callID, result, err
}

// applyFrom is apply for a call just read whole (or known only by its ID). It returns the call as
// it was before the event.
func (s *Service) applyFrom(ctx context.Context, read ringfence.Call, ev ringfence.CallEvent) (ringfence.Call, ringfence.ApplyResult, error) {
	before, result, err := s.store.ApplyCallEventFrom(ctx, read, ev)
	if err != nil {
		return before, "", err
	}
	if result == ringfence.ResultFirstTerminal && before.CampaignID != "" {
		// Each call a provider ended queues one more page of the campaign's contacts, if any
		// wait, so a campaign keeps its queue filled between two dispatcher runs.
		if !ev.Sweep {
			s.topUp(ctx, before.CampaignID)
		}
		// If this was the campaign's last call, the campaign is complete. If this fails, the
		// sweep completes it later.
		if _, err := s.store.CompleteCampaignIfDone(ctx, before.CampaignID); err != nil {
			s.log.ErrorContext(ctx, "completing the campaign failed", "campaign", before.CampaignID, "error", err.Error())
		}
	}
	if result == ringfence.ResultFirstTerminal && before.SlotKind != "" {
		// The slot is already released; dialling the next call is extra. If it fails here the
		// scheduled dispatcher does it, so the webhook still succeeds.
		if _, err := s.Drain(ctx, before.AccountID, before.SlotKind, 1); err != nil {
			s.log.ErrorContext(ctx, "dialling the next queued call failed", "account", before.AccountID, "kind", before.SlotKind, "error", err.Error())
		}
	}
	return before, result, nil
}

// applyParked applies and then deletes the events parked for a provider call.
func (s *Service) applyParked(ctx context.Context, p ringfence.Provider, providerCallID, callID string) error {
	parked, err := s.store.ParkedEvents(ctx, p, providerCallID)
	if err != nil {
		return err
	}
	for _, pe := range parked {
		if _, _, err := s.apply(ctx, callID, pe.Event); err != nil {
			return err
		}
		if err := s.store.DeleteParked(ctx, p, providerCallID, pe.Key); err != nil {
			return err
		}
		s.log.InfoContext(ctx, "parked event applied", "provider", p, "execution_id", providerCallID, "call_id", callID, "event_status", pe.Event.Status)
	}
	return nil
}

// limit returns an account's limit for a kind of slot.
func (s *Service) limit(ctx context.Context, accountID string, kind ringfence.SlotKind) (int, error) {
	a, err := s.store.GetAccount(ctx, accountID)
	if err != nil {
		return 0, err
	}
	fallback := s.defaults.DirectLimit
	if kind == ringfence.SlotCampaign {
		fallback = s.defaults.CampaignLimit
	}
	return a.Limit(kind, fallback), nil
}

// dial asks the call's provider to place a call that holds a slot, and records the answer:
// the provider's call id on success; a failed call with its slot released (one transaction)
// when the provider refused; the reason, leaving the call dialing for the sweep, when the answer
// is unknown, because dialling again could ring the callee twice.
func (s *Service) dial(ctx context.Context, c ringfence.Call) error {
	dialer, ok := s.dialers[c.Provider]
	if !ok {
		return s.failDial(ctx, c, fmt.Errorf("%w: provider %s is not configured", ringfence.ErrDialRefused, c.Provider))
	}
	if c.Schedule != nil {
		// The customer's call of the day is claimed before the provider is called; a second
		// attempt at it, from anywhere, finds the claim taken and places nothing.
		reason, err := s.claimScheduled(ctx, c)
		if err != nil {
			return err
		}
		if reason != "" {
			return s.skipScheduled(ctx, c, reason)
		}
	}
	start := time.Now()
	providerCallID, err := dialer.Dial(ctx, dialRequest(c))
	s.log.InfoContext(ctx, "dialled", "provider", c.Provider, "call_id", c.ID, "account", c.AccountID, "campaign", c.CampaignID,
		"execution_id", providerCallID, "ms", time.Since(start).Milliseconds(), "error", errText(err))
	s.Metrics.Record(metrics.DialLatency, float64(time.Since(start).Milliseconds()), metrics.Milliseconds, "Provider", string(c.Provider))
	switch {
	case errors.Is(err, ringfence.ErrDialRefused):
		s.Metrics.Count(metrics.DialErrors, 1, "Provider", string(c.Provider), "Kind", "refused")
	case err != nil:
		s.Metrics.Count(metrics.DialErrors, 1, "Provider", string(c.Provider), "Kind", "unknown")
	}
	switch {
	case err == nil:
		return s.accepted(ctx, c, providerCallID)
	case errors.Is(err, ringfence.ErrProviderBusy) && c.Schedule == nil:
		return s.requeueBusy(ctx, c, err)
	case errors.Is(err, ringfence.ErrDialRefused):
		if err := s.failDial(ctx, c, err); err != nil {
			return err
		}
		if c.Schedule != nil {
			return s.retryScheduled(ctx, c, err)
		}
		return nil
	default:
		return s.store.SetDialError(ctx, c.ID, "dial outcome unknown: "+err.Error())
	}
}

// requeueBusy puts a call the provider refused for its own rate or concurrency limit back in the
// queue, its slot released, to be dialled again after a backoff (and inside its calling hours):
// the refusal spends no attempt and never fails the call.
func (s *Service) requeueBusy(ctx context.Context, c ringfence.Call, cause error) error {
	wait := ringfence.BusyBackoff(s.BusyBackoff, c.BusyRefusals+1)
	notBefore := c.Hours.NextOpen(s.store.Now().Add(wait))
	s.log.InfoContext(ctx, "provider at its limit; call queued again", "provider", c.Provider, "call_id", c.ID,
		"campaign", c.CampaignID, "refusals", c.BusyRefusals+1, "wait_ms", notBefore.Sub(s.store.Now()).Milliseconds(), "error", cause.Error())
	return s.store.RequeueBusy(ctx, c, queueTime(notBefore))
}

// dialRequest is what a provider needs to place c.
func dialRequest(c ringfence.Call) ringfence.DialRequest {
	return ringfence.DialRequest{CallID: c.ID, AgentID: c.AgentID, FromNumber: c.FromNumber, ToNumber: c.ToNumber, Variables: c.Variables}
}

// accepted records that the provider placed the call: its id on the call, the events parked for
// it, and, for a scheduled call, that it was placed.
func (s *Service) accepted(ctx context.Context, c ringfence.Call, providerCallID string) error {
	if err := s.store.RecordProviderCallID(ctx, c.ID, providerCallID); err != nil {
		return err
	}
	if c.Schedule != nil {
		if err := s.store.FinishSchedule(ctx, *c.Schedule, dynamo.SchedulePlaced, ""); err != nil {
			return err
		}
	}
	return s.applyParked(ctx, c.Provider, providerCallID, c.ID)
}

// failDial ends a call the provider refused, through the same exactly-once terminal transition as
// a webhook, which releases its slot in the same transaction.
func (s *Service) failDial(ctx context.Context, c ringfence.Call, cause error) error {
	_, _, err := s.apply(ctx, c.ID, ringfence.CallEvent{Provider: c.Provider, Status: ringfence.StatusFailed, EndReason: "dial refused: " + cause.Error()})
	return err
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// ReapplyParked applies the events parked for a provider's call, once the call is known: what an
// operator does for events that stayed parked. It returns how many it applied; ENOTFOUND when the
// call is still unknown.
func (s *Service) ReapplyParked(ctx context.Context, p ringfence.Provider, providerCallID string) (int, error) {
	callID, err := s.store.CallIDByProviderCallID(ctx, p, providerCallID)
	if err != nil {
		return 0, err
	}
	parked, err := s.store.ParkedEvents(ctx, p, providerCallID)
	if err != nil {
		return 0, err
	}
	return len(parked), s.applyParked(ctx, p, providerCallID, callID)
}
