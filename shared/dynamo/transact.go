package dynamo

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

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

// putNew is a Put that never replaces an existing item.
func (s *Store) putNew(item any) (types.TransactWriteItem, error) {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return types.TransactWriteItem{}, internal(err, "marshal item")
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName:           aws.String(s.table),
		Item:                av,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}, nil
}

// upsert builds an Update on one item with no condition, for items a caller owns outright (it
// SETs named attributes, whether the item exists or not).
func (s *Store) upsert(key map[string]types.AttributeValue, set expression.UpdateBuilder) (*types.Update, error) {
	expr, err := expression.NewBuilder().WithUpdate(set).Build()
	if err != nil {
		return nil, internal(err, "build update expression")
	}
	return &types.Update{
		TableName: aws.String(s.table), Key: key, UpdateExpression: expr.Update(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}, nil
}

// updateIf applies a conditional update to one item and reports whether its condition held; a
// false condition is not an error here, it is the answer the callers act on.
func (s *Store) updateIf(ctx context.Context, key map[string]types.AttributeValue, set expression.UpdateBuilder, cond expression.ConditionBuilder) (bool, error) {
	u, err := s.update(key, set, cond)
	if err != nil {
		return false, err
	}
	_, err = s.client.UpdateItem(ctx, updateInput(u))
	if conditionFailed(err) {
		return false, nil
	}
	return err == nil, err
}

// update builds a conditional Update on one item.
func (s *Store) update(key map[string]types.AttributeValue, set expression.UpdateBuilder, cond expression.ConditionBuilder) (*types.Update, error) {
	expr, err := expression.NewBuilder().WithUpdate(set).WithCondition(cond).Build()
	if err != nil {
		return nil, internal(err, "build update expression")
	}
	return &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       key,
		UpdateExpression:          expr.Update(),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}, nil
}

// maxApplyAttempts bounds how often one delivery re-reads a call after losing a race to another
// delivery of the same call. Each lost race means another delivery made progress, so a handful
// of attempts suffices; past that the caller gets EUNAVAILABLE and the provider retries.
const maxApplyAttempts = 10

// pause waits a short, random, growing time before another attempt, so that deliveries that
// collided do not collide again in lockstep.
func pause(ctx context.Context, attempt int) error {
	d := time.Duration(rand.IntN(1<<min(attempt, 6))+1) * time.Millisecond
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// conditionFailed reports whether err is a single write's failed condition.
func conditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// cancellation describes why DynamoDB cancelled a transaction, item by item.
type cancellation struct {
	conditionFailed []bool // Per item: its condition was false.
	conflict        bool   // Another transaction or write held one of the items; retrying may succeed.
}

// transactionCancelled reports whether err is a cancelled transaction, and why. The reasons come
// back in the order of the transaction's items, which is how a caller tells which condition failed.
func transactionCancelled(err error) (cancellation, bool) {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		var tip *types.TransactionInProgressException
		return cancellation{conflict: true}, errors.As(err, &tip)
	}
	c := cancellation{conditionFailed: make([]bool, len(tce.CancellationReasons))}
	for i, r := range tce.CancellationReasons {
		switch deref(r.Code) {
		case "ConditionalCheckFailed":
			c.conditionFailed[i] = true
		case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded":
			c.conflict = true
		}
	}
	return c, true
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// failedAt reports whether item i's condition failed.
func (c cancellation) failedAt(i int) bool {
	return i < len(c.conditionFailed) && c.conditionFailed[i]
}

// anyFailed reports whether any condition failed.
func (c cancellation) anyFailed() bool {
	for _, f := range c.conditionFailed {
		if f {
			return true
		}
	}
	return false
}
