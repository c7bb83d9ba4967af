package httpapi

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/bolna"
	"github.com/ringfence/ringfence/shared/calling"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// webhookReply is what a provider webhook is answered with.
type webhookReply struct {
	CallID string                `json:"call_id,omitempty"`
	Result ringfence.ApplyResult `json:"result"`
}

// bolnaWebhook applies one delivery of Bolna's execution webhook. Bolna signs nothing, so the URL
// carries a secret token. The reply is 200 for anything applied or absorbed, 4xx for a request
// that will never apply, and 5xx only where a retry by Bolna is safe and useful.
func (s *Server) bolnaWebhook(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	if !secretEqual(req.QueryStringParameters["token"], s.cfg.BolnaWebhookToken) {
		return 0, nil, ringfence.Errorf(ringfence.EUNAUTHORIZED, "the webhook URL's token is missing or wrong")
	}
	b, err := body(req)
	if err != nil {
		return 0, nil, err
	}
	ev, err := bolna.ParseWebhook(b)
	if err != nil {
		return 0, nil, err
	}
	return s.applyEvent(ctx, req, ev)
}

// applyEvent applies a provider event exactly once. An event whose call is not known yet is
// parked and answered 202; it is applied as soon as the call's provider id is recorded.
func (s *Server) applyEvent(ctx context.Context, req events.APIGatewayV2HTTPRequest, ev ringfence.CallEvent) (int, any, error) {
	callID, result, err := s.calls.ApplyEvent(ctx, ev)
	if err != nil {
		return 0, nil, err
	}
	s.log.InfoContext(ctx, "webhook applied",
		"request_id", req.RequestContext.RequestID, "provider", ev.Provider, "call_id", callID,
		"execution_id", ev.ProviderCallID, "event_status", ev.Status, "result", result)
	if result == calling.ResultParked {
		return http.StatusAccepted, webhookReply{Result: result}, nil
	}
	return http.StatusOK, webhookReply{CallID: callID, Result: result}, nil
}
