package calling_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ringfence/ringfence/infra/simulator"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// Retries: each attempt is its own call, placed once, billed once and numbered; the contact's
// outcome is its last attempt's; a retry waits its delay (the last delay repeating) and is then
// dialled like any queued call; calls_completed and outcomes count contacts, attempts count calls.
func TestRetriesCountAttemptsCostsAndOutcomesExactly(t *testing.T) {
	// The provider places calls and stays silent: the test reports each attempt's end itself.
	s := MustStack(t, simulator.Options{Silent: true}, 5, 5)
	ctx := context.Background()
	clock := time.Now()
	s.setStoreNow(func() time.Time { return clock })
	var c campaignView
	s.do(t, "POST", "/campaigns", `{"name":"retry","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100",
		"retry":{"statuses":["no-answer","busy"],"max_attempts":3,"delays":["30m","2h"]},
		"contacts":[{"name":"A","phone":"+14155550001"},{"name":"B","phone":"+14155550002"},{"name":"C","phone":"+14155550003"}]}`, 201, &c)
	s.do(t, "POST", "/campaigns/"+c.ID+"/start", "", 202, nil)

	callOf := func(contact, attempt int) string {
		return ringfence.AttemptCallID("call_"+strings.TrimPrefix(c.ID, "cmp_")+"_"+dynamo.ContactID(contact), attempt)
	}
	end := func(callID string, status ringfence.CallStatus, cost string) {
		t.Helper()
		call, err := s.env.Store.GetCall(ctx, callID)
		if err != nil {
			t.Fatal(err)
		}
		if call.ProviderCallID == "" {
			t.Fatalf("call %s was not dialled (status %s)", callID, call.Status)
		}
		d, err := ringfence.ParseDecimal(cost)
		if err != nil {
			t.Fatal(err)
		}
		ev := ringfence.CallEvent{Provider: ringfence.ProviderBolna, CallID: callID, ProviderCallID: call.ProviderCallID,
			Status: status, Cost: &d, Version: ringfence.Version(clock)}
		for range 2 { // Every end is delivered twice; the second changes nothing.
			if _, _, err := s.fn("bolna-webhook").Calling.ApplyEvent(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	drain := func(want int) {
		t.Helper()
		n, err := s.fn("dispatcher").Calling.Drain(ctx, "acct_test", ringfence.SlotCampaign, 5)
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Fatalf("dialled %d, want %d", n, want)
		}
	}
	check := func(completed, attempts int, outcomes map[string]int, cost string) {
		t.Helper()
		var got campaignView
		s.do(t, "GET", "/campaigns/"+c.ID, "", 200, &got)
		if got.CallsCompleted != completed || got.Attempts != attempts || got.TotalCost != cost {
			t.Fatalf("campaign completed=%d attempts=%d cost=%s, want %d, %d, %s", got.CallsCompleted, got.Attempts, got.TotalCost, completed, attempts, cost)
		}
		for _, o := range ringfence.Outcomes {
			if got.Outcomes[string(o)] != outcomes[string(o)] {
				t.Fatalf("outcomes=%v, want %v", got.Outcomes, outcomes)
			}
		}
	}

	end(callOf(0, 1), ringfence.StatusCompleted, "0.10")
	end(callOf(1, 1), ringfence.StatusNoAnswer, "0.01")
	end(callOf(2, 1), ringfence.StatusBusy, "0.02")
	check(1, 3, map[string]int{"completed": 1}, "0.13")
	drain(0) // The retries wait their 30 minutes.
	clock = clock.Add(31 * time.Minute)
	drain(2)
	end(callOf(1, 2), ringfence.StatusNoAnswer, "0.01")
	end(callOf(2, 2), ringfence.StatusCompleted, "0.05")
	check(2, 5, map[string]int{"completed": 2}, "0.19")
	clock = clock.Add(31 * time.Minute)
	drain(0) // The second delay is 2 hours.
	clock = clock.Add(90 * time.Minute)
	drain(1)
	end(callOf(1, 3), ringfence.StatusNoAnswer, "0.01")
	check(3, 6, map[string]int{"completed": 2, "no-answer": 1}, "0.2")
	clock = clock.Add(3 * time.Hour)
	drain(0) // Three attempts were the most.

	var got campaignView
	s.do(t, "GET", "/campaigns/"+c.ID, "", 200, &got)
	if got.Status != "completed" {
		t.Fatalf("status=%s, want completed", got.Status)
	}
	var page struct {
		Calls []struct {
			ID      string `json:"id"`
			Attempt int    `json:"attempt"`
			Outcome string `json:"outcome"`
		} `json:"calls"`
	}
	s.do(t, "GET", "/campaigns/"+c.ID+"/calls", "", 200, &page)
	attempts := map[int]int{}
	for _, call := range page.Calls {
		attempts[call.Attempt]++
	}
	if len(page.Calls) != 6 || attempts[1] != 3 || attempts[2] != 2 || attempts[3] != 1 {
		t.Fatalf("calls=%d attempts=%v, want 6: 3 first, 2 second, 1 third", len(page.Calls), attempts)
	}
	contacts, err := s.env.Store.ListContacts(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []ringfence.CallStatus{ringfence.StatusCompleted, ringfence.StatusNoAnswer, ringfence.StatusCompleted}
	for i, ct := range contacts {
		if ct.Outcome != want[i] {
			t.Fatalf("contact %d outcome=%s, want %s", i, ct.Outcome, want[i])
		}
	}
	if placed := s.sim.Stats().Placed; placed != 6 {
		t.Fatalf("placed=%d, want 6", placed)
	}
}
