package dynamo

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// CapacityBackoff is how long a campaign contact waits after its call was ended by the provider
// for its concurrency limit, doubling with each such end of the contact's calls.
const CapacityBackoff = 5 * time.Second

// nextAttempt returns the call that retries c when the update u ends c with a status its
// campaign's retry policy retries, and the time from which it may be dialled.
func (s *Store) nextAttempt(c ringfence.Call, u ringfence.CallUpdate) (ringfence.Call, string, bool) {
	if !u.Terminal || c.CampaignID == "" || c.ContactID == "" {
		return ringfence.Call{}, "", false
	}
	attempt := max(c.Attempt, 1)
	if u.AtCapacity {
		// The provider ended the call for its own limit: the same attempt is queued again,
		// after a backoff, as a new call (the ended one stays as it was, counted once).
		n := c.BusyRefusals + 1
		next := ringfence.Call{
			ID:        fmt.Sprintf("%s_r%d", c.ID, n),
			AccountID: c.AccountID, CampaignID: c.CampaignID, ContactID: c.ContactID, Provider: c.Provider,
			AgentID: c.AgentID, FromNumber: c.FromNumber, ToNumber: c.ToNumber, Variables: c.Variables,
			Attempt: attempt, Retry: c.Retry, Hours: c.Hours, BusyRefusals: n,
		}
		return next, timestamp(c.Hours.NextOpen(s.Now().Add(ringfence.BusyBackoff(CapacityBackoff, n)))), true
	}
	delay, ok := c.Retry.Next(attempt, u.Status)
	if !ok {
		return ringfence.Call{}, "", false
	}
	next := ringfence.Call{
		ID:        ringfence.AttemptCallID(ringfence.FirstAttemptCallID(c.ID, attempt), attempt+1),
		AccountID: c.AccountID, CampaignID: c.CampaignID, ContactID: c.ContactID, Provider: c.Provider,
		AgentID: c.AgentID, FromNumber: c.FromNumber, ToNumber: c.ToNumber, Variables: c.Variables,
		Attempt: attempt + 1, Retry: c.Retry, Hours: c.Hours,
	}
	// A retry waits its delay, and then for its calling hours if they are closed.
	return next, timestamp(c.Hours.NextOpen(s.Now().Add(delay))), true
}

// retryItems are the writes that queue a contact's next attempt in the transaction that ends its
// current one: the new call (queued), its queue entry, and the contact's move to the new call,
// conditioned on the contact still being on the ending call. The retry commits with the end of
// the attempt or not at all (invariant 2), and the ended call's terminal condition makes it once.
func (s *Store) retryItems(c, next ringfence.Call, notBefore string) ([]types.TransactWriteItem, error) {
	now := s.now()
	queued, _, err := s.enqueueItems(next, ringfence.SlotCampaign, now, notBefore)
	if err != nil {
		return nil, err
	}
	contact, err := s.update(itemKey(campaignPK(c.CampaignID), contactSK(c.ContactID)),
		expression.Set(expression.Name("call_id"), expression.Value(next.ID)),
		expression.Name("call_id").Equal(expression.Value(c.ID)))
	if err != nil {
		return nil, err
	}
	// enqueueItems ends with the contact's first claim, which a retry replaces.
	return append(queued[:2], types.TransactWriteItem{Update: contact}), nil
}
