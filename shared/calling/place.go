package calling

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// DirectCall is a request to place one call.
type DirectCall struct {
	To         string
	Provider   ringfence.Provider
	AgentID    string
	FromNumber string
	Metadata   map[string]string
	// RespectFrequency makes the call wait for the account's contact frequency cap; without it
	// the call counts toward the cap but is placed regardless.
	RespectFrequency bool
}

// Placed is the answer to a request to place a call: the call, and its place in the queue when it
// waits for a slot (0 when it was dialled at once).
type Placed struct {
	Call     ringfence.Call
	Position int
}

// Validate checks a direct call request before anything is written.
func (s *Service) validate(d DirectCall) error {
	if err := ringfence.ValidatePhone("to", d.To); err != nil {
		return err
	}
	if _, err := ringfence.ParseProvider(string(d.Provider)); err != nil {
		return err
	}
	if err := ringfence.ValidateFromNumber(d.Provider, d.FromNumber); err != nil {
		return err
	}
	if _, ok := s.dialers[d.Provider]; !ok {
		return ringfence.Errorf(ringfence.EINVALID, "provider %s is not configured on this deployment", d.Provider)
	}
	if strings.TrimSpace(d.AgentID) == "" {
		return ringfence.Errorf(ringfence.EINVALID, "agent_id is required")
	}
	return nil
}

// PlaceDirect places a direct call: it takes a direct slot and creates the call in one
// transaction, then dials. When the account is at its limit, or others already wait, the call
// waits in the queue instead and is dialled when a slot frees up.
func (s *Service) PlaceDirect(ctx context.Context, accountID string, d DirectCall) (Placed, error) {
	if err := s.validate(d); err != nil {
		return Placed{}, err
	}
	limit, err := s.limit(ctx, accountID, ringfence.SlotDirect)
	if err != nil {
		return Placed{}, err
	}
	c := ringfence.Call{
		ID: dynamo.NewID("call"), AccountID: accountID, Provider: d.Provider, AgentID: d.AgentID,
		FromNumber: d.FromNumber, ToNumber: d.To, Variables: d.Metadata, RespectFrequency: d.RespectFrequency,
	}
	// Whether anyone waits reads one queue entry at most, however long the queue is.
	_, waiting, err := s.store.CountQueued(ctx, accountID, ringfence.SlotDirect, 0)
	if err != nil {
		return Placed{}, err
	}
	if !waiting {
		// Nobody waits: take a slot if one is free. Otherwise join the queue behind the others.
		held, err := s.store.CreateCallWithSlot(ctx, c, ringfence.SlotDirect, limit)
		if err == nil {
			if err := s.dial(ctx, held); err != nil {
				return Placed{}, err
			}
			call, err := s.store.GetCall(ctx, c.ID)
			return Placed{Call: call}, err
		}
		var capped *dynamo.HeldError
		if errors.As(err, &capped) {
			// The number has had its calls for the period: the call waits, held, until then.
			c.Held, c.HeldUntil = ringfence.HoldContactFrequency, capped.Until
		} else if !errors.Is(err, ringfence.ErrAtLimit) {
			return Placed{}, err
		}
	}
	queued, err := s.store.EnqueueCall(ctx, c, ringfence.SlotDirect)
	if err != nil {
		return Placed{}, err
	}
	// A slot may have come free between the failed reservation and the enqueue.
	if _, err := s.Drain(ctx, accountID, ringfence.SlotDirect, 1); err != nil {
		return Placed{}, err
	}
	call, err := s.store.GetCall(ctx, c.ID)
	if err != nil || call.Status != ringfence.StatusQueued {
		return Placed{Call: call}, err
	}
	position, err := s.store.QueueLength(ctx, accountID, ringfence.SlotDirect, queued.QueueKey)
	return Placed{Call: call, Position: position}, err
}

// leaseFor is how long a dispatcher holds a queue entry it claimed: long enough to take a slot and
// dial, short enough that an entry whose dispatcher died is retried soon.
const leaseFor = time.Minute

