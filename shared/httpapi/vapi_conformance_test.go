package httpapi_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/calling"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/httpapi"
	"github.com/ringfence/ringfence/shared/ringfence"
	"github.com/ringfence/ringfence/shared/vapi"
)

// vapiCredentials are the ways a Vapi account can be set up to authenticate its server messages
// with the configured secret: a Bearer Token credential (Vapi's default), the X-Vapi-Secret
// header, and an HMAC credential with its default headers and payload.
var vapiCredentials = map[string]func(body []byte) map[string]string{
	"bearer": func([]byte) map[string]string {
		return map[string]string{"authorization": "Bearer " + testVapiSecret}
	},
	"x-vapi-secret": func([]byte) map[string]string {
		return map[string]string{"x-vapi-secret": testVapiSecret}
	},
	"hmac": func(body []byte) map[string]string {
		ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
		return map[string]string{"x-signature": hex.EncodeToString(vapi.Sign(body, testVapiSecret, ts)), "x-timestamp": ts}
	},
}

// MustVapiFixture reads one of the Vapi adapter's fixtures (shared/vapi/testdata).
func MustVapiFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "vapi", "testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// vapiDelivery is the sample Vapi webhook event carrying body, authenticated by credential.
func vapiDelivery(tb testing.TB, body []byte, credential string) events.APIGatewayV2HTTPRequest {
	tb.Helper()
	req := MustEvent(tb, "vapi-webhook-end-of-call-report.json")
	req.Body = string(body)
	req.Headers = map[string]string{"content-type": "application/json"}
	for k, v := range vapiCredentials[credential](body) {
		req.Headers[k] = v
	}
	return req
}

