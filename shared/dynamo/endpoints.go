package dynamo

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// endpointItem is an account's endpoint, stored under the account (ACCOUNT#<id>, ENDPOINT#<id>)
// so that one Query lists them all.
type endpointItem struct {
	PK          string   `dynamodbav:"pk"`
	SK          string   `dynamodbav:"sk"`
	ID          string   `dynamodbav:"id"`
	AccountID   string   `dynamodbav:"account_id"`
	URL         string   `dynamodbav:"url"`
	Events      []string `dynamodbav:"events"`
	Description string   `dynamodbav:"description,omitempty"`
	Secret      string   `dynamodbav:"secret"`
	CreatedAt   string   `dynamodbav:"created_at"`
}

func (it endpointItem) toDomain() ringfence.Endpoint {
	return ringfence.Endpoint{
		ID: it.ID, AccountID: it.AccountID, URL: it.URL, Events: it.Events,
		Description: it.Description, Secret: it.Secret, CreatedAt: it.CreatedAt,
	}
}

// CreateEndpoint stores a new endpoint. The count of endpoints is read first and bounded by
// ringfence.MaxEndpoints: two concurrent creations may pass it together, which is harmless, as
// the bound only keeps an event's deliveries within one transaction with room to spare.
func (s *Store) CreateEndpoint(ctx context.Context, e ringfence.Endpoint) (ringfence.Endpoint, error) {
	existing, err := s.ListEndpoints(ctx, e.AccountID)
	if err != nil {
		return e, err
	}
	if len(existing) >= ringfence.MaxEndpoints {
		return e, ringfence.Errorf(ringfence.ECONFLICT, "account %s has %d endpoints already, the most it may have", e.AccountID, ringfence.MaxEndpoints)
	}
	e.CreatedAt = s.now()
	put, err := s.putNew(endpointItem{
		PK: accountPK(e.AccountID), SK: endpointSK(e.ID), ID: e.ID, AccountID: e.AccountID, URL: e.URL,
		Events: e.Events, Description: e.Description, Secret: e.Secret, CreatedAt: e.CreatedAt,
	})
	if err != nil {
		return e, err
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: put.Put.TableName, Item: put.Put.Item, ConditionExpression: put.Put.ConditionExpression})
	if conditionFailed(err) {
		return e, ringfence.Errorf(ringfence.ECONFLICT, "endpoint %s already exists", e.ID)
	}
	if err != nil {
		return e, internal(err, "create endpoint %s", e.ID)
	}
	s.endpoints.forget(e.AccountID)
	return e, nil
}

// GetEndpoint reads one of an account's endpoints.
func (s *Store) GetEndpoint(ctx context.Context, accountID, id string) (ringfence.Endpoint, error) {
	var it endpointItem
	found, err := s.getItem(ctx, itemKey(accountPK(accountID), endpointSK(id)), true, &it)
	if err != nil {
		return ringfence.Endpoint{}, internal(err, "get endpoint %s", id)
	}
	if !found {
		return ringfence.Endpoint{}, notFound("endpoint", id)
	}
	return it.toDomain(), nil
}

// ListEndpoints returns an account's endpoints, oldest first, by a consistent Query.
func (s *Store) ListEndpoints(ctx context.Context, accountID string) ([]ringfence.Endpoint, error) {
	keyCond := expression.Key("pk").Equal(expression.Value(accountPK(accountID))).
		And(expression.Key("sk").BeginsWith(endpointSK("")))
	var out []ringfence.Endpoint
	err := queryInto(ctx, s, "", keyCond, func(it endpointItem) { out = append(out, it.toDomain()) })
	if err != nil {
		return nil, internal(err, "list endpoints of account %s", accountID)
	}
	return out, nil
}

// DeleteEndpoint removes an endpoint. Its pending deliveries find it gone and are marked failed.
func (s *Store) DeleteEndpoint(ctx context.Context, accountID, id string) error {
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table), Key: itemKey(accountPK(accountID), endpointSK(id)),
		ConditionExpression: aws.String("attribute_exists(pk)"),
	})
	if conditionFailed(err) {
		return notFound("endpoint", id)
	}
	if err != nil {
		return internal(err, "delete endpoint %s", id)
	}
	s.endpoints.forget(accountID)
	return nil
}

// RotateEndpointSecret replaces an endpoint's signing secret.
func (s *Store) RotateEndpointSecret(ctx context.Context, accountID, id, secret string) (ringfence.Endpoint, error) {
	applied, err := s.updateIf(ctx, itemKey(accountPK(accountID), endpointSK(id)),
		expression.Set(expression.Name("secret"), expression.Value(secret)),
		expression.AttributeExists(expression.Name("pk")))
	if err != nil {
		return ringfence.Endpoint{}, internal(err, "rotate secret of endpoint %s", id)
	}
	if !applied {
		return ringfence.Endpoint{}, notFound("endpoint", id)
	}
	s.endpoints.forget(accountID)
	return s.GetEndpoint(ctx, accountID, id)
}

// endpointCacheTTL is how long a store trusts the list of an account's endpoints it read. The
// write paths consult it on every change that may cause an event; without it each would cost a
// read. An endpoint created elsewhere starts receiving events within this time.
const endpointCacheTTL = 10 * time.Second

// endpointCache remembers each account's endpoints for endpointCacheTTL. Its zero value is ready.
type endpointCache struct {
	mu        sync.Mutex
	byAccount map[string]cachedEndpoints
}

type cachedEndpoints struct {
	endpoints []ringfence.Endpoint
	readAt    time.Time
}

func (c *endpointCache) get(accountID string, now time.Time) ([]ringfence.Endpoint, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byAccount[accountID]
	if !ok || now.Sub(e.readAt) >= endpointCacheTTL || now.Before(e.readAt) {
		return nil, false
	}
	return e.endpoints, true
}

func (c *endpointCache) put(accountID string, endpoints []ringfence.Endpoint, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byAccount == nil {
		c.byAccount = map[string]cachedEndpoints{}
	}
	c.byAccount[accountID] = cachedEndpoints{endpoints: endpoints, readAt: now}
}

func (c *endpointCache) forget(accountID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.byAccount, accountID)
}

// subscribed reports whether any of the account's endpoints receives events of the given type.
func (s *Store) subscribed(ctx context.Context, accountID, eventType string) (bool, error) {
	if accountID == "" {
		return false, nil
	}
	now := s.Now()
	endpoints, ok := s.endpoints.get(accountID, now)
	if !ok {
		var err error
		if endpoints, err = s.ListEndpoints(ctx, accountID); err != nil {
			return false, err
		}
		s.endpoints.put(accountID, endpoints, now)
	}
	for _, e := range endpoints {
		if e.Subscribes(eventType) {
			return true, nil
		}
	}
	return false, nil
}
