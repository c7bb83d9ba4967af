package httpapi_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/infra/testio"
	"github.com/ringfence/ringfence/shared/calling"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/httpapi"
	"github.com/ringfence/ringfence/shared/secrets"
)

// unreachableSecrets is a secret store that cannot be read (Secrets Manager down).
type unreachableSecrets struct{}

func (unreachableSecrets) Get(context.Context, string) (secrets.Value, error) {
	return secrets.Value{}, errors.New("connection refused")
}

// The handlers read their secrets from the secret store at request time: after a rotation the
// new value works at once and the previous one during the grace period (the store returns it
// only then); once it is gone, the old value gets 401. A store that cannot be read is a 503,
// which providers retry, never a 401.
func TestSecretsRotateWithoutRedeploy(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	log := slog.New(slog.NewJSONHandler(&testio.Buffer{}, nil))
	server := func(store secrets.Store) *httpapi.Server {
		return httpapi.NewServer(env.Store, calling.New(env.Store, nil, calling.Defaults{}, log), httpapi.Config{AccountID: "acct_rotated", Secrets: store}, log)
	}
	const vapiSample = "local-simulator-key" // what events/vapi-webhook-*.json carry
	during := server(secrets.Static{
		secrets.APIKey:            {Current: "new-api-key-0123456789abcdef", Previous: testAPIKey},
		secrets.BolnaWebhookToken: {Current: "new-bolna-token-0123456789", Previous: testBolnaToken},
		secrets.VapiWebhookSecret: {Current: "new-vapi-secret", Previous: vapiSample},
	})
	after := server(secrets.Static{
		secrets.APIKey:            {Current: "new-api-key-0123456789abcdef"},
		secrets.BolnaWebhookToken: {Current: "new-bolna-token-0123456789"},
		secrets.VapiWebhookSecret: {Current: "new-vapi-secret"},
	})
	withAPIKey := func(key string) events.APIGatewayV2HTTPRequest {
		req := MustEvent(t, "api-list-slots.json")
		req.Headers["authorization"] = "Bearer " + key
		return req
	}
	tests := []struct {
		name string
		srv  *httpapi.Server
		fn   string
		req  events.APIGatewayV2HTTPRequest
		want int
	}{
		{"api key, previous, in grace", during, "api", withAPIKey(testAPIKey), 200},
		{"api key, new", after, "api", withAPIKey("new-api-key-0123456789abcdef"), 200},
		{"api key, previous, after grace", after, "api", withAPIKey(testAPIKey), 401},
		// 202: accepted and parked, since no call has the sample execution id.
		{"bolna token, previous, in grace", during, "bolna-webhook", MustEvent(t, "bolna-webhook-completed.json"), 202},
		{"bolna token, previous, after grace", after, "bolna-webhook", MustEvent(t, "bolna-webhook-completed.json"), 401},
		{"vapi secret, previous, in grace", during, "vapi-webhook", MustEvent(t, "vapi-webhook-end-of-call-report.json"), 202},
		{"vapi secret, previous, after grace", after, "vapi-webhook", MustEvent(t, "vapi-webhook-end-of-call-report.json"), 401},
		{"secret store down", server(unreachableSecrets{}), "bolna-webhook", MustEvent(t, "bolna-webhook-completed.json"), 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := invoke(t, tt.srv.Handlers()[tt.fn], tt.req)
			if got := resp.StatusCode; got != tt.want {
				t.Fatalf("status=%d, want %d (body %s)", got, tt.want, resp.Body)
			}
		})
	}
}
