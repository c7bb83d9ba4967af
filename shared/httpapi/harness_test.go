package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/ringfence/ringfence/infra/testio"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/ringfence/ringfence/shared/calling"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/httpapi"
	"github.com/ringfence/ringfence/shared/ringfence"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// The secrets the sample events in events/ carry.
const (
	testAPIKey     = "local-dev-api-key-0123456789"
	testBolnaToken = "local-bolna-token-0123456789"
	testVapiSecret = "test-vapi-secret"
	// testSessionSecret signs the harness's dashboard sessions; it shares nothing with the API key.
	testSessionSecret = "test-session-secret-0123456789abcdef"
)

// harness is a server on a fresh table, with its logs captured.
type harness struct {
	env   dynamotest.Env
	srv   *httpapi.Server
	calls *calling.Service // The server's service, on the same store: its sweep applies kept events.
	logs  *testio.Buffer
}

func MustHarness(tb testing.TB, options ...func(*aws.Config)) *harness {
	tb.Helper()
	env := dynamotest.MustNewStore(tb, options...)
	logs := &testio.Buffer{}
	calls := calling.New(env.Store, nil, calling.Defaults{DirectLimit: 5, CampaignLimit: 10}, slog.New(slog.NewJSONHandler(logs, nil)))
	srv := httpapi.NewServer(env.Store, calls, httpapi.Config{
		APIKey: testAPIKey, AccountID: "acct_test", BolnaWebhookToken: testBolnaToken, VapiWebhookSecret: testVapiSecret,
		SessionSecret: testSessionSecret,
	}, slog.New(slog.NewJSONHandler(logs, nil)))
	return &harness{env: env, srv: srv, calls: calls, logs: logs}
}

// MustEvent reads a sample event from events/.
func MustEvent(tb testing.TB, name string) events.APIGatewayV2HTTPRequest {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		tb.Fatal(err)
	}
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &req); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return req
}

// invoke runs a handler on a request through the Lambda runtime's JSON path.
func invoke(tb testing.TB, h httpapi.Handler, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	tb.Helper()
	payload, err := json.Marshal(req)
	if err != nil {
		tb.Fatal(err)
	}
	out, err := lambda.NewHandler(h).Invoke(context.Background(), payload)
	if err != nil {
		tb.Fatalf("handler returned an error: %v", err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		tb.Fatal(err)
	}
	return resp
}

// MustDecode decodes a response body, failing the test on a status other than want.
func MustDecode(tb testing.TB, resp events.APIGatewayV2HTTPResponse, want int, v any) {
	tb.Helper()
	if resp.StatusCode != want {
		tb.Fatalf("status=%d, want %d (body %s)", resp.StatusCode, want, resp.Body)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(resp.Body), v); err != nil {
			tb.Fatalf("decode %s: %v", resp.Body, err)
		}
	}
}

// bolnaDelivery is the sample Bolna webhook event with another execution object as its body.
func bolnaDelivery(tb testing.TB, body []byte) events.APIGatewayV2HTTPRequest {
	req := MustEvent(tb, "bolna-webhook-completed.json")
	req.Body = string(body)
	return req
}

// campaignView is the GET /campaigns/{id} body.
type campaignView struct {
	ID             string         `json:"id"`
	Status         string         `json:"status"`
	TotalContacts  int            `json:"total_contacts"`
	CallsCompleted int            `json:"calls_completed"`
	TotalCost      string         `json:"total_cost"`
	Outcomes       map[string]int `json:"outcomes"`
}

// MustCreateCampaign creates a campaign of n contacts through the API, and one call per contact
// with provider call ids "<prefix>-<i>", as placing the calls would.
func (h *harness) MustCreateCampaign(tb testing.TB, n int) (campaignView, []ringfence.Call) {
	tb.Helper()
	contacts := make([]map[string]string, n)
	for i := range contacts {
		contacts[i] = map[string]string{"name": fmt.Sprintf("Contact %d", i), "phone": fmt.Sprintf("+1415555%04d", i)}
	}
	body, _ := json.Marshal(map[string]any{"name": "test", "provider": "bolna", "agent_id": "agent-1", "from_number": "+14155550100", "contacts": contacts})
	req := MustEvent(tb, "api-create-campaign.json")
	req.Body = string(body)
	var c campaignView
	MustDecode(tb, invoke(tb, h.srv.Management(), req), 201, &c)
	calls := make([]ringfence.Call, n)
	for i := range calls {
		calls[i] = ringfence.Call{
			ID: dynamo.NewID("call"), AccountID: "acct_test", CampaignID: c.ID, ContactID: dynamo.ContactID(i),
			Provider: ringfence.ProviderBolna, ProviderCallID: fmt.Sprintf("%s-exec-%d", c.ID, i),
			Status: ringfence.StatusInitiated, ToNumber: contacts[i]["phone"],
		}
		if err := h.env.Store.CreateCall(context.Background(), calls[i]); err != nil {
			tb.Fatalf("CreateCall: %v", err)
		}
	}
	return c, calls
}

// MustGetCampaign reads a campaign through the API.
func (h *harness) MustGetCampaign(tb testing.TB, id string) campaignView {
	tb.Helper()
	req := MustEvent(tb, "api-get-campaign.json")
	req.PathParameters = map[string]string{"id": id}
	var c campaignView
	MustDecode(tb, invoke(tb, h.srv.Management(), req), 200, &c)
	return c
}
