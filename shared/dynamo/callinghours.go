package dynamo

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// hoursAttributes are calling hours as stored on a campaign (its own), on each of its calls and
// on their queue entries (the recipient's hours: its zones and where they came from), so that
// neither queueing a retry nor dialling needs to read the campaign.
type hoursAttributes struct {
	HoursZone     string   `dynamodbav:"hours_timezone,omitempty"`
	HoursDays     []string `dynamodbav:"hours_days,omitempty"`
	HoursStart    string   `dynamodbav:"hours_start,omitempty"`
	HoursEnd      string   `dynamodbav:"hours_end,omitempty"`
	HoursBlackout []string `dynamodbav:"hours_blackout_dates,omitempty"`
	HoursZones    []string `dynamodbav:"hours_timezones,omitempty"`
	ZoneSource    string   `dynamodbav:"timezone_source,omitempty"`
}

func hoursAttributesOf(h *ringfence.CallingHours) hoursAttributes {
	if h == nil {
		return hoursAttributes{}
	}
	return hoursAttributes{HoursZone: h.Timezone, HoursDays: h.Days, HoursStart: h.Start, HoursEnd: h.End,
		HoursBlackout: h.BlackoutDates, HoursZones: h.Zones, ZoneSource: string(h.Source)}
}

func (a hoursAttributes) toDomain() *ringfence.CallingHours {
	if a.HoursStart == "" {
		return nil
	}
	return &ringfence.CallingHours{Timezone: a.HoursZone, Days: a.HoursDays, Start: a.HoursStart, End: a.HoursEnd,
		BlackoutDates: a.HoursBlackout, Zones: a.HoursZones, Source: ringfence.ZoneSource(a.ZoneSource)}
}

// windowAttributes are the calling window a queue entry waits for: when it opens in every one of
// the recipient's zones (the entry's key starts with it) and when it closes in the first of them.
// The claim that dials the entry holds only between the two, against the store's clock.
type windowAttributes struct {
	WindowOpens  string `dynamodbav:"window_opens,omitempty"`
	WindowCloses string `dynamodbav:"window_closes,omitempty"`
}

// windowOf is the window of hours from notBefore on; none for a call without calling hours.
func windowOf(h *ringfence.CallingHours, notBefore string) windowAttributes {
	if h == nil {
		return windowAttributes{}
	}
	opens, closes := h.Window(parseTime(notBefore))
	return windowAttributes{WindowOpens: timestamp(opens), WindowCloses: timestamp(closes)}
}

// insideWindow is the condition of a dial claim on a queue entry with calling hours: the store's
// clock is inside the window the entry stores. An entry without the window (queued before it was
// stored) fails it, and is moved to its next window, which stores it.
func insideWindow(now string) expression.ConditionBuilder {
	return expression.Name("window_opens").LessThanEqual(expression.Value(now)).
		And(expression.Name("window_closes").GreaterThan(expression.Value(now)))
}

// RequeueAt moves a leased queue entry to wait until notBefore (its calling hours' next opening):
// a new entry under the new key, the call's queue_key pointing at it, and the old entry's
// deletion (conditioned on our lease and on the call still waiting under the old key) commit
// together, so the call waits in exactly one entry.
func (s *Store) RequeueAt(ctx context.Context, e ringfence.QueueEntry, owner, notBefore string) error {
	return s.requeue(ctx, e, owner, notBefore, expression.Remove(expression.Name("held")).Remove(expression.Name("held_until")))
}

// RequeueHeld is RequeueAt for a call the contact frequency cap holds back until `until`: the
// call shows why it waits, and until when.
func (s *Store) RequeueHeld(ctx context.Context, e ringfence.QueueEntry, owner, notBefore string, until time.Time) error {
	// The hold enters the call's history, which the dashboard's recent activity shows.
	hold := withHistory(expression.Set(expression.Name("held"), expression.Value(ringfence.HoldContactFrequency)), s.now(),
		"held by "+ringfence.HoldContactFrequency+" until "+timestamp(until))
	return s.requeue(ctx, e, owner, notBefore, hold.Set(expression.Name("held_until"), expression.Value(timestamp(until))))
}

func (s *Store) requeue(ctx context.Context, e ringfence.QueueEntry, owner, notBefore string, hold expression.UpdateBuilder) error {
	now := s.now()
	key := notBefore + "#" + e.CallID
	var it queueItem
	found, err := s.getItem(ctx, itemKey(queuePK(e.AccountID, e.Kind), e.Key), true, &it)
	if err != nil || !found {
		return errors.Join(err, ErrNotQueued)
	}
	it.SK, it.GSI2SK, it.LeaseOwner, it.LeaseUntil = key, now, "", ""
	it.windowAttributes = windowOf(e.Hours, notBefore)
	put, err := s.putNew(it)
	if err != nil {
		return err
	}
	call, err := s.update(itemKey(callPK(e.CallID), skCall),
		hold.Set(expression.Name("queue_key"), expression.Value(key)).Set(expression.Name("updated_at"), expression.Value(now)),
		expression.Name("queue_key").Equal(expression.Value(e.Key)).
			And(expression.Name("status_rank").Equal(expression.Value(ringfence.StatusQueued.Rank()))))
	if err != nil {
		return err
	}
	old := types.TransactWriteItem{Delete: &types.Delete{
		TableName: aws.String(s.table), Key: itemKey(queuePK(e.AccountID, e.Kind), e.Key),
		ConditionExpression:       aws.String("lease_owner = :owner"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":owner": &types.AttributeValueMemberS{Value: owner}},
	}}
	err = s.transact(ctx, []types.TransactWriteItem{old, put, {Update: call}}, "requeue call %s", e.CallID)
	var cancelled *cancelledAt
	if errors.As(err, &cancelled) {
		return ErrNotQueued
	}
	return err
}
