package ringfence

import (
	"context"
	"errors"
	"time"
)

// SlotKind separates an account's concurrency limits: direct calls and campaign calls each have
// their own number of slots.
type SlotKind string

// The slot kinds.
const (
	SlotDirect   SlotKind = "direct"
	SlotCampaign SlotKind = "campaign"
)

// ParseSlotKind validates a slot kind from outside.
func ParseSlotKind(s string) (SlotKind, error) {
	switch k := SlotKind(s); k {
	case SlotDirect, SlotCampaign:
		return k, nil
	}
	return "", Errorf(EINVALID, "kind %q is neither direct nor campaign", s)
}

// SlotKinds lists the slot kinds in the order the API shows them.
var SlotKinds = []SlotKind{SlotDirect, SlotCampaign}

// Account is a customer of ringfence, with its concurrency limits.
type Account struct {
	ID     string
	Name   string
	Limits map[SlotKind]int
	// StaleAfter overrides how long a call may go without news before the sweep ends it (0: the
	// deployment's default).
	StaleAfter time.Duration
}

// Limit returns the account's limit for kind, or fallback when the account sets none.
func (a Account) Limit(kind SlotKind, fallback int) int {
	if n, ok := a.Limits[kind]; ok && n >= 0 {
		return n
	}
	return fallback
}

// Slot is one concurrency slot held by one call.
type Slot struct {
	AccountID      string
	Kind           SlotKind
	CallID         string
	ProviderCallID string // Recorded as soon as the provider answers the dial.
	StartedAt      string
}

// SlotUsage is an account's slots of one kind: how many are held and how many it may hold.
type SlotUsage struct {
	Kind  SlotKind
	InUse int
	Limit int
}

// DialRequest is what a provider adapter needs to place one outbound call.
type DialRequest struct {
	CallID     string // ringfence's id, passed in the provider's metadata so webhooks carry it back.
	AgentID    string
	FromNumber string
	ToNumber   string
	Variables  map[string]string
}

// Dialer places outbound calls through one provider.
type Dialer interface {
	// Dial asks the provider to place the call and returns the provider's call id. It returns an
	// error wrapping ErrDialRefused when the provider answered that it will not place the call,
	// and ErrDialUnknown when no answer came (a timeout, a broken connection): the call may or
	// may not have been placed, so it must never simply be dialled again.
	Dial(ctx context.Context, req DialRequest) (providerCallID string, err error)
}

// The two ways a dial can fail.
var (
	ErrDialRefused = errors.New("the provider refused the call")
	ErrDialUnknown = errors.New("the provider's answer is unknown")
)

// ErrAtLimit says that an account holds as many slots of a kind as its limit allows.
var ErrAtLimit = Errorf(ECONFLICT, "the account has no free concurrency slot of that kind")

// QueueEntry is a call waiting for a concurrency slot.
type QueueEntry struct {
	AccountID  string
	Kind       SlotKind
	Key        string // Orders the queue: the time from which it may be dialled, then call id.
	CallID     string
	EnqueuedAt string
	Schedule   *ScheduledCall // The scheduled call it places, if any.
	CampaignID string         // The campaign of a campaign call, whose status the claim checks.
	// RespectFrequency: the claim holds only within the account's contact frequency cap.
	RespectFrequency bool
	Hours            *CallingHours // A campaign call's calling hours: it is dialled only inside them.
	ToNumber         string        // The number called, which the claim checks against the suppression list.
}

// ParkedEvent is a provider event kept until its call is known.
type ParkedEvent struct {
	Key   string
	Event CallEvent
}

// Finder asks a provider whether a call whose dial went unanswered was placed after all.
type Finder interface {
	// FindCall returns the provider's call id of the call placed for req since `since`, or an
	// ENOTFOUND error when the provider has none.
	FindCall(ctx context.Context, req DialRequest, since time.Time) (providerCallID string, err error)
}

// ProviderClient is everything ringfence asks of a provider's API: place a call, find one whose
// dial went unanswered, and report one it stopped hearing about. Each provider's client is one,
// and so is anything that wraps it: a wrapper that dropped an ability would silently turn off
// what depends on it (the sweep asking the provider before ending a quiet call), so the type
// says what a wired client can do.
type ProviderClient interface {
	Dialer
	Finder
	Reporter
}

// Reporter asks a provider what it knows of one call: the provider is the source of truth for a
// call ringfence has stopped hearing about.
type Reporter interface {
	// ReportCall returns the call as the provider reports it now, as a call event: a terminal
	// status with the outcome, cost, duration and transcript once the call has ended, a
	// non-terminal status while it is live. It returns an ENOTFOUND error when the provider has
	// no such call, and any other error when the provider could not be asked.
	ReportCall(ctx context.Context, providerCallID string) (CallEvent, error)
}
