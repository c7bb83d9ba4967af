package ringfence

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"
)

// The events ringfence sends to the business's own endpoints. Each is written in the same
// transaction as the change it reports (an outbox), so there is never one without the other.
const (
	EventCallEnded         = "call.ended"         // the call's first terminal outcome, dial failures included
	EventCallCorrected     = "call.corrected"     // the provider's late report replaced the sweep's outcome
	EventCallRescheduled   = "call.rescheduled"   // a mid-call tool set the call's reschedule_day
	EventCampaignCompleted = "campaign.completed" // every contact's call has ended
	EventCampaignPaused    = "campaign.paused"    // the campaign was paused
	EventCampaignResumed   = "campaign.resumed"   // a paused campaign runs again
	EventCampaignCancelled = "campaign.cancelled" // the campaign was cancelled
)

// EventTypes lists every event type an endpoint may subscribe to.
var EventTypes = []string{
	EventCallEnded, EventCallCorrected, EventCallRescheduled,
	EventCampaignCompleted, EventCampaignPaused, EventCampaignResumed, EventCampaignCancelled,
}

// EventID derives an event's id from the change it reports: the event type, the call or
// campaign it is about and, for changes that may happen more than once, what distinguishes this
// one. However often a provider redelivers or a write is retried, one change has one id.
func EventID(eventType, subjectID string, distinct ...string) string {
	h := sha256.New()
	h.Write([]byte(eventType + "\x00" + subjectID))
	for _, d := range distinct {
		h.Write([]byte("\x00" + d))
	}
	return "evt_" + hex.EncodeToString(h.Sum(nil)[:16])
}

// Event is one event in the outbox.
type Event struct {
	ID        string
	Type      string
	AccountID string
	// SubjectID is the call's id for call events, the campaign's for campaign events.
	SubjectID string
	CreatedAt string
	// Body is the JSON the endpoints receive, fixed when the event is first sent so that every
	// attempt and every endpoint gets the same bytes; empty until then.
	Body string
}

// IsCallEvent reports whether the event is about a call (rather than a campaign).
func (e Event) IsCallEvent() bool { return strings.HasPrefix(e.Type, "call.") }

// Endpoint is a URL of the business's own systems that receives the events it subscribed to.
type Endpoint struct {
	ID          string
	AccountID   string
	URL         string
	Events      []string
	Description string
	// Secret is "whsec_" followed by the base64 key that signs what the endpoint receives.
	Secret    string
	CreatedAt string
}

// Subscribes reports whether the endpoint receives events of the given type.
func (e Endpoint) Subscribes(eventType string) bool { return slices.Contains(e.Events, eventType) }

// MaxEndpoints bounds an account's endpoints, so that one event's deliveries are created in one
// DynamoDB transaction (at most 100 items).
const MaxEndpoints = 20

// ValidateEndpoint checks a new endpoint's event types and description. Where its URL may lead
// is the outbound package's policy, which the deliverer applies again when it dials.
func ValidateEndpoint(e Endpoint) error {
	if len(e.Events) == 0 {
		return Errorf(EINVALID, "events must list at least one of %s", strings.Join(EventTypes, ", "))
	}
	for _, t := range e.Events {
		if !slices.Contains(EventTypes, t) {
			return Errorf(EINVALID, "event type %s is unknown; known types are %s", Excerpt(t), strings.Join(EventTypes, ", "))
		}
	}
	if len(e.Description) > 500 {
		return Errorf(EINVALID, "description is longer than 500 characters")
	}
	return nil
}

// Delivery statuses: pending until an attempt got a 2xx (delivered) or the last attempt failed.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// Delivery is one event on its way to one endpoint.
type Delivery struct {
	EventID    string
	EndpointID string
	AccountID  string
	EventType  string
	SubjectID  string
	Status     string
	Attempts   int
	// NextAt is when the next attempt is due (a timestamp that sorts as a string).
	NextAt string
}

// DeliveryAttempt is one HTTP request to an endpoint and what came of it.
type DeliveryAttempt struct {
	EndpointID string
	EventID    string
	EventType  string
	Attempt    int
	At         string
	StatusCode int    // 0 when no response came back.
	Error      string // Why the attempt failed, when it did.
}

// retryAfter is how long after each failed attempt the next one is made: the first retry within
// a minute, then backing off until the last, more than 24 hours after the first attempt, as the
// Standard Webhooks specification recommends.
var retryAfter = []time.Duration{
	30 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// MaxDeliveryAttempts is the number of attempts after which an event is marked failed.
var MaxDeliveryAttempts = len(retryAfter) + 1

// NextAttemptAfter returns how long to wait after the given number of failed attempts, and false
// when that was the last attempt.
func NextAttemptAfter(failedAttempts int) (time.Duration, bool) {
	if failedAttempts < 1 || failedAttempts > len(retryAfter) {
		return 0, false
	}
	return retryAfter[failedAttempts-1], true
}
