package httpapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// vapiToolCall is a signed Vapi tool-calls message running reschedule_lead with arguments, about
// the Vapi call callID ("" for a message without its call object).
func vapiToolCall(tb testing.TB, callID string, arguments map[string]any) events.APIGatewayV2HTTPRequest {
	tb.Helper()
	arguments["reschedule_day"] = "Friday"
	message := map[string]any{"type": "tool-calls", "timestamp": 1678901234567,
		"toolCallList": []any{map[string]any{"id": "toolu_1", "name": "reschedule_lead", "arguments": arguments}}}
	if callID != "" {
		message["call"] = map[string]any{"id": callID, "type": "outboundPhoneCall", "status": "in-progress"}
	}
	b, _ := json.Marshal(map[string]any{"message": message})
	req := MustEvent(tb, "vapi-webhook-tool-calls.json")
	req.Body, req.Headers = string(b), map[string]string{"content-type": "application/json", "x-vapi-secret": testVapiSecret}
	return req
}

// A tool call reaches only calls of the provider that authenticated it, within the conversation
// it belongs to: a Vapi tool call naming a Bolna execution id, or another account's call by
// ringfence's id, and a Bolna tool call naming a Vapi call, change nothing and say why.
func TestToolsStayWithTheirProviderAndCall(t *testing.T) {
	h := MustHarness(t)
	ctx := context.Background()
	_, bolnaCalls := h.MustCreateCampaign(t, 1)
	ours := ringfence.Call{ID: dynamo.NewID("call"), AccountID: "acct_test", Provider: ringfence.ProviderVapi, ProviderCallID: "vapi-ours", Status: ringfence.StatusInProgress}
	theirs := ringfence.Call{ID: dynamo.NewID("call"), AccountID: "acct_other", Provider: ringfence.ProviderVapi, ProviderCallID: "vapi-theirs", Status: ringfence.StatusInProgress}
	for _, c := range []ringfence.Call{ours, theirs} {
		if err := h.env.Store.CreateCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name string
		req  events.APIGatewayV2HTTPRequest
	}{
		{"vapi naming a bolna execution", vapiToolCall(t, "", map[string]any{"execution_id": bolnaCalls[0].ProviderCallID})},
		{"vapi naming a bolna call id", vapiToolCall(t, "", map[string]any{"call_id": bolnaCalls[0].ID})},
		{"vapi naming another account's call", vapiToolCall(t, ours.ProviderCallID, map[string]any{"ringfence_call_id": theirs.ID})},
	} {
		resp := invoke(t, h.srv.VapiWebhook(), tt.req)
		var out struct {
			Results []struct{ Result, Error string } `json:"results"`
		}
		MustDecode(t, resp, 200, &out)
		if len(out.Results) != 1 || out.Results[0].Error == "" || !strings.Contains(out.Results[0].Error, "not") {
			t.Fatalf("%s: results=%+v, want a refusal", tt.name, out.Results)
		}
	}
	bolnaTool := MustEvent(t, "tools-reschedule-lead.json")
	bolnaTool.Body = `{"ringfence_call_id":"` + ours.ID + `","day":"monday"}`
	if resp := invoke(t, h.srv.Tools(), bolnaTool); resp.StatusCode != 404 {
		t.Fatalf("bolna tool naming a vapi call: status=%d body=%s, want 404", resp.StatusCode, resp.Body)
	}
	for _, id := range []string{bolnaCalls[0].ID, ours.ID, theirs.ID} {
		c, err := h.env.Store.GetCall(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.RescheduleDay != "" {
			t.Fatalf("call %s (%s, %s) got reschedule_day %q from a tool call outside it", id, c.Provider, c.AccountID, c.RescheduleDay)
		}
	}
	// The conversation's own call is still reachable, by its provider id and by ringfence's.
	for _, args := range []map[string]any{{}, {"ringfence_call_id": ours.ID}} {
		var out struct {
			Results []struct{ Result, Error string } `json:"results"`
		}
		MustDecode(t, invoke(t, h.srv.VapiWebhook(), vapiToolCall(t, ours.ProviderCallID, args)), 200, &out)
		if len(out.Results) != 1 || out.Results[0].Error != "" {
			t.Fatalf("own call with %v: results=%+v, want success", args, out.Results)
		}
	}
}
