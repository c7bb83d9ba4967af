package dynamo

import (
	"context"
	"errors"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// A campaign's contacts are items CAMPAIGN#<id> / CONTACT#<contact id>, numbered in the order they
// were added. Each has a twin CAMPAIGN#<id> / PHONE#<e164>, written in the same transaction, whose
// conditional put is what makes adding a phone twice a no-op. A contact waits to be queued in the
// sparse index gsi1 under CAMPAIGN#<id>#PENDING; the write that queues its call takes it out.

func contactPhoneSK(e164 string) string { return "PHONE#" + e164 }

func pendingContactsGSI1PK(campaignID string) string { return "CAMPAIGN#" + campaignID + "#PENDING" }

// contactPhoneItem says which contact of a campaign holds a phone number.
type contactPhoneItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	ContactID string `dynamodbav:"contact_id"`
}

// addContactsBatch is how many contacts go into one transaction: each takes two items (the contact
// and its phone), and one more item moves the campaign's total.
const addContactsBatch = (maxTransactionItems - 1) / 2

// contactsOpen is the condition that a campaign exists, belongs to the account and still takes
// contacts: a cancelled or completed campaign takes none.
func contactsOpen(accountID string) expression.ConditionBuilder {
	return expression.AttributeExists(expression.Name("pk")).
		And(expression.Name("account_id").Equal(expression.Value(accountID))).
		And(expression.Name("status").In(expression.Value(ringfence.CampaignCreated), expression.Value(ringfence.CampaignScheduled),
			expression.Value(ringfence.CampaignRunning), expression.Value(ringfence.CampaignPaused)))
}

// AddContacts adds contacts to a campaign of the account and returns how many were new; a phone
// the campaign holds already is left as it is. The caller has validated every contact. Contact
// numbers are reserved first (one counter update), then contacts and phones are written in
// transactions that also move total_contacts by what they add, so the total never counts a
// contact that is not there. Concurrent additions of the same phone add it once.
func (s *Store) AddContacts(ctx context.Context, accountID, campaignID string, contacts []ringfence.Contact) (int, error) {
	if len(contacts) == 0 {
		return 0, nil
	}
	first, err := s.reserveContactNumbers(ctx, accountID, campaignID, len(contacts))
	if err != nil {
		return 0, err
	}
	added := 0
	for start := 0; start < len(contacts); start += addContactsBatch {
		end := min(start+addContactsBatch, len(contacts))
		n, err := s.addContactBatch(ctx, accountID, campaignID, contacts[start:end], first+start)
		added += n
		if err != nil {
			return added, err
		}
	}
	return added, nil
}

// reserveContactNumbers takes n contact numbers from the campaign's counter and returns the first
// (from 0, as ContactID takes it). Numbers of a request that fails later are simply never used.
func (s *Store) reserveContactNumbers(ctx context.Context, accountID, campaignID string, n int) (int, error) {
	u, err := s.update(itemKey(campaignPK(campaignID), skCampaign),
		expression.Add(expression.Name("contact_seq"), expression.Value(n)), contactsOpen(accountID))
	if err != nil {
		return 0, err
	}
	in := updateInput(u)
	in.ReturnValues = types.ReturnValueUpdatedNew
	out, err := s.client.UpdateItem(ctx, in)
	if conditionFailed(err) {
		return 0, s.whyClosed(ctx, accountID, campaignID)
	}
	if err != nil {
		return 0, internal(err, "reserve contact numbers of campaign %s", campaignID)
	}
	seq, ok := out.Attributes["contact_seq"].(*types.AttributeValueMemberN)
	if !ok {
		return 0, internal(errors.New("no contact_seq returned"), "reserve contact numbers of campaign %s", campaignID)
	}
	last, err := strconv.Atoi(seq.Value)
	if err != nil {
		return 0, internal(err, "read contact_seq of campaign %s", campaignID)
	}
	return last - n, nil
}

// whyClosed turns a failed contactsOpen condition into the error the caller sees.
func (s *Store) whyClosed(ctx context.Context, accountID, campaignID string) error {
	c, err := s.GetCampaign(ctx, accountID, campaignID)
	if err != nil {
		return err
	}
	return ringfence.Errorf(ringfence.ECONFLICT, "campaign %s is %s and takes no more contacts", campaignID, c.Status)
}

