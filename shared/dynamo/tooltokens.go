package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// A tool token is stored as two items written and deleted together: one under its hash, which
// finds the account a presented token belongs to with one read, and one under the account, which
// lists the account's tokens and remembers each one's hash so that it can be revoked.
type toolTokenItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	ID        string `dynamodbav:"id"`
	AccountID string `dynamodbav:"account_id"`
	Hash      string `dynamodbav:"hash,omitempty"`
	CreatedAt string `dynamodbav:"created_at"`
}

func (it toolTokenItem) toDomain() ringfence.ToolToken {
	return ringfence.ToolToken{ID: it.ID, AccountID: it.AccountID, CreatedAt: it.CreatedAt}
}

// NewToolToken returns a new random tool token.
func NewToolToken() string { return newSecret("rft_") }

// CreateToolToken stores a new tool token of the account, hashed. The count of the account's
// tokens is read first and bounded by ringfence.MaxToolTokens; two concurrent creations may pass
// it together, which is harmless, as the bound only keeps the list short.
func (s *Store) CreateToolToken(ctx context.Context, accountID, token string) (ringfence.ToolToken, error) {
	existing, err := s.ListToolTokens(ctx, accountID)
	if err != nil {
		return ringfence.ToolToken{}, err
	}
	if len(existing) >= ringfence.MaxToolTokens {
		return ringfence.ToolToken{}, ringfence.Errorf(ringfence.ECONFLICT, "account %s has %d tool tokens already, the most it may have; delete one first", accountID, ringfence.MaxToolTokens)
	}
	hash := HashAPIKey(token)
	id, now := NewID("tt"), s.now()
	listed := toolTokenItem{PK: accountPK(accountID), SK: toolTokenSK(id), ID: id, AccountID: accountID, Hash: hash, CreatedAt: now}
	lookup := toolTokenItem{PK: toolTokenPK(hash), SK: skToolToken, ID: id, AccountID: accountID, CreatedAt: now}
	var items []types.TransactWriteItem
	for _, it := range []toolTokenItem{listed, lookup} {
		put, err := s.putNew(it)
		if err != nil {
			return ringfence.ToolToken{}, err
		}
		items = append(items, put)
	}
	err = s.transact(ctx, items, "create a tool token for account %s", accountID)
	if _, failed := err.(*cancelledAt); failed {
		return ringfence.ToolToken{}, ringfence.Errorf(ringfence.ECONFLICT, "that tool token exists already")
	}
	if err != nil {
		return ringfence.ToolToken{}, err
	}
	return listed.toDomain(), nil
}

// ListToolTokens returns the account's tool tokens, never the tokens themselves, by a consistent
// Query.
func (s *Store) ListToolTokens(ctx context.Context, accountID string) ([]ringfence.ToolToken, error) {
	keyCond := expression.Key("pk").Equal(expression.Value(accountPK(accountID))).
		And(expression.Key("sk").BeginsWith(toolTokenSK("")))
	out := []ringfence.ToolToken{}
	err := queryInto(ctx, s, "", keyCond, func(it toolTokenItem) { out = append(out, it.toDomain()) })
	if err != nil {
		return nil, internal(err, "list tool tokens of account %s", accountID)
	}
	return out, nil
}

// DeleteToolToken revokes one of the account's tool tokens: both of its items go in one
// transaction, on the condition that the listed one is still there.
func (s *Store) DeleteToolToken(ctx context.Context, accountID, id string) error {
	var it toolTokenItem
	found, err := s.getItem(ctx, itemKey(accountPK(accountID), toolTokenSK(id)), true, &it)
	if err != nil {
		return internal(err, "get tool token %s", id)
	}
	if !found {
		return notFound("tool token", id)
	}
	listed := s.deleteItem(accountPK(accountID), toolTokenSK(id))
	listed.Delete.ConditionExpression = aws.String("attribute_exists(pk)")
	err = s.transact(ctx, []types.TransactWriteItem{listed, s.deleteItem(toolTokenPK(it.Hash), skToolToken)}, "delete tool token %s", id)
	if _, failed := err.(*cancelledAt); failed {
		return notFound("tool token", id)
	}
	return err
}

// AccountIDByToolToken finds the account a presented tool token belongs to; an unknown or
// revoked token is unauthorized.
func (s *Store) AccountIDByToolToken(ctx context.Context, token string) (string, error) {
	var it toolTokenItem
	found, err := s.getItem(ctx, itemKey(toolTokenPK(HashAPIKey(token)), skToolToken), false, &it)
	if err != nil {
		return "", internal(err, "look up tool token")
	}
	if !found {
		return "", ringfence.Errorf(ringfence.EUNAUTHORIZED, "unknown tool token")
	}
	return it.AccountID, nil
}
