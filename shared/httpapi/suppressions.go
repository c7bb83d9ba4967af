package httpapi

import (
	"context"
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// suppressionResponse is a suppressed number as the API shows it.
type suppressionResponse struct {
	Phone     string    `json:"phone"`
	CreatedAt time.Time `json:"created_at"`
}

// putSuppression adds the path's number to the account's suppression list: from then on no
// campaign, direct or scheduled call dials it. Idempotent.
func (s *Server) putSuppression(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	account, err := s.authenticate(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	phone, err := pathNumber(req)
	if err != nil {
		return 0, nil, err
	}
	sup, err := s.store.Suppress(ctx, account, phone)
	if err != nil {
		return 0, nil, err
	}
	s.log.InfoContext(ctx, "number suppressed", "account", account)
	return http.StatusOK, suppressionResponse{Phone: sup.Phone, CreatedAt: sup.CreatedAt}, nil
}

// deleteSuppression takes the path's number off the account's suppression list. Idempotent.
func (s *Server) deleteSuppression(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	account, err := s.authenticate(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	phone, err := pathNumber(req)
	if err != nil {
		return 0, nil, err
	}
	if err := s.store.Unsuppress(ctx, account, phone); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]string{"phone": phone, "status": "not suppressed"}, nil
}

// listSuppressions pages through the account's suppression list, in number order.
func (s *Server) listSuppressions(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	account, err := s.authenticate(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	q := req.QueryStringParameters
	limit := defaultCallsPage
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxCallsPage {
			return 0, nil, ringfence.Errorf(ringfence.EINVALID, "limit must be a whole number from 1 to %d", maxCallsPage)
		}
		limit = n
	}
	after := ""
	if v := q["cursor"]; v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || ringfence.ValidatePhone("cursor", string(b)) != nil {
			return 0, nil, ringfence.Errorf(ringfence.EINVALID, "cursor is not one this API returned")
		}
		after = string(b)
	}
	list, err := s.store.Suppressions(ctx, account, after, limit)
	if err != nil {
		return 0, nil, err
	}
	out := make([]suppressionResponse, 0, len(list))
	for _, sup := range list {
		out = append(out, suppressionResponse{Phone: sup.Phone, CreatedAt: sup.CreatedAt})
	}
	var next *string
	if len(list) == limit {
		cursor := base64.RawURLEncoding.EncodeToString([]byte(list[len(list)-1].Phone))
		next = &cursor
	}
	return http.StatusOK, map[string]any{"suppressions": out, "next_cursor": next}, nil
}
