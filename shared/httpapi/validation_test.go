package httpapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
)

// A provider's report of an absurd cost or duration, or a recording URL that is not http(s), is
// refused with 400 and changes nothing; the campaign's later webhooks apply as usual. A cost with
// more decimals than a millionth of a dollar is rounded, never refused.
func TestAbsurdReportsAreRefusedAndTheCampaignGoesOn(t *testing.T) {
	h := MustHarness(t)
	campaign, calls := h.MustCreateCampaign(t, 2)
	exec := calls[0].ProviderCallID
	for _, tt := range []struct{ name, body, message string }{
		{"cost 1e37", `{"id":"` + exec + `","status":"completed","conversation_duration":10,"total_cost":1e37}`, "cost"},
		{"cost 1e20", `{"id":"` + exec + `","status":"completed","conversation_duration":10,"total_cost":1e20}`, "cost"},
		{"negative duration", `{"id":"` + exec + `","status":"completed","conversation_duration":-5,"total_cost":5}`, "negative"},
		{"duration of a week", `{"id":"` + exec + `","status":"completed","conversation_duration":604800,"total_cost":5}`, "longer"},
		{"javascript recording", `{"id":"` + exec + `","status":"completed","conversation_duration":10,"total_cost":5,"telephony_data":{"recording_url":"javascript:alert(1)"}}`, "recording_url"},
		{"id past the key limit", `{"id":"` + strings.Repeat("x", 100000) + `","status":"completed"}`, "longer than"},
	} {
		resp := invoke(t, h.srv.BolnaWebhook(), bolnaDelivery(t, []byte(tt.body)))
		if resp.StatusCode != 400 || !strings.Contains(resp.Body, tt.message) || len(resp.Body) > 500 {
			t.Fatalf("%s: status=%d body=%.300s, want 400 mentioning %q, short", tt.name, resp.StatusCode, resp.Body, tt.message)
		}
	}
	if strings.Contains(h.logs.String(), strings.Repeat("x", 1000)) {
		t.Fatal("the log echoes the over-long id")
	}
	if c := h.MustGetCampaign(t, campaign.ID); c.CallsCompleted != 0 || c.TotalCost != "0" {
		t.Fatalf("campaign after refused reports: %+v, want untouched", c)
	}
	for i, cost := range []string{"12.3456789", "250"} {
		body := fmt.Sprintf(`{"id":%q,"status":"completed","conversation_duration":10,"total_cost":%s,"telephony_data":{"recording_url":"https://example.com/r.mp3"}}`, calls[i].ProviderCallID, cost)
		MustDecode(t, invoke(t, h.srv.BolnaWebhook(), bolnaDelivery(t, []byte(body))), 200, nil)
	}
	c := h.MustGetCampaign(t, campaign.ID)
	if got, want := c.TotalCost, "2.623457"; c.CallsCompleted != 2 || got != want {
		t.Fatalf("campaign total_cost=%s calls_completed=%d, want %s and 2", got, c.CallsCompleted, want)
	}
}

