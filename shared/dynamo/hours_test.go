package dynamo_test

import (
	"context"
	"testing"
	"time"

	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// MustHours returns a campaign's hour counters between from and to, failing the test if they
// cannot be read.
func MustHours(tb testing.TB, s *dynamo.Store, campaignID string, from, to time.Time) map[string]ringfence.HourStats {
	tb.Helper()
	hours, err := s.CampaignHours(context.Background(), campaignID, from, to)
	if err != nil {
		tb.Fatalf("CampaignHours: %v", err)
	}
	byHour := map[string]ringfence.HourStats{}
	for _, h := range hours {
		byHour[h.Hour.Format("15")] = h
	}
	return byHour
}

// The hour counters move in the transaction that ends a call, in the hour it ended, and a later
// report moves that same hour by exactly its difference (invariant 3), so the hours sum to the
// campaign's totals and to its calls. Without the hour items in the terminal transaction the
// hours stay empty; a duplicate delivery moves nothing.
func TestHourCountersMoveWithTheCallsEnd(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	campaign, calls := MustCampaignWithCalls(t, env.Store, 3)
	ten := time.Date(2026, 3, 2, 10, 20, 0, 0, time.UTC)
	clock := ten
	env.Store.Now = func() time.Time { return clock }
	end := func(c ringfence.Call, status ringfence.CallStatus, cost, duration string, at time.Time) {
		t.Helper()
		ev := ringfence.CallEvent{Provider: c.Provider, ProviderCallID: c.ProviderCallID, Status: status, Version: ringfence.Version(at)}
		if cost != "" {
			ev.Cost, ev.Duration = decimal(cost), decimal(duration)
		}
		if _, _, err := env.Store.ApplyCallEvent(ctx, c.ID, ev); err != nil {
			t.Fatal(err)
		}
	}
	end(calls[0], ringfence.StatusCompleted, "0.10", "30", ten)
	end(calls[0], ringfence.StatusCompleted, "0.10", "30", ten) // A duplicate delivery.
	end(calls[1], ringfence.StatusNoAnswer, "0.02", "5", ten)
	clock = ten.Add(45 * time.Minute)
	end(calls[2], ringfence.StatusBusy, "", "", clock)
	// The provider's final report of the first call comes an hour later, with another cost.
	end(calls[0], ringfence.StatusCompleted, "0.25", "40", clock)

	hours := MustHours(t, env.Store, campaign.ID, ten, clock)
	h10, h11 := hours["10"], hours["11"]
	if got, want := h10.Ended[ringfence.StatusCompleted], 1; got != want {
		t.Fatalf("completed at 10=%d, want %d", got, want)
	}
	if h10.Ended[ringfence.StatusNoAnswer] != 1 || h11.Ended[ringfence.StatusBusy] != 1 || h11.EndedTotal() != 1 {
		t.Fatalf("hours=%+v, want no-answer at 10 and busy at 11", hours)
	}
	if got, want := h10.Cost.String(), "0.27"; got != want {
		t.Fatalf("cost at 10=%s, want %s (the late report moves the hour the call ended by its difference)", got, want)
	}
	// Talk time counts answered calls only: the no-answer's five seconds of ringing are not talk.
	if got, want := h10.TalkSeconds.String(), "40"; got != want {
		t.Fatalf("talk seconds at 10=%s, want %s", got, want)
	}
	got, err := env.Store.GetCampaign(ctx, "acct", campaign.ID)
	if err != nil {
		t.Fatal(err)
	}
	sum := h10.Plus(h11)
	if sum.Cost.Cmp(got.TotalCost) != 0 || sum.EndedTotal() != got.CallsCompleted {
		t.Fatalf("hours sum to cost %s and %d calls, campaign has %s and %d", sum.Cost, sum.EndedTotal(), got.TotalCost, got.CallsCompleted)
	}
	account, err := env.Store.AccountHours(ctx, "acct", ten, clock)
	if err != nil {
		t.Fatal(err)
	}
	if len(account) != 2 || account[0].Cost.String() != "0.27" || account[1].EndedTotal() != 1 {
		t.Fatalf("account hours=%+v, want the campaign's", account)
	}
}
