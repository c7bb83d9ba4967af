package dynamo

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// The per-hour counters behind the dashboard's charts (see ringfence.HourStats):
//
//	STATS#CAMPAIGN#<id>    HOUR#<yyyy-mm-ddThh>  a campaign's calls that ended in one hour (UTC)
//	STATS#ACCOUNT#<id>     HOUR#<yyyy-mm-ddThh>  all of an account's calls that ended in one hour
//
// They live outside the campaign's and the account's partitions, so the writes that end calls
// spread over one more partition key per hour instead of adding to the campaign item's. The
// account's hour item takes one ADD per call end of the account, as the account's slot counter
// already does; an account ending more than ~1,000 calls a second would need it sharded.
func campaignStatsPK(id string) string { return "STATS#CAMPAIGN#" + id }

func accountStatsPK(id string) string { return "STATS#ACCOUNT#" + id }

func hourSK(hour time.Time) string { return "HOUR#" + hour.UTC().Format("2006-01-02T15") }

// Attributes of an hour item besides the outcome counters (named as the campaign's, outcomeAttribute).
const (
	attrDialled     = "dialled"
	attrCost        = "cost"
	attrTalkSeconds = "talk_seconds"
)

// hourItems are the ADDs that move the hour counters of c's campaign and account by what u
// changes, for the transaction that writes u: the counters move with the call's end or report,
// or not at all. They cost two items of the transaction's 100.
func (s *Store) hourItems(c ringfence.Call, u ringfence.CallUpdate) ([]types.TransactWriteItem, error) {
	m := ringfence.HourMoveOf(c, u, s.Now())
	if m.IsZero() || c.AccountID == "" {
		return nil, nil
	}
	add := expression.Set(expression.Name("hour"), expression.Value(timestamp(m.Hour)))
	for _, o := range ringfence.CampaignOutcomes {
		if n := m.Ended[o]; n != 0 {
			add = add.Add(expression.Name(outcomeAttribute(o)), expression.Value(n))
		}
	}
	if m.Dialled != 0 {
		add = add.Add(expression.Name(attrDialled), expression.Value(m.Dialled))
	}
	if !m.Cost.IsZero() {
		add = add.Add(expression.Name(attrCost), expression.Value(numberOf(m.Cost)))
	}
	if !m.TalkSeconds.IsZero() {
		add = add.Add(expression.Name(attrTalkSeconds), expression.Value(numberOf(m.TalkSeconds)))
	}
	pks := []string{accountStatsPK(c.AccountID)}
	if c.CampaignID != "" {
		pks = append(pks, campaignStatsPK(c.CampaignID))
	}
	var items []types.TransactWriteItem
	for _, pk := range pks {
		u, err := s.upsert(itemKey(pk, hourSK(m.Hour)), add)
		if err != nil {
			return nil, err
		}
		items = append(items, types.TransactWriteItem{Update: u})
	}
	return items, nil
}

// CampaignHours returns a campaign's hour counters from the hour of `from` to the hour of `to`,
// oldest first; hours in which no call ended have no item and are left out.
func (s *Store) CampaignHours(ctx context.Context, campaignID string, from, to time.Time) ([]ringfence.HourStats, error) {
	return s.hours(ctx, campaignStatsPK(campaignID), from, to)
}

// AccountHours is CampaignHours for all of an account's calls.
func (s *Store) AccountHours(ctx context.Context, accountID string, from, to time.Time) ([]ringfence.HourStats, error) {
	return s.hours(ctx, accountStatsPK(accountID), from, to)
}

// hours reads one item per hour, with a strongly consistent read, so a chart costs as many items
// as it has hours, however many calls ended in them.
func (s *Store) hours(ctx context.Context, pk string, from, to time.Time) ([]ringfence.HourStats, error) {
	keyCond := expression.Key("pk").Equal(expression.Value(pk)).
		And(expression.Key("sk").Between(expression.Value(hourSK(from)), expression.Value(hourSK(to))))
	var out []ringfence.HourStats
	err := s.query(ctx, "", keyCond, func(item map[string]types.AttributeValue) error {
		out = append(out, hourStatsOf(item))
		return nil
	})
	if err != nil {
		return nil, internal(err, "read hour counters %s", pk)
	}
	return out, nil
}

func hourStatsOf(item map[string]types.AttributeValue) ringfence.HourStats {
	h := ringfence.HourStats{Ended: map[ringfence.CallStatus]int{}}
	if v, ok := item["hour"].(*types.AttributeValueMemberS); ok {
		h.Hour = parseTime(v.Value)
	}
	for _, o := range ringfence.CampaignOutcomes {
		if n := intAttribute(item, outcomeAttribute(o)); n != 0 {
			h.Ended[o] = n
		}
	}
	h.Dialled = intAttribute(item, attrDialled)
	if n := numberAttribute(item, attrCost); n != nil {
		h.Cost = *n
	}
	if n := numberAttribute(item, attrTalkSeconds); n != nil {
		h.TalkSeconds = *n
	}
	return h
}

// intAttribute reads a counter of a raw item (0 when absent).
func intAttribute(item map[string]types.AttributeValue, name string) int {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	n, _ := strconv.Atoi(v.Value)
	return n
}

// numberAttribute reads a Number attribute of a raw item as a decimal (nil when absent).
func numberAttribute(item map[string]types.AttributeValue, name string) *ringfence.Decimal {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return nil
	}
	n := number(v.Value)
	return decimalOf(&n)
}
