package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// A claim of a number answers no inbound call until an operator confirms it; until then another
// account's claim may replace it, and once it is confirmed no other account can take it.
func TestNumberClaimsNeedConfirmation(t *testing.T) {
	h := MustHarness(t)
	ctx := context.Background()
	const otherKey = "other-account-api-key-0123456789"
	if err := h.env.Store.EnsureAccount(ctx, ringfence.Account{ID: "acct_other", Name: "other"}, otherKey); err != nil {
		t.Fatal(err)
	}
	put := func(key, company string) events.APIGatewayV2HTTPResponse {
		req := MustEvent(t, "api-put-number.json")
		req.Headers = map[string]string{"authorization": "Bearer " + key, "content-type": "application/json"}
		req.PathParameters = map[string]string{"e164": "+14155550100"}
		req.Body = `{"company_id":"` + company + `","branch_id":"main","agent_id":"agent-` + company + `"}`
		return invoke(t, h.srv.Management(), req)
	}
	initialize := func() map[string]any {
		req := MustEvent(t, "tools-initialize-call.json")
		req.Headers = map[string]string{"authorization": "Bearer " + testBolnaToken, "content-type": "application/json"}
		req.Body = strings.Replace(req.Body, "Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6", "call-claims-1", 1)
		var reply map[string]any
		MustDecode(t, invoke(t, h.srv.Tools(), req), 200, &reply)
		return reply
	}

	var claim map[string]any
	MustDecode(t, put(otherKey, "squatter"), 200, &claim)
	if claim["confirmed"] != false {
		t.Fatalf("a new claim: %v, want confirmed false", claim)
	}
	if reply := initialize(); reply["success"] != false || reply["error"] != "unknown_number" {
		t.Fatalf("inbound call to a claimed, unconfirmed number: %v, want the unknown_number answer", reply)
	}
	if logs := h.logs.String(); !strings.Contains(logs, "*0100") || strings.Contains(logs, "4155550100") {
		t.Fatalf("the logs name the number unmasked, or not at all:\n%s", logs)
	}

	MustDecode(t, put(testAPIKey, "salon"), 200, &claim)
	if claim["confirmed"] != false || claim["company_id"] != "salon" {
		t.Fatalf("replacing another account's pending claim: %v, want the new claim, pending", claim)
	}
	if _, err := h.env.Store.ConfirmNumber(ctx, "+14155550100", "acct_test"); err != nil {
		t.Fatal(err)
	}
	if reply := initialize(); reply["success"] != true || reply["company"].(map[string]any)["id"] != "salon" {
		t.Fatalf("inbound call to the confirmed number: %v, want the salon's route", reply)
	}
	if resp := put(otherKey, "squatter"); resp.StatusCode != 409 {
		t.Fatalf("taking another account's confirmed number: status=%d body=%s, want 409", resp.StatusCode, resp.Body)
	}
	MustDecode(t, put(testAPIKey, "salon"), 200, &claim)
	if claim["confirmed"] != true {
		t.Fatalf("the owner updating its confirmed number: %v, want it still confirmed", claim)
	}
}

// The operators confirm a claim for a named account, and the store's write is conditioned on
// the claim being that account's: a claim that another account's replaced meanwhile is not
// confirmed for the wrong one. The account whose claim was replaced sees so on GET.
func TestConfirmingANumberNamesItsAccount(t *testing.T) {
	h := MustHarness(t)
	ctx := context.Background()
	const otherKey = "other-account-api-key-0123456789"
	if err := h.env.Store.EnsureAccount(ctx, ringfence.Account{ID: "acct_other", Name: "other"}, otherKey); err != nil {
		t.Fatal(err)
	}
	request := func(event, key string) events.APIGatewayV2HTTPRequest {
		req := MustEvent(t, event)
		req.Headers = map[string]string{"authorization": "Bearer " + key, "content-type": "application/json"}
		req.PathParameters = map[string]string{"e164": "+14155550100"}
		req.Body = `{"company_id":"co","branch_id":"main","agent_id":"agent-1"}`
		return req
	}
	MustDecode(t, invoke(t, h.srv.Management(), request("api-put-number.json", testAPIKey)), 200, nil)
	MustDecode(t, invoke(t, h.srv.Management(), request("api-put-number.json", otherKey)), 200, nil)

	_, err := h.env.Store.ConfirmNumber(ctx, "+14155550100", "acct_test")
	if got := ringfence.ErrorCode(err); got != ringfence.ECONFLICT {
		t.Fatalf("confirming for acct_test a claim now acct_other's: %v, want %s", err, ringfence.ECONFLICT)
	}
	if r, err := h.env.Store.GetNumber(ctx, "+14155550100"); err != nil || r.Confirmed || r.AccountID != "acct_other" {
		t.Fatalf("route after the refused confirmation: %+v, %v; want acct_other's claim, pending", r, err)
	}
	resp := invoke(t, h.srv.Management(), request("api-get-number.json", testAPIKey))
	if resp.StatusCode != 409 || !strings.Contains(resp.Body, "replaced") || strings.Contains(resp.Body, "acct_other") {
		t.Fatalf("GET of a number whose claim was replaced: status=%d body=%s, want 409 saying so, naming no account", resp.StatusCode, resp.Body)
	}
	if r, err := h.env.Store.ConfirmNumber(ctx, "+14155550100", "acct_other"); err != nil || !r.Confirmed {
		t.Fatalf("confirming acct_other's own claim: %+v, %v", r, err)
	}
	fresh := request("api-get-number.json", testAPIKey)
	fresh.PathParameters["e164"] = "+14155550199"
	MustDecode(t, invoke(t, h.srv.Management(), fresh), 404, nil)
}
