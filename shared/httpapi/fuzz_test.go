package httpapi_test

import (
	"encoding/json"
	"maps"
	"sort"
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

// paramRoute is a route with path parameters, which the fuzzer sends any value in each of them.
type paramRoute struct{ function, key string }

// paramRoutes lists every route that has path parameters, in a fixed order.
func paramRoutes(keys map[string][]string) []paramRoute {
	functions := make([]string, 0, len(keys))
	for fn := range keys {
		functions = append(functions, fn)
	}
	sort.Strings(functions)
	var out []paramRoute
	for _, fn := range functions {
		for _, key := range keys[fn] {
			if strings.Contains(key, "{") {
				out = append(out, paramRoute{fn, key})
			}
		}
	}
	return out
}

// Whatever body a caller sends to any route, and whatever it puts in any path parameter of any
// route, the answer is never a 500 and always JSON, with an error code and a message when it is
// an error.
func FuzzRoutes(f *testing.F) {
	h := MustHarness(f)
	handlers := h.srv.Handlers()
	withParams := paramRoutes(h.srv.RouteKeys())
	for i, r := range fuzzRoutes {
		f.Add(uint8(i), []byte(MustEvent(f, r.sample).Body), "")
	}
	f.Add(uint8(0), []byte(`{"name":"x","provider":"bolna","agent_id":"a","from_number":"+14155550100","contacts":[{"phone":"+14155550101","n":{"deep":[1,2]}}]}`), "")
	f.Add(uint8(5), []byte(`{"id":"x","status":"completed","total_cost":1e400}`), "")
	f.Add(uint8(6), []byte(`{"arguments":"{\"reschedule_day\":\"friday\",\"execution_id\":7}"}`), "")
	for i := range withParams {
		for _, param := range []string{"cmp_missing", "cmp_" + strings.Repeat("x", 3000), "cmp_\u202eevil", "%2B14155550100"} {
			f.Add(uint8(len(fuzzRoutes)+i), []byte(`{}`), param)
		}
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte, param string) {
		var req events.APIGatewayV2HTTPRequest
		var function string
		if n := int(route) % (len(fuzzRoutes) + len(withParams)); n < len(fuzzRoutes) {
			r := fuzzRoutes[n]
			req, function = MustEvent(t, r.sample), r.function
			if r.params != nil {
				req.PathParameters = maps.Clone(r.params)
			}
			for k, v := range r.headers {
				req.Headers[k] = v
			}
			for k := range req.PathParameters {
				if param != "" {
					req.PathParameters[k] = param
				}
			}
		} else {
			r := withParams[n-len(fuzzRoutes)]
			req, function = routeRequest(r.key, param), r.function
		}
		req.Body, req.IsBase64Encoded = string(body), false
		resp := invoke(t, handlers[function], req)
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
