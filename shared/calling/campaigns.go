package calling

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// Started is the answer to starting a campaign.
type Started struct {
	Campaign ringfence.Campaign
	Queued   int // Calls queued by the start itself: at most one page; the rest are queued in the background.
	Dialled  int // Calls dialled right away, up to the account's campaign limit.
}

// StartCampaign starts a campaign and answers in the same time whatever its size: it marks the
// campaign running, queues one page of its contacts and dials what the account's campaign slots
// allow. The scheduled dispatcher queues the rest, page by page (AdvanceCampaigns), and dials
// them as slots free up. Starting again is safe: a contact gets one call, whoever queues it.
func (s *Service) StartCampaign(ctx context.Context, accountID, campaignID string) (Started, error) {
	c, err := s.store.GetCampaign(ctx, accountID, campaignID)
	if err != nil {
		return Started{}, err
	}
	if _, ok := s.dialers[c.Provider]; !ok {
		return Started{}, ringfence.Errorf(ringfence.EINVALID, "provider %s is not configured on this deployment", c.Provider)
	}
	if c.TotalContacts == 0 {
		return Started{}, ringfence.Errorf(ringfence.EINVALID, "campaign %s has no contacts; add them with POST /campaigns/%s/contacts", c.ID, c.ID)
	}
	if c.StartAt.After(s.store.Now()) || c.Status == ringfence.CampaignScheduled {
		// Its start_at is ahead: the dispatcher starts it then (advanceCampaign).
		scheduled, err := s.store.ScheduleCampaign(ctx, accountID, campaignID)
		return Started{Campaign: scheduled}, err
	}
	campaign, err := s.store.StartCampaign(ctx, accountID, campaignID)
	if err != nil {
		return Started{}, err
	}
	queued, _, err := s.queuePage(ctx, campaign, "")
	if err != nil {
		return Started{}, err
	}
	limit, err := s.limit(ctx, accountID, ringfence.SlotCampaign)
	if err != nil {
		return Started{}, err
	}
	dialled, err := s.Drain(ctx, accountID, ringfence.SlotCampaign, limit)
	if err != nil {
		return Started{}, err
	}
	return Started{Campaign: campaign, Queued: queued, Dialled: dialled}, nil
}

// queuePage queues the calls of the next page of a campaign's contacts that wait to be queued,
// after the contact `after`. It returns how many calls it queued and the last contact it read
// ("" when none was left).
func (s *Service) queuePage(ctx context.Context, c ringfence.Campaign, after string) (int, string, error) {
	contacts, err := s.store.PendingContacts(ctx, c.ID, after, dynamo.QueueBatch)
	if err != nil || len(contacts) == 0 {
		return 0, "", err
	}
	now := s.store.Now() // The queue's clock, which decides when an entry is due.
	calls := make([]ringfence.Call, 0, len(contacts))
	notBefore := make([]string, 0, len(contacts))
	for _, ct := range contacts {
		call := contactCall(c, ct, now)
		calls = append(calls, call)
		// A contact outside its calling hours waits in the queue until they open.
		notBefore = append(notBefore, queueTime(call.Hours.NextOpen(now)))
	}
	n, err := s.store.QueueContactCalls(ctx, calls, notBefore)
	return n, contacts[len(contacts)-1].ID, err
}

// contactCall is the call a campaign places to a contact, queued at now: its calling hours are
// judged in the contact's zones (its own, its number's, or the campaign's).
func contactCall(c ringfence.Campaign, ct ringfence.Contact, now time.Time) ringfence.Call {
	vars := map[string]string{"name": ct.Name}
	for k, v := range ct.Fields {
		vars[k] = v
	}
	return ringfence.Call{
		ID: campaignCallID(c.ID, ct.ID), AccountID: c.AccountID, CampaignID: c.ID, ContactID: ct.ID,
		Provider: c.Provider, AgentID: c.AgentID, FromNumber: c.FromNumber, ToNumber: ct.Phone,
		Variables: vars, Attempt: 1, Retry: c.Retry, Hours: c.Hours.For(ct.Timezone, ct.Phone, now),
	}
}

