// Package httpapi is the HTTP glue: it turns API Gateway (HTTP API, payload 2.0) requests into
// calls on the domain and the store, and their results and errors into JSON responses. Every route
// the backend serves is listed in routes.go.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/calling"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/metrics"
	"github.com/ringfence/ringfence/shared/ringfence"
	"github.com/ringfence/ringfence/shared/secrets"
)

// Config holds the secrets and settings the handlers need.
type Config struct {
	// Secrets, when set, is where the handlers read the API key, the webhook secrets and
	// Retell's key at request time (so a rotation needs no redeploy); the fields below are then
	// unused. Without it, the fields are the secrets.
	Secrets secrets.Store
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
	// SessionSecret signs the dashboard's session cookies and login links. It is a secret of its
	// own, never derived from an API key; without it the dashboard takes only the bearer key.
	SessionSecret string
	// SessionSecretPrevious is the session secret being rotated out: tokens it signed are still
	// honoured (until they expire), and no new token is signed with it.
	SessionSecretPrevious string
	// LocalEndpoints accepts endpoints on loopback addresses (http:// too), for a receiver on the
	// developer's machine: outbound.Policy's AllowLoopback. Only RINGFENCE_LOOPBACK_ENDPOINTS,
	// which the local runner sets and template.yaml never does, sets it.
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
	if cfg.Secrets == nil {
		cfg.Secrets = staticSecrets(cfg)
	}
	return &Server{store: store, calls: calls, cfg: cfg, log: log, Now: time.Now}
}

// Handler is the signature every API Gateway function has.
type Handler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// endpoint handles one route. It returns the response status and body, or an error that the
// one error table turns into a status.
type endpoint func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error)

// serve dispatches a request to the endpoint of its route among routes. It never returns a Go
// error: whatever goes wrong becomes a JSON response, so Lambda never answers with its own 502.
// Every response, whatever built it, leaves with the security headers.
func (s *Server) serve(routes map[string]endpoint) Handler {
	respond := s.respond(routes)
	return func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		resp, err := respond(ctx, req)
		return withSecurityHeaders(resp), err
	}
}

// contentSecurityPolicy is the dashboard's: no scripts at all, its own inline styles, forms only
// to itself, and no framing (clickjacking).
const contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// withSecurityHeaders adds the headers every response carries. HTML gets a Content-Security-Policy
// and is never framed; JSON, which carries transcripts and phone numbers, is never cached; nothing
// is content-sniffed, and no URL (a login link's token) leaks in a Referer.
func withSecurityHeaders(resp events.APIGatewayV2HTTPResponse) events.APIGatewayV2HTTPResponse {
	if resp.Headers == nil {
		resp.Headers = map[string]string{}
	}
	resp.Headers["X-Content-Type-Options"] = "nosniff"
	resp.Headers["Referrer-Policy"] = "no-referrer"
	resp.Headers["Cache-Control"] = "no-store"
	if strings.HasPrefix(resp.Headers["Content-Type"], "text/html") {
		resp.Headers["Content-Security-Policy"] = contentSecurityPolicy
		resp.Headers["X-Frame-Options"] = "DENY"
	}
	return resp
}

// respond is serve without the headers every response gets.
func (s *Server) respond(routes map[string]endpoint) Handler {
	return func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		ep, req, ok := route(routes, req)
		if !ok {
			return errorResponse(ctx, s.log, req, ringfence.Errorf(ringfence.ENOTFOUND, "no route for %s %s", req.RequestContext.HTTP.Method, requestPath(req))), nil
		}
		status, body, err := 0, any(nil), checkRequest(req)
		if err == nil {
			status, body, err = ep(ctx, req)
		}
		if err != nil {
			s.Metrics.Count(metrics.Rejected, 1, "Reason", ringfence.ErrorCode(err))
			return errorResponse(ctx, s.log, req, err), nil
		}
		if p, ok := body.(page); ok {
			headers := map[string]string{"Content-Type": "text/html; charset=utf-8"}
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
	own, err := s.secret(ctx, secrets.APIKey)
	if err != nil {
		return "", err
	}
	if own.Accepts(key) {
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
