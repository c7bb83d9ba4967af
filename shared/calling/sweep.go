package calling

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/metrics"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// MinStaleAfter is the shortest time without news after which any call may be swept; an account's
// own setting cannot go below it. The sweep reads only calls idle at least this long.
const MinStaleAfter = time.Minute

// Thresholds of the leaked-slot report.
const (
	StuckSlotAfter     = time.Hour
	NoExecutionIDAfter = 10 * time.Second
)

// DefaultMaxCallDuration is each provider's longest call: Vapi's maxDurationSeconds goes up to
// 43,200 s (12 h), Retell's max_call_duration_ms up to 2 h; Bolna documents a configurable limit
// without publishing its ceiling, so it gets Retell's. When the provider cannot be asked, a
// call in progress is not stale before it has been quiet this long plus the stale timeout.
var DefaultMaxCallDuration = map[ringfence.Provider]time.Duration{
	ringfence.ProviderBolna:  2 * time.Hour,
	ringfence.ProviderVapi:   12 * time.Hour,
	ringfence.ProviderRetell: 2 * time.Hour,
}

// SweepReport is what one sweep found and did.
type SweepReport struct {
	CallsExamined int
	CallsEnded    int // Ended as failed/stale by this sweep (first terminal transitions).
	// CallsReconciled were ended with the outcome their provider reported when asked; CallsLive
	// were reported still live and keep their slots; ProviderErrors could not be asked this time
	// and are left for the next sweep.
	CallsReconciled int
	CallsLive       int
	ProviderErrors  int
	// KeptEventsApplied are events kept earlier (parked, or kept through a store outage) that
	// this sweep applied to their calls.
	KeptEventsApplied  int
	SlotsReleased      int // Orphan slots (their call ended or is missing) released.
	CampaignsCompleted int
	// StuckSlots are slots held longer than StuckSlotAfter; SlotsWithoutExecutionID have had no
	// provider call id for longer than NoExecutionIDAfter. Both are reported, for the operators.
	StuckSlots              []ringfence.Slot
	SlotsWithoutExecutionID []ringfence.Slot
}

// Sweep ends stale calls, releases leaked slots and completes finished campaigns, as of now. It
// finds its work by Query on the sparse index and changes anything only through conditional
// writes, so two sweeps running at once, or one that dies half-way, give the same result as
// one clean run.
func (s *Service) Sweep(ctx context.Context, now time.Time) (SweepReport, error) {
	var r SweepReport
	// Kept events go first: a call whose final report was kept is then settled, not asked about.
	err := errors.Join(s.sweepKept(ctx, &r), s.sweepCalls(ctx, now, &r), s.sweepSlots(ctx, now, &r), s.sweepCampaigns(ctx, &r))
	s.Metrics.Count(metrics.StaleCallsSwept, float64(r.CallsEnded))
	s.Metrics.Count(metrics.CallsReconciled, float64(r.CallsReconciled))
	s.Metrics.Count(metrics.ProviderLookupErrors, float64(r.ProviderErrors))
	s.Metrics.Count(metrics.KeptEventsApplied, float64(r.KeptEventsApplied))
	s.Metrics.Count(metrics.StuckSlots, float64(len(r.StuckSlots)))
	return r, errors.Join(err, s.recordGauges(ctx, now))
}

// recordGauges records the slots in use per kind and the queues' depth and oldest entry's age,
// from the sparse index: what it reads grows with the slots held and the calls waiting.
func (s *Service) recordGauges(ctx context.Context, now time.Time) error {
	if s.Metrics == nil {
		return nil
	}
	slots, err := s.store.SlotsHeldSince(ctx, now.Add(time.Second))
	if err != nil {
		return err
	}
	inUse := map[ringfence.SlotKind]int{}
	for _, sl := range slots {
		inUse[sl.Kind]++
	}
	for _, kind := range ringfence.SlotKinds {
		s.Metrics.Count(metrics.SlotsInUse, float64(inUse[kind]), "Kind", string(kind))
	}
	queues, err := s.store.QueuedAccounts(ctx)
	if err != nil {
		return err
	}
	depth, oldest := 0, time.Duration(0)
	for _, q := range queues {
		entries, err := s.store.QueueEntries(ctx, q.AccountID, q.Kind)
		if err != nil {
			return err
		}
		depth += len(entries)
		for _, e := range entries {
			if at, err := time.Parse(time.RFC3339Nano, e.EnqueuedAt); err == nil {
				oldest = max(oldest, now.Sub(at))
			}
		}
	}
	s.Metrics.Count(metrics.QueueDepth, float64(depth))
	s.Metrics.Record(metrics.QueueOldestAge, oldest.Seconds(), metrics.Seconds)
	return nil
}

