package dynamo

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Activity counts an account's webhook deliveries in one hour, by what they did.
type Activity map[string]int

func activityPK(accountID string) string { return "ACTIVITY#" + accountID }

func activitySK(hour time.Time) string { return "HOUR#" + hour.UTC().Format("2006-01-02T15") }

// AddActivity adds counts to an account's activity of the hour of `at`, with one ADD. The webhook
// handlers batch their counts in memory and add them at most every few seconds, so counting costs
// a delivery nothing; the items age out after a week.
func (s *Store) AddActivity(ctx context.Context, accountID string, at time.Time, counts Activity) error {
	add := expression.Set(expression.Name("expires_at"), expression.Value(at.Add(7*24*time.Hour).Unix()))
	for k, v := range counts {
		add = add.Add(expression.Name(k), expression.Value(v))
	}
	u, err := s.upsert(itemKey(activityPK(accountID), activitySK(at)), add)
	if err != nil {
		return err
	}
	if _, err := s.client.UpdateItem(ctx, updateInput(u)); err != nil {
		return internal(err, "add activity of account %s", accountID)
	}
	return nil
}

// ActivitySince returns an account's activity summed over the hours from `since` to now.
func (s *Store) ActivitySince(ctx context.Context, accountID string, since time.Time) (Activity, error) {
	keyCond := expression.Key("pk").Equal(expression.Value(activityPK(accountID))).
		And(expression.Key("sk").GreaterThanEqual(expression.Value(activitySK(since))))
	total := Activity{}
	err := s.query(ctx, "", keyCond, func(item map[string]types.AttributeValue) error {
		for k, v := range item {
			if n, ok := v.(*types.AttributeValueMemberN); ok && k != "expires_at" {
				i, _ := strconv.Atoi(n.Value)
				total[k] += i
			}
		}
		return nil
	})
	if err != nil {
		return nil, internal(err, "read activity of account %s", accountID)
	}
	return total, nil
}
