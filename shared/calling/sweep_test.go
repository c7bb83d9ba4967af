package calling_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringfence/ringfence/infra/localstack"
	"github.com/ringfence/ringfence/infra/simulator"
	"github.com/ringfence/ringfence/shared/calling"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// deliverBolna posts one Bolna webhook body to the stack, as Bolna would.
func (s *stack) deliverBolna(t *testing.T, body []byte) string {
	t.Helper()
	resp, err := http.Post(s.base+"/webhooks/bolna?token="+bolnaToken, "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("webhook status=%d body=%s", resp.StatusCode, b)
	}
	return string(b)
}

// A call the provider never reports on, and has no record of when asked, is ended by the sweep,
// counted once, its slot freed and its campaign completed; the provider's late report then
// corrects the counts, once.
func TestSilentCallIsSweptThenCorrected(t *testing.T) {
	s := MustStack(t, simulator.Options{Silent: true, Forget: true}, 5, 5)
	var c campaignView
	s.do(t, "POST", "/campaigns", `{"name":"one","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100","contacts":[{"phone":"+14155550123"}]}`, 201, &c)
	s.do(t, "POST", "/campaigns/"+c.ID+"/start", "", 202, nil)
	ctx := context.Background()
	if r, err := s.fn("sweeper").Calling.Sweep(ctx, time.Now()); err != nil || r.CallsEnded != 0 {
		t.Fatalf("sweep right away: %+v, %v; want nothing ended", r, err)
	}
	later := time.Now().Add(10 * time.Minute)
	r, err := s.fn("sweeper").Calling.Sweep(ctx, later)
	if err != nil || r.CallsEnded != 1 || r.CampaignsCompleted != 0 {
		// The campaign is completed by the transition itself, not left for the campaign sweep.
		t.Fatalf("sweep later: %+v, %v; want 1 call ended", r, err)
	}
	var got campaignView
	s.do(t, "GET", "/campaigns/"+c.ID, "", 200, &got)
	if got.Status != "completed" || got.CallsCompleted != 1 || got.Outcomes["failed"] != 1 {
		t.Fatalf("campaign=%+v, want completed with 1 failed call", got)
	}
	var slots slotsView
	s.do(t, "GET", "/slots", "", 200, &slots)
	if slots.Slots["campaign"].InUse != 0 || len(slots.Held) != 0 {
		t.Fatalf("slots=%+v, want none held", slots)
	}
	if r, err := s.fn("sweeper").Calling.Sweep(ctx, later); err != nil || r.CallsEnded != 0 || r.CallsExamined != 0 {
		t.Fatalf("second sweep: %+v, %v; want nothing examined or ended", r, err)
	}

	// The provider's real report arrives late, twice at once.
	script := s.sim.Stats().Scripts
	if len(script) != 1 {
		t.Fatalf("scripts=%d, want 1", len(script))
	}
	var final []byte
	for _, sc := range script {
		_, final = finalReports(t, sc)
	}
	var wg sync.WaitGroup
	replies := make([]string, 2)
	for i := range replies {
		wg.Add(1)
		go func() { defer wg.Done(); replies[i] = s.deliverBolna(t, final) }()
	}
	wg.Wait()
	corrected := strings.Count(strings.Join(replies, ""), `"corrected"`)
	if corrected != 1 {
		t.Fatalf("replies=%v, want exactly one correction", replies)
	}
	s.do(t, "GET", "/campaigns/"+c.ID, "", 200, &got)
	var want ringfence.Decimal
	var outcome ringfence.CallStatus
	for _, sc := range script {
		want, outcome = sc.Cost, sc.Outcome
	}
	if got.CallsCompleted != 1 || got.Outcomes[string(outcome)] != 1 || (outcome != ringfence.StatusFailed && got.Outcomes["failed"] != 0) || got.TotalCost != want.String() {
		t.Fatalf("campaign after the late report=%+v, want 1 call, outcome %s, cost %s", got, outcome, want)
	}
}

// finalReports returns the first and the newest terminal webhook of a script.
func finalReports(t *testing.T, sc simulator.Script) (first, newest []byte) {
	t.Helper()
	var bodies [][]byte
	for _, b := range sc.Deliveries {
		if strings.Contains(string(b), `"total_cost":0,`) {
			continue
		}
		bodies = append(bodies, b)
	}
	if len(bodies) == 0 {
		t.Fatal("script has no final report")
	}
	newest = bodies[0]
	for _, b := range bodies {
		if updatedAt(b) > updatedAt(newest) {
			newest = b
		}
	}
	return bodies[0], newest
}

func updatedAt(b []byte) string {
	s := string(b)
	i := strings.Index(s, `"updated_at":"`)
	return s[i+14 : i+40]
}

