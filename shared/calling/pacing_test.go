package calling_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringfence/ringfence/infra/simulator"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// A 429 storm: two campaigns whose max_concurrency add up to more than the provider lets the
// account run. Every refused dial goes back to the queue with its slot released; no contact
// fails, every number is placed once, the outcomes are exactly the calls' own, and neither
// campaign ever holds more calls in flight than its max_concurrency.
func TestProviderLimitStormFailsNoContactAndKeepsMaxConcurrency(t *testing.T) {
	s := MustStack(t, simulator.Options{CallLength: 200 * time.Millisecond, Seed: 11, CallLimit: 2}, 5, 10)
	s.app.Calling.BusyBackoff = 20 * time.Millisecond
	ctx := context.Background()
	s.do(t, "POST", "/campaigns", `{"name":"x","provider":"bolna","agent_id":"a","from_number":"+14155550100","max_concurrency":11,"contacts":[{"phone":"+14155550101"}]}`, 400, nil)

	create := func(name string, maxConcurrency int, prefix string) campaignView {
		parts := make([]string, 15)
		for i := range parts {
			parts[i] = fmt.Sprintf(`{"name":"%s %d","phone":"%s%04d"}`, name, i, prefix, i)
		}
		var c campaignView
		s.do(t, "POST", "/campaigns", fmt.Sprintf(`{"name":%q,"provider":"bolna","agent_id":"agent-1","from_number":"+14155550100","max_concurrency":%d,"contacts":[%s]}`,
			name, maxConcurrency, strings.Join(parts, ",")), 201, &c)
		return c
	}
	a, b := create("a", 2, "+1415555"), create("b", 3, "+1415666")

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
			if c, err := s.app.Store.CampaignByID(ctx, a.ID); err == nil {
				maxA = max(maxA, c.InFlight)
			}
			if c, err := s.app.Store.CampaignByID(ctx, b.ID); err == nil {
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
