package httpapi_test

import (
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/calling"
	"github.com/ringfence/ringfence/shared/httpapi"
)

// "A missing Bolna token locks the door": Bolna signs nothing, so its webhooks and tool calls are
// authenticated only by the secret token the deployment configures. A server configured without
// one refuses every Bolna webhook and tool call, whatever token it presents, including none and
// the empty one (which would otherwise equal the empty configured token). Invariant 7: what is
// refused is refused with a 4xx.
func TestMissingBolnaTokenLocksTheDoor(t *testing.T) {
	h := MustHarness(t)
	log := slog.New(slog.NewJSONHandler(h.logs, nil))
	svc := calling.New(h.env.Store, nil, calling.Defaults{DirectLimit: 5, CampaignLimit: 10}, log)
	srv := httpapi.NewServer(h.env.Store, svc, httpapi.Config{APIKey: testAPIKey, AccountID: "acct_test", VapiWebhookSecret: testVapiSecret}, log)
	webhook := func(query map[string]string) events.APIGatewayV2HTTPRequest {
		req := MustEvent(t, "bolna-webhook-completed.json")
		req.QueryStringParameters = query
		return req
	}
	tool := func(authorization string, query map[string]string) events.APIGatewayV2HTTPRequest {
		req := MustEvent(t, "tools-reschedule-lead.json")
		delete(req.Headers, "authorization")
		if authorization != "" {
			req.Headers["authorization"] = authorization
		}
		req.QueryStringParameters = query
		return req
	}
	for _, tc := range []struct {
		name    string
		handler httpapi.Handler
		req     events.APIGatewayV2HTTPRequest
	}{
		{"webhook without a token", srv.BolnaWebhook(), webhook(nil)},
		{"webhook with an empty token", srv.BolnaWebhook(), webhook(map[string]string{"token": ""})},
		{"webhook with another deployment's token", srv.BolnaWebhook(), webhook(map[string]string{"token": testBolnaToken})},
		{"tool call without a token", srv.Tools(), tool("", nil)},
		{"tool call with an empty bearer token", srv.Tools(), tool("Bearer ", nil)},
		{"tool call with an empty query token", srv.Tools(), tool("", map[string]string{"token": ""})},
		{"tool call with another deployment's token", srv.Tools(), tool("Bearer "+testBolnaToken, nil)},
	} {
		if got := invoke(t, tc.handler, tc.req); got.StatusCode != 401 {
			t.Fatalf("%s: status=%d body=%s, want 401", tc.name, got.StatusCode, got.Body)
		}
	}
}