// Management requests are checked whole before anything is written: a bad contact anywhere in a
// campaign, an empty field name, a value too large for an item, control characters in a name, a
// time zone that is no place, an id too long for a key. Each gets a clear 400 (never a 500), and
// no phone number or long id is echoed.
func TestBadManagementInputWritesNothing(t *testing.T) {
	var requests atomic.Int64
	h := MustHarness(t, dynamotest.CountRequests(&requests))
	contacts := func(n int, bad map[string]any) string {
		list := make([]map[string]any, n)
		for i := range list {
			list[i] = map[string]any{"name": fmt.Sprintf("Contact %d", i), "phone": fmt.Sprintf("+1415555%04d", i)}
		}
		for k, v := range bad {
			list[n-1][k] = v
		}
		b, _ := json.Marshal(list)
		return string(b)
	}
	campaign := func(name, list string) string {
		return `{"name":` + name + `,"provider":"bolna","agent_id":"a","from_number":"+14155550100","contacts":` + list + `}`
	}
	request := func(event, routeKey, body string, path map[string]string) events.APIGatewayV2HTTPRequest {
		req := MustEvent(t, event)
		req.Body, req.PathParameters = body, path
		if routeKey != "" {
			req.RouteKey = routeKey
		}
		return req
	}
	customer := func(tz string) string {
		return `{"name":"Ann","phone":"+14155550111","timezone":"` + tz + `","provider":"vapi","agent_id":"a","from_number":"pn-1"}`
	}
	long := strings.Repeat("9", 100000)
	tests := []struct {
		name    string
		req     events.APIGatewayV2HTTPRequest
		message string
	}{
		{"empty field name, last of 300 contacts", request("api-create-campaign.json", "", campaign(`"x"`, contacts(300, map[string]any{"": "x"})), nil), "empty name"},
		{"450 KB value", request("api-create-campaign.json", "", campaign(`"x"`, contacts(300, map[string]any{"notes": strings.Repeat("a", 450_000)})), nil), "longer than"},
		{"NUL in a contact name", request("api-create-campaign.json", "", campaign(`"x"`, contacts(2, map[string]any{"name": "Ann\u0000"})), nil), "control character"},
		{"ESC in the campaign name", request("api-create-campaign.json", "", campaign(`"\u001b[31mred"`, contacts(1, nil)), nil), "control character"},
		{"right-to-left override", request("api-create-campaign.json", "", campaign(`"abc\u202edef"`, contacts(1, nil)), nil), "control character"},
		{"too many fields", request("api-create-campaign.json", "", campaign(`"x"`, contacts(1, func() map[string]any {
			m := map[string]any{}
			for i := 0; i < 30; i++ {
				m[fmt.Sprintf("f%d", i)] = "v"
			}
			return m
		}())), nil), "more than"},
		{"bad phone not echoed", request("api-create-campaign.json", "", campaign(`"x"`, contacts(1, map[string]any{"phone": "+1415555" + long})), nil), "E.164"},
		{"metadata with an empty key", request("api-place-call.json", "", `{"to":"+14155550123","provider":"bolna","agent_id":"a","from_number":"+14155550100","metadata":{"":"x"}}`, nil), "empty name"},
		{"timezone empty", request("api-create-customer.json", "", customer(""), nil), "timezone"},
		{"timezone Local", request("api-create-customer.json", "", customer("Local"), nil), "timezone"},
		{"long campaign id", request("api-get-campaign.json", "", "", map[string]string{"id": "cmp_" + long}), "longer than"},
		{"long call id", request("api-get-call.json", "", "", map[string]string{"id": "call_" + long}), "longer than"},
		{"long customer id", request("api-get-customer.json", "", "", map[string]string{"id": "cus_" + long}), "longer than"},
		{"long id to start", request("api-start-campaign.json", "", "", map[string]string{"id": "cmp_" + long}), "longer than"},
	}
	for _, tt := range tests {
		before := requests.Load()
		resp := invoke(t, h.srv.Management(), tt.req)
		var body struct{ Error, Message string }
		if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
			t.Fatalf("%s: body %.200q is not JSON", tt.name, resp.Body)
		}
		if resp.StatusCode != 400 || !strings.Contains(body.Message, tt.message) {
			t.Fatalf("%s: status=%d message=%.300q, want 400 mentioning %q", tt.name, resp.StatusCode, body.Message, tt.message)
		}
		if strings.Contains(resp.Body, "99999999") || strings.Contains(resp.Body, "1415555029") || len(resp.Body) > 500 {
			t.Fatalf("%s: the answer echoes the input: %.300s", tt.name, resp.Body)
		}
		if tt.req.RouteKey != "GET /campaigns/{id}" && tt.req.RouteKey != "GET /calls/{id}" && tt.req.RouteKey != "GET /customers/{id}" && requests.Load() != before {
			t.Fatalf("%s: %d DynamoDB requests, want none", tt.name, requests.Load()-before)
		}
	}
	logs := h.logs.String()
	if strings.Contains(logs, "99999999") || strings.Contains(logs, "1415555029") {
		t.Fatal("the logs echo a long id or a phone number")
	}
	list := MustEvent(t, "api-get-campaign.json")
	list.RouteKey, list.PathParameters = "GET /campaigns", nil
	var got struct {
		Campaigns []campaignView `json:"campaigns"`
	}
	MustDecode(t, invoke(t, h.srv.Management(), list), 200, &got)
	if len(got.Campaigns) != 0 {
		t.Fatalf("campaigns=%+v, want none", got.Campaigns)
	}
}

// A tool call naming a call by an id too long for a key is refused with 400, not a 500 the
// provider would retry, and the id is not echoed.
func TestOverLongToolIDsAreRefused(t *testing.T) {
	h := MustHarness(t)
	long := strings.Repeat("z", 100000)
	for _, arg := range []string{"execution_id", "call_id", "ringfence_call_id"} {
		req := MustEvent(t, "tools-reschedule-lead.json")
		req.Body = `{"` + arg + `":"` + long + `","day":"monday"}`
		resp := invoke(t, h.srv.Tools(), req)
		if resp.StatusCode != 400 || strings.Contains(resp.Body, long[:100]) {
			t.Fatalf("%s of 100,000 characters: status=%d body=%.200s, want 400 without the id", arg, resp.StatusCode, resp.Body)
		}
	}
	if strings.Contains(h.logs.String(), long[:100]) {
		t.Fatal("the log echoes the over-long id")
	}
}
