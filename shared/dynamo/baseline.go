package dynamo

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// The baselines below are the designs ringfence replaces, kept only so that the benchmark
// (make bench) can measure them against ringfence on the same DynamoDB, in the same run. No
// product code calls them, and they break the invariants on purpose: that is what is measured.

// ErrBaselineDied is what a baseline returns when the benchmark kills it half-way.
var ErrBaselineDied = errors.New("the handler died half-way")

// BaselineReadThenWrite applies an event the way the system ringfence replaces did: read the
// call, decide in code whether this is its first terminal status, write the call back, then
// increment the campaign's counters and read-modify-write its cost. Concurrent deliveries that
// all read "not terminal yet" all count. die, when it returns true, kills the handler between
// the call's write and the campaign's. It reports whether it counted the call.
func (s *Store) BaselineReadThenWrite(ctx context.Context, callID string, ev ringfence.CallEvent, die func() bool) (bool, error) {
	c, err := s.GetCall(ctx, callID)
	if err != nil {
		return false, err
	}
	if c.Status.IsTerminal() || ev.Status.Rank() <= c.Status.Rank() {
		return false, nil
	}
	set := expression.Set(expression.Name("status"), expression.Value(ev.Status)).Set(expression.Name("status_rank"), expression.Value(ev.Status.Rank()))
	if ev.Cost != nil {
		set = set.Set(expression.Name("cost"), expression.Value(numberOf(*ev.Cost)))
	}
	u, err := s.upsert(itemKey(callPK(callID), skCall), set)
	if err != nil {
		return false, err
	}
	if _, err := s.client.UpdateItem(ctx, updateInput(u)); err != nil {
		return false, internal(err, "baseline: write call")
	}
	if !ev.Status.IsTerminal() || c.CampaignID == "" {
		return false, nil
	}
	if die != nil && die() {
		return false, ErrBaselineDied
	}
	campaign, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: itemKey(campaignPK(c.CampaignID), skCampaign)})
	if err != nil {
		return false, internal(err, "baseline: read campaign")
	}
	var it campaignItem
	if err := attributevalue.UnmarshalMap(campaign.Item, &it); err != nil {
		return false, internal(err, "baseline: unmarshal campaign")
	}
	total := decimalOf(&it.TotalCost)
	if total == nil {
		total = &ringfence.Decimal{}
	}
	if ev.Cost != nil {
		sum := total.Add(*ev.Cost)
		total = &sum
	}
	u, err = s.upsert(itemKey(campaignPK(c.CampaignID), skCampaign),
		expression.Add(expression.Name("calls_completed"), expression.Value(1)).
			Add(expression.Name(outcomeAttribute(ev.Status)), expression.Value(1)).
			Set(expression.Name("total_cost"), expression.Value(numberOf(*total))))
	if err != nil {
		return false, err
	}
	if _, err := s.client.UpdateItem(ctx, updateInput(u)); err != nil {
		return false, internal(err, "baseline: write campaign")
	}
	return true, nil
}

// BaselineIdempotencyRecord wraps BaselineReadThenWrite in a generic idempotency record, the way
// AWS Lambda Powertools' idempotency utility does: a conditional put of an IN_PROGRESS record
// keyed by the delivery, the handler, then an update of the record to COMPLETED. A duplicate finds
// the record and stops after one request. An IN_PROGRESS record left by a handler that died is
// taken over once it expires (here, at once, as after the Lambda's timeout). Nothing ties the
// record to the handler's own writes. It reports whether the delivery was a duplicate.
func (s *Store) BaselineIdempotencyRecord(ctx context.Context, key, callID string, ev ringfence.CallEvent, die func() bool) (bool, error) {
	pk := "IDEMPOTENCY#" + key
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      mustMarshal(map[string]string{"pk": pk, "sk": "IDEMPOTENCY", "status": "IN_PROGRESS"}),
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR #s = :inprogress"),
		ExpressionAttributeNames:  map[string]string{"#s": "status"},
		ExpressionAttributeValues: mustMarshal(map[string]string{":inprogress": "IN_PROGRESS"}),
	})
	if conditionFailed(err) {
		return true, nil
	}
	if err != nil {
		return false, internal(err, "baseline: put idempotency record")
	}
	if _, err := s.BaselineReadThenWrite(ctx, callID, ev, die); err != nil {
		return false, err
	}
	u, err := s.upsert(itemKey(pk, "IDEMPOTENCY"), expression.Set(expression.Name("status"), expression.Value("COMPLETED")))
	if err != nil {
		return false, err
	}
	if _, err := s.client.UpdateItem(ctx, updateInput(u)); err != nil {
		return false, internal(err, "baseline: complete idempotency record")
	}
	return false, nil
}

// BaselineConditionalUpdate is the ceiling: one bare conditional UpdateItem per delivery that
// moves the call's status forward only if it is behind (so a terminal status is taken once). It
// keeps no counters; it is the least work any correct design must do per delivery. It reports
// whether this delivery moved the call to a terminal status.
func (s *Store) BaselineConditionalUpdate(ctx context.Context, callID string, ev ringfence.CallEvent) (bool, error) {
	rank := ev.Status.Rank()
	applied, err := s.updateIf(ctx, itemKey(callPK(callID), skCall),
		expression.Set(expression.Name("status"), expression.Value(ev.Status)).Set(expression.Name("status_rank"), expression.Value(rank)),
		expression.Name("status_rank").LessThan(expression.Value(rank)))
	if err != nil {
		return false, internal(err, "baseline: conditional update")
	}
	if !applied {
		return false, nil
	}
	return ev.Status.IsTerminal(), nil
}

func mustMarshal(v any) map[string]types.AttributeValue {
	m, err := attributevalue.MarshalMap(v)
	if err != nil {
		panic(err)
	}
	return m
}
