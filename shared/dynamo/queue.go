package dynamo

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// EnqueueCall creates a call that waits for a slot: the call (status queued) and its queue entry,
// and for a campaign call the contact's claim, in one transaction.
func (s *Store) EnqueueCall(ctx context.Context, c ringfence.Call, kind ringfence.SlotKind) (ringfence.Call, error) {
	notBefore := s.now()
	if !c.HeldUntil.IsZero() {
		notBefore = timestamp(c.HeldUntil) // Held back by the contact frequency cap until then.
	}
	items, c, err := s.enqueueItems(c, kind, s.now(), notBefore)
	if err != nil {
		return c, err
	}
	if err := s.transact(ctx, items, "enqueue call %s", c.ID); err != nil {
		var cancelled *cancelledAt
		if errors.As(err, &cancelled) {
			return c, ringfence.Errorf(ringfence.ECONFLICT, "call %s or its contact's call exists already", c.ID)
		}
		return c, err
	}
	return c, nil
}

// enqueueBatch is how many calls go into one transaction: each takes three items (call, queue
// entry, contact claim) and a transaction holds at most 100.
const enqueueBatch = maxTransactionItems / 3

// EnqueueCalls enqueues many calls, a batch per transaction. A batch that fails because one of its
// calls exists already (a contact that has its call) is retried call by call, so each call that
// can be enqueued is, once. It returns how many calls it enqueued.
func (s *Store) EnqueueCalls(ctx context.Context, calls []ringfence.Call, kind ringfence.SlotKind) (int, error) {
	enqueued := 0
	for start := 0; start < len(calls); start += enqueueBatch {
		batch := calls[start:min(start+enqueueBatch, len(calls))]
		now := s.now()
		var items []types.TransactWriteItem
		for _, c := range batch {
			more, _, err := s.enqueueItems(c, kind, now, now)
			if err != nil {
				return enqueued, err
			}
			items = append(items, more...)
		}
		err := s.transact(ctx, items, "enqueue %d calls", len(batch))
		var cancelled *cancelledAt
		if errors.As(err, &cancelled) {
			for _, c := range batch {
				_, err := s.EnqueueCall(ctx, c, kind)
				if ringfence.ErrorCode(err) == ringfence.ECONFLICT {
					continue
				}
				if err != nil {
					return enqueued, err
				}
				enqueued++
			}
			continue
		}
		if err != nil {
			return enqueued, err
		}
		enqueued += len(batch)
	}
	return enqueued, nil
}

// enqueueItems are the writes that put a call in the queue: the call, created queued, and its
// entry, whose sort key starts with the time from which it may be dialled (notBefore), so the
// queue is read in that order and a call scheduled for later waits until then.
func (s *Store) enqueueItems(c ringfence.Call, kind ringfence.SlotKind, now, notBefore string) ([]types.TransactWriteItem, ringfence.Call, error) {
	c.Status, c.SlotKind, c.QueueKey = ringfence.StatusQueued, "", notBefore+"#"+c.ID
	call, err := s.putNew(s.newCallItem(c, now))
	if err != nil {
		return nil, c, err
	}
	q := queueItem{
		PK: queuePK(c.AccountID, kind), SK: c.QueueKey, GSI2PK: "QUEUE#" + shardOf(c.AccountID), GSI2SK: now,
		CallID: c.ID, AccountID: c.AccountID, Kind: string(kind), EnqueuedAt: now,
	}
	if sc := c.Schedule; sc != nil {
		q.CustomerID, q.CallType, q.LocalDate = sc.CustomerID, string(sc.Type), sc.LocalDate
	}
	q.CampaignID, q.hoursAttributes, q.ToNumber = c.CampaignID, hoursAttributesOf(c.Hours), c.ToNumber
	q.windowAttributes = windowOf(c.Hours, notBefore)
	q.RespectFrequency = c.RespectFrequency || c.CampaignID != ""
	entry, err := s.putNew(q)
	if err != nil {
		return nil, c, err
	}
	items := []types.TransactWriteItem{call, entry}
	if c.ContactID != "" {
		claim, err := s.claimContactForCall(c)
		if err != nil {
			return nil, c, err
		}
		items = append(items, claim)
	}
	return items, c, nil
}

