package dynamo_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/ringfence"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// MustCampaignWithCalls creates a campaign of n contacts and one call per contact whose provider
// call id is "exec-<i>".
func MustCampaignWithCalls(tb testing.TB, s *dynamo.Store, n int) (ringfence.Campaign, []ringfence.Call) {
	tb.Helper()
	ctx := context.Background()
	campaign := ringfence.Campaign{ID: dynamo.NewID("cmp"), AccountID: "acct", Name: "seed", Provider: ringfence.ProviderBolna, AgentID: "agent", FromNumber: "+14155550100"}
	contacts := make([]ringfence.Contact, n)
	for i := range contacts {
		contacts[i] = ringfence.Contact{Name: fmt.Sprintf("contact %d", i), Phone: fmt.Sprintf("+1415555%04d", i)}
	}
	campaign, err := s.CreateCampaign(ctx, campaign, contacts)
	if err != nil {
		tb.Fatalf("CreateCampaign: %v", err)
	}
	calls := make([]ringfence.Call, n)
	for i := range calls {
		calls[i] = ringfence.Call{
			ID: dynamo.NewID("call"), AccountID: "acct", CampaignID: campaign.ID, ContactID: dynamo.ContactID(i),
			Provider: ringfence.ProviderBolna, ProviderCallID: fmt.Sprintf("exec-%d-%s", i, campaign.ID),
			Status: ringfence.StatusInitiated, ToNumber: contacts[i].Phone,
		}
		if err := s.CreateCall(ctx, calls[i]); err != nil {
			tb.Fatalf("CreateCall: %v", err)
		}
	}
	return campaign, calls
}

func decimal(s string) *ringfence.Decimal {
	d := ringfence.MustParseDecimal(s)
	return &d
}

func TestConcurrentTerminalDeliveriesCountOnce(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	campaign, calls := MustCampaignWithCalls(t, env.Store, 3)

	var wg sync.WaitGroup
	results := make(chan ringfence.ApplyResult, 36)
	for _, c := range calls {
		for i := 0; i < 12; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ev := ringfence.CallEvent{Provider: ringfence.ProviderBolna, ProviderCallID: c.ProviderCallID, Status: ringfence.StatusCompleted, Version: "v1", Cost: decimal("0.1271"), Transcript: "hello"}
				_, r, err := env.Store.ApplyCallEvent(ctx, c.ID, ev)
				if err != nil {
					t.Errorf("ApplyCallEvent: %v", err)
				}
				results <- r
			}()
		}
	}
	wg.Wait()
	close(results)
	firsts := 0
	for r := range results {
		if r == ringfence.ResultFirstTerminal {
			firsts++
		}
	}
	if firsts != 3 {
		t.Fatalf("first terminal transitions=%d, want 3", firsts)
	}
	got, err := env.Store.GetCampaign(ctx, "acct", campaign.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.CallsCompleted != 3 || got.OutcomeCounts[ringfence.StatusCompleted] != 3 {
		t.Fatalf("calls_completed=%d completed=%d, want 3 and 3", got.CallsCompleted, got.OutcomeCounts[ringfence.StatusCompleted])
	}
	if got, want := got.TotalCost.String(), "0.3813"; got != want {
		t.Fatalf("total_cost=%s, want %s", got, want)
	}
}
