package httpapi_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/bolna"
	"github.com/ringfence/ringfence/shared/calling"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/httpapi"
	"github.com/ringfence/ringfence/shared/retell"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// testRetellKey is the Retell API key the conformance harness verifies signatures with.
const testRetellKey = "key_test_retell_0123456789"

// mustProviderFixture reads a fixture of a provider adapter's testdata (named, with its source,
// in that package's testdata/README.md).
func mustProviderFixture(tb testing.TB, provider ringfence.Provider, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", string(provider), "testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// mustCallFor creates a campaign and, for its first contact, the call an event reports on, with
// the ids the event carries (the provider's, and ringfence's own when the provider echoes it), as
// placing the call would have recorded them.
func (h *harness) mustCallFor(tb testing.TB, ev ringfence.CallEvent) campaignView {
	tb.Helper()
	var c campaignView
	MustDecode(tb, invoke(tb, h.srv.Management(), MustEvent(tb, "api-create-campaign.json")), 201, &c)
	id := ev.CallID
	if id == "" {
		id = dynamo.NewID("call")
	}
	call := ringfence.Call{ID: id, AccountID: "acct_test", CampaignID: c.ID, ContactID: dynamo.ContactID(0),
		Provider: ev.Provider, ProviderCallID: ev.ProviderCallID, Status: ringfence.StatusInitiated}
	if err := h.env.Store.CreateCall(context.Background(), call); err != nil {
		tb.Fatalf("CreateCall: %v", err)
	}
	return c
}

// assertOutcome checks that the campaign counted one call, with outcome and cost.
func (h *harness) assertOutcome(tb testing.TB, campaignID string, outcome ringfence.CallStatus, cost string) {
	tb.Helper()
	got := h.MustGetCampaign(tb, campaignID)
	if got.CallsCompleted != 1 || got.Outcomes[string(outcome)] != 1 || got.TotalCost != cost {
		tb.Fatalf("campaign=%+v, want one %s call costing %s", got, outcome, cost)
	}
}

// Bolna's published example payloads, delivered to the webhook as Bolna sends them, end their
// calls with the outcome Bolna's documentation gives them.
func TestBolnaConformance(t *testing.T) {
	tests := []struct {
		fixture string
		outcome ringfence.CallStatus
		cost    string
	}{
		{"execution-completed.json", ringfence.StatusCompleted, "0.1271"},
		{"execution-integer-id.json", ringfence.StatusCompleted, "1.23"},
		{"execution-voicemail.json", ringfence.StatusNoAnswer, "1.23"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			h := MustHarness(t)
			body := mustProviderFixture(t, ringfence.ProviderBolna, tt.fixture)
			campaign := h.mustCallFor(t, mustParseBolna(t, body))
			var reply struct{ Result string }
			MustDecode(t, invoke(t, h.srv.BolnaWebhook(), bolnaDelivery(t, body)), 200, &reply)
			if reply.Result != string(ringfence.ResultFirstTerminal) {
				t.Fatalf("result=%s, want first_terminal", reply.Result)
			}
			h.assertOutcome(t, campaign.ID, tt.outcome, tt.cost)
		})
	}
}

// A Bolna custom function configured with "method": "GET" sends its parameters in the query
// string, as Bolna's documentation example does; the tool token comes in the Authorization header
// (the function's api_token) or in the URL.
func TestBolnaToolByGET(t *testing.T) {
	h := MustHarness(t)
	sample := mustParseBolna(t, []byte(MustEvent(t, "bolna-webhook-completed.json").Body))
	campaign := h.mustCallFor(t, sample)
	var reply struct {
		Success bool   `json:"success"`
		Day     string `json:"reschedule_day"`
	}
	MustDecode(t, invoke(t, h.srv.Tools(), MustEvent(t, "tools-reschedule-lead-get.json")), 200, &reply)
	if !reply.Success || reply.Day != "friday" {
		t.Fatalf("reply=%+v, want friday stored", reply)
	}
	tokenInURL := MustEvent(t, "tools-reschedule-lead-get.json")
	delete(tokenInURL.Headers, "authorization")
	tokenInURL.QueryStringParameters = map[string]string{"token": testBolnaToken, "execution_id": sample.ProviderCallID, "day": "Monday"}
	MustDecode(t, invoke(t, h.srv.Tools(), tokenInURL), 200, &reply)
	if !reply.Success || reply.Day != "monday" {
		t.Fatalf("token in the URL: reply=%+v, want monday stored", reply)
	}
	calls := h.MustListCalls(t, campaign.ID).Calls
	if len(calls) != 1 || calls[0].RescheduleDay == nil || *calls[0].RescheduleDay != "monday" {
		t.Fatalf("calls=%+v, want reschedule_day monday", calls)
	}
	noToken := MustEvent(t, "tools-reschedule-lead-get.json")
	delete(noToken.Headers, "authorization")
	if resp := invoke(t, h.srv.Tools(), noToken); resp.StatusCode != 401 {
		t.Fatalf("GET without the token: status=%d, want 401", resp.StatusCode)
	}
}

