package calling_test

import (
	"context"
	"fmt"
	"github.com/ringfence/ringfence/shared/app"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringfence/ringfence/infra/simulator"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// A 429 storm: two campaigns whose max_concurrency add up to more than the provider lets the
// account run. Every refused dial goes back to the queue with its slot released; no contact
// fails, every number is placed once, the outcomes are exactly the calls' own, and neither
// campaign ever holds more calls in flight than its max_concurrency.
func TestProviderLimitStormFailsNoContactAndKeepsMaxConcurrency(t *testing.T) {
	s := MustStack(t, simulator.Options{CallLength: 200 * time.Millisecond, Seed: 11, CallLimit: 2}, 5, 10)
	s.each(func(a *app.App) { a.Calling.BusyBackoff = 20 * time.Millisecond })
	ctx := context.Background()
	s.do(t, "POST", "/campaigns", `{"name":"x","provider":"bolna","agent_id":"a","from_number":"+14155550100","max_concurrency":11,"contacts":[{"phone":"+14155550101"}]}`, 400, nil)

	create := func(name, provider, from string, maxConcurrency int, prefix string) campaignView {
		parts := make([]string, 15)
		for i := range parts {
			parts[i] = fmt.Sprintf(`{"name":"%s %d","phone":"%s%04d"}`, name, i, prefix, i)
		}
		var c campaignView
		s.do(t, "POST", "/campaigns", fmt.Sprintf(`{"name":%q,"provider":%q,"agent_id":"agent-1","from_number":%q,"max_concurrency":%d,"contacts":[%s]}`,
			name, provider, from, maxConcurrency, strings.Join(parts, ",")), 201, &c)
		return c
	}
	// Bolna answers its limit with a 429, Vapi with concurrencyBlocked.
	a, b := create("a", "bolna", "+14155550100", 2, "+1415555"), create("b", "vapi", "phone-number-1", 3, "+1415666")

	stop := make(chan struct{})
	var watch sync.WaitGroup
	maxA, maxB := 0, 0
	watch.Add(1)
	go func() {
		defer watch.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			if c, err := s.env.Store.CampaignByID(ctx, a.ID); err == nil {
				maxA = max(maxA, c.InFlight)
			}
			if c, err := s.env.Store.CampaignByID(ctx, b.ID); err == nil {
				maxB = max(maxB, c.InFlight)
			}
		}
	}()
	s.do(t, "POST", "/campaigns/"+a.ID+"/start", "", 202, nil)
	s.do(t, "POST", "/campaigns/"+b.ID+"/start", "", 202, nil)
	s.dispatchEvery(t, 100*time.Millisecond)
	var gotA, gotB campaignView
	waitFor(t, 120*time.Second, "both campaigns to finish", func() bool {
		s.do(t, "GET", "/campaigns/"+a.ID, "", 200, &gotA)
		s.do(t, "GET", "/campaigns/"+b.ID, "", 200, &gotB)
		return gotA.CallsCompleted == 15 && gotB.CallsCompleted == 15
	})
	s.sim.Wait()
	close(stop)
	watch.Wait()

	st := s.sim.Stats()
	if st.Busy == 0 {
		t.Fatalf("the provider refused no dial for its limit: no storm was tested")
	}
	if maxA > 2 || maxB > 3 {
		t.Fatalf("max in flight a=%d b=%d, want at most 2 and 3", maxA, maxB)
	}
	if st.Placed != 30 || len(st.DialsPerNumber) != 30 {
		t.Fatalf("placed=%d numbers=%d, want 30 and 30", st.Placed, len(st.DialsPerNumber))
	}
	want := map[string]int{}
	for _, script := range st.Scripts {
		want[string(script.Outcome)]++
	}
	for _, o := range ringfence.Outcomes {
		if gotA.Outcomes[string(o)]+gotB.Outcomes[string(o)] != want[string(o)] {
			t.Fatalf("outcomes a=%v b=%v, want together %v (no contact failed for the provider's limit)", gotA.Outcomes, gotB.Outcomes, want)
		}
	}
	if gotA.Attempts != 15 || gotB.Attempts != 15 {
		t.Fatalf("attempts a=%d b=%d, want 15 each: a refused dial spends none", gotA.Attempts, gotB.Attempts)
	}
	var slots slotsView
	s.do(t, "GET", "/slots", "", 200, &slots)
	if slots.Slots["campaign"].InUse != 0 || len(slots.Held) != 0 {
		t.Fatalf("slots=%+v, want none held", slots)
	}
	t.Logf("%d dials refused for the provider's limit", st.Busy)
}

// A call the provider ended for its own concurrency limit (CallEvent.AtCapacity) does not fail
// its contact and spends no attempt: the contact's call is queued again with a backoff, dialled
// again, and the contact's outcome is that call's.
func TestCallEndedAtCapacityIsQueuedAgain(t *testing.T) {
	s := MustStack(t, simulator.Options{Silent: true}, 5, 1)
	ctx := context.Background()
	clock := time.Now()
	s.setStoreNow(func() time.Time { return clock })
	var c campaignView
	s.do(t, "POST", "/campaigns", `{"name":"cap","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100",
		"retry":{"statuses":["no-answer"],"max_attempts":1},"contacts":[{"phone":"+14155550001"}]}`, 201, &c)
	s.do(t, "POST", "/campaigns/"+c.ID+"/start", "", 202, nil)
	first := "call_" + strings.TrimPrefix(c.ID, "cmp_") + "_" + dynamo.ContactID(0)
	end := func(callID string, ev ringfence.CallEvent) {
		t.Helper()
		call, err := s.env.Store.GetCall(ctx, callID)
		if err != nil || call.ProviderCallID == "" {
			t.Fatalf("call %s not dialled: %+v, %v", callID, call.Status, err)
		}
		ev.Provider, ev.CallID, ev.ProviderCallID = ringfence.ProviderBolna, callID, call.ProviderCallID
		for range 2 {
			if _, _, err := s.fn("bolna-webhook").Calling.ApplyEvent(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	end(first, ringfence.CallEvent{Status: ringfence.StatusFailed, EndReason: "concurrency_limit_reached", AtCapacity: true})
	var got campaignView
	s.do(t, "GET", "/campaigns/"+c.ID, "", 200, &got)
	if got.CallsCompleted != 0 || got.Outcomes["failed"] != 0 || got.Status != "running" {
		t.Fatalf("campaign=%+v, want nothing finished after an end at capacity", got)
	}
	if n, err := s.fn("dispatcher").Calling.Drain(ctx, "acct_test", ringfence.SlotCampaign, 5); err != nil || n != 0 {
		t.Fatalf("dialled %d (%v) before the backoff, want 0", n, err)
	}
	clock = clock.Add(6 * time.Second)
	if n, err := s.fn("dispatcher").Calling.Drain(ctx, "acct_test", ringfence.SlotCampaign, 5); err != nil || n != 1 {
		t.Fatalf("dialled %d (%v) after the backoff, want 1", n, err)
	}
	end(first+"_r1", ringfence.CallEvent{Status: ringfence.StatusCompleted})
	s.do(t, "GET", "/campaigns/"+c.ID, "", 200, &got)
	if got.CallsCompleted != 1 || got.Outcomes["completed"] != 1 || got.Outcomes["failed"] != 0 || got.Attempts != 2 || got.Status != "completed" {
		t.Fatalf("campaign=%+v, want one contact completed, two calls placed", got)
	}
}
