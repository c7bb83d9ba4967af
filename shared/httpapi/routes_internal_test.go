package httpapi

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// When a path matches a route with a literal segment and one with a {parameter} there, the
// literal wins, as in API Gateway; a parameter is unescaped.
func TestRouteMatchesTheMostSpecificRoute(t *testing.T) {
	noop := func(context.Context, events.APIGatewayV2HTTPRequest) (int, any, error) { return 200, nil, nil }
	routes := map[string]endpoint{"GET /tools/{name}": noop, "GET /tools/list": noop, "GET /{any}/list": noop}
	for _, tt := range []struct{ path, key, name string }{
		{"/tools/list", "GET /tools/list", ""},
		{"/tools/reschedule_lead", "GET /tools/{name}", "reschedule_lead"},
		{"/tools/a%2Fb", "GET /tools/{name}", "a/b"},
		{"/calls/list", "GET /{any}/list", ""},
	} {
		var req events.APIGatewayV2HTTPRequest
		req.RouteKey, req.RawPath, req.RequestContext.HTTP.Method = "$default", tt.path, "GET"
		_, got, ok := route(routes, req)
		if !ok || got.RouteKey != tt.key || got.PathParameters["name"] != tt.name {
			t.Fatalf("%s: route=%q params=%v (%v), want %s name=%q", tt.path, got.RouteKey, got.PathParameters, ok, tt.key, tt.name)
		}
	}
}
