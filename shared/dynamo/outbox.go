package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// The outbox. An event is put in the same transaction as the change it reports, keyed by an id
// derived from that change, under the condition that it does not exist yet: a change has exactly
// one event, and an event exists only if its change committed. While an event waits to be sent it
// is in the sparse index gsi2 (OUTBOX#<shard>, by when it is due), where the deliverer finds it
// by Query. Sending it first creates one delivery per endpoint (EVENT#<id>, DELIVERY#<endpoint>),
// in the same index until it is delivered or has failed for good.

// outboxShards spreads the outbox over several index partitions, as activeShards does for calls.
const outboxShards = 4

// outboxShardKey is the shard of the events about one call or campaign: all in one partition,
// where they sort by when they are due, so a run finds a call's call.ended before its
// call.corrected.
func outboxShardKey(subjectID string) string {
	return "OUTBOX#" + strings.TrimPrefix(activeShardKey(subjectID), "ACTIVE#")
}

// outboxKeep is how long events, deliveries and attempts are kept (TTL), for redelivery and for
// GET /endpoints/{id}/deliveries.
const outboxKeep = 30 * 24 * time.Hour

// eventItem is an event as stored.
type eventItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	GSI2PK    string `dynamodbav:"gsi2pk,omitempty"`
	GSI2SK    string `dynamodbav:"gsi2sk,omitempty"`
	ID        string `dynamodbav:"id"`
	Type      string `dynamodbav:"type"`
	AccountID string `dynamodbav:"account_id"`
	SubjectID string `dynamodbav:"subject_id"`
	CreatedAt string `dynamodbav:"created_at"`
	Body      string `dynamodbav:"body,omitempty"`
	ExpiresAt int64  `dynamodbav:"expires_at"`
}

func (it eventItem) toDomain() ringfence.Event {
	return ringfence.Event{ID: it.ID, Type: it.Type, AccountID: it.AccountID, SubjectID: it.SubjectID, CreatedAt: it.CreatedAt, Body: it.Body}
}

// deliveryItem is an event's delivery to one endpoint.
type deliveryItem struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	GSI2PK     string `dynamodbav:"gsi2pk,omitempty"`
	GSI2SK     string `dynamodbav:"gsi2sk,omitempty"`
	EventID    string `dynamodbav:"event_id"`
	EndpointID string `dynamodbav:"endpoint_id"`
	AccountID  string `dynamodbav:"account_id"`
	EventType  string `dynamodbav:"event_type"`
	SubjectID  string `dynamodbav:"subject_id"`
	Status     string `dynamodbav:"status"`
	Attempts   int    `dynamodbav:"attempts"`
	NextAt     string `dynamodbav:"next_at,omitempty"`
	ExpiresAt  int64  `dynamodbav:"expires_at"`
}

func (it deliveryItem) toDomain() ringfence.Delivery {
	return ringfence.Delivery{
		EventID: it.EventID, EndpointID: it.EndpointID, AccountID: it.AccountID, EventType: it.EventType,
		SubjectID: it.SubjectID, Status: it.Status, Attempts: it.Attempts, NextAt: it.GSI2SK,
	}
}

// attemptItem is one delivery attempt, listed newest first under its endpoint.
type attemptItem struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	EndpointID string `dynamodbav:"endpoint_id"`
	EventID    string `dynamodbav:"event_id"`
	EventType  string `dynamodbav:"event_type"`
	Attempt    int    `dynamodbav:"attempt"`
	At         string `dynamodbav:"at"`
	StatusCode int    `dynamodbav:"status_code"`
	Error      string `dynamodbav:"error,omitempty"`
	ExpiresAt  int64  `dynamodbav:"expires_at"`
}

// outboxEvent returns the Put of an event into the outbox, to join the transaction of the change
// it reports, or nil when none of the account's endpoints subscribes to the event's type: then
// the change's write stays exactly what it was without the outbox.
func (s *Store) outboxEvent(ctx context.Context, accountID, eventType, subjectID string, distinct ...string) (*types.TransactWriteItem, error) {
	ok, err := s.subscribed(ctx, accountID, eventType)
	if err != nil || !ok {
		return nil, err
	}
	now := s.Now()
	id := ringfence.EventID(eventType, subjectID, distinct...)
	put, err := s.putNew(eventItem{
		PK: eventPK(id), SK: skEvent, GSI2PK: outboxShardKey(subjectID), GSI2SK: timestamp(now),
		ID: id, Type: eventType, AccountID: accountID, SubjectID: subjectID, CreatedAt: timestamp(now),
		ExpiresAt: now.Add(outboxKeep).Unix(),
	})
	if err != nil {
		return nil, err
	}
	return &put, nil
}

