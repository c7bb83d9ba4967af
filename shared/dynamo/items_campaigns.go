package dynamo

import (
	"github.com/ringfence/ringfence/shared/ringfence"
)

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
