package dynamo

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// takeSlot is the counter update that takes one slot: ADD 1, only while fewer than limit are held.
// Whatever the concurrency, DynamoDB evaluates the condition and the ADD as one step on the item,
// so the count never passes the limit.
func (s *Store) takeSlot(accountID string, kind ringfence.SlotKind, limit int) (types.TransactWriteItem, error) {
	if limit <= 0 {
		return types.TransactWriteItem{}, ringfence.ErrAtLimit
	}
	add := expression.Add(expression.Name("in_use"), expression.Value(1))
	cond := expression.Or(
		expression.AttributeNotExists(expression.Name("in_use")),
		expression.Name("in_use").LessThan(expression.Value(limit)))
	u, err := s.update(itemKey(accountPK(accountID), slotCounterSK(kind)), add, cond)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Update: u}, nil
}

// giveSlotBack are the writes that release the slot a call holds: the slot item goes, the counter
// drops by one. They are always written together with the call's REMOVE slot_kind, conditioned on
// the call still holding the slot, which is what makes a release happen once.
func (s *Store) giveSlotBack(c ringfence.Call) ([]types.TransactWriteItem, error) {
	counter, err := s.update(itemKey(accountPK(c.AccountID), slotCounterSK(c.SlotKind)),
		expression.Add(expression.Name("in_use"), expression.Value(-1)),
		expression.AttributeExists(expression.Name("pk")))
	if err != nil {
		return nil, err
	}
	return []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: aws.String(s.table), Key: itemKey(accountPK(c.AccountID), slotSK(c.SlotKind, c.ID))}},
		{Update: counter},
	}, nil
}

func (s *Store) newCallItem(c ringfence.Call, now string) callItem {
	it := callItem{
		PK: callPK(c.ID), SK: skCall,
		ID: c.ID, AccountID: c.AccountID, CampaignID: c.CampaignID, ContactID: c.ContactID,
		Provider: string(c.Provider), ProviderCallID: c.ProviderCallID,
		Status: string(c.Status), StatusRank: c.Status.Rank(),
		SlotKind: string(c.SlotKind), QueueKey: c.QueueKey, Variables: c.Variables, Direction: string(c.Direction),
		CompanyID: c.Context.CompanyID, CompanyName: c.Context.CompanyName, BranchID: c.Context.BranchID,
		BranchName: c.Context.BranchName, Greeting: c.Context.Greeting, CustomerID: c.Context.CustomerID,
		CustomerName: c.Context.CustomerName, Anonymous: c.Context.Anonymous,
		ToNumber: c.ToNumber, FromNumber: c.FromNumber, AgentID: c.AgentID,
		CreatedAt: now, UpdatedAt: now, History: []string{now + " created " + string(c.Status)},
		Held: c.Held, RespectFrequency: c.RespectFrequency,
	}
	if !c.HeldUntil.IsZero() {
		it.HeldUntil = timestamp(c.HeldUntil)
	}
	if c.CampaignID != "" {
		it.GSI1PK, it.GSI1SK = campaignCallsGSI1PK(c.CampaignID), "CALL#"+c.ID
		it.CampaignAttempt = c.Attempt
		it.RetryStatuses, it.RetryMax, it.RetryDelays = retryAttributes(c.Retry)
		it.hoursAttributes = hoursAttributesOf(c.Hours)
		it.BusyRefusals = c.BusyRefusals
	}
	if sc := c.Schedule; sc != nil {
		it.CustomerID, it.CallType, it.LocalDate, it.Attempt = sc.CustomerID, string(sc.Type), sc.LocalDate, sc.Attempt
	}
	if c.Status == ringfence.StatusDialing {
		it.DialStartedAt = now
	}
	// A call in flight is in the sparse index the stale-call sweep reads; a call that waits in
	// the queue enters it when it is dialled, and a call leaves it when it ends.
	if !c.Status.IsTerminal() && c.Status != ringfence.StatusQueued {
		it.GSI2PK, it.GSI2SK = activeShardKey(c.ID), now
	}
	return it
}

