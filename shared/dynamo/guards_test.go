package dynamo_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// Each test in this file proves one guard on its own: it forces the one interleaving (or input)
// that only that guard stops, with every other layer left in place, so removing or weakening the
// guard alone makes it fail. `make mutate` checks that this stays true.

// MustSlotsInUse returns the account's count of held slots of a kind, failing the test if the
// slots cannot be read (a failed read must never pass for "0 in use").
func MustSlotsInUse(tb testing.TB, s *dynamo.Store, accountID string, kind ringfence.SlotKind) (int, []ringfence.Slot) {
	tb.Helper()
	counts, slots, err := s.ListSlots(context.Background(), accountID)
	if err != nil {
		tb.Fatalf("ListSlots: %v", err)
	}
	return counts[kind], slots
}

// beforeTransaction runs do once, before the store's first transaction.
func beforeTransaction(do func()) func(*aws.Config) {
	return dynamotest.BeforeFirst[*dynamodb.TransactWriteItemsInput](nil, do)
}

// Invariant 3 (status only moves forward) and the seed's "8/3 completed": a terminal delivery that
// read the call before another terminal delivery committed must count nothing. The deliveries
// carry no cost and no transcript, so no "still as read" condition on them can stop the second
// one: only the condition that the stored rank is lower than the new one does.
func TestTerminalDeliveryAfterAnotherCountsOnce(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	campaign, calls := MustCampaignWithCalls(t, env.Store, 1)
	c := calls[0]
	busy := ringfence.CallEvent{Provider: ringfence.ProviderBolna, ProviderCallID: c.ProviderCallID, Status: ringfence.StatusBusy}
	first := ringfence.ApplyResult("")
	racing := env.Reopen(beforeTransaction(func() {
		// Another delivery of the same report commits between this one's read and its write.
		_, r, err := env.Store.ApplyCallEvent(ctx, c.ID, busy)
		if err != nil {
			t.Errorf("the other delivery: %v", err)
		}
		first = r
	}))
	_, second, err := racing.ApplyCallEvent(ctx, c.ID, busy)
	if err != nil {
		t.Fatal(err)
	}
	if first != ringfence.ResultFirstTerminal || second != ringfence.ResultDuplicate {
		t.Fatalf("results=%v, %v; want %v, %v", first, second, ringfence.ResultFirstTerminal, ringfence.ResultDuplicate)
	}
	got, err := env.Store.GetCampaign(ctx, "acct", campaign.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.CallsCompleted != 1 || got.OutcomeCounts[ringfence.StatusBusy] != 1 {
		t.Fatalf("calls_completed=%d busy=%d, want 1 and 1", got.CallsCompleted, got.OutcomeCounts[ringfence.StatusBusy])
	}
}

// Invariant 2 (side effects commit with the transition, once): a slot released by hand (by the
// provider's id, say) between a terminal event's read and its write is not released a second
// time by the terminal write. Only the condition that the call still holds the slot it read
// stops it; without it the account's count of slots in use ends at -1.
func TestReleaseBetweenTerminalReadAndWriteReleasesOnce(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	c, err := env.Store.CreateCallWithSlot(ctx, directCall(1), ringfence.SlotDirect, 5)
	if err != nil {
		t.Fatal(err)
	}
	racing := env.Reopen(beforeTransaction(func() {
		if ok, err := env.Store.ReleaseSlot(ctx, c.ID); err != nil || !ok {
			t.Errorf("the release: %v, %v; want released", ok, err)
		}
	}))
	_, r, err := racing.ApplyCallEvent(ctx, c.ID, ringfence.CallEvent{Provider: ringfence.ProviderBolna, Status: ringfence.StatusBusy})
	if err != nil {
		t.Fatal(err)
	}
	if r != ringfence.ResultFirstTerminal {
		t.Fatalf("result=%v, want %v", r, ringfence.ResultFirstTerminal)
	}
	inUse, held := MustSlotsInUse(t, env.Store, "acct", ringfence.SlotDirect)
	if inUse != 0 || len(held) != 0 {
		t.Fatalf("in_use=%d held=%d, want 0 and 0", inUse, len(held))
	}
	got, err := env.Store.GetCall(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != ringfence.StatusBusy || got.SlotKind != "" {
		t.Fatalf("call status=%v slot=%q, want busy holding no slot", got.Status, got.SlotKind)
	}
}

// Invariant 5 (a claim is handed back by a conditional write, once): two releases of the same
// call, the second reading the call before the first commits, free one slot. Only ReleaseSlot's
// condition that the call still holds the slot stops the second; without it the count ends at -1.
func TestReleaseBetweenReleaseReadAndWriteReleasesOnce(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	c, err := env.Store.CreateCallWithSlot(ctx, directCall(1), ringfence.SlotDirect, 5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.CreateCallWithSlot(ctx, directCall(2), ringfence.SlotDirect, 5); err != nil {
		t.Fatal(err)
	}
	firstReleased := false
	racing := env.Reopen(beforeTransaction(func() {
		ok, err := env.Store.ReleaseSlot(ctx, c.ID)
		if err != nil {
			t.Errorf("the first release: %v", err)
		}
		firstReleased = ok
	}))
	secondReleased, err := racing.ReleaseSlot(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !firstReleased || secondReleased {
		t.Fatalf("released=%v, %v; want true, false", firstReleased, secondReleased)
	}
	inUse, held := MustSlotsInUse(t, env.Store, "acct", ringfence.SlotDirect)
	if inUse != 1 || len(held) != 1 {
		t.Fatalf("in_use=%d held=%d, want 1 and 1 (the other call's)", inUse, len(held))
	}
}

// Invariant 5 (claim before the side effect) and the seed's "4 welcome calls": a customer's
// scheduled call is claimed by one call only. A welcome call is claimed once (the same call may
// claim it again, as a redelivery does); a daily call once per local date, and never for a date
// before the one claimed.
func TestScheduledCallIsClaimedOnce(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	cu := ringfence.Customer{ID: "cus_1", AccountID: "acct", Name: "Ada", Phone: "+14155550111", Timezone: "UTC",
		Provider: ringfence.ProviderVapi, AgentID: "a", FromNumber: "p", Paid: true, PhoneValidated: true}
	if _, err := env.Store.CreateCustomer(ctx, cu, time.Time{}); err != nil {
		t.Fatal(err)
	}
	welcome := ringfence.ScheduledCall{CustomerID: cu.ID, Type: ringfence.CallWelcome, LocalDate: "2026-11-21", Attempt: 1}
	daily := func(date string) ringfence.ScheduledCall {
		return ringfence.ScheduledCall{CustomerID: cu.ID, Type: ringfence.CallDaily, LocalDate: date, Attempt: 1}
	}
	for _, step := range []struct {
		callID string
		sc     ringfence.ScheduledCall
		want   bool
	}{
		{"call_w1", welcome, true},
		{"call_w2", welcome, false},
		{"call_w1", welcome, true},
		{"call_d1", daily("2026-11-21"), true},
		{"call_d2", daily("2026-11-21"), false},
		{"call_d1", daily("2026-11-21"), false},
		{"call_d0", daily("2026-11-20"), false},
		{"call_d3", daily("2026-11-22"), true},
	} {
		got, err := env.Store.ClaimScheduled(ctx, step.callID, step.sc)
		if err != nil {
			t.Fatal(err)
		}
		if got != step.want {
			t.Fatalf("claim of %s %s by %s=%v, want %v", step.sc.Type, step.sc.LocalDate, step.callID, got, step.want)
		}
	}
	got, err := env.Store.GetCustomer(ctx, cu.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.WelcomeCallID != "call_w1" {
		t.Fatalf("welcome_call_id=%q, want call_w1", got.WelcomeCallID)
	}
}

// A confirmed number's route belongs to its account (invariant 4, no blind overwrites): another
// account cannot take it over, and the owner can still change it.
func TestNumberBelongsToItsAccount(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	route := ringfence.NumberRoute{Number: "+14155550199", AccountID: "acct_a", CompanyID: "co_a", AgentID: "agent-a"}
	if _, err := env.Store.PutNumber(ctx, route); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.ConfirmNumber(ctx, route.Number, route.AccountID); err != nil {
		t.Fatal(err)
	}
	theft := ringfence.NumberRoute{Number: route.Number, AccountID: "acct_b", CompanyID: "co_b", AgentID: "agent-b"}
	if _, err := env.Store.PutNumber(ctx, theft); ringfence.ErrorCode(err) != ringfence.ECONFLICT {
		t.Fatalf("another account's put: err=%v, want %s", err, ringfence.ECONFLICT)
	}
	route.AgentID = "agent-a2"
	if _, err := env.Store.PutNumber(ctx, route); err != nil {
		t.Fatalf("the owner's update: %v", err)
	}
	got, err := env.Store.GetNumber(ctx, route.Number)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccountID != "acct_a" || got.CompanyID != "co_a" || got.AgentID != "agent-a2" {
		t.Fatalf("route=%+v, want acct_a's, updated by acct_a", got)
	}
}

// beforeWrite runs do once, before the store's first write (after the reads that decided it).
func beforeWrite(do func()) func(*aws.Config) {
	return dynamotest.BeforeFirst(func(in any) bool {
		switch in.(type) {
		case *dynamodb.UpdateItemInput, *dynamodb.TransactWriteItemsInput:
			return true
		}
		return false
	}, do)
}

// Invariant 3 (data after the terminal status merges in only when it is better, and a cost
// change moves the campaign total by exactly the difference, once): a late delivery that read
// the call before another delivery merged better data must not replace it. Each case forces that
// interleaving for one kind of data, so each "still as read" condition of the call's write is
// the only thing that stops its case.
func TestLateDeliveryNeverReplacesBetterData(t *testing.T) {
	v1, v2, v3 := ringfence.Version(time.Unix(1700000001, 0)), ringfence.Version(time.Unix(1700000002, 0)), ringfence.Version(time.Unix(1700000003, 0))
	report := func(version, cost string) ringfence.CallEvent {
		ev := ringfence.CallEvent{Provider: ringfence.ProviderBolna, Status: ringfence.StatusCompleted, Version: version}
		if cost != "" {
			ev.Cost = decimal(cost)
		}
		return ev
	}
	with := func(ev ringfence.CallEvent, change func(*ringfence.CallEvent)) ringfence.CallEvent {
		change(&ev)
		return ev
	}
	type state struct {
		transcript, recording, extracted, cost, reportAt, total string
		completed, failed                                       int
	}
	tests := []struct {
		name    string
		before  []ringfence.CallEvent // Applied first, in order.
		swept   bool                  // Whether the sweep ended the call (before the events above).
		between ringfence.CallEvent   // Committed between the late delivery's read and its write.
		late    ringfence.CallEvent
		want    state
	}{
		{
			name:    "transcript of the same length",
			before:  []ringfence.CallEvent{report("", "")},
			between: with(report("", ""), func(ev *ringfence.CallEvent) { ev.Transcript = "world" }),
			late:    with(report("", ""), func(ev *ringfence.CallEvent) { ev.Transcript = "hello" }),
			want:    state{transcript: "world", total: "0", completed: 1},
		},
		{
			name:    "recording",
			before:  []ringfence.CallEvent{report("", "")},
			between: with(report("", ""), func(ev *ringfence.CallEvent) { ev.RecordingURL = "https://recordings.example/1" }),
			late:    with(report("", ""), func(ev *ringfence.CallEvent) { ev.RecordingURL = "https://recordings.example/2" }),
			want:    state{recording: "https://recordings.example/1", total: "0", completed: 1},
		},
		{
			name:    "extracted data of a newer version",
			before:  []ringfence.CallEvent{report("", "")},
			between: with(report(v2, ""), func(ev *ringfence.CallEvent) { ev.ExtractedData = `{"v":2}` }),
			late:    with(report(v1, ""), func(ev *ringfence.CallEvent) { ev.ExtractedData = `{"v":1}` }),
			want:    state{extracted: `{"v":2}`, total: "0", completed: 1},
		},
		{
			name:    "cost without versions",
			before:  []ringfence.CallEvent{report("", "")},
			between: report("", "0.10"),
			late:    report("", "0.12"),
			want:    state{cost: "0.1", total: "0.1", completed: 1},
		},
		{
			name:    "cost of a newer version",
			before:  []ringfence.CallEvent{report(v1, "0.10")},
			between: report(v3, "0.10"),
			late:    report(v2, "0.15"),
			want:    state{cost: "0.1", reportAt: v3, total: "0.1", completed: 1},
		},
		{
			name:    "the provider's end after the sweep's",
			swept:   true,
			between: report("", ""),
			late:    report("", ""),
			want:    state{total: "0", completed: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := dynamotest.MustNewStore(t)
			ctx := context.Background()
			campaign, calls := MustCampaignWithCalls(t, env.Store, 1)
			c := calls[0]
			if tc.swept {
				seen, err := env.Store.GetCall(ctx, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				sweep := ringfence.CallEvent{Provider: c.Provider, Status: ringfence.StatusFailed, EndReason: ringfence.EndReasonStale, Sweep: true, SeenActivity: seen.LastActivity}
				if _, r, err := env.Store.ApplyCallEventFrom(ctx, seen, sweep); err != nil || r != ringfence.ResultFirstTerminal {
					t.Fatalf("sweep: %v, %v", r, err)
				}
			}
			for _, ev := range tc.before {
				if _, _, err := env.Store.ApplyCallEvent(ctx, c.ID, ev); err != nil {
					t.Fatal(err)
				}
			}
			racing := env.Reopen(beforeWrite(func() {
				if _, _, err := env.Store.ApplyCallEvent(ctx, c.ID, tc.between); err != nil {
					t.Errorf("the delivery in between: %v", err)
				}
			}))
			if _, r, err := racing.ApplyCallEvent(ctx, c.ID, tc.late); err != nil || r != ringfence.ResultDuplicate {
				t.Fatalf("late delivery: %v, %v; want %v", r, err, ringfence.ResultDuplicate)
			}
			call, err := env.Store.GetCall(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			cmp, err := env.Store.GetCampaign(ctx, "acct", campaign.ID)
			if err != nil {
				t.Fatal(err)
			}
			got := state{transcript: call.Transcript, recording: call.RecordingURL, extracted: call.ExtractedData, reportAt: call.ReportAt,
				total: cmp.TotalCost.String(), completed: cmp.OutcomeCounts[ringfence.StatusCompleted], failed: cmp.OutcomeCounts[ringfence.StatusFailed]}
			if call.Cost != nil {
				got.cost = call.Cost.String()
			}
			if got != tc.want {
				t.Fatalf("after the late delivery: %+v, want %+v", got, tc.want)
			}
			if cmp.CallsCompleted != 1 {
				t.Fatalf("calls_completed=%d, want 1", cmp.CallsCompleted)
			}
		})
	}
}

// Invariant 4 (no blind overwrites) and the campaign's "one call per contact": a contact that has
// its call cannot be given a second one under another call id, however it is created.
func TestContactGetsOneCall(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	_, calls := MustCampaignWithCalls(t, env.Store, 1)
	second := calls[0]
	second.ID, second.ProviderCallID = dynamo.NewID("call"), ""
	if err := env.Store.CreateCall(ctx, second); ringfence.ErrorCode(err) != ringfence.ECONFLICT {
		t.Fatalf("CreateCall of a second call for the contact: err=%v, want %s", err, ringfence.ECONFLICT)
	}
	second.ID = dynamo.NewID("call")
	if _, err := env.Store.EnqueueCall(ctx, second, ringfence.SlotCampaign); ringfence.ErrorCode(err) != ringfence.ECONFLICT {
		t.Fatalf("EnqueueCall of a second call for the contact: err=%v, want %s", err, ringfence.ECONFLICT)
	}
}

// The seed's "Call context not found", and invariant 4: an inbound call's context is set by the
// write that creates the call, and a second creation (the other of webhook and function call)
// fills it in only where it is missing, never replacing it.
func TestInboundContextIsSetOnce(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	c := ringfence.Call{ID: ringfence.InboundCallID(ringfence.ProviderBolna, "in-1"), AccountID: "acct", Provider: ringfence.ProviderBolna,
		ProviderCallID: "in-1", Status: ringfence.StatusInitiated, Direction: ringfence.Inbound, ToNumber: "+14155550100", FromNumber: "+14155550111",
		Context: ringfence.CallContext{CompanyID: "co_a", BranchID: "br_a", Greeting: "Hello from A"}}
	if _, err := env.Store.CreateInboundCall(ctx, c); err != nil {
		t.Fatal(err)
	}
	again := c
	again.Context = ringfence.CallContext{CompanyID: "co_b", BranchID: "br_b", Greeting: "Hello from B"}
	got, err := env.Store.CreateInboundCall(ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	if got.Context.CompanyID != "co_a" || got.Context.Greeting != "Hello from A" {
		t.Fatalf("context=%+v, want the first one's", got.Context)
	}
}

// Invariant 6 (a background job may overlap with itself): a campaign whose last call ended is
// completed once, when the webhook that ended it and a sweep both complete it, the sweep's
// write landing after the webhook's. Only the condition that the campaign is still running
// stops the second completion.
func TestCampaignCompletesOnce(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	campaign, calls := MustCampaignWithCalls(t, env.Store, 1)
	if _, err := env.Store.StartCampaign(ctx, "acct", campaign.ID); err != nil {
		t.Fatal(err)
	}
	if done, err := env.Store.CompleteCampaignIfDone(ctx, campaign.ID); err != nil || done {
		t.Fatalf("completed before its call ended: %v, %v", done, err)
	}
	if _, _, err := env.Store.ApplyCallEvent(ctx, calls[0].ID, ringfence.CallEvent{Provider: ringfence.ProviderBolna, Status: ringfence.StatusBusy}); err != nil {
		t.Fatal(err)
	}
	first := false
	racing := env.Reopen(beforeWrite(func() {
		done, err := env.Store.CompleteCampaignIfDone(ctx, campaign.ID)
		if err != nil {
			t.Errorf("the first completion: %v", err)
		}
		first = done
	}))
	second, err := racing.CompleteCampaignIfDone(ctx, campaign.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !first || second {
		t.Fatalf("completed=%v, %v; want true, false", first, second)
	}
	got, err := env.Store.GetCampaign(ctx, "acct", campaign.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != ringfence.CampaignCompleted {
		t.Fatalf("status=%v, want %v", got.Status, ringfence.CampaignCompleted)
	}
}

// Invariant 1 (a decision is a condition): a campaign completes only while every contact has
// ended. Contacts can be added to a running campaign, so the completion's own condition, not the
// read before it, decides: contacts added between that read and the write keep it running.
func TestCampaignWithNewContactsDoesNotComplete(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	campaign, calls := MustCampaignWithCalls(t, env.Store, 1)
	if _, err := env.Store.StartCampaign(ctx, "acct", campaign.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := env.Store.ApplyCallEvent(ctx, calls[0].ID, ringfence.CallEvent{Provider: ringfence.ProviderBolna, Status: ringfence.StatusBusy}); err != nil {
		t.Fatal(err)
	}
	racing := env.Reopen(beforeWrite(func() {
		added, err := env.Store.AddContacts(ctx, "acct", campaign.ID, []ringfence.Contact{{Name: "late", Phone: "+14155559999"}})
		if err != nil || added != 1 {
			t.Errorf("AddContacts: %d, %v; want 1 added", added, err)
		}
	}))
	done, err := racing.CompleteCampaignIfDone(ctx, campaign.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := env.Store.GetCampaign(ctx, "acct", campaign.ID)
	if err != nil {
		t.Fatal(err)
	}
	if done || got.Status != ringfence.CampaignRunning || got.TotalContacts != 2 {
		t.Fatalf("completed=%v status=%v total_contacts=%d; want a running campaign of 2 contacts", done, got.Status, got.TotalContacts)
	}
}

// Invariant 5: an account with a limit of 0 places no call, not even the first one.
func TestNoSlotAtLimitZero(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	if _, err := env.Store.CreateCallWithSlot(context.Background(), directCall(1), ringfence.SlotDirect, 0); !errors.Is(err, ringfence.ErrAtLimit) {
		t.Fatalf("err=%v, want ErrAtLimit", err)
	}
	if inUse, held := MustSlotsInUse(t, env.Store, "acct", ringfence.SlotDirect); inUse != 0 || len(held) != 0 {
		t.Fatalf("in_use=%d held=%d, want 0 and 0", inUse, len(held))
	}
}
