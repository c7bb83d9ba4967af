// Package httpapi is the HTTP glue: it turns API Gateway (HTTP API, payload 2.0) requests into
// calls on the domain and the store, and their results and errors into JSON responses. Every route
// the backend serves is listed in routes.go.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/calling"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/metrics"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// Config holds the secrets and settings the handlers need.
type Config struct {
	// APIKey is the deployment's own bearer key of the management API; requests bearing it act as
	// AccountID. Other accounts' keys are stored hashed in the table.
	APIKey    string
	AccountID string
	// BolnaWebhookToken is the secret Bolna's webhook URL carries as ?token=, since Bolna signs
	// nothing. Bolna's mid-call tools present it too.
	BolnaWebhookToken string
	// BolnaAllowedIPs, when set, is the only source addresses Bolna's webhooks are taken from.
	BolnaAllowedIPs []string
	// RetellAPIKey verifies the x-retell-signature of Retell's webhooks and function calls.
	RetellAPIKey string
	// VapiWebhookSecret authenticates Vapi's server messages (X-Vapi-Secret, or the HMAC key).
	VapiWebhookSecret string
	// SessionSecret signs the dashboard's session cookies and login links.
	SessionSecret string
	// LocalEndpoints accepts plain http:// endpoints on loopback addresses, for a receiver on
	// the developer's machine; it is set only when running locally.
	LocalEndpoints bool
}

// Server serves the management API, the provider webhooks and the mid-call tools.
type Server struct {
	store *dynamo.Store
	calls *calling.Service
	cfg   Config
	log   *slog.Logger
	// Now is the clock that signature timestamps are checked against. Tests replace it.
	Now func() time.Time
	// Metrics records the webhooks' results and the requests refused (nil records nothing).
	Metrics *metrics.Recorder
	// activity counts webhook deliveries for the dashboard.
	activity activityCounter
}

// NewServer returns a server over the store and the calling service.
func NewServer(store *dynamo.Store, calls *calling.Service, cfg Config, log *slog.Logger) *Server {
	return &Server{store: store, calls: calls, cfg: cfg, log: log, Now: time.Now}
}

// Handler is the signature every API Gateway function has.
type Handler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// endpoint handles one route. It returns the response status and body, or an error that the
// one error table turns into a status.
type endpoint func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error)

// serve dispatches a request to the endpoint of its route among routes. It never returns a Go
// error: whatever goes wrong becomes a JSON response, so Lambda never answers with its own 502.
func (s *Server) serve(routes map[string]endpoint) Handler {
	return func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		ep, ok := routes[req.RouteKey]
		if !ok {
			return errorResponse(ctx, s.log, req, ringfence.Errorf(ringfence.ENOTFOUND, "no route %s", req.RouteKey)), nil
		}
		status, body, err := ep(ctx, req)
		if err != nil {
			s.Metrics.Count(metrics.Rejected, 1, "Reason", ringfence.ErrorCode(err))
			return errorResponse(ctx, s.log, req, err), nil
		}
		if p, ok := body.(page); ok {
			headers := map[string]string{"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}
			var cookies []string
			for k, v := range p.headers {
				if k == "Set-Cookie" {
					cookies = append(cookies, v)
					continue
				}
				headers[k] = v
			}
			return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: headers, Cookies: cookies, Body: p.html}, nil
		}
		return jsonResponse(status, body), nil
	}
}

// authenticate checks the management API's bearer key and returns the account it belongs to: the
// deployment's own key, or a key stored (hashed) for an account.
func (s *Server) authenticate(ctx context.Context, req events.APIGatewayV2HTTPRequest) (string, error) {
	key := bearer(req)
	if key == "" {
		return "", ringfence.Errorf(ringfence.EUNAUTHORIZED, "send the API key as 'Authorization: Bearer <key>'")
	}
	if secretEqual(key, s.cfg.APIKey) {
		return s.cfg.AccountID, nil
	}
	account, err := s.store.AccountIDByAPIKey(ctx, key)
	if ringfence.ErrorCode(err) == ringfence.EUNAUTHORIZED {
		return "", ringfence.Errorf(ringfence.EUNAUTHORIZED, "the API key is not valid; send it as 'Authorization: Bearer <key>'")
	}
	return account, err
}

// healthz answers 200 when the table answers, and 503 when it does not.
func (s *Server) healthz(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	if err := s.store.Ping(ctx); err != nil {
		s.log.ErrorContext(ctx, "health check failed", "error", err.Error())
		return http.StatusServiceUnavailable, map[string]string{"status": "unavailable"}, nil
	}
	return http.StatusOK, map[string]string{"status": "ok"}, nil
}
