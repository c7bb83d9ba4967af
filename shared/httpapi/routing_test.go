package httpapi_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// An event for the $default route, as `sam local generate-event apigateway http-api-proxy
// --method GET --path healthz` writes it (events/api-healthz-default-route.json), is served by
// the route its method and path match: the health check answers 200.
func TestDefaultRouteIsMatchedOnMethodAndPath(t *testing.T) {
	h := MustHarness(t)
	MustDecode(t, invoke(t, h.srv.Management(), MustEvent(t, "api-healthz-default-route.json")), 200, nil)
}

// A request whose route key API Gateway did not name as one of ours gets the path parameters of
// the route its method and path match, in place of whatever it carried; a path or method that no
// route has is 404.
func TestUnknownRouteKeyGetsTheMatchedRoutesParameters(t *testing.T) {
	h := MustHarness(t)
	campaign, _ := h.MustCreateCampaign(t, 1)
	at := func(routeKey, method, path string) events.APIGatewayV2HTTPRequest {
		req := MustEvent(t, "api-get-campaign.json")
		req.RouteKey, req.RequestContext.RouteKey = routeKey, routeKey
		req.RawPath, req.RequestContext.HTTP.Path, req.RequestContext.HTTP.Method = path, path, method
		req.PathParameters = map[string]string{"parameter1": "value1"}
		return req
	}
	var got campaignView
	for _, key := range []string{"$default", "ANY /{proxy+}"} {
		MustDecode(t, invoke(t, h.srv.Management(), at(key, "GET", "/campaigns/"+campaign.ID)), 200, &got)
		if got.ID != campaign.ID {
			t.Fatalf("%s: campaign=%+v, want %s", key, got, campaign.ID)
		}
	}
	for _, tt := range []struct{ method, path string }{{"GET", "/nowhere"}, {"DELETE", "/campaigns/" + campaign.ID}, {"GET", "/campaigns/"}, {"GET", "/campaigns/a/b/c"}} {
		resp := invoke(t, h.srv.Management(), at("$default", tt.method, tt.path))
		if resp.StatusCode != 404 || !strings.Contains(resp.Body, "no route for "+tt.method) {
			t.Fatalf("%s %s: status=%d body=%s, want 404 no route", tt.method, tt.path, resp.StatusCode, resp.Body)
		}
	}
}