// QueuedAccounts returns every (account, kind) that has calls waiting, from the sparse index gsi2,
// so the scheduled dispatcher's cost grows with the queues, not with the table.
func (s *Store) QueuedAccounts(ctx context.Context) ([]ringfence.QueueEntry, error) {
	seen := map[string]bool{}
	var out []ringfence.QueueEntry
	for shard := range activeShards {
		keyCond := expression.Key("gsi2pk").Equal(expression.Value("QUEUE#" + strconv.Itoa(shard)))
		err := s.query(ctx, "gsi2", keyCond, func(item map[string]types.AttributeValue) error {
			pk := item["pk"].(*types.AttributeValueMemberS).Value
			if seen[pk] {
				return nil
			}
			seen[pk] = true
			rest := strings.TrimPrefix(pk, "QUEUE#")
			i := strings.LastIndex(rest, "#")
			if i < 0 {
				return nil
			}
			out = append(out, ringfence.QueueEntry{AccountID: rest[:i], Kind: ringfence.SlotKind(rest[i+1:])})
			return nil
		})
		if err != nil {
			return nil, internal(err, "list queues")
		}
	}
	return out, nil
}

// QueueLength counts the entries waiting in an account's queue of one kind up to and including
// key ("" counts them all), which is a waiting call's position.
func (s *Store) QueueLength(ctx context.Context, accountID string, kind ringfence.SlotKind, key string) (int, error) {
	keyCond := expression.Key("pk").Equal(expression.Value(queuePK(accountID, kind)))
	if key != "" {
		keyCond = keyCond.And(expression.Key("sk").LessThanEqual(expression.Value(key)))
	}
	n := 0
	err := s.query(ctx, "", keyCond, func(map[string]types.AttributeValue) error { n++; return nil })
	if err != nil {
		return 0, internal(err, "count queue of account %s", accountID)
	}
	return n, nil
}

// CountQueued counts the entries waiting in an account's queue of one kind, reading at most `most`
// of them: a render of the dashboard, or a check that anyone waits, costs the same however long
// the queue is. more reports that the queue holds more than most.
func (s *Store) CountQueued(ctx context.Context, accountID string, kind ringfence.SlotKind, most int) (n int, more bool, err error) {
	keyCond := expression.Key("pk").Equal(expression.Value(queuePK(accountID, kind)))
	items, err := queryPage[queueItem](ctx, s, keyCond, page{consistent: true, limit: most + 1})
	if err != nil {
		return 0, false, internal(err, "count queue of account %s", accountID)
	}
	return min(len(items), most), len(items) > most, nil
}

// NextQueued returns up to n entries at the head of an account's queue of one kind that may be
// dialled now (entries scheduled for later stay).
func (s *Store) NextQueued(ctx context.Context, accountID string, kind ringfence.SlotKind, n int) ([]ringfence.QueueEntry, error) {
	return s.NextQueuedAfter(ctx, accountID, kind, "", n)
}

// ClaimQueued leases a queue entry to owner until now+lease, if no one else holds a live lease on
// it. Two dispatchers that see the same entry both try; the condition lets exactly one through,
// and the other skips the entry, like SELECT ... FOR UPDATE SKIP LOCKED.
func (s *Store) ClaimQueued(ctx context.Context, e ringfence.QueueEntry, owner string, lease time.Duration) (bool, error) {
	now := s.Now()
	set := expression.Set(expression.Name("lease_owner"), expression.Value(owner)).
		Set(expression.Name("lease_until"), expression.Value(timestamp(now.Add(lease))))
	cond := expression.AttributeExists(expression.Name("pk")).And(expression.Or(
		expression.AttributeNotExists(expression.Name("lease_until")),
		expression.Name("lease_until").LessThan(expression.Value(timestamp(now)))))
	applied, err := s.updateIf(ctx, itemKey(queuePK(e.AccountID, e.Kind), e.Key), set, cond)
	if err != nil {
		return false, internal(err, "claim queue entry of call %s", e.CallID)
	}
	if !applied {
		return false, nil
	}
	return true, nil
}

// ReleaseLease gives a claimed entry back to the queue, for the next dispatcher.
func (s *Store) ReleaseLease(ctx context.Context, e ringfence.QueueEntry, owner string) error {
	if _, err := s.updateIf(ctx, itemKey(queuePK(e.AccountID, e.Kind), e.Key),
		expression.Remove(expression.Name("lease_owner")).Remove(expression.Name("lease_until")),
		expression.Name("lease_owner").Equal(expression.Value(owner))); err != nil {
		return internal(err, "release lease on call %s", e.CallID)
	}
	return nil
}

// ErrNotQueued says a leased entry's call no longer waits (it was cancelled, or another
// dispatcher took it after the lease ran out); the entry is gone or not ours.
var ErrNotQueued = errors.New("the call no longer waits in the queue")

