package dynamo

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// hoursAttributes are calling hours as stored on a campaign (its own), on each of its calls and
// on their queue entries (the contact's effective hours, its own zone applied), so that neither
// queueing a retry nor dialling needs to read the campaign.
type hoursAttributes struct {
	HoursZone  string   `dynamodbav:"hours_timezone,omitempty"`
	HoursDays  []string `dynamodbav:"hours_days,omitempty"`
	HoursStart string   `dynamodbav:"hours_start,omitempty"`
	HoursEnd   string   `dynamodbav:"hours_end,omitempty"`
}

func hoursAttributesOf(h *ringfence.CallingHours) hoursAttributes {
	if h == nil {
		return hoursAttributes{}
	}
	return hoursAttributes{HoursZone: h.Timezone, HoursDays: h.Days, HoursStart: h.Start, HoursEnd: h.End}
}

func (a hoursAttributes) toDomain() *ringfence.CallingHours {
	if a.HoursStart == "" {
		return nil
	}
	return &ringfence.CallingHours{Timezone: a.HoursZone, Days: a.HoursDays, Start: a.HoursStart, End: a.HoursEnd}
}

// RequeueAt moves a leased queue entry to wait until notBefore (its calling hours' next opening):
// a new entry under the new key, the call's queue_key pointing at it, and the old entry's
// deletion (conditioned on our lease and on the call still waiting under the old key) commit
// together, so the call waits in exactly one entry.
func (s *Store) RequeueAt(ctx context.Context, e ringfence.QueueEntry, owner, notBefore string) error {
	now := s.now()
	key := notBefore + "#" + e.CallID
	var it queueItem
	found, err := s.getItem(ctx, itemKey(queuePK(e.AccountID, e.Kind), e.Key), true, &it)
	if err != nil || !found {
		return errors.Join(err, ErrNotQueued)
	}
	it.SK, it.GSI2SK, it.LeaseOwner, it.LeaseUntil = key, now, "", ""
	put, err := s.putNew(it)
	if err != nil {
		return err
	}
	call, err := s.update(itemKey(callPK(e.CallID), skCall),
		expression.Set(expression.Name("queue_key"), expression.Value(key)).Set(expression.Name("updated_at"), expression.Value(now)),
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
