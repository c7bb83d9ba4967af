package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// maxTransactionItems is DynamoDB's limit on the items of one transaction.
const maxTransactionItems = 100

// ContactID returns the id of the i-th contact (from 0) added to a campaign. The number is
// zero-padded so that contact ids sort in the order they were added.
func ContactID(i int) string { return fmt.Sprintf("ct%07d", i+1) }

// CreateCampaign stores a campaign, status created, and then its contacts (see AddContacts). The
// caller has validated everything first. A request that dies half-way leaves a created campaign
// whose total_contacts counts exactly the contacts written; adding the same contacts again,
// which is idempotent per phone, completes it.
func (s *Store) CreateCampaign(ctx context.Context, c ringfence.Campaign, contacts []ringfence.Contact) (ringfence.Campaign, error) {
	now := s.now()
	c.Status = ringfence.CampaignCreated
	statuses, max, delays := retryAttributes(c.Retry)
	item, err := attributevalue.MarshalMap(campaignItem{
		RetryStatuses: statuses, RetryMax: max, RetryDelays: delays, hoursAttributes: hoursAttributesOf(c.Hours),
		MaxConcurrency: c.MaxConcurrency, DefaultRegion: c.DefaultRegion,
		PK: campaignPK(c.ID), SK: skCampaign,
		GSI1PK: accountCampaignsGSI1PK(c.AccountID), GSI1SK: now + "#" + c.ID,
		ID: c.ID, AccountID: c.AccountID, Name: c.Name, Provider: string(c.Provider), AgentID: c.AgentID,
		FromNumber: c.FromNumber, Status: string(c.Status), TotalCost: "0", CreatedAt: now,
		StartAt: optionalTimestamp(c.StartAt), EndAt: optionalTimestamp(c.EndAt),
	})
	if err != nil {
		return c, internal(err, "marshal campaign %s", c.ID)
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if conditionFailed(err) {
		return c, ringfence.Errorf(ringfence.ECONFLICT, "campaign %s already exists", c.ID)
	}
	if err != nil {
		return c, internal(err, "put campaign %s", c.ID)
	}
	c.CreatedAt = parseTime(now)
	c.OutcomeCounts = map[ringfence.CallStatus]int{}
	added, err := s.AddContacts(ctx, c.AccountID, c.ID, contacts)
	c.TotalContacts = added
	return c, err
}

// GetCampaign reads a campaign of the given account. A campaign of another account is reported
// as not found, so ids do not leak across accounts.
func (s *Store) GetCampaign(ctx context.Context, accountID, id string) (ringfence.Campaign, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: itemKey(campaignPK(id), skCampaign), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return ringfence.Campaign{}, internal(err, "get campaign %s", id)
	}
	var it campaignItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return ringfence.Campaign{}, internal(err, "unmarshal campaign %s", id)
	}
	if out.Item == nil || it.AccountID != accountID {
		return ringfence.Campaign{}, notFound("campaign", id)
	}
	return it.toDomain(), nil
}

// ListContacts returns all contacts of a campaign, in contact order.
func (s *Store) ListContacts(ctx context.Context, campaignID string) ([]ringfence.Contact, error) {
	keyCond := expression.Key("pk").Equal(expression.Value(campaignPK(campaignID))).
		And(expression.Key("sk").BeginsWith("CONTACT#"))
	var contacts []ringfence.Contact
	err := queryInto(ctx, s, "", keyCond, func(it contactItem) { contacts = append(contacts, it.toDomain()) })
	if err != nil {
		return nil, internal(err, "list contacts of campaign %s", campaignID)
	}
	return contacts, nil
}

// ListCampaignCalls returns the calls of a campaign from index gsi1. The index is eventually
// consistent: a call created a moment ago may be missing, which listing can tolerate.
func (s *Store) ListCampaignCalls(ctx context.Context, campaignID string) ([]ringfence.Call, error) {
	keyCond := expression.Key("gsi1pk").Equal(expression.Value(campaignCallsGSI1PK(campaignID)))
	var calls []ringfence.Call
	err := queryInto(ctx, s, "gsi1", keyCond, func(it callItem) { calls = append(calls, it.toDomain()) })
	if err != nil {
		return nil, internal(err, "list calls of campaign %s", campaignID)
	}
	return calls, nil
}

