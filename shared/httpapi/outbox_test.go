package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/outbound"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// testClock is a clock the test moves; the store and the deliverer both read it.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// receipt is one request the receiver got, with what it answered.
type receipt struct {
	ID     string
	Type   string
	CallID string
	Status int
}

// receiver is the business's endpoint in the tests: it verifies every request's signature with
// the endpoint's secret at the test clock's time, and answers what answer decides.
type receiver struct {
	t      *testing.T
	clock  *testClock
	secret string
	answer func(id string, seen int) int

	mu       sync.Mutex
	receipts []receipt
	seen     map[string]int
}

func newReceiver(t *testing.T, clock *testClock, answer func(id string, seen int) int) (*receiver, *httptest.Server) {
	r := &receiver{t: t, clock: clock, answer: answer, seen: map[string]int{}}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	secret := r.secret
	r.mu.Unlock()
	if err := outbound.Verify(secret, req.Header, body, r.clock.Now()); err != nil {
		r.t.Errorf("signature: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev struct {
		Type      string `json:"type"`
		Timestamp string `json:"timestamp"`
		Data      struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil || ev.Type == "" || ev.Timestamp == "" || ev.Data.ID == "" {
		r.t.Errorf("body %s is not an event (%v)", body, err)
	}
	id := req.Header.Get(outbound.HeaderID)
	r.mu.Lock()
	r.seen[id]++
	status := r.answer(id, r.seen[id])
	r.receipts = append(r.receipts, receipt{ID: id, Type: ev.Type, CallID: ev.Data.ID, Status: status})
	r.mu.Unlock()
	w.WriteHeader(status)
}

// delivered returns the receipts answered with a 2xx.
func (r *receiver) delivered() []receipt {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []receipt
	for _, rc := range r.receipts {
		if rc.Status >= 200 && rc.Status < 300 {
			out = append(out, rc)
		}
	}
	return out
}

// MustEndpointFor registers an endpoint of the harness's account pointing at the receiver.
func (h *harness) MustEndpointFor(tb testing.TB, r *receiver, url string, types ...string) ringfence.Endpoint {
	tb.Helper()
	e, err := h.env.Store.CreateEndpoint(context.Background(), ringfence.Endpoint{
		ID: dynamo.NewID("ep"), AccountID: "acct_test", URL: url, Events: types, Secret: outbound.NewSecret(),
	})
	if err != nil {
		tb.Fatal(err)
	}
	r.mu.Lock()
	r.secret = e.Secret
	r.mu.Unlock()
	return e
}

// deliverer returns the harness's deliverer, on the test clock (which the store reads too from
// now on), set to the present: what was written before is due.
func (h *harness) deliverer(clock *testClock) *outbound.Deliverer {
	clock.mu.Lock()
	clock.now = time.Now()
	clock.mu.Unlock()
	h.env.Store.Now = clock.Now
	d := outbound.NewDeliverer(h.env.Store, h.srv.EventBody, slog.New(slog.NewJSONHandler(h.logs, nil)))
	d.Now = clock.Now
	d.Client = outbound.NewHTTPClient(outbound.Policy{AllowLoopback: true}) // The receivers listen on loopback.
	return d
}

// MustRun runs the deliverer once.
func MustRun(tb testing.TB, d *outbound.Deliverer) outbound.Report {
	tb.Helper()
	r, err := d.Run(context.Background())
	if err != nil {
		tb.Fatalf("deliverer: %v", err)
	}
	return r
}

// A storm of 200 calls × 12 deliveries, with an endpoint registered whose receiver fails the
// first attempt of every event: exactly 200 call.ended events, with distinct ids, each received
// twice (the retry with the same id) and delivered once.
func TestStormDeliversOneEndedEventPerCall(t *testing.T) {
	if testing.Short() {
		t.Skip("storm is skipped in -short mode")
	}
	h := MustHarness(t)
	clock := &testClock{now: time.Now()}
	r, srv := newReceiver(t, clock, func(_ string, seen int) int {
		if seen == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	h.MustEndpointFor(t, r, srv.URL, ringfence.EventCallEnded)
	campaign, calls := h.MustCreateCampaign(t, 200)
	reqs, want, cost := h.scriptCampaign(t, rand.New(rand.NewPCG(7, 11)), calls, ringfence.Outcomes)
	h.deliverAll(t, reqs, 64)
	h.assertCounters(t, campaign.ID, 200, want, cost)

	d := h.deliverer(clock)
	clock.Add(time.Second)
	if got := MustRun(t, d); got.Events != 200 || got.Retrying != 200 {
		t.Fatalf("first run=%+v, want 200 events, 200 attempts to retry", got)
	}
	clock.Add(time.Minute) // The first retry is due within a minute.
	if got := MustRun(t, d); got.Delivered != 200 {
		t.Fatalf("second run=%+v, want 200 delivered", got)
	}
	clock.Add(time.Hour)
	if got := MustRun(t, d); got.Attempts != 0 {
		t.Fatalf("third run=%+v, want nothing left to do", got)
	}

	byCall := map[string]string{}
	for _, rc := range r.delivered() {
		if rc.Type != ringfence.EventCallEnded {
			t.Fatalf("delivered %s, want only call.ended", rc.Type)
		}
		if prev, ok := byCall[rc.CallID]; ok {
			t.Fatalf("call %s delivered twice (%s and %s)", rc.CallID, prev, rc.ID)
		}
		byCall[rc.CallID] = rc.ID
	}
	if got, want := len(byCall), 200; got != want {
		t.Fatalf("calls delivered=%d, want %d", got, want)
	}
	for id, n := range r.seen {
		if n != 2 {
			t.Fatalf("event %s received %d times, want 2 (the failed first attempt and its retry)", id, n)
		}
	}
	for _, c := range calls {
		if byCall[c.ID] != ringfence.EventID(ringfence.EventCallEnded, c.ID) {
			t.Fatalf("call %s delivered as %q, want its one call.ended id", c.ID, byCall[c.ID])
		}
	}
}

// A receiver that is down for hours gets every event once it is back, each exactly once, and an
// event whose last attempt failed is marked failed.
func TestReceiverDownForHoursGetsEveryEventWhenBack(t *testing.T) {
	h := MustHarness(t)
	clock := &testClock{now: time.Now()}
	var mu sync.Mutex
	up := false
	r, srv := newReceiver(t, clock, func(string, int) int {
		mu.Lock()
		defer mu.Unlock()
		if up {
			return http.StatusOK
		}
		return http.StatusServiceUnavailable
	})
	h.MustEndpointFor(t, r, srv.URL, ringfence.EventCallEnded, ringfence.EventCampaignCompleted)
	campaign, calls := h.MustCreateCampaign(t, 5)
	reqs, _, _ := h.scriptCampaign(t, rand.New(rand.NewPCG(3, 5)), calls, ringfence.Outcomes)
	h.deliverAll(t, reqs, 8)
	if _, err := h.env.Store.StartCampaign(context.Background(), "acct_test", campaign.ID); err != nil {
		t.Fatal(err)
	}
	if done, err := h.env.Store.CompleteCampaignIfDone(context.Background(), campaign.ID); err != nil || !done {
		t.Fatalf("CompleteCampaignIfDone=%v, %v, want completed", done, err)
	}

	d := h.deliverer(clock)
	// Down through the first five attempts: 0 s, 30 s, 5 min, 30 min and 2 h apart.
	for _, wait := range []time.Duration{time.Second, time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour} {
		clock.Add(wait)
		if got := MustRun(t, d); got.Retrying != 6 {
			t.Fatalf("run while down=%+v, want 6 attempts to retry", got)
		}
	}
	mu.Lock()
	up = true
	mu.Unlock()
	clock.Add(5 * time.Hour)
	if got := MustRun(t, d); got.Delivered != 6 {
		t.Fatalf("run once back=%+v, want 6 delivered", got)
	}
	clock.Add(24 * time.Hour)
	MustRun(t, d)
	seen := map[string]int{}
	for _, rc := range r.delivered() {
		seen[rc.ID]++
	}
	if got, want := len(seen), 6; got != want {
		t.Fatalf("events delivered=%d, want %d (5 call.ended, 1 campaign.completed)", got, want)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("event %s delivered %d times, want once", id, n)
		}
	}

	// POST /events/{id}/redeliver sends one again, under the same id, with the same body.
	again := ringfence.EventID(ringfence.EventCallEnded, calls[0].ID)
	req := MustEvent(t, "api-redeliver-event.json")
	req.PathParameters = map[string]string{"id": again}
	MustDecode(t, invoke(t, h.srv.Management(), req), 202, nil)
	clock.Add(time.Second)
	if got := MustRun(t, d); got.Delivered != 1 {
		t.Fatalf("run after redeliver=%+v, want 1 delivered", got)
	}
	if got := r.delivered(); got[len(got)-1].ID != again {
		t.Fatalf("redelivered %s, want %s", got[len(got)-1].ID, again)
	}
}

// A receiver that never accepts: the event is attempted MaxDeliveryAttempts times over more than
// a day, then marked failed, and the deliveries list shows every attempt's status code.
func TestLastFailedAttemptMarksEventFailed(t *testing.T) {
	h := MustHarness(t)
	clock := &testClock{now: time.Now()}
	r, srv := newReceiver(t, clock, func(string, int) int { return http.StatusBadGateway })
	ep := h.MustEndpointFor(t, r, srv.URL, ringfence.EventCallEnded)
	_, calls := h.MustCreateCampaign(t, 1)
	if _, _, err := h.env.Store.ApplyCallEvent(context.Background(), calls[0].ID, ringfence.CallEvent{Provider: ringfence.ProviderBolna, Status: ringfence.StatusNoAnswer}); err != nil {
		t.Fatal(err)
	}
	d := h.deliverer(clock)
	start := clock.Now()
	for range 100 {
		clock.Add(time.Minute)
		MustRun(t, d)
		if clock.Now().Sub(start) > 48*time.Hour {
			break
		}
		clock.Add(59 * time.Minute)
		MustRun(t, d)
	}
	if got, want := len(r.receipts), ringfence.MaxDeliveryAttempts; got != want {
		t.Fatalf("attempts=%d, want %d", got, want)
	}
	del, err := h.env.Store.GetDelivery(context.Background(), ringfence.EventID(ringfence.EventCallEnded, calls[0].ID), ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if del.Status != ringfence.DeliveryFailed {
		t.Fatalf("delivery status=%s, want failed", del.Status)
	}
	req := MustEvent(t, "api-list-endpoint-deliveries.json")
	req.PathParameters = map[string]string{"id": ep.ID}
	var out struct {
		Deliveries []struct {
			StatusCode int `json:"status_code"`
			Attempt    int `json:"attempt"`
		} `json:"deliveries"`
	}
	MustDecode(t, invoke(t, h.srv.Management(), req), 200, &out)
	if len(out.Deliveries) != ringfence.MaxDeliveryAttempts || out.Deliveries[0].StatusCode != 502 || out.Deliveries[0].Attempt != ringfence.MaxDeliveryAttempts {
		t.Fatalf("deliveries=%+v, want %d attempts, newest first, each a 502", out.Deliveries, ringfence.MaxDeliveryAttempts)
	}

	// The dashboard shows the endpoint failing.
	dash := MustEvent(t, "api-healthz.json")
	dash.RouteKey, dash.RawPath = "GET /dashboard", "/dashboard"
	dash.RequestContext.RouteKey, dash.RequestContext.HTTP.Path = dash.RouteKey, dash.RawPath
	dash.Headers = map[string]string{"authorization": "Bearer " + testAPIKey}
	page := invoke(t, h.srv.Management(), dash)
	if page.StatusCode != 200 || !strings.Contains(page.Body, `data-endpoint="`+ep.ID+`"`) || !strings.Contains(page.Body, "failing") {
		t.Fatalf("dashboard status=%d, want 200 showing endpoint %s failing:\n%s", page.StatusCode, ep.ID, page.Body)
	}
}

// The endpoint samples in events/ serve: create, list, rotate the secret, list deliveries,
// redeliver an event, delete; and a plain http:// URL is refused outside local runs.
func TestEndpointSamplesServe(t *testing.T) {
	h := MustHarness(t)
	api := h.srv.Management()
	var created struct {
		ID     string   `json:"id"`
		Secret string   `json:"secret"`
		Events []string `json:"events"`
	}
	MustDecode(t, invoke(t, api, MustEvent(t, "api-create-endpoint.json")), 201, &created)
	if created.ID == "" || len(created.Secret) < len("whsec_")+40 || created.Secret[:6] != "whsec_" || len(created.Events) != 4 {
		t.Fatalf("created=%+v, want an id, a whsec_ secret and the 4 event types", created)
	}
	withID := func(name, id string) events.APIGatewayV2HTTPRequest {
		req := MustEvent(t, name)
		req.PathParameters = map[string]string{"id": id}
		return req
	}
	var list struct {
		Endpoints []struct {
			ID     string `json:"id"`
			Secret string `json:"secret"`
			Health struct {
				Status string `json:"status"`
			} `json:"health"`
		} `json:"endpoints"`
	}
	MustDecode(t, invoke(t, api, MustEvent(t, "api-list-endpoints.json")), 200, &list)
	if len(list.Endpoints) != 1 || list.Endpoints[0].ID != created.ID || list.Endpoints[0].Secret != "" || list.Endpoints[0].Health.Status != "unknown" {
		t.Fatalf("list=%+v, want the endpoint, without its secret, health unknown", list)
	}
	var rotated struct{ Secret string }
	MustDecode(t, invoke(t, api, withID("api-rotate-endpoint-secret.json", created.ID)), 200, &rotated)
	if rotated.Secret == created.Secret || rotated.Secret[:6] != "whsec_" {
		t.Fatalf("rotated secret=%s, want a new whsec_ secret", rotated.Secret)
	}
	MustDecode(t, invoke(t, api, withID("api-list-endpoint-deliveries.json", created.ID)), 200, nil)
	MustDecode(t, invoke(t, api, withID("api-redeliver-event.json", "evt_missing")), 404, nil)
	MustDecode(t, invoke(t, api, withID("api-delete-endpoint.json", created.ID)), 200, nil)
	MustDecode(t, invoke(t, api, withID("api-delete-endpoint.json", created.ID)), 404, nil)

	for _, body := range []string{
		`{"url": "http://crm.example.com/hook", "events": ["call.ended"]}`,
		`{"url": "http://127.0.0.1:8080/hook", "events": ["call.ended"]}`,
		`{"url": "https://crm.example.com/hook", "events": ["call.started"]}`,
		`{"url": "https://crm.example.com/hook", "events": []}`,
		`{"url": "ftp://crm.example.com/hook", "events": ["call.ended"]}`,
	} {
		req := MustEvent(t, "api-create-endpoint.json")
		req.Body = body
		MustDecode(t, invoke(t, api, req), 400, nil)
	}
}

// A call the sweep ended, then corrected by the provider's late report: the endpoint receives
// call.corrected only after call.ended, even while call.ended keeps failing.
func TestCorrectionNeverOvertakesTheEnd(t *testing.T) {
	h := MustHarness(t)
	ctx := context.Background()
	clock := &testClock{now: time.Now()}
	_, calls := h.MustCreateCampaign(t, 1)
	endedID := ringfence.EventID(ringfence.EventCallEnded, calls[0].ID)
	r, srv := newReceiver(t, clock, func(id string, seen int) int {
		if id == endedID && seen <= 3 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	h.MustEndpointFor(t, r, srv.URL, ringfence.EventCallEnded, ringfence.EventCallCorrected)
	c, err := h.env.Store.GetCall(ctx, calls[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	sweep := ringfence.CallEvent{Provider: ringfence.ProviderBolna, Status: ringfence.StatusFailed, EndReason: "stale", Sweep: true, SeenActivity: c.LastActivity}
	if _, res, err := h.env.Store.ApplyCallEvent(ctx, c.ID, sweep); err != nil || res != ringfence.ResultFirstTerminal {
		t.Fatalf("sweep=%s, %v, want the first terminal transition", res, err)
	}
	late := ringfence.CallEvent{Provider: ringfence.ProviderBolna, Status: ringfence.StatusCompleted, EndReason: "completed"}
	if _, _, err := h.env.Store.ApplyCallEvent(ctx, c.ID, late); err != nil {
		t.Fatal(err)
	}

	d := h.deliverer(clock)
	for range 10 {
		clock.Add(time.Minute)
		MustRun(t, d)
		clock.Add(30 * time.Minute)
		MustRun(t, d)
	}
	var order []string
	for _, rc := range r.receipts {
		order = append(order, rc.Type+"/"+http.StatusText(rc.Status))
	}
	got := r.delivered()
	if len(got) != 2 || got[0].Type != ringfence.EventCallEnded || got[1].Type != ringfence.EventCallCorrected {
		t.Fatalf("delivered in order %v, want call.ended then call.corrected", order)
	}
	for _, rc := range r.receipts {
		if rc.Type == ringfence.EventCallCorrected {
			break
		}
		if rc.Type == ringfence.EventCallEnded && rc.Status == http.StatusOK {
			return
		}
	}
	t.Fatalf("requests in order %v: call.corrected was sent before call.ended was delivered", order)
}

// An event that cannot be sent (its call cannot be read) holds back no other: the run delivers the rest
// and reports the error, so the function's error alarm shows it.
func TestUnsendableEventHoldsBackNoOther(t *testing.T) {
	h := MustHarness(t)
	ctx := context.Background()
	clock := &testClock{}
	r, srv := newReceiver(t, clock, func(string, int) int { return http.StatusOK })
	h.MustEndpointFor(t, r, srv.URL, ringfence.EventCallEnded)
	_, calls := h.MustCreateCampaign(t, 2)
	for _, c := range calls {
		if _, _, err := h.env.Store.ApplyCallEvent(ctx, c.ID, ringfence.CallEvent{Provider: ringfence.ProviderBolna, Status: ringfence.StatusBusy}); err != nil {
			t.Fatal(err)
		}
	}
	d := h.deliverer(clock)
	d.Render = func(ctx context.Context, ev ringfence.Event) ([]byte, error) {
		if ev.SubjectID == calls[0].ID {
			return nil, ringfence.Errorf(ringfence.ENOTFOUND, "call %s not found", ev.SubjectID)
		}
		return h.srv.EventBody(ctx, ev)
	}
	clock.Add(time.Second)
	if _, err := d.Run(ctx); err == nil {
		t.Fatalf("run err=nil, want the unsendable event's error")
	}
	got := r.delivered()
	if len(got) != 1 || got[0].CallID != calls[1].ID {
		t.Fatalf("delivered %+v, want the other call's call.ended", got)
	}
}

// An endpoint cannot reach inside: the URLs the attack test registered are refused (400), and
// one whose name leads to a refused address later is not dialled. What GET
// /endpoints/{id}/deliveries shows of a failed attempt is its class, never the dial error, which
// would map the hosts and ports behind the deliverer.
func TestEndpointsCannotReachInside(t *testing.T) {
	h := MustHarness(t)
	for _, u := range []string{
		"https://169.254.169.254/latest/meta-data/", "https://10.0.0.1/", "https://192.168.1.1:8443",
		"https://[::ffff:169.254.169.254]/", "https://2130706433/", "https://localhost:2375",
		"https://metadata.google.internal/", "https://[fd00::1]/", "https://0x7f.1/", "https://[fd00:ec2::254]/",
	} {
		req := MustEvent(t, "api-create-endpoint.json")
		req.Body = `{"url": "` + u + `", "events": ["call.ended"]}`
		resp := invoke(t, h.srv.Management(), req)
		if resp.StatusCode != 400 || strings.Contains(resp.Body, u) {
			t.Fatalf("POST /endpoints %s: status=%d body=%s, want 400 not echoing the URL", u, resp.StatusCode, resp.Body)
		}
	}

	clock := &testClock{now: time.Now()}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	r, open := newReceiver(t, clock, func(string, int) int { return http.StatusNoContent })
	refused := h.MustEndpointFor(t, r, closed.URL, ringfence.EventCallEnded)
	blocked := h.MustEndpointFor(t, r, open.URL, ringfence.EventCallEnded)
	_, calls := h.MustCreateCampaign(t, 1)
	if _, _, err := h.env.Store.ApplyCallEvent(context.Background(), calls[0].ID, ringfence.CallEvent{Provider: ringfence.ProviderBolna, Status: ringfence.StatusNoAnswer}); err != nil {
		t.Fatal(err)
	}
	d := h.deliverer(clock)
	d.Client = outbound.NewHTTPClient(outbound.Policy{}) // As on AWS: loopback is inside.
	clock.Add(time.Second)
	MustRun(t, d)
	if len(r.receipts) != 0 {
		t.Fatalf("the receiver on loopback got %d requests, want none", len(r.receipts))
	}
	d.Client = outbound.NewHTTPClient(outbound.Policy{AllowLoopback: true})
	clock.Add(2 * time.Minute)
	MustRun(t, d)
	// Newest first: the closed port's second attempt is refused; the first attempts were blocked.
	for ep, want := range map[string][2]string{refused.ID: {"refused", "blocked"}, blocked.ID: {"", "blocked"}} {
		req := MustEvent(t, "api-list-endpoint-deliveries.json")
		req.PathParameters = map[string]string{"id": ep}
		var out struct {
			Deliveries []struct {
				Error string `json:"error"`
			} `json:"deliveries"`
		}
		MustDecode(t, invoke(t, h.srv.Management(), req), 200, &out)
		if len(out.Deliveries) != 2 || out.Deliveries[0].Error != want[0] || out.Deliveries[1].Error != want[1] {
			t.Fatalf("deliveries of %s=%+v, want attempts %q, newest first", ep, out.Deliveries, want)
		}
		for _, a := range out.Deliveries {
			if strings.Contains(a.Error, "dial") || strings.Contains(a.Error, "127.0.0.1") {
				t.Fatalf("deliveries show the dial error: %q", a.Error)
			}
		}
	}
}
