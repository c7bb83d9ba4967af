package httpapi_test

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/ringfence/ringfence/infra/simulator"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/httpapi"
	"github.com/ringfence/ringfence/shared/outbound"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// mustOutboxIDs returns the ids of the events waiting in the outbox.
func (h *harness) mustOutboxIDs(t *testing.T) []string {
	t.Helper()
	work, err := h.env.Store.DueOutbox(context.Background(), time.Now().Add(time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ev := range work.Events {
		ids = append(ids, ev.ID)
	}
	return ids
}

// TestCrashAtEveryStepWritesOneEvent kills the write paths that cause events before and after
// each of their DynamoDB requests, with an endpoint registered, and lets the sender retry:
// whatever the point of death, the outbox ends with exactly the one event of the change.
func TestCrashAtEveryStepWritesOneEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash matrix is skipped in -short mode")
	}
	start := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	paths := []crashPath{
		{
			name:    "first terminal delivery",
			handler: (*httpapi.Server).BolnaWebhook,
			prepare: func(t *testing.T, h *harness) (events.APIGatewayV2HTTPRequest, func(*testing.T)) {
				h.MustEndpointFor(t, &receiver{}, "https://crm.example.com/hook", ringfence.EventCallEnded)
				_, calls := h.MustCreateCampaign(t, 1)
				s := simulator.BolnaScript(rand.New(rand.NewPCG(3, 4)), calls[0].ProviderCallID, "", ringfence.StatusCompleted, start)
				return bolnaDelivery(t, newestBody(t, s)), func(t *testing.T) {
					ids := h.mustOutboxIDs(t)
					if len(ids) != 1 || ids[0] != ringfence.EventID(ringfence.EventCallEnded, calls[0].ID) {
						t.Fatalf("outbox=%v, want only the call's call.ended", ids)
					}
				}
			},
		},
		{
			name:    "reschedule tool",
			handler: (*httpapi.Server).Tools,
			prepare: func(t *testing.T, h *harness) (events.APIGatewayV2HTTPRequest, func(*testing.T)) {
				h.MustEndpointFor(t, &receiver{}, "https://crm.example.com/hook", ringfence.EventCallRescheduled)
				_, calls := h.MustCreateCampaign(t, 1)
				req := MustEvent(t, "tools-reschedule-lead.json")
				req.Body = `{"execution_id":"` + calls[0].ProviderCallID + `","day":"friday"}`
				return req, func(t *testing.T) {
					if ids := h.mustOutboxIDs(t); len(ids) != 1 {
						t.Fatalf("outbox=%v, want one call.rescheduled", ids)
					}
				}
			},
		},
	}
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			var requests atomic.Int64
			h := MustHarness(t)
			req, check := p.prepare(t, h)
			MustDecode(t, invoke(t, p.handler(h.serverWith(dynamotest.CountRequests(&requests))), req), 200, nil)
			check(t)
			for n := 1; n <= int(requests.Load()); n++ {
				for _, after := range []bool{false, true} {
					h := MustHarness(t)
					req, check := p.prepare(t, h)
					if !callUntilCrash(p.handler(h.serverWith(dynamotest.CrashAt(n, after))), req) {
						t.Fatalf("request %d (after=%v): the handler did not reach the crash point", n, after)
					}
					MustDecode(t, invoke(t, p.handler(h.srv), req), 200, nil)
					MustDecode(t, invoke(t, p.handler(h.srv), req), 200, nil)
					check(t)
				}
			}
		})
	}
}

