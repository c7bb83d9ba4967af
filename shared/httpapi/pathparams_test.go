package httpapi_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// routeRequest builds a request for a route key, "METHOD /path/{param}", with every path
// parameter set to value, bearing the development API key.
func routeRequest(routeKey, value string) events.APIGatewayV2HTTPRequest {
	method, path, _ := strings.Cut(routeKey, " ")
	params := map[string]string{}
	for _, part := range strings.Split(path, "/") {
		if strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}") {
			params[part[1:len(part)-1]] = value
		}
	}
	req := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: routeKey, RawPath: path, PathParameters: params,
		Headers: map[string]string{"authorization": "Bearer " + testAPIKey, "content-type": "application/json"},
		Body:    `{}`,
	}
	req.RequestContext.HTTP.Method = method
	req.RequestContext.RouteKey = routeKey
	req.RequestContext.DomainName = "abc123.execute-api.us-east-1.amazonaws.com"
	return req
}

// Every path parameter of every route goes through the same one check before its endpoint runs:
// an id too long for a key, or one with a bidirectional control or a space, is a 400 that does not
// echo it, and the log does not hold it whole.
func TestEveryPathParameterIsCheckedBeforeTheEndpoint(t *testing.T) {
	h := MustHarness(t)
	handlers := h.srv.Handlers()
	long := "cmp_" + strings.Repeat("x", 3000)
	bad := []string{long, "cmp_\u202eevil", "cmp_\u2066x", "cmp x", "cmp\x00x", "%00" + strings.Repeat("é", 300)}
	routes := 0
	for fn, keys := range h.srv.RouteKeys() {
		for _, key := range keys {
			if !strings.Contains(key, "{") {
				continue
			}
			routes++
			for _, value := range bad {
				resp := invoke(t, handlers[fn], routeRequest(key, value))
				if resp.StatusCode != 400 {
					t.Fatalf("%s with id %.40q: status=%d, want 400 (body %.300s)", key, value, resp.StatusCode, resp.Body)
				}
				if strings.Contains(resp.Body, value) || strings.Contains(resp.Body, "\u202e") || strings.Contains(resp.Body, strings.Repeat("x", 100)) {
					t.Fatalf("%s echoes the id that failed: %.300s", key, resp.Body)
				}
			}
		}
	}
	if routes < 20 {
		t.Fatalf("checked %d routes with path parameters, want every one (20 or more)", routes)
	}
	if strings.Contains(h.logs.String(), strings.Repeat("x", 100)) {
		t.Fatal("the log holds the over-long id")
	}
}