// queueTime formats t as the queue orders entries.
func queueTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// campaignCallID is the id of a contact's call. It is derived from the contact, so that two
// workers queueing the same contact name the same call and the second finds it exists.
func campaignCallID(campaignID, contactID string) string {
	return "call_" + strings.TrimPrefix(campaignID, "cmp_") + "_" + contactID
}

// queueBudget bounds how long one dispatcher run spends queueing a campaign's contacts; the next
// run goes on where the contacts' claims show this one stopped.
const queueBudget = 30 * time.Second

// AdvanceCampaigns does the background work of every campaign in the dispatcher's index: it
// queues the contacts of running and paused campaigns that wait to be queued, completes running
// campaigns whose calls have all ended, and finishes cancels. It may run while another run does
// the same, and may die anywhere: every step is a conditional write that a second run finds done.
func (s *Service) AdvanceCampaigns(ctx context.Context) error {
	ids, err := s.store.RunningCampaigns(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		errs = append(errs, s.advanceCampaign(ctx, id))
	}
	return errors.Join(errs...)
}

func (s *Service) advanceCampaign(ctx context.Context, id string) error {
	c, err := s.store.CampaignByID(ctx, id)
	if err != nil {
		return err
	}
	now := s.store.Now()
	if c.Status == ringfence.CampaignScheduled {
		// Whether its start_at has come is the write's condition, against the store's clock.
		started, err := s.store.StartScheduled(ctx, c.ID)
		if err != nil || !started {
			return err
		}
		if c, err = s.store.CampaignByID(ctx, id); err != nil {
			return err
		}
	}
	if c.Status == ringfence.CampaignRunning && c.Ended(now) {
		return s.expire(ctx, c)
	}
	switch c.Status {
	case ringfence.CampaignRunning, ringfence.CampaignPaused:
		if err := s.queueAll(ctx, c, time.Now().Add(queueBudget)); err != nil {
			return err
		}
		if c.Status == ringfence.CampaignRunning {
			_, err := s.store.CompleteCampaignIfDone(ctx, c.ID)
			return err
		}
	case ringfence.CampaignCancelled:
		_, err := s.FinishCancel(ctx, c.ID)
		return err
	}
	return nil
}

// expire ends a running campaign at its end_at: its never-queued contacts and its calls still
// waiting end expired, each through the same exactly-once transition as any call (the dial claim
// already refuses them: it holds only before end_at), and the campaign completes once the calls
// in flight have finished.
func (s *Service) expire(ctx context.Context, c ringfence.Campaign) error {
	for {
		n, err := s.store.ExpirePendingContacts(ctx, c.ID)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
	}
	queued, err := s.store.QueuedCampaignCalls(ctx, c.ID)
	if err != nil {
		return err
	}
	for _, callID := range queued {
		if _, err := s.store.EndQueuedCall(ctx, callID, ringfence.StatusExpired, "campaign reached its end_at"); err != nil {
			return err
		}
	}
	_, err = s.store.CompleteCampaignIfDone(ctx, c.ID)
	return err
}

// queueAll queues a campaign's waiting contacts page by page until none is left or the deadline
// passes. The page's position is kept only in memory: what is durable is each contact's claim,
// so a run that dies loses nothing and the next run reads the contacts still waiting.
func (s *Service) queueAll(ctx context.Context, c ringfence.Campaign, deadline time.Time) error {
	after := ""
	for time.Now().Before(deadline) {
		_, last, err := s.queuePage(ctx, c, after)
		if errors.Is(err, dynamo.ErrCampaignNotRunning) {
			return nil // Cancelled meanwhile: nothing more to queue.
		}
		if err != nil || last == "" {
			return err
		}
		after = last
	}
	return nil
}

// PauseCampaign pauses a running campaign: from the moment the pause commits, no dial of the
// campaign starts (the write that claims a dial checks the campaign is running); calls in flight
// finish. Pausing a paused campaign is a no-op.
func (s *Service) PauseCampaign(ctx context.Context, accountID, id string) (ringfence.Campaign, error) {
	return s.store.MoveCampaign(ctx, accountID, id, ringfence.CampaignPaused, ringfence.CampaignRunning)
}

