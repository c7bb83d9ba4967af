package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// idempotencyFor is how long an Idempotency-Key is remembered: a client retrying later than this
// is treated as making a new request.
const idempotencyFor = 24 * time.Hour

// idempotencyItem is one Idempotency-Key of one account: the request it was first sent with (a
// hash of it), and, once that request finished, the response every retry gets.
type idempotencyItem struct {
	PK             string `dynamodbav:"pk"`
	SK             string `dynamodbav:"sk"`
	RequestHash    string `dynamodbav:"request_hash"`
	Claim          string `dynamodbav:"claim"`
	Done           bool   `dynamodbav:"done"`
	ResponseStatus int    `dynamodbav:"response_status,omitempty"`
	ResponseBody   string `dynamodbav:"response_body,omitempty"`
	CreatedAt      string `dynamodbav:"created_at"`
	ExpiresAt      int64  `dynamodbav:"expires_at"`
}

// IdempotentRequest is what is stored under an Idempotency-Key.
type IdempotentRequest struct {
	RequestHash string
	// Claim identifies the request that holds the key, so only it completes or releases it.
	Claim  string
	Done   bool
	Status int
	Body   string
}

// ClaimIdempotencyKey claims an account's Idempotency-Key for a request, by a put conditioned on
// the key being unused: of any number of identical requests at once, exactly one gets claimed =
// true and goes on; the others get what is stored (the first request's hash and, once it has
// finished, its response).
func (s *Store) ClaimIdempotencyKey(ctx context.Context, accountID, key, requestHash string) (stored IdempotentRequest, claimed bool, err error) {
	now := s.Now()
	claim := NewID("idem")
	put, err := s.putNew(idempotencyItem{
		PK: idempotencyPK(accountID, key), SK: skIdempotency, RequestHash: requestHash, Claim: claim,
		CreatedAt: timestamp(now), ExpiresAt: now.Add(idempotencyFor).Unix(),
	})
	if err != nil {
		return stored, false, err
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: put.Put.Item, ConditionExpression: put.Put.ConditionExpression})
	if err == nil {
		return IdempotentRequest{RequestHash: requestHash, Claim: claim}, true, nil
	}
	if !conditionFailed(err) {
		return stored, false, internal(err, "claim idempotency key")
	}
	var it idempotencyItem
	found, err := s.getItem(ctx, itemKey(idempotencyPK(accountID, key), skIdempotency), true, &it)
	if err != nil {
		return stored, false, internal(err, "read idempotency key")
	}
	if !found {
		// Released by a request that failed in between: the caller may simply retry.
		return stored, false, ringfence.Errorf(ringfence.EUNAVAILABLE, "a request with this Idempotency-Key just failed; retry it")
	}
	return IdempotentRequest{RequestHash: it.RequestHash, Claim: it.Claim, Done: it.Done, Status: it.ResponseStatus, Body: it.ResponseBody}, false, nil
}

// CompleteIdempotencyKey stores the response of the request that holds the key, for its retries.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, accountID, key, claim string, status int, body string) error {
	expr, err := expression.NewBuilder().
		WithUpdate(expression.Set(expression.Name("done"), expression.Value(true)).
			Set(expression.Name("response_status"), expression.Value(status)).
			Set(expression.Name("response_body"), expression.Value(body))).
		WithCondition(expression.Name("claim").Equal(expression.Value(claim))).
		Build()
	if err != nil {
		return internal(err, "build idempotency completion")
	}
	_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: itemKey(idempotencyPK(accountID, key), skIdempotency),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	if err != nil {
		return internal(err, "complete idempotency key")
	}
	return nil
}

// ReleaseIdempotencyKey gives the key back when its request failed on the server's side, so that
// the client's retry runs again rather than replaying a 5xx.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, accountID, key, claim string) error {
	expr, err := expression.NewBuilder().WithCondition(expression.Name("claim").Equal(expression.Value(claim))).Build()
	if err != nil {
		return internal(err, "build idempotency release")
	}
	_, err = s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table), Key: itemKey(idempotencyPK(accountID, key), skIdempotency),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	if err != nil && !conditionFailed(err) {
		return internal(err, "release idempotency key")
	}
	return nil
}