// CreateCallWithSlot creates a call that holds a slot of its kind and is claimed for dialling:
// the counter's ADD, the slot item, the call (status dialing) and, for a campaign call, the
// contact's claim commit together. It returns ringfence.ErrAtLimit when the account already
// holds limit slots of the kind, ErrSuppressed when the number is suppressed, and ECONFLICT when
// the call or the contact's call exists.
func (s *Store) CreateCallWithSlot(ctx context.Context, c ringfence.Call, kind ringfence.SlotKind, limit int) (ringfence.Call, error) {
	now := s.now()
	c.Status, c.SlotKind, c.QueueKey = ringfence.StatusDialing, kind, ""
	take, err := s.takeSlot(c.AccountID, kind, limit)
	if err != nil {
		return c, err
	}
	slot, err := s.putNew(newSlotItem(c.AccountID, kind, c.ID, now))
	if err != nil {
		return c, err
	}
	call, err := s.putNew(s.newCallItem(c, now))
	if err != nil {
		return c, err
	}
	items := []types.TransactWriteItem{take, slot, call}
	if c.ContactID != "" {
		claim, err := s.claimContactForCall(c)
		if err != nil {
			return c, err
		}
		items = append(items, claim)
	}
	suppressedAt := -1
	if c.ToNumber != "" {
		check, err := s.notSuppressed(c.AccountID, c.ToNumber)
		if err != nil {
			return c, err
		}
		suppressedAt = len(items)
		items = append(items, check)
	}
	for attempt := 0; ; attempt++ {
		all, freqAt, claim, err := s.withDialCounted(ctx, items, c.AccountID, c.ToNumber, c.RespectFrequency)
		if err != nil {
			return c, err
		}
		err = s.transact(ctx, all, "create call %s with a slot", c.ID)
		var cancelled *cancelledAt
		if errors.As(err, &cancelled) && cancelled.item == freqAt {
			// Held by the cap, or another dial of the number committed since the read.
			err := s.heldOrRace(ctx, c.AccountID, c.ToNumber, claim)
			if errors.Is(err, errFrequencyRace) && attempt < maxApplyAttempts {
				continue
			}
			return c, err
		}
		if err == nil {
			break
		}
		if errors.As(err, &cancelled) {
			if cancelled.item == suppressedAt {
				return c, ErrSuppressed
			}
			if cancelled.item == 0 {
				return c, ringfence.ErrAtLimit
			}
			return c, ringfence.Errorf(ringfence.ECONFLICT, "call %s or its contact's call exists already", c.ID)
		}
		return c, err
	}
	c.DialStartedAt = parseTime(now)
	return c, nil
}

// withDialCounted returns a dial claim's items with, when the account has a contact frequency
// cap, the update that records the dial against the number (conditioned on the cap when respect
// is set), and its index (-1 without a cap).
func (s *Store) withDialCounted(ctx context.Context, items []types.TransactWriteItem, accountID, e164 string, respect bool) ([]types.TransactWriteItem, int, frequencyClaim, error) {
	claim, counted, err := s.countDial(ctx, accountID, e164, respect)
	if err != nil || !counted {
		return items, -1, claim, err
	}
	all := append(append([]types.TransactWriteItem{}, items...), claim.item)
	return all, len(all) - 1, claim, nil
}

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

