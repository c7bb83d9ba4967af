package calling_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ringfence/ringfence/infra/simulator"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// The same 50-contact campaign through each provider, with each provider's own duplicated and
// out-of-order webhooks, ends with the same exact counters (the simulator decides every outcome
// by the number dialled), and each provider's own exact cost.
func TestSameCampaignThroughEveryProvider(t *testing.T) {
	if testing.Short() {
		t.Skip("three campaigns are skipped in -short mode")
	}
	s := MustStack(t, simulator.Options{CallLength: 20 * time.Millisecond, Seed: 11}, 5, 5)
	var outcomes []map[string]int
	for _, p := range []struct{ provider, from string }{{"bolna", "+14155550100"}, {"retell", "+14155550100"}, {"vapi", "phone-number-1"}} {
		var c campaignView
		s.do(t, "POST", "/campaigns", `{"name":"`+p.provider+`","provider":"`+p.provider+`","agent_id":"agent-1","from_number":"`+p.from+`","contacts":`+contacts(50)+`}`, 201, &c)
		s.do(t, "POST", "/campaigns/"+c.ID+"/start", "", 202, nil)
		waitFor(t, 120*time.Second, p.provider+"'s campaign to complete", func() bool {
			var got campaignView
			s.do(t, "GET", "/campaigns/"+c.ID, "", 200, &got)
			return got.Status == "completed"
		})
		s.sim.Wait()
		var cost ringfence.Decimal
		for callID, script := range s.sim.Stats().Scripts {
			if strings.Contains(callID, strings.TrimPrefix(c.ID, "cmp_")) {
				cost = cost.Add(script.Cost)
			}
		}
		var got campaignView
		s.do(t, "GET", "/campaigns/"+c.ID, "", 200, &got)
		if got.CallsCompleted != 50 || got.TotalCost != cost.String() {
			t.Fatalf("%s: campaign=%+v, want 50 calls costing %s", p.provider, got, cost)
		}
		outcomes = append(outcomes, got.Outcomes)
	}
	for i := 1; i < len(outcomes); i++ {
		for _, o := range ringfence.Outcomes {
			if outcomes[i][string(o)] != outcomes[0][string(o)] {
				t.Fatalf("outcome counts differ between providers: %v", outcomes)
			}
		}
	}
	if st := s.sim.Stats(); st.MaxInFlight > 5 || len(st.Failures) != 0 {
		t.Fatalf("max in flight %d, failures %v", st.MaxInFlight, st.Failures)
	}
}

// Inbound calls through Bolna and Vapi get their record and context from the called number, as
// Retell's do, and initialize_call answers through each provider's own tool shape.
func TestInboundThroughBolnaAndVapi(t *testing.T) {
	s := MustStack(t, simulator.Options{}, 5, 5)
	s.mustRouteSalon(t)
	ctx := context.Background()

	bolnaBody := MustSample(t, "bolna-webhook-completed.json").Body
	var ex map[string]any
	json.Unmarshal([]byte(bolnaBody), &ex)
	ex["id"], ex["user_number"], ex["agent_number"] = "bolna-inbound-1", "anonymous", salonNumber
	td := ex["telephony_data"].(map[string]any)
	td["call_type"], td["to_number"], td["from_number"] = "inbound", salonNumber, "anonymous"
	ex["context_details"] = map[string]any{"recipient_data": map[string]any{}}
	b, _ := json.Marshal(ex)
	resp, err := http.Post(s.base+"/webhooks/bolna?token="+bolnaToken, "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c, err := s.env.Store.GetCall(ctx, ringfence.InboundCallID(ringfence.ProviderBolna, "bolna-inbound-1"))
	if resp.StatusCode != 200 || err != nil || c.Context.CompanyID != "salon-co" || c.Outcome != ringfence.StatusCompleted {
		t.Fatalf("status=%d call=%+v err=%v, want a completed inbound call of salon-co", resp.StatusCode, c, err)
	}

	msg := map[string]any{"message": map[string]any{
		"type": "tool-calls", "toolCallList": []any{map[string]any{"id": "tc-1", "function": map[string]any{"name": "initialize_call", "arguments": "{}"}}},
		"call":        map[string]any{"id": "vapi-inbound-1", "type": "inboundPhoneCall", "status": "in-progress", "customer": map[string]any{"number": "+14155557000"}},
		"phoneNumber": map[string]any{"number": salonNumber}, "customer": map[string]any{"number": "+14155557000"},
	}}
	b, _ = json.Marshal(msg)
	req, _ := http.NewRequest(http.MethodPost, s.base+"/webhooks/vapi", strings.NewReader(string(b)))
	req.Header.Set("X-Vapi-Secret", simKey)
	vresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(vresp.Body)
	vresp.Body.Close()
	var results struct {
		Results []struct{ ToolCallID, Result string } `json:"results"`
	}
	json.Unmarshal(body, &results)
	if vresp.StatusCode != 200 || len(results.Results) != 1 || results.Results[0].ToolCallID != "tc-1" || !strings.Contains(results.Results[0].Result, `"salon-co"`) {
		t.Fatalf("status=%d body=%s, want a result naming salon-co", vresp.StatusCode, body)
	}
	if c, err := s.env.Store.GetCall(ctx, ringfence.InboundCallID(ringfence.ProviderVapi, "vapi-inbound-1")); err != nil || c.Context.BranchID != "downtown" {
		t.Fatalf("vapi inbound call=%+v err=%v, want its context", c, err)
	}
}
