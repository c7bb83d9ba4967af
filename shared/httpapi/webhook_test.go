package httpapi_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/infra/simulator"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// deliverAll sends every request to the Bolna webhook from `senders` goroutines at once and
// fails the test on any response other than 200.
func (h *harness) deliverAll(t *testing.T, reqs []events.APIGatewayV2HTTPRequest, senders int) {
	t.Helper()
	work := make(chan events.APIGatewayV2HTTPRequest)
	var wg sync.WaitGroup
	handler := h.srv.BolnaWebhook()
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for req := range work {
				if resp := invoke(t, handler, req); resp.StatusCode != 200 {
					t.Errorf("delivery status=%d body=%s", resp.StatusCode, resp.Body)
				}
			}
		}()
	}
	for _, r := range reqs {
		work <- r
	}
	close(work)
	wg.Wait()
}

// scriptCampaign scripts the simulator's deliveries for every call, cycling through outcomes, and
// returns them interleaved in random order with the expected counts and cost.
func (h *harness) scriptCampaign(t *testing.T, rng *rand.Rand, calls []ringfence.Call, outcomes []ringfence.CallStatus) ([]events.APIGatewayV2HTTPRequest, map[string]int, ringfence.Decimal) {
	var reqs []events.APIGatewayV2HTTPRequest
	want := map[string]int{}
	var cost ringfence.Decimal
	start := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	for i, c := range calls {
		s := simulator.BolnaScript(rng, c.ProviderCallID, "", outcomes[i%len(outcomes)], start)
		for _, body := range s.Deliveries {
			reqs = append(reqs, bolnaDelivery(t, body))
		}
		want[string(s.Outcome)]++
		cost = cost.Add(s.Cost)
	}
	rng.Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })
	return reqs, want, cost
}

func (h *harness) assertCounters(t *testing.T, campaignID string, calls int, want map[string]int, cost ringfence.Decimal) {
	t.Helper()
	got := h.MustGetCampaign(t, campaignID)
	if got.CallsCompleted != calls {
		t.Fatalf("calls_completed=%d, want %d", got.CallsCompleted, calls)
	}
	for _, o := range ringfence.Outcomes {
		if got.Outcomes[string(o)] != want[string(o)] {
			t.Fatalf("outcomes[%s]=%d, want %d (all: %v)", o, got.Outcomes[string(o)], want[string(o)], got.Outcomes)
		}
	}
	if got.TotalCost != cost.String() {
		t.Fatalf("total_cost=%s, want %s", got.TotalCost, cost)
	}
}

// The field failure: 3 calls, 12 webhooks each, many at the same instant, in random order and
// with duplicates. The campaign must end at exactly 3/3 with the exact cost.
func TestSeedScenarioEndsAtThreeOfThree(t *testing.T) {
	h := MustHarness(t)
	campaign, calls := h.MustCreateCampaign(t, 3)
	rng := rand.New(rand.NewPCG(1, 2))
	reqs, want, cost := h.scriptCampaign(t, rng, calls, []ringfence.CallStatus{ringfence.StatusCompleted})
	h.deliverAll(t, reqs, len(reqs))
	h.assertCounters(t, campaign.ID, 3, want, cost)

	// Every delivery again, all at once: nothing moves.
	h.deliverAll(t, reqs, len(reqs))
	h.assertCounters(t, campaign.ID, 3, want, cost)
}

// A storm of 200 calls × 12 deliveries with every outcome, 64 concurrent senders.
func TestStormCountsEveryCallOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("storm is skipped in -short mode")
	}
	h := MustHarness(t)
	campaign, calls := h.MustCreateCampaign(t, 200)
	rng := rand.New(rand.NewPCG(7, 11))
	reqs, want, cost := h.scriptCampaign(t, rng, calls, ringfence.Outcomes)
	h.deliverAll(t, reqs, 64)
	h.assertCounters(t, campaign.ID, 200, want, cost)

	// Each call's own record agrees with the campaign's counters.
	var sum ringfence.Decimal
	for _, c := range calls {
		got, err := h.env.Store.GetCall(context.Background(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Status.IsTerminal() || got.Cost == nil {
			t.Fatalf("call %s status=%s cost=%v, want terminal with a cost", c.ID, got.Status, got.Cost)
		}
		sum = sum.Add(*got.Cost)
	}
	if sum.Cmp(cost) != 0 {
		t.Fatalf("sum of call costs=%s, want %s", sum, cost)
	}
}
