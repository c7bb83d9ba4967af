package httpapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ringfence/ringfence/shared/ringfence"
	"github.com/ringfence/ringfence/shared/vapi"
)

// Retell's chat events are answered 2xx, so Retell does not retry them, and change nothing: a
// chat is not a call, even when its metadata names one.
func TestRetellChatEventsAreAcknowledged(t *testing.T) {
	h := mustRetellHarness(t)
	ctx := context.Background()
	call := ringfence.Call{ID: "call_cmp1_c0001", AccountID: "acct_test", Provider: ringfence.ProviderRetell, ProviderCallID: "retell-chat-test", Status: ringfence.StatusInProgress}
	if err := h.env.Store.CreateCall(ctx, call); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"chat-started.json", "chat-ended.json", "chat-analyzed.json", "chat-inbound.json"} {
		resp := invoke(t, h.srv.RetellWebhook(), h.retellDelivery(t, mustProviderFixture(t, ringfence.ProviderRetell, name)))
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status=%d body=%s, want 200", name, resp.StatusCode, resp.Body)
		}
		if name == "chat-inbound.json" && resp.Body != `{"chat_inbound":{}}` {
			t.Fatalf("chat_inbound answered %s, want no override", resp.Body)
		}
	}
	got, err := h.env.Store.GetCall(ctx, call.ID)
	if err != nil || got.Status != ringfence.StatusInProgress || len(got.History) != 1 {
		t.Fatalf("call=%+v err=%v, want it untouched", got, err)
	}
}

// A Vapi end-of-call report without a call object (a chat's) is acknowledged and ignored.
func TestVapiReportWithoutACallIsAcknowledged(t *testing.T) {
	h := MustHarness(t)
	body := mustProviderFixture(t, ringfence.ProviderVapi, "end-of-call-report-chat.json")
	var reply struct{ Result string }
	MustDecode(t, invoke(t, h.srv.VapiWebhook(), vapiDelivery(t, body, "bearer")), 200, &reply)
	if reply.Result != "ignored" {
		t.Fatalf("result=%q, want ignored", reply.Result)
	}
}

// Bolna's completed with extracted_data as a string of JSON ends the call with its outcome and
// cost, and keeps the data as the object it holds; Vapi's report with its data only in
// artifact.structuredOutputs keeps those.
func TestExtractedDataInOtherShapesIsKept(t *testing.T) {
	h := MustHarness(t)
	ctx := context.Background()
	c, calls := h.MustCreateCampaign(t, 1)
	var ex map[string]any
	json.Unmarshal(mustProviderFixture(t, ringfence.ProviderBolna, "execution-extracted-data-string.json"), &ex)
	ex["id"] = calls[0].ProviderCallID
	ex["context_details"] = map[string]any{"recipient_data": map[string]any{"ringfence_call_id": calls[0].ID}}
	body, _ := json.Marshal(ex)
	MustDecode(t, invoke(t, h.srv.BolnaWebhook(), bolnaDelivery(t, body)), 200, nil)
	got, err := h.env.Store.GetCall(ctx, calls[0].ID)
	if err != nil || got.Outcome != ringfence.StatusCompleted || got.ExtractedData != `{"user_name":"Vivek","callback":"thursday"}` {
		t.Fatalf("call=%+v err=%v, want completed with the extracted data", got, err)
	}
	if after := h.MustGetCampaign(t, c.ID); after.CallsCompleted != 1 || after.TotalCost != "0.1271" {
		t.Fatalf("campaign=%+v, want one call costing 0.1271", after)
	}

	vapiCall := ringfence.Call{ID: "call_sch_cus_1_daily_20260101_a1", AccountID: "acct_test", Provider: ringfence.ProviderVapi,
		ProviderCallID: "2b1f2d1c-7c1e-4a57-9d7e-6e2f4b1c9a10", Status: ringfence.StatusRinging}
	if err := h.env.Store.CreateCall(ctx, vapiCall); err != nil {
		t.Fatal(err)
	}
	report := mustProviderFixture(t, ringfence.ProviderVapi, "end-of-call-report-structured-outputs.json")
	MustDecode(t, invoke(t, h.srv.VapiWebhook(), vapiDelivery(t, report, "bearer")), 200, nil)
	got, err = h.env.Store.GetCall(ctx, vapiCall.ID)
	if err != nil || got.Outcome != ringfence.StatusCompleted || !strings.Contains(got.ExtractedData, `"Customer Info"`) {
		t.Fatalf("call=%+v err=%v, want completed with the structured outputs", got, err)
	}
}

// A callback day in Hindi, through Bolna's custom function and Vapi's tool call, is stored as
// the day it names; words that name no day are kept as given and flagged, never refused.
func TestRescheduleDayInHindi(t *testing.T) {
	h := MustHarness(t)
	ctx := context.Background()
	_, calls := h.MustCreateCampaign(t, 1)
	for _, tt := range []struct{ said, day string }{{"शुक्रवार", "friday"}, {"अगले हफ़्ते किसी दिन", "अगले हफ़्ते किसी दिन"}} {
		req := MustEvent(t, "tools-reschedule-lead.json")
		args, _ := json.Marshal(map[string]string{"reschedule_day": tt.said})
		body, _ := json.Marshal(map[string]string{"execution_id": calls[0].ProviderCallID, "arguments": string(args)})
		req.Body = string(body)
		MustDecode(t, invoke(t, h.srv.Tools(), req), 200, nil)
		got, err := h.env.Store.GetCall(ctx, calls[0].ID)
		if err != nil || got.RescheduleDay != tt.day || got.RescheduleUnparsed != (tt.day == tt.said) {
			t.Fatalf("Bolna said %q: call day=%q unparsed=%v err=%v, want %q", tt.said, got.RescheduleDay, got.RescheduleUnparsed, err, tt.day)
		}
	}

	vapiCall := ringfence.Call{ID: "call_vapi_hindi", AccountID: "acct_test", Provider: ringfence.ProviderVapi,
		ProviderCallID: "2b1f2d1c-7c1e-4a57-9d7e-6e2f4b1c9a10", Status: ringfence.StatusInProgress}
	if err := h.env.Store.CreateCall(ctx, vapiCall); err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(string(mustProviderFixture(t, ringfence.ProviderVapi, "tool-calls-string.json")), `\"monday\"`, `\"शुक्रवार\"`, 1)
	var results vapi.ToolResults
	MustDecode(t, invoke(t, h.srv.VapiWebhook(), vapiDelivery(t, []byte(body), "bearer")), 200, &results)
	if len(results.Results) != 1 || results.Results[0].Error != "" || !strings.Contains(results.Results[0].Result, `"friday"`) {
		t.Fatalf("results=%+v, want friday", results)
	}
	if got, err := h.env.Store.GetCall(ctx, vapiCall.ID); err != nil || got.RescheduleDay != "friday" {
		t.Fatalf("vapi call day=%q err=%v, want friday", got.RescheduleDay, err)
	}
}
