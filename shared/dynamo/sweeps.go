package dynamo

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// The background jobs find their work in the sparse index gsi2, never by Scan: an item is in it
// only while it is work (a call in flight, a held slot, a running campaign, a queued call), so a
// sweep reads what it may have to act on and nothing else.

// indexKey is one item of gsi2 as the KEYS_ONLY projection returns it.
type indexKey struct {
	pk, sk, at string
}

// workBefore returns the items of gsi2 under the given prefix's shards whose gsi2sk (a time) is
// before `before` ("" for all).
func (s *Store) workBefore(ctx context.Context, prefix, before string) ([]indexKey, error) {
	var keys []indexKey
	for shard := range activeShards {
		keyCond := expression.Key("gsi2pk").Equal(expression.Value(prefix + strconv.Itoa(shard)))
		if before != "" {
			keyCond = keyCond.And(expression.Key("gsi2sk").LessThan(expression.Value(before)))
		}
		err := s.query(ctx, "gsi2", keyCond, func(item map[string]types.AttributeValue) error {
			keys = append(keys, indexKey{pk: stringAttr(item, "pk"), sk: stringAttr(item, "sk"), at: stringAttr(item, "gsi2sk")})
			return nil
		})
		if err != nil {
			return nil, internal(err, "query %s work", prefix)
		}
	}
	return keys, nil
}

func stringAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// CallsIdleSince returns the ids of calls in flight whose last activity is before `before`.
func (s *Store) CallsIdleSince(ctx context.Context, before time.Time) ([]string, error) {
	keys, err := s.workBefore(ctx, "ACTIVE#", timestamp(before))
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(keys))
	for _, k := range keys {
		ids = append(ids, strings.TrimPrefix(k.pk, "CALL#"))
	}
	return ids, nil
}

// SlotsHeldSince returns the slots taken before `before`.
func (s *Store) SlotsHeldSince(ctx context.Context, before time.Time) ([]ringfence.Slot, error) {
	keys, err := s.workBefore(ctx, "SLOT#", timestamp(before))
	if err != nil {
		return nil, err
	}
	slots := make([]ringfence.Slot, 0, len(keys))
	for _, k := range keys {
		parts := strings.SplitN(strings.TrimPrefix(k.sk, "SLOT#"), "#", 2)
		if len(parts) != 2 {
			continue
		}
		slots = append(slots, ringfence.Slot{
			AccountID: strings.TrimPrefix(k.pk, "ACCOUNT#"), Kind: ringfence.SlotKind(parts[0]), CallID: parts[1], StartedAt: k.at,
		})
	}
	return slots, nil
}

// RunningCampaigns returns the ids of campaigns that are running.
func (s *Store) RunningCampaigns(ctx context.Context) ([]string, error) {
	keys, err := s.workBefore(ctx, "RUNNING#", "")
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(keys))
	for _, k := range keys {
		ids = append(ids, strings.TrimPrefix(k.pk, "CAMPAIGN#"))
	}
	return ids, nil
}

// ReleaseOrphanSlot releases a slot item whose call does not hold it (the call ended, or is
// missing): the slot item goes and the counter drops by one, under the conditions that the slot is
// still there and the call still does not hold it. It reports whether this call released it.
func (s *Store) ReleaseOrphanSlot(ctx context.Context, sl ringfence.Slot) (bool, error) {
	counter, err := s.update(itemKey(accountPK(sl.AccountID), slotCounterSK(sl.Kind)),
		expression.Add(expression.Name("in_use"), expression.Value(-1)),
		expression.AttributeExists(expression.Name("pk")))
	if err != nil {
		return false, err
	}
	items := []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{
			TableName: aws.String(s.table), Key: itemKey(callPK(sl.CallID), skCall),
			ConditionExpression: aws.String("attribute_not_exists(slot_kind)"),
		}},
		{Delete: &types.Delete{
			TableName: aws.String(s.table), Key: itemKey(accountPK(sl.AccountID), slotSK(sl.Kind, sl.CallID)),
			ConditionExpression: aws.String("attribute_exists(pk)"),
		}},
		{Update: counter},
	}
	err = s.transact(ctx, items, "release orphan slot of call %s", sl.CallID)
	var cancelled *cancelledAt
	if errors.As(err, &cancelled) {
		return false, nil // The call holds it after all, or someone released it first.
	}
	return err == nil, err
}

// MarkCallChecked records that the provider reported a quiet call still live at `at`: the call's
// activity moves forward to `at`, so the sweep asks again only after another quiet spell rather
// than every run, and the call's history says so. It writes only while the call is not over and
// its activity is older than `at`: the mark only ever moves the activity forward, so a sweep that
// judged the call stale on the activity it saw (seenActivity or older) stands down, and a webhook
// that moved the call later is never set back. It reports whether it wrote.
func (s *Store) MarkCallChecked(ctx context.Context, callID string, at time.Time, status ringfence.CallStatus) (bool, error) {
	now := s.now()
	entry := "checked with the provider: live"
	if status != "" {
		entry += " (" + string(status) + ")"
	}
	set := withHistory(expression.Set(expression.Name("gsi2sk"), expression.Value(timestamp(at))), now, entry)
	cond := expression.Name("gsi2sk").LessThan(expression.Value(timestamp(at))).
		And(expression.Name("status_rank").LessThan(expression.Value(ringfence.TerminalRank)))
	ok, err := s.updateIf(ctx, itemKey(callPK(callID), skCall), set, cond)
	if err != nil {
		return false, internal(err, "mark call %s checked", callID)
	}
	return ok, nil
}