// ResumeCampaign sets a paused campaign running again and dials what the slots allow. Resuming a
// running campaign is a no-op.
func (s *Service) ResumeCampaign(ctx context.Context, accountID, id string) (ringfence.Campaign, error) {
	c, err := s.store.MoveCampaign(ctx, accountID, id, ringfence.CampaignRunning, ringfence.CampaignPaused)
	if err != nil {
		return c, err
	}
	limit, err := s.limit(ctx, accountID, ringfence.SlotCampaign)
	if err != nil {
		return c, err
	}
	if _, err := s.Drain(ctx, accountID, ringfence.SlotCampaign, limit); err != nil {
		s.log.ErrorContext(ctx, "dialling after a resume failed; the dispatcher dials later", "campaign", id, "error", err.Error())
	}
	return c, nil
}

// CancelCampaign cancels a campaign that is not over: from the moment the cancel commits, no dial
// of it starts; calls in flight finish. Every call not yet dialled, and every contact not yet
// queued, ends cancelled and is counted once; that clean-up runs in the background
// (AdvanceCampaigns) and its first part right here. Cancelling a cancelled campaign is a no-op.
func (s *Service) CancelCampaign(ctx context.Context, accountID, id string) (ringfence.Campaign, error) {
	c, err := s.store.MoveCampaign(ctx, accountID, id, ringfence.CampaignCancelled,
		ringfence.CampaignCreated, ringfence.CampaignScheduled, ringfence.CampaignRunning, ringfence.CampaignPaused)
	if err != nil {
		return c, err
	}
	if _, err := s.FinishCancel(ctx, id); err != nil {
		s.log.ErrorContext(ctx, "finishing a cancel failed; the dispatcher finishes it", "campaign", id, "error", err.Error())
	}
	return s.store.GetCampaign(ctx, accountID, id)
}

// FinishCancel ends the cancelled campaign's queued calls and never-queued contacts as cancelled,
// and takes the campaign out of the dispatcher's index when nothing is left. It reports whether it
// finished.
func (s *Service) FinishCancel(ctx context.Context, id string) (bool, error) {
	for {
		n, err := s.store.CancelPendingContacts(ctx, id)
		if err != nil {
			return false, err
		}
		if n == 0 {
			break
		}
	}
	queued, err := s.store.QueuedCampaignCalls(ctx, id)
	if err != nil {
		return false, err
	}
	for _, callID := range queued {
		if _, err := s.store.CancelQueuedCall(ctx, callID, "campaign cancelled"); err != nil {
			return false, err
		}
	}
	if len(queued) > 0 {
		// The index may lag the calls just ended: the next run looks again and finds none.
		return false, nil
	}
	return s.store.FinishCancel(ctx, id)
}

// CampaignLimit returns the account's limit of campaign calls in flight, which bounds a
// campaign's max_concurrency.
func (s *Service) CampaignLimit(ctx context.Context, accountID string) (int, error) {
	return s.limit(ctx, accountID, ringfence.SlotCampaign)
}

// topUp queues one page of a running campaign's waiting contacts. It is extra work on the way: if
// it fails, the dispatcher queues the contacts, so the failure is only logged.
//
// It costs one Query when no contact waits, which is the case for most of a campaign's calls.
func (s *Service) topUp(ctx context.Context, campaignID string) {
	waiting, err := s.store.PendingContacts(ctx, campaignID, "", 1)
	if err == nil && len(waiting) > 0 {
		var c ringfence.Campaign
		if c, err = s.store.CampaignByID(ctx, campaignID); err == nil && c.Status == ringfence.CampaignRunning {
			_, _, err = s.queuePage(ctx, c, "")
		}
	}
	if err != nil && !errors.Is(err, dynamo.ErrCampaignNotRunning) {
		s.log.ErrorContext(ctx, "queueing more contacts failed; the dispatcher queues them", "campaign", campaignID, "error", err.Error())
	}
}
