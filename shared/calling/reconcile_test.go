package calling_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ringfence/ringfence/shared/calling"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// fakeProvider stands in for a provider's API when the sweep asks about a call: it answers
// whatever the test sets, and counts the questions.
type fakeProvider struct {
	mu     sync.Mutex
	asked  int
	answer func() (ringfence.CallEvent, error)
}

func (f *fakeProvider) Dial(context.Context, ringfence.DialRequest) (string, error) {
	return "", ringfence.ErrDialRefused
}

func (f *fakeProvider) ReportCall(_ context.Context, providerCallID string) (ringfence.CallEvent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked++
	ev, err := f.answer()
	ev.Provider, ev.ProviderCallID = ringfence.ProviderBolna, providerCallID
	return ev, err
}

func (f *fakeProvider) set(answer func() (ringfence.CallEvent, error)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answer = answer
}

func (f *fakeProvider) questions() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.asked
}

// MustQuietCampaignCall creates a one-contact campaign whose call holds a campaign slot, was
// placed (its provider call id is known) and has been ringing since; nothing was heard since.
func MustQuietCampaignCall(t *testing.T, st *dynamo.Store) (ringfence.Campaign, ringfence.Call) {
	t.Helper()
	ctx := context.Background()
	campaign, err := st.CreateCampaign(ctx, ringfence.Campaign{ID: dynamo.NewID("cmp"), AccountID: "acct_test", Name: "quiet", Provider: ringfence.ProviderBolna, AgentID: "a", FromNumber: "+14155550100"},
		[]ringfence.Contact{{Phone: "+14155550123"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.StartCampaign(ctx, "acct_test", campaign.ID); err != nil {
		t.Fatal(err)
	}
	c, err := st.CreateCallWithSlot(ctx, ringfence.Call{ID: dynamo.NewID("call"), AccountID: "acct_test", CampaignID: campaign.ID, ContactID: dynamo.ContactID(0), Provider: ringfence.ProviderBolna}, ringfence.SlotCampaign, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.RecordProviderCallID(ctx, c.ID, "exec-quiet"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.ApplyCallEvent(ctx, c.ID, ringfence.CallEvent{Provider: ringfence.ProviderBolna, ProviderCallID: "exec-quiet", Status: ringfence.StatusRinging}); err != nil {
		t.Fatal(err)
	}
	return campaign, c
}

// The sweep asks the provider about a quiet call before concluding anything, and does what the
// provider's answer says, once:
//   - live: the call stays live and keeps its slot, and is not asked about again until it has
//     been quiet for the stale timeout once more;
//   - ended: the provider's outcome, cost, duration and transcript are applied once, with the
//     campaign's counters, and the slot is released;
//   - unknown to the provider: the call is ended as stale;
//   - the provider cannot be asked: nothing changes, and the next sweep asks again.
func TestSweepReconcilesQuietCalls(t *testing.T) {
	cost, duration := ringfence.MustParseDecimal("0.4275"), ringfence.MustParseDecimal("61.5")
	ended := func() (ringfence.CallEvent, error) {
		return ringfence.CallEvent{Status: ringfence.StatusCompleted, EndReason: "completed", Cost: &cost, Duration: &duration,
			Transcript: "assistant: hello\nuser: hi\n", Version: "2026-01-01T00:01:00.000000000Z"}, nil
	}
	live := func() (ringfence.CallEvent, error) {
		return ringfence.CallEvent{Status: ringfence.StatusInProgress}, nil
	}
	unknown := func() (ringfence.CallEvent, error) {
		return ringfence.CallEvent{}, ringfence.Errorf(ringfence.ENOTFOUND, "no such execution")
	}
	broken := func() (ringfence.CallEvent, error) {
		return ringfence.CallEvent{}, errors.New("the provider answered 502")
	}

	for _, tc := range []struct {
		name    string
		answer  func() (ringfence.CallEvent, error)
		outcome ringfence.CallStatus // "" while the call is live.
		cost    string
		report  calling.SweepReport
	}{
		{name: "live", answer: live, report: calling.SweepReport{CallsExamined: 1, CallsLive: 1}},
		{name: "ended", answer: ended, outcome: ringfence.StatusCompleted, cost: "0.4275", report: calling.SweepReport{CallsExamined: 1, CallsReconciled: 1}},
		{name: "unknown", answer: unknown, outcome: ringfence.StatusFailed, cost: "0", report: calling.SweepReport{CallsExamined: 1, CallsEnded: 1}},
		{name: "provider error", answer: broken, report: calling.SweepReport{CallsExamined: 1, ProviderErrors: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := dynamotest.MustNewStore(t)
			ctx := context.Background()
			campaign, c := MustQuietCampaignCall(t, env.Store)
			provider := &fakeProvider{answer: tc.answer}
			svc := calling.New(env.Store, map[ringfence.Provider]ringfence.Dialer{ringfence.ProviderBolna: provider}, calling.Defaults{DirectLimit: 5, CampaignLimit: 5}, slog.New(slog.NewTextHandler(io.Discard, nil)))

			later := time.Now().Add(10 * time.Minute)
			r, err := svc.Sweep(ctx, later)
			if err != nil || provider.questions() != 1 || r.CallsExamined != tc.report.CallsExamined || r.CallsEnded != tc.report.CallsEnded ||
				r.CallsReconciled != tc.report.CallsReconciled || r.CallsLive != tc.report.CallsLive || r.ProviderErrors != tc.report.ProviderErrors {
				t.Fatalf("sweep: %+v, %v, asked %d times; want %+v, asked once", r, err, provider.questions(), tc.report)
			}
			got, err := env.Store.GetCall(ctx, c.ID)
			if err != nil || got.Outcome != tc.outcome {
				t.Fatalf("call=%+v (%v), want outcome %q", got, err, tc.outcome)
			}
			counts, held, err := env.Store.ListSlots(ctx, "acct_test")
			if wantHeld := map[bool]int{true: 0, false: 1}[tc.outcome != ""]; err != nil || counts[ringfence.SlotCampaign] != wantHeld || len(held) != wantHeld {
				t.Fatalf("slots in use=%d held=%d (%v), want %d", counts[ringfence.SlotCampaign], len(held), err, wantHeld)
			}
			if tc.outcome != "" {
				cmp, err := env.Store.GetCampaign(ctx, "acct_test", campaign.ID)
				if err != nil || cmp.CallsCompleted != 1 || cmp.OutcomeCounts[tc.outcome] != 1 || cmp.TotalCost.String() != tc.cost {
					t.Fatalf("campaign=%+v (%v), want 1 call %s costing %s", cmp, err, tc.outcome, tc.cost)
				}
			}
			if tc.name == "ended" && (got.Cost.String() != "0.4275" || got.Duration.String() != "61.5" || got.Transcript == "" || got.EndedStale) {
				t.Fatalf("call=%+v, want the provider's cost, duration and transcript, not a stale end", got)
			}

			// The same sweep again changes nothing. A live call was marked as checked, so it is
			// not asked about again until it has been quiet for the stale timeout once more.
			provider.set(ended)
			if r, err := svc.Sweep(ctx, later); err != nil || r.CallsEnded+r.CallsReconciled != map[bool]int{true: 1, false: 0}[tc.name == "provider error"] {
				t.Fatalf("second sweep: %+v, %v", r, err)
			}
			if tc.name == "live" {
				if provider.questions() != 1 {
					t.Fatalf("asked %d times, want the live call not asked again at once", provider.questions())
				}
				if r, err := svc.Sweep(ctx, later.Add(6*time.Minute)); err != nil || r.CallsReconciled != 1 || provider.questions() != 2 {
					t.Fatalf("sweep after another quiet spell: %+v, %v, asked %d times; want the call asked and ended", r, err, provider.questions())
				}
			}
			if tc.name == "provider error" && provider.questions() != 2 {
				t.Fatalf("asked %d times, want the call asked again by the next sweep", provider.questions())
			}
			cmp, err := env.Store.GetCampaign(ctx, "acct_test", campaign.ID)
			if err != nil || cmp.CallsCompleted != 1 || cmp.Status != ringfence.CampaignCompleted {
				t.Fatalf("campaign=%+v (%v), want its one call counted once and the campaign completed", cmp, err)
			}
		})
	}
}
