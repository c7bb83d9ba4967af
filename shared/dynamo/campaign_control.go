package dynamo

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// CampaignByID reads a campaign whatever its account, for the background jobs that found it in
// an index.
func (s *Store) CampaignByID(ctx context.Context, id string) (ringfence.Campaign, error) {
	var it campaignItem
	found, err := s.getItem(ctx, itemKey(campaignPK(id), skCampaign), true, &it)
	if err != nil {
		return ringfence.Campaign{}, internal(err, "get campaign %s", id)
	}
	if !found {
		return ringfence.Campaign{}, notFound("campaign", id)
	}
	return it.toDomain(), nil
}

// MoveCampaign moves a campaign of the account from one of the statuses `from` to `to`, by a
// condition on the stored status; a campaign already in `to` is left as it is (the move is
// idempotent). It returns the campaign after the move, and ECONFLICT when its status allows no move.
//
// A campaign stays in the sparse index gsi2 (RUNNING#<shard>) while it is running, paused or
// cancelled with work left, which is where the dispatcher finds contacts to queue and a cancel to
// finish.
//
// Each move adds one to the campaign's move counter, on condition that the counter is still what
// was read. The move's event (campaign.paused, campaign.resumed or campaign.cancelled) takes its
// id from the counter's new value and commits in the same transaction, when an endpoint
// subscribes: a retry that finds the move done writes nothing, while a second pause after a
// resume is another move with its own event.
func (s *Store) MoveCampaign(ctx context.Context, accountID, id string, to ringfence.CampaignStatus, from ...ringfence.CampaignStatus) (ringfence.Campaign, error) {
	for attempt := 0; attempt < maxApplyAttempts; attempt++ {
		it, err := s.campaignOf(ctx, accountID, id)
		if err != nil {
			return ringfence.Campaign{}, err
		}
		c := it.toDomain()
		if c.Status == to {
			return c, nil
		}
		if !slices.Contains(from, c.Status) {
			return c, ringfence.Errorf(ringfence.ECONFLICT, "campaign %s is %s and cannot become %s", id, c.Status, to)
		}
		applied, err := s.moveOnce(ctx, it, to)
		if err != nil {
			return c, err
		}
		if applied {
			return s.GetCampaign(ctx, accountID, id)
		}
		// Someone moved it in between: read it again to see where it is now.
		if err := pause(ctx, attempt); err != nil {
			return c, err
		}
	}
	return ringfence.Campaign{}, ringfence.Errorf(ringfence.EUNAVAILABLE, "campaign %s is being moved by many requests at once; retry", id)
}

// campaignOf reads the stored campaign item of the account, for a write that depends on its
// attributes.
func (s *Store) campaignOf(ctx context.Context, accountID, id string) (campaignItem, error) {
	var it campaignItem
	found, err := s.getItem(ctx, itemKey(campaignPK(id), skCampaign), true, &it)
	if err != nil {
		return it, internal(err, "get campaign %s", id)
	}
	if !found || it.AccountID != accountID {
		return it, notFound("campaign", id)
	}
	return it, nil
}

// movesStill is the condition that the campaign's move counter is still what was read (absent on a
// campaign that never moved).
func movesStill(read int) expression.ConditionBuilder {
	if read == 0 {
		return expression.AttributeNotExists(expression.Name("moves"))
	}
	return expression.Name("moves").Equal(expression.Value(read))
}

// moveEvents is the event each move of a campaign reports.
var moveEvents = map[ringfence.CampaignStatus]string{
	ringfence.CampaignPaused:    ringfence.EventCampaignPaused,
	ringfence.CampaignRunning:   ringfence.EventCampaignResumed,
	ringfence.CampaignCancelled: ringfence.EventCampaignCancelled,
}