// addContactBatch writes one batch. When some phones exist already, the transaction is cancelled
// with their puts named as the failed conditions; those contacts are dropped and the rest written
// again, so each round makes progress and the batch ends in at most len(batch)+1 rounds.
func (s *Store) addContactBatch(ctx context.Context, accountID, campaignID string, batch []ringfence.Contact, firstNumber int) (int, error) {
	type numbered struct {
		ringfence.Contact
		number int
	}
	todo := make([]numbered, len(batch))
	for i, ct := range batch {
		todo[i] = numbered{ct, firstNumber + i}
	}
	for len(todo) > 0 {
		var items []types.TransactWriteItem
		for _, ct := range todo {
			id := ContactID(ct.number)
			contact, err := s.putNew(contactItem{
				PK: campaignPK(campaignID), SK: contactSK(id), ID: id, CampaignID: campaignID,
				Name: ct.Name, Phone: ct.Phone, Timezone: ct.Timezone, Fields: ct.Fields,
				GSI1PK: pendingContactsGSI1PK(campaignID), GSI1SK: contactSK(id),
			})
			if err != nil {
				return 0, err
			}
			phone, err := s.putNew(contactPhoneItem{PK: campaignPK(campaignID), SK: contactPhoneSK(ct.Phone), ContactID: id})
			if err != nil {
				return 0, err
			}
			items = append(items, contact, phone)
		}
		total, err := s.update(itemKey(campaignPK(campaignID), skCampaign),
			expression.Add(expression.Name("total_contacts"), expression.Value(len(todo))), contactsOpen(accountID))
		if err != nil {
			return 0, err
		}
		items = append(items, types.TransactWriteItem{Update: total})
		_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return len(todo), nil
		}
		reason, ok := transactionCancelled(err)
		switch {
		case !ok:
			return 0, internal(err, "add contacts to campaign %s", campaignID)
		case reason.failedAt(len(items) - 1):
			return 0, s.whyClosed(ctx, accountID, campaignID)
		case !reason.anyFailed():
			if !reason.conflict {
				return 0, internal(err, "add contacts to campaign %s", campaignID)
			}
			continue // Another writer held an item; nothing was written, so write it all again.
		}
		var rest []numbered
		for i, ct := range todo {
			if !reason.failedAt(2*i) && !reason.failedAt(2*i+1) {
				rest = append(rest, ct)
			}
		}
		todo = rest
	}
	return 0, nil
}

// PendingContacts returns up to n contacts of a campaign that wait to be queued, in contact
// order, after the contact id `after` ("" from the start). It reads the index gsi1, which is
// eventually consistent: a contact queued a moment ago may still be listed, and the write that
// queues it again finds its claim taken.
func (s *Store) PendingContacts(ctx context.Context, campaignID, after string, n int) ([]ringfence.Contact, error) {
	keyCond := expression.Key("gsi1pk").Equal(expression.Value(pendingContactsGSI1PK(campaignID)))
	if after != "" {
		keyCond = keyCond.And(expression.Key("gsi1sk").GreaterThan(expression.Value(contactSK(after))))
	}
	items, err := queryPage[contactItem](ctx, s, keyCond, page{index: "gsi1", limit: n})
	if err != nil {
		return nil, internal(err, "read pending contacts of campaign %s", campaignID)
	}
	contacts := make([]ringfence.Contact, 0, len(items))
	for _, it := range items {
		contacts = append(contacts, it.toDomain())
	}
	return contacts, nil
}

// QueueBatch is how many contacts' calls go into one transaction: each takes three items (the
// call, its queue entry and the contact's claim) and one more checks the campaign's status.
const QueueBatch = (maxTransactionItems - 1) / 3

// ErrCampaignNotRunning says the campaign left the running (or paused) state, so its contacts
// are not queued any more.
var ErrCampaignNotRunning = errors.New("the campaign is not running")

