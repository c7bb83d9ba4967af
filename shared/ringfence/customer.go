package ringfence

import "time"

// Customer is a person an account calls on a schedule (a welcome call after sign-up, then a daily
// call at a time they chose), and whom inbound calls recognise by number.
type Customer struct {
	ID             string
	AccountID      string
	Name           string
	Phone          string
	Timezone       string
	DailyCallTime  string // "HH:MM" in the customer's time zone; "" for no daily call.
	Provider       Provider
	AgentID        string
	FromNumber     string
	Paid           bool
	PhoneValidated bool
	CallsDisabled  bool
	CreatedAt      time.Time
	// WelcomeCallID is the call that claimed the welcome call ("" until one did).
	WelcomeCallID string
	// LastDailyDate is the local date of the last daily call claimed.
	LastDailyDate string
	// NextDailyAt is when the next daily call falls (zero without a daily call time).
	NextDailyAt time.Time
}