// query runs a Query over the table (index "") or an index, page by page, calling each for every item.
func (s *Store) query(ctx context.Context, index string, keyCond expression.KeyConditionBuilder, each func(map[string]types.AttributeValue) error) error {
	expr, err := expression.NewBuilder().WithKeyCondition(keyCond).Build()
	if err != nil {
		return err
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}
	if index != "" {
		in.IndexName = aws.String(index)
	} else {
		in.ConsistentRead = aws.Bool(true)
	}
	p := dynamodb.NewQueryPaginator(s.client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, item := range page.Items {
			if err := each(item); err != nil {
				return err
			}
		}
	}
	return nil
}

// SetRescheduleDay stores the day a mid-call tool asked to call the contact again, on the call and
// on its contact, in one transaction. No other write path sets this attribute, so no later
// post-call write can drop it.
func (s *Store) SetRescheduleDay(ctx context.Context, callID string, rd ringfence.RescheduleDay) (ringfence.Call, error) {
	c, err := s.GetCall(ctx, callID)
	if err != nil {
		return c, err
	}
	day := rd.Day
	set := expression.Set(expression.Name("reschedule_day"), expression.Value(day))
	// Words that name no day are kept as given, flagged so that no one reads them as a day.
	if rd.Unparsed {
		set = set.Set(expression.Name("reschedule_day_unparsed"), expression.Value(true))
	} else {
		set = set.Remove(expression.Name("reschedule_day_unparsed"))
	}
	exists := expression.AttributeExists(expression.Name("pk"))
	callWrite, err := s.update(itemKey(callPK(c.ID), skCall), set, exists)
	if err != nil {
		return c, err
	}
	items := []types.TransactWriteItem{{Update: callWrite}}
	withEvent := false
	if c.RescheduleDay != day {
		// A new day is a change, and its event joins the write; the call must still have the
		// day read, so that the event names the change that was made.
		if items, err = s.withRescheduleEvent(ctx, items, c, day, set); err != nil {
			return c, err
		}
		withEvent = len(items) > 1
	}
	if c.ContactID != "" {
		contactWrite, err := s.update(itemKey(campaignPK(c.CampaignID), contactSK(c.ContactID)), set, exists)
		if err != nil {
			return c, err
		}
		items = append(items, types.TransactWriteItem{Update: contactWrite})
	}
	if _, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
		if _, ok := transactionCancelled(err); ok && withEvent {
			return c, ringfence.Errorf(ringfence.EUNAVAILABLE, "call %s was rescheduled concurrently; retry", c.ID)
		}
		return c, internal(err, "set reschedule_day on call %s", c.ID)
	}
	c.RescheduleDay, c.RescheduleUnparsed = day, rd.Unparsed
	return c, nil
}

// ListCampaigns returns an account's campaigns, newest first, from index gsi1.
func (s *Store) ListCampaigns(ctx context.Context, accountID string) ([]ringfence.Campaign, error) {
	keyCond := expression.Key("gsi1pk").Equal(expression.Value(accountCampaignsGSI1PK(accountID)))
	var campaigns []ringfence.Campaign
	err := queryInto(ctx, s, "gsi1", keyCond, func(it campaignItem) { campaigns = append([]ringfence.Campaign{it.toDomain()}, campaigns...) })
	if err != nil {
		return nil, internal(err, "list campaigns of account %s", accountID)
	}
	return campaigns, nil
}

// StartCampaign moves a campaign from created to running; starting a running campaign again is
// allowed (it picks up contacts without a call), starting a completed one is a conflict.
func (s *Store) StartCampaign(ctx context.Context, accountID, id string) (ringfence.Campaign, error) {
	c, err := s.GetCampaign(ctx, accountID, id)
	if err != nil {
		return c, err
	}
	// A running campaign is in the sparse index gsi2 (RUNNING#<shard>), where the sweep finds the
	// campaigns it may have to complete.
	applied, err := s.updateIf(ctx, itemKey(campaignPK(id), skCampaign),
		expression.Set(expression.Name("status"), expression.Value(ringfence.CampaignRunning)).
			Set(expression.Name("gsi2pk"), expression.Value("RUNNING#"+shardOf(id))).
			Set(expression.Name("gsi2sk"), expression.Value(s.now())),
		expression.Name("status").In(expression.Value(ringfence.CampaignCreated), expression.Value(ringfence.CampaignRunning)))
	if err != nil {
		return c, internal(err, "start campaign %s", id)
	}
	if !applied {
		return c, ringfence.Errorf(ringfence.ECONFLICT, "campaign %s is %s and cannot be started", id, c.Status)
	}
	c.Status = ringfence.CampaignRunning
	return c, nil
}

