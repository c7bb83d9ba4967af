package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// fuzzRoute is one route the fuzzer sends bodies to, with the authentication a caller would have.
type fuzzRoute struct {
	function string
	sample   string // The sample event it starts from.
	params   map[string]string
	headers  map[string]string
}

var fuzzRoutes = []fuzzRoute{
	{"api", "api-create-campaign.json", nil, nil},
	{"api", "api-place-call.json", nil, nil},
	{"api", "api-put-number.json", map[string]string{"e164": "+14155550100"}, nil},
	{"api", "api-create-customer.json", nil, nil},
	{"api", "api-patch-customer.json", map[string]string{"id": "cus_missing"}, nil},
	{"bolna-webhook", "bolna-webhook-completed.json", nil, nil},
	{"tools", "tools-reschedule-lead.json", map[string]string{"name": "reschedule_lead"}, nil},
	{"tools", "tools-reschedule-lead.json", map[string]string{"name": "initialize_call"}, nil},
	{"vapi-webhook", "vapi-webhook-tool-calls.json", nil, map[string]string{"x-vapi-secret": testVapiSecret}},
	{"vapi-webhook", "vapi-webhook-end-of-call-report.json", nil, map[string]string{"x-vapi-secret": testVapiSecret}},
	{"retell-webhook", "retell-webhook-call-started.json", nil, nil},
}

// Whatever body a caller sends to any route, the answer is never a 500 and always JSON, with an
// error code and a message when it is an error.
func FuzzRoutes(f *testing.F) {
	h := MustHarness(f)
	handlers := h.srv.Handlers()
	for i, r := range fuzzRoutes {
		f.Add(uint8(i), []byte(MustEvent(f, r.sample).Body))
	}
	f.Add(uint8(0), []byte(`{"name":"x","provider":"bolna","agent_id":"a","from_number":"+14155550100","contacts":[{"phone":"+14155550101","n":{"deep":[1,2]}}]}`))
	f.Add(uint8(5), []byte(`{"id":"x","status":"completed","total_cost":1e400}`))
	f.Add(uint8(6), []byte(`{"arguments":"{\"reschedule_day\":\"friday\",\"execution_id\":7}"}`))
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		req := MustEvent(t, r.sample)
		req.Body, req.IsBase64Encoded = string(body), false
		if r.params != nil {
			req.PathParameters = r.params
		}
		for k, v := range r.headers {
			req.Headers[k] = v
		}
		resp := invoke(t, handlers[r.function], req)
		assertCleanAnswer(t, req, resp)
	})
}

func assertCleanAnswer(t *testing.T, req events.APIGatewayV2HTTPRequest, resp events.APIGatewayV2HTTPResponse) {
	t.Helper()
	if resp.StatusCode >= 500 && resp.StatusCode != 503 {
		t.Fatalf("%s answered %d to %q: %s", req.RouteKey, resp.StatusCode, req.Body, resp.Body)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatalf("%s answered a body that is not a JSON object: %q", req.RouteKey, resp.Body)
	}
	if resp.StatusCode >= 400 && (body["error"] == nil || body["message"] == nil || strings.Contains(resp.Body, "goroutine")) {
		t.Fatalf("%s answered %d without a clean error: %s", req.RouteKey, resp.StatusCode, resp.Body)
	}
}
