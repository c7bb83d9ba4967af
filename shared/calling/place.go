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
		FromNumber: d.FromNumber, ToNumber: d.To, Variables: d.Metadata,
	}
	waiting, err := s.store.QueueLength(ctx, accountID, ringfence.SlotDirect, "")
	if err != nil {
		return Placed{}, err
	}
	if waiting == 0 {
		// Nobody waits: take a slot if one is free. Otherwise join the queue behind the others.
		held, err := s.store.CreateCallWithSlot(ctx, c, ringfence.SlotDirect, limit)
		if err == nil {
			if err := s.dial(ctx, held); err != nil {
				return Placed{}, err
			}
			call, err := s.store.GetCall(ctx, c.ID)
			return Placed{Call: call}, err
		}
		if !errors.Is(err, ringfence.ErrAtLimit) {
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

// Started is the answer to starting a campaign.
type Started struct {
	Campaign ringfence.Campaign
	Queued   int // Calls created by this start (contacts that had none yet).
	Dialled  int // Calls dialled right away, up to the account's campaign limit.
}

// StartCampaign starts a campaign: every contact without a call gets one, queued; then as many
// are dialled as the account's campaign slots allow. The rest are dialled as slots free up.
// Starting again is safe: a contact gets one call, whoever creates it.
func (s *Service) StartCampaign(ctx context.Context, accountID, campaignID string) (Started, error) {
	campaign, err := s.store.StartCampaign(ctx, accountID, campaignID)
	if err != nil {
		return Started{}, err
	}
	if _, ok := s.dialers[campaign.Provider]; !ok {
		return Started{}, ringfence.Errorf(ringfence.EINVALID, "provider %s is not configured on this deployment", campaign.Provider)
	}
	contacts, err := s.store.ListContacts(ctx, campaign.ID)
	if err != nil {
		return Started{}, err
	}
	var calls []ringfence.Call
	for _, ct := range contacts {
		if ct.CallID != "" {
			continue
		}
		vars := map[string]string{"name": ct.Name}
		for k, v := range ct.Fields {
			vars[k] = v
		}
		calls = append(calls, ringfence.Call{
			ID: campaignCallID(campaign.ID, ct.ID), AccountID: accountID, CampaignID: campaign.ID, ContactID: ct.ID,
			Provider: campaign.Provider, AgentID: campaign.AgentID, FromNumber: campaign.FromNumber, ToNumber: ct.Phone,
			Variables: vars,
		})
	}
	queued, err := s.store.EnqueueCalls(ctx, calls, ringfence.SlotCampaign)
	if err != nil {
		return Started{}, err
	}
	limit, err := s.limit(ctx, accountID, ringfence.SlotCampaign)
	if err != nil {
		return Started{}, err
	}
	dialled, err := s.Drain(ctx, accountID, ringfence.SlotCampaign, limit)
	if err != nil {
		return Started{}, err
	}
	return Started{Campaign: campaign, Queued: queued, Dialled: dialled}, nil
}

// campaignCallID is the id of a contact's call. It is derived from the contact, so that two
// starts of one campaign name the same call and the second finds it exists.
func campaignCallID(campaignID, contactID string) string {
	return "call_" + strings.TrimPrefix(campaignID, "cmp_") + "_" + contactID
}

// leaseFor is how long a dispatcher holds a queue entry it claimed: long enough to take a slot and
// dial, short enough that an entry whose dispatcher died is retried soon.
const leaseFor = time.Minute

// Drain dials up to max calls waiting in an account's queue of one kind, while slots are free. Each
// entry is claimed with a lease first, so dispatchers running at once never dial the same call.
func (s *Service) Drain(ctx context.Context, accountID string, kind ringfence.SlotKind, max int) (int, error) {
	limit, err := s.limit(ctx, accountID, kind)
	if err != nil {
		return 0, err
	}
	owner := dynamo.NewID("lease")
	dialled := 0
	for dialled < max {
		entries, err := s.store.NextQueued(ctx, accountID, kind, 10)
		if err != nil || len(entries) == 0 {
			return dialled, err
		}
		progressed := false
		for _, e := range entries {
			claimed, err := s.store.ClaimQueued(ctx, e, owner, leaseFor)
			if err != nil {
				return dialled, err
			}
			if !claimed {
				continue // Another dispatcher has it.
			}
			c, err := s.store.TakeSlotForQueued(ctx, e, owner, limit)
			if errors.Is(err, ringfence.ErrAtLimit) {
				return dialled, s.store.ReleaseLease(ctx, e, owner)
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
	queues, err := s.store.QueuedAccounts(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	var errs []error
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
