package dynamo

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// PutNumber creates or updates a number's route. It SETs the route's attributes by name (no
// item is replaced). Each case is its own conditional write, so DynamoDB decides which applies:
//
//   - a free number becomes the account's claim, pending an operator's confirmation (it answers
//     no inbound call until then);
//   - the account's own number (claimed or confirmed) gets its new route, and keeps its state;
//   - another account's pending claim is replaced by this one, still pending: a claim proves
//     nothing, and the operator confirms whichever is genuine;
//   - another account's confirmed number cannot be taken (ECONFLICT).
//
// Each write commits with a note of the account's claim (NUMBER#<e164>, CLAIM#<account>), so
// an account whose claim another replaced can be told so (ReplacedClaim).
func (s *Store) PutNumber(ctx context.Context, r ringfence.NumberRoute) (ringfence.NumberRoute, error) {
	key := itemKey(numberPK(r.Number), skNumber)
	// Each write gets its own builder: an UpdateBuilder's Set adds to a map its copies share.
	route := s.routeAttributes(r)
	pending := s.routeAttributes(r).Set(expression.Name("pending"), expression.Value(true))
	writes := []struct {
		set  expression.UpdateBuilder
		cond expression.ConditionBuilder
	}{
		{pending, expression.AttributeNotExists(expression.Name("pk"))},
		{route, expression.Name("account_id").Equal(expression.Value(r.AccountID))},
		{pending, expression.Name("pending").Equal(expression.Value(true))},
	}
	claim, err := s.claimNote(r)
	if err != nil {
		return r, err
	}
	for _, w := range writes {
		u, err := s.update(key, w.set, w.cond)
		if err != nil {
			return r, err
		}
		err = s.transact(ctx, []types.TransactWriteItem{{Update: u}, {Update: claim}}, "put number %s", ringfence.MaskPhone(r.Number))
		var cancelled *cancelledAt
		if errors.As(err, &cancelled) {
			continue
		}
		if err != nil {
			return r, err
		}
		return s.getNumber(ctx, r.Number, true)
	}
	return r, ringfence.Errorf(ringfence.ECONFLICT, "number %s belongs to another account", ringfence.MaskPhone(r.Number))
}

