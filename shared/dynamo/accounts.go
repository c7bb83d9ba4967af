package dynamo

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// HashAPIKey is how API keys are stored: their SHA-256. Keys are long random strings, so a fast
// hash is enough to make a leaked table useless for calling the API.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// NewAPIKey returns a new random API key.
func NewAPIKey() string { return newSecret("rfk_") }

// newSecret returns a new random secret with a readable prefix: 32 bytes from the system's secure
// source, readable as text and safe in a header or a query string.
func newSecret(prefix string) string {
	b := make([]byte, 32)
	rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// APIKeyInfo describes one of an account's API keys, never the key itself.
type APIKeyInfo struct {
	Hash      string // The key's SHA-256, in hex; its first characters tell keys apart.
	CreatedAt string
	// ValidUntil is when a key replaced by a rotation stops working; empty for a current key.
	ValidUntil string
}

// EnsureAccount creates the account and registers the API key for it, leaving either in place if it
// exists already (and was created for the same account). Limits of nil mean "use the defaults".
func (s *Store) EnsureAccount(ctx context.Context, a ringfence.Account, apiKey string) error {
	account, err := s.putNew(s.newAccountItem(a))
	if err != nil {
		return err
	}
	if _, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: account.Put.Item, ConditionExpression: account.Put.ConditionExpression}); err != nil && !conditionFailed(err) {
		return internal(err, "create account %s", a.ID)
	}
	if apiKey == "" {
		return nil
	}
	hash := HashAPIKey(apiKey)
	key, err := s.putNew(apiKeyItem{PK: apiKeyPK(hash), SK: skAPIKey, AccountID: a.ID, CreatedAt: s.now()})
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
	// The account lists the key, so that rotating or revoking the account's keys finds it.
	_, err = s.updateIf(ctx, itemKey(accountPK(a.ID), skAccount),
		expression.Add(expression.Name("key_hashes"), expression.Value(&types.AttributeValueMemberSS{Value: []string{hash}})).
			Add(expression.Name("keys_version"), expression.Value(1)),
		expression.AttributeExists(expression.Name("pk")))
	return err
}

func (s *Store) newAccountItem(a ringfence.Account) accountItem {
	it := accountItem{PK: accountPK(a.ID), SK: skAccount, GSI1PK: accountsGSI1PK, GSI1SK: a.ID, ID: a.ID, Name: a.Name,
		CreatedAt: s.now(), StaleAfter: int64(a.StaleAfter / time.Second)}
	if n, ok := a.Limits[ringfence.SlotDirect]; ok {
		it.LimitDirect = &n
	}
	if n, ok := a.Limits[ringfence.SlotCampaign]; ok {
		it.LimitCampaign = &n
	}
	return it
}

// CreateAccount creates an account with its first API key, in one transaction. An account with
// that id, or a key already in use, is a conflict.
func (s *Store) CreateAccount(ctx context.Context, a ringfence.Account, apiKey string) error {
	if apiKey == "" {
		return ringfence.Errorf(ringfence.EINVALID, "a new account needs an API key")
	}
	it := s.newAccountItem(a)
	hash := HashAPIKey(apiKey)
	it.KeyHashes, it.KeysVersion = []string{hash}, 1
	account, err := s.putNew(it)
	if err != nil {
		return err
	}
	key, err := s.putNew(apiKeyItem{PK: apiKeyPK(hash), SK: skAPIKey, AccountID: a.ID, CreatedAt: it.CreatedAt})
	if err != nil {
		return err
	}
	err = s.transact(ctx, []types.TransactWriteItem{account, key}, "create account %s", a.ID)
	if _, failed := err.(*cancelledAt); failed {
		return ringfence.Errorf(ringfence.ECONFLICT, "account %s or its API key exists already", a.ID)
	}
	return err
}

// AccountIDByAPIKey finds the account an API key belongs to. A key a rotation replaced works
// until its valid_until (on the store's clock), and is unauthorized after.
func (s *Store) AccountIDByAPIKey(ctx context.Context, apiKey string) (string, error) {
	it, err := s.apiKey(ctx, apiKey)
	if err != nil {
		return "", err
	}
	if it.ValidUntil != "" && s.now() >= it.ValidUntil {
		return "", ringfence.Errorf(ringfence.EUNAUTHORIZED, "the API key was replaced and its grace period is over")
	}
	return it.AccountID, nil
}

