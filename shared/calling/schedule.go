package calling

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// Scheduling settings.
const (
	// MaxScheduledAttempts is how often a scheduled call is tried when the provider refuses it.
	MaxScheduledAttempts = 3
	// retryBackoff is the wait before the second attempt; each later one waits twice as long.
	retryBackoff = time.Minute
)

// ScheduleReport is what one scheduler run did.
type ScheduleReport struct {
	Enqueued   int // Scheduled calls this run enqueued.
	Duplicates int // Due calls another run had enqueued already.
	Ineligible int // Due customers who may not be called (unpaid, unvalidated, disabled).
}

// Schedule enqueues the welcome calls and the daily calls that are due: welcome calls for
// customers who signed up more than WelcomeDelay ago, daily calls whose time falls before
// now+window (each dialable from its own time). Each is enqueued by a conditional put on its key
// (customer, type, local date), so any number of overlapping runs enqueue it once.
func (s *Service) Schedule(ctx context.Context, now time.Time, window time.Duration) (ScheduleReport, error) {
	var r ScheduleReport
	errs := []error{s.scheduleWelcomes(ctx, now, &r), s.scheduleDailies(ctx, now, window, &r)}
	// Welcome calls are due at once: dial what the slots allow instead of waiting a minute.
	if _, err := s.DrainAll(ctx); err != nil {
		errs = append(errs, err)
	}
	return r, errors.Join(errs...)
}

// ScheduleScheduled is the scheduler function's handler.
func (s *Service) ScheduleScheduled(ctx context.Context, _ events.EventBridgeEvent) error {
	r, err := s.Schedule(ctx, s.Now(), s.defaults.ScheduleWindow)
	s.log.InfoContext(ctx, "schedule run finished", "enqueued", r.Enqueued, "duplicates", r.Duplicates, "ineligible", r.Ineligible, "error", errText(err))
	return err
}

func (s *Service) scheduleWelcomes(ctx context.Context, now time.Time, r *ScheduleReport) error {
	due, err := s.store.DueCustomers(ctx, ringfence.CallWelcome, now)
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range due {
		c, loc, err := s.customerInZone(ctx, d.CustomerID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sc := ringfence.ScheduledCall{CustomerID: c.ID, Type: ringfence.CallWelcome, LocalDate: ringfence.LocalDate(c.CreatedAt, loc), Attempt: 1}
		errs = append(errs, s.enqueueScheduled(ctx, c, sc, now, r))
	}
	return errors.Join(errs...)
}

func (s *Service) scheduleDailies(ctx context.Context, now time.Time, window time.Duration, r *ScheduleReport) error {
	due, err := s.store.DueCustomers(ctx, ringfence.CallDaily, now.Add(window))
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range due {
		c, loc, err := s.customerInZone(ctx, d.CustomerID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sc := ringfence.ScheduledCall{CustomerID: c.ID, Type: ringfence.CallDaily, LocalDate: ringfence.LocalDate(d.At, loc), Attempt: 1}
		if err := s.enqueueScheduled(ctx, c, sc, d.At, r); err != nil {
			errs = append(errs, err)
			continue
		}
		// The next daily call, computed in the customer's zone from this one's time.
		next, _, err := ringfence.NextDailyCall(c.DailyCallTime, loc, d.At)
		if err == nil {
			err = s.store.AdvanceDaily(ctx, d, next)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// customerInZone reads a customer and loads their time zone.
func (s *Service) customerInZone(ctx context.Context, id string) (ringfence.Customer, *time.Location, error) {
	c, err := s.store.GetCustomer(ctx, id)
	if err != nil {
		return c, nil, err
	}
	loc, err := c.Location()
	return c, loc, err
}

// enqueueScheduled enqueues a customer's scheduled call, dialable from notBefore, unless the
// customer may not be called now (the marker stays, for when they may).
func (s *Service) enqueueScheduled(ctx context.Context, c ringfence.Customer, sc ringfence.ScheduledCall, notBefore time.Time, r *ScheduleReport) error {
	if !c.Eligible() {
		r.Ineligible++
		return nil
	}
	err := s.store.EnqueueScheduled(ctx, scheduledCall(c, sc), notBefore)
	switch ringfence.ErrorCode(err) {
	case "":
		r.Enqueued++
		return nil
	case ringfence.ECONFLICT:
		r.Duplicates++
		return nil
	}
	return err
}

// scheduledCall is the call record of one attempt of a customer's scheduled call.
func scheduledCall(c ringfence.Customer, sc ringfence.ScheduledCall) ringfence.Call {
	return ringfence.Call{
		ID: sc.CallID(), AccountID: c.AccountID, Provider: c.Provider, AgentID: c.AgentID, FromNumber: c.FromNumber,
		ToNumber: c.Phone, Direction: ringfence.Outbound, Schedule: &sc,
		Variables: map[string]string{"name": c.Name, "call_type": string(sc.Type)},
	}
}

// claimScheduled re-reads the customer (strongly consistent) and claims the scheduled call before
// the provider is called. It returns why not when the call must not be placed.
func (s *Service) claimScheduled(ctx context.Context, c ringfence.Call) (string, error) {
	sc := c.Schedule
	customer, err := s.store.GetCustomer(ctx, sc.CustomerID)
	if ringfence.ErrorCode(err) == ringfence.ENOTFOUND {
		return "customer deleted", nil
	}
	if err != nil {
		return "", err
	}
	if !customer.Eligible() {
		return "customer not eligible", nil
	}
	claimed, err := s.store.ClaimScheduled(ctx, c.ID, *sc)
	if err != nil || claimed {
		return "", err
	}
	return "already called", nil
}

// skipScheduled ends a scheduled call that must not be placed: cancelled, its slot released in
// the same transaction, its schedule record saying why.
func (s *Service) skipScheduled(ctx context.Context, c ringfence.Call, reason string) error {
	if _, _, err := s.apply(ctx, c.ID, ringfence.CallEvent{Provider: c.Provider, Status: ringfence.StatusCancelled, EndReason: "skipped: " + reason}); err != nil {
		return err
	}
	return s.store.FinishSchedule(ctx, *c.Schedule, dynamo.ScheduleSkipped, reason)
}

// retryScheduled follows a refused attempt: the claim is given back, and the next attempt is
// enqueued after a growing wait, or, past the last attempt, the scheduled call fails with the reason.
func (s *Service) retryScheduled(ctx context.Context, c ringfence.Call, cause error) error {
	sc := *c.Schedule
	if err := s.store.GiveBackClaim(ctx, c.ID, sc); err != nil {
		return err
	}
	if sc.Attempt >= MaxScheduledAttempts {
		return s.store.FinishSchedule(ctx, sc, dynamo.ScheduleFailed, cause.Error())
	}
	customer, err := s.store.GetCustomer(ctx, sc.CustomerID)
	if err != nil {
		return err
	}
	next := sc
	next.Attempt++
	wait := retryBackoff << (sc.Attempt - 1)
	err = s.store.EnqueueRetry(ctx, scheduledCall(customer, next), s.Now().Add(wait))
	if ringfence.ErrorCode(err) == ringfence.ECONFLICT {
		return nil // Another process enqueued this attempt already.
	}
	return err
}
