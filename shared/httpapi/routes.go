package httpapi

import (
	"net/url"
	"sort"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// routes lists every route the backend serves, grouped by the function (the folder under
// functions/) that serves it. template.yaml declares the same routes on the same functions; a
// test checks that the two agree.
func (s *Server) routes() map[string]map[string]endpoint {
	return map[string]map[string]endpoint{
		"api": {
			"GET /healthz":                            s.healthz,
			"GET /dashboard":                          s.dashboard,
			"GET /dashboard/login":                    s.dashboardLogin,
			"POST /dashboard/login":                   s.dashboardLogin,
			"POST /dashboard/logout":                  s.dashboardLogout,
			"GET /campaigns":                          s.listCampaigns,
			"POST /campaigns":                         s.createCampaign,
			"GET /campaigns/{id}":                     s.getCampaign,
			"GET /campaigns/{id}/calls":               s.listCampaignCalls,
			"POST /campaigns/{id}/start":              s.startCampaign,
			"POST /campaigns/{id}/contacts":           s.addContacts,
			"POST /campaigns/{id}/pause":              s.pauseCampaign,
			"POST /campaigns/{id}/resume":             s.resumeCampaign,
			"POST /campaigns/{id}/cancel":             s.cancelCampaign,
			"PUT /suppressions/{e164}":                s.putSuppression,
			"DELETE /suppressions/{e164}":             s.deleteSuppression,
			"GET /suppressions":                       s.listSuppressions,
			"PUT /settings":                           s.putSettings,
			"GET /settings":                           s.getSettings,
			"GET /campaigns/{id}/calls.csv":           s.campaignCallsCSV,
			"GET /dashboard/campaigns/{id}":           s.dashboardCampaign,
			"GET /dashboard/campaigns/{id}/calls.csv": s.dashboardCampaignCSV,
			"POST /dashboard/campaigns/{id}/{action}": s.dashboardControl,
			"POST /calls":                             s.placeCall,
			"GET /calls/{id}":                         s.getCall,
			"GET /slots":                              s.listSlots,
			"PUT /numbers/{e164}":                     s.putNumber,
			"GET /numbers/{e164}":                     s.getNumber,
			"POST /customers":                         s.createCustomer,
			"GET /customers/{id}":                     s.getCustomer,
			"PATCH /customers/{id}":                   s.patchCustomer,

			// Events out: the endpoints that receive them, and their deliveries.
			"POST /endpoints":                    s.createEndpoint,
			"GET /endpoints":                     s.listEndpoints,
			"DELETE /endpoints/{id}":             s.deleteEndpoint,
			"POST /endpoints/{id}/rotate-secret": s.rotateEndpointSecret,
			"GET /endpoints/{id}/deliveries":     s.listEndpointDeliveries,
			"POST /events/{id}/redeliver":        s.redeliverEvent,

			// The tokens an account's Bolna agents present on tool calls.
			"POST /tool-tokens":        s.createToolToken,
			"GET /tool-tokens":         s.listToolTokens,
			"DELETE /tool-tokens/{id}": s.deleteToolToken,
		},
		"bolna-webhook": {
			"POST /webhooks/bolna": s.bolnaWebhook,
		},
		"retell-webhook": {
			"POST /webhooks/retell": s.retellWebhook,
		},
		"vapi-webhook": {
			"POST /webhooks/vapi": s.vapiWebhook,
		},
		"tools": {
			"POST /tools/{name}": s.tool,
			"GET /tools/{name}":  s.toolByQuery,
		},
	}
}

// Management serves the management API (functions/api).
func (s *Server) Management() Handler { return s.serve(s.routes()["api"]) }

// BolnaWebhook serves Bolna's execution webhook (functions/bolna-webhook).
func (s *Server) BolnaWebhook() Handler { return s.serve(s.routes()["bolna-webhook"]) }

// RetellWebhook serves Retell's call webhooks and inbound webhook (functions/retell-webhook).
func (s *Server) RetellWebhook() Handler { return s.serve(s.routes()["retell-webhook"]) }

// VapiWebhook serves Vapi's server messages (functions/vapi-webhook).
func (s *Server) VapiWebhook() Handler { return s.serve(s.routes()["vapi-webhook"]) }

// Tools serves the mid-call tools (functions/tools).
func (s *Server) Tools() Handler { return s.serve(s.routes()["tools"]) }

// Handlers returns the handler of every HTTP function, keyed by its folder under functions/.
func (s *Server) Handlers() map[string]Handler {
	out := map[string]Handler{}
	for fn, routes := range s.routes() {
		out[fn] = s.serve(routes)
	}
	return out
}

// RouteKeys returns the sorted route keys ("METHOD /path") each function serves.
func (s *Server) RouteKeys() map[string][]string {
	out := map[string][]string{}
	for fn, routes := range s.routes() {
		for key := range routes {
			out[fn] = append(out[fn], key)
		}
		sort.Strings(out[fn])
	}
	return out
}

// route finds the endpoint of a request among routes. API Gateway names the route it matched in
// routeKey, and that is used when it is one of ours. A request that reached the function through
// the $default route (or any route key it does not know, as in an event from `sam local
// generate-event`) is matched on its method and path, as API Gateway matches routes: a literal
// segment before a {parameter}. Such a request is given the route key and path parameters of the
// route it matched, so the endpoint, the logs and the idempotency keys see what a routed request
// carries.
func route(routes map[string]endpoint, req events.APIGatewayV2HTTPRequest) (endpoint, events.APIGatewayV2HTTPRequest, bool) {
	if ep, ok := routes[req.RouteKey]; ok {
		return ep, req, true
	}
	best, bestParams := "", map[string]string(nil)
	for key := range routes {
		params, ok := matchRoute(key, req.RequestContext.HTTP.Method, requestPath(req))
		if ok && (best == "" || moreSpecific(key, best)) {
			best, bestParams = key, params
		}
	}
	if best == "" {
		return nil, req, false
	}
	req.RouteKey, req.RequestContext.RouteKey, req.PathParameters = best, best, bestParams
	return routes[best], req, true
}

// matchRoute matches a method and a raw path with a route key such as "GET /campaigns/{id}", and
// returns the route's path parameters, unescaped as API Gateway passes them.
func matchRoute(key, method, path string) (map[string]string, bool) {
	keyMethod, keyPath, _ := strings.Cut(key, " ")
	if keyMethod != method {
		return nil, false
	}
	want, got := strings.Split(strings.TrimPrefix(keyPath, "/"), "/"), strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(want) != len(got) {
		return nil, false
	}
	var params map[string]string
	for i, seg := range want {
		name, isParam := strings.CutPrefix(seg, "{")
		if !isParam {
			if seg != got[i] {
				return nil, false
			}
			continue
		}
		value, err := url.PathUnescape(got[i])
		if err != nil || value == "" {
			return nil, false
		}
		if params == nil {
			params = map[string]string{}
		}
		params[strings.TrimSuffix(name, "}")] = value
	}
	return params, true
}

// moreSpecific says whether route key a wins over b when both match a request: at the first
// segment where they differ, a literal beats a {parameter}.
func moreSpecific(a, b string) bool {
	_, pa, _ := strings.Cut(a, " ")
	_, pb, _ := strings.Cut(b, " ")
	sa, sb := strings.Split(pa, "/"), strings.Split(pb, "/")
	for i := range min(len(sa), len(sb)) {
		aParam, bParam := strings.HasPrefix(sa[i], "{"), strings.HasPrefix(sb[i], "{")
		if aParam != bParam {
			return bParam
		}
	}
	return a < b
}

// requestPath is the path a request was sent to, as API Gateway received it.
func requestPath(req events.APIGatewayV2HTTPRequest) string {
	if req.RawPath != "" {
		return req.RawPath
	}
	return req.RequestContext.HTTP.Path
}

// checkRequest runs the checks every route takes before its endpoint runs, so that a new route
// cannot miss them: its path parameters, and the origin of a dashboard form.
func checkRequest(req events.APIGatewayV2HTTPRequest) error {
	if err := checkPathParameters(req.PathParameters); err != nil {
		return err
	}
	return checkDashboardOrigin(req)
}

// checkPathParameters is the one check every path parameter of every route passes before its
// endpoint runs, so that no route can forget it: an id, a number, a tool's name or an action is 1
// to ringfence.MaxIDLength printable ASCII characters without spaces. A value that fails is
// neither echoed nor logged (it may be anything, of any length); an endpoint may check further.
func checkPathParameters(params map[string]string) error {
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := ringfence.ValidateID("the {"+name+"} in the path", params[name]); err != nil {
			return err
		}
	}
	return nil
}