// TakeSlotForQueued moves a leased queue entry's call to a slot: the counter's ADD, the slot item,
// the call's move from queued to dialing, and the entry's deletion (conditioned on our lease)
// commit together, with, for a campaign call, the check that its campaign is running, and the
// check that the number is not suppressed. It returns ringfence.ErrAtLimit when no slot is free,
// ErrCampaignNotRunning when the campaign is paused, cancelled or at its max_concurrency (the entry
// keeps waiting, under our lease), ErrSuppressed for a suppressed number, and ErrNotQueued when
// the entry or its call moved on; in that case the entry has been removed if it was ours.
func (s *Store) TakeSlotForQueued(ctx context.Context, e ringfence.QueueEntry, owner string, limit int) (ringfence.Call, error) {
	now := s.now()
	take, err := s.takeSlot(e.AccountID, e.Kind, limit)
	if err != nil {
		return ringfence.Call{}, err
	}
	slot, err := s.putNew(newSlotItem(e.AccountID, e.Kind, e.CallID, now))
	if err != nil {
		return ringfence.Call{}, err
	}
	call, err := s.update(itemKey(callPK(e.CallID), skCall),
		withHistory(expression.Set(expression.Name("status"), expression.Value(ringfence.StatusDialing)), now, "dialing from the queue").
			Set(expression.Name("status_rank"), expression.Value(ringfence.StatusDialing.Rank())).
			Set(expression.Name("slot_kind"), expression.Value(e.Kind)).
			Set(expression.Name("dial_started_at"), expression.Value(now)).
			Set(expression.Name("updated_at"), expression.Value(now)).
			Set(expression.Name("gsi2pk"), expression.Value(activeShardKey(e.CallID))).
			Set(expression.Name("gsi2sk"), expression.Value(now)).
			Remove(expression.Name("queue_key")).Remove(expression.Name("held")).Remove(expression.Name("held_until")),
		expression.Name("status_rank").Equal(expression.Value(ringfence.StatusQueued.Rank())).
			And(expression.AttributeNotExists(expression.Name("slot_kind"))))
	if err != nil {
		return ringfence.Call{}, err
	}
	entry, err := s.claimEntry(e, owner, now)
	if err != nil {
		return ringfence.Call{}, err
	}
	items := []types.TransactWriteItem{take, slot, {Update: call}, entry}
	if e.CampaignID != "" {
		// The claim of a campaign call holds only while its campaign runs: once a pause or a
		// cancel has committed, no dial of the campaign starts.
		// It also takes one of the campaign's own max_concurrency, counted in in_flight.
		running, err := s.update(itemKey(campaignPK(e.CampaignID), skCampaign),
			expression.Add(expression.Name("in_flight"), expression.Value(1)),
			expression.Name("status").Equal(expression.Value(ringfence.CampaignRunning)).And(expression.Or(
				expression.AttributeNotExists(expression.Name("max_concurrency")),
				expression.AttributeNotExists(expression.Name("in_flight")),
				expression.Name("in_flight").LessThan(expression.Name("max_concurrency")))).
				And(beforeEnd(now)))
		if err != nil {
			return ringfence.Call{}, err
		}
		items = append(items, types.TransactWriteItem{Update: running})
	}
	suppressedAt := -1
	if e.ToNumber != "" {
		// A suppressed number is never dialled: the claim holds only while it is not.
		check, err := s.notSuppressed(e.AccountID, e.ToNumber)
		if err != nil {
			return ringfence.Call{}, err
		}
		suppressedAt = len(items)
		items = append(items, check)
	}
	var cancelled *cancelledAt
	for attempt := 0; ; attempt++ {
		all, freqAt, claim, err2 := s.withDialCounted(ctx, items, e.AccountID, e.ToNumber, e.RespectFrequency)
		if err2 != nil {
			return ringfence.Call{}, err2
		}
		err = s.transact(ctx, all, "take a slot for queued call %s", e.CallID)
		if errors.As(err, &cancelled) && cancelled.item == freqAt {
			// The number has had its calls for the period (HeldError), or another dial of it
			// committed since the read: then read again.
			held := s.heldOrRace(ctx, e.AccountID, e.ToNumber, claim)
			if errors.Is(held, errFrequencyRace) && attempt < maxApplyAttempts {
				continue
			}
			return ringfence.Call{}, held
		}
		break
	}
	switch {
	case err == nil:
		return s.GetCall(ctx, e.CallID)
	case errors.As(err, &cancelled) && cancelled.item == suppressedAt:
		return ringfence.Call{}, ErrSuppressed
	case errors.As(err, &cancelled) && cancelled.item == 4:
		return ringfence.Call{}, ErrCampaignNotRunning
	case errors.As(err, &cancelled) && cancelled.item == 0:
		return ringfence.Call{}, ringfence.ErrAtLimit
	case errors.As(err, &cancelled) && cancelled.item == 3:
		// The entry's condition failed: our lease, or its calling window.
		if s.stillLeased(ctx, e, owner) {
			return ringfence.Call{}, ErrOutsideWindow
		}
		return ringfence.Call{}, ErrNotQueued
	case errors.As(err, &cancelled) && cancelled.item == 2:
		// The call left the queue some other way; its entry is stale.
		return ringfence.Call{}, errors.Join(ErrNotQueued, s.dropQueueEntry(ctx, e, owner))
	case errors.As(err, &cancelled):
		return ringfence.Call{}, ErrNotQueued
	}
	return ringfence.Call{}, err
}