// TestDelivererCrashAtEveryStep kills the deliverer before and after each of its DynamoDB
// requests, then lets the schedule run it for a while: every event reaches the endpoint, under
// its one id, and no other id arrives.
func TestDelivererCrashAtEveryStep(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash matrix is skipped in -short mode")
	}
	prepare := func(t *testing.T) (*harness, *testClock, *receiver, map[string]bool) {
		h := MustHarness(t)
		clock := &testClock{now: time.Now()}
		r, srv := newReceiver(t, clock, func(string, int) int { return http.StatusOK })
		h.MustEndpointFor(t, r, srv.URL, ringfence.EventCallEnded, ringfence.EventCallCorrected)
		_, calls := h.MustCreateCampaign(t, 2)
		want := map[string]bool{}
		for _, c := range calls {
			if _, _, err := h.env.Store.ApplyCallEvent(context.Background(), c.ID, ringfence.CallEvent{Provider: ringfence.ProviderBolna, Status: ringfence.StatusBusy}); err != nil {
				t.Fatal(err)
			}
			want[ringfence.EventID(ringfence.EventCallEnded, c.ID)] = true
		}
		// A third call, ended by the sweep and then corrected: its two events must arrive in order.
		swept := MustSweptAndCorrected(t, h)
		want[ringfence.EventID(ringfence.EventCallEnded, swept)] = true
		want[ringfence.EventID(ringfence.EventCallCorrected, swept)] = true
		h.deliverer(clock) // Puts the store on the clock, set to now.
		return h, clock, r, want
	}
	delivererWith := func(h *harness, clock *testClock, options ...func(*aws.Config)) *outbound.Deliverer {
		store := h.env.Reopen(options...)
		store.Now = clock.Now
		srv := httpapi.NewServer(store, nil, httpapi.Config{}, slog.New(slog.NewJSONHandler(h.logs, nil)))
		d := outbound.NewDeliverer(store, srv.EventBody, slog.New(slog.NewJSONHandler(h.logs, nil)))
		d.Now, d.Parallel = clock.Now, 1
		d.Client = outbound.NewHTTPClient(outbound.Policy{AllowLoopback: true})
		return d
	}
	check := func(t *testing.T, h *harness, clock *testClock, r *receiver, want map[string]bool) {
		t.Helper()
		d := h.deliverer(clock)
		for range 5 {
			clock.Add(2 * time.Minute)
			MustRun(t, d)
		}
		got := map[string]bool{}
		for _, rc := range r.delivered() {
			if !want[rc.ID] {
				t.Fatalf("delivered %s, which is none of the events %v", rc.ID, want)
			}
			got[rc.ID] = true
		}
		if len(got) != len(want) {
			t.Fatalf("delivered %v, want every one of %v", got, want)
		}
		MustEndBeforeCorrection(t, r)
	}

	var requests atomic.Int64
	h, clock, r, want := prepare(t)
	clock.Add(time.Second)
	if _, err := delivererWith(h, clock, dynamotest.CountRequests(&requests)).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	check(t, h, clock, r, want)
	for n := 1; n <= int(requests.Load()); n++ {
		for _, after := range []bool{false, true} {
			h, clock, r, want := prepare(t)
			clock.Add(time.Second)
			d := delivererWith(h, clock, dynamotest.CrashAt(n, after))
			crashed := func() (crashed bool) {
				defer func() {
					if rec := recover(); rec != nil {
						if _, ok := rec.(dynamotest.Crash); !ok {
							panic(rec)
						}
						crashed = true
					}
				}()
				_, _ = d.Run(context.Background())
				return false
			}()
			if !crashed {
				t.Fatalf("request %d (after=%v): the deliverer did not reach the crash point", n, after)
			}
			check(t, h, clock, r, want)
		}
	}
}

// MustSweptAndCorrected creates a call the sweep ends and the provider's late report corrects,
// and returns its id.
func MustSweptAndCorrected(tb testing.TB, h *harness) string {
	tb.Helper()
	ctx := context.Background()
	_, calls := h.MustCreateCampaign(tb, 1)
	c, err := h.env.Store.GetCall(ctx, calls[0].ID)
	if err != nil {
		tb.Fatal(err)
	}
	sweep := ringfence.CallEvent{Provider: ringfence.ProviderBolna, Status: ringfence.StatusFailed, EndReason: "stale", Sweep: true, SeenActivity: c.LastActivity}
	if _, res, err := h.env.Store.ApplyCallEvent(ctx, c.ID, sweep); err != nil || res != ringfence.ResultFirstTerminal {
		tb.Fatalf("sweep=%s, %v, want the first terminal transition", res, err)
	}
	late := ringfence.CallEvent{Provider: ringfence.ProviderBolna, Status: ringfence.StatusCompleted, EndReason: "completed"}
	if _, res, err := h.env.Store.ApplyCallEvent(ctx, c.ID, late); err != nil || res != ringfence.ResultCorrected {
		tb.Fatalf("late report=%s, %v, want a correction", res, err)
	}
	return c.ID
}

// MustEndBeforeCorrection checks that no call.corrected reached the receiver, even as a failed
// attempt, before its call's call.ended was delivered.
func MustEndBeforeCorrection(tb testing.TB, r *receiver) {
	tb.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	ended := map[string]bool{}
	for _, rc := range r.receipts {
		switch {
		case rc.Type == ringfence.EventCallEnded && rc.Status < 300:
			ended[rc.CallID] = true
		case rc.Type == ringfence.EventCallCorrected && !ended[rc.CallID]:
			tb.Fatalf("call.corrected of call %s arrived before its call.ended was delivered", rc.CallID)
		}
	}
}