// GetEvent reads an event.
func (s *Store) GetEvent(ctx context.Context, id string) (ringfence.Event, error) {
	var it eventItem
	found, err := s.getItem(ctx, itemKey(eventPK(id), skEvent), true, &it)
	if err != nil {
		return ringfence.Event{}, internal(err, "get event %s", id)
	}
	if !found {
		return ringfence.Event{}, notFound("event", id)
	}
	return it.toDomain(), nil
}

// OutboxWork is what the deliverer has to do: events not sent yet, and deliveries due.
type OutboxWork struct {
	Events     []ringfence.Event
	Deliveries []ringfence.Delivery
}

// DueOutbox finds up to limit events and deliveries due at now, oldest first within each shard,
// by a Query of each outbox shard (the index holds keys only; each item found is then read).
func (s *Store) DueOutbox(ctx context.Context, now time.Time, limit int) (OutboxWork, error) {
	var work OutboxWork
	for shard := range outboxShards {
		if len(work.Events)+len(work.Deliveries) >= limit {
			break
		}
		keyCond := expression.Key("gsi2pk").Equal(expression.Value("OUTBOX#" + strconv.Itoa(shard))).
			And(expression.Key("gsi2sk").LessThanEqual(expression.Value(timestamp(now))))
		var keys []map[string]types.AttributeValue
		err := s.query(ctx, "gsi2", keyCond, func(item map[string]types.AttributeValue) error {
			if len(keys)+len(work.Events)+len(work.Deliveries) >= limit {
				return errEnough
			}
			keys = append(keys, itemKey(stringOf(item["pk"]), stringOf(item["sk"])))
			return nil
		})
		if err != nil && !errors.Is(err, errEnough) {
			return work, internal(err, "query outbox shard %d", shard)
		}
		for _, key := range keys {
			if stringOf(key["sk"]) == skEvent {
				var it eventItem
				if found, err := s.getItem(ctx, key, true, &it); err != nil {
					return work, internal(err, "read outbox event")
				} else if found && it.GSI2PK != "" {
					work.Events = append(work.Events, it.toDomain())
				}
				continue
			}
			var it deliveryItem
			if found, err := s.getItem(ctx, key, true, &it); err != nil {
				return work, internal(err, "read delivery")
			} else if found && it.GSI2PK != "" {
				work.Deliveries = append(work.Deliveries, it.toDomain())
			}
		}
	}
	return work, nil
}

// errEnough stops a query that found as much as its caller takes on.
var errEnough = errors.New("enough found")