// moveOnce writes one move of the campaign as read, with its event when an endpoint subscribes.
// It reports false when the campaign changed since it was read.
func (s *Store) moveOnce(ctx context.Context, it campaignItem, to ringfence.CampaignStatus) (bool, error) {
	set := expression.Set(expression.Name("status"), expression.Value(to)).
		Set(expression.Name("gsi2pk"), expression.Value("RUNNING#"+shardOf(it.ID))).
		Set(expression.Name("gsi2sk"), expression.Value(s.now())).
		Add(expression.Name("moves"), expression.Value(1))
	if to == ringfence.CampaignCancelled {
		set = set.Set(expression.Name("cancelled_at"), expression.Value(s.now()))
	}
	cond := expression.Name("account_id").Equal(expression.Value(it.AccountID)).
		And(expression.Name("status").Equal(expression.Value(it.Status))).
		And(movesStill(it.Moves))
	key := itemKey(campaignPK(it.ID), skCampaign)
	eventType, ok := moveEvents[to]
	if ok {
		event, err := s.outboxEvent(ctx, it.AccountID, eventType, it.ID, "move", strconv.Itoa(it.Moves+1))
		if err != nil {
			return false, err
		}
		if event != nil {
			// The event commits with the move, or neither does.
			update, err := s.update(key, set, cond)
			if err != nil {
				return false, err
			}
			err = s.transact(ctx, []types.TransactWriteItem{{Update: update}, *event}, "move campaign %s to %s", it.ID, to)
			var cancelled *cancelledAt
			if errors.As(err, &cancelled) {
				return false, nil
			}
			return err == nil, err
		}
	}
	applied, err := s.updateIf(ctx, key, set, cond)
	if err != nil {
		return false, internal(err, "move campaign %s to %s", it.ID, to)
	}
	return applied, nil
}

// cancelPendingBatch is how many never-queued contacts one transaction ends: one item each, and
// one for the campaign's counters.
const cancelPendingBatch = maxTransactionItems - 1

// CancelPendingContacts ends, as cancelled, contacts of a cancelled campaign that were never
// queued: each contact's outcome and the campaign's counters commit together, conditioned on the
// contact still having no call and no outcome, so each is counted once however many workers do
// this at once. It returns how many it ended; 0 when none is left.
func (s *Store) CancelPendingContacts(ctx context.Context, campaignID string) (int, error) {
	return s.endPendingContacts(ctx, campaignID, ringfence.StatusCancelled,
		expression.Name("status").Equal(expression.Value(ringfence.CampaignCancelled)))
}

// ExpirePendingContacts is CancelPendingContacts for a running campaign whose end_at has come,
// by the store's clock: its never-queued contacts end expired, each counted once.
func (s *Store) ExpirePendingContacts(ctx context.Context, campaignID string) (int, error) {
	return s.endPendingContacts(ctx, campaignID, ringfence.StatusExpired,
		expression.Name("status").Equal(expression.Value(ringfence.CampaignRunning)).
			And(expression.Name("end_at").LessThanEqual(expression.Value(s.now()))))
}

func (s *Store) endPendingContacts(ctx context.Context, campaignID string, outcome ringfence.CallStatus, campaignCond expression.ConditionBuilder) (int, error) {
	contacts, err := s.PendingContacts(ctx, campaignID, "", cancelPendingBatch)
	if err != nil || len(contacts) == 0 {
		return 0, err
	}
	for len(contacts) > 0 {
		var items []types.TransactWriteItem
		for _, ct := range contacts {
			u, err := s.update(itemKey(campaignPK(campaignID), contactSK(ct.ID)),
				expression.Set(expression.Name("outcome"), expression.Value(outcome)).
					Remove(expression.Name("gsi1pk")).Remove(expression.Name("gsi1sk")),
				expression.AttributeNotExists(expression.Name("call_id")).And(expression.AttributeNotExists(expression.Name("outcome"))))
			if err != nil {
				return 0, err
			}
			items = append(items, types.TransactWriteItem{Update: u})
		}
		counters, err := s.update(itemKey(campaignPK(campaignID), skCampaign),
			expression.Add(expression.Name("calls_completed"), expression.Value(len(contacts))).
				Add(expression.Name(outcomeAttribute(outcome)), expression.Value(len(contacts))),
			campaignCond)
		if err != nil {
			return 0, err
		}
		items = append(items, types.TransactWriteItem{Update: counters})
		_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return len(contacts), nil
		}
		reason, ok := transactionCancelled(err)
		switch {
		case !ok || reason.failedAt(len(items)-1):
			return 0, internal(err, "end pending contacts of campaign %s as %s", campaignID, outcome)
		case !reason.anyFailed():
			if !reason.conflict {
				return 0, internal(err, "end pending contacts of campaign %s as %s", campaignID, outcome)
			}
			continue
		}
		var rest []ringfence.Contact
		for i, ct := range contacts {
			if !reason.failedAt(i) {
				rest = append(rest, ct)
			}
		}
		contacts = rest
	}
	return 0, nil
}

