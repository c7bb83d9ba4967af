package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// parkedFor is how long a parked event is kept before TTL removes it.
const parkedFor = 7 * 24 * time.Hour

// MaxParkedPerCall is how many distinct events may wait at once for one provider call id. A
// real call's distinct reports are a handful (Bolna's statuses, Retell's three events, Vapi's
// status updates and report), so the cap is far above any real call and bounds what a flood of
// deliveries for one id can store.
const MaxParkedPerCall = 50

// parkedCounterSK is the sort key of the item counting a provider call's parked events.
const parkedCounterSK = "COUNT"

// parkedEventPrefix starts the sort key of every parked event: a hash of the event itself.
const parkedEventPrefix = "EVENT#"

// ParkEvent keeps an event that cannot be applied yet: its call is not known yet (the provider's
// webhook outran the answer to the dial), or the store failed while applying it. It is applied
// when the provider's call id is recorded, or by the sweep.
//
// The event's key is a hash of the event, and the put is conditional on the key being new, so a
// replayed identical delivery is kept once and costs nothing more. The put commits with the
// provider call's count of parked events, conditioned on the count being below
// MaxParkedPerCall; past the cap the event is refused (ETOOMANY), never stored or dropped
// silently.
func (s *Store) ParkEvent(ctx context.Context, ev ringfence.CallEvent) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return internal(err, "marshal parked event")
	}
	sum := sha256.Sum256(b)
	now := s.Now()
	pk := parkedPK(ev.Provider, ev.ProviderCallID)
	put, err := s.putNew(parkedItem{
		PK: pk, SK: parkedEventPrefix + hex.EncodeToString(sum[:]),
		GSI2PK: "PARKED#" + shardOf(ev.ProviderCallID), GSI2SK: timestamp(now),
		Provider: string(ev.Provider), Event: string(b), ExpiresAt: now.Add(parkedFor).Unix(),
	})
	if err != nil {
		return err
	}
	count, err := s.update(itemKey(pk, parkedCounterSK),
		expression.Add(expression.Name("parked"), expression.Value(1)).
			Set(expression.Name("expires_at"), expression.Value(now.Add(parkedFor).Unix())),
		expression.Or(expression.AttributeNotExists(expression.Name("parked")),
			expression.Name("parked").LessThan(expression.Value(MaxParkedPerCall))))
	if err != nil {
		return err
	}
	err = s.transact(ctx, []types.TransactWriteItem{put, {Update: count}}, "park %s event for %s", ev.Provider, ev.ProviderCallID)
	var cancelled *cancelledAt
	switch {
	case errors.As(err, &cancelled) && cancelled.item == 0:
		return nil // The same event is kept already.
	case errors.As(err, &cancelled):
		return ringfence.Errorf(ringfence.ETOOMANY, "%d events are already waiting for %s call %s; this one is refused", MaxParkedPerCall, ev.Provider, ev.ProviderCallID)
	}
	return err
}

// ParkedEvents returns the events parked for a provider's call id. Their order does not matter:
// applying events is the same in any order.
func (s *Store) ParkedEvents(ctx context.Context, p ringfence.Provider, providerCallID string) ([]ringfence.ParkedEvent, error) {
	keyCond := expression.Key("pk").Equal(expression.Value(parkedPK(p, providerCallID)))
	var out []ringfence.ParkedEvent
	err := s.query(ctx, "", keyCond, func(item map[string]types.AttributeValue) error {
		if stringAttr(item, "sk") == parkedCounterSK {
			return nil // The count, not an event. Events parked before they were counted are read too.
		}
		var it parkedItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return err
		}
		var ev ringfence.CallEvent
		if err := json.Unmarshal([]byte(it.Event), &ev); err != nil {
			return err
		}
		out = append(out, ringfence.ParkedEvent{Key: it.SK, Event: ev})
		return nil
	})
	if err != nil {
		return nil, internal(err, "read parked events of %s call %s", p, providerCallID)
	}
	return out, nil
}

// DeleteParked removes a parked event once it has been applied, and takes it off its provider
// call's count in the same transaction. The delete is conditioned on the event being there, so
// deleting it twice is harmless and counts once.
func (s *Store) DeleteParked(ctx context.Context, p ringfence.Provider, providerCallID, key string) error {
	pk := parkedPK(p, providerCallID)
	count, err := s.update(itemKey(pk, parkedCounterSK), expression.Add(expression.Name("parked"), expression.Value(-1)),
		expression.AttributeExists(expression.Name("parked")))
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: aws.String(s.table), Key: itemKey(pk, key), ConditionExpression: aws.String("attribute_exists(pk)")}},
		{Update: count},
	}
	err = s.transact(ctx, items, "delete parked event of %s call %s", p, providerCallID)
	var cancelled *cancelledAt
	if errors.As(err, &cancelled) && cancelled.item == 0 {
		return nil // Deleted already.
	}
	if errors.As(err, &cancelled) {
		// An event parked before events were counted: it goes on its own.
		_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: itemKey(pk, key)})
		if err != nil {
			return internal(err, "delete parked event of %s call %s", p, providerCallID)
		}
		return nil
	}
	return err
}

// Parked is one parked event with the provider call it waits for.
type Parked struct {
	Provider       ringfence.Provider
	ProviderCallID string
	ParkedAt       string
	Key            string
}

// AllParked lists every parked event, from the sparse index: an operator's view of the events
// still waiting for their call.
func (s *Store) AllParked(ctx context.Context) ([]Parked, error) {
	keys, err := s.workBefore(ctx, "PARKED#", "")
	if err != nil {
		return nil, err
	}
	out := make([]Parked, 0, len(keys))
	for _, k := range keys {
		rest := strings.TrimPrefix(k.pk, "PARKED#")
		p, id, _ := strings.Cut(rest, "#")
		out = append(out, Parked{Provider: ringfence.Provider(p), ProviderCallID: id, ParkedAt: k.at, Key: k.sk})
	}
	return out, nil
}
