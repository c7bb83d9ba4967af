package httpapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/httpapi"
	"github.com/ringfence/ringfence/shared/retell"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// The call the sample Vapi end-of-call report is about.
const (
	vapiSampleCallID     = "call_sch_cus_1_daily_20260101_a1"
	vapiSampleProviderID = "2b1f2d1c-7c1e-4a57-9d7e-6e2f4b1c9a10"
)

// MustVapiCampaignCall creates a one-contact Vapi campaign whose call, holding a campaign slot,
// is the one the sample end-of-call report is about.
func (h *harness) MustVapiCampaignCall(tb testing.TB) ringfence.Campaign {
	tb.Helper()
	ctx := context.Background()
	campaign, err := h.env.Store.CreateCampaign(ctx, ringfence.Campaign{ID: dynamo.NewID("cmp"), AccountID: "acct_test", Name: "outage", Provider: ringfence.ProviderVapi, AgentID: "assistant-1", FromNumber: "phone-number-1"},
		[]ringfence.Contact{{Phone: "+15551234567"}})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := h.env.Store.CreateCallWithSlot(ctx, ringfence.Call{ID: vapiSampleCallID, AccountID: "acct_test", CampaignID: campaign.ID, ContactID: dynamo.ContactID(0), Provider: ringfence.ProviderVapi}, ringfence.SlotCampaign, 5); err != nil {
		tb.Fatal(err)
	}
	if err := h.env.Store.RecordProviderCallID(ctx, vapiSampleCallID, vapiSampleProviderID); err != nil {
		tb.Fatal(err)
	}
	return campaign
}

// vapiReport is the sample end-of-call report, with the harness's secret.
func vapiReport(tb testing.TB) events.APIGatewayV2HTTPRequest {
	req := MustEvent(tb, "vapi-webhook-end-of-call-report.json")
	req.Headers["x-vapi-secret"] = testVapiSecret
	return req
}

// Vapi retries nothing by default. A Vapi end-of-call report delivered while DynamoDB fails is
// therefore kept and answered 2xx, and once the store recovers the sweep applies it: the outcome
// and cost arrive exactly once, and the slot is released once, however often the report was
// delivered meanwhile and however often the sweep runs. Only when even keeping the report fails
// is the answer a 5xx, which leaves nothing behind.
func TestEndOfCallReportDuringAnOutageIsKept(t *testing.T) {
	h := MustHarness(t)
	ctx := context.Background()
	campaign := h.MustVapiCampaignCall(t)
	var reads, all atomic.Bool
	faulty := h.serverWith(dynamotest.FailWhileDown(&reads, "GetItem", "Query", "UpdateItem"), dynamotest.FailWhileDown(&all)).VapiWebhook()

	all.Store(true)
	if resp := invoke(t, faulty, vapiReport(t)); resp.StatusCode < 500 {
		t.Fatalf("with the whole store down: status=%d body=%s, want 5xx", resp.StatusCode, resp.Body)
	}
	if kept, err := h.env.Store.AllParked(ctx); err != nil || len(kept) != 0 {
		t.Fatalf("kept=%v (%v) after a refused delivery, want nothing", kept, err)
	}
	all.Store(false)

	reads.Store(true)
	for range 2 { // The same report twice: kept once.
		var reply struct{ Result string }
		MustDecode(t, invoke(t, faulty, vapiReport(t)), 202, &reply)
		if reply.Result != "kept" {
			t.Fatalf("result=%q, want kept", reply.Result)
		}
	}
	events, err := h.env.Store.ParkedEvents(ctx, ringfence.ProviderVapi, vapiSampleProviderID)
	if err != nil || len(events) != 1 {
		t.Fatalf("kept events=%d (%v), want the report kept once", len(events), err)
	}
	if got := h.MustGetCampaign(t, campaign.ID); got.CallsCompleted != 0 {
		t.Fatalf("campaign during the outage=%+v, want nothing counted yet", got)
	}
	reads.Store(false)

	for i := range 3 {
		r, err := h.calls.Sweep(ctx, time.Now())
		if want := map[bool]int{true: 1, false: 0}[i == 0]; err != nil || r.KeptEventsApplied != want {
			t.Fatalf("sweep %d: %+v, %v; want %d kept event applied", i, r, err, want)
		}
	}
	var reply struct{ Result string }
	MustDecode(t, invoke(t, h.srv.VapiWebhook(), vapiReport(t)), 200, &reply)
	if reply.Result != string(ringfence.ResultDuplicate) {
		t.Fatalf("the report delivered again: result=%q, want duplicate", reply.Result)
	}
	h.assertCounters(t, campaign.ID, 1, map[string]int{"completed": 1}, ringfence.MustParseDecimal("0.1234"))
	call, err := h.env.Store.GetCall(ctx, vapiSampleCallID)
	if err != nil || call.Cost.String() != "0.1234" || call.Duration.String() != "65.5" || call.Outcome != ringfence.StatusCompleted {
		t.Fatalf("call=%+v (%v), want completed, 0.1234 for 65.5 s", call, err)
	}
	counts, held, err := h.env.Store.ListSlots(ctx, "acct_test")
	if err != nil || counts[ringfence.SlotCampaign] != 0 || len(held) != 0 {
		t.Fatalf("slots in use=%d held=%d (%v), want none", counts[ringfence.SlotCampaign], len(held), err)
	}
	if kept, err := h.env.Store.AllParked(ctx); err != nil || len(kept) != 0 {
		t.Fatalf("kept=%v (%v) after the sweep, want nothing left", kept, err)
	}
}