// RecordProviderCallID stores the provider's id for a call on the call, on its slot and in the
// lookup item, in one transaction, so a webhook that carries only that id finds the call (and
// releases the slot) at once. Recording the same id twice is a no-op.
func (s *Store) RecordProviderCallID(ctx context.Context, callID, providerCallID string) error {
	for attempt := 0; attempt < maxApplyAttempts; attempt++ {
		c, err := s.GetCall(ctx, callID)
		if err != nil {
			return err
		}
		if c.ProviderCallID == providerCallID {
			return nil
		}
		if c.ProviderCallID != "" {
			return ringfence.Errorf(ringfence.ECONFLICT, "call %s already has %s call id %s, not %s", callID, c.Provider, c.ProviderCallID, providerCallID)
		}
		now := s.now()
		set := withHistory(expression.Set(expression.Name("provider_call_id"), expression.Value(providerCallID)).
			Set(expression.Name("updated_at"), expression.Value(now)).
			Remove(expression.Name("dial_error")), now, "accepted by "+string(c.Provider)+" as "+providerCallID)
		cond := expression.AttributeNotExists(expression.Name("provider_call_id")).And(stillEqual("slot_kind", string(c.SlotKind)))
		if c.Status.Rank() < ringfence.StatusInitiated.Rank() {
			// The provider accepted the call: it is initiated, unless a webhook already said more.
			set = set.Set(expression.Name("status"), expression.Value(ringfence.StatusInitiated)).
				Set(expression.Name("status_rank"), expression.Value(ringfence.StatusInitiated.Rank()))
			cond = cond.And(expression.Name("status_rank").LessThan(expression.Value(ringfence.StatusInitiated.Rank())))
		}
		call, err := s.update(itemKey(callPK(c.ID), skCall), set, cond)
		if err != nil {
			return err
		}
		lookup, err := s.putNew(providerCallItem{PK: providerCallPK(c.Provider, providerCallID), SK: skProviderCall, CallID: c.ID})
		if err != nil {
			return err
		}
		items := []types.TransactWriteItem{{Update: call}, lookup}
		if c.SlotKind != "" {
			slot, err := s.update(itemKey(accountPK(c.AccountID), slotSK(c.SlotKind, c.ID)),
				expression.Set(expression.Name("execution_id"), expression.Value(providerCallID)),
				expression.AttributeExists(expression.Name("pk")))
			if err != nil {
				return err
			}
			items = append(items, types.TransactWriteItem{Update: slot})
		}
		err = s.transact(ctx, items, "record %s call id of call %s", c.Provider, c.ID)
		var cancelled *cancelledAt
		if errors.As(err, &cancelled) {
			if cancelled.item == 1 {
				return ringfence.Errorf(ringfence.ECONFLICT, "%s call id %s belongs to another call", c.Provider, providerCallID)
			}
			if err := pause(ctx, attempt); err != nil {
				return err
			}
			continue // The call changed since it was read; read it again.
		}
		return err
	}
	return ringfence.Errorf(ringfence.EUNAVAILABLE, "call %s is being updated by many writers at once; retry", callID)
}

// ReleaseSlot gives back the slot a call holds, if it holds one, and reports whether this call
// released it. Releasing twice, or by call id and then by provider call id, frees one slot.
func (s *Store) ReleaseSlot(ctx context.Context, callID string) (bool, error) {
	for attempt := 0; attempt < maxApplyAttempts; attempt++ {
		c, err := s.GetCall(ctx, callID)
		if err != nil || c.SlotKind == "" {
			return false, err
		}
		call, err := s.update(itemKey(callPK(c.ID), skCall),
			expression.Remove(expression.Name("slot_kind")).Set(expression.Name("updated_at"), expression.Value(s.now())),
			expression.Name("slot_kind").Equal(expression.Value(c.SlotKind)))
		if err != nil {
			return false, err
		}
		slot, err := s.giveSlotBack(c)
		if err != nil {
			return false, err
		}
		if flight, ok, err := s.campaignFlightBack(c); err != nil {
			return false, err
		} else if ok {
			slot = append(slot, flight)
		}
		err = s.transact(ctx, append([]types.TransactWriteItem{{Update: call}}, slot...), "release slot of call %s", c.ID)
		var cancelled *cancelledAt
		if errors.As(err, &cancelled) {
			if err := pause(ctx, attempt); err != nil {
				return false, err
			}
			continue // Someone else released it, or the call changed: look again.
		}
		return err == nil, err
	}
	return false, ringfence.Errorf(ringfence.EUNAVAILABLE, "call %s is being updated by many writers at once; retry", callID)
}

// ReleaseSlotByProviderCallID is ReleaseSlot for a call known by its provider's id.
func (s *Store) ReleaseSlotByProviderCallID(ctx context.Context, p ringfence.Provider, providerCallID string) (bool, error) {
	callID, err := s.CallIDByProviderCallID(ctx, p, providerCallID)
	if err != nil {
		return false, err
	}
	return s.ReleaseSlot(ctx, callID)
}