// Vapi's documented payloads, sent with each credential, are applied as Vapi means them: a
// status update and an end-of-call report with ISO timestamps end an outbound call completed
// with its cost; tool calls are answered item by item; an assistant-request is answered with the
// number's assistant and the caller's context, and creates the inbound call.
func TestVapiConformance(t *testing.T) {
	for credential := range vapiCredentials {
		t.Run(credential, func(t *testing.T) {
			h := MustHarness(t)
			ctx := context.Background()
			handler := h.srv.VapiWebhook()
			send := func(body []byte) events.APIGatewayV2HTTPResponse {
				return invoke(t, handler, vapiDelivery(t, body, credential))
			}

			// An outbound call ringfence placed, then its status update and report.
			call := ringfence.Call{
				ID: "call_conformance_1", AccountID: "acct_test", Provider: ringfence.ProviderVapi,
				ProviderCallID: "8f4b1d3e-5c2a-4e7b-9a61-3d2f0c9e7b15", Status: ringfence.StatusInitiated,
				ToNumber: "+15551234567", Direction: ringfence.Outbound,
			}
			if err := h.env.Store.CreateCall(ctx, call); err != nil {
				t.Fatal(err)
			}
			var reply struct{ CallID, Result string }
			MustDecode(t, send(MustVapiFixture(t, "status-update-iso-timestamp.json")), 200, &reply)
			MustDecode(t, send(MustVapiFixture(t, "end-of-call-report-iso-timestamp.json")), 200, &reply)
			if reply.Result != string(ringfence.ResultFirstTerminal) {
				t.Fatalf("report result=%s, want %s", reply.Result, ringfence.ResultFirstTerminal)
			}
			got, err := h.env.Store.GetCall(ctx, call.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Outcome != ringfence.StatusCompleted || got.Cost == nil || got.Cost.String() != "0.0871" || got.EndReason != "call.in-progress.twilio-completed-call" {
				t.Fatalf("call outcome=%s cost=%v reason=%s, want completed costing 0.0871", got.Outcome, got.Cost, got.EndReason)
			}

			// Tool calls, in the documented shapes: each item answered under its own id.
			var results vapi.ToolResults
			MustDecode(t, send(MustVapiFixture(t, "tool-calls-custom-tools.json")), 200, &results)
			if len(results.Results) != 1 || results.Results[0].ToolCallID != "toolu_01DTPAzUm5Gk3zxrpJ969oMF" || results.Results[0].Result == "" {
				t.Fatalf("results=%+v, want one result for the documented id", results)
			}

			// An assistant-request for a routed number, from a known customer.
			MustDecode(t, h.putNumber(t), 200, nil)
			MustDecode(t, h.createCustomer(t, "+14155557000"), 201, nil)
			var answer struct {
				AssistantID        string `json:"assistantId"`
				AssistantOverrides struct {
					VariableValues map[string]string `json:"variableValues"`
					Metadata       map[string]string `json:"metadata"`
				} `json:"assistantOverrides"`
				Error string `json:"error"`
			}
			MustDecode(t, send(MustVapiFixture(t, "assistant-request.json")), 200, &answer)
			vars := answer.AssistantOverrides.VariableValues
			if answer.AssistantID != "agent-salon" || vars["company_id"] != "salon-co" || vars["branch_name"] != "Downtown" || vars["customer_name"] != "Maya Patel" || answer.Error != "" {
				t.Fatalf("answer=%+v, want the salon's assistant with its context and the customer", answer)
			}
			inbound, err := h.env.Store.GetCall(ctx, ringfence.InboundCallID(ringfence.ProviderVapi, "5d7c2b9a-1e4f-4a3b-8c6d-0f9e8d7c6b5a"))
			if err != nil || inbound.Context.CompanyID != "salon-co" || inbound.Context.CustomerID == "" || answer.AssistantOverrides.Metadata[vapi.CallIDVariable] != inbound.ID {
				t.Fatalf("inbound call=%+v err=%v, want it created with its context", inbound, err)
			}

			// The same request for a number with no route gets Vapi's error answer.
			unrouted := strings.NewReplacer("+14155550100", "+14155550999", "5d7c2b9a-", "00000000-").Replace(string(MustVapiFixture(t, "assistant-request.json")))
			answer.Error = ""
			MustDecode(t, send([]byte(unrouted)), 200, &answer)
			if answer.Error == "" {
				t.Fatalf("answer=%+v, want an error for an unrouted number", answer)
			}
		})
	}
}

// A message with no credential, or a wrong one, is refused whichever header carries it.
func TestVapiWrongCredentialsAreRefused(t *testing.T) {
	h := MustHarness(t)
	body := MustVapiFixture(t, "status-update-iso-timestamp.json")
	for _, headers := range []map[string]string{
		{},
		{"authorization": "Bearer wrong"},
		{"x-vapi-secret": "wrong"},
		{"x-signature": hex.EncodeToString(vapi.Sign(body, "wrong", "1")), "x-timestamp": strconv.FormatInt(time.Now().Unix(), 10)},
	} {
		req := vapiDelivery(t, body, "bearer")
		req.Headers = headers
		MustDecode(t, invoke(t, h.srv.VapiWebhook(), req), 401, nil)
	}
}

// A tool-calls message is always answered 200, one answer per item: a malformed item gets an
// error under its id, a tool that fails inside gets an error, the others keep their results, and
// items past vapi.MaxToolCalls are answered with an error without running.
func TestVapiToolCallsAlwaysAnswerEachItem(t *testing.T) {
	h := MustHarness(t)
	ctx := context.Background()
	call := ringfence.Call{ID: "call_tools_1", AccountID: "acct_test", Provider: ringfence.ProviderVapi, ProviderCallID: "vapi-tools-1", Status: ringfence.StatusInProgress, ToNumber: "+15551234567", Direction: ringfence.Outbound}
	if err := h.env.Store.CreateCall(ctx, call); err != nil {
		t.Fatal(err)
	}
	items := []any{
		map[string]any{"id": "good", "function": map[string]any{"name": "reschedule_lead", "arguments": `{"reschedule_day":"friday"}`}},
		map[string]any{"id": "malformed", "function": map[string]any{"name": "reschedule_lead", "arguments": "[1, 2]"}},
		map[string]any{"id": "no-name", "arguments": map[string]any{}},
		map[string]any{"id": "bad-day", "name": "reschedule_lead", "arguments": map[string]any{"reschedule_day": "   "}},
	}
	for i := len(items); i < vapi.MaxToolCalls+3; i++ {
		items = append(items, map[string]any{"id": "more-" + strconv.Itoa(i), "name": "reschedule_lead", "arguments": map[string]any{"reschedule_day": "tuesday"}})
	}
	body, _ := json.Marshal(map[string]any{"message": map[string]any{
		"type": "tool-calls", "toolCallList": items,
		"call": map[string]any{"id": "vapi-tools-1", "type": "outboundPhoneCall", "assistantOverrides": map[string]any{"metadata": map[string]any{vapi.CallIDVariable: call.ID}}},
	}})
	var results vapi.ToolResults
	MustDecode(t, invoke(t, h.srv.VapiWebhook(), vapiDelivery(t, body, "bearer")), 200, &results)
	if got, want := len(results.Results), len(items); got != want {
		t.Fatalf("%d results for %d tool calls: %+v", got, want, results)
	}
	byID := map[string]vapi.ToolResult{}
	for _, r := range results.Results {
		byID[r.ToolCallID] = r
	}
	if r := byID["good"]; r.Error != "" || !strings.Contains(r.Result, `"friday"`) {
		t.Fatalf("good=%+v, want its result", r)
	}
	for _, id := range []string{"malformed", "no-name", "bad-day"} {
		if r := byID[id]; r.Error == "" || r.Result != "" {
			t.Fatalf("%s=%+v, want an error result", id, r)
		}
	}
	for i, r := range results.Results {
		if i >= vapi.MaxToolCalls && r.Error == "" {
			t.Fatalf("result %d=%+v ran past the cap of %d", i, r, vapi.MaxToolCalls)
		}
	}
	got, err := h.env.Store.GetCall(ctx, call.ID)
	if err != nil || got.RescheduleDay == "" {
		t.Fatalf("call=%+v err=%v, want the reschedule day stored", got, err)
	}
}

// A tool call whose tool fails inside (DynamoDB unavailable) is answered 200 with an error
// result for its id, not a 5xx that Vapi would ignore along with every other result.
func TestVapiToolCallInternalErrorIsAnErrorResult(t *testing.T) {
	h := MustHarness(t)
	store := h.env.Reopen(dynamotest.FailRandomly(1, 29))
	srv := httpapi.NewServer(store, calling.New(store, nil, calling.Defaults{DirectLimit: 5, CampaignLimit: 10}, slog.New(slog.NewJSONHandler(h.logs, nil))),
		httpapi.Config{AccountID: "acct_test", VapiWebhookSecret: testVapiSecret}, slog.New(slog.NewJSONHandler(h.logs, nil)))
	body, _ := json.Marshal(map[string]any{"message": map[string]any{
		"type": "tool-calls",
		"toolCallList": []any{
			map[string]any{"id": "stored", "name": "reschedule_lead", "arguments": map[string]any{"reschedule_day": "friday", "call_id": "call_x"}},
			map[string]any{"id": "malformed", "name": "reschedule_lead", "arguments": "not json"},
		},
		"call": map[string]any{"id": "vapi-x", "type": "outboundPhoneCall"},
	}})
	var results vapi.ToolResults
	MustDecode(t, invoke(t, srv.VapiWebhook(), vapiDelivery(t, body, "x-vapi-secret")), 200, &results)
	if len(results.Results) != 2 {
		t.Fatalf("results=%+v, want one per tool call", results)
	}
	for _, r := range results.Results {
		if r.Error == "" || r.Result != "" || strings.Contains(r.Error, "injected") {
			t.Fatalf("result=%+v, want an error result that does not leak the internal error", r)
		}
	}
	if !strings.Contains(h.logs.String(), "Vapi tool call failed") {
		t.Fatalf("the internal failure was not logged as one: %s", h.logs.String())
	}
}

// putNumber routes the salon's number (+14155550100) through the API, as events/ shows it, and
// confirms the claim as an operator would, so that the number answers inbound calls.
func (h *harness) putNumber(tb testing.TB) events.APIGatewayV2HTTPResponse {
	tb.Helper()
	resp := invoke(tb, h.srv.Management(), MustEvent(tb, "api-put-number.json"))
	if _, err := h.env.Store.ConfirmNumber(context.Background(), "+14155550100", "acct_test"); err != nil {
		tb.Fatalf("ConfirmNumber: %v", err)
	}
	return resp
}

// createCustomer creates the sample customer (Maya Patel) with another phone number.
func (h *harness) createCustomer(tb testing.TB, phone string) events.APIGatewayV2HTTPResponse {
	tb.Helper()
	req := MustEvent(tb, "api-create-customer.json")
	var c map[string]any
	if err := json.Unmarshal([]byte(req.Body), &c); err != nil {
		tb.Fatal(err)
	}
	c["phone"] = phone
	b, _ := json.Marshal(c)
	req.Body = string(b)
	return invoke(tb, h.srv.Management(), req)
}

// The assistant-request sample event (Bearer-authenticated, as a new Vapi account sends it) gets
// the routed number's assistant, as `make invoke` shows it.
func TestVapiAssistantRequestSampleEvent(t *testing.T) {
	h := MustHarness(t)
	MustDecode(t, h.putNumber(t), 200, nil)
	req := MustEvent(t, "vapi-webhook-assistant-request.json")
	if !strings.HasPrefix(req.Headers["authorization"], "Bearer ") {
		t.Fatalf("sample headers=%v, want a Bearer credential", req.Headers)
	}
	req.Headers["authorization"] = "Bearer " + testVapiSecret
	var answer vapi.AssistantResponse
	MustDecode(t, invoke(t, h.srv.VapiWebhook(), req), 200, &answer)
	if answer.AssistantID != "agent-salon" || answer.AssistantOverrides == nil || answer.AssistantOverrides.VariableValues["company_name"] != "Snip Salon" {
		t.Fatalf("answer=%+v, want the salon's assistant", answer)
	}
}
