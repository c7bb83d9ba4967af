package calling_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringfence/ringfence/infra/simulator"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/outbound"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// verifiedEvent is an event a test receiver got and verified.
type verifiedEvent struct {
	ID   string
	Type string
	Data struct {
		ID        string `json:"id"`
		Status    string `json:"status"`
		EndReason string `json:"end_reason"`
	}
}

// MustReceiver serves a receiver that verifies each request with the secret it is given later,
// at the clock's time, and keeps what it verified.
func MustReceiver(t *testing.T, c *clock) (url string, setSecret func(string), received func() []verifiedEvent) {
	var mu sync.Mutex
	var secret string
	var got []verifiedEvent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := outbound.Verify(secret, r.Header, body, c.Now()); err != nil {
			t.Errorf("signature: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev verifiedEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("body %s: %v", body, err)
		}
		ev.ID = r.Header.Get(outbound.HeaderID)
		got = append(got, ev)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func(s string) { mu.Lock(); secret = s; mu.Unlock() }, func() []verifiedEvent {
		mu.Lock()
		defer mu.Unlock()
		return append([]verifiedEvent(nil), got...)
	}
}

// A dial the provider refuses ends the call at once, and the endpoint hears of it: one call.ended
// with the call failed and the provider's reason, registered through the API with a loopback
// http:// URL, as when running locally.
func TestRefusedDialSendsCallEnded(t *testing.T) {
	s := MustStack(t, simulator.Options{Silent: true, Refuse: map[string]bool{"+14155550177": true}}, 5, 5)
	c := &clock{}
	c.Set(time.Now())
	s.useClock(c)
	s.fn("deliverer").Deliverer.Now = c.Now
	url, setSecret, received := MustReceiver(t, c)
	var ep struct{ ID, Secret string }
	s.do(t, "POST", "/endpoints", `{"url": "`+url+`/events", "events": ["call.ended"], "description": "test"}`, 201, &ep)
	setSecret(ep.Secret)
	var call struct{ ID, Status string }
	s.do(t, "POST", "/calls", `{"to": "+14155550177", "provider": "vapi", "agent_id": "assistant-1", "from_number": "phone-number-1"}`, 201, &call)
	if call.Status != "failed" {
		t.Fatalf("call status=%s, want failed (the provider refused the dial)", call.Status)
	}
	c.Add(time.Second)
	if _, err := s.fn("deliverer").Deliverer.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := received()
	if len(got) != 1 || got[0].Type != ringfence.EventCallEnded || got[0].Data.ID != call.ID || got[0].Data.Status != "failed" || got[0].Data.EndReason == "" {
		t.Fatalf("received %+v, want one call.ended for call %s, failed with the provider's reason", got, call.ID)
	}
	if got[0].ID != ringfence.EventID(ringfence.EventCallEnded, call.ID) {
		t.Fatalf("webhook-id=%s, want the call's call.ended id", got[0].ID)
	}
}

// The sweep ending a stale call, killed before and after each of its DynamoDB requests with an
// endpoint registered: once the schedules have run, the outbox holds exactly the call's one
// call.ended.
func TestSweepCrashAtEveryStepWritesOneEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash matrix is skipped in -short mode")
	}
	start := time.Now().Add(-30 * time.Minute)
	setup := func(t *testing.T) (*stack, *clock, string) {
		s := MustStack(t, simulator.Options{Silent: true}, 5, 5)
		c := &clock{}
		c.Set(start)
		s.useClock(c)
		if _, err := s.env.Store.CreateEndpoint(context.Background(), ringfence.Endpoint{ID: dynamo.NewID("ep"), AccountID: "acct_test",
			URL: "https://crm.example.com/hook", Events: []string{ringfence.EventCallEnded}, Secret: outbound.NewSecret()}); err != nil {
			t.Fatal(err)
		}
		call, err := s.env.Store.CreateCallWithSlot(context.Background(), ringfence.Call{ID: dynamo.NewID("call"), AccountID: "acct_test", Provider: ringfence.ProviderVapi, ToNumber: "+14155550124"}, ringfence.SlotDirect, 5)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.env.Store.RecordProviderCallID(context.Background(), call.ID, "vapi-stale-"+call.ID); err != nil {
			t.Fatal(err)
		}
		c.Add(10 * time.Minute)
		return s, c, call.ID
	}
	check := func(t *testing.T, s *stack, callID string) {
		t.Helper()
		work, err := s.env.Store.DueOutbox(context.Background(), time.Now().Add(24*time.Hour), 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(work.Events) != 1 || work.Events[0].ID != ringfence.EventID(ringfence.EventCallEnded, callID) {
			t.Fatalf("outbox=%+v, want only call %s's call.ended", work.Events, callID)
		}
	}
	var requests atomic.Int64
	s, c, callID := setup(t)
	s.serviceWith(t, "sweeper", c, dynamotest.CountRequests(&requests)).Sweep(context.Background(), c.Now())
	recoverAfter(t, s, c)
	check(t, s, callID)
	for n := 1; n <= int(requests.Load()); n++ {
		for _, after := range []bool{false, true} {
			s, c, callID := setup(t)
			if !runUntilCrash(func() {
				s.serviceWith(t, "sweeper", c, dynamotest.CrashAt(n, after)).Sweep(context.Background(), c.Now())
			}) {
				t.Fatalf("request %d (after=%v): the sweep did not reach the crash point", n, after)
			}
			recoverAfter(t, s, c)
			check(t, s, callID)
		}
	}
	t.Logf("%d requests, each crashed before and after", requests.Load())
}