// claimEntry is the deletion of a leased queue entry that commits with its dial: conditioned on
// our lease and, for a call with calling hours, on the clock being inside the entry's window, so
// that a call whose window closed while it waited is never dialled, whatever was read before.
func (s *Store) claimEntry(e ringfence.QueueEntry, owner, now string) (types.TransactWriteItem, error) {
	cond := expression.Name("lease_owner").Equal(expression.Value(owner))
	if e.Hours != nil {
		cond = cond.And(insideWindow(now))
	}
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return types.TransactWriteItem{}, internal(err, "build the claim of call %s", e.CallID)
	}
	return types.TransactWriteItem{Delete: &types.Delete{
		TableName: aws.String(s.table), Key: itemKey(queuePK(e.AccountID, e.Kind), e.Key),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}}, nil
}

// stillLeased reports whether owner still holds the lease on a queue entry, after a claim on it
// failed: if so, the claim failed for the entry's calling window.
func (s *Store) stillLeased(ctx context.Context, e ringfence.QueueEntry, owner string) bool {
	var it queueItem
	found, err := s.getItem(ctx, itemKey(queuePK(e.AccountID, e.Kind), e.Key), true, &it)
	return err == nil && found && it.LeaseOwner == owner
}

// ErrOutsideWindow says a leased entry's calling window is not open now: it waits for the next.
var ErrOutsideWindow = errors.New("the call's calling window is not open")

// beforeEnd is the condition of a campaign dial claim that the campaign's end_at, if it has one,
// has not come by the store's clock: from end_at on, no dial of the campaign starts.
func beforeEnd(now string) expression.ConditionBuilder {
	return expression.Or(expression.AttributeNotExists(expression.Name("end_at")),
		expression.Name("end_at").GreaterThan(expression.Value(now)))
}

func (s *Store) dropQueueEntry(ctx context.Context, e ringfence.QueueEntry, owner string) error {
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table), Key: itemKey(queuePK(e.AccountID, e.Kind), e.Key),
		ConditionExpression:       aws.String("lease_owner = :owner"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":owner": &types.AttributeValueMemberS{Value: owner}},
	})
	if err != nil && !conditionFailed(err) {
		return internal(err, "drop stale queue entry of call %s", e.CallID)
	}
	return nil
}

// QueueEntries returns every entry of an account's queue of one kind, oldest first, including
// those scheduled for later. It is for maintenance: the dispatcher reads only the head.
func (s *Store) QueueEntries(ctx context.Context, accountID string, kind ringfence.SlotKind) ([]ringfence.QueueEntry, error) {
	keyCond := expression.Key("pk").Equal(expression.Value(queuePK(accountID, kind)))
	var out []ringfence.QueueEntry
	err := queryInto(ctx, s, "", keyCond, func(it queueItem) { out = append(out, it.toDomain()) })
	if err != nil {
		return nil, internal(err, "read the queue of account %s", accountID)
	}
	return out, nil
}

// DeleteQueueEntry removes a queue entry that has no call to end with it (an imported one).
func (s *Store) DeleteQueueEntry(ctx context.Context, e ringfence.QueueEntry) error {
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: itemKey(queuePK(e.AccountID, e.Kind), e.Key)})
	if err != nil {
		return internal(err, "delete queue entry of call %s", e.CallID)
	}
	return nil
}

// queueKind is the queue a waiting call is in: campaign calls wait for campaign slots.
func queueKind(c ringfence.Call) ringfence.SlotKind {
	if c.CampaignID != "" {
		return ringfence.SlotCampaign
	}
	return ringfence.SlotDirect
}