// QueueContactCalls queues the calls of up to QueueBatch campaign contacts, each with the time
// from which it may be dialled. For each call the call (created queued), its queue entry and the
// contact's claim commit together, with a check that the campaign is running or paused: the
// contact's claim is what queues each contact once, however many workers page through the same
// contacts and wherever one of them dies. Calls whose contact was claimed already are dropped and
// the rest written again. It returns how many calls this write queued.
func (s *Store) QueueContactCalls(ctx context.Context, calls []ringfence.Call, notBefore []string) (int, error) {
	if len(calls) == 0 {
		return 0, nil
	}
	if len(calls) > QueueBatch || len(notBefore) != len(calls) {
		return 0, internal(errors.New("bad batch"), "queue %d contact calls", len(calls))
	}
	campaignID := calls[0].CampaignID
	type pending struct {
		call      ringfence.Call
		notBefore string
	}
	todo := make([]pending, len(calls))
	for i := range calls {
		todo[i] = pending{calls[i], notBefore[i]}
	}
	for len(todo) > 0 {
		now := s.now()
		var items []types.TransactWriteItem
		for _, p := range todo {
			more, _, err := s.enqueueItems(p.call, ringfence.SlotCampaign, now, p.notBefore)
			if err != nil {
				return 0, err
			}
			items = append(items, more...)
		}
		check, err := s.conditionCheck(itemKey(campaignPK(campaignID), skCampaign),
			expression.Name("status").In(expression.Value(ringfence.CampaignRunning), expression.Value(ringfence.CampaignPaused)))
		if err != nil {
			return 0, err
		}
		items = append(items, check)
		_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return len(todo), nil
		}
		reason, ok := transactionCancelled(err)
		switch {
		case !ok:
			return 0, internal(err, "queue calls of campaign %s", campaignID)
		case reason.failedAt(len(items) - 1):
			return 0, ErrCampaignNotRunning
		case !reason.anyFailed():
			if !reason.conflict {
				return 0, internal(err, "queue calls of campaign %s", campaignID)
			}
			continue
		}
		var rest []pending
		for i, p := range todo {
			if !reason.failedAt(3*i) && !reason.failedAt(3*i+1) && !reason.failedAt(3*i+2) {
				rest = append(rest, p)
			}
		}
		todo = rest
	}
	return 0, nil
}

// conditionCheck is a transaction item that writes nothing and holds only while cond does.
func (s *Store) conditionCheck(key map[string]types.AttributeValue, cond expression.ConditionBuilder) (types.TransactWriteItem, error) {
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return types.TransactWriteItem{}, internal(err, "build condition check")
	}
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: aws.String(s.table), Key: key, ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}}, nil
}

// LatestCampaignCalls returns up to limit of a campaign's calls, last contact first: the calls
// dialled most recently, since a campaign dials its contacts in order. The dashboard's recent
// activity reads them, one page however many calls the campaign has. The index is eventually
// consistent: a call created a moment ago may be missing.
func (s *Store) LatestCampaignCalls(ctx context.Context, campaignID string, limit int) ([]ringfence.Call, error) {
	keyCond := expression.Key("gsi1pk").Equal(expression.Value(campaignCallsGSI1PK(campaignID)))
	items, err := queryPage[callItem](ctx, s, keyCond, page{index: "gsi1", newestFirst: true, limit: limit})
	if err != nil {
		return nil, internal(err, "list latest calls of campaign %s", campaignID)
	}
	calls := make([]ringfence.Call, 0, len(items))
	for _, it := range items {
		calls = append(calls, it.toDomain())
	}
	return calls, nil
}

// CampaignCallsPage returns up to limit calls of a campaign from index gsi1, in call id order
// (which for a campaign's calls is contact order), after the call `after` ("" from the first),
// and the contacts of those calls, read by one Query over their range of contact ids. The index
// is eventually consistent: a call created a moment ago may be missing from a page.
func (s *Store) CampaignCallsPage(ctx context.Context, campaignID, after string, limit int) ([]ringfence.Call, map[string]ringfence.Contact, error) {
	keyCond := expression.Key("gsi1pk").Equal(expression.Value(campaignCallsGSI1PK(campaignID)))
	if after != "" {
		keyCond = keyCond.And(expression.Key("gsi1sk").GreaterThan(expression.Value("CALL#" + after)))
	}
	items, err := queryPage[callItem](ctx, s, keyCond, page{index: "gsi1", limit: limit})
	if err != nil {
		return nil, nil, internal(err, "list calls of campaign %s", campaignID)
	}
	calls := make([]ringfence.Call, 0, len(items))
	first, last := "", ""
	for _, it := range items {
		c := it.toDomain()
		calls = append(calls, c)
		if c.ContactID != "" && (first == "" || c.ContactID < first) {
			first = c.ContactID
		}
		last = max(last, c.ContactID)
	}
	contacts := map[string]ringfence.Contact{}
	if first == "" {
		return calls, contacts, nil
	}
	contactCond := expression.Key("pk").Equal(expression.Value(campaignPK(campaignID))).
		And(expression.Key("sk").Between(expression.Value(contactSK(first)), expression.Value(contactSK(last))))
	err = queryInto(ctx, s, "", contactCond, func(it contactItem) { contacts[it.ID] = it.toDomain() })
	if err != nil {
		return nil, nil, internal(err, "read contacts of campaign %s", campaignID)
	}
	return calls, contacts, nil
}
