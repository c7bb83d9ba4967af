package dynamo

import (
	"context"
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

const (
	skSchedule      = "SCHEDULE"
	skWelcomeMarker = "WELCOME"
	skDailyMarker   = "DAILY"
)

func schedulePK(key string) string { return "SCHEDULE#" + key }

// Schedule statuses.
const (
	SchedulePending = "pending" // An attempt waits or runs.
	SchedulePlaced  = "placed"  // The provider accepted an attempt.
	ScheduleFailed  = "failed"  // Every attempt was refused; Reason says why.
	ScheduleSkipped = "skipped" // The customer was not eligible, or already called.
)

// scheduleMarkers are the sparse-index items that make a new customer due: the welcome call at
// sign-up + WelcomeDelay, the daily call at nextDaily (zero for none).
func (s *Store) scheduleMarkers(c ringfence.Customer, nextDaily time.Time) ([]types.TransactWriteItem, error) {
	welcome, err := s.putNew(markerItem{PK: customerPK(c.ID), SK: skWelcomeMarker, GSI2PK: "WELCOME#" + shardOf(c.ID), GSI2SK: timestamp(c.CreatedAt.Add(ringfence.WelcomeDelay))})
	if err != nil {
		return nil, err
	}
	items := []types.TransactWriteItem{welcome}
	if !nextDaily.IsZero() {
		daily, err := s.putNew(markerItem{PK: customerPK(c.ID), SK: skDailyMarker, GSI2PK: "DAILY#" + shardOf(c.ID), GSI2SK: timestamp(nextDaily)})
		if err != nil {
			return nil, err
		}
		items = append(items, daily)
	}
	return items, nil
}

// Due is a customer whose scheduled call of some type is due, with the marker's time as read.
type Due struct {
	CustomerID string
	At         time.Time
	at         string
}

// DueCustomers returns the customers whose marker of the given type falls before `before`, from
// the sparse index gsi2: customers already called, or without a daily call time, are not read.
func (s *Store) DueCustomers(ctx context.Context, t ringfence.CallType, before time.Time) ([]Due, error) {
	prefix := "WELCOME#"
	if t == ringfence.CallDaily {
		prefix = "DAILY#"
	}
	keys, err := s.workBefore(ctx, prefix, timestamp(before))
	if err != nil {
		return nil, err
	}
	due := make([]Due, 0, len(keys))
	for _, k := range keys {
		due = append(due, Due{CustomerID: strings.TrimPrefix(k.pk, "CUSTOMER#"), At: parseTime(k.at), at: k.at})
	}
	return due, nil
}

// EnqueueScheduled enqueues the first attempt of a scheduled call, dialable from notBefore: the
// schedule record (put only if absent: one per customer, type and local date, however many
// schedulers run at once), the call and its queue entry commit together, and a welcome call's
// marker goes with them. It returns ECONFLICT when the call was enqueued already.
func (s *Store) EnqueueScheduled(ctx context.Context, c ringfence.Call, notBefore time.Time) error {
	sc := c.Schedule
	now := s.now()
	entry, err := s.putNew(scheduleItem{
		PK: schedulePK(sc.Key()), SK: skSchedule, CustomerID: sc.CustomerID, CallType: string(sc.Type), LocalDate: sc.LocalDate,
		Attempts: 1, CurrentCallID: c.ID, Status: SchedulePending, CreatedAt: now,
	})
	if err != nil {
		return err
	}
	queued, _, err := s.enqueueItems(c, ringfence.SlotDirect, now, timestamp(notBefore))
	if err != nil {
		return err
	}
	items := append([]types.TransactWriteItem{entry}, queued...)
	if sc.Type == ringfence.CallWelcome {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: itemKey(customerPK(sc.CustomerID), skWelcomeMarker)}})
	}
	err = s.transact(ctx, items, "enqueue %s call of customer %s", sc.Type, sc.CustomerID)
	var cancelled *cancelledAt
	if errors.As(err, &cancelled) {
		return ringfence.Errorf(ringfence.ECONFLICT, "the %s call of customer %s on %s is enqueued already", sc.Type, sc.CustomerID, sc.LocalDate)
	}
	return err
}

// EnqueueRetry enqueues the next attempt of a scheduled call after a refusal, dialable from
// notBefore, conditioned on the schedule record still counting the attempt that was refused.
func (s *Store) EnqueueRetry(ctx context.Context, c ringfence.Call, notBefore time.Time) error {
	sc := c.Schedule
	u, err := s.update(itemKey(schedulePK(sc.Key()), skSchedule),
		expression.Set(expression.Name("attempts"), expression.Value(sc.Attempt)).Set(expression.Name("current_call_id"), expression.Value(c.ID)),
		expression.Name("attempts").Equal(expression.Value(sc.Attempt-1)))
	if err != nil {
		return err
	}
	queued, _, err := s.enqueueItems(c, ringfence.SlotDirect, s.now(), timestamp(notBefore))
	if err != nil {
		return err
	}
	err = s.transact(ctx, append([]types.TransactWriteItem{{Update: u}}, queued...), "enqueue attempt %d of %s", sc.Attempt, sc.Key())
	var cancelled *cancelledAt
	if errors.As(err, &cancelled) {
		return ringfence.Errorf(ringfence.ECONFLICT, "attempt %d of %s is enqueued already", sc.Attempt, sc.Key())
	}
	return err
}

