package calling_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ringfence/ringfence/infra/simulator"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// A campaign of 50 contacts with a campaign limit of 5: never more than 5 calls in flight, every
// contact dialled exactly once, exact counters, and no slot held at the end.
func TestCampaignRunsWithinItsLimit(t *testing.T) {
	s := MustStack(t, simulator.Options{CallLength: 20 * time.Millisecond, Seed: 42}, 5, 5)
	var c campaignView
	s.do(t, "POST", "/campaigns", `{"name":"fifty","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100","contacts":`+contacts(50)+`}`, 201, &c)

	// Watch the slots while the campaign runs.
	stop := make(chan struct{})
	var watch sync.WaitGroup
	maxInUse := 0
	watch.Add(1)
	go func() {
		defer watch.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			counts, _, err := s.env.Store.ListSlots(context.Background(), "acct_test")
			if err == nil {
				maxInUse = max(maxInUse, counts[ringfence.SlotCampaign])
			}
		}
	}()
	var started struct{ Queued, Dialled int }
	s.do(t, "POST", "/campaigns/"+c.ID+"/start", "", 202, &started)
	// The start queues one page and dials up to the limit; a call that already ended lets its own
	// webhook dial the next one, so the start itself may dial fewer than 5. The dispatcher queues
	// the rest.
	if started.Queued != dynamo.QueueBatch || started.Dialled < 1 || started.Dialled > 5 {
		t.Fatalf("start queued=%d dialled=%d, want %d and 1 to 5", started.Queued, started.Dialled, dynamo.QueueBatch)
	}
	s.dispatchEvery(t, 500*time.Millisecond)
	waitFor(t, 90*time.Second, "all 50 calls to end", func() bool {
		var got campaignView
		s.do(t, "GET", "/campaigns/"+c.ID, "", 200, &got)
		return got.CallsCompleted == 50
	})
	s.sim.Wait()
	close(stop)
	watch.Wait()

	st := s.sim.Stats()
	if st.MaxInFlight > 5 || maxInUse > 5 {
		t.Fatalf("max in flight at the provider=%d, max slots in use=%d, want at most 5", st.MaxInFlight, maxInUse)
	}
	if st.Placed != 50 || len(st.DialsPerNumber) != 50 {
		t.Fatalf("placed=%d numbers=%d, want 50 and 50", st.Placed, len(st.DialsPerNumber))
	}
	for number, n := range st.DialsPerNumber {
		if n != 1 {
			t.Fatalf("%s dialled %d times, want once", number, n)
		}
	}
	if len(st.Failures) != 0 {
		t.Fatalf("webhook deliveries failed: %v", st.Failures)
	}
	want := map[string]int{}
	var cost ringfence.Decimal
	for _, script := range st.Scripts {
		want[string(script.Outcome)]++
		cost = cost.Add(script.Cost)
	}
	var got campaignView
	s.do(t, "GET", "/campaigns/"+c.ID, "", 200, &got)
	for _, o := range ringfence.Outcomes {
		if got.Outcomes[string(o)] != want[string(o)] {
			t.Fatalf("outcomes=%v, want %v", got.Outcomes, want)
		}
	}
	if got.TotalCost != cost.String() {
		t.Fatalf("total_cost=%s, want %s", got.TotalCost, cost)
	}
	var slots slotsView
	s.do(t, "GET", "/slots", "", 200, &slots)
	if slots.Slots["campaign"].InUse != 0 || len(slots.Held) != 0 || slots.Slots["campaign"].Limit != 5 {
		t.Fatalf("slots=%+v, want 0 in use of 5 and none held", slots)
	}
	// The last call's end completed the campaign; it cannot be started again.
	if got.Status != "completed" {
		t.Fatalf("campaign status=%s, want completed", got.Status)
	}
	s.do(t, "POST", "/campaigns/"+c.ID+"/start", "", 409, nil)
	if s.sim.Stats().Placed != 50 {
		t.Fatalf("placed=%d after a second start, want 50", s.sim.Stats().Placed)
	}
}

// A provider that refuses the call: the call fails and its slot is released, in one write.
func TestProviderRefusalLeavesNoSlotHeld(t *testing.T) {
	s := MustStack(t, simulator.Options{Refuse: map[string]bool{"+14155559999": true}}, 2, 2)
	var c callView
	s.do(t, "POST", "/calls", `{"to":"+14155559999","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100","metadata":{"order":42}}`, 201, &c)
	if c.Status != "failed" || c.Outcome != "failed" || c.EndReason == "" {
		t.Fatalf("call=%+v, want failed with an end reason", c)
	}
	var slots slotsView
	s.do(t, "GET", "/slots", "", 200, &slots)
	if slots.Slots["direct"].InUse != 0 || len(slots.Held) != 0 {
		t.Fatalf("slots=%+v, want none held", slots)
	}
}

