package httpapi_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// The storm again, with one DynamoDB request in ten failing (throttled before it runs, or its
// response lost after it ran). A delivery whose application fails is kept and answered 202;
// the handler answers 5xx only when even keeping it failed, where a retry is safe, and never 4xx
// for a valid delivery. Once the sweep has applied the kept events, counters and cost come out
// exact, and every slot the calls held is released.
func TestStormWithFaultsConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("the fault storm is skipped in -short mode")
	}
	h := MustHarness(t)
	ctx := context.Background()
	const n = 60
	contacts := make([]ringfence.Contact, n)
	for i := range contacts {
		contacts[i] = ringfence.Contact{Phone: fmt.Sprintf("+1415555%04d", i)}
	}
	campaign, err := h.env.Store.CreateCampaign(ctx, ringfence.Campaign{ID: dynamo.NewID("cmp"), AccountID: "acct_test", Name: "faults", Provider: ringfence.ProviderBolna, AgentID: "a", FromNumber: "+14155550100"}, contacts)
	if err != nil {
		t.Fatal(err)
	}
	var calls []ringfence.Call
	for i := range contacts {
		c, err := h.env.Store.CreateCallWithSlot(ctx, ringfence.Call{ID: dynamo.NewID("call"), AccountID: "acct_test", CampaignID: campaign.ID, ContactID: dynamo.ContactID(i), Provider: ringfence.ProviderBolna}, ringfence.SlotCampaign, n)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.env.Store.RecordProviderCallID(ctx, c.ID, fmt.Sprintf("%s-exec-%d", campaign.ID, i)); err != nil {
			t.Fatal(err)
		}
		c.ProviderCallID = fmt.Sprintf("%s-exec-%d", campaign.ID, i)
		calls = append(calls, c)
	}
	rng := rand.New(rand.NewPCG(17, 19))
	reqs, want, cost := h.scriptCampaign(t, rng, calls, ringfence.Outcomes)

	faulty := h.serverWith(dynamotest.FailRandomly(0.10, 23)).BolnaWebhook()
	var attempts, failures, kept atomic.Int64
	var wg sync.WaitGroup
	work := make(chan events.APIGatewayV2HTTPRequest)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for req := range work {
				for try := 0; ; try++ {
					attempts.Add(1)
					resp := invoke(t, faulty, req)
					if resp.StatusCode == 202 && resp.Body == `{"result":"kept"}` {
						kept.Add(1)
						break // Answered: the provider does not deliver it again.
					}
					if resp.StatusCode == 200 {
						break
					}
					failures.Add(1)
					if resp.StatusCode < 500 || try == 30 {
						t.Errorf("delivery answered %d (try %d): %s", resp.StatusCode, try, resp.Body)
						break
					}
					time.Sleep(time.Duration(1+try) * time.Millisecond) // The provider retries.
				}
			}
		}()
	}
	for _, r := range reqs {
		work <- r
	}
	close(work)
	wg.Wait()
	t.Logf("%d deliveries, %d attempts, %d kept, %d answered 5xx and retried", len(reqs), attempts.Load(), kept.Load(), failures.Load())
	if kept.Load() == 0 {
		t.Fatal("no delivery was kept: the faults were not injected")
	}
	r, err := h.calls.Sweep(ctx, time.Now())
	if err != nil || r.KeptEventsApplied == 0 {
		t.Fatalf("sweep: %+v, %v; want the kept events applied", r, err)
	}
	h.assertCounters(t, campaign.ID, n, want, cost)
	counts, held, err := h.env.Store.ListSlots(ctx, "acct_test")
	if err != nil || counts[ringfence.SlotCampaign] != 0 || len(held) != 0 {
		t.Fatalf("slots in use=%d held=%d (%v), want none", counts[ringfence.SlotCampaign], len(held), err)
	}
}
