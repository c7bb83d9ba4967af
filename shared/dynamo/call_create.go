package dynamo

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// CreateCall records a new call that holds no slot. If the call belongs to a campaign contact, the same transaction
// claims the contact for it (a contact gets one call, whoever tries to create a second), and if the
// provider's call id is already known the lookup item that finds the call by it is written too.
func (s *Store) CreateCall(ctx context.Context, c ringfence.Call) error {
	put, err := s.putNew(s.newCallItem(c, s.now()))
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{put}
	if c.ProviderCallID != "" {
		lookup, err := s.putNew(providerCallItem{PK: providerCallPK(c.Provider, c.ProviderCallID), SK: skProviderCall, CallID: c.ID})
		if err != nil {
			return err
		}
		items = append(items, lookup)
	}
	if c.ContactID != "" {
		claim, err := s.claimContactForCall(c)
		if err != nil {
			return err
		}
		items = append(items, claim)
	}
	if len(items) == 1 {
		_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: put.Put.TableName, Item: put.Put.Item, ConditionExpression: put.Put.ConditionExpression})
		if conditionFailed(err) {
			return ringfence.Errorf(ringfence.ECONFLICT, "call %s already exists", c.ID)
		}
		if err != nil {
			return internal(err, "create call %s", c.ID)
		}
		return nil
	}
	err = s.transact(ctx, items, "create call %s", c.ID)
	var cancelled *cancelledAt
	if errors.As(err, &cancelled) {
		return ringfence.Errorf(ringfence.ECONFLICT, "call %s, its provider call id or its contact's call already exists", c.ID)
	}
	return err
}

// CreateCallWithSlot creates a call that holds a slot of its kind and is claimed for dialling:
// the counter's ADD, the slot item, the call (status dialing) and, for a campaign call, the
// contact's claim commit together. It returns ringfence.ErrAtLimit when the account already
// holds limit slots of the kind, ErrSuppressed when the number is suppressed, and ECONFLICT when
// the call or the contact's call exists.
func (s *Store) CreateCallWithSlot(ctx context.Context, c ringfence.Call, kind ringfence.SlotKind, limit int) (ringfence.Call, error) {
	now := s.now()
	c.Status, c.SlotKind, c.QueueKey = ringfence.StatusDialing, kind, ""
	take, err := s.takeSlot(c.AccountID, kind, limit)
	if err != nil {
		return c, err
	}
	slot, err := s.putNew(newSlotItem(c.AccountID, kind, c.ID, now))
	if err != nil {
		return c, err
	}
	call, err := s.putNew(s.newCallItem(c, now))
	if err != nil {
		return c, err
	}
	items := []types.TransactWriteItem{take, slot, call}
	if c.ContactID != "" {
		claim, err := s.claimContactForCall(c)
		if err != nil {
			return c, err
		}
		items = append(items, claim)
	}
	suppressedAt := -1
	if c.ToNumber != "" {
		check, err := s.notSuppressed(c.AccountID, c.ToNumber)
		if err != nil {
			return c, err
		}
		suppressedAt = len(items)
		items = append(items, check)
	}
	for attempt := 0; ; attempt++ {
		all, freqAt, claim, err := s.withDialCounted(ctx, items, c.AccountID, c.ToNumber, c.RespectFrequency)
		if err != nil {
			return c, err
		}
		err = s.transact(ctx, all, "create call %s with a slot", c.ID)
		var cancelled *cancelledAt
		if errors.As(err, &cancelled) && cancelled.item == freqAt {
			// Held by the cap, or another dial of the number committed since the read.
			err := s.heldOrRace(ctx, c.AccountID, c.ToNumber, claim)
			if errors.Is(err, errFrequencyRace) && attempt < maxApplyAttempts {
				continue
			}
			return c, err
		}
		if err == nil {
			break
		}
		if errors.As(err, &cancelled) {
			if cancelled.item == suppressedAt {
				return c, ErrSuppressed
			}
			if cancelled.item == 0 {
				return c, ringfence.ErrAtLimit
			}
			return c, ringfence.Errorf(ringfence.ECONFLICT, "call %s or its contact's call exists already", c.ID)
		}
		return c, err
	}
	c.DialStartedAt = parseTime(now)
	return c, nil
}

func (s *Store) newCallItem(c ringfence.Call, now string) callItem {
	it := callItem{
		PK: callPK(c.ID), SK: skCall,
		ID: c.ID, AccountID: c.AccountID, CampaignID: c.CampaignID, ContactID: c.ContactID,
		Provider: string(c.Provider), ProviderCallID: c.ProviderCallID,
		Status: string(c.Status), StatusRank: c.Status.Rank(),
		SlotKind: string(c.SlotKind), QueueKey: c.QueueKey, Variables: c.Variables, Direction: string(c.Direction),
		CompanyID: c.Context.CompanyID, CompanyName: c.Context.CompanyName, BranchID: c.Context.BranchID,
		BranchName: c.Context.BranchName, Greeting: c.Context.Greeting, CustomerID: c.Context.CustomerID,
		CustomerName: c.Context.CustomerName, Anonymous: c.Context.Anonymous,
		ToNumber: c.ToNumber, FromNumber: c.FromNumber, AgentID: c.AgentID,
		CreatedAt: now, UpdatedAt: now, History: []string{now + " created " + string(c.Status)},
		Held: c.Held, RespectFrequency: c.RespectFrequency,
	}
	if !c.HeldUntil.IsZero() {
		it.HeldUntil = timestamp(c.HeldUntil)
	}
	if c.CampaignID != "" {
		it.GSI1PK, it.GSI1SK = campaignCallsGSI1PK(c.CampaignID), "CALL#"+c.ID
		it.CampaignAttempt = c.Attempt
		it.RetryStatuses, it.RetryMax, it.RetryDelays = retryAttributes(c.Retry)
		it.hoursAttributes = hoursAttributesOf(c.Hours)
		it.BusyRefusals = c.BusyRefusals
	}
	if sc := c.Schedule; sc != nil {
		it.CustomerID, it.CallType, it.LocalDate, it.Attempt = sc.CustomerID, string(sc.Type), sc.LocalDate, sc.Attempt
	}
	if c.Status == ringfence.StatusDialing {
		it.DialStartedAt = now
	}
	// A call in flight is in the sparse index the stale-call sweep reads; a call that waits in
	// the queue enters it when it is dialled, and a call leaves it when it ends.
	if !c.Status.IsTerminal() && c.Status != ringfence.StatusQueued {
		it.GSI2PK, it.GSI2SK = activeShardKey(c.ID), now
	}
	return it
}

func (s *Store) claimContactForCall(c ringfence.Call) (types.TransactWriteItem, error) {
	expr, err := expression.NewBuilder().
		// A claimed contact leaves the index of contacts waiting to be queued.
		WithUpdate(expression.Set(expression.Name("call_id"), expression.Value(c.ID)).
			Remove(expression.Name("gsi1pk")).Remove(expression.Name("gsi1sk"))).
		WithCondition(expression.AttributeExists(expression.Name("pk")).
			And(expression.AttributeNotExists(expression.Name("call_id")))).
		Build()
	if err != nil {
		return types.TransactWriteItem{}, internal(err, "build contact claim")
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       itemKey(campaignPK(c.CampaignID), contactSK(c.ContactID)),
		UpdateExpression:          expr.Update(),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}}, nil
}