// AccountIDByCurrentAPIKey finds the account of an API key no rotation has replaced. A replaced
// key keeps calling the API through its grace, but what lasts longer than a request (a dashboard
// session) is not begun with it.
func (s *Store) AccountIDByCurrentAPIKey(ctx context.Context, apiKey string) (string, error) {
	it, err := s.apiKey(ctx, apiKey)
	if err != nil {
		return "", err
	}
	if it.ValidUntil != "" {
		return "", ringfence.Errorf(ringfence.EUNAUTHORIZED, "the API key was replaced")
	}
	return it.AccountID, nil
}

// apiKey reads the stored item of an API key.
func (s *Store) apiKey(ctx context.Context, apiKey string) (apiKeyItem, error) {
	var it apiKeyItem
	found, err := s.getItem(ctx, itemKey(apiKeyPK(HashAPIKey(apiKey)), skAPIKey), false, &it)
	if err != nil {
		return it, internal(err, "look up API key")
	}
	if !found {
		return it, ringfence.Errorf(ringfence.EUNAUTHORIZED, "unknown API key")
	}
	return it, nil
}

// GetAccount reads an account. An account that was never stored (the one the deployment's
// ApiKey secret names, say) is returned with no limits of its own, so the defaults apply.
func (s *Store) GetAccount(ctx context.Context, id string) (ringfence.Account, error) {
	it, found, err := s.accountItem(ctx, id)
	if err != nil {
		return ringfence.Account{}, err
	}
	if !found {
		return ringfence.Account{ID: id, Limits: map[ringfence.SlotKind]int{}}, nil
	}
	return it.toDomain(), nil
}

func (s *Store) accountItem(ctx context.Context, id string) (accountItem, bool, error) {
	var it accountItem
	found, err := s.getItem(ctx, itemKey(accountPK(id), skAccount), true, &it)
	if err != nil {
		return it, false, internal(err, "get account %s", id)
	}
	return it, found, nil
}

// existingAccount reads an account that must exist.
func (s *Store) existingAccount(ctx context.Context, id string) (accountItem, error) {
	it, found, err := s.accountItem(ctx, id)
	if err == nil && !found {
		err = notFound("account", id)
	}
	return it, err
}

// ListAccounts returns every account, by id.
func (s *Store) ListAccounts(ctx context.Context) ([]ringfence.Account, error) {
	var out []ringfence.Account
	err := queryInto(ctx, s, "gsi1", expression.Key("gsi1pk").Equal(expression.Value(accountsGSI1PK)), func(it accountItem) {
		out = append(out, it.toDomain())
	})
	if err != nil {
		return nil, internal(err, "list accounts")
	}
	return out, nil
}

// AccountKeys describes an account's API keys: one, or two during a rotation.
func (s *Store) AccountKeys(ctx context.Context, id string) ([]APIKeyInfo, error) {
	acct, err := s.existingAccount(ctx, id)
	if err != nil {
		return nil, err
	}
	keys, err := s.keyItems(ctx, acct.KeyHashes)
	if err != nil {
		return nil, err
	}
	out := make([]APIKeyInfo, 0, len(keys))
	for _, k := range keys {
		out = append(out, APIKeyInfo{Hash: k.PK[len("APIKEY#"):], CreatedAt: k.CreatedAt, ValidUntil: k.ValidUntil})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt > out[j].CreatedAt })
	return out, nil
}

// keyItems reads the key items of the hashes an account lists; one the TTL removed is skipped.
func (s *Store) keyItems(ctx context.Context, hashes []string) ([]apiKeyItem, error) {
	var out []apiKeyItem
	for _, h := range hashes {
		var it apiKeyItem
		found, err := s.getItem(ctx, itemKey(apiKeyPK(h), skAPIKey), true, &it)
		if err != nil {
			return nil, internal(err, "read API key")
		}
		if found {
			out = append(out, it)
		}
	}
	return out, nil
}

// SetAccountLimits sets an account's own concurrency limits (kinds absent keep theirs). The next
// reservation reads them.
func (s *Store) SetAccountLimits(ctx context.Context, id string, limits map[ringfence.SlotKind]int) (ringfence.Account, error) {
	names := map[ringfence.SlotKind]string{ringfence.SlotDirect: "limit_direct", ringfence.SlotCampaign: "limit_campaign"}
	var set expression.UpdateBuilder
	for kind, n := range limits {
		name, ok := names[kind]
		if !ok || n < 0 {
			return ringfence.Account{}, ringfence.Errorf(ringfence.EINVALID, "a %s limit of %d cannot be set", kind, n)
		}
		set = set.Set(expression.Name(name), expression.Value(n))
	}
	if len(limits) == 0 {
		return ringfence.Account{}, ringfence.Errorf(ringfence.EINVALID, "name a limit to set")
	}
	ok, err := s.updateIf(ctx, itemKey(accountPK(id), skAccount), set, expression.AttributeExists(expression.Name("pk")))
	if err != nil {
		return ringfence.Account{}, internal(err, "set limits of account %s", id)
	}
	if !ok {
		return ringfence.Account{}, notFound("account", id)
	}
	return s.GetAccount(ctx, id)
}

