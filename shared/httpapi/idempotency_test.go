package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/calling"
	"github.com/ringfence/ringfence/shared/httpapi"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// countingDialer accepts every call and counts them.
type countingDialer struct{ n *atomic.Int64 }

func (d countingDialer) Dial(ctx context.Context, req ringfence.DialRequest) (string, error) {
	return fmt.Sprintf("exec-idem-%d", d.n.Add(1)), nil
}

// A client that retries POST /calls with its Idempotency-Key dials once: 50 identical requests at
// once make one call, and every answer that is not "still running" is the first one. The same key
// with another request is refused. POST /campaigns creates one campaign per key in the same way.
func TestIdempotencyKeyMakesOneCall(t *testing.T) {
	h := MustHarness(t)
	var dials atomic.Int64
	log := slog.New(slog.NewJSONHandler(h.logs, nil))
	calls := calling.New(h.env.Store, map[ringfence.Provider]ringfence.Dialer{ringfence.ProviderBolna: countingDialer{&dials}}, calling.Defaults{DirectLimit: 100, CampaignLimit: 10}, log)
	srv := httpapi.NewServer(h.env.Store, calls, httpapi.Config{APIKey: testAPIKey, AccountID: "acct_test"}, log)
	place := func(key, to string) events.APIGatewayV2HTTPRequest {
		req := MustEvent(t, "api-place-call.json")
		req.Headers = map[string]string{"authorization": "Bearer " + testAPIKey, "idempotency-key": key}
		req.Body = `{"to":"` + to + `","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100"}`
		return req
	}

	var wg sync.WaitGroup
	responses := make([]events.APIGatewayV2HTTPResponse, 50)
	for i := range responses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			responses[i] = invoke(t, srv.Management(), place("retry-1", "+14155550123"))
		}()
	}
	wg.Wait()
	if got := dials.Load(); got != 1 {
		t.Fatalf("50 requests with one Idempotency-Key dialled %d calls, want 1", got)
	}
	first := ""
	for _, resp := range responses {
		switch resp.StatusCode {
		case 201:
			if first == "" {
				first = resp.Body
			}
			if resp.Body != first {
				t.Fatalf("answers differ: %s and %s", first, resp.Body)
			}
		case 409:
		default:
			t.Fatalf("status=%d body=%s, want 201 or 409", resp.StatusCode, resp.Body)
		}
	}
	again := invoke(t, srv.Management(), place("retry-1", "+14155550123"))
	if again.StatusCode != 201 || (first != "" && again.Body != first) {
		t.Fatalf("retry after the first finished: status=%d body=%s, want 201 and %s", again.StatusCode, again.Body, first)
	}
	if dials.Load() != 1 {
		t.Fatalf("the retry dialled again: %d dials", dials.Load())
	}
	other := invoke(t, srv.Management(), place("retry-1", "+14155550999"))
	if other.StatusCode != 409 || !strings.Contains(other.Body, "different request") {
		t.Fatalf("same key, other request: status=%d body=%s, want 409", other.StatusCode, other.Body)
	}
	if resp := invoke(t, srv.Management(), place("retry-2", "+14155550123")); resp.StatusCode != 201 || dials.Load() != 2 {
		t.Fatalf("a new key: status=%d dials=%d, want 201 and a second call", resp.StatusCode, dials.Load())
	}

	create := MustEvent(t, "api-create-campaign.json")
	create.Headers = map[string]string{"authorization": "Bearer " + testAPIKey, "idempotency-key": "campaign-1"}
	create.Body = `{"name":"once","provider":"bolna","agent_id":"a","from_number":"+14155550100","contacts":[{"phone":"+14155550101"}]}`
	var a, b campaignView
	MustDecode(t, invoke(t, srv.Management(), create), 201, &a)
	MustDecode(t, invoke(t, srv.Management(), create), 201, &b)
	list := MustEvent(t, "api-get-campaign.json")
	list.RouteKey, list.PathParameters = "GET /campaigns", nil
	var got struct {
		Campaigns []json.RawMessage `json:"campaigns"`
	}
	MustDecode(t, invoke(t, srv.Management(), list), 200, &got)
	if a.ID != b.ID || len(got.Campaigns) != 1 {
		t.Fatalf("two creations with one key: ids %s and %s, %d campaigns; want one", a.ID, b.ID, len(got.Campaigns))
	}
}

// A retry is the same request however its JSON is laid out: the same fields with the keys in
// another order, or other whitespace, get the first answer, not 409. Other values are another
// request.
func TestIdempotencyComparesTheParsedRequest(t *testing.T) {
	h := MustHarness(t)
	create := func(body string) events.APIGatewayV2HTTPResponse {
		req := MustEvent(t, "api-create-campaign.json")
		req.Headers["idempotency-key"] = "reordered-1"
		req.Body = body
		return invoke(t, h.srv.Management(), req)
	}
	first := create(`{"name":"spring","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100","contacts":[{"name":"Ann","phone":"+14155550101"}]}`)
	MustDecode(t, first, 201, nil)
	again := create("{ \"contacts\": [ {\"phone\": \"+14155550101\", \"name\": \"Ann\"} ],\n \"from_number\": \"+14155550100\", \"agent_id\": \"agent-1\", \"provider\": \"bolna\", \"name\": \"spring\" }")
	if again.StatusCode != 201 || again.Body != first.Body {
		t.Fatalf("the same request with its keys reordered: status=%d body=%s, want the first answer %s", again.StatusCode, again.Body, first.Body)
	}
	other := create(`{"name":"autumn","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100","contacts":[{"name":"Ann","phone":"+14155550101"}]}`)
	if other.StatusCode != 409 {
		t.Fatalf("another request with the key: status=%d, want 409", other.StatusCode)
	}
}
