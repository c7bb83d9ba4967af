package httpapi_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/httpapi"
)

// Every way a caller can get a request wrong is answered with a clear JSON error and the right
// 4xx, and writes nothing.
func TestBadInputIsRefusedAndWritesNothing(t *testing.T) {
	h := MustHarness(t)
	campaign, calls := h.MustCreateCampaign(t, 1)
	exec := calls[0].ProviderCallID
	before, err := h.env.Store.GetCall(context.Background(), calls[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	webhook := func(mutate func(*events.APIGatewayV2HTTPRequest)) events.APIGatewayV2HTTPRequest {
		req := bolnaDelivery(t, []byte(`{"id":"`+exec+`","status":"completed","conversation_duration":10,"total_cost":5}`))
		mutate(&req)
		return req
	}
	campaignReq := func(body string, mutate func(*events.APIGatewayV2HTTPRequest)) events.APIGatewayV2HTTPRequest {
		req := MustEvent(t, "api-create-campaign.json")
		req.Body = body
		mutate(&req)
		return req
	}
	keep := func(*events.APIGatewayV2HTTPRequest) {}
	valid := `{"name":"x","provider":"bolna","agent_id":"a","from_number":"+14155550100","contacts":[{"phone":"+14155550101"}]}`
	tests := []struct {
		name    string
		handler func(*httpapi.Server) httpapi.Handler
		req     events.APIGatewayV2HTTPRequest
		status  int
		message string
	}{
		{"webhook malformed JSON", (*httpapi.Server).BolnaWebhook, webhook(func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"id": "x", ` }), 400, "not a Bolna execution"},
		{"webhook not an object", (*httpapi.Server).BolnaWebhook, webhook(func(r *events.APIGatewayV2HTTPRequest) { r.Body = `[1,2]` }), 400, "not a Bolna execution"},
		{"webhook missing id", (*httpapi.Server).BolnaWebhook, webhook(func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"status":"completed"}` }), 400, "execution id is missing"},
		{"webhook missing status", (*httpapi.Server).BolnaWebhook, webhook(func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"id":"` + exec + `"}` }), 400, "status is missing"},
		{"webhook negative cost", (*httpapi.Server).BolnaWebhook, webhook(func(r *events.APIGatewayV2HTTPRequest) {
			r.Body = `{"id":"` + exec + `","status":"completed","conversation_duration":3,"total_cost":-5}`
		}), 400, "negative"},
		{"webhook cost not a number", (*httpapi.Server).BolnaWebhook, webhook(func(r *events.APIGatewayV2HTTPRequest) {
			r.Body = `{"id":"` + exec + `","status":"completed","total_cost":"lots"}`
		}), 400, "not a decimal"},
		{"webhook bad base64", (*httpapi.Server).BolnaWebhook, webhook(func(r *events.APIGatewayV2HTTPRequest) { r.Body, r.IsBase64Encoded = "%%%", true }), 400, "base64"},
		{"webhook wrong token", (*httpapi.Server).BolnaWebhook, webhook(func(r *events.APIGatewayV2HTTPRequest) { r.QueryStringParameters = map[string]string{"token": "guess"} }), 401, "token"},
		{"webhook missing token", (*httpapi.Server).BolnaWebhook, webhook(func(r *events.APIGatewayV2HTTPRequest) { r.QueryStringParameters = nil }), 401, "token"},
		{"webhook oversized", (*httpapi.Server).BolnaWebhook, webhook(func(r *events.APIGatewayV2HTTPRequest) {
			r.Body = `{"id":"` + exec + `","status":"completed","transcript":"` + strings.Repeat("a", httpapi.MaxBodyBytes) + `"}`
		}), 413, "larger than"},
		{"campaign without key", (*httpapi.Server).Management, campaignReq(valid, func(r *events.APIGatewayV2HTTPRequest) { r.Headers = nil }), 401, "API key"},
		{"campaign wrong key", (*httpapi.Server).Management, campaignReq(valid, func(r *events.APIGatewayV2HTTPRequest) { r.Headers = map[string]string{"authorization": "Bearer nope"} }), 401, "API key"},
		{"campaign malformed JSON", (*httpapi.Server).Management, campaignReq(`{"name":`, keep), 400, "not valid"},
		{"campaign unknown field", (*httpapi.Server).Management, campaignReq(strings.Replace(valid, `"name"`, `"nmae"`, 1), keep), 400, "unknown field"},
		{"campaign missing name", (*httpapi.Server).Management, campaignReq(strings.Replace(valid, `"name":"x",`, ``, 1), keep), 400, "name is required"},
		{"campaign bad provider", (*httpapi.Server).Management, campaignReq(strings.Replace(valid, `"bolna"`, `"acme"`, 1), keep), 400, "provider"},
		{"campaign bad phone", (*httpapi.Server).Management, campaignReq(strings.Replace(valid, `+14155550101`, `555-0101`, 1), keep), 400, "E.164"},
		{"campaign duplicate phone", (*httpapi.Server).Management, campaignReq(strings.Replace(valid, `[{"phone":"+14155550101"}]`, `[{"phone":"+14155550101"},{"phone":"+14155550101"}]`, 1), keep), 400, "twice"},
		{"campaign no contacts", (*httpapi.Server).Management, campaignReq(strings.Replace(valid, `[{"phone":"+14155550101"}]`, `[]`, 1), keep), 400, "contacts"},
		{"campaign phone not a string", (*httpapi.Server).Management, campaignReq(strings.Replace(valid, `"+14155550101"`, `14155550101`, 1), keep), 400, "must be a string"},
		{"campaign trailing data", (*httpapi.Server).Management, campaignReq(valid+`{}`, keep), 400, "more than one"},
		{"unknown campaign", (*httpapi.Server).Management, func() events.APIGatewayV2HTTPRequest {
			r := MustEvent(t, "api-get-campaign.json")
			r.PathParameters = map[string]string{"id": "cmp_missing"}
			return r
		}(), 404, "not found"},
		{"tool day with control characters", (*httpapi.Server).Tools, func() events.APIGatewayV2HTTPRequest {
			r := MustEvent(t, "tools-reschedule-lead.json")
			r.Body = `{"execution_id":"` + exec + `","day":"friday\u001b[2J"}`
			return r
		}(), 400, "control character"},
		{"tool no day", (*httpapi.Server).Tools, func() events.APIGatewayV2HTTPRequest {
			r := MustEvent(t, "tools-reschedule-lead.json")
			r.Body = `{"execution_id":"` + exec + `","day":" "}`
			return r
		}(), 400, "required"},
		{"tool no call", (*httpapi.Server).Tools, func() events.APIGatewayV2HTTPRequest {
			r := MustEvent(t, "tools-reschedule-lead.json")
			r.Body = `{"day":"monday"}`
			return r
		}(), 400, "call_id or execution_id"},
		{"tool arguments not JSON", (*httpapi.Server).Tools, func() events.APIGatewayV2HTTPRequest {
			r := MustEvent(t, "tools-reschedule-lead.json")
			r.Body = `{"arguments":"{day: monday"}`
			return r
		}(), 400, "not a JSON object"},
		{"tool wrong token", (*httpapi.Server).Tools, func() events.APIGatewayV2HTTPRequest {
			r := MustEvent(t, "tools-reschedule-lead.json")
			r.Headers = map[string]string{"authorization": "Bearer nope"}
			return r
		}(), 401, "token"},
		{"tool unknown call", (*httpapi.Server).Tools, func() events.APIGatewayV2HTTPRequest {
			r := MustEvent(t, "tools-reschedule-lead.json")
			r.Body = `{"execution_id":"nobody","day":"monday"}`
			return r
		}(), 404, "not found"},
	}
	for _, tt := range tests {
		resp := invoke(t, tt.handler(h.srv), tt.req)
		var body struct{ Error, Message string }
		if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
			t.Fatalf("%s: body %q is not JSON", tt.name, resp.Body)
		}
		if resp.StatusCode != tt.status || !strings.Contains(body.Message, tt.message) || body.Error == "" {
			t.Fatalf("%s: status=%d body=%s, want %d with a message containing %q", tt.name, resp.StatusCode, resp.Body, tt.status, tt.message)
		}
	}

	// Nothing was written: the call is as it was, and the only campaign is the one made above.
	after, err := h.env.Store.GetCall(context.Background(), calls[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Status != before.Status || after.Cost != nil || after.RescheduleDay != "" || !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Fatalf("call changed by refused requests: before %+v, after %+v", before, after)
	}
	var list struct {
		Campaigns []campaignView `json:"campaigns"`
	}
	listReq := MustEvent(t, "api-get-campaign.json")
	listReq.RouteKey, listReq.PathParameters = "GET /campaigns", nil
	MustDecode(t, invoke(t, h.srv.Management(), listReq), 200, &list)
	if len(list.Campaigns) != 1 || list.Campaigns[0].ID != campaign.ID {
		t.Fatalf("campaigns=%+v, want only %s", list.Campaigns, campaign.ID)
	}
	if strings.Contains(h.logs.String(), "panic") {
		t.Fatalf("logs mention a panic: %s", h.logs.String())
	}
}

// With a source allowlist, Bolna's webhook is taken only from the listed addresses.
func TestBolnaSourceAllowlist(t *testing.T) {
	h := MustHarness(t)
	srv := httpapi.NewServer(h.env.Store, nil, httpapi.Config{BolnaWebhookToken: testBolnaToken, BolnaAllowedIPs: []string{"13.203.39.153"}}, slog.New(slog.NewJSONHandler(h.logs, nil)))
	req := bolnaDelivery(t, []byte(`{"id":"x","status":"ringing"}`))
	req.RequestContext.HTTP.SourceIP = "203.0.113.10"
	if resp := invoke(t, srv.BolnaWebhook(), req); resp.StatusCode != 401 {
		t.Fatalf("unlisted source: status=%d, want 401", resp.StatusCode)
	}
}

// A JSON body that names a field twice is refused with 400, at any depth, before anything is
// written: which of the two values counts would otherwise be up to the parser.
func TestDuplicateJSONKeysAreRefused(t *testing.T) {
	h := MustHarness(t)
	for _, tt := range []struct{ event, body string }{
		{"api-create-campaign.json", `{"name":"a","name":"b","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100","contacts":[{"phone":"+14155550101"}]}`},
		{"api-create-campaign.json", `{"name":"a","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100","contacts":[{"phone":"+14155550101","phone":"+14155550102"}]}`},
		{"api-create-campaign.json", `{"name":"a","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100","contacts":[{"phone":"+14155550101","variables":{"x":"1","x":"2"}}]}`},
		{"api-place-call.json", `{"to":"+14155550123","to":"+14155550124","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100"}`},
		{"api-create-customer.json", `{"name":"Ann","name":"Bob","phone":"+14155550111","timezone":"UTC","provider":"vapi","agent_id":"a","from_number":"pn-1"}`},
	} {
		req := MustEvent(t, tt.event)
		req.Body = tt.body
		resp := invoke(t, h.srv.Management(), req)
		if resp.StatusCode != 400 || !strings.Contains(resp.Body, "more than once") {
			t.Fatalf("%s with %s: status=%d body=%s, want 400 naming the repeated field", tt.event, tt.body, resp.StatusCode, resp.Body)
		}
	}
}
