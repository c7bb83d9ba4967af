package dynamo

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// GetCall reads a call with a strongly consistent read.
func (s *Store) GetCall(ctx context.Context, id string) (ringfence.Call, error) {
	var it callItem
	found, err := s.getItem(ctx, itemKey(callPK(id), skCall), true, &it)
	if err != nil {
		return ringfence.Call{}, internal(err, "get call %s", id)
	}
	if !found {
		return ringfence.Call{}, notFound("call", id)
	}
	return it.toDomain(), nil
}

// CallIDByProviderCallID finds ringfence's call id for a provider's call id, with a strongly
// consistent read of the lookup item.
func (s *Store) CallIDByProviderCallID(ctx context.Context, p ringfence.Provider, providerCallID string) (string, error) {
	var it providerCallItem
	found, err := s.getItem(ctx, itemKey(providerCallPK(p, providerCallID), skProviderCall), true, &it)
	if err != nil {
		return "", internal(err, "look up %s call %s", p, providerCallID)
	}
	if !found {
		return "", notFound(string(p)+" call", providerCallID)
	}
	return it.CallID, nil
}

// RecordProviderCallID stores the provider's id for a call on the call, on its slot and in the
// lookup item, in one transaction, so a webhook that carries only that id finds the call (and
// releases the slot) at once. Recording the same id twice is a no-op.
func (s *Store) RecordProviderCallID(ctx context.Context, callID, providerCallID string) error {
	for attempt := 0; attempt < maxApplyAttempts; attempt++ {
		c, err := s.GetCall(ctx, callID)
		if err != nil {
			return err
		}
		if c.ProviderCallID == providerCallID {
			return nil
		}
		if c.ProviderCallID != "" {
			return ringfence.Errorf(ringfence.ECONFLICT, "call %s already has %s call id %s, not %s", callID, c.Provider, c.ProviderCallID, providerCallID)
		}
		now := s.now()
		set := withHistory(expression.Set(expression.Name("provider_call_id"), expression.Value(providerCallID)).
			Set(expression.Name("updated_at"), expression.Value(now)).
			Remove(expression.Name("dial_error")), now, "accepted by "+string(c.Provider)+" as "+providerCallID)
		cond := expression.AttributeNotExists(expression.Name("provider_call_id")).And(stillEqual("slot_kind", string(c.SlotKind)))
		if c.Status.Rank() < ringfence.StatusInitiated.Rank() {
			// The provider accepted the call: it is initiated, unless a webhook already said more.
			set = set.Set(expression.Name("status"), expression.Value(ringfence.StatusInitiated)).
				Set(expression.Name("status_rank"), expression.Value(ringfence.StatusInitiated.Rank()))
			cond = cond.And(expression.Name("status_rank").LessThan(expression.Value(ringfence.StatusInitiated.Rank())))
		}
		call, err := s.update(itemKey(callPK(c.ID), skCall), set, cond)
		if err != nil {
			return err
		}
		lookup, err := s.putNew(providerCallItem{PK: providerCallPK(c.Provider, providerCallID), SK: skProviderCall, CallID: c.ID})
		if err != nil {
			return err
		}
		items := []types.TransactWriteItem{{Update: call}, lookup}
		if c.SlotKind != "" {
			slot, err := s.update(itemKey(accountPK(c.AccountID), slotSK(c.SlotKind, c.ID)),
				expression.Set(expression.Name("execution_id"), expression.Value(providerCallID)),
				expression.AttributeExists(expression.Name("pk")))
			if err != nil {
				return err
			}
			items = append(items, types.TransactWriteItem{Update: slot})
		}
		err = s.transact(ctx, items, "record %s call id of call %s", c.Provider, c.ID)
		var cancelled *cancelledAt
		if errors.As(err, &cancelled) {
			if cancelled.item == 1 {
				return ringfence.Errorf(ringfence.ECONFLICT, "%s call id %s belongs to another call", c.Provider, providerCallID)
			}
			if err := pause(ctx, attempt); err != nil {
				return err
			}
			continue // The call changed since it was read; read it again.
		}
		return err
	}
	return ringfence.Errorf(ringfence.EUNAVAILABLE, "call %s is being updated by many writers at once; retry", callID)
}

// ApplyCallEvent applies a provider event to a call exactly once. It reads the call, plans the
// update (ringfence.PlanCallUpdate), and writes it under conditions that hold only while the call
// is still as read. If another delivery changed the call in between, the condition fails, nothing
// is written, and the event is planned again against the new state. The first terminal transition
// and the campaign counters, cost and contact outcome that follow from it commit in one transaction.
//
// It returns the call as it was just before this event's write (or as read, for a duplicate), so
// the caller knows, for instance, which slot a first terminal transition released.
func (s *Store) ApplyCallEvent(ctx context.Context, callID string, ev ringfence.CallEvent) (ringfence.Call, ringfence.ApplyResult, error) {
	return s.ApplyCallEventFrom(ctx, ringfence.Call{ID: callID}, ev)
}

