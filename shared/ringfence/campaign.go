package ringfence

import (
	"fmt"
	"regexp"
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
	CallsCompleted int
	TotalCost      Decimal
	OutcomeCounts  map[CallStatus]int
}

// CampaignStatus is where a campaign is in its life.
type CampaignStatus string

// Campaign statuses.
const (
	CampaignCreated   CampaignStatus = "created"
	CampaignRunning   CampaignStatus = "running"
	CampaignCompleted CampaignStatus = "completed"
)

// Contact is one person a campaign calls.
type Contact struct {
	ID            string
	CampaignID    string
	Name          string
	Phone         string
	Fields        map[string]string // Anything else the campaign's creator sent, passed to the agent.
	CallID        string            // The call placed to this contact, once placed.
	Outcome       CallStatus        // The terminal status of that call.
	RescheduleDay string
}

// Limits on what one request may create.
const (
	MaxContactsPerCampaign = 10000
)

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// ValidatePhone checks that s is an E.164 number such as +14155550100.
func ValidatePhone(field, s string) error {
	if !e164.MatchString(s) {
		// The number is not echoed: it is personal data, and it may be anything.
		return Errorf(EINVALID, "%s is not an E.164 phone number like +14155550100", field)
	}
	return nil
}

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
	if len(contacts) == 0 || len(contacts) > MaxContactsPerCampaign {
		return Errorf(EINVALID, "contacts must hold between 1 and %d entries", MaxContactsPerCampaign)
	}
	seen := make(map[string]bool, len(contacts))
	for i, ct := range contacts {
		if err := ValidatePhone(fmt.Sprintf("contacts[%d].phone", i), ct.Phone); err != nil {
			return err
		}
		if seen[ct.Phone] {
			return Errorf(EINVALID, "contacts[%d].phone %s appears twice in the campaign", i, MaskPhone(ct.Phone))
		}
		seen[ct.Phone] = true
		if err := ValidateText(fmt.Sprintf("contacts[%d].name", i), ct.Name, MaxNameLength); err != nil {
			return err
		}
		if err := ValidateFields(fmt.Sprintf("contacts[%d]", i), ct.Fields); err != nil {
			return err
		}
	}
	return nil
}