// Events for one unknown provider call are parked at most dynamo.MaxParkedPerCall at once; a
// replayed identical delivery is parked once and answered as before, and past the cap a new
// event is refused with 429 and a clear message, never stored or dropped silently. Once the
// call is known its events are applied and the cap counts afresh.
func TestParkedEventsAreCappedAndDeduplicated(t *testing.T) {
	h := MustHarness(t)
	ctx := context.Background()
	delivery := func(i int) events.APIGatewayV2HTTPRequest {
		body := fmt.Sprintf(`{"id":"exec-unknown","status":"ringing","updated_at":"2026-01-01T00:00:%02d.%06d"}`, i/1000000, i%1000000)
		return bolnaDelivery(t, []byte(body))
	}
	handler := h.srv.BolnaWebhook()
	for i := range dynamo.MaxParkedPerCall {
		MustDecode(t, invoke(t, handler, delivery(i)), 202, nil)
	}
	for range 3 { // Replays of a delivery already parked: parked once, answered as before.
		MustDecode(t, invoke(t, handler, delivery(0)), 202, nil)
	}
	var refused struct{ Error, Message string }
	MustDecode(t, invoke(t, handler, delivery(dynamo.MaxParkedPerCall)), 429, &refused)
	if refused.Error != ringfence.ETOOMANY || refused.Message == "" {
		t.Fatalf("refusal=%+v, want too_many with a message", refused)
	}
	parked, err := h.env.Store.ParkedEvents(ctx, ringfence.ProviderBolna, "exec-unknown")
	if err != nil || len(parked) != dynamo.MaxParkedPerCall {
		t.Fatalf("parked=%d (%v), want %d", len(parked), err, dynamo.MaxParkedPerCall)
	}

	// The call becomes known: its parked events are applied and removed, and the count with them.
	if err := h.env.Store.CreateCall(ctx, ringfence.Call{ID: "call_parked", AccountID: "acct_test", Provider: ringfence.ProviderBolna, Status: ringfence.StatusInitiated, ProviderCallID: "exec-unknown"}); err != nil {
		t.Fatal(err)
	}
	if r, err := h.calls.Sweep(ctx, time.Now()); err != nil || r.KeptEventsApplied != dynamo.MaxParkedPerCall {
		t.Fatalf("sweep: %+v, %v; want the %d parked events applied", r, err, dynamo.MaxParkedPerCall)
	}
	if parked, err := h.env.Store.ParkedEvents(ctx, ringfence.ProviderBolna, "exec-unknown"); err != nil || len(parked) != 0 {
		t.Fatalf("parked after the sweep=%d (%v), want none", len(parked), err)
	}
	if err := h.env.Store.ParkEvent(ctx, ringfence.CallEvent{Provider: ringfence.ProviderBolna, ProviderCallID: "exec-unknown", Status: ringfence.StatusRinging, Version: "later"}); err != nil {
		t.Fatalf("parking once the earlier events were applied: %v, want it kept", err)
	}
}

// Retell signs each delivery anew, so a replayed webhook differs from the first only in its
// signature: for a call not known yet it is parked once, however often it is replayed.
func TestReplayedRetellWebhookIsParkedOnce(t *testing.T) {
	h := MustHarness(t)
	const key = "test-retell-key"
	srv := httpapi.NewServer(h.env.Store, h.calls, httpapi.Config{APIKey: testAPIKey, AccountID: "acct_test", RetellAPIKey: key}, slog.New(slog.NewJSONHandler(h.logs, nil)))
	body, err := os.ReadFile(filepath.Join("..", "retell", "testdata", "call-ended.json"))
	if err != nil {
		t.Fatal(err)
	}
	req := MustEvent(t, "retell-webhook-call-ended.json")
	req.Body = string(body)
	for i := range 3 {
		req.Headers["x-retell-signature"] = retell.Sign(body, key, time.Now().Add(time.Duration(i)*time.Second))
		var reply struct{ Result string }
		MustDecode(t, invoke(t, srv.RetellWebhook(), req), 202, &reply)
		if reply.Result != "parked" {
			t.Fatalf("replay %d: result=%q, want parked", i, reply.Result)
		}
	}
	parked, err := h.env.Store.ParkedEvents(context.Background(), ringfence.ProviderRetell, "Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6")
	if err != nil || len(parked) != 1 {
		t.Fatalf("parked=%d (%v), want the replayed webhook parked once", len(parked), err)
	}
}
