package dynamo_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// MustCreateEndpoint registers an endpoint of account "acct" receiving the given events.
func MustCreateEndpoint(tb testing.TB, s *dynamo.Store, events ...string) ringfence.Endpoint {
	tb.Helper()
	e, err := s.CreateEndpoint(context.Background(), ringfence.Endpoint{
		ID: dynamo.NewID("ep"), AccountID: "acct", URL: "https://example.com/hook", Events: events, Secret: "whsec_c2VjcmV0",
	})
	if err != nil {
		tb.Fatalf("CreateEndpoint: %v", err)
	}
	return e
}

// MustDueOutbox returns what the outbox holds due now.
func MustDueOutbox(tb testing.TB, s *dynamo.Store) dynamo.OutboxWork {
	tb.Helper()
	work, err := s.DueOutbox(context.Background(), s.Now().Add(time.Second), 1000)
	if err != nil {
		tb.Fatalf("DueOutbox: %v", err)
	}
	return work
}

func TestConcurrentTerminalDeliveriesWriteOneEventPerCall(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	MustCreateEndpoint(t, env.Store, ringfence.EventCallEnded, ringfence.EventCampaignCompleted)
	campaign, calls := MustCampaignWithCalls(t, env.Store, 3)
	if _, err := env.Store.StartCampaign(ctx, "acct", campaign.ID); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	for _, c := range calls {
		for range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ev := ringfence.CallEvent{Provider: ringfence.ProviderBolna, ProviderCallID: c.ProviderCallID, Status: ringfence.StatusCompleted, Version: "v1", Cost: decimal("0.1")}
				if _, _, err := env.Store.ApplyCallEvent(ctx, c.ID, ev); err != nil {
					t.Errorf("ApplyCallEvent: %v", err)
				}
				if _, err := env.Store.CompleteCampaignIfDone(ctx, campaign.ID); err != nil {
					t.Errorf("CompleteCampaignIfDone: %v", err)
				}
			}()
		}
	}
	wg.Wait()

	work := MustDueOutbox(t, env.Store)
	counts := map[string]int{}
	ids := map[string]bool{}
	for _, ev := range work.Events {
		counts[ev.Type]++
		ids[ev.ID] = true
	}
	if got, want := counts[ringfence.EventCallEnded], 3; got != want {
		t.Fatalf("call.ended events=%d, want %d", got, want)
	}
	if got, want := counts[ringfence.EventCampaignCompleted], 1; got != want {
		t.Fatalf("campaign.completed events=%d, want %d", got, want)
	}
	if got, want := len(ids), 4; got != want {
		t.Fatalf("distinct event ids=%d, want %d", got, want)
	}
	for _, c := range calls {
		if !ids[ringfence.EventID(ringfence.EventCallEnded, c.ID)] {
			t.Fatalf("no call.ended event for call %s", c.ID)
		}
	}
}

func TestNoEndpointNoEvent(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	MustCreateEndpoint(t, env.Store, ringfence.EventCallRescheduled)
	_, calls := MustCampaignWithCalls(t, env.Store, 1)
	ev := ringfence.CallEvent{Provider: ringfence.ProviderBolna, Status: ringfence.StatusFailed}
	if _, _, err := env.Store.ApplyCallEvent(ctx, calls[0].ID, ev); err != nil {
		t.Fatal(err)
	}
	if got := MustDueOutbox(t, env.Store).Events; len(got) != 0 {
		t.Fatalf("events=%v, want none: no endpoint receives call.ended", got)
	}
}

func TestRescheduleWritesOneEventPerChange(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	MustCreateEndpoint(t, env.Store, ringfence.EventCallRescheduled)
	_, calls := MustCampaignWithCalls(t, env.Store, 1)
	for _, day := range []string{"2026-12-01", "2026-12-01", "2026-12-02"} {
		if _, err := env.Store.SetRescheduleDay(ctx, calls[0].ID, ringfence.RescheduleDay{Day: day}); err != nil {
			t.Fatalf("SetRescheduleDay(%s): %v", day, err)
		}
	}
	if got, want := len(MustDueOutbox(t, env.Store).Events), 2; got != want {
		t.Fatalf("call.rescheduled events=%d, want %d (one per change of day)", got, want)
	}
}

func TestFanOutCreatesDeliveriesOnce(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	ep := MustCreateEndpoint(t, env.Store, ringfence.EventCallEnded)
	_, calls := MustCampaignWithCalls(t, env.Store, 1)
	if _, _, err := env.Store.ApplyCallEvent(ctx, calls[0].ID, ringfence.CallEvent{Provider: ringfence.ProviderBolna, Status: ringfence.StatusBusy}); err != nil {
		t.Fatal(err)
	}
	ev := MustDueOutbox(t, env.Store).Events[0]
	if _, err := env.Store.FanOut(ctx, ev, `{"type":"call.ended"}`, []string{ep.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.FanOut(ctx, ev, `{"type":"call.ended"}`, []string{ep.ID}); ringfence.ErrorCode(err) != ringfence.ECONFLICT {
		t.Fatalf("second FanOut err=%v, want a conflict", err)
	}
	work := MustDueOutbox(t, env.Store)
	if len(work.Events) != 0 || len(work.Deliveries) != 1 {
		t.Fatalf("events=%d deliveries=%d, want 0 and 1", len(work.Events), len(work.Deliveries))
	}
}

func TestConcurrentReschedulesWriteOneEventPerChangeMade(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	MustCreateEndpoint(t, env.Store, ringfence.EventCallRescheduled)
	_, calls := MustCampaignWithCalls(t, env.Store, 1)
	days := []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "2026-12-24"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	changes := 0
	for _, day := range days {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := env.Store.SetRescheduleDay(ctx, calls[0].ID, ringfence.RescheduleDay{Day: day})
			switch {
			case err == nil:
				mu.Lock()
				changes++
				mu.Unlock()
			case ringfence.ErrorCode(err) != ringfence.EUNAVAILABLE:
				t.Errorf("SetRescheduleDay(%s): %v, want success or unavailable", day, err)
			}
		}()
	}
	wg.Wait()
	if got := len(MustDueOutbox(t, env.Store).Events); got != changes || changes == 0 {
		t.Fatalf("call.rescheduled events=%d, want one per change made (%d)", got, changes)
	}
}
