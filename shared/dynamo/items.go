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

// callItem is a call as stored.
type callItem struct {
	PK             string   `dynamodbav:"pk"`
	SK             string   `dynamodbav:"sk"`
	GSI1PK         string   `dynamodbav:"gsi1pk,omitempty"`
	GSI1SK         string   `dynamodbav:"gsi1sk,omitempty"`
	GSI2PK         string   `dynamodbav:"gsi2pk,omitempty"`
	GSI2SK         string   `dynamodbav:"gsi2sk,omitempty"`
	ID             string   `dynamodbav:"id"`
	AccountID      string   `dynamodbav:"account_id"`
	CampaignID     string   `dynamodbav:"campaign_id,omitempty"`
	ContactID      string   `dynamodbav:"contact_id,omitempty"`
	Provider       string   `dynamodbav:"provider"`
	ProviderCallID string   `dynamodbav:"provider_call_id,omitempty"`
	Status         string   `dynamodbav:"status"`
	StatusRank     int      `dynamodbav:"status_rank"`
	Outcome        string   `dynamodbav:"outcome,omitempty"`
	EndReason      string   `dynamodbav:"end_reason,omitempty"`
	Cost           *number  `dynamodbav:"cost,omitempty"`
	Duration       *number  `dynamodbav:"duration,omitempty"`
	ReportAt       string   `dynamodbav:"report_at,omitempty"`
	Transcript     string   `dynamodbav:"transcript,omitempty"`
	RecordingURL   string   `dynamodbav:"recording_url,omitempty"`
	ExtractedData  string   `dynamodbav:"extracted_data,omitempty"`
	ExtractedAt    string   `dynamodbav:"extracted_at,omitempty"`
	RescheduleDay  string   `dynamodbav:"reschedule_day,omitempty"`
	SlotKind       string   `dynamodbav:"slot_kind,omitempty"`
	QueueKey       string   `dynamodbav:"queue_key,omitempty"`
	DialStartedAt  string   `dynamodbav:"dial_started_at,omitempty"`
	DialError      string   `dynamodbav:"dial_error,omitempty"`
	EndedStale     bool     `dynamodbav:"ended_stale,omitempty"`
	History        []string `dynamodbav:"history,omitempty"`
	CallType       string   `dynamodbav:"call_type,omitempty"`
	LocalDate      string   `dynamodbav:"local_date,omitempty"`
	Attempt        int      `dynamodbav:"attempt,omitempty"`
	// A campaign call's attempt, its campaign's retry policy, and the attempt that followed it.
	CampaignAttempt int      `dynamodbav:"campaign_attempt,omitempty"`
	RetryStatuses   []string `dynamodbav:"retry_statuses,omitempty"`
	RetryMax        int      `dynamodbav:"retry_max_attempts,omitempty"`
	RetryDelays     []string `dynamodbav:"retry_delays,omitempty"`
	RetriedAs       string   `dynamodbav:"retried_as,omitempty"`
	BusyRefusals    int      `dynamodbav:"busy_refusals,omitempty"`
	hoursAttributes
	// Held and HeldUntil say why a waiting call is held back, and until when; RespectFrequency
	// marks a direct call that waits for the contact frequency cap.
	Held             string            `dynamodbav:"held,omitempty"`
	HeldUntil        string            `dynamodbav:"held_until,omitempty"`
	RespectFrequency bool              `dynamodbav:"respect_frequency,omitempty"`
	Variables        map[string]string `dynamodbav:"variables,omitempty"`
	Direction        string            `dynamodbav:"direction,omitempty"`
	CompanyID        string            `dynamodbav:"company_id,omitempty"`
	CompanyName      string            `dynamodbav:"company_name,omitempty"`
	BranchID         string            `dynamodbav:"branch_id,omitempty"`
	BranchName       string            `dynamodbav:"branch_name,omitempty"`
	Greeting         string            `dynamodbav:"greeting,omitempty"`
	CustomerID       string            `dynamodbav:"customer_id,omitempty"`
	CustomerName     string            `dynamodbav:"customer_name,omitempty"`
	Anonymous        bool              `dynamodbav:"anonymous,omitempty"`
	ToNumber         string            `dynamodbav:"to_number,omitempty"`
	FromNumber       string            `dynamodbav:"from_number,omitempty"`
	AgentID          string            `dynamodbav:"agent_id,omitempty"`
	CreatedAt        string            `dynamodbav:"created_at"`
	UpdatedAt        string            `dynamodbav:"updated_at"`
	// TranscriptLength is the transcript's length as the provider sent it, and
	// TranscriptTruncated is true while the stored transcript is only its beginning.
	TranscriptLength    int  `dynamodbav:"transcript_length,omitempty"`
	TranscriptTruncated bool `dynamodbav:"transcript_truncated,omitempty"`
	// RescheduleUnparsed is true when reschedule_day holds the words given, not a day.
	RescheduleUnparsed bool   `dynamodbav:"reschedule_day_unparsed,omitempty"`
	EndedAt            string `dynamodbav:"ended_at,omitempty"`
}