// SweepScheduled is the sweeper function's handler. It returns its error so Lambda retries.
func (s *Service) SweepScheduled(ctx context.Context, _ events.EventBridgeEvent) error {
	r, err := s.Sweep(ctx, s.Now())
	s.log.InfoContext(ctx, "sweep finished", "calls_examined", r.CallsExamined, "calls_ended", r.CallsEnded,
		"calls_reconciled", r.CallsReconciled, "calls_live", r.CallsLive, "provider_errors", r.ProviderErrors, "kept_events_applied", r.KeptEventsApplied,
		"slots_released", r.SlotsReleased, "campaigns_completed", r.CampaignsCompleted,
		"stuck_slots", len(r.StuckSlots), "slots_without_execution_id", len(r.SlotsWithoutExecutionID), "error", errText(err))
	return err
}

// sweepKept applies the events kept for calls that are known now: events kept through a store
// outage, and parked events whose call's id was recorded but which were not applied then (the
// write that should have applied them failed). It finds them by Query on the sparse index; an
// event whose call is still unknown stays kept.
func (s *Service) sweepKept(ctx context.Context, r *SweepReport) error {
	kept, err := s.store.AllParked(ctx)
	if err != nil {
		return err
	}
	type providerCall struct {
		provider ringfence.Provider
		id       string
	}
	done := map[providerCall]bool{}
	var errs []error
	for _, k := range kept {
		pc := providerCall{k.Provider, k.ProviderCallID}
		if done[pc] {
			continue
		}
		done[pc] = true
		events, err := s.store.ParkedEvents(ctx, pc.provider, pc.id)
		if err != nil || len(events) == 0 {
			errs = append(errs, err)
			continue
		}
		call, err := s.findCall(ctx, events[0].Event)
		if ringfence.ErrorCode(err) == ringfence.ENOTFOUND {
			continue // Its call is not known yet: the event waits for it.
		}
		if err == nil {
			err = s.applyParked(ctx, pc.provider, pc.id, call.ID)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.KeptEventsApplied += len(events)
	}
	return errors.Join(errs...)
}

// sweepCalls ends calls that have gone quiet for longer than their threshold.
func (s *Service) sweepCalls(ctx context.Context, now time.Time, r *SweepReport) error {
	ids, err := s.store.CallsIdleSince(ctx, now.Add(-MinStaleAfter))
	if err != nil {
		return err
	}
	var errs []error
	accounts := map[string]ringfence.Account{}
	for _, id := range ids {
		c, err := s.store.GetCall(ctx, id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.CallsExamined++
		reason, stale, err := s.isStale(ctx, c, now, accounts)
		if err != nil || !stale {
			errs = append(errs, err)
			continue
		}
		if reason == reasonNoExecutionID {
			placed, err := s.askProvider(ctx, c)
			if err != nil || placed {
				errs = append(errs, err)
				continue
			}
		}
		if reason == ringfence.EndReasonStale && c.ProviderCallID != "" {
			// The provider holds the truth about the call: only a call it cannot report is
			// ended as stale below.
			settled, err := s.reconcile(ctx, c, now, r)
			if err != nil || settled {
				errs = append(errs, err)
				continue
			}
		}
		// The sweep's event ends the call through the same transition as a webhook, and only if
		// its activity is still the one judged stale: a webhook that just arrived wins.
		sweep := ringfence.CallEvent{Provider: c.Provider, Status: ringfence.StatusFailed, EndReason: reason, Sweep: true, SeenActivity: c.LastActivity}
		_, result, err := s.apply(ctx, c.ID, sweep)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if result == ringfence.ResultFirstTerminal {
			r.CallsEnded++
			s.log.InfoContext(ctx, "stale call ended", "call_id", c.ID, "account", c.AccountID, "campaign", c.CampaignID, "status", c.Status, "reason", reason)
			errs = append(errs, s.afterUnknownDial(ctx, c, reason))
		}
	}
	return errors.Join(errs...)
}

// isStale decides whether a call has gone quiet for too long, and why. accounts caches the
// accounts read during one sweep.
func (s *Service) isStale(ctx context.Context, c ringfence.Call, now time.Time, accounts map[string]ringfence.Account) (string, bool, error) {
	if c.Status.IsTerminal() || c.LastActivity == "" || c.QueueKey != "" {
		return "", false, nil // Over already, or waiting for a slot (not quiet, just queued).
	}
	last, err := time.Parse(time.RFC3339Nano, c.LastActivity)
	if err != nil {
		return "", false, nil
	}
	idle := now.Sub(last)
	if c.Status == ringfence.StatusDialing && c.ProviderCallID == "" {
		return reasonNoExecutionID, idle > s.defaults.DialTimeout, nil
	}
	after := s.defaults.StaleAfter
	a, ok := accounts[c.AccountID]
	if !ok {
		var err error
		if a, err = s.store.GetAccount(ctx, c.AccountID); err != nil {
			return "", false, err
		}
		accounts[c.AccountID] = a
	}
	if a.StaleAfter > 0 {
		after = max(a.StaleAfter, MinStaleAfter)
	}
	if _, askable := s.dialers[c.Provider].(ringfence.Reporter); !askable && c.ProviderCallID != "" &&
		(c.Status == ringfence.StatusInProgress || c.Status == ringfence.StatusEnded) {
		// Nobody can be asked whether a quiet call in progress still runs: it may, for as long
		// as its provider lets a call run.
		after += s.maxCallDuration(c.Provider)
	}
	return ringfence.EndReasonStale, idle > after, nil
}

// maxCallDuration is the longest a call through p may run: the deployment's setting, or the
// provider's own maximum.
func (s *Service) maxCallDuration(p ringfence.Provider) time.Duration {
	if d := s.defaults.MaxCallDuration[p]; d > 0 {
		return d
	}
	return DefaultMaxCallDuration[p]
}

// reconcile asks the provider about a quiet call before the sweep concludes anything about it,
// and reports whether that settled the call:
//   - an ended call is applied with the provider's outcome, cost, duration and transcript through
//     the same exactly-once transition as a webhook, which releases its slot once;
//   - a live call keeps its slot, and its activity moves forward to now (a conditional write
//     that never moves it back), so it is asked again only after another quiet spell;
//   - a provider that could not be asked leaves the call for the next sweep (logged), never
//     ended on a guess.
//
// Only a call the provider has no record of (ENOTFOUND), or a provider that cannot be asked at
// all, is left unsettled, for the sweep to end as stale.
func (s *Service) reconcile(ctx context.Context, c ringfence.Call, now time.Time, r *SweepReport) (bool, error) {
	reporter, ok := s.dialers[c.Provider].(ringfence.Reporter)
	if !ok {
		return false, nil
	}
	ev, err := reporter.ReportCall(ctx, c.ProviderCallID)
	switch {
	case ringfence.ErrorCode(err) == ringfence.ENOTFOUND:
		s.log.WarnContext(ctx, "the provider has no record of a quiet call", "call_id", c.ID, "provider", c.Provider, "execution_id", c.ProviderCallID)
		return false, nil
	case err != nil:
		r.ProviderErrors++
		s.log.WarnContext(ctx, "the provider could not be asked about a quiet call; it is left for the next sweep",
			"call_id", c.ID, "provider", c.Provider, "execution_id", c.ProviderCallID, "error", err.Error())
		return true, nil
	}
	// The provider named the call by its own id: the event is about this call, whatever its
	// metadata echoes.
	ev.Provider, ev.ProviderCallID, ev.CallID = c.Provider, c.ProviderCallID, c.ID
	_, result, err := s.applyFrom(ctx, c, ev)
	if err != nil {
		return true, err
	}
	if ev.Status.IsTerminal() {
		if result == ringfence.ResultFirstTerminal {
			r.CallsReconciled++
		}
		s.log.InfoContext(ctx, "quiet call reconciled with the provider", "call_id", c.ID, "account", c.AccountID, "campaign", c.CampaignID,
			"provider", c.Provider, "execution_id", c.ProviderCallID, "event_type", ev.Status, "result", result)
		return true, nil
	}
	r.CallsLive++
	if _, err := s.store.MarkCallChecked(ctx, c.ID, now, ev.Status); err != nil {
		return true, err
	}
	s.log.InfoContext(ctx, "quiet call is live at the provider; it keeps its slot", "call_id", c.ID, "provider", c.Provider,
		"execution_id", c.ProviderCallID, "event_type", ev.Status, "result", result)
	return true, nil
}

// reasonNoExecutionID ends a dialled call whose provider call id never arrived.
const reasonNoExecutionID = "no_execution_id"

// askProvider asks the provider, when it can be asked, whether a call whose dial went unanswered
// was placed after all. If it was, its id is recorded and the call goes on; it reports placed.
func (s *Service) askProvider(ctx context.Context, c ringfence.Call) (bool, error) {
	finder, ok := s.dialers[c.Provider].(ringfence.Finder)
	if !ok {
		return false, nil
	}
	// Ten minutes of slack allow for the provider's clock running behind ours.
	since := c.DialStartedAt.Add(-10 * time.Minute)
	providerCallID, err := finder.FindCall(ctx, dialRequest(c), since)
	if ringfence.ErrorCode(err) == ringfence.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	s.log.InfoContext(ctx, "an unanswered dial had placed the call; its id is recorded", "call_id", c.ID, "provider", c.Provider, "execution_id", providerCallID)
	return true, s.accepted(ctx, c, providerCallID)
}

// afterUnknownDial settles a scheduled call the sweep ended because its dial's outcome stayed
// unknown. If the provider could be asked and said it has no such call, the claim is given back
// and the next attempt enqueued; otherwise the call may have been placed, so the claim is kept:
// better no call today than a second one.
func (s *Service) afterUnknownDial(ctx context.Context, c ringfence.Call, reason string) error {
	if c.Schedule == nil || reason != reasonNoExecutionID {
		return nil
	}
	if _, askable := s.dialers[c.Provider].(ringfence.Finder); askable {
		return s.retryScheduled(ctx, c, errors.New("the provider has no record of the call"))
	}
	return s.store.FinishSchedule(ctx, *c.Schedule, dynamo.ScheduleFailed, "the dial's outcome is unknown and the provider cannot be asked")
}

// sweepSlots releases slots whose call no longer holds them, and reports slots that look stuck.
func (s *Service) sweepSlots(ctx context.Context, now time.Time, r *SweepReport) error {
	slots, err := s.store.SlotsHeldSince(ctx, now.Add(-NoExecutionIDAfter))
	if err != nil {
		return err
	}
	var errs []error
	for _, sl := range slots {
		c, err := s.store.GetCall(ctx, sl.CallID)
		if err != nil && ringfence.ErrorCode(err) != ringfence.ENOTFOUND {
			errs = append(errs, err)
			continue
		}
		if err != nil || c.SlotKind != sl.Kind {
			released, err := s.store.ReleaseOrphanSlot(ctx, sl)
			if err != nil {
				errs = append(errs, err)
			}
			if released {
				r.SlotsReleased++
				s.log.WarnContext(ctx, "leaked slot released", "account", sl.AccountID, "kind", sl.Kind, "call_id", sl.CallID)
			}
			continue
		}
		sl.ProviderCallID = c.ProviderCallID
		if started, err := time.Parse(time.RFC3339Nano, sl.StartedAt); err == nil && now.Sub(started) > StuckSlotAfter {
			r.StuckSlots = append(r.StuckSlots, sl)
		}
		if c.ProviderCallID == "" {
			r.SlotsWithoutExecutionID = append(r.SlotsWithoutExecutionID, sl)
		}
	}
	return errors.Join(errs...)
}

// sweepCampaigns completes running campaigns whose calls have all ended, in case the webhook that
// ended the last one died before completing the campaign.
func (s *Service) sweepCampaigns(ctx context.Context, r *SweepReport) error {
	ids, err := s.store.RunningCampaigns(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		done, err := s.store.CompleteCampaignIfDone(ctx, id)
		if err != nil {
			errs = append(errs, err)
		}
		if done {
			r.CampaignsCompleted++
		}
	}
	return errors.Join(errs...)
}
