package httpapi_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// Every response carries the security headers: HTML a Content-Security-Policy that forbids
// framing, JSON (transcripts, phone numbers) Cache-Control: no-store; none may be sniffed, and
// none sends a Referer on.
func TestEveryResponseHasSecurityHeaders(t *testing.T) {
	h := MustHarness(t)
	campaign, _ := h.MustCreateCampaign(t, 1)
	get := MustEvent(t, "api-get-campaign.json")
	get.PathParameters = map[string]string{"id": campaign.ID}
	missing := MustEvent(t, "api-get-campaign.json")
	missing.PathParameters = map[string]string{"id": "cmp_missing"}
	noRoute := MustEvent(t, "api-healthz.json")
	noRoute.RouteKey, noRoute.RawPath = "GET /nowhere", "/nowhere"
	tests := []struct {
		name string
		req  events.APIGatewayV2HTTPRequest
		html bool
	}{
		{"dashboard sign-in", dashboardRequest(t, "GET /dashboard", "", ""), true},
		{"dashboard", dashboardRequest(t, "GET /dashboard", "", "", h.MustLogin(t)), true},
		{"login redirect", dashboardRequest(t, "POST /dashboard/login", "", "api_key="+testAPIKey), true},
		{"campaign", get, false},
		{"error", missing, false},
		{"no route", noRoute, false},
	}
	for _, tt := range tests {
		resp := invoke(t, h.srv.Management(), tt.req)
		want := map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
		if tt.html {
			want["X-Frame-Options"] = "DENY"
		}
		for k, v := range want {
			if got := resp.Headers[k]; got != v {
				t.Fatalf("%s: %s=%q, want %q", tt.name, k, got, v)
			}
		}
		csp := resp.Headers["Content-Security-Policy"]
		if tt.html && (!strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'")) {
			t.Fatalf("%s: Content-Security-Policy=%q, want default-src 'none' and frame-ancestors 'none'", tt.name, csp)
		}
	}
	webhook := invoke(t, h.srv.BolnaWebhook(), bolnaDelivery(t, []byte(`{"id":"unknown-exec","status":"ringing"}`)))
	if webhook.Headers["Cache-Control"] != "no-store" || webhook.Headers["X-Content-Type-Options"] != "nosniff" {
		t.Fatalf("webhook answer headers=%v, want no-store and nosniff", webhook.Headers)
	}
}