// FinishSchedule records how a scheduled call ended (placed, failed, skipped) and why.
func (s *Store) FinishSchedule(ctx context.Context, sc ringfence.ScheduledCall, status, reason string) error {
	if _, err := s.updateIf(ctx, itemKey(schedulePK(sc.Key()), skSchedule),
		expression.Set(expression.Name("status"), expression.Value(status)).Set(expression.Name("reason"), expression.Value(reason)),
		expression.Name("attempts").Equal(expression.Value(sc.Attempt))); err != nil {
		return internal(err, "finish %s", sc.Key())
	}
	return nil
}

// ScheduleRecord is what the store keeps of one scheduled call.
type ScheduleRecord struct {
	Attempts      int
	CurrentCallID string
	Status        string
	Reason        string
}

// GetSchedule reads the record of a scheduled call.
func (s *Store) GetSchedule(ctx context.Context, sc ringfence.ScheduledCall) (ScheduleRecord, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: itemKey(schedulePK(sc.Key()), skSchedule), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return ScheduleRecord{}, internal(err, "get %s", sc.Key())
	}
	if out.Item == nil {
		return ScheduleRecord{}, notFound("scheduled call", sc.Key())
	}
	var it scheduleItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return ScheduleRecord{}, internal(err, "unmarshal %s", sc.Key())
	}
	return ScheduleRecord{Attempts: it.Attempts, CurrentCallID: it.CurrentCallID, Status: it.Status, Reason: it.Reason}, nil
}

// AdvanceDaily moves a customer's daily marker from the time read to the next call's time; a
// scheduler that lost the race to another finds the condition false and leaves it.
func (s *Store) AdvanceDaily(ctx context.Context, d Due, next time.Time) error {
	if _, err := s.updateIf(ctx, itemKey(customerPK(d.CustomerID), skDailyMarker),
		expression.Set(expression.Name("gsi2sk"), expression.Value(timestamp(next))),
		expression.Name("gsi2sk").Equal(expression.Value(d.at))); err != nil {
		return internal(err, "advance the daily call of customer %s", d.CustomerID)
	}
	return nil
}

// ClaimScheduled claims a customer's scheduled call for one attempt, before the provider is
// called: the welcome call by setting welcome_call_id where none is set, the daily call by
// moving last_daily_date to the call's local date where it is earlier (keeping the previous date
// to give back). It reports whether this call holds the claim.
func (s *Store) ClaimScheduled(ctx context.Context, callID string, sc ringfence.ScheduledCall) (bool, error) {
	var set expression.UpdateBuilder
	var cond expression.ConditionBuilder
	switch sc.Type {
	case ringfence.CallWelcome:
		set = expression.Set(expression.Name("welcome_call_id"), expression.Value(callID))
		cond = expression.Or(expression.AttributeNotExists(expression.Name("welcome_call_id")),
			expression.Name("welcome_call_id").Equal(expression.Value(callID)))
	default:
		set = expression.Set(expression.Name("prev_daily_date"), expression.IfNotExists(expression.Name("last_daily_date"), expression.Value(""))).
			Set(expression.Name("last_daily_date"), expression.Value(sc.LocalDate)).
			Set(expression.Name("last_daily_call_id"), expression.Value(callID))
		// Only an earlier date may be replaced: the same call claiming again would overwrite the
		// date to give back with its own, so it is refused like any second claim of the day.
		cond = expression.Or(expression.AttributeNotExists(expression.Name("last_daily_date")),
			expression.Name("last_daily_date").LessThan(expression.Value(sc.LocalDate)))
	}
	applied, err := s.updateIf(ctx, itemKey(customerPK(sc.CustomerID), skCustomer), set, expression.AttributeExists(expression.Name("pk")).And(cond))
	if err != nil {
		return false, internal(err, "claim the %s call of customer %s", sc.Type, sc.CustomerID)
	}
	if !applied {
		return false, nil
	}
	return true, nil
}

// GiveBackClaim hands a scheduled call's claim back after the provider refused the call, so a
// later attempt may claim it: only if this call still holds it.
func (s *Store) GiveBackClaim(ctx context.Context, callID string, sc ringfence.ScheduledCall) error {
	var set expression.UpdateBuilder
	var cond expression.ConditionBuilder
	switch sc.Type {
	case ringfence.CallWelcome:
		set = expression.Remove(expression.Name("welcome_call_id"))
		cond = expression.Name("welcome_call_id").Equal(expression.Value(callID))
	default:
		set = expression.Set(expression.Name("last_daily_date"), expression.Name("prev_daily_date")).
			Remove(expression.Name("last_daily_call_id"))
		cond = expression.Name("last_daily_call_id").Equal(expression.Value(callID))
	}
	if _, err := s.updateIf(ctx, itemKey(customerPK(sc.CustomerID), skCustomer), set, cond); err != nil {
		return internal(err, "give back the %s call of customer %s", sc.Type, sc.CustomerID)
	}
	return nil
}