// claimNote is the update that notes an account's claim of a number, whether or not it was
// noted before: it SETs only its own attribute.
func (s *Store) claimNote(r ringfence.NumberRoute) (*types.Update, error) {
	expr, err := expression.NewBuilder().WithUpdate(expression.Set(expression.Name("claimed_at"), expression.Value(s.now()))).Build()
	if err != nil {
		return nil, internal(err, "build update expression")
	}
	return &types.Update{
		TableName: aws.String(s.table), Key: itemKey(numberPK(r.Number), numberClaimSK(r.AccountID)),
		UpdateExpression: expr.Update(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}, nil
}

// ConfirmNumber confirms an account's claim of a number, the operators' check that the number is
// the account's: from then on inbound calls to it get its route, and no other account can take
// it. The write is conditioned on the claim being accountID's, so a claim that another account
// replaced after the operator checked is not confirmed for it (ECONFLICT).
func (s *Store) ConfirmNumber(ctx context.Context, e164, accountID string) (ringfence.NumberRoute, error) {
	set := expression.Remove(expression.Name("pending")).Set(expression.Name("confirmed_at"), expression.Value(s.now()))
	applied, err := s.updateIf(ctx, itemKey(numberPK(e164), skNumber), set, expression.Name("account_id").Equal(expression.Value(accountID)))
	if err != nil {
		return ringfence.NumberRoute{}, internal(err, "confirm number %s", ringfence.MaskPhone(e164))
	}
	if !applied {
		// The condition decided; this read only says why, for the operator.
		r, err := s.getNumber(ctx, e164, true)
		if err != nil {
			return ringfence.NumberRoute{}, err
		}
		return ringfence.NumberRoute{}, ringfence.Errorf(ringfence.ECONFLICT, "number %s is claimed by account %s, not %s: nothing was confirmed", ringfence.MaskPhone(e164), r.AccountID, accountID)
	}
	return s.getNumber(ctx, e164, true)
}

// ReplacedClaim reports whether an account claimed a number that is now another account's: its
// pending claim was replaced by another's, or the number was confirmed for another.
func (s *Store) ReplacedClaim(ctx context.Context, e164, accountID string) (bool, error) {
	var it struct {
		PK string `dynamodbav:"pk"`
	}
	found, err := s.getItem(ctx, itemKey(numberPK(e164), numberClaimSK(accountID)), false, &it)
	if err != nil {
		return false, internal(err, "read claim of number %s", ringfence.MaskPhone(e164))
	}
	return found, nil
}

// routeAttributes is the update that sets a route's own attributes.
func (s *Store) routeAttributes(r ringfence.NumberRoute) expression.UpdateBuilder {
	now := s.now()
	return expression.Set(expression.Name("number"), expression.Value(r.Number)).
		Set(expression.Name("account_id"), expression.Value(r.AccountID)).
		Set(expression.Name("company_id"), expression.Value(r.CompanyID)).
		Set(expression.Name("company_name"), expression.Value(r.CompanyName)).
		Set(expression.Name("branch_id"), expression.Value(r.BranchID)).
		Set(expression.Name("branch_name"), expression.Value(r.BranchName)).
		Set(expression.Name("agent_id"), expression.Value(r.AgentID)).
		Set(expression.Name("greeting"), expression.Value(r.Greeting)).
		Set(expression.Name("updated_at"), expression.Value(now))
}

// GetNumber reads a number's route.
func (s *Store) GetNumber(ctx context.Context, e164 string) (ringfence.NumberRoute, error) {
	return s.getNumber(ctx, e164, false)
}

// getNumber reads a number's route, strongly consistent when a write just changed it.
func (s *Store) getNumber(ctx context.Context, e164 string, consistent bool) (ringfence.NumberRoute, error) {
	var it numberItem
	found, err := s.getItem(ctx, itemKey(numberPK(e164), skNumber), consistent, &it)
	if err != nil {
		return ringfence.NumberRoute{}, internal(err, "get number %s", ringfence.MaskPhone(e164))
	}
	if !found {
		return ringfence.NumberRoute{}, notFound("number", ringfence.MaskPhone(e164))
	}
	return it.toDomain(), nil
}

// CreateInboundCall records an inbound call with its context, in the write that creates it: the
// call and its provider-id lookup item in one transaction. If the call exists already (its
// webhook or function call came first), the context is filled in where it is missing, by a
// conditional write, and the existing call is returned.
func (s *Store) CreateInboundCall(ctx context.Context, c ringfence.Call) (ringfence.Call, error) {
	now := s.now()
	put, err := s.putNew(s.newCallItem(c, now))
	if err != nil {
		return c, err
	}
	lookup, err := s.putNew(providerCallItem{PK: providerCallPK(c.Provider, c.ProviderCallID), SK: skProviderCall, CallID: c.ID})
	if err != nil {
		return c, err
	}
	err = s.transact(ctx, []types.TransactWriteItem{put, lookup}, "create inbound call %s", c.ID)
	var cancelled *cancelledAt
	if errors.As(err, &cancelled) {
		if err := s.completeContext(ctx, c); err != nil {
			return c, err
		}
		return s.GetCall(ctx, c.ID)
	}
	if err != nil {
		return c, err
	}
	return s.GetCall(ctx, c.ID)
}

// completeContext sets an existing call's context if it has none.
func (s *Store) completeContext(ctx context.Context, c ringfence.Call) error {
	x := c.Context
	set := expression.Set(expression.Name("company_id"), expression.Value(x.CompanyID)).
		Set(expression.Name("company_name"), expression.Value(x.CompanyName)).
		Set(expression.Name("branch_id"), expression.Value(x.BranchID)).
		Set(expression.Name("branch_name"), expression.Value(x.BranchName)).
		Set(expression.Name("greeting"), expression.Value(x.Greeting)).
		Set(expression.Name("anonymous"), expression.Value(x.Anonymous)).
		Set(expression.Name("account_id"), expression.Value(c.AccountID))
	if x.CustomerID != "" {
		set = set.Set(expression.Name("customer_id"), expression.Value(x.CustomerID)).
			Set(expression.Name("customer_name"), expression.Value(x.CustomerName))
	}
	if _, err := s.updateIf(ctx, itemKey(callPK(c.ID), skCall), set,
		expression.AttributeExists(expression.Name("pk")).And(expression.AttributeNotExists(expression.Name("company_id")))); err != nil {
		return internal(err, "complete the context of call %s", c.ID)
	}
	return nil
}

// CreateCustomer stores a customer, the item that finds them by phone (a phone number belongs to
// one customer of an account) and the scheduler's markers (the welcome call, and the daily call
// at nextDaily unless it is zero), in one transaction.
func (s *Store) CreateCustomer(ctx context.Context, c ringfence.Customer, nextDaily time.Time) (ringfence.Customer, error) {
	now := s.now()
	c.CreatedAt = parseTime(now)
	customer, err := s.putNew(customerItem{
		PK: customerPK(c.ID), SK: skCustomer, ID: c.ID, AccountID: c.AccountID, Name: c.Name, Phone: c.Phone,
		Timezone: c.Timezone, DailyCallTime: c.DailyCallTime, Provider: string(c.Provider), AgentID: c.AgentID,
		FromNumber: c.FromNumber, Paid: c.Paid, PhoneValidated: c.PhoneValidated, CallsDisabled: c.CallsDisabled, CreatedAt: now,
		NextDailyAt: optionalTimestamp(nextDaily),
	})
	if err != nil {
		return c, err
	}
	phone, err := s.putNew(phoneItem{PK: phonePK(c.AccountID, c.Phone), SK: skCustomer, CustomerID: c.ID})
	if err != nil {
		return c, err
	}
	markers, err := s.scheduleMarkers(c, nextDaily)
	if err != nil {
		return c, err
	}
	err = s.transact(ctx, append([]types.TransactWriteItem{customer, phone}, markers...), "create customer %s", c.ID)
	var cancelled *cancelledAt
	if errors.As(err, &cancelled) {
		return c, ringfence.Errorf(ringfence.ECONFLICT, "a customer with phone %s exists already", ringfence.MaskPhone(c.Phone))
	}
	if err != nil {
		return c, err
	}
	c.NextDailyAt = nextDaily
	return c, nil
}

func optionalTimestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return timestamp(t)
}

