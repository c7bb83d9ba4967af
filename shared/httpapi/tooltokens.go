package httpapi

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// toolTokenResponse is a tool token as the API shows it; the token itself only when it is issued.
type toolTokenResponse struct {
	ID        string `json:"id"`
	ToolToken string `json:"tool_token,omitempty"`
	CreatedAt string `json:"created_at"`
}

// createToolToken issues a new tool token for the caller's account. The token is in this answer
// only: ringfence keeps its hash. It takes no body.
func (s *Server) createToolToken(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	account, err := s.authenticate(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	token := dynamo.NewToolToken()
	t, err := s.store.CreateToolToken(ctx, account, token)
	if err != nil {
		return 0, nil, err
	}
	s.log.InfoContext(ctx, "tool token created", "account", account, "tool_token_id", t.ID)
	return http.StatusCreated, toolTokenResponse{ID: t.ID, ToolToken: token, CreatedAt: t.CreatedAt}, nil
}

// listToolTokens lists the caller's tool tokens, without the tokens.
func (s *Server) listToolTokens(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	account, err := s.authenticate(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	tokens, err := s.store.ListToolTokens(ctx, account)
	if err != nil {
		return 0, nil, err
	}
	out := make([]toolTokenResponse, 0, len(tokens))
	for _, t := range tokens {
		out = append(out, toolTokenResponse{ID: t.ID, CreatedAt: t.CreatedAt})
	}
	return http.StatusOK, map[string]any{"tool_tokens": out}, nil
}

// deleteToolToken revokes one of the caller's tool tokens: tool calls presenting it are
// unauthorized from then on.
func (s *Server) deleteToolToken(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	account, err := s.authenticate(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	id, err := pathID(req)
	if err != nil {
		return 0, nil, err
	}
	if err := s.store.DeleteToolToken(ctx, account, id); err != nil {
		return 0, nil, err
	}
	s.log.InfoContext(ctx, "tool token deleted", "account", account, "tool_token_id", id)
	return http.StatusOK, map[string]any{"id": id, "deleted": true}, nil
}

// toolAuth is who a tool call was authenticated as: the provider and, for a tool token, the
// account whose calls and numbers it may reach. A provider that signs its requests (Retell) or
// names its own call in a signed or secret-bearing message (Vapi) vouches for the call itself, so
// its tool calls reach any account's (anyAccount); the call's own account applies. The zero
// value reaches nothing.
type toolAuth struct {
	provider   ringfence.Provider
	account    string
	anyAccount bool
}

// reaches reports whether a tool call so authenticated may act on a call or number of account.
func (a toolAuth) reaches(account string) bool { return a.anyAccount || a.account == account }
