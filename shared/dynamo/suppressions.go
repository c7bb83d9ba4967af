package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// An account's suppression list is one partition, SUPPRESSION#<account>, one item per number, so
// that listing it is one Query and checking a number is a condition on one key, which the write
// that claims a dial carries.

func suppressionPK(accountID string) string { return "SUPPRESSION#" + accountID }

// suppressionItem is one suppressed number of an account.
type suppressionItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	Phone     string `dynamodbav:"phone"`
	CreatedAt string `dynamodbav:"created_at"`
}

// ErrSuppressed says the number of a call is on its account's suppression list.
var ErrSuppressed = ringfence.Errorf(ringfence.ECONFLICT, "the number is on the account's suppression list and is never dialled")

// Suppress adds a number to the account's suppression list; adding it again keeps its first date.
func (s *Store) Suppress(ctx context.Context, accountID, e164 string) (ringfence.Suppression, error) {
	u, err := s.upsert(itemKey(suppressionPK(accountID), e164),
		expression.Set(expression.Name("phone"), expression.Value(e164)).
			Set(expression.Name("created_at"), expression.IfNotExists(expression.Name("created_at"), expression.Value(s.now()))))
	if err != nil {
		return ringfence.Suppression{}, err
	}
	in := updateInput(u)
	in.ReturnValues = types.ReturnValueAllNew
	out, err := s.client.UpdateItem(ctx, in)
	if err != nil {
		return ringfence.Suppression{}, internal(err, "suppress a number of account %s", accountID)
	}
	var it suppressionItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return ringfence.Suppression{}, internal(err, "unmarshal suppression")
	}
	return ringfence.Suppression{Phone: it.Phone, CreatedAt: parseTime(it.CreatedAt)}, nil
}

// Unsuppress takes a number off the account's suppression list; taking it off twice is a no-op.
func (s *Store) Unsuppress(ctx context.Context, accountID, e164 string) error {
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: itemKey(suppressionPK(accountID), e164)})
	if err != nil {
		return internal(err, "unsuppress a number of account %s", accountID)
	}
	return nil
}

// Suppressions returns up to limit of the account's suppressed numbers after `after` ("" from the
// first), in number order.
func (s *Store) Suppressions(ctx context.Context, accountID, after string, limit int) ([]ringfence.Suppression, error) {
	keyCond := expression.Key("pk").Equal(expression.Value(suppressionPK(accountID)))
	if after != "" {
		keyCond = keyCond.And(expression.Key("sk").GreaterThan(expression.Value(after)))
	}
	items, err := queryPage[suppressionItem](ctx, s, keyCond, page{consistent: true, limit: limit})
	if err != nil {
		return nil, internal(err, "list suppressions of account %s", accountID)
	}
	list := make([]ringfence.Suppression, 0, len(items))
	for _, it := range items {
		list = append(list, ringfence.Suppression{Phone: it.Phone, CreatedAt: parseTime(it.CreatedAt)})
	}
	return list, nil
}

// notSuppressed is the transaction item that holds only while the number is not suppressed.
func (s *Store) notSuppressed(accountID, e164 string) (types.TransactWriteItem, error) {
	return s.conditionCheck(itemKey(suppressionPK(accountID), e164), expression.AttributeNotExists(expression.Name("pk")))
}