// ApplyCallEventFrom is ApplyCallEvent for a caller that has just read the call with a strongly
// consistent read: the first attempt plans against that read instead of reading again (a call
// with only its ID set is read first). Every write is still conditioned on the call being as read.
func (s *Store) ApplyCallEventFrom(ctx context.Context, read ringfence.Call, ev ringfence.CallEvent) (ringfence.Call, ringfence.ApplyResult, error) {
	for attempt := 0; attempt < maxApplyAttempts; attempt++ {
		c := read
		if attempt > 0 || c.Status == "" {
			var err error
			if c, err = s.GetCall(ctx, read.ID); err != nil {
				return c, "", err
			}
		}
		u := ringfence.PlanCallUpdate(c, ev)
		if u.IsEmpty() {
			return c, ringfence.ResultDuplicate, nil
		}
		lost, err := s.writeCallUpdate(ctx, c, u)
		if err != nil {
			return c, "", err
		}
		if !lost {
			return c, u.Result(), nil
		}
		if err := pause(ctx, attempt); err != nil {
			return c, "", err
		}
	}
	return ringfence.Call{}, "", ringfence.Errorf(ringfence.EUNAVAILABLE, "call %s is being updated by many deliveries at once; retry", read.ID)
}

// writeCallUpdate writes u. It reports lost=true when a condition showed that the call changed
// since it was read (or a concurrent transaction held it), in which case nothing was written.
func (s *Store) writeCallUpdate(ctx context.Context, c ringfence.Call, u ringfence.CallUpdate) (lost bool, err error) {
	callUpdate, err := s.callUpdate(c, u)
	if err != nil {
		return false, err
	}
	items := []types.TransactWriteItem{{Update: callUpdate}}
	next, notBefore, retrying := s.nextAttempt(c, u)
	// A contact is finished by its last attempt: one that is retried, or was, counts no outcome.
	finishes := !retrying && c.RetriedAs == ""
	if c.CampaignID != "" && movesCampaign(u) {
		campaign, err := s.campaignCounters(c, u, finishes)
		if err != nil {
			return false, err
		}
		items = append(items, types.TransactWriteItem{Update: campaign})
	}
	if retrying {
		retry, err := s.retryItems(c, next, notBefore)
		if err != nil {
			return false, err
		}
		items = append(items, retry...)
	}
	if c.ContactID != "" && (u.Terminal || u.Correction) && finishes {
		contact, err := s.contactOutcome(c, u.Status)
		if err != nil {
			return false, err
		}
		items = append(items, types.TransactWriteItem{Update: contact})
	}
	// The hour counters behind the charts move with the counts and cost they chart.
	hours, err := s.hourItems(c, u)
	if err != nil {
		return false, err
	}
	items = append(items, hours...)
	if u.Terminal && c.SlotKind != "" {
		// The slot is released in the same transaction that ends the call.
		release, err := s.giveSlotBack(c)
		if err != nil {
			return false, err
		}
		items = append(items, release...)
	}
	if u.Terminal && c.QueueKey != "" {
		// A call that ends while it waits (cancelled, say) leaves the queue with it.
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{
			TableName: aws.String(s.table), Key: itemKey(queuePK(c.AccountID, queueKind(c)), c.QueueKey),
		}})
	}
	// The event the change causes (call.ended, call.corrected) joins its transaction, when an
	// endpoint of the account receives it.
	if items, err = s.withCallEvent(ctx, items, c, u); err != nil {
		return false, err
	}
	if len(items) == 1 {
		// A single item needs no transaction: a conditional UpdateItem is atomic and costs half.
		_, err = s.client.UpdateItem(ctx, updateInput(callUpdate))
		if conditionFailed(err) {
			return true, nil
		}
		if err != nil {
			return false, internal(err, "update call %s", c.ID)
		}
		return false, nil
	}
	_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if reason, ok := transactionCancelled(err); ok {
		if reason.failedAt(0) || reason.conflict {
			return true, nil
		}
		return false, internal(err, "update call %s: its campaign %s or contact %s is missing", c.ID, c.CampaignID, c.ContactID)
	}
	if err != nil {
		return false, internal(err, "update call %s", c.ID)
	}
	return false, nil
}

