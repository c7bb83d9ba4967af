package dynamo_test

import (
	"context"
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

// A number's route belongs to the account that put it first (invariant 4, no blind overwrites):
// another account cannot take it over, and the owner can still change it.
func TestNumberBelongsToItsAccount(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	route := ringfence.NumberRoute{Number: "+14155550199", AccountID: "acct_a", CompanyID: "co_a", AgentID: "agent-a"}
	if _, err := env.Store.PutNumber(ctx, route); err != nil {
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
