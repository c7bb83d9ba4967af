package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// HashAPIKey is how API keys are stored: their SHA-256. Keys are long random strings, so a fast
// hash is enough to make a leaked table useless for calling the API.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// EnsureAccount creates the account and registers the API key for it, leaving either in place if it
// exists already (and was created for the same account). Limits of nil mean "use the defaults".
func (s *Store) EnsureAccount(ctx context.Context, a ringfence.Account, apiKey string) error {
	it := accountItem{PK: accountPK(a.ID), SK: skAccount, ID: a.ID, Name: a.Name, StaleAfter: int64(a.StaleAfter / time.Second)}
	if n, ok := a.Limits[ringfence.SlotDirect]; ok {
		it.LimitDirect = &n
	}
	if n, ok := a.Limits[ringfence.SlotCampaign]; ok {
		it.LimitCampaign = &n
	}
	account, err := s.putNew(it)
	if err != nil {
		return err
	}
	if _, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: account.Put.Item, ConditionExpression: account.Put.ConditionExpression}); err != nil && !conditionFailed(err) {
		return internal(err, "create account %s", a.ID)
	}
	if apiKey == "" {
		return nil
	}
	key, err := s.putNew(apiKeyItem{PK: apiKeyPK(HashAPIKey(apiKey)), SK: skAPIKey, AccountID: a.ID})
	if err != nil {
		return err
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: key.Put.Item, ConditionExpression: key.Put.ConditionExpression})
	if conditionFailed(err) {
		owner, err := s.AccountIDByAPIKey(ctx, apiKey)
		if err != nil {
			return err
		}
		if owner != a.ID {
			return ringfence.Errorf(ringfence.ECONFLICT, "that API key belongs to another account")
		}
		return nil
	}
	if err != nil {
		return internal(err, "store API key of account %s", a.ID)
	}
	return nil
}

// AccountIDByAPIKey finds the account an API key belongs to.
func (s *Store) AccountIDByAPIKey(ctx context.Context, apiKey string) (string, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: itemKey(apiKeyPK(HashAPIKey(apiKey)), skAPIKey),
	})
	if err != nil {
		return "", internal(err, "look up API key")
	}
	if out.Item == nil {
		return "", ringfence.Errorf(ringfence.EUNAUTHORIZED, "unknown API key")
	}
	var it apiKeyItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return "", internal(err, "unmarshal API key")
	}
	return it.AccountID, nil
}

// GetAccount reads an account. An account that was never stored (the one the deployment's
// ApiKey parameter names, say) is returned with no limits of its own, so the defaults apply.
func (s *Store) GetAccount(ctx context.Context, id string) (ringfence.Account, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: itemKey(accountPK(id), skAccount), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return ringfence.Account{}, internal(err, "get account %s", id)
	}
	if out.Item == nil {
		return ringfence.Account{ID: id, Limits: map[ringfence.SlotKind]int{}}, nil
	}
	var it accountItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return ringfence.Account{}, internal(err, "unmarshal account %s", id)
	}
	return it.toDomain(), nil
}
