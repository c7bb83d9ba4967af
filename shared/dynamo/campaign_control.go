package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
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
func (s *Store) MoveCampaign(ctx context.Context, accountID, id string, to ringfence.CampaignStatus, from ...ringfence.CampaignStatus) (ringfence.Campaign, error) {
	c, err := s.GetCampaign(ctx, accountID, id)
	if err != nil {
		return c, err
	}
	if c.Status == to {
		return c, nil
	}
	allowed := make([]expression.OperandBuilder, 0, len(from))
	for _, f := range from {
		allowed = append(allowed, expression.Value(f))
	}
	set := expression.Set(expression.Name("status"), expression.Value(to)).
		Set(expression.Name("gsi2pk"), expression.Value("RUNNING#"+shardOf(id))).
		Set(expression.Name("gsi2sk"), expression.Value(s.now()))
	if to == ringfence.CampaignCancelled {
		set = set.Set(expression.Name("cancelled_at"), expression.Value(s.now()))
	}
	cond := expression.Name("account_id").Equal(expression.Value(accountID))
	if len(allowed) == 1 {
		cond = cond.And(expression.Name("status").Equal(allowed[0]))
	} else {
		cond = cond.And(expression.Name("status").In(allowed[0], allowed[1:]...))
	}
	applied, err := s.updateIf(ctx, itemKey(campaignPK(id), skCampaign), set, cond)
	if err != nil {
		return c, internal(err, "move campaign %s to %s", id, to)
	}
	if !applied {
		// Someone moved it in between: if to the same place, the move is done; else it conflicts.
		now, err := s.GetCampaign(ctx, accountID, id)
		if err == nil && now.Status == to {
			return now, nil
		}
		return c, ringfence.Errorf(ringfence.ECONFLICT, "campaign %s is %s and cannot become %s", id, now.Status, to)
	}
	return s.GetCampaign(ctx, accountID, id)
}

// cancelPendingBatch is how many never-queued contacts one transaction ends: one item each, and
// one for the campaign's counters.
const cancelPendingBatch = maxTransactionItems - 1

// CancelPendingContacts ends, as cancelled, contacts of a cancelled campaign that were never
// queued: each contact's outcome and the campaign's counters commit together, conditioned on the
// contact still having no call and no outcome, so each is counted once however many workers do
// this at once. It returns how many it ended; 0 when none is left.
func (s *Store) CancelPendingContacts(ctx context.Context, campaignID string) (int, error) {
	contacts, err := s.PendingContacts(ctx, campaignID, "", cancelPendingBatch)
	if err != nil || len(contacts) == 0 {
		return 0, err
	}
	for len(contacts) > 0 {
		var items []types.TransactWriteItem
		for _, ct := range contacts {
			u, err := s.update(itemKey(campaignPK(campaignID), contactSK(ct.ID)),
				expression.Set(expression.Name("outcome"), expression.Value(ringfence.StatusCancelled)).
					Remove(expression.Name("gsi1pk")).Remove(expression.Name("gsi1sk")),
				expression.AttributeNotExists(expression.Name("call_id")).And(expression.AttributeNotExists(expression.Name("outcome"))))
			if err != nil {
				return 0, err
			}
			items = append(items, types.TransactWriteItem{Update: u})
		}
		counters, err := s.update(itemKey(campaignPK(campaignID), skCampaign),
			expression.Add(expression.Name("calls_completed"), expression.Value(len(contacts))).
				Add(expression.Name(outcomeAttribute(ringfence.StatusCancelled)), expression.Value(len(contacts))),
			expression.Name("status").Equal(expression.Value(ringfence.CampaignCancelled)))
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
			return 0, internal(err, "cancel pending contacts of campaign %s", campaignID)
		case !reason.anyFailed():
			if !reason.conflict {
				return 0, internal(err, "cancel pending contacts of campaign %s", campaignID)
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
	expr, err := expression.NewBuilder().WithKeyCondition(keyCond).Build()
	if err != nil {
		return nil, internal(err, "build queue query")
	}
	out, err := s.client.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(s.table), KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ConsistentRead: aws.Bool(true), Limit: aws.Int32(int32(n)),
	})
	if err != nil {
		return nil, internal(err, "read queue of account %s", accountID)
	}
	entries := make([]ringfence.QueueEntry, 0, len(out.Items))
	for _, item := range out.Items {
		var it queueItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return nil, internal(err, "unmarshal queue entry")
		}
		entries = append(entries, it.toDomain())
	}
	return entries, nil
}