func (it callItem) toDomain() ringfence.Call {
	return ringfence.Call{
		ID:             it.ID,
		AccountID:      it.AccountID,
		CampaignID:     it.CampaignID,
		ContactID:      it.ContactID,
		Provider:       ringfence.Provider(it.Provider),
		ProviderCallID: it.ProviderCallID,
		Status:         ringfence.CallStatus(it.Status),
		Outcome:        ringfence.CallStatus(it.Outcome),
		EndReason:      it.EndReason,
		Cost:           decimalOf(it.Cost),
		Duration:       decimalOf(it.Duration),
		ReportAt:       it.ReportAt,
		Transcript:     it.Transcript,
		RecordingURL:   it.RecordingURL,
		ExtractedData:  it.ExtractedData,
		ExtractedAt:    it.ExtractedAt,
		RescheduleDay:  it.RescheduleDay,
		SlotKind:       ringfence.SlotKind(it.SlotKind),
		QueueKey:       it.QueueKey,
		DialStartedAt:  parseTime(it.DialStartedAt),
		DialError:      it.DialError,
		EndedStale:     it.EndedStale,
		History:        it.History,
		Schedule:       scheduleOf(it),
		LastActivity:   it.GSI2SK,
		Variables:      it.Variables,
		Direction:      ringfence.Direction(it.Direction),
		Context: ringfence.CallContext{
			CompanyID: it.CompanyID, CompanyName: it.CompanyName, BranchID: it.BranchID, BranchName: it.BranchName,
			Greeting: it.Greeting, CustomerID: it.CustomerID, CustomerName: it.CustomerName, Anonymous: it.Anonymous,
		},
		ToNumber:           it.ToNumber,
		FromNumber:         it.FromNumber,
		AgentID:            it.AgentID,
		Attempt:            it.CampaignAttempt,
		RetriedAs:          it.RetriedAs,
		BusyRefusals:       it.BusyRefusals,
		Hours:              it.hoursAttributes.toDomain(),
		Held:               it.Held,
		HeldUntil:          parseTime(it.HeldUntil),
		RespectFrequency:   it.RespectFrequency,
		Retry:              retryOf(it.RetryStatuses, it.RetryMax, it.RetryDelays),
		CreatedAt:          parseTime(it.CreatedAt),
		UpdatedAt:          parseTime(it.UpdatedAt),
		TranscriptLength:   it.TranscriptLength,
		RescheduleUnparsed: it.RescheduleUnparsed,
		EndedAt:            parseTime(it.EndedAt),
	}
}

