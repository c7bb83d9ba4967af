package ringfence

import (
	"strings"
	"time"
)

// Campaign is a list of contacts to call with one agent through one provider.
type Campaign struct {
	ID            string
	AccountID     string
	Name          string
	Provider      Provider
	AgentID       string
	FromNumber    string
	Status        CampaignStatus
	TotalContacts int
	CreatedAt     time.Time
	// Counters, moved only by the first terminal transition of each call (and a cost change
	// after it), in the same transaction.
	CallsCompleted int // Contacts finished: their last attempt ended.
	TotalCost      Decimal
	OutcomeCounts  map[CallStatus]int // One per finished contact: its last attempt's outcome.
	Attempts       int                // Calls placed, every attempt counted.
	Retry          *RetryPolicy       // nil: each contact is called once.
	Hours          *CallingHours      // nil: no restriction.
	// MaxConcurrency caps the campaign's calls in flight (0: the account's campaign limit), so
	// that direct and inbound calls keep capacity; InFlight is how many it holds now.
	MaxConcurrency int
	InFlight       int
	// DefaultRegion (ISO 3166 alpha-2) is the region contacts' numbers in national format are
	// read in; "" takes E.164 only.
	DefaultRegion string
	// StartAt and EndAt bound when the campaign dials (zero: no bound). Started before StartAt,
	// it is scheduled; at EndAt its calls not yet dialled end expired and it completes.
	StartAt time.Time
	EndAt   time.Time
}

// Ended reports whether the campaign's end_at has come at now.
func (c Campaign) Ended(now time.Time) bool { return !c.EndAt.IsZero() && !now.Before(c.EndAt) }

// CampaignStatus is where a campaign is in its life.
type CampaignStatus string

// Campaign statuses.
const (
	CampaignCreated   CampaignStatus = "created"
	CampaignScheduled CampaignStatus = "scheduled" // Started before its start_at: dialling begins then.
	CampaignRunning   CampaignStatus = "running"
	CampaignPaused    CampaignStatus = "paused"
	CampaignCancelled CampaignStatus = "cancelled"
	CampaignCompleted CampaignStatus = "completed"
)

// CampaignOutcomes lists the outcomes a campaign counts, in the order the API shows them: every
// terminal status a provider reports, and skipped (a suppressed contact, never dialled).
var CampaignOutcomes = append(append([]CallStatus{}, Outcomes...), StatusSkipped, StatusExpired)

// Contact is one person a campaign calls.
type Contact struct {
	ID            string
	CampaignID    string
	Name          string
	Phone         string
	Timezone      string            // The contact's own IANA zone, which overrides the campaign's calling hours zone.
	Fields        map[string]string // Anything else the campaign's creator sent, passed to the agent.
	CallID        string            // The call placed to this contact, once placed.
	Outcome       CallStatus        // The terminal status of that call.
	RescheduleDay string
}

// Limits on what one request may create.
const (
	// MaxContactsPerRequest bounds the contacts of one request (POST /campaigns or POST
	// /campaigns/{id}/contacts); a campaign grows past it by adding more.
	MaxContactsPerRequest = 10000
	// MaxContactsPerCampaign is the old name of MaxContactsPerRequest: a campaign itself has no
	// such limit any more.
	MaxContactsPerCampaign = MaxContactsPerRequest
)

// ValidateFromNumber checks the number a provider calls from: an E.164 number, except for Vapi,
// which names its numbers by id (phoneNumberId).
func ValidateFromNumber(p Provider, s string) error {
	if p == ProviderVapi {
		if strings.TrimSpace(s) == "" {
			return Errorf(EINVALID, "from_number (the Vapi phone number id) is required")
		}
		return ValidateID("from_number (the Vapi phone number id)", s)
	}
	return ValidatePhone("from_number", s)
}

// Validate checks a campaign as submitted by a client, before anything is written.
func (c *Campaign) Validate(contacts []Contact) error {
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" || len(c.Name) > MaxNameLength {
		return Errorf(EINVALID, "name is required (at most %d bytes)", MaxNameLength)
	}
	if err := ValidateText("name", c.Name, MaxNameLength); err != nil {
		return err
	}
	if err := ValidateText("agent_id", c.AgentID, MaxTextLength); err != nil {
		return err
	}
	if _, err := ParseProvider(string(c.Provider)); err != nil {
		return err
	}
	if strings.TrimSpace(c.AgentID) == "" {
		return Errorf(EINVALID, "agent_id is required")
	}
	if err := ValidateFromNumber(c.Provider, c.FromNumber); err != nil {
		return err
	}
	if c.Retry != nil {
		if err := c.Retry.Validate(); err != nil {
			return err
		}
	}
	if c.Hours != nil {
		if err := c.Hours.Validate(); err != nil {
			return err
		}
	}
	if !c.StartAt.IsZero() && !c.EndAt.IsZero() && !c.EndAt.After(c.StartAt) {
		return Errorf(EINVALID, "end_at must be after start_at")
	}
	region, err := ValidateRegion("default_region", c.DefaultRegion)
	if err != nil {
		return err
	}
	c.DefaultRegion = region
	if c.MaxConcurrency < 0 || c.MaxConcurrency > 10000 {
		return Errorf(EINVALID, "max_concurrency must be from 1 to the account's campaign limit")
	}
	if contacts == nil {
		return nil // Contacts may be added later, through POST /campaigns/{id}/contacts.
	}
	return ValidateContacts(contacts, c.DefaultRegion, nil)
}

// ValidateContacts checks the contacts of one request, all of them, before anything is written,
// and writes each phone in E.164: between 1 and MaxContactsPerRequest, each with a valid phone
// number (read in region when in national format) that appears once, a name of bounded length
// and, when given, a time zone the runtime knows. at names contact i in an error ("CSV line 14");
// nil names it contacts[i].
func ValidateContacts(contacts []Contact, region string, at func(i int) string) error {
	if len(contacts) == 0 || len(contacts) > MaxContactsPerRequest {
		return Errorf(EINVALID, "contacts must hold between 1 and %d entries", MaxContactsPerRequest)
	}
	seen := make(map[string]bool, len(contacts))
	for i := range contacts {
		ct := &contacts[i]
		phone, err := NormalizePhone(contactField(at, i, "phone"), ct.Phone, region)
		if err != nil {
			return err
		}
		ct.Phone = phone
		if seen[ct.Phone] {
			return Errorf(EINVALID, "%s %s appears twice in the campaign", contactField(at, i, "phone"), MaskPhone(ct.Phone))
		}
		seen[ct.Phone] = true
		if err := ValidateText(contactField(at, i, "name"), ct.Name, MaxNameLength); err != nil {
			return err
		}
		if err := ValidateFields(contactPrefix(at, i), ct.Fields); err != nil {
			return err
		}
		if ct.Timezone != "" {
			if _, err := LoadZone(ct.Timezone); err != nil {
				return Errorf(EINVALID, "%s %q is not an IANA time zone", contactField(at, i, "timezone"), ct.Timezone)
			}
		}
	}
	return nil
}
