package dynamo

import (
	"context"
	"encoding/json"
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

// ParkEvent keeps an event whose call is not known yet (the provider's webhook outran the answer
// to the dial). It is applied when the provider's call id is recorded.
func (s *Store) ParkEvent(ctx context.Context, ev ringfence.CallEvent) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return internal(err, "marshal parked event")
	}
	now := s.Now()
	put, err := s.putNew(parkedItem{
		PK: parkedPK(ev.Provider, ev.ProviderCallID), SK: timestamp(now) + "#" + NewID("ev"),
		GSI2PK: "PARKED#" + shardOf(ev.ProviderCallID), GSI2SK: timestamp(now),
		Provider: string(ev.Provider), Event: string(b), ExpiresAt: now.Add(parkedFor).Unix(),
	})
	if err != nil {
		return err
	}
	if _, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: put.Put.Item, ConditionExpression: put.Put.ConditionExpression}); err != nil {
		return internal(err, "park %s event for %s", ev.Provider, ev.ProviderCallID)
	}
	return nil
}

// ParkedEvents returns the events parked for a provider's call id, oldest first.
func (s *Store) ParkedEvents(ctx context.Context, p ringfence.Provider, providerCallID string) ([]ringfence.ParkedEvent, error) {
	keyCond := expression.Key("pk").Equal(expression.Value(parkedPK(p, providerCallID)))
	var out []ringfence.ParkedEvent
	err := s.query(ctx, "", keyCond, func(item map[string]types.AttributeValue) error {
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

// DeleteParked removes a parked event once it has been applied. Deleting it twice is harmless.
func (s *Store) DeleteParked(ctx context.Context, p ringfence.Provider, providerCallID, key string) error {
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: itemKey(parkedPK(p, providerCallID), key)})
	if err != nil {
		return internal(err, "delete parked event of %s call %s", p, providerCallID)
	}
	return nil
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
