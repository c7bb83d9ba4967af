package dynamo

import (
	"github.com/ringfence/ringfence/shared/ringfence"
)

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

func scheduleOf(it callItem) *ringfence.ScheduledCall {
	if it.CallType == "" {
		return nil
	}
	return &ringfence.ScheduledCall{CustomerID: it.CustomerID, Type: ringfence.CallType(it.CallType), LocalDate: it.LocalDate, Attempt: it.Attempt}
}

// providerCallItem maps a provider's call id to ringfence's call id. It is written in the same
// transaction that stores the provider call id on the call, so a strongly consistent GetItem
// finds the call as soon as the provider's answer is recorded (a GSI would be eventually consistent).
type providerCallItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	CallID string `dynamodbav:"call_id"`
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

func (it queueItem) toDomain() ringfence.QueueEntry {
	e := ringfence.QueueEntry{AccountID: it.AccountID, Kind: ringfence.SlotKind(it.Kind), Key: it.SK, CallID: it.CallID, EnqueuedAt: it.EnqueuedAt, CampaignID: it.CampaignID, Hours: it.hoursAttributes.toDomain(), ToNumber: it.ToNumber,
		RespectFrequency: it.RespectFrequency || it.CampaignID != ""}
	if it.CallType != "" {
		e.Schedule = &ringfence.ScheduledCall{CustomerID: it.CustomerID, Type: ringfence.CallType(it.CallType), LocalDate: it.LocalDate}
	}
	return e
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
