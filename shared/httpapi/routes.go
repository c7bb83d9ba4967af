package httpapi

import "sort"

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