// MustStaleCampaign creates a campaign of n contacts whose calls were all dialled (their
// execution ids known) and were never heard of again.
func MustStaleCampaign(t *testing.T, st *dynamo.Store, n int) ringfence.Campaign {
	t.Helper()
	ctx := context.Background()
	contacts := make([]ringfence.Contact, n)
	for i := range contacts {
		contacts[i] = ringfence.Contact{Phone: fmt.Sprintf("+1415556%04d", i)}
	}
	c, err := st.CreateCampaign(ctx, ringfence.Campaign{ID: dynamo.NewID("cmp"), AccountID: "acct_test", Name: "stale", Provider: ringfence.ProviderBolna, AgentID: "a", FromNumber: "+14155550100"}, contacts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.StartCampaign(ctx, "acct_test", c.ID); err != nil {
		t.Fatal(err)
	}
	parallel(t, n, func(i int) error {
		return st.CreateCall(ctx, ringfence.Call{ID: fmt.Sprintf("call_%s_%d", c.ID, i), AccountID: "acct_test", CampaignID: c.ID, ContactID: dynamo.ContactID(i),
			Provider: ringfence.ProviderBolna, ProviderCallID: fmt.Sprintf("%s-exec-%d", c.ID, i), Status: ringfence.StatusRinging})
	})
	return c
}

// parallel runs fn for 0..n-1 on 32 goroutines and fails the test on any error.
func parallel(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	work := make(chan int)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := fn(i); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
}

// Two sweeps running at once over 500 stale calls end and count each call once.
func TestConcurrentSweepsCountEachCallOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("500 calls are skipped in -short mode")
	}
	s := MustStack(t, simulator.Options{}, 5, 5)
	c := MustStaleCampaign(t, s.env.Store, 500)
	later := time.Now().Add(10 * time.Minute)
	var ended atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := s.fn("sweeper").Calling.Sweep(context.Background(), later)
			if err != nil {
				t.Error(err)
			}
			ended.Add(int64(r.CallsEnded))
		}()
	}
	wg.Wait()
	got, err := s.env.Store.GetCampaign(context.Background(), "acct_test", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ended.Load() != 500 || got.CallsCompleted != 500 || got.OutcomeCounts[ringfence.StatusFailed] != 500 || got.Status != ringfence.CampaignCompleted {
		t.Fatalf("ended=%d campaign=%+v, want 500 ended once each and the campaign completed", ended.Load(), got)
	}
}

// A sweep over a table of 10,000 finished calls and 10 stale ones reads only about the 10: the
// finished calls are not in the sparse index it queries.
func TestSweepReadsOnlyItsWork(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 calls are skipped in -short mode")
	}
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	parallel(t, 10000, func(i int) error {
		return env.Store.CreateCall(ctx, ringfence.Call{ID: fmt.Sprintf("call_done_%05d", i), AccountID: "acct_test", Provider: ringfence.ProviderBolna, Status: ringfence.StatusCompleted})
	})
	MustStaleCampaign(t, env.Store, 10)

	var requests atomic.Int64
	counted := env.Reopen(dynamotest.CountRequests(&requests))
	svc := calling.New(counted, nil, calling.Defaults{DirectLimit: 5, CampaignLimit: 5}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	r, err := svc.Sweep(ctx, time.Now().Add(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sweep over 10,010 calls: examined %d, ended %d, %d DynamoDB requests", r.CallsExamined, r.CallsEnded, requests.Load())
	// Per stale call: read it, read it again to plan its end, end it, check its campaign. Once per
	// sweep: 16 queries (4 shards × kept events, calls, slots, campaigns), the account, the
	// account's endpoints (whether the ends' events go to the outbox), the campaign's completion.
	// Nothing grows with the 10,000 finished calls.
	if max := int64(4*10 + 16 + 3); r.CallsExamined != 10 || r.CallsEnded != 10 || requests.Load() > max {
		t.Fatalf("examined=%d ended=%d requests=%d, want 10, 10 and at most %d", r.CallsExamined, r.CallsEnded, requests.Load(), max)
	}
}

// A dialled call whose provider call id never arrives, and which the provider has no record of,
// is reported at once and, past the dial timeout, ended by the sweep, which releases its slot.
func TestCallWithoutExecutionIDIsSwept(t *testing.T) {
	s := MustStack(t, simulator.Options{Silent: true, Forget: true, DropAnswer: true}, 5, 5)
	var c callView
	s.do(t, "POST", "/calls", `{"to":"+14155550123","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100"}`, 201, &c)
	ctx := context.Background()
	r, err := s.fn("sweeper").Calling.Sweep(ctx, time.Now().Add(30*time.Second))
	if err != nil || r.CallsEnded != 0 || len(r.SlotsWithoutExecutionID) != 1 {
		t.Fatalf("sweep after 30s: %+v, %v; want the slot reported and nothing ended", r, err)
	}
	r, err = s.fn("sweeper").Calling.Sweep(ctx, time.Now().Add(3*time.Minute))
	if err != nil || r.CallsEnded != 1 {
		t.Fatalf("sweep after 3m: %+v, %v; want the call ended", r, err)
	}
	var got callView
	s.do(t, "GET", "/calls/"+c.ID, "", 200, &got)
	var slots slotsView
	s.do(t, "GET", "/slots", "", 200, &slots)
	if got.Outcome != "failed" || got.EndReason != "no_execution_id" || slots.Slots["direct"].InUse != 0 {
		t.Fatalf("call=%+v slots=%+v, want failed/no_execution_id and no slot held", got, slots)
	}
	if s.sim.Stats().Placed != 1 {
		t.Fatalf("placed=%d, want the call dialled once", s.sim.Stats().Placed)
	}
}

// The scheduled sample events in events/ run the dispatcher and the sweeper as EventBridge does.
func TestScheduledSampleEvents(t *testing.T) {
	s := MustStack(t, simulator.Options{}, 5, 5)
	for fn, file := range map[string]string{"dispatcher": "dispatcher-scheduled.json", "sweeper": "sweeper-scheduled.json"} {
		event, err := os.ReadFile(filepath.Join("..", "..", "events", file))
		if err != nil {
			t.Fatal(err)
		}
		out, err := localstack.Invoke(context.Background(), s.handlers()[fn], event)
		if err != nil || string(out) != "null" {
			t.Fatalf("%s on %s: %s, %v; want a clean run", fn, file, out, err)
		}
	}
}