// Drain dials up to max calls waiting in an account's queue of one kind, while slots are free. Each
// entry is claimed with a lease first, so dispatchers running at once never dial the same call.
// Entries of a campaign that is not running (paused, or cancelled and not yet cleaned up) are
// stepped over, so that they do not hold up the calls behind them.
func (s *Service) Drain(ctx context.Context, accountID string, kind ringfence.SlotKind, max int) (int, error) {
	limit, err := s.limit(ctx, accountID, kind)
	if err != nil {
		return 0, err
	}
	owner := dynamo.NewID("lease")
	dialled, after, skipped := 0, "", 0
	stopped := map[string]bool{} // Campaigns found not running in this drain.
	for dialled < max && skipped < maxSkippedPerDrain {
		entries, err := s.store.NextQueuedAfter(ctx, accountID, kind, after, 10)
		if err != nil || len(entries) == 0 {
			return dialled, err
		}
		progressed := false
		for _, e := range entries {
			if stopped[e.CampaignID] {
				after, skipped, progressed = e.Key, skipped+1, true
				continue
			}
			claimed, err := s.store.ClaimQueued(ctx, e, owner, leaseFor)
			if err != nil {
				return dialled, err
			}
			if !claimed {
				continue // Another dispatcher has it.
			}
			c, err := s.store.TakeSlotForQueued(ctx, e, owner, limit)
			if errors.Is(err, dynamo.ErrOutsideWindow) {
				// Its calling window closed while it waited (or is not open in all of its
				// recipient's zones): it waits for the next one.
				after, skipped, progressed = e.Key, skipped+1, true
				err := s.store.RequeueAt(ctx, e, owner, queueTime(e.Hours.NextOpen(s.store.Now())))
				if err != nil && !errors.Is(err, dynamo.ErrNotQueued) {
					return dialled, errors.Join(err, s.store.ReleaseLease(ctx, e, owner))
				}
				continue
			}
			var held *dynamo.HeldError
			if errors.As(err, &held) {
				// Its number has had the account's calls for the period: it waits, held, until
				// the period allows one more, inside its calling hours.
				after, skipped, progressed = e.Key, skipped+1, true
				err := s.store.RequeueHeld(ctx, e, owner, queueTime(e.Hours.NextOpen(held.Until)), held.Until)
				if err != nil && !errors.Is(err, dynamo.ErrNotQueued) {
					return dialled, errors.Join(err, s.store.ReleaseLease(ctx, e, owner))
				}
				continue
			}
			if errors.Is(err, ringfence.ErrAtLimit) {
				return dialled, s.store.ReleaseLease(ctx, e, owner)
			}
			if errors.Is(err, dynamo.ErrCampaignNotRunning) {
				after, skipped, progressed = e.Key, skipped+1, true
				if err := s.stepOver(ctx, e, owner, stopped); err != nil {
					return dialled, err
				}
				continue
			}
			if errors.Is(err, dynamo.ErrSuppressed) {
				// Never dialled: the call ends skipped, counted once in its campaign's outcomes.
				after, skipped, progressed = e.Key, skipped+1, true
				if _, err := s.store.EndQueuedCall(ctx, e.CallID, ringfence.StatusSkipped, "number suppressed"); err != nil {
					return dialled, err
				}
				if e.CampaignID != "" {
					if _, err := s.store.CompleteCampaignIfDone(ctx, e.CampaignID); err != nil {
						return dialled, err
					}
				}
				continue
			}
			if errors.Is(err, dynamo.ErrNotQueued) {
				continue
			}
			if err != nil {
				return dialled, errors.Join(err, s.store.ReleaseLease(ctx, e, owner))
			}
			progressed = true
			dialled++
			if err := s.dial(ctx, c); err != nil {
				return dialled, err
			}
			if dialled >= max {
				return dialled, nil
			}
		}
		if !progressed {
			return dialled, nil // Everything at the head is leased by other dispatchers.
		}
	}
	return dialled, nil
}

// stepOver deals with a queued call whose campaign is not running: a paused campaign's call keeps
// waiting; a cancelled campaign's call ends cancelled here, whoever else is cleaning up.
func (s *Service) stepOver(ctx context.Context, e ringfence.QueueEntry, owner string, stopped map[string]bool) error {
	c, err := s.store.CampaignByID(ctx, e.CampaignID)
	if err != nil {
		return errors.Join(err, s.store.ReleaseLease(ctx, e, owner))
	}
	if c.Status == ringfence.CampaignCancelled {
		_, err := s.store.CancelQueuedCall(ctx, e.CallID, "campaign cancelled")
		return err
	}
	if c.Status == ringfence.CampaignRunning && c.Ended(s.store.Now()) {
		// Its end_at has come: the call is never dialled, and ends expired.
		if _, err := s.store.EndQueuedCall(ctx, e.CallID, ringfence.StatusExpired, "campaign reached its end_at"); err != nil {
			return err
		}
		_, err := s.store.CompleteCampaignIfDone(ctx, c.ID)
		return err
	}
	stopped[e.CampaignID] = true
	return s.store.ReleaseLease(ctx, e, owner)
}

// maxSkippedPerDrain bounds how many entries of stopped campaigns one drain steps over, so a
// drain's cost stays bounded when a large paused campaign fills the head of the queue.
const maxSkippedPerDrain = 5000

// DispatchScheduled is the scheduled dispatcher: it drains every queue that has calls waiting. It
// is safe to run while another run or a webhook drains the same queues. It returns its error so
// that Lambda's retry applies.
func (s *Service) DispatchScheduled(ctx context.Context, _ events.EventBridgeEvent) error {
	n, err := s.DrainAll(ctx)
	s.log.InfoContext(ctx, "queues drained", "dialled", n, "error", errText(err))
	return err
}

// DrainAll dials what is waiting in every queue, as far as slots allow.
func (s *Service) DrainAll(ctx context.Context) (int, error) {
	// Campaigns' contacts are queued first, so that they are drained in the same run.
	advanced := s.AdvanceCampaigns(ctx)
	queues, err := s.store.QueuedAccounts(ctx)
	if err != nil {
		return 0, errors.Join(advanced, err)
	}
	total := 0
	errs := []error{advanced}
	for _, q := range queues {
		limit, err := s.limit(ctx, q.AccountID, q.Kind)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n, err := s.Drain(ctx, q.AccountID, q.Kind, limit)
		total += n
		errs = append(errs, err)
	}
	return total, errors.Join(errs...)
}

// Slots returns an account's slot usage per kind, with its limits, and the slots it holds.
func (s *Service) Slots(ctx context.Context, accountID string) ([]ringfence.SlotUsage, []ringfence.Slot, error) {
	counts, slots, err := s.store.ListSlots(ctx, accountID)
	if err != nil {
		return nil, nil, err
	}
	var usage []ringfence.SlotUsage
	for _, kind := range ringfence.SlotKinds {
		limit, err := s.limit(ctx, accountID, kind)
		if err != nil {
			return nil, nil, err
		}
		usage = append(usage, ringfence.SlotUsage{Kind: kind, InUse: counts[kind], Limit: limit})
	}
	return usage, slots, nil
}