func stringOf(av types.AttributeValue) string {
	if v, ok := av.(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// FanOut fixes an event's body and creates its deliveries, one per endpoint, due at once, in one
// transaction conditioned on the event still waiting: two deliverers that found the same event
// create its deliveries once, and a deliverer that dies half-way leaves the event waiting.
func (s *Store) FanOut(ctx context.Context, ev ringfence.Event, body string, endpointIDs []string) ([]ringfence.Delivery, error) {
	now := s.Now()
	update, err := s.update(itemKey(eventPK(ev.ID), skEvent),
		expression.Set(expression.Name("body"), expression.Value(body)).
			Remove(expression.Name("gsi2pk")).Remove(expression.Name("gsi2sk")),
		expression.AttributeExists(expression.Name("gsi2pk")))
	if err != nil {
		return nil, err
	}
	items := []types.TransactWriteItem{{Update: update}}
	var created []ringfence.Delivery
	for _, endpointID := range endpointIDs {
		put, err := s.putNew(deliveryItem{
			PK: eventPK(ev.ID), SK: deliverySK(endpointID), GSI2PK: outboxShardKey(ev.SubjectID), GSI2SK: timestamp(now),
			EventID: ev.ID, EndpointID: endpointID, AccountID: ev.AccountID, EventType: ev.Type, SubjectID: ev.SubjectID,
			Status: ringfence.DeliveryPending, ExpiresAt: now.Add(outboxKeep).Unix(),
		})
		if err != nil {
			return nil, err
		}
		items = append(items, put)
		created = append(created, ringfence.Delivery{
			EventID: ev.ID, EndpointID: endpointID, AccountID: ev.AccountID, EventType: ev.Type, SubjectID: ev.SubjectID,
			Status: ringfence.DeliveryPending, NextAt: timestamp(now),
		})
	}
	if len(items) == 1 {
		// No endpoint receives it any more: the event leaves the outbox with its body fixed.
		_, err := s.client.UpdateItem(ctx, updateInput(update))
		if conditionFailed(err) {
			return nil, ringfence.Errorf(ringfence.ECONFLICT, "event %s was sent already", ev.ID)
		}
		if err != nil {
			return nil, internal(err, "fan out event %s", ev.ID)
		}
		return nil, nil
	}
	err = s.transact(ctx, items, "fan out event %s", ev.ID)
	var cancelled *cancelledAt
	if errors.As(err, &cancelled) {
		return nil, ringfence.Errorf(ringfence.ECONFLICT, "event %s was sent already", ev.ID)
	}
	if err != nil {
		return nil, err
	}
	return created, nil
}

// GetDelivery reads an event's delivery to one endpoint.
func (s *Store) GetDelivery(ctx context.Context, eventID, endpointID string) (ringfence.Delivery, error) {
	var it deliveryItem
	found, err := s.getItem(ctx, itemKey(eventPK(eventID), deliverySK(endpointID)), true, &it)
	if err != nil {
		return ringfence.Delivery{}, internal(err, "get delivery of event %s to endpoint %s", eventID, endpointID)
	}
	if !found {
		return ringfence.Delivery{}, notFound("delivery", eventID+" to "+endpointID)
	}
	return it.toDomain(), nil
}

// ClaimDelivery takes the right to make the next attempt of a delivery, by moving the time it is
// due to until, on condition that it is still due when it was read. A deliverer that overlaps
// with another finds the condition false and leaves the delivery alone; one that dies after the
// claim leaves a delivery that is due again at until, so the attempt is made (at least once).
func (s *Store) ClaimDelivery(ctx context.Context, d ringfence.Delivery, until time.Time) (bool, error) {
	applied, err := s.updateIf(ctx, itemKey(eventPK(d.EventID), deliverySK(d.EndpointID)),
		expression.Set(expression.Name("gsi2sk"), expression.Value(timestamp(until))),
		expression.Name("gsi2sk").Equal(expression.Value(d.NextAt)).
			And(expression.Name("status").Equal(expression.Value(ringfence.DeliveryPending))))
	if err != nil {
		return false, internal(err, "claim delivery of event %s to endpoint %s", d.EventID, d.EndpointID)
	}
	return applied, nil
}

// Postpone makes a delivery due again at next without counting an attempt: its event must wait
// for an earlier event about the same call to be delivered first.
func (s *Store) Postpone(ctx context.Context, d ringfence.Delivery, next time.Time) error {
	_, err := s.updateIf(ctx, itemKey(eventPK(d.EventID), deliverySK(d.EndpointID)),
		expression.Set(expression.Name("gsi2sk"), expression.Value(timestamp(next))),
		expression.Name("status").Equal(expression.Value(ringfence.DeliveryPending)))
	if err != nil {
		return internal(err, "postpone delivery of event %s to endpoint %s", d.EventID, d.EndpointID)
	}
	return nil
}

// RecordAttempt records an attempt and its consequence in one transaction: the delivery is
// delivered, failed for good, or due again at next (status pending), and the attempt is listed
// under its endpoint.
func (s *Store) RecordAttempt(ctx context.Context, d ringfence.Delivery, a ringfence.DeliveryAttempt, status string, next time.Time) error {
	now := s.Now()
	set := expression.Set(expression.Name("status"), expression.Value(status)).
		Set(expression.Name("attempts"), expression.Value(a.Attempt)).
		Set(expression.Name("last_status_code"), expression.Value(a.StatusCode)).
		Set(expression.Name("last_attempt_at"), expression.Value(a.At))
	if status == ringfence.DeliveryPending {
		set = set.Set(expression.Name("gsi2pk"), expression.Value(outboxShardKey(d.SubjectID))).
			Set(expression.Name("gsi2sk"), expression.Value(timestamp(next)))
	} else {
		set = set.Remove(expression.Name("gsi2pk")).Remove(expression.Name("gsi2sk"))
	}
	update, err := s.update(itemKey(eventPK(d.EventID), deliverySK(d.EndpointID)), set, expression.AttributeExists(expression.Name("pk")))
	if err != nil {
		return err
	}
	put, err := s.putNew(attemptItem{
		PK: endpointPK(a.EndpointID), SK: fmt.Sprintf("ATTEMPT#%s#%s#%d", a.At, a.EventID, a.Attempt),
		EndpointID: a.EndpointID, EventID: a.EventID, EventType: a.EventType, Attempt: a.Attempt, At: a.At,
		StatusCode: a.StatusCode, Error: a.Error, ExpiresAt: now.Add(outboxKeep).Unix(),
	})
	if err != nil {
		return err
	}
	return s.transact(ctx, []types.TransactWriteItem{{Update: update}, put}, "record attempt %d of event %s to endpoint %s", a.Attempt, a.EventID, a.EndpointID)
}

// ListDeliveryAttempts returns an endpoint's most recent attempts, newest first.
func (s *Store) ListDeliveryAttempts(ctx context.Context, endpointID string, limit int) ([]ringfence.DeliveryAttempt, error) {
	keyCond := expression.Key("pk").Equal(expression.Value(endpointPK(endpointID))).
		And(expression.Key("sk").BeginsWith("ATTEMPT#"))
	items, err := queryPage[attemptItem](ctx, s, keyCond, page{newestFirst: true, limit: limit})
	if err != nil {
		return nil, internal(err, "list attempts of endpoint %s", endpointID)
	}
	attempts := make([]ringfence.DeliveryAttempt, 0, len(items))
	for _, it := range items {
		attempts = append(attempts, ringfence.DeliveryAttempt{
			EndpointID: it.EndpointID, EventID: it.EventID, EventType: it.EventType, Attempt: it.Attempt,
			At: it.At, StatusCode: it.StatusCode, Error: it.Error,
		})
	}
	return attempts, nil
}

// Redeliver makes an event due again to each of the given endpoints, from a first attempt: a
// delivery that exists is reset, one that does not (an endpoint created since) is created. An
// event that was never sent yet is simply left to be sent.
func (s *Store) Redeliver(ctx context.Context, ev ringfence.Event, endpointIDs []string) error {
	now := s.Now()
	for _, endpointID := range endpointIDs {
		set := expression.Set(expression.Name("status"), expression.Value(ringfence.DeliveryPending)).
			Set(expression.Name("attempts"), expression.Value(0)).
			Set(expression.Name("gsi2pk"), expression.Value(outboxShardKey(ev.SubjectID))).
			Set(expression.Name("gsi2sk"), expression.Value(timestamp(now))).
			Set(expression.Name("event_id"), expression.Value(ev.ID)).
			Set(expression.Name("endpoint_id"), expression.Value(endpointID)).
			Set(expression.Name("account_id"), expression.Value(ev.AccountID)).
			Set(expression.Name("event_type"), expression.Value(ev.Type)).
			Set(expression.Name("subject_id"), expression.Value(ev.SubjectID)).
			Set(expression.Name("expires_at"), expression.Value(now.Add(outboxKeep).Unix()))
		// The event's body is fixed when it is first sent; an event still waiting has none and
		// no deliveries yet, and its first sending reaches every endpoint.
		update, err := s.upsert(itemKey(eventPK(ev.ID), deliverySK(endpointID)), set)
		if err != nil {
			return err
		}
		if _, err := s.client.UpdateItem(ctx, updateInput(update)); err != nil {
			return internal(err, "redeliver event %s to endpoint %s", ev.ID, endpointID)
		}
	}
	return nil
}

// withCallEvent adds to a call's write the event it causes: call.ended with the first terminal
// transition, call.corrected with the correction of a swept call. Each happens once per call
// (the call's own conditions see to it), so the event's id is the call's id and the type.
func (s *Store) withCallEvent(ctx context.Context, items []types.TransactWriteItem, c ringfence.Call, u ringfence.CallUpdate) ([]types.TransactWriteItem, error) {
	var eventType string
	switch {
	case u.Terminal:
		eventType = ringfence.EventCallEnded
	case u.Correction:
		eventType = ringfence.EventCallCorrected
	default:
		return items, nil
	}
	event, err := s.outboxEvent(ctx, c.AccountID, eventType, c.ID)
	if err != nil || event == nil {
		return items, err
	}
	return append(items, *event), nil
}

// withRescheduleEvent adds the call.rescheduled event to the reschedule tool's write, and a
// condition that the call still has the day read. A tool call delivered twice finds the day set
// already and writes nothing more, so one change has one event; its id names the change (from
// which day to which, and when).
func (s *Store) withRescheduleEvent(ctx context.Context, items []types.TransactWriteItem, c ringfence.Call, day string, set expression.UpdateBuilder) ([]types.TransactWriteItem, error) {
	event, err := s.outboxEvent(ctx, c.AccountID, ringfence.EventCallRescheduled, c.ID, c.RescheduleDay, day, s.now())
	if err != nil || event == nil {
		return items, err
	}
	callWrite, err := s.update(itemKey(callPK(c.ID), skCall), set,
		expression.AttributeExists(expression.Name("pk")).And(stillEqual("reschedule_day", c.RescheduleDay)))
	if err != nil {
		return nil, err
	}
	items[0] = types.TransactWriteItem{Update: callWrite}
	return append(items, *event), nil
}

// completeWithEvent completes a campaign and puts its campaign.completed event in one
// transaction; it reports false when the campaign's condition no longer held.
func (s *Store) completeWithEvent(ctx context.Context, id string, set expression.UpdateBuilder, cond expression.ConditionBuilder, event types.TransactWriteItem) (bool, error) {
	update, err := s.update(itemKey(campaignPK(id), skCampaign), set, cond)
	if err != nil {
		return false, err
	}
	err = s.transact(ctx, []types.TransactWriteItem{{Update: update}, event}, "complete campaign %s", id)
	var cancelled *cancelledAt
	if errors.As(err, &cancelled) {
		return false, nil
	}
	return err == nil, err
}