// ScheduleCampaign moves a created campaign whose start_at is ahead to scheduled, and puts it in
// the dispatcher's index (RUNNING#<shard>), whose runs start it at start_at (StartScheduled).
// Scheduling a scheduled campaign again is a no-op.
func (s *Store) ScheduleCampaign(ctx context.Context, accountID, id string) (ringfence.Campaign, error) {
	c, err := s.GetCampaign(ctx, accountID, id)
	if err != nil {
		return c, err
	}
	applied, err := s.updateIf(ctx, itemKey(campaignPK(id), skCampaign),
		expression.Set(expression.Name("status"), expression.Value(ringfence.CampaignScheduled)).
			Set(expression.Name("gsi2pk"), expression.Value("RUNNING#"+shardOf(id))).
			Set(expression.Name("gsi2sk"), expression.Value(s.now())),
		expression.Name("status").In(expression.Value(ringfence.CampaignCreated), expression.Value(ringfence.CampaignScheduled)))
	if err != nil {
		return c, internal(err, "schedule campaign %s", id)
	}
	if !applied {
		return c, ringfence.Errorf(ringfence.ECONFLICT, "campaign %s is %s and cannot be scheduled", id, c.Status)
	}
	c.Status = ringfence.CampaignScheduled
	return c, nil
}

// StartScheduled moves a scheduled campaign to running once its start_at has come, by the store's
// clock. The condition decides: however many dispatcher runs try at once, it starts once, and
// never early. It reports whether this call started it.
func (s *Store) StartScheduled(ctx context.Context, id string) (bool, error) {
	applied, err := s.updateIf(ctx, itemKey(campaignPK(id), skCampaign),
		expression.Set(expression.Name("status"), expression.Value(ringfence.CampaignRunning)),
		expression.Name("status").Equal(expression.Value(ringfence.CampaignScheduled)).
			And(expression.Name("start_at").LessThanEqual(expression.Value(s.now()))))
	if err != nil {
		return false, internal(err, "start scheduled campaign %s", id)
	}
	return applied, nil
}

// CompleteCampaignIfDone marks a running campaign completed once every contact's call has reached
// a terminal status. The condition, not the read, decides: whoever runs it (the webhook that ended
// the last call, or a sweep) and however often, the campaign completes exactly once. It reports
// whether this call completed it.
func (s *Store) CompleteCampaignIfDone(ctx context.Context, id string) (bool, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: itemKey(campaignPK(id), skCampaign), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return false, internal(err, "get campaign %s", id)
	}
	var it campaignItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return false, internal(err, "unmarshal campaign %s", id)
	}
	if out.Item == nil || it.Status != string(ringfence.CampaignRunning) || it.CallsCompleted < it.TotalContacts {
		return false, nil
	}
	set := expression.Set(expression.Name("status"), expression.Value(ringfence.CampaignCompleted)).
		Set(expression.Name("completed_at"), expression.Value(s.now())).
		Remove(expression.Name("gsi2pk")).Remove(expression.Name("gsi2sk"))
	cond := expression.Name("status").Equal(expression.Value(ringfence.CampaignRunning)).
		And(expression.Name("calls_completed").GreaterThanEqual(expression.Name("total_contacts")))
	if event, err := s.outboxEvent(ctx, it.AccountID, ringfence.EventCampaignCompleted, id); err != nil {
		return false, err
	} else if event != nil {
		// The campaign.completed event commits with the completion, or neither does.
		return s.completeWithEvent(ctx, id, set, cond, *event)
	}
	applied, err := s.updateIf(ctx, itemKey(campaignPK(id), skCampaign), set, cond)
	if err != nil {
		return false, internal(err, "complete campaign %s", id)
	}
	if !applied {
		return false, nil
	}
	return true, nil
}
