package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/ringfence"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// Every command works on a table through the store code, in JSON and as a table, and refuses
// what it cannot do with a clear error.
func TestOpsCommands(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	st := env.Store
	c, err := st.CreateCampaign(ctx, ringfence.Campaign{ID: dynamo.NewID("cmp"), AccountID: "default", Name: "ops", Provider: ringfence.ProviderBolna, AgentID: "a", FromNumber: "+14155550100"}, []ringfence.Contact{{Phone: "+14155550101"}})
	if err != nil {
		t.Fatal(err)
	}
	call := ringfence.Call{ID: dynamo.NewID("call"), AccountID: "default", CampaignID: c.ID, ContactID: dynamo.ContactID(0), Provider: ringfence.ProviderBolna, ProviderCallID: "exec-ops-1", Status: ringfence.StatusInitiated}
	if err := st.CreateCall(ctx, call); err != nil {
		t.Fatal(err)
	}
	cost := ringfence.MustParseDecimal("0.12")
	if _, _, err := st.ApplyCallEvent(ctx, call.ID, ringfence.CallEvent{Provider: ringfence.ProviderBolna, Status: ringfence.StatusCompleted, Cost: &cost, Version: "v1"}); err != nil {
		t.Fatal(err)
	}
	if err := st.ParkEvent(ctx, ringfence.CallEvent{Provider: ringfence.ProviderBolna, ProviderCallID: "exec-unknown", Status: ringfence.StatusRinging}); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		return map[string]string{"RINGFENCE_DYNAMODB_ENDPOINT": dynamotest.Endpoint(), "RINGFENCE_TABLE": env.Table}[k]
	}
	runJSON := func(args ...string) map[string]any {
		t.Helper()
		var out bytes.Buffer
		if err := run(ctx, append(args, "--json"), getenv, &out); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		var v map[string]any
		if err := json.Unmarshal(out.Bytes(), &v); err != nil {
			t.Fatalf("%v printed %s", args, out.String())
		}
		return v
	}
	campaign := runJSON("campaign", c.ID)
	calls := campaign["calls"].([]any)
	history := calls[0].(map[string]any)["history"].([]any)
	if campaign["calls_completed"] != 1.0 || campaign["total_cost"] != "0.12" || len(history) != 2 || !strings.Contains(history[1].(string), "first_terminal completed") {
		t.Fatalf("campaign=%v", campaign)
	}
	parked := runJSON("parked")["parked"].([]any)
	if len(parked) != 1 || parked[0].(map[string]any)["ProviderCallID"] != "exec-unknown" {
		t.Fatalf("parked=%v", parked)
	}
	if v := runJSON("stuck"); v["quiet_calls"] != nil && len(v["quiet_calls"].([]any)) != 0 {
		t.Fatalf("stuck=%v, want no quiet calls", v)
	}
	if v := runJSON("dedupe-queue"); v["applied"] != false || len(v["duplicates"].([]any)) != 0 {
		t.Fatalf("dedupe-queue=%v", v)
	}
	var table bytes.Buffer
	if err := run(ctx, []string{"campaign", c.ID}, getenv, &table); err != nil || !strings.Contains(table.String(), "1 of 1 calls ended, total cost 0.12 USD") {
		t.Fatalf("table: %v\n%s", err, table.String())
	}
	if err := run(ctx, []string{"reapply", "bolna", "exec-unknown"}, getenv, &table); err == nil || !strings.Contains(err.Error(), "stay parked") {
		t.Fatalf("reapply of an unknown call: %v", err)
	}
	for _, bad := range [][]string{{}, {"nonsense"}, {"campaign"}, {"campaign", "cmp_missing"}, {"reapply", "acme", "x"}} {
		if err := run(ctx, bad, getenv, &table); err == nil {
			t.Fatalf("%v succeeded, want an error", bad)
		}
	}
}

// Names stored with control characters (from before they were refused) reach the terminal
// escaped, in the table and in JSON: an ESC cannot recolour or move it, U+202E cannot reverse it.
func TestOpsEscapesControlCharacters(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	c, err := env.Store.CreateCampaign(ctx, ringfence.Campaign{ID: dynamo.NewID("cmp"), AccountID: "default", Name: "evil\x1b[2J\u202egnp.exe\x00", Provider: ringfence.ProviderBolna, AgentID: "a", FromNumber: "+14155550100"}, []ringfence.Contact{{Phone: "+14155550101"}})
	if err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		return map[string]string{"RINGFENCE_DYNAMODB_ENDPOINT": dynamotest.Endpoint(), "RINGFENCE_TABLE": env.Table}[k]
	}
	for _, args := range [][]string{{"campaign", c.ID}, {"campaign", c.ID, "--json"}} {
		var out bytes.Buffer
		if err := run(ctx, args, getenv, &out); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		got := out.String()
		if strings.ContainsAny(got, "\x1b\u202e\x00") || !strings.Contains(got, `\u202e`) {
			t.Fatalf("%v printed control characters raw, or not at all:\n%q", args, got)
		}
	}
}

// numbers confirm confirms the named account's claim of a number; a claim another account put
// meanwhile, or an unclaimed number, is an error.
func TestOpsConfirmsNumbers(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	if _, err := env.Store.PutNumber(ctx, ringfence.NumberRoute{Number: "+14155550100", AccountID: "default", CompanyID: "co", BranchID: "main"}); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		return map[string]string{"RINGFENCE_DYNAMODB_ENDPOINT": dynamotest.Endpoint(), "RINGFENCE_TABLE": env.Table}[k]
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"numbers", "confirm", "+14155550100"}, getenv, &out); err == nil {
		t.Fatal("numbers confirm without naming the account succeeded")
	}
	if _, err := env.Store.PutNumber(ctx, ringfence.NumberRoute{Number: "+14155550100", AccountID: "acct_c", CompanyID: "co_c", BranchID: "main"}); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"numbers", "confirm", "+14155550100", "default"}, getenv, &out); err == nil {
		t.Fatal("numbers confirm for default confirmed acct_c's claim, which replaced default's")
	}
	if r, err := env.Store.GetNumber(ctx, "+14155550100"); err != nil || r.Confirmed || r.AccountID != "acct_c" {
		t.Fatalf("route after the refused confirm: %+v, %v; want acct_c's claim, pending", r, err)
	}
	if _, err := env.Store.PutNumber(ctx, ringfence.NumberRoute{Number: "+14155550100", AccountID: "default", CompanyID: "co", BranchID: "main"}); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"numbers", "confirm", "+14155550100", "default", "--json"}, getenv, &out); err != nil || !strings.Contains(out.String(), `"confirmed": true`) {
		t.Fatalf("numbers confirm: %v\n%s", err, out.String())
	}
	if r, err := env.Store.GetNumber(ctx, "+14155550100"); err != nil || !r.Confirmed {
		t.Fatalf("route after confirm: %+v, %v", r, err)
	}
	if err := run(ctx, []string{"numbers", "confirm", "+14155550199", "default"}, getenv, &out); err == nil {
		t.Fatal("confirming a number nobody claimed succeeded")
	}
}
