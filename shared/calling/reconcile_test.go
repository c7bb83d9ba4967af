package calling_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringfence/ringfence/infra/simulator"
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

// fastClock runs `factor` times faster than the real clock from the moment it is made: the
// stale timeout passes in seconds while the simulator's calls run in real time.
type fastClock struct {
	start  time.Time
	factor time.Duration
}

func (c fastClock) Now() time.Time { return c.start.Add(time.Since(c.start) * c.factor) }

// A campaign through the simulator where a fifth of the calls' final webhooks never arrive: every
// call ends with its true outcome and cost, the dropped ones through reconciliation with the
// provider, the counters are exact, and no call is ended or its slot freed while it is live at
// the provider (sampled throughout: a call live at the simulator before and after a read of
// ringfence's state must be in flight and hold its slot in that read). The calls run longer
// than the stale timeout, so each is asked about while it is live, too.
func TestCampaignWithDroppedFinalWebhooksIsReconciled(t *testing.T) {
	if testing.Short() {
		t.Skip("the reconciled campaigns are skipped in -short mode")
	}
	for _, p := range []struct {
		provider, from string
		contacts       int
	}{{"vapi", "phone-number-1", 100}, {"bolna", "+14155550100", 30}, {"retell", "+14155550100", 30}} {
		t.Run(p.provider, func(t *testing.T) {
			// 120 times faster: the 5-minute stale timeout is 2.5 s, and a call of 3 s lasts six
			// minutes of ringfence's time.
			s := MustStack(t, simulator.Options{CallLength: 3 * time.Second, Seed: 7, DropFinal: 0.2}, 5, 20)
			clock := fastClock{start: time.Now(), factor: 120}
			s.setNow(clock.Now)
			// The sweeper's own instance, with a dial timeout of 30 minutes (15 s here): a dial slowed
			// down by a busy DynamoDB Local must not pass for lost before it reaches the simulator.
			// It is built as Lambda builds it, so it asks the providers through the wired clients.
			sweeperFn := s.another(t, "sweeper", map[string]string{"RINGFENCE_DIAL_TIMEOUT": "30m"})
			sweeperFn.Store.Now = clock.Now
			sweeper := sweeperFn.Calling
			sweeper.Now = clock.Now
			ctx, stop := context.WithCancel(context.Background())
			var background sync.WaitGroup
			var reconciled, live, providerErrors, staleEnded, sampled atomic.Int64
			var violations []string
			var mu sync.Mutex
			background.Add(2)
			go func() { // The sweeper's schedule, on the fast clock.
				defer background.Done()
				for ctx.Err() == nil {
					r, err := sweeper.Sweep(ctx, clock.Now())
					if err != nil && ctx.Err() == nil {
						t.Errorf("sweep: %v", err)
					}
					reconciled.Add(int64(r.CallsReconciled))
					live.Add(int64(r.CallsLive))
					providerErrors.Add(int64(r.ProviderErrors))
					staleEnded.Add(int64(r.CallsEnded))
					time.Sleep(100 * time.Millisecond)
				}
			}()
			go func() { // The sampler.
				defer background.Done()
				for ctx.Err() == nil {
					before := s.sim.LiveCalls()
					_, held, err := s.env.Store.ListSlots(context.Background(), "acct_test")
					if err != nil {
						continue
					}
					holds := map[string]bool{}
					for _, sl := range held {
						holds[sl.CallID] = true
					}
					states := map[string]ringfence.Call{}
					for id := range before {
						if c, err := s.env.Store.GetCall(context.Background(), id); err == nil {
							states[id] = c
						}
					}
					after := s.sim.LiveCalls()
					for id := range before {
						c, known := states[id]
						if _, stillLive := after[id]; !stillLive || !known {
							continue
						}
						sampled.Add(1)
						if !holds[id] || c.Status.IsTerminal() {
							mu.Lock()
							violations = append(violations, fmt.Sprintf("%s live at the provider: status %s, slot held %v", id, c.Status, holds[id]))
							mu.Unlock()
						}
					}
					time.Sleep(20 * time.Millisecond)
				}
			}()
			s.dispatchEvery(t, 200*time.Millisecond)

			var c campaignView
			s.do(t, "POST", "/campaigns", `{"name":"dropped","provider":"`+p.provider+`","agent_id":"agent-1","from_number":"`+p.from+`","contacts":`+contacts(p.contacts)+`}`, 201, &c)
			s.do(t, "POST", "/campaigns/"+c.ID+"/start", "", 202, nil)
			waitFor(t, 300*time.Second, "the campaign to complete", func() bool {
				var got campaignView
				s.do(t, "GET", "/campaigns/"+c.ID, "", 200, &got)
				return got.Status == "completed"
			})
			stop()
			background.Wait()
			s.sim.Wait()

			st := s.sim.Stats()
			byExecution := map[string]simulator.Script{}
			want, dropped := map[string]int{}, 0
			var cost ringfence.Decimal
			for _, sc := range st.Scripts {
				byExecution[sc.ExecutionID] = sc
				want[string(sc.Outcome)]++
				cost = cost.Add(sc.Cost)
				if sc.FinalDropped {
					dropped++
				}
			}
			t.Logf("%d calls, %d with final webhooks dropped; sweeps reconciled %d, found %d live, ended %d stale, %d provider errors; %d live calls sampled",
				len(st.Scripts), dropped, reconciled.Load(), live.Load(), staleEnded.Load(), providerErrors.Load(), sampled.Load())
			if dropped == 0 || reconciled.Load() < int64(dropped) || live.Load() == 0 {
				t.Fatalf("dropped=%d reconciled=%d live=%d: the test did not exercise reconciliation", dropped, reconciled.Load(), live.Load())
			}
			if staleEnded.Load() != 0 || len(st.Failures) != 0 || st.Placed != p.contacts {
				t.Fatalf("stale ends=%d failures=%v placed=%d, want none, none and %d", staleEnded.Load(), st.Failures, st.Placed, p.contacts)
			}
			mu.Lock()
			defer mu.Unlock()
			if sampled.Load() == 0 {
				t.Fatal("no live call was ever sampled: the sampling proved nothing")
			}
			if len(violations) > 0 {
				t.Fatalf("%d samples found a call ended or its slot freed while live at the provider, e.g. %s", len(violations), violations[0])
			}
			var got campaignView
			s.do(t, "GET", "/campaigns/"+c.ID, "", 200, &got)
			for _, o := range ringfence.Outcomes {
				if got.Outcomes[string(o)] != want[string(o)] {
					t.Fatalf("outcomes=%v, want %v", got.Outcomes, want)
				}
			}
			if got.CallsCompleted != p.contacts || got.TotalCost != cost.String() {
				t.Fatalf("campaign=%+v, want %d calls costing %s", got, p.contacts, cost)
			}
			var calls struct {
				Calls []struct {
					ProviderCallID string  `json:"provider_call_id"`
					Outcome        string  `json:"outcome"`
					Cost           *string `json:"cost"`
				} `json:"calls"`
			}
			s.do(t, "GET", "/campaigns/"+c.ID+"/calls", "", 200, &calls)
			for _, call := range calls.Calls {
				sc := byExecution[call.ProviderCallID]
				if call.Outcome != string(sc.Outcome) || call.Cost == nil || *call.Cost != sc.Cost.String() {
					t.Fatalf("call %s: outcome %s cost %v, want %s and %s (final webhooks dropped: %v)", call.ProviderCallID, call.Outcome, call.Cost, sc.Outcome, sc.Cost, sc.FinalDropped)
				}
			}
			counts, held, err := s.env.Store.ListSlots(context.Background(), "acct_test")
			if err != nil || counts[ringfence.SlotCampaign] != 0 || len(held) != 0 {
				t.Fatalf("slots in use=%d held=%d (%v), want none", counts[ringfence.SlotCampaign], len(held), err)
			}
		})
	}
}
