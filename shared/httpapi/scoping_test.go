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

// A Bolna tool call reaches only the calls and numbers of the account whose tool token it
// presents: the deployment's Bolna token is the deployment account's, and another account issues
// its own with POST /tool-tokens. Naming another account's call, by ringfence's id or by Bolna's
// execution id, is answered 404 and writes nothing; initialize_call for another account's number
// gets the unknown_number answer and creates no call. A deleted token is refused.
func TestToolTokensReachOnlyTheirAccount(t *testing.T) {
	h := MustHarness(t)
	ctx := context.Background()
	const otherKey = "other-account-api-key-0123456789"
	if err := h.env.Store.EnsureAccount(ctx, ringfence.Account{ID: "acct_other", Name: "other"}, otherKey); err != nil {
		t.Fatal(err)
	}
	_, deploymentCalls := h.MustCreateCampaign(t, 1)
	ours := deploymentCalls[0]
	theirs := ringfence.Call{ID: dynamo.NewID("call"), AccountID: "acct_other", Provider: ringfence.ProviderBolna, ProviderCallID: "exec-other-1", Status: ringfence.StatusInProgress}
	if err := h.env.Store.CreateCall(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	asOther := func(file string) events.APIGatewayV2HTTPRequest {
		req := MustEvent(t, file)
		req.Headers["authorization"] = "Bearer " + otherKey
		return req
	}
	var issued struct {
		ID        string `json:"id"`
		ToolToken string `json:"tool_token"`
	}
	MustDecode(t, invoke(t, h.srv.Management(), asOther("api-create-tool-token.json")), 201, &issued)
	if !strings.HasPrefix(issued.ToolToken, "rft_") || issued.ID == "" {
		t.Fatalf("issued tool token %+v, want an id and an rft_ token", issued)
	}
	reschedule := func(token, args string) events.APIGatewayV2HTTPResponse {
		req := MustEvent(t, "tools-reschedule-lead.json")
		req.Headers["authorization"] = "Bearer " + token
		req.Body = `{"day":"monday",` + args + `}`
		return invoke(t, h.srv.Tools(), req)
	}
	for _, tt := range []struct {
		name, token, args string
		want              int
	}{
		{"deployment token, other account's call by id", testBolnaToken, `"ringfence_call_id":"` + theirs.ID + `"`, 404},
		{"deployment token, other account's execution", testBolnaToken, `"execution_id":"` + theirs.ProviderCallID + `"`, 404},
		{"deployment token, other account's call_id", testBolnaToken, `"call_id":"` + theirs.ID + `"`, 404},
		{"other's token, deployment account's call by id", issued.ToolToken, `"ringfence_call_id":"` + ours.ID + `"`, 404},
		{"other's token, deployment account's execution", issued.ToolToken, `"execution_id":"` + ours.ProviderCallID + `"`, 404},
		{"an unknown token", "rft_not-a-token", `"ringfence_call_id":"` + theirs.ID + `"`, 401},
	} {
		if resp := reschedule(tt.token, tt.args); resp.StatusCode != tt.want {
			t.Fatalf("%s: status=%d body=%s, want %d", tt.name, resp.StatusCode, resp.Body, tt.want)
		}
	}
	for _, c := range []ringfence.Call{ours, theirs} {
		got, err := h.env.Store.GetCall(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.RescheduleDay != "" {
			t.Fatalf("call of %s got reschedule_day %q from another account's tool call", c.AccountID, got.RescheduleDay)
		}
	}
	// Each token still reaches its own account's call.
	MustDecode(t, reschedule(testBolnaToken, `"ringfence_call_id":"`+ours.ID+`"`), 200, nil)
	MustDecode(t, reschedule(issued.ToolToken, `"execution_id":"`+theirs.ProviderCallID+`"`), 200, nil)
	if got, _ := h.env.Store.GetCall(ctx, theirs.ID); got.RescheduleDay != "monday" {
		t.Fatalf("the other account's own tool call left reschedule_day %q, want monday", got.RescheduleDay)
	}

	// initialize_call with the other account's token, for the deployment account's confirmed
	// number, learns nothing and writes no call.
	put := MustEvent(t, "api-put-number.json")
	put.PathParameters = map[string]string{"e164": "+14155550100"}
	put.Body = `{"company_id":"salon","branch_id":"main","agent_id":"agent-salon"}`
	MustDecode(t, invoke(t, h.srv.Management(), put), 200, nil)
	if _, err := h.env.Store.ConfirmNumber(ctx, "+14155550100", "acct_test"); err != nil {
		t.Fatal(err)
	}
	initialize := MustEvent(t, "tools-initialize-call.json")
	initialize.Headers = map[string]string{"authorization": "Bearer " + issued.ToolToken, "content-type": "application/json"}
	initialize.Body = strings.Replace(initialize.Body, "Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6", "exec-scoping-1", 1)
	var reply map[string]any
	MustDecode(t, invoke(t, h.srv.Tools(), initialize), 200, &reply)
	if reply["success"] != false || reply["error"] != "unknown_number" {
		t.Fatalf("initialize_call for another account's number: %v, want the unknown_number answer", reply)
	}
	if _, err := h.env.Store.GetCall(ctx, ringfence.InboundCallID(ringfence.ProviderBolna, "exec-scoping-1")); ringfence.ErrorCode(err) != ringfence.ENOTFOUND {
		t.Fatalf("initialize_call for another account's number left a call record (err %v)", err)
	}

	// The list shows the token's id, never the token; once deleted, the token is refused.
	var listed struct {
		ToolTokens []map[string]any `json:"tool_tokens"`
	}
	MustDecode(t, invoke(t, h.srv.Management(), asOther("api-list-tool-tokens.json")), 200, &listed)
	if len(listed.ToolTokens) != 1 || listed.ToolTokens[0]["id"] != issued.ID || listed.ToolTokens[0]["tool_token"] != nil {
		t.Fatalf("listed %v, want the one token's id only", listed.ToolTokens)
	}
	MustDecode(t, invoke(t, h.srv.Management(), MustEvent(t, "api-list-tool-tokens.json")), 200, &listed)
	if len(listed.ToolTokens) != 0 {
		t.Fatalf("the deployment account lists the other account's tokens: %v", listed.ToolTokens)
	}
	del := asOther("api-delete-tool-token.json")
	del.PathParameters = map[string]string{"id": issued.ID}
	MustDecode(t, invoke(t, h.srv.Management(), del), 200, nil)
	MustDecode(t, invoke(t, h.srv.Management(), del), 404, nil)
	if resp := reschedule(issued.ToolToken, `"execution_id":"`+theirs.ProviderCallID+`"`); resp.StatusCode != 401 {
		t.Fatalf("a deleted tool token: status=%d body=%s, want 401", resp.StatusCode, resp.Body)
	}
}

// A tool token gets one answer for another account's call and for a call that does not exist,
// by any of the ids it may name it by: the same status and the same message, which holds no
// internal id, so the token learns neither that the call exists nor what ringfence calls it.
func TestToolTokensCannotTellAnotherAccountsCallFromNone(t *testing.T) {
	h := MustHarness(t)
	ctx := context.Background()
	theirs := ringfence.Call{ID: dynamo.NewID("call"), AccountID: "acct_other", Provider: ringfence.ProviderBolna, ProviderCallID: "exec-other-2", Status: ringfence.StatusInProgress}
	if err := h.env.Store.CreateCall(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	reschedule := func(args string) events.APIGatewayV2HTTPResponse {
		req := MustEvent(t, "tools-reschedule-lead.json")
		req.Headers["authorization"] = "Bearer " + testBolnaToken
		req.Body = `{"day":"monday",` + args + `}`
		return invoke(t, h.srv.Tools(), req)
	}
	for _, pair := range [][2]string{
		{`"ringfence_call_id":"` + theirs.ID + `"`, `"ringfence_call_id":"call_nosuchcall000000000000"`},
		{`"execution_id":"` + theirs.ProviderCallID + `"`, `"execution_id":"exec-nosuch-2"`},
		{`"call_id":"` + theirs.ID + `"`, `"call_id":"call_nosuchcall000000000000"`},
		{`"call_id":"` + theirs.ProviderCallID + `"`, `"call_id":"exec-nosuch-2"`},
	} {
		other, none := reschedule(pair[0]), reschedule(pair[1])
		if other.StatusCode != 404 || other.StatusCode != none.StatusCode || other.Body != none.Body {
			t.Fatalf("another account's call (%s): %d %s\nno call (%s): %d %s\nwant one 404 answer", pair[0], other.StatusCode, other.Body, pair[1], none.StatusCode, none.Body)
		}
		if strings.Contains(other.Body, theirs.ID) || strings.Contains(other.Body, "call_") {
			t.Fatalf("the answer names an internal id: %s", other.Body)
		}
	}
}
