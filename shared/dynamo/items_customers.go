package dynamo

import (
	"github.com/ringfence/ringfence/shared/ringfence"
)

// customerItem is a customer.
type customerItem struct {
	PK             string `dynamodbav:"pk"`
	SK             string `dynamodbav:"sk"`
	ID             string `dynamodbav:"id"`
	AccountID      string `dynamodbav:"account_id"`
	Name           string `dynamodbav:"name"`
	Phone          string `dynamodbav:"phone"`
	Timezone       string `dynamodbav:"timezone"`
	DailyCallTime  string `dynamodbav:"daily_call_time,omitempty"`
	Provider       string `dynamodbav:"provider"`
	AgentID        string `dynamodbav:"agent_id"`
	FromNumber     string `dynamodbav:"from_number,omitempty"`
	Paid           bool   `dynamodbav:"paid"`
	PhoneValidated bool   `dynamodbav:"phone_validated"`
	CallsDisabled  bool   `dynamodbav:"calls_disabled"`
	CreatedAt      string `dynamodbav:"created_at"`
	WelcomeCallID  string `dynamodbav:"welcome_call_id,omitempty"`
	LastDailyDate  string `dynamodbav:"last_daily_date,omitempty"`
	NextDailyAt    string `dynamodbav:"next_daily_at,omitempty"`
}

func (it customerItem) toDomain() ringfence.Customer {
	return ringfence.Customer{
		ID: it.ID, AccountID: it.AccountID, Name: it.Name, Phone: it.Phone, Timezone: it.Timezone,
		DailyCallTime: it.DailyCallTime, Provider: ringfence.Provider(it.Provider), AgentID: it.AgentID,
		FromNumber: it.FromNumber, Paid: it.Paid, PhoneValidated: it.PhoneValidated, CallsDisabled: it.CallsDisabled,
		CreatedAt: parseTime(it.CreatedAt), WelcomeCallID: it.WelcomeCallID, LastDailyDate: it.LastDailyDate,
		NextDailyAt: parseTime(it.NextDailyAt),
	}
}

// phoneItem finds an account's customer by phone number.
type phoneItem struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	CustomerID string `dynamodbav:"customer_id"`
}

// scheduleItem is the one record of a customer's call of one type on one local date: the
// scheduler's idempotency key, with the attempts made and how it ended.
type scheduleItem struct {
	PK            string `dynamodbav:"pk"`
	SK            string `dynamodbav:"sk"`
	CustomerID    string `dynamodbav:"customer_id"`
	CallType      string `dynamodbav:"call_type"`
	LocalDate     string `dynamodbav:"local_date"`
	Attempts      int    `dynamodbav:"attempts"`
	CurrentCallID string `dynamodbav:"current_call_id"`
	Status        string `dynamodbav:"status"`
	Reason        string `dynamodbav:"reason,omitempty"`
	CreatedAt     string `dynamodbav:"created_at"`
}

// markerItem puts a customer in a sparse index of the scheduler's: WELCOME#<shard> (by sign-up
// time) while the welcome call is not enqueued, DAILY#<shard> (by the next call's time) while the
// customer has a daily call time.
type markerItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	GSI2PK string `dynamodbav:"gsi2pk"`
	GSI2SK string `dynamodbav:"gsi2sk"`
}
