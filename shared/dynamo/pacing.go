package dynamo

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// campaignFlightBack is the write that gives back a campaign call's place in its campaign's
// in_flight, for the releases of a slot that are not a terminal transition (which moves the
// campaign's counters itself). ok is false for a call that holds no campaign slot.
func (s *Store) campaignFlightBack(c ringfence.Call) (types.TransactWriteItem, bool, error) {
	if c.CampaignID == "" || c.SlotKind != ringfence.SlotCampaign {
		return types.TransactWriteItem{}, false, nil
	}
	u, err := s.update(itemKey(campaignPK(c.CampaignID), skCampaign),
		expression.Add(expression.Name("in_flight"), expression.Value(-1)),
		expression.AttributeExists(expression.Name("pk")))
	if err != nil {
		return types.TransactWriteItem{}, false, err
	}
	return types.TransactWriteItem{Update: u}, true, nil
}

// RequeueBusy puts back in the queue a call whose dial the provider refused for its own rate or
// concurrency limit: the call never reached anyone, so it returns from dialing to queued (the one
// backward move a status makes, and only while the provider has given it no id), its slot and its
// place in the campaign's in_flight are given back, and a new queue entry makes it wait until
// notBefore. All of it commits together, conditioned on the call still holding the slot read, so
// a second attempt at it changes nothing. No attempt is spent and nothing is counted.
func (s *Store) RequeueBusy(ctx context.Context, c ringfence.Call, notBefore string) error {
	if c.SlotKind == "" {
		return ringfence.Errorf(ringfence.ECONFLICT, "call %s holds no slot to give back", c.ID)
	}
	now := s.now()
	kind := c.SlotKind
	waiting := c
	waiting.Status, waiting.QueueKey = ringfence.StatusQueued, notBefore+"#"+c.ID
	entry, err := s.putNew(queueItem{
		PK: queuePK(c.AccountID, kind), SK: waiting.QueueKey, GSI2PK: "QUEUE#" + shardOf(c.AccountID), GSI2SK: now,
		CallID: c.ID, AccountID: c.AccountID, Kind: string(kind), EnqueuedAt: now,
		CampaignID: c.CampaignID, hoursAttributes: hoursAttributesOf(c.Hours), ToNumber: c.ToNumber,
		windowAttributes: windowOf(c.Hours, notBefore), RespectFrequency: c.RespectFrequency || c.CampaignID != "",
	})
	if err != nil {
		return err
	}
	call, err := s.update(itemKey(callPK(c.ID), skCall),
		withHistory(expression.Set(expression.Name("status"), expression.Value(ringfence.StatusQueued)), now, "provider at its limit: queued again").
			Set(expression.Name("status_rank"), expression.Value(ringfence.StatusQueued.Rank())).
			Set(expression.Name("queue_key"), expression.Value(waiting.QueueKey)).
			Set(expression.Name("updated_at"), expression.Value(now)).
			Add(expression.Name("busy_refusals"), expression.Value(1)).
			Remove(expression.Name("slot_kind")).Remove(expression.Name("dial_started_at")).
			Remove(expression.Name("gsi2pk")).Remove(expression.Name("gsi2sk")),
		expression.Name("slot_kind").Equal(expression.Value(kind)).
			And(expression.Name("status_rank").Equal(expression.Value(ringfence.StatusDialing.Rank()))).
			And(expression.AttributeNotExists(expression.Name("provider_call_id"))))
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{{Update: call}, entry}
	release, err := s.giveSlotBack(c)
	if err != nil {
		return err
	}
	items = append(items, release...)
	if flight, ok, err := s.campaignFlightBack(c); err != nil {
		return err
	} else if ok {
		items = append(items, flight)
	}
	err = s.transact(ctx, items, "queue call %s again", c.ID)
	var cancelled *cancelledAt
	if errors.As(err, &cancelled) {
		return ringfence.Errorf(ringfence.ECONFLICT, "call %s moved on before it could be queued again", c.ID)
	}
	return err
}
