package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// numberRequest is the body of PUT /numbers/{e164}.
type numberRequest struct {
	CompanyID   string `json:"company_id"`
	CompanyName string `json:"company_name"`
	BranchID    string `json:"branch_id"`
	BranchName  string `json:"branch_name"`
	AgentID     string `json:"agent_id"`
	Greeting    string `json:"greeting"`
}

// numberResponse is a number's route as the API shows it.
type numberResponse struct {
	Number      string `json:"number"`
	CompanyID   string `json:"company_id"`
	CompanyName string `json:"company_name,omitempty"`
	BranchID    string `json:"branch_id"`
	BranchName  string `json:"branch_name,omitempty"`
	AgentID     string `json:"agent_id,omitempty"`
	Greeting    string `json:"greeting,omitempty"`
	// Confirmed is false while the claim waits for an operator; until then the number answers
	// no inbound call.
	Confirmed bool      `json:"confirmed"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toNumberResponse(r ringfence.NumberRoute) numberResponse {
	return numberResponse{Number: r.Number, CompanyID: r.CompanyID, CompanyName: r.CompanyName, BranchID: r.BranchID,
		BranchName: r.BranchName, AgentID: r.AgentID, Greeting: r.Greeting, Confirmed: r.Confirmed, UpdatedAt: r.UpdatedAt}
}

// pathNumber reads the {e164} path parameter. A "+" in a URL path may arrive as "%2B" or, from
// clients that treat it like a query string, be dropped; all three forms name the same number.
// With ?default_region=GB the number may also be in that region's national format.
func pathNumber(req events.APIGatewayV2HTTPRequest) (string, error) {
	raw := req.PathParameters["e164"]
	n, err := url.PathUnescape(raw)
	if err != nil {
		n = raw
	}
	n = strings.TrimSpace(n)
	region, err := ringfence.ValidateRegion("default_region", req.QueryStringParameters["default_region"])
	if err != nil {
		return "", err
	}
	if n != "" && region == "" && !strings.HasPrefix(n, "+") {
		n = "+" + n
	}
	return ringfence.NormalizePhone("number", n, region)
}

func (s *Server) putNumber(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	var in numberRequest
	account, err := s.readJSON(ctx, req, &in)
	if err != nil {
		return 0, nil, err
	}
	number, err := pathNumber(req)
	if err != nil {
		return 0, nil, err
	}
	route := ringfence.NumberRoute{Number: number, AccountID: account, CompanyID: in.CompanyID, CompanyName: in.CompanyName,
		BranchID: in.BranchID, BranchName: in.BranchName, AgentID: in.AgentID, Greeting: in.Greeting}
	if err := route.Validate(); err != nil {
		return 0, nil, err
	}
	route, err = s.store.PutNumber(ctx, route)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toNumberResponse(route), nil
}

func (s *Server) getNumber(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	account, err := s.authenticate(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	number, err := pathNumber(req)
	if err != nil {
		return 0, nil, err
	}
	route, err := s.store.GetNumber(ctx, number)
	if err != nil {
		return 0, nil, err
	}
	if route.AccountID != account {
		return 0, nil, s.notTheAccountsNumber(ctx, account, number)
	}
	return http.StatusOK, toNumberResponse(route), nil
}

// notTheAccountsNumber is the answer about another account's number: not found, unless the
// account had claimed it, in which case it learns that its claim was replaced (by a pending claim
// or a confirmation of another account's, which is not named), so that it can ask the operators.
func (s *Server) notTheAccountsNumber(ctx context.Context, account, number string) error {
	replaced, err := s.store.ReplacedClaim(ctx, number, account)
	if err != nil {
		return err
	}
	if replaced {
		return ringfence.Errorf(ringfence.ECONFLICT, "your claim of number %s was replaced by another account's claim; it answers none of your inbound calls (ask the operators to confirm the genuine claim)", ringfence.MaskPhone(number))
	}
	return ringfence.Errorf(ringfence.ENOTFOUND, "number %s not found", ringfence.MaskPhone(number))
}