// QueuedCampaignCalls returns the ids of a campaign's calls that still wait in the queue, from
// index gsi1 (eventually consistent: the cancel that uses it reads each call again).
func (s *Store) QueuedCampaignCalls(ctx context.Context, campaignID string) ([]string, error) {
	keyCond := expression.Key("gsi1pk").Equal(expression.Value(campaignCallsGSI1PK(campaignID)))
	var ids []string
	err := queryInto(ctx, s, "gsi1", keyCond, func(it callItem) {
		if it.Status == string(ringfence.StatusQueued) {
			ids = append(ids, it.ID)
		}
	})
	if err != nil {
		return nil, internal(err, "list queued calls of campaign %s", campaignID)
	}
	return ids, nil
}

// CancelQueuedCall ends a call that still waits in the queue as cancelled, through the same
// exactly-once terminal transition as any call (counters, contact outcome and queue entry in one
// transaction). The write holds only while the call is still queued with the entry read: a call
// a dispatcher moved to a slot first is in flight and is left to finish. It reports whether this
// write ended the call.
func (s *Store) CancelQueuedCall(ctx context.Context, callID, reason string) (bool, error) {
	return s.EndQueuedCall(ctx, callID, ringfence.StatusCancelled, reason)
}

// EndQueuedCall is CancelQueuedCall with the terminal status to end the call with (skipped, for
// a call whose number is suppressed).
func (s *Store) EndQueuedCall(ctx context.Context, callID string, status ringfence.CallStatus, reason string) (bool, error) {
	for attempt := 0; attempt < maxApplyAttempts; attempt++ {
		c, err := s.GetCall(ctx, callID)
		if err != nil {
			return false, err
		}
		if c.Status != ringfence.StatusQueued || c.QueueKey == "" {
			return false, nil
		}
		u := ringfence.PlanCallUpdate(c, ringfence.CallEvent{Provider: c.Provider, Status: status, EndReason: reason})
		lost, err := s.writeCallUpdate(ctx, c, u)
		if err != nil || !lost {
			return !lost && err == nil, err
		}
		if err := pause(ctx, attempt); err != nil {
			return false, err
		}
	}
	return false, ringfence.Errorf(ringfence.EUNAVAILABLE, "call %s is being updated by many writers at once; retry", callID)
}

// FinishCancel takes a cancelled campaign out of the dispatcher's index once nothing of it waits
// any more, and reports whether it did.
func (s *Store) FinishCancel(ctx context.Context, id string) (bool, error) {
	applied, err := s.updateIf(ctx, itemKey(campaignPK(id), skCampaign),
		expression.Remove(expression.Name("gsi2pk")).Remove(expression.Name("gsi2sk")).
			Set(expression.Name("completed_at"), expression.Value(s.now())),
		expression.Name("status").Equal(expression.Value(ringfence.CampaignCancelled)).
			And(expression.AttributeExists(expression.Name("gsi2pk"))))
	if err != nil {
		return false, internal(err, "finish cancel of campaign %s", id)
	}
	return applied, nil
}

// NextQueuedAfter is NextQueued for the entries after the key `after` ("" from the head), so a
// dispatcher can look past entries it may not dial (a paused campaign's) to those behind them.
func (s *Store) NextQueuedAfter(ctx context.Context, accountID string, kind ringfence.SlotKind, after string, n int) ([]ringfence.QueueEntry, error) {
	keyCond := expression.Key("pk").Equal(expression.Value(queuePK(accountID, kind)))
	if after == "" {
		keyCond = keyCond.And(expression.Key("sk").LessThanEqual(expression.Value(s.now() + "~")))
	} else {
		keyCond = keyCond.And(expression.Key("sk").Between(expression.Value(after+"\x00"), expression.Value(s.now()+"~")))
	}
	items, err := queryPage[queueItem](ctx, s, keyCond, page{consistent: true, limit: n})
	if err != nil {
		return nil, internal(err, "read queue of account %s", accountID)
	}
	entries := make([]ringfence.QueueEntry, 0, len(items))
	for _, it := range items {
		entries = append(entries, it.toDomain())
	}
	return entries, nil
}
