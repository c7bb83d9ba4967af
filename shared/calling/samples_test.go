package calling_test

import (
	"context"
	"encoding/json"
	"github.com/ringfence/ringfence/shared/app"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/infra/localstack"
	"github.com/ringfence/ringfence/infra/simulator"
)

// sampleTime is when the Retell samples in events/ were signed (with the local simulator key).
var sampleTime = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// MustSample reads a sample event from events/.
func MustSample(t *testing.T, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return req
}

// The sample events for calls, slots, numbers and Retell, used in order as a user of
// `make invoke` would against a stack with the simulator, each get the answer the README promises.
func TestCallAndRetellSampleEvents(t *testing.T) {
	s := MustStack(t, simulator.Options{}, 5, 5)
	s.each(func(a *app.App) { a.HTTP.Now = func() time.Time { return sampleTime } })
	handlers := s.handlers()
	send := func(function, file string, mutate func(*events.APIGatewayV2HTTPRequest)) (int, map[string]any) {
		t.Helper()
		req := MustSample(t, file)
		if auth, ok := req.Headers["authorization"]; ok && auth != "" {
			req.Headers["authorization"] = "Bearer " + apiKey // The samples carry the local key.
		}
		if mutate != nil {
			mutate(&req)
		}
		payload, _ := json.Marshal(req)
		out, err := localstack.Invoke(context.Background(), handlers[function], payload)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var resp events.APIGatewayV2HTTPResponse
		json.Unmarshal(out, &resp)
		var body map[string]any
		json.Unmarshal([]byte(resp.Body), &body)
		return resp.StatusCode, body
	}
	expect := func(file string, got, want int, body map[string]any) {
		t.Helper()
		if got != want {
			t.Fatalf("%s: status=%d body=%v, want %d", file, got, body, want)
		}
	}
	status, body := send("api", "api-place-call.json", nil)
	expect("api-place-call.json", status, 201, body)
	callID := body["id"].(string)
	status, body = send("api", "api-get-call.json", func(r *events.APIGatewayV2HTTPRequest) { r.PathParameters["id"] = callID })
	expect("api-get-call.json", status, 200, body)
	status, body = send("api", "api-list-slots.json", nil)
	expect("api-list-slots.json", status, 200, body)

	var c campaignView
	s.do(t, "POST", "/campaigns", `{"name":"samples","provider":"bolna","agent_id":"a","from_number":"+14155550100","contacts":[{"phone":"+14155550111"}]}`, 201, &c)
	status, body = send("api", "api-start-campaign.json", func(r *events.APIGatewayV2HTTPRequest) { r.PathParameters["id"] = c.ID })
	expect("api-start-campaign.json", status, 202, body)

	status, body = send("api", "api-put-number.json", nil)
	expect("api-put-number.json", status, 200, body)
	if _, err := s.env.Store.ConfirmNumber(context.Background(), "+14155550100", "acct_test"); err != nil {
		t.Fatal(err)
	}
	status, body = send("api", "api-get-number.json", nil)
	expect("api-get-number.json", status, 200, body)
	if body["company_id"] != "salon-co" {
		t.Fatalf("number=%v, want salon-co", body)
	}
	status, body = send("retell-webhook", "retell-webhook-call-inbound.json", nil)
	expect("retell-webhook-call-inbound.json", status, 200, body)
	if body["call_inbound"].(map[string]any)["override_agent_id"] != "agent-salon" {
		t.Fatalf("inbound answer=%v, want the number's agent", body)
	}
	status, body = send("tools", "tools-initialize-call.json", nil)
	expect("tools-initialize-call.json", status, 200, body)
	if body["success"] != true || body["company"].(map[string]any)["id"] != "salon-co" {
		t.Fatalf("initialize_call=%v, want salon-co", body)
	}
	status, body = send("retell-webhook", "retell-webhook-call-started.json", nil)
	expect("retell-webhook-call-started.json", status, 200, body)
	status, body = send("retell-webhook", "retell-webhook-call-ended.json", nil)
	expect("retell-webhook-call-ended.json", status, 200, body)
	if body["result"] != "first_terminal" {
		t.Fatalf("call_ended result=%v, want first_terminal", body)
	}
	status, body = send("api", "api-create-customer.json", nil)
	expect("api-create-customer.json", status, 201, body)
	customerID := body["id"].(string)
	withCustomer := func(r *events.APIGatewayV2HTTPRequest) { r.PathParameters["id"] = customerID }
	status, body = send("api", "api-patch-customer.json", withCustomer)
	expect("api-patch-customer.json", status, 200, body)
	if body["daily_call_time"] != "18:30" || body["eligible"] != true {
		t.Fatalf("patched customer=%v", body)
	}
	status, body = send("api", "api-get-customer.json", withCustomer)
	expect("api-get-customer.json", status, 200, body)
	status, body = send("vapi-webhook", "vapi-webhook-end-of-call-report.json", nil)
	expect("vapi-webhook-end-of-call-report.json (call not known yet)", status, 202, body)
	status, body = send("vapi-webhook", "vapi-webhook-tool-calls.json", nil)
	expect("vapi-webhook-tool-calls.json", status, 200, body)
	if results := body["results"].([]any); len(results) != 1 || results[0].(map[string]any)["toolCallId"] != "toolu_01DTPAzUm5Gk3zxrpJ969oMF" {
		t.Fatalf("tool-calls reply=%v, want one result for the tool call", body)
	}
	for fn, file := range map[string]string{"scheduler": "scheduler-scheduled.json"} {
		event, _ := os.ReadFile(filepath.Join("..", "..", "events", file))
		if out, err := localstack.Invoke(context.Background(), handlers[fn], event); err != nil || string(out) != "null" {
			t.Fatalf("%s: %s, %v", file, out, err)
		}
	}
	// An hour later the same signed sample is stale.
	s.each(func(a *app.App) { a.HTTP.Now = func() time.Time { return sampleTime.Add(time.Hour) } })
	status, body = send("retell-webhook", "retell-webhook-call-ended.json", nil)
	expect("stale retell-webhook-call-ended.json", status, 401, body)
}