// campaignItem is a campaign with its counters. The outcome counters are top-level attributes
// because DynamoDB's ADD action works only on top-level attributes.
type campaignItem struct {
	PK               string `dynamodbav:"pk"`
	SK               string `dynamodbav:"sk"`
	GSI1PK           string `dynamodbav:"gsi1pk"`
	GSI1SK           string `dynamodbav:"gsi1sk"`
	ID               string `dynamodbav:"id"`
	AccountID        string `dynamodbav:"account_id"`
	Name             string `dynamodbav:"name"`
	Provider         string `dynamodbav:"provider"`
	AgentID          string `dynamodbav:"agent_id"`
	FromNumber       string `dynamodbav:"from_number"`
	Status           string `dynamodbav:"status"`
	TotalContacts    int    `dynamodbav:"total_contacts"`
	CallsCompleted   int    `dynamodbav:"calls_completed"`
	TotalCost        number `dynamodbav:"total_cost"`
	OutcomeCompleted int    `dynamodbav:"outcome_completed"`
	OutcomeNoAnswer  int    `dynamodbav:"outcome_no_answer"`
	OutcomeBusy      int    `dynamodbav:"outcome_busy"`
	OutcomeFailed    int    `dynamodbav:"outcome_failed"`
	OutcomeCancelled int    `dynamodbav:"outcome_cancelled"`
	OutcomeSkipped   int    `dynamodbav:"outcome_skipped,omitempty"`
	OutcomeExpired   int    `dynamodbav:"outcome_expired,omitempty"`
	StartAt          string `dynamodbav:"start_at,omitempty"`
	EndAt            string `dynamodbav:"end_at,omitempty"`
	CreatedAt        string `dynamodbav:"created_at"`
	// Calls placed, and the retry policy.
	Attempts      int      `dynamodbav:"attempts,omitempty"`
	RetryStatuses []string `dynamodbav:"retry_statuses,omitempty"`
	RetryMax      int      `dynamodbav:"retry_max_attempts,omitempty"`
	RetryDelays   []string `dynamodbav:"retry_delays,omitempty"`
	hoursAttributes
	MaxConcurrency int `dynamodbav:"max_concurrency,omitempty"`
	InFlight       int `dynamodbav:"in_flight,omitempty"`
	// Moves counts the campaign's pauses, resumes and cancels; each move's event takes its id from it.
	Moves int `dynamodbav:"moves,omitempty"`
	// DefaultRegion is where contacts' national numbers are read (ISO 3166 alpha-2).
	DefaultRegion string `dynamodbav:"default_region,omitempty"`
}

// outcomeAttribute names the campaign counter of one terminal status.
func outcomeAttribute(s ringfence.CallStatus) string {
	switch s {
	case ringfence.StatusCompleted:
		return "outcome_completed"
	case ringfence.StatusNoAnswer:
		return "outcome_no_answer"
	case ringfence.StatusBusy:
		return "outcome_busy"
	case ringfence.StatusFailed:
		return "outcome_failed"
	case ringfence.StatusSkipped:
		return "outcome_skipped"
	case ringfence.StatusExpired:
		return "outcome_expired"
	}
	return "outcome_cancelled"
}

func (it campaignItem) toDomain() ringfence.Campaign {
	cost := decimalOf(&it.TotalCost)
	if cost == nil {
		cost = &ringfence.Decimal{}
	}
	return ringfence.Campaign{
		ID:             it.ID,
		AccountID:      it.AccountID,
		Name:           it.Name,
		Provider:       ringfence.Provider(it.Provider),
		AgentID:        it.AgentID,
		FromNumber:     it.FromNumber,
		Status:         ringfence.CampaignStatus(it.Status),
		TotalContacts:  it.TotalContacts,
		CreatedAt:      parseTime(it.CreatedAt),
		CallsCompleted: it.CallsCompleted,
		Attempts:       it.Attempts,
		Retry:          retryOf(it.RetryStatuses, it.RetryMax, it.RetryDelays),
		Hours:          it.hoursAttributes.toDomain(),
		MaxConcurrency: it.MaxConcurrency,
		InFlight:       it.InFlight,
		DefaultRegion:  it.DefaultRegion,
		StartAt:        parseTime(it.StartAt),
		EndAt:          parseTime(it.EndAt),
		TotalCost:      *cost,
		OutcomeCounts: map[ringfence.CallStatus]int{
			ringfence.StatusCompleted: it.OutcomeCompleted,
			ringfence.StatusNoAnswer:  it.OutcomeNoAnswer,
			ringfence.StatusBusy:      it.OutcomeBusy,
			ringfence.StatusFailed:    it.OutcomeFailed,
			ringfence.StatusCancelled: it.OutcomeCancelled,
			ringfence.StatusSkipped:   it.OutcomeSkipped,
			ringfence.StatusExpired:   it.OutcomeExpired,
		},
	}
}