// A provider that places the call but whose answer is lost: the call is kept, dialing, with its
// slot and the reason, and is not dialled again; its webhooks, which carry ringfence's call id,
// then settle it and release the slot.
func TestLostDialAnswerIsNeverRedialled(t *testing.T) {
	s := MustStack(t, simulator.Options{DropAnswer: true, CallLength: 2 * time.Second}, 2, 2)
	var c callView
	s.do(t, "POST", "/calls", `{"to":"+14155550101","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100"}`, 201, &c)
	got, err := s.env.Store.GetCall(context.Background(), c.ID)
	if err != nil || got.Status != ringfence.StatusDialing || got.SlotKind != ringfence.SlotDirect || got.DialError == "" {
		t.Fatalf("call=%+v err=%v, want dialing with its slot and the reason", got, err)
	}
	s.sim.Wait()
	var after callView
	s.do(t, "GET", "/calls/"+c.ID, "", 200, &after)
	if after.Outcome == "" || after.ProviderCallID == "" || s.sim.Stats().Placed != 1 {
		t.Fatalf("call=%+v placed=%d, want settled by its webhooks after one dial", after, s.sim.Stats().Placed)
	}
	var slots slotsView
	s.do(t, "GET", "/slots", "", 200, &slots)
	if slots.Slots["direct"].InUse != 0 {
		t.Fatalf("direct slots in use=%d, want 0", slots.Slots["direct"].InUse)
	}
}

// Direct calls past the limit wait in the queue with their position and are dialled as slots
// free up.
func TestDirectCallsQueueAtTheLimit(t *testing.T) {
	s := MustStack(t, simulator.Options{CallLength: 2 * time.Second}, 1, 1)
	var first, second, third callView
	body := func(n int) string {
		return `{"to":"+1415555010` + string(rune('0'+n)) + `","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100"}`
	}
	s.do(t, "POST", "/calls", body(1), 201, &first)
	s.do(t, "POST", "/calls", body(2), 202, &second)
	s.do(t, "POST", "/calls", body(3), 202, &third)
	if first.ProviderCallID == "" || second.Status != "queued" || second.Position != 1 || third.Position != 2 {
		t.Fatalf("first=%+v second=%+v third=%+v", first, second, third)
	}
	waitFor(t, 30*time.Second, "the queued calls to be dialled and end", func() bool {
		var c callView
		s.do(t, "GET", "/calls/"+third.ID, "", 200, &c)
		return c.Outcome != ""
	})
	s.sim.Wait()
	if st := s.sim.Stats(); st.Placed != 3 || st.MaxInFlight != 1 {
		t.Fatalf("placed=%d max in flight=%d, want 3 and 1", st.Placed, st.MaxInFlight)
	}
	var slots slotsView
	s.do(t, "GET", "/slots", "", 200, &slots)
	if slots.Slots["direct"].InUse != 0 {
		t.Fatalf("direct slots in use=%d, want 0", slots.Slots["direct"].InUse)
	}
}

// A webhook that arrives before the dial's answer is recorded is applied: through the call id it
// echoes, or, when it carries only the provider's id, parked and applied when the id is recorded.
func TestEarlyWebhookIsApplied(t *testing.T) {
	for _, omit := range []bool{false, true} {
		s := MustStack(t, simulator.Options{WebhookBeforeAnswer: true, OmitCallID: omit, Seed: 5}, 5, 5)
		var c callView
		s.do(t, "POST", "/calls", `{"to":"+14155550111","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100"}`, 201, &c)
		s.sim.Wait()
		var got callView
		s.do(t, "GET", "/calls/"+c.ID, "", 200, &got)
		want := string(simulator.OutcomeFor("+14155550111"))
		if got.Outcome != want || got.ProviderCallID == "" {
			t.Fatalf("omit call id=%v: call=%+v, want outcome %s", omit, got, want)
		}
		parked, err := s.env.Store.ParkedEvents(context.Background(), ringfence.ProviderBolna, got.ProviderCallID)
		if err != nil || len(parked) != 0 {
			t.Fatalf("omit call id=%v: %d events still parked (err %v)", omit, len(parked), err)
		}
	}
}

// Two dispatchers draining one queue at once dial each call once.
func TestConcurrentDispatchersDialEachCallOnce(t *testing.T) {
	s := MustStack(t, simulator.Options{CallLength: time.Second}, 30, 30)
	ctx := context.Background()
	var calls []ringfence.Call
	for i := range 30 {
		calls = append(calls, ringfence.Call{ID: dynamo.NewID("call"), AccountID: "acct_test", Provider: ringfence.ProviderBolna,
			AgentID: "agent-1", FromNumber: "+14155550100", ToNumber: "+1415555" + string(rune('0'+i/10)) + "00" + string(rune('0'+i%10))})
	}
	if n, err := s.env.Store.EnqueueCalls(ctx, calls, ringfence.SlotDirect); err != nil || n != 30 {
		t.Fatalf("enqueued=%d err=%v", n, err)
	}
	var wg sync.WaitGroup
	dialled := make([]int, 3)
	for i := range dialled {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := s.fn("dispatcher").Calling.Drain(ctx, "acct_test", ringfence.SlotDirect, 30)
			if err != nil {
				t.Error(err)
			}
			dialled[i] = n
		}()
	}
	wg.Wait()
	// Calls that end while the dispatchers run free slots that their webhooks' own drains use, so
	// the dispatchers' counts add up to 30 or fewer; the provider must still see each call once.
	s.sim.Wait()
	st := s.sim.Stats()
	if dialled[0]+dialled[1]+dialled[2] > 30 || st.Placed != 30 || len(st.DialsPerNumber) != 30 {
		t.Fatalf("dialled=%v placed=%d numbers=%d, want 30 placed, each number once", dialled, st.Placed, len(st.DialsPerNumber))
	}
}