// CustomerChange is what PATCH /customers/{id} may change; nil fields stay as they are.
type CustomerChange struct {
	Paid           *bool
	PhoneValidated *bool
	CallsDisabled  *bool
	DailyCallTime  *string
	// NextDailyAt is the daily call's next time for the new DailyCallTime (zero to stop it).
	NextDailyAt time.Time
}

// UpdateCustomer SETs the changed attributes of a customer (and moves or removes the daily
// marker when the call time changes), in one transaction.
func (s *Store) UpdateCustomer(ctx context.Context, id string, ch CustomerChange) (ringfence.Customer, error) {
	set := expression.Set(expression.Name("updated_at"), expression.Value(s.now()))
	for name, v := range map[string]*bool{"paid": ch.Paid, "phone_validated": ch.PhoneValidated, "calls_disabled": ch.CallsDisabled} {
		if v != nil {
			set = set.Set(expression.Name(name), expression.Value(*v))
		}
	}
	var marker types.TransactWriteItem
	if ch.DailyCallTime != nil {
		set = set.Set(expression.Name("daily_call_time"), expression.Value(*ch.DailyCallTime)).
			Set(expression.Name("next_daily_at"), expression.Value(optionalTimestamp(ch.NextDailyAt)))
		if ch.NextDailyAt.IsZero() {
			marker = types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: itemKey(customerPK(id), skDailyMarker)}}
		} else {
			// The marker is the customer's own item: whether it exists or not, it now says when.
			u, err := s.upsert(itemKey(customerPK(id), skDailyMarker),
				expression.Set(expression.Name("gsi2pk"), expression.Value("DAILY#"+shardOf(id))).
					Set(expression.Name("gsi2sk"), expression.Value(timestamp(ch.NextDailyAt))))
			if err != nil {
				return ringfence.Customer{}, err
			}
			marker = types.TransactWriteItem{Update: u}
		}
	}
	u, err := s.update(itemKey(customerPK(id), skCustomer), set, expression.AttributeExists(expression.Name("pk")))
	if err != nil {
		return ringfence.Customer{}, err
	}
	items := []types.TransactWriteItem{{Update: u}}
	if marker.Update != nil || marker.Delete != nil {
		items = append(items, marker)
	}
	err = s.transact(ctx, items, "update customer %s", id)
	var cancelled *cancelledAt
	if errors.As(err, &cancelled) {
		return ringfence.Customer{}, notFound("customer", id)
	}
	if err != nil {
		return ringfence.Customer{}, err
	}
	return s.GetCustomer(ctx, id)
}

// GetCustomer reads a customer (strongly consistent).
func (s *Store) GetCustomer(ctx context.Context, id string) (ringfence.Customer, error) {
	var it customerItem
	found, err := s.getItem(ctx, itemKey(customerPK(id), skCustomer), true, &it)
	if err != nil {
		return ringfence.Customer{}, internal(err, "get customer %s", id)
	}
	if !found {
		return ringfence.Customer{}, notFound("customer", id)
	}
	return it.toDomain(), nil
}

// CustomerByPhone finds an account's customer by phone number.
func (s *Store) CustomerByPhone(ctx context.Context, accountID, e164 string) (ringfence.Customer, error) {
	var it phoneItem
	found, err := s.getItem(ctx, itemKey(phonePK(accountID, e164), skCustomer), false, &it)
	if err != nil {
		return ringfence.Customer{}, internal(err, "look up customer by phone")
	}
	if !found {
		return ringfence.Customer{}, notFound("customer with phone", ringfence.MaskPhone(e164))
	}
	return s.GetCustomer(ctx, it.CustomerID)
}