// contactItem is one contact of a campaign.
type contactItem struct {
	PK            string            `dynamodbav:"pk"`
	SK            string            `dynamodbav:"sk"`
	ID            string            `dynamodbav:"id"`
	CampaignID    string            `dynamodbav:"campaign_id"`
	Name          string            `dynamodbav:"name,omitempty"`
	Phone         string            `dynamodbav:"phone"`
	Timezone      string            `dynamodbav:"timezone,omitempty"`
	GSI1PK        string            `dynamodbav:"gsi1pk,omitempty"` // Present while the contact waits to be queued.
	GSI1SK        string            `dynamodbav:"gsi1sk,omitempty"`
	Fields        map[string]string `dynamodbav:"fields,omitempty"`
	CallID        string            `dynamodbav:"call_id,omitempty"`
	Outcome       string            `dynamodbav:"outcome,omitempty"`
	RescheduleDay string            `dynamodbav:"reschedule_day,omitempty"`
}

func (it contactItem) toDomain() ringfence.Contact {
	return ringfence.Contact{
		ID:            it.ID,
		CampaignID:    it.CampaignID,
		Name:          it.Name,
		Phone:         it.Phone,
		Timezone:      it.Timezone,
		Fields:        it.Fields,
		CallID:        it.CallID,
		Outcome:       ringfence.CallStatus(it.Outcome),
		RescheduleDay: it.RescheduleDay,
	}
}

// providerCallItem maps a provider's call id to ringfence's call id. It is written in the same
// transaction that stores the provider call id on the call, so a strongly consistent GetItem
// finds the call as soon as the provider's answer is recorded (a GSI would be eventually consistent).
type providerCallItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	CallID string `dynamodbav:"call_id"`
}

// accountItem is an account with its limits; a limit of -1 means "use the default".
type accountItem struct {
	PK            string `dynamodbav:"pk"`
	SK            string `dynamodbav:"sk"`
	GSI1PK        string `dynamodbav:"gsi1pk,omitempty"`
	GSI1SK        string `dynamodbav:"gsi1sk,omitempty"`
	ID            string `dynamodbav:"id"`
	Name          string `dynamodbav:"name"`
	CreatedAt     string `dynamodbav:"created_at,omitempty"`
	LimitDirect   *int   `dynamodbav:"limit_direct,omitempty"`
	LimitCampaign *int   `dynamodbav:"limit_campaign,omitempty"`
	StaleAfter    int64  `dynamodbav:"stale_after_seconds,omitempty"`
	// KeyHashes lists the account's API keys (their hashes), so that a rotation or a revocation
	// finds them; KeysVersion counts its changes, on which those writes are conditioned.
	KeyHashes   []string `dynamodbav:"key_hashes,stringset,omitempty"`
	KeysVersion int64    `dynamodbav:"keys_version,omitempty"`
}

func (it accountItem) toDomain() ringfence.Account {
	a := ringfence.Account{ID: it.ID, Name: it.Name, Limits: map[ringfence.SlotKind]int{}, StaleAfter: time.Duration(it.StaleAfter) * time.Second}
	if it.LimitDirect != nil {
		a.Limits[ringfence.SlotDirect] = *it.LimitDirect
	}
	if it.LimitCampaign != nil {
		a.Limits[ringfence.SlotCampaign] = *it.LimitCampaign
	}
	return a
}

// apiKeyItem maps the SHA-256 of an API key to its account. The key itself is never stored. A
// key replaced by a rotation keeps working until ValidUntil; DynamoDB's TTL removes it later.
type apiKeyItem struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	AccountID  string `dynamodbav:"account_id"`
	CreatedAt  string `dynamodbav:"created_at,omitempty"`
	ValidUntil string `dynamodbav:"valid_until,omitempty"`
	ExpiresAt  int64  `dynamodbav:"expires_at,omitempty"`
}