// RotateAPIKey gives an account a new API key. Its current key keeps working for grace (so that
// clients can move over), then gets 401; a key still in the grace of an earlier rotation stops
// at once, so an account never holds more than two keys. All of it is one transaction,
// conditioned on the account's keys being those read.
func (s *Store) RotateAPIKey(ctx context.Context, id, newKey string, grace time.Duration) error {
	acct, err := s.existingAccount(ctx, id)
	if err != nil {
		return err
	}
	old, err := s.keyItems(ctx, acct.KeyHashes)
	if err != nil {
		return err
	}
	until := s.Now().Add(grace)
	hash := HashAPIKey(newKey)
	put, err := s.putNew(apiKeyItem{PK: apiKeyPK(hash), SK: skAPIKey, AccountID: id, CreatedAt: s.now()})
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{put}
	kept := []string{hash}
	for _, k := range old {
		if k.ValidUntil != "" {
			items = append(items, s.deleteItem(k.PK, k.SK))
			continue
		}
		u, err := s.update(itemKey(k.PK, k.SK),
			expression.Set(expression.Name("valid_until"), expression.Value(timestamp(until))).
				Set(expression.Name("expires_at"), expression.Value(until.Add(24*time.Hour).Unix())),
			expression.AttributeExists(expression.Name("pk")))
		if err != nil {
			return err
		}
		items = append(items, types.TransactWriteItem{Update: u})
		kept = append(kept, k.PK[len("APIKEY#"):])
	}
	u, err := s.setKeys(acct, kept)
	if err != nil {
		return err
	}
	items = append(items, types.TransactWriteItem{Update: u})
	return s.keysTransaction(ctx, items, "rotate the API key of account %s", id)
}

// RevokeAPIKeys removes every API key of an account at once: the next request with any of them
// gets 401. It returns how many keys it removed.
func (s *Store) RevokeAPIKeys(ctx context.Context, id string) (int, error) {
	acct, err := s.existingAccount(ctx, id)
	if err != nil {
		return 0, err
	}
	var items []types.TransactWriteItem
	for _, h := range acct.KeyHashes {
		items = append(items, s.deleteItem(apiKeyPK(h), skAPIKey))
	}
	u, err := s.setKeys(acct, nil)
	if err != nil {
		return 0, err
	}
	items = append(items, types.TransactWriteItem{Update: u})
	return len(acct.KeyHashes), s.keysTransaction(ctx, items, "revoke the API keys of account %s", id)
}

// setKeys updates the account's key list, conditioned on it being the one read.
func (s *Store) setKeys(acct accountItem, hashes []string) (*types.Update, error) {
	set := expression.Set(expression.Name("keys_version"), expression.Value(acct.KeysVersion+1))
	if len(hashes) > 0 {
		set = set.Set(expression.Name("key_hashes"), expression.Value(&types.AttributeValueMemberSS{Value: hashes}))
	} else {
		set = set.Remove(expression.Name("key_hashes"))
	}
	cond := expression.Name("keys_version").Equal(expression.Value(acct.KeysVersion))
	if acct.KeysVersion == 0 {
		cond = expression.AttributeNotExists(expression.Name("keys_version"))
	}
	return s.update(itemKey(acct.PK, acct.SK), set, expression.AttributeExists(expression.Name("pk")).And(cond))
}

func (s *Store) deleteItem(pk, sk string) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: itemKey(pk, sk)}}
}

// keysTransaction runs a rotation or revocation; a false condition means another one changed the
// account's keys meanwhile.
func (s *Store) keysTransaction(ctx context.Context, items []types.TransactWriteItem, format string, args ...any) error {
	err := s.transact(ctx, items, format, args...)
	if _, failed := err.(*cancelledAt); failed {
		return ringfence.Errorf(ringfence.ECONFLICT, "the account's keys changed meanwhile; try again")
	}
	return err
}
