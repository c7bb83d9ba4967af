package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// loginLinkItem records that a login link was used. Its put is conditioned on its absence, so a
// link signs in once however often it is presented; TTL removes it once the link has expired.
type loginLinkItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	AccountID string `dynamodbav:"account_id"`
	UsedAt    string `dynamodbav:"used_at"`
	ExpiresAt int64  `dynamodbav:"expires_at"`
}

// sessionItem is a live dashboard session. A session token is honoured only while its item
// exists, has not expired, and the account's keys are those that stood when it began: deleting
// the item revokes the session, and rotating or revoking the account's keys ends all of them.
type sessionItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	AccountID string `dynamodbav:"account_id"`
	CreatedAt string `dynamodbav:"created_at"`
	ExpiresAt int64  `dynamodbav:"expires_at"`
	// KeysVersion is the account's keys_version when the session began. Every rotation and
	// revocation moves it on, so a session of the keys they replaced no longer matches.
	KeysVersion int64 `dynamodbav:"keys_version"`
}

// ClaimLoginLink marks a login link as used, by a put conditioned on no one having used it. A
// second use, even at the same instant, finds the condition false and gets EUNAUTHORIZED.
func (s *Store) ClaimLoginLink(ctx context.Context, id, accountID string, expires time.Time) error {
	put, err := s.putNew(loginLinkItem{PK: loginLinkPK(id), SK: skLoginLink, AccountID: accountID, UsedAt: s.now(), ExpiresAt: expires.Unix()})
	if err != nil {
		return err
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: put.Put.Item, ConditionExpression: put.Put.ConditionExpression})
	if conditionFailed(err) {
		return ringfence.Errorf(ringfence.EUNAUTHORIZED, "that login link was used already")
	}
	if err != nil {
		return internal(err, "claim login link")
	}
	return nil
}

// CreateSession records a new dashboard session of an account until expires, bound to the
// account's keys as they stand now. A rotation between the read and the put leaves a session
// bound to keys already replaced: it is refused from its first use, never kept too long.
func (s *Store) CreateSession(ctx context.Context, id, accountID string, expires time.Time) error {
	version, err := s.keysVersion(ctx, accountID)
	if err != nil {
		return err
	}
	put, err := s.putNew(sessionItem{PK: sessionPK(id), SK: skSession, AccountID: accountID, CreatedAt: s.now(), ExpiresAt: expires.Unix(), KeysVersion: version})
	if err != nil {
		return err
	}
	if _, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: put.Put.Item, ConditionExpression: put.Put.ConditionExpression}); err != nil {
		return internal(err, "create session")
	}
	return nil
}

// keysVersion reads, consistently, how often the account's keys have changed: 0 for an account
// that is not stored (the deployment's own, whose key is a secret of the deployment).
func (s *Store) keysVersion(ctx context.Context, accountID string) (int64, error) {
	acct, _, err := s.accountItem(ctx, accountID)
	if err != nil {
		return 0, err
	}
	return acct.KeysVersion, nil
}

// SessionAccount returns the account of a live session, read consistently so that a logout, a
// rotation or a revocation of the account's keys is seen at once: two reads of one item each. A
// revoked or expired session, or one of keys that were replaced, is EUNAUTHORIZED; TTL deletes
// items up to days late, so the expiry is checked here too.
func (s *Store) SessionAccount(ctx context.Context, id string) (string, error) {
	var it sessionItem
	found, err := s.getItem(ctx, itemKey(sessionPK(id), skSession), true, &it)
	if err != nil {
		return "", internal(err, "read session")
	}
	if !found || !s.Now().Before(time.Unix(it.ExpiresAt, 0)) {
		return "", ringfence.Errorf(ringfence.EUNAUTHORIZED, "the session has ended")
	}
	version, err := s.keysVersion(ctx, it.AccountID)
	if err != nil {
		return "", err
	}
	if version != it.KeysVersion {
		return "", ringfence.Errorf(ringfence.EUNAUTHORIZED, "the session ended when the account's API keys changed")
	}
	return it.AccountID, nil
}

// RevokeSession ends a session by deleting its record. Revoking one that is gone already is fine.
func (s *Store) RevokeSession(ctx context.Context, id string) error {
	if _, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: itemKey(sessionPK(id), skSession)}); err != nil {
		return internal(err, "revoke session")
	}
	return nil
}

// AccountExists reports whether an account is stored.
func (s *Store) AccountExists(ctx context.Context, id string) (bool, error) {
	var it accountItem
	found, err := s.getItem(ctx, itemKey(accountPK(id), skAccount), true, &it)
	if err != nil {
		return false, internal(err, "read account %s", id)
	}
	return found, nil
}