// slotItem is one held concurrency slot.
type slotItem struct {
	PK             string `dynamodbav:"pk"`
	SK             string `dynamodbav:"sk"`
	GSI2PK         string `dynamodbav:"gsi2pk,omitempty"`
	GSI2SK         string `dynamodbav:"gsi2sk,omitempty"`
	AccountID      string `dynamodbav:"account_id"`
	Kind           string `dynamodbav:"kind"`
	CallID         string `dynamodbav:"call_id"`
	ProviderCallID string `dynamodbav:"execution_id,omitempty"`
	StartedAt      string `dynamodbav:"started_at"`
}

// queueItem is a call waiting for a slot. A dispatcher claims it with a lease before dialling.
type queueItem struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	GSI2PK     string `dynamodbav:"gsi2pk"`
	GSI2SK     string `dynamodbav:"gsi2sk"`
	CallID     string `dynamodbav:"call_id"`
	AccountID  string `dynamodbav:"account_id"`
	Kind       string `dynamodbav:"kind"`
	LeaseOwner string `dynamodbav:"lease_owner,omitempty"`
	LeaseUntil string `dynamodbav:"lease_until,omitempty"`
	EnqueuedAt string `dynamodbav:"enqueued_at"`
	// A scheduled call's key, so the maintenance command can find entries imported twice.
	CustomerID string `dynamodbav:"customer_id,omitempty"`
	CallType   string `dynamodbav:"call_type,omitempty"`
	LocalDate  string `dynamodbav:"local_date,omitempty"`
	// A campaign call's campaign, whose status the write that claims the dial checks, and the
	// number called, which the claim checks against the account's suppression list.
	CampaignID string `dynamodbav:"campaign_id,omitempty"`
	ToNumber   string `dynamodbav:"to_number,omitempty"`
	hoursAttributes
	windowAttributes
	// RespectFrequency: the claim that dials the entry holds only within the contact frequency
	// cap (every campaign call, and a direct call that asked for it).
	RespectFrequency bool `dynamodbav:"respect_frequency,omitempty"`
}

// parkedItem is a webhook kept until its call is known. It ages out after a week.
type parkedItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	GSI2PK    string `dynamodbav:"gsi2pk"`
	GSI2SK    string `dynamodbav:"gsi2sk"`
	Provider  string `dynamodbav:"provider"`
	Event     string `dynamodbav:"event"` // The ringfence.CallEvent, as JSON.
	ExpiresAt int64  `dynamodbav:"expires_at"`
}

// numberItem routes one of an account's phone numbers.
type numberItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	Number      string `dynamodbav:"number"`
	AccountID   string `dynamodbav:"account_id"`
	CompanyID   string `dynamodbav:"company_id"`
	CompanyName string `dynamodbav:"company_name,omitempty"`
	BranchID    string `dynamodbav:"branch_id"`
	BranchName  string `dynamodbav:"branch_name,omitempty"`
	AgentID     string `dynamodbav:"agent_id,omitempty"`
	Greeting    string `dynamodbav:"greeting,omitempty"`
	UpdatedAt   string `dynamodbav:"updated_at"`
	// Pending is set on a claim an operator has not confirmed yet. Routes stored before claims
	// needed confirming have no such attribute, and stay confirmed.
	Pending bool `dynamodbav:"pending,omitempty"`
}

func (it numberItem) toDomain() ringfence.NumberRoute {
	return ringfence.NumberRoute{
		Number: it.Number, AccountID: it.AccountID, CompanyID: it.CompanyID, CompanyName: it.CompanyName,
		BranchID: it.BranchID, BranchName: it.BranchName, AgentID: it.AgentID, Greeting: it.Greeting,
		UpdatedAt: parseTime(it.UpdatedAt), Confirmed: !it.Pending,
	}
}

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

func scheduleOf(it callItem) *ringfence.ScheduledCall {
	if it.CallType == "" {
		return nil
	}
	return &ringfence.ScheduledCall{CustomerID: it.CustomerID, Type: ringfence.CallType(it.CallType), LocalDate: it.LocalDate, Attempt: it.Attempt}
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
