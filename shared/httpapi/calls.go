package httpapi

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/calling"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// placeCallRequest is the body of POST /calls.
type placeCallRequest struct {
	To         string                     `json:"to"`
	Provider   string                     `json:"provider"`
	AgentID    string                     `json:"agent_id"`
	FromNumber string                     `json:"from_number"`
	Metadata   map[string]json.RawMessage `json:"metadata"`
	Region     string                     `json:"default_region"`
	// RespectFrequency holds the call back while its number is at the account's contact
	// frequency cap; without it the call counts toward the cap but is placed.
	RespectFrequency bool `json:"respect_frequency"`
}

// placedResponse is a placed call; a call waiting for a slot also has its queue position.
type placedResponse struct {
	callResponse
	Position int `json:"position,omitempty"`
}

// validate checks the call request before anything is written, and writes to in E.164.
func (in *placeCallRequest) validate() error {
	region, err := ringfence.ValidateRegion("default_region", in.Region)
	if err != nil {
		return err
	}
	if in.To, err = ringfence.NormalizePhone("to", in.To, region); err != nil {
		return err
	}
	if err := ringfence.ValidateText("agent_id", in.AgentID, ringfence.MaxTextLength); err != nil {
		return err
	}
	if err := ringfence.ValidateText("from_number", in.FromNumber, ringfence.MaxTextLength); err != nil {
		return err
	}
	return ringfence.ValidateFields("metadata", stringValues(in.Metadata))
}

func (s *Server) placeCall(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	var in placeCallRequest
	account, err := s.readJSON(ctx, req, &in)
	if err != nil {
		return 0, nil, err
	}
	provider, err := ringfence.ParseProvider(in.Provider)
	if err != nil {
		return 0, nil, err
	}
	return s.idempotent(ctx, req, account, func(ctx context.Context, _ events.APIGatewayV2HTTPRequest) (int, any, error) {
		return s.placeDirect(ctx, account, provider, in)
	})
}

// placeDirect places the call a POST /calls asked for, once its Idempotency-Key (if any) is held.
func (s *Server) placeDirect(ctx context.Context, account string, provider ringfence.Provider, in placeCallRequest) (int, any, error) {
	placed, err := s.calls.PlaceDirect(ctx, account, calling.DirectCall{
		To: in.To, Provider: provider, AgentID: in.AgentID, FromNumber: in.FromNumber, Metadata: stringValues(in.Metadata),
		RespectFrequency: in.RespectFrequency,
	})
	if err != nil {
		return 0, nil, err
	}
	out := placedResponse{callResponse: toCallResponse(placed.Call, nil), Position: placed.Position}
	if placed.Call.Status == ringfence.StatusQueued {
		return http.StatusAccepted, out, nil
	}
	return http.StatusCreated, out, nil
}

// stringValues keeps strings as they are and anything else as its JSON text, so metadata
// reaches the agent as the caller wrote it.
func stringValues(raw map[string]json.RawMessage) map[string]string {
	if len(raw) == 0 {
		return nil
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) != nil {
			s = string(v)
		}
		out[k] = s
	}
	return out
}

func (s *Server) getCall(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	account, err := s.authenticate(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	id, err := pathID(req)
	if err != nil {
		return 0, nil, err
	}
	c, err := s.store.GetCall(ctx, id)
	if err != nil {
		return 0, nil, err
	}
	if c.AccountID != account {
		return 0, nil, ringfence.Errorf(ringfence.ENOTFOUND, "call %s not found", id)
	}
	return http.StatusOK, toCallResponse(c, nil), nil
}

func (s *Server) startCampaign(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	account, err := s.authenticate(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	id, err := pathID(req)
	if err != nil {
		return 0, nil, err
	}
	started, err := s.calls.StartCampaign(ctx, account, id)
	if err != nil {
		return 0, nil, err
	}
	s.log.InfoContext(ctx, "campaign started", "account", account, "campaign", started.Campaign.ID, "queued", started.Queued, "dialled", started.Dialled)
	return http.StatusAccepted, map[string]any{
		"campaign": toCampaignResponse(started.Campaign), "queued": started.Queued, "dialled": started.Dialled,
	}, nil
}

// slotsResponse is the GET /slots body.
type slotsResponse struct {
	Slots map[string]slotUsage `json:"slots"`
	Held  []heldSlot           `json:"held"`
}

type slotUsage struct {
	InUse int `json:"in_use"`
	Limit int `json:"limit"`
}

type heldSlot struct {
	CallID      string `json:"call_id"`
	Kind        string `json:"kind"`
	ExecutionID string `json:"execution_id"`
	StartedAt   string `json:"started_at"`
}

func (s *Server) listSlots(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	account, err := s.authenticate(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	usage, slots, err := s.calls.Slots(ctx, account)
	if err != nil {
		return 0, nil, err
	}
	out := slotsResponse{Slots: map[string]slotUsage{}, Held: []heldSlot{}}
	for _, u := range usage {
		out.Slots[string(u.Kind)] = slotUsage{InUse: u.InUse, Limit: u.Limit}
	}
	for _, sl := range slots {
		out.Held = append(out.Held, heldSlot{CallID: sl.CallID, Kind: string(sl.Kind), ExecutionID: sl.ProviderCallID, StartedAt: sl.StartedAt})
	}
	return http.StatusOK, out, nil
}
