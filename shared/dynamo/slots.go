package dynamo

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
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

// newSlotItem is a held slot. It is in the sparse index gsi2 (SLOT#<shard>, by start time), so
// the leaked-slot sweep finds old slots by Query.
func newSlotItem(accountID string, kind ringfence.SlotKind, callID, now string) slotItem {
	return slotItem{
		PK: accountPK(accountID), SK: slotSK(kind, callID), GSI2PK: "SLOT#" + shardOf(callID), GSI2SK: now,
		AccountID: accountID, Kind: string(kind), CallID: callID, StartedAt: now,
	}
}