// retellHarness is a harness whose server verifies Retell's signatures with testRetellKey.
func mustRetellHarness(tb testing.TB) *harness {
	tb.Helper()
	h := MustHarness(tb)
	logger := slog.New(slog.NewJSONHandler(h.logs, nil))
	h.srv = httpapi.NewServer(h.env.Store, calling.New(h.env.Store, nil, calling.Defaults{DirectLimit: 5, CampaignLimit: 10}, logger), httpapi.Config{
		APIKey: testAPIKey, AccountID: "acct_test", BolnaWebhookToken: testBolnaToken, RetellAPIKey: testRetellKey,
	}, logger)
	return h
}

// retellDelivery is the sample Retell webhook event with another body, signed now as Retell signs.
func (h *harness) retellDelivery(tb testing.TB, body []byte) events.APIGatewayV2HTTPRequest {
	req := MustEvent(tb, "retell-webhook-call-ended.json")
	req.Body, req.IsBase64Encoded = string(body), false
	req.Headers = map[string]string{"content-type": "application/json", retell.SignatureHeader: retell.Sign(body, testRetellKey, h.srv.Now())}
	return req
}

// Retell's webhooks, in the shapes of its documentation and SDK types and with their timestamps
// in each form, delivered signed to the webhook, end their calls with the outcome Retell's
// documentation gives them.
func TestRetellConformance(t *testing.T) {
	tests := []struct {
		fixture string
		outcome ringfence.CallStatus
		cost    string
	}{
		{"call-ended.json", ringfence.StatusCompleted, "0.7"},
		{"call-ended-iso-timestamps.json", ringfence.StatusCompleted, "0.7"},
		{"call-ended-epoch-seconds.json", ringfence.StatusCompleted, "0.7"},
		{"call-ended-numeric-strings.json", ringfence.StatusCompleted, "0.7"},
		{"call-analyzed-voicemail.json", ringfence.StatusNoAnswer, "0.7"},
		{"call-ended-no-answer.json", ringfence.StatusNoAnswer, "0"},
		// Retell's own concurrency limit ended the call: the call is failed, but its campaign
		// contact is not; it is queued again (see assertQueuedAgain).
		{"call-ended-concurrency-limit.json", ringfence.StatusFailed, "0"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			h := mustRetellHarness(t)
			body := mustProviderFixture(t, ringfence.ProviderRetell, tt.fixture)
			w, err := retell.ParseWebhook(body)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := w.CallEvent()
			if err != nil {
				t.Fatal(err)
			}
			campaign := h.mustCallFor(t, ev)
			var reply struct{ Result string }
			MustDecode(t, invoke(t, h.srv.RetellWebhook(), h.retellDelivery(t, body)), 200, &reply)
			if reply.Result != string(ringfence.ResultFirstTerminal) {
				t.Fatalf("result=%s, want first_terminal", reply.Result)
			}
			if ev.AtCapacity {
				h.assertQueuedAgain(t, campaign.ID, ev, tt.outcome)
				return
			}
			h.assertOutcome(t, campaign.ID, tt.outcome, tt.cost)
		})
	}
}

// assertQueuedAgain checks a campaign call the provider ended for its own concurrency limit: the
// call has the outcome, the campaign counts no finished contact, and the contact's next call waits
// in the queue.
func (h *harness) assertQueuedAgain(tb testing.TB, campaignID string, ev ringfence.CallEvent, outcome ringfence.CallStatus) {
	tb.Helper()
	ctx := context.Background()
	callID, err := h.env.Store.CallIDByProviderCallID(ctx, ev.Provider, ev.ProviderCallID)
	if err != nil {
		tb.Fatal(err)
	}
	ended, err := h.env.Store.GetCall(ctx, callID)
	if err != nil {
		tb.Fatal(err)
	}
	next, err := h.env.Store.GetCall(ctx, ended.RetriedAs)
	if err != nil {
		tb.Fatalf("the contact's next call: %v", err)
	}
	if got := h.MustGetCampaign(tb, campaignID); ended.Outcome != outcome || next.Status != ringfence.StatusQueued || got.CallsCompleted != 0 {
		tb.Fatalf("call=%s next=%s campaign=%+v, want %s, a queued next call and no contact finished", ended.Outcome, next.Status, got, outcome)
	}
}

// A voicemail pickup is no-answer on every provider that reports one.
func TestVoicemailIsNoAnswerOnBolnaAndRetell(t *testing.T) {
	ev := mustParseBolna(t, mustProviderFixture(t, ringfence.ProviderBolna, "execution-voicemail.json"))
	if ev.Status != ringfence.StatusNoAnswer || ev.EndReason != "completed: "+bolna.VoicemailEndReason {
		t.Fatalf("Bolna voicemail: status=%s end reason=%q, want no-answer", ev.Status, ev.EndReason)
	}
	w, err := retell.ParseWebhook(mustProviderFixture(t, ringfence.ProviderRetell, "call-analyzed-voicemail.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ev, err := w.CallEvent(); err != nil || ev.Status != ringfence.StatusNoAnswer {
		t.Fatalf("Retell voicemail: status=%s (%v), want no-answer", ev.Status, err)
	}
}
