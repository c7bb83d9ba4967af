package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/outbound"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// createEndpointRequest is the body of POST /endpoints.
type createEndpointRequest struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description"`
}

// endpointResponse is an endpoint as the API shows it; the secret only on creation and rotation.
type endpointResponse struct {
	ID          string          `json:"id"`
	URL         string          `json:"url"`
	Events      []string        `json:"events"`
	Description string          `json:"description,omitempty"`
	Secret      string          `json:"secret,omitempty"`
	CreatedAt   string          `json:"created_at"`
	Health      *endpointHealth `json:"health,omitempty"`
}

// endpointHealth sums up an endpoint's recent attempts.
type endpointHealth struct {
	Status         string `json:"status"` // healthy, failing, or unknown before any attempt
	RecentAttempts int    `json:"recent_attempts"`
	RecentFailures int    `json:"recent_failures"`
	LastAttemptAt  string `json:"last_attempt_at,omitempty"`
	LastStatusCode int    `json:"last_status_code,omitempty"`
}

func toEndpointResponse(e ringfence.Endpoint, withSecret bool) endpointResponse {
	out := endpointResponse{ID: e.ID, URL: e.URL, Events: e.Events, Description: e.Description, CreatedAt: e.CreatedAt}
	if withSecret {
		out.Secret = e.Secret
	}
	return out
}

func (s *Server) createEndpoint(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	var in createEndpointRequest
	account, err := s.readJSON(ctx, req, &in)
	if err != nil {
		return 0, nil, err
	}
	e := ringfence.Endpoint{
		ID: dynamo.NewID("ep"), AccountID: account, URL: in.URL, Events: in.Events,
		Description: in.Description, Secret: outbound.NewSecret(),
	}
	if err := (outbound.Policy{AllowLoopback: s.cfg.LocalEndpoints}).CheckURL(e.URL); err != nil {
		return 0, nil, err
	}
	if err := ringfence.ValidateEndpoint(e); err != nil {
		return 0, nil, err
	}
	e, err = s.store.CreateEndpoint(ctx, e)
	if err != nil {
		return 0, nil, err
	}
	s.log.InfoContext(ctx, "endpoint created", "account", account, "endpoint", e.ID, "events", e.Events)
	return http.StatusCreated, toEndpointResponse(e, true), nil
}

func (s *Server) listEndpoints(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	account, err := s.authenticate(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	out, err := s.endpointsWithHealth(ctx, account)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"endpoints": out}, nil
}

