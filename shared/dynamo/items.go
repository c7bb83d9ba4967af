package dynamo

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// number is a decimal kept as its string and stored as a DynamoDB Number, so money never passes
// through float64 on its way in or out.
type number string

// MarshalDynamoDBAttributeValue stores the decimal as an N attribute.
func (n number) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) {
	return &types.AttributeValueMemberN{Value: string(n)}, nil
}

// UnmarshalDynamoDBAttributeValue reads an N attribute as its exact decimal text.
func (n *number) UnmarshalDynamoDBAttributeValue(av types.AttributeValue) error {
	if v, ok := av.(*types.AttributeValueMemberN); ok {
		*n = number(v.Value)
	}
	return nil
}

func numberOf(d ringfence.Decimal) number { return number(d.String()) }

func decimalOf(n *number) *ringfence.Decimal {
	if n == nil {
		return nil
	}
	d, err := ringfence.ParseDecimal(string(*n))
	if err != nil {
		return nil // DynamoDB only ever hands back numbers it accepted, which parse.
	}
	return &d
}

func numberPtr(d *ringfence.Decimal) *number {
	if d == nil {
		return nil
	}
	n := numberOf(*d)
	return &n
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// retryOf is the retry policy stored as three attributes (nil when none is stored).
func retryOf(statuses []string, max int, delays []string) *ringfence.RetryPolicy {
	if max == 0 {
		return nil
	}
	p := &ringfence.RetryPolicy{MaxAttempts: max, Delays: delays}
	for _, st := range statuses {
		p.Statuses = append(p.Statuses, ringfence.CallStatus(st))
	}
	return p
}

// retryAttributes is a retry policy as the three attributes that store it.
func retryAttributes(p *ringfence.RetryPolicy) (statuses []string, max int, delays []string) {
	if p == nil {
		return nil, 0, nil
	}
	for _, st := range p.Statuses {
		statuses = append(statuses, string(st))
	}
	return statuses, p.MaxAttempts, p.Delays
}