// callUpdate builds the call's own write. Each planned change carries the condition under which
// it was decided, so a delivery that raced ahead makes the whole write fail rather than be undone.
// It SETs only the attributes this path owns: reschedule_day and other tool data are never touched.
func (s *Store) callUpdate(c ringfence.Call, u ringfence.CallUpdate) (*types.Update, error) {
	now := s.now()
	set := withHistory(expression.Set(expression.Name("updated_at"), expression.Value(now)), now, historyEntry(u))
	cond := expression.AttributeExists(expression.Name("pk"))
	switch {
	case u.Correction:
		// The provider's real end replaces the sweep's: once, while the stale mark is still there.
		set = set.Set(expression.Name("status"), expression.Value(u.Status)).
			Set(expression.Name("outcome"), expression.Value(u.Status)).
			Set(expression.Name("end_reason"), expression.Value(u.EndReason)).
			Remove(expression.Name("ended_stale"))
		cond = cond.And(expression.AttributeExists(expression.Name("ended_stale"))).
			And(expression.Name("outcome").Equal(expression.Value(u.PreviousOutcome)))
	case u.Status != "":
		set = set.Set(expression.Name("status"), expression.Value(u.Status)).
			Set(expression.Name("status_rank"), expression.Value(u.Status.Rank()))
		// Statuses only move forward: the write applies only while the stored rank is lower.
		cond = cond.And(expression.Name("status_rank").LessThan(expression.Value(u.Status.Rank())))
		if u.Terminal {
			set = set.Set(expression.Name("outcome"), expression.Value(u.Status)).
				Set(expression.Name("ended_at"), expression.Value(now)).
				Remove(expression.Name("gsi2pk")).Remove(expression.Name("gsi2sk")).
				Remove(expression.Name("slot_kind")).Remove(expression.Name("queue_key"))
			// The slot and queue entry released with the call are the ones read.
			cond = cond.And(stillEqual("slot_kind", string(c.SlotKind))).And(stillEqual("queue_key", c.QueueKey))
			if u.EndReason != "" {
				set = set.Set(expression.Name("end_reason"), expression.Value(u.EndReason))
			}
			if next, _, retrying := s.nextAttempt(c, u); retrying {
				set = set.Set(expression.Name("retried_as"), expression.Value(next.ID))
			}
			if u.Stale {
				// The sweep ends the call only if nothing happened since it looked.
				set = set.Set(expression.Name("ended_stale"), expression.Value(true))
				cond = cond.And(stillEqual("gsi2sk", u.Activity))
			}
		} else {
			set = set.Set(expression.Name("gsi2sk"), expression.Value(now))
		}
	}
	if transcript := s.transcriptThatFits(c, u); transcript != "" {
		// Longer wins, by the lengths the providers sent: a transcript kept cut gives way only
		// to a longer original, whatever is kept of either. A call stored before the length was
		// kept has a whole transcript, whose size is its length.
		length := max(u.TranscriptLength, len(u.Transcript))
		set = set.Set(expression.Name("transcript"), expression.Value(transcript)).
			Set(expression.Name("transcript_length"), expression.Value(length))
		if len(transcript) < length {
			set = set.Set(expression.Name("transcript_truncated"), expression.Value(true))
		} else {
			set = set.Remove(expression.Name("transcript_truncated"))
		}
		cond = cond.And(expression.Or(
			expression.AttributeNotExists(expression.Name("transcript")),
			expression.Name("transcript_length").LessThan(expression.Value(length)),
			expression.And(expression.AttributeNotExists(expression.Name("transcript_length")),
				expression.Name("transcript").Size().LessThan(expression.Value(length)))))
	}
	if u.RecordingURL != "" {
		set = set.Set(expression.Name("recording_url"), expression.Value(u.RecordingURL))
		cond = cond.And(expression.AttributeNotExists(expression.Name("recording_url")))
	}
	if u.ExtractedData != "" {
		set = set.Set(expression.Name("extracted_data"), expression.Value(u.ExtractedData))
		cond = cond.And(stillEqual("extracted_data", c.ExtractedData)).And(stillEqual("extracted_at", c.ExtractedAt))
		if u.ExtractedAt != "" {
			set = set.Set(expression.Name("extracted_at"), expression.Value(u.ExtractedAt))
		}
	}
	if u.Report {
		// The campaign total moves by the difference from the cost read, so the write applies
		// only while that cost (and the report's version) is still the stored one.
		cond = cond.And(stillEqualNumber("cost", c.Cost)).And(stillEqual("report_at", c.ReportAt))
		if u.Cost != nil {
			set = set.Set(expression.Name("cost"), expression.Value(numberOf(*u.Cost)))
		}
		if u.Duration != nil {
			set = set.Set(expression.Name("duration"), expression.Value(numberOf(*u.Duration)))
		}
		if u.ReportAt != "" {
			set = set.Set(expression.Name("report_at"), expression.Value(u.ReportAt))
		}
	}
	return s.update(itemKey(callPK(c.ID), skCall), set, cond)
}

