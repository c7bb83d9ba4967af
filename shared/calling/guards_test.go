package calling_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/ringfence/ringfence/infra/simulator"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// Invariant 5 (claim before the side effect) and the seed's "4 welcome calls", with slots free to
// dial: a customer's welcome call queued twice under two call ids (imported twice, as the legacy
// data was) reaches the dispatcher twice, past the schedule record and the derived call id that
// stop a second attempt elsewhere. Only the customer's claim, taken before the provider is
// called, keeps the second entry from dialling.
func TestWelcomeCallQueuedTwiceIsDialledOnce(t *testing.T) {
	s := MustStack(t, simulator.Options{Silent: true}, 5, 5)
	ctx := context.Background()
	cu := vapiCustomer(1)
	if _, err := s.env.Store.CreateCustomer(ctx, cu, time.Time{}); err != nil {
		t.Fatal(err)
	}
	sc := ringfence.ScheduledCall{CustomerID: cu.ID, Type: ringfence.CallWelcome, LocalDate: "2026-11-21", Attempt: 1}
	for i := range 2 {
		call := ringfence.Call{ID: fmt.Sprintf("call_imported_%d", i), AccountID: cu.AccountID, Provider: cu.Provider, AgentID: cu.AgentID,
			FromNumber: cu.FromNumber, ToNumber: cu.Phone, Direction: ringfence.Outbound, Schedule: &sc}
		if _, err := s.env.Store.EnqueueCall(ctx, call, ringfence.SlotDirect); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if _, err := s.fn("dispatcher").Calling.DrainAll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if st := s.sim.Stats(); st.Placed != 1 || st.DialsPerNumber[cu.Phone] != 1 {
		t.Fatalf("placed=%d dials to %s=%d, want 1 and 1", st.Placed, cu.Phone, st.DialsPerNumber[cu.Phone])
	}
	got, err := s.env.Store.GetCustomer(ctx, cu.ID)
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[ringfence.CallStatus]int{}
	for i := range 2 {
		call, err := s.env.Store.GetCall(ctx, fmt.Sprintf("call_imported_%d", i))
		if err != nil {
			t.Fatal(err)
		}
		statuses[call.Status]++
		if call.Status == ringfence.StatusCancelled && call.ID == got.WelcomeCallID {
			t.Fatalf("the cancelled call %s holds the claim", call.ID)
		}
	}
	if statuses[ringfence.StatusCancelled] != 1 || got.WelcomeCallID == "" {
		t.Fatalf("statuses=%v claim=%q, want one call skipped and the claim held by the other", statuses, got.WelcomeCallID)
	}
}

// Invariant 10 (the provider is the source of truth), through the service: the sweep reads a
// quiet call and judges it stale; the provider's "in-progress" webhook is then delivered over
// HTTP, and only then is the sweep's write sent. The sweep must stand down: the call stays in
// progress, is not counted, and keeps its place. An SDK middleware holds the sweep's write (the
// transaction that would mark the call ended_stale) until the webhook has been applied.
func TestWebhookDuringSweepWriteWins(t *testing.T) {
	var deliver func()
	sweepsWrite := func(in *dynamodb.TransactWriteItemsInput) bool {
		for _, item := range in.TransactItems {
			if item.Update == nil {
				continue
			}
			for _, name := range item.Update.ExpressionAttributeNames {
				if name == "ended_stale" {
					return true
				}
			}
		}
		return false
	}
	s := MustStack(t, simulator.Options{Silent: true}, 5, 5, dynamotest.BeforeFirst(sweepsWrite, func() { deliver() }))
	c := MustStaleCampaign(t, s.env.Store, 1)
	callID, execID := fmt.Sprintf("call_%s_0", c.ID), fmt.Sprintf("%s-exec-0", c.ID)
	delivered := ""
	deliver = func() { delivered = s.deliverBolna(t, []byte(`{"id":"`+execID+`","status":"in-progress"}`)) }
	ctx := context.Background()
	r, err := s.fn("sweeper").Calling.Sweep(ctx, time.Now().Add(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if delivered == "" {
		t.Fatal("the sweep never tried to end the call, so the race was not run")
	}
	if r.CallsExamined != 1 || r.CallsEnded != 0 {
		t.Fatalf("sweep=%+v, want the call examined and not ended", r)
	}
	got, err := s.env.Store.GetCall(ctx, callID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != ringfence.StatusInProgress || got.EndedStale {
		t.Fatalf("call status=%v ended_stale=%v, want in-progress and not swept", got.Status, got.EndedStale)
	}
	var campaign campaignView
	s.do(t, "GET", "/campaigns/"+c.ID, "", 200, &campaign)
	if campaign.CallsCompleted != 0 || campaign.Status != "running" {
		t.Fatalf("campaign=%+v, want running with no call counted", campaign)
	}
}