// endpointsWithHealth lists an account's endpoints, without their secrets, each with its health.
func (s *Server) endpointsWithHealth(ctx context.Context, account string) ([]endpointResponse, error) {
	endpoints, err := s.store.ListEndpoints(ctx, account)
	if err != nil {
		return nil, err
	}
	out := make([]endpointResponse, 0, len(endpoints))
	for _, e := range endpoints {
		r := toEndpointResponse(e, false)
		if r.Health, err = s.endpointHealth(ctx, e.ID); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// recentAttempts is how many of an endpoint's latest attempts its health and deliveries show.
const recentAttempts = 50

// endpointHealth is failing when the latest attempt failed, healthy when it succeeded.
func (s *Server) endpointHealth(ctx context.Context, endpointID string) (*endpointHealth, error) {
	attempts, err := s.store.ListDeliveryAttempts(ctx, endpointID, recentAttempts)
	if err != nil {
		return nil, err
	}
	h := &endpointHealth{Status: "unknown", RecentAttempts: len(attempts)}
	for _, a := range attempts {
		if a.Error != "" {
			h.RecentFailures++
		}
	}
	if len(attempts) > 0 {
		h.LastAttemptAt, h.LastStatusCode, h.Status = attempts[0].At, attempts[0].StatusCode, "healthy"
		if attempts[0].Error != "" {
			h.Status = "failing"
		}
	}
	return h, nil
}

// endpointOf reads the endpoint named in the path, if it is the caller's.
func (s *Server) endpointOf(ctx context.Context, req events.APIGatewayV2HTTPRequest) (ringfence.Endpoint, error) {
	account, err := s.authenticate(ctx, req)
	if err != nil {
		return ringfence.Endpoint{}, err
	}
	return s.store.GetEndpoint(ctx, account, req.PathParameters["id"])
}

func (s *Server) deleteEndpoint(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	e, err := s.endpointOf(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	if err := s.store.DeleteEndpoint(ctx, e.AccountID, e.ID); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"id": e.ID, "deleted": true}, nil
}

func (s *Server) rotateEndpointSecret(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	e, err := s.endpointOf(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	e, err = s.store.RotateEndpointSecret(ctx, e.AccountID, e.ID, outbound.NewSecret())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toEndpointResponse(e, true), nil
}

// deliveryAttemptResponse is one attempt in GET /endpoints/{id}/deliveries.
type deliveryAttemptResponse struct {
	EventID    string `json:"event_id"`
	EventType  string `json:"event_type"`
	Attempt    int    `json:"attempt"`
	At         string `json:"at"`
	StatusCode int    `json:"status_code"`
	Error      string `json:"error,omitempty"`
}

func (s *Server) listEndpointDeliveries(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	e, err := s.endpointOf(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	attempts, err := s.store.ListDeliveryAttempts(ctx, e.ID, recentAttempts)
	if err != nil {
		return 0, nil, err
	}
	out := make([]deliveryAttemptResponse, 0, len(attempts))
	for _, a := range attempts {
		out = append(out, deliveryAttemptResponse{EventID: a.EventID, EventType: a.EventType, Attempt: a.Attempt, At: a.At, StatusCode: a.StatusCode, Error: a.Error})
	}
	return http.StatusOK, map[string]any{"deliveries": out}, nil
}

// redeliverEvent sends an event again to every endpoint of the caller that receives its type,
// from a first attempt, with the same webhook-id and body.
func (s *Server) redeliverEvent(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	account, err := s.authenticate(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	id := req.PathParameters["id"]
	ev, err := s.store.GetEvent(ctx, id)
	if err == nil && ev.AccountID != account {
		err = ringfence.Errorf(ringfence.ENOTFOUND, "event %s not found", id)
	}
	if err != nil {
		return 0, nil, err
	}
	endpoints, err := s.store.ListEndpoints(ctx, account)
	if err != nil {
		return 0, nil, err
	}
	ids := []string{}
	for _, e := range endpoints {
		if e.Subscribes(ev.Type) {
			ids = append(ids, e.ID)
		}
	}
	if ev.Body != "" {
		// An event not sent yet has no deliveries: its first sending reaches every endpoint.
		if err := s.store.Redeliver(ctx, ev, ids); err != nil {
			return 0, nil, err
		}
	}
	return http.StatusAccepted, map[string]any{"event_id": ev.ID, "endpoints": ids}, nil
}

// eventBody is what an endpoint receives.
type eventBody struct {
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
	Data      any    `json:"data"`
}

// EventBody renders an event: its type, when its change happened, and the call as GET
// /calls/{id} shows it or the campaign as GET /campaigns/{id} shows it, read when the event is
// first sent.
func (s *Server) EventBody(ctx context.Context, ev ringfence.Event) ([]byte, error) {
	out := eventBody{Type: ev.Type, Timestamp: ev.CreatedAt}
	if t, err := time.Parse(time.RFC3339Nano, ev.CreatedAt); err == nil {
		out.Timestamp = t.UTC().Format(time.RFC3339Nano)
	}
	if ev.IsCallEvent() {
		c, err := s.store.GetCall(ctx, ev.SubjectID)
		if err != nil {
			return nil, err
		}
		out.Data = toCallResponse(c, nil)
	} else {
		c, err := s.store.GetCampaign(ctx, ev.AccountID, ev.SubjectID)
		if err != nil {
			return nil, err
		}
		out.Data = toCampaignResponse(c)
	}
	return json.Marshal(out)
}