// historyEntry describes what an update did, for the call's history.
func historyEntry(u ringfence.CallUpdate) string {
	entry := string(u.Result())
	if u.Status != "" {
		entry += " " + string(u.Status)
	}
	if u.EndReason != "" && (u.Terminal || u.Correction) {
		entry += " (" + u.EndReason + ")"
	}
	if u.Report && u.Cost != nil {
		entry += " cost " + u.Cost.String()
	}
	return entry
}

// withHistory appends a timestamped entry to the call's history in the same write: the history
// costs no extra request, and a write that does not happen leaves no entry.
func withHistory(set expression.UpdateBuilder, now, entry string) expression.UpdateBuilder {
	return set.Set(expression.Name("history"), expression.ListAppend(
		expression.IfNotExists(expression.Name("history"), expression.Value([]string{})),
		expression.Value([]string{now + " " + entry})))
}

// stillEqual is the condition that a string attribute still has the value read ("" = absent).
func stillEqual(name, read string) expression.ConditionBuilder {
	if read == "" {
		return expression.AttributeNotExists(expression.Name(name))
	}
	return expression.Name(name).Equal(expression.Value(read))
}

// stillEqualNumber is stillEqual for a Number attribute.
func stillEqualNumber(name string, read *ringfence.Decimal) expression.ConditionBuilder {
	if read == nil {
		return expression.AttributeNotExists(expression.Name(name))
	}
	return expression.Name(name).Equal(expression.Value(numberOf(*read)))
}

// movesCampaign reports whether u changes the call's campaign's counters or cost.
func movesCampaign(u ringfence.CallUpdate) bool {
	return u.Terminal || (u.Correction && u.PreviousOutcome != u.Status) || !u.CostDelta.IsZero()
}

// campaignCounters moves the campaign's counters for a call's first terminal transition, and its
// total cost by the call's cost change. ADD is atomic, so concurrent calls of one campaign never
// overwrite each other's counts.
//
// calls_completed and the outcomes count contacts: only the attempt that finishes its contact
// moves them (finishes). attempts counts every call that was placed, once, at its end.
func (s *Store) campaignCounters(c ringfence.Call, u ringfence.CallUpdate, finishes bool) (*types.Update, error) {
	campaignID := c.CampaignID
	add := expression.Set(expression.Name("updated_at"), expression.Value(s.now()))
	if u.Terminal && finishes {
		add = add.Add(expression.Name("calls_completed"), expression.Value(1)).
			Add(expression.Name(outcomeAttribute(u.Status)), expression.Value(1))
	}
	if u.Terminal && !c.DialStartedAt.IsZero() {
		add = add.Add(expression.Name("attempts"), expression.Value(1))
	}
	if u.Terminal && c.SlotKind == ringfence.SlotCampaign {
		// The campaign's own count of calls in flight drops with the slot the call gives back.
		add = add.Add(expression.Name("in_flight"), expression.Value(-1))
	}
	if u.Correction && u.PreviousOutcome != u.Status && finishes {
		// The call was counted once already, under the sweep's outcome: move it, count it again never.
		add = add.Add(expression.Name(outcomeAttribute(u.PreviousOutcome)), expression.Value(-1)).
			Add(expression.Name(outcomeAttribute(u.Status)), expression.Value(1))
	}
	if !u.CostDelta.IsZero() {
		add = add.Add(expression.Name("total_cost"), expression.Value(numberOf(u.CostDelta)))
	}
	return s.update(itemKey(campaignPK(campaignID), skCampaign), add, expression.AttributeExists(expression.Name("pk")))
}

// SetDialError records why a dial's outcome is unknown, leaving the call dialing for the sweep.
func (s *Store) SetDialError(ctx context.Context, callID, reason string) error {
	u, err := s.update(itemKey(callPK(callID), skCall),
		expression.Set(expression.Name("dial_error"), expression.Value(reason)).Set(expression.Name("updated_at"), expression.Value(s.now())),
		expression.AttributeExists(expression.Name("pk")))
	if err != nil {
		return err
	}
	if _, err := s.client.UpdateItem(ctx, updateInput(u)); err != nil {
		return internal(err, "record dial error of call %s", callID)
	}
	return nil
}

// contactOutcome records the outcome of the contact's call on the contact.
func (s *Store) contactOutcome(c ringfence.Call, outcome ringfence.CallStatus) (*types.Update, error) {
	set := expression.Set(expression.Name("outcome"), expression.Value(outcome))
	return s.update(itemKey(campaignPK(c.CampaignID), contactSK(c.ContactID)), set, expression.AttributeExists(expression.Name("pk")))
}