// ListSlots returns an account's held slots and its count per kind.
func (s *Store) ListSlots(ctx context.Context, accountID string) (map[ringfence.SlotKind]int, []ringfence.Slot, error) {
	keyCond := expression.Key("pk").Equal(expression.Value(accountPK(accountID))).And(expression.Key("sk").BeginsWith("SLOT"))
	counts := map[ringfence.SlotKind]int{}
	var slots []ringfence.Slot
	err := s.query(ctx, "", keyCond, func(item map[string]types.AttributeValue) error {
		sk := item["sk"].(*types.AttributeValueMemberS).Value
		if kind, ok := strings.CutPrefix(sk, "SLOTS#"); ok {
			if n, ok := item["in_use"].(*types.AttributeValueMemberN); ok {
				counts[ringfence.SlotKind(kind)], _ = strconv.Atoi(n.Value)
			}
			return nil
		}
		var it slotItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return err
		}
		slots = append(slots, ringfence.Slot{AccountID: it.AccountID, Kind: ringfence.SlotKind(it.Kind), CallID: it.CallID, ProviderCallID: it.ProviderCallID, StartedAt: it.StartedAt})
		return nil
	})
	if err != nil {
		return nil, nil, internal(err, "list slots of account %s", accountID)
	}
	return counts, slots, nil
}

// cancelledAt is a transaction cancelled because the condition of item `item` was false.
type cancelledAt struct {
	item int
	err  error
}

func (c *cancelledAt) Error() string {
	return "transaction condition failed at item " + strconv.Itoa(c.item)
}
func (c *cancelledAt) Unwrap() error { return c.err }

// transact runs a transaction, retrying when DynamoDB cancelled it for a conflict with another
// transaction (nothing was written, so a retry is safe). A failed condition comes back as
// *cancelledAt naming the first item whose condition was false.
func (s *Store) transact(ctx context.Context, items []types.TransactWriteItem, format string, args ...any) error {
	for attempt := 0; ; attempt++ {
		_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return nil
		}
		reason, ok := transactionCancelled(err)
		if !ok {
			return internal(err, format, args...)
		}
		for i := range items {
			if reason.failedAt(i) {
				return &cancelledAt{item: i, err: err}
			}
		}
		if !reason.conflict || attempt >= maxApplyAttempts {
			return internal(err, format, args...)
		}
		if err := pause(ctx, attempt); err != nil {
			return err
		}
	}
}

func updateInput(u *types.Update) *dynamodb.UpdateItemInput {
	return &dynamodb.UpdateItemInput{
		TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression,
		ConditionExpression: u.ConditionExpression, ExpressionAttributeNames: u.ExpressionAttributeNames,
		ExpressionAttributeValues: u.ExpressionAttributeValues,
	}
}

// shardOf spreads keys over the sparse index's shards.
func shardOf(id string) string { return strings.TrimPrefix(activeShardKey(id), "ACTIVE#") }

// newSlotItem is a held slot. It is in the sparse index gsi2 (SLOT#<shard>, by start time), so
// the leaked-slot sweep finds old slots by Query.
func newSlotItem(accountID string, kind ringfence.SlotKind, callID, now string) slotItem {
	return slotItem{
		PK: accountPK(accountID), SK: slotSK(kind, callID), GSI2PK: "SLOT#" + shardOf(callID), GSI2SK: now,
		AccountID: accountID, Kind: string(kind), CallID: callID, StartedAt: now,
	}
}

func (it queueItem) toDomain() ringfence.QueueEntry {
	e := ringfence.QueueEntry{AccountID: it.AccountID, Kind: ringfence.SlotKind(it.Kind), Key: it.SK, CallID: it.CallID, EnqueuedAt: it.EnqueuedAt, CampaignID: it.CampaignID, Hours: it.hoursAttributes.toDomain(), ToNumber: it.ToNumber,
		RespectFrequency: it.RespectFrequency || it.CampaignID != ""}
	if it.CallType != "" {
		e.Schedule = &ringfence.ScheduledCall{CustomerID: it.CustomerID, Type: ringfence.CallType(it.CallType), LocalDate: it.LocalDate}
	}
	return e
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
