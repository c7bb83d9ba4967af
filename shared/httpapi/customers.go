package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// createCustomerRequest is the body of POST /customers.
type createCustomerRequest struct {
	Name           string `json:"name"`
	Phone          string `json:"phone"`
	Timezone       string `json:"timezone"`
	DailyCallTime  string `json:"daily_call_time"`
	Provider       string `json:"provider"`
	AgentID        string `json:"agent_id"`
	FromNumber     string `json:"from_number"`
	Paid           bool   `json:"paid"`
	PhoneValidated bool   `json:"phone_validated"`
	Region         string `json:"default_region"`
}

// patchCustomerRequest is the body of PATCH /customers/{id}; absent fields stay as they are.
type patchCustomerRequest struct {
	Paid           *bool   `json:"paid"`
	PhoneValidated *bool   `json:"phone_validated"`
	CallsDisabled  *bool   `json:"calls_disabled"`
	DailyCallTime  *string `json:"daily_call_time"`
}

// customerResponse is a customer as the API shows it.
type customerResponse struct {
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	Phone          string     `json:"phone"`
	Timezone       string     `json:"timezone"`
	DailyCallTime  string     `json:"daily_call_time,omitempty"`
	Provider       string     `json:"provider"`
	AgentID        string     `json:"agent_id"`
	FromNumber     string     `json:"from_number,omitempty"`
	Paid           bool       `json:"paid"`
	PhoneValidated bool       `json:"phone_validated"`
	CallsDisabled  bool       `json:"calls_disabled"`
	Eligible       bool       `json:"eligible"`
	WelcomeCallID  string     `json:"welcome_call_id,omitempty"`
	LastDailyDate  string     `json:"last_daily_date,omitempty"`
	NextDailyAt    *time.Time `json:"next_daily_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
}

func toCustomerResponse(c ringfence.Customer) customerResponse {
	out := customerResponse{
		ID: c.ID, Name: c.Name, Phone: c.Phone, Timezone: c.Timezone, DailyCallTime: c.DailyCallTime,
		Provider: string(c.Provider), AgentID: c.AgentID, FromNumber: c.FromNumber, Paid: c.Paid,
		PhoneValidated: c.PhoneValidated, CallsDisabled: c.CallsDisabled, Eligible: c.Eligible(),
		WelcomeCallID: c.WelcomeCallID, LastDailyDate: c.LastDailyDate, CreatedAt: c.CreatedAt,
	}
	if !c.NextDailyAt.IsZero() {
		out.NextDailyAt = &c.NextDailyAt
	}
	return out
}

func (s *Server) createCustomer(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	var in createCustomerRequest
	account, err := s.readJSON(ctx, req, &in)
	if err != nil {
		return 0, nil, err
	}
	provider, err := ringfence.ParseProvider(in.Provider)
	if err != nil {
		return 0, nil, err
	}
	region, err := ringfence.ValidateRegion("default_region", in.Region)
	if err != nil {
		return 0, nil, err
	}
	if in.Phone, err = ringfence.NormalizePhone("phone", in.Phone, region); err != nil {
		return 0, nil, err
	}
	c := ringfence.Customer{
		ID: dynamo.NewID("cus"), AccountID: account, Name: strings.TrimSpace(in.Name), Phone: in.Phone, Timezone: in.Timezone,
		DailyCallTime: in.DailyCallTime, Provider: provider, AgentID: strings.TrimSpace(in.AgentID), FromNumber: strings.TrimSpace(in.FromNumber),
		Paid: in.Paid, PhoneValidated: in.PhoneValidated,
	}
	if err := validateCustomer(c); err != nil {
		return 0, nil, err
	}
	next, err := nextDaily(c, s.Now())
	if err != nil {
		return 0, nil, err
	}
	c, err = s.store.CreateCustomer(ctx, c, next)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, toCustomerResponse(c), nil
}

// validateCustomer checks a new customer before anything is written.
func validateCustomer(c ringfence.Customer) error {
	if c.Name == "" {
		return ringfence.Errorf(ringfence.EINVALID, "name is required (at most %d bytes)", ringfence.MaxNameLength)
	}
	for field, v := range map[string]string{"name": c.Name, "agent_id": c.AgentID, "from_number": c.FromNumber} {
		max := ringfence.MaxTextLength
		if field == "name" {
			max = ringfence.MaxNameLength
		}
		if err := ringfence.ValidateText(field, v, max); err != nil {
			return err
		}
	}
	if c.Timezone == "" || c.Timezone == "Local" {
		// time.LoadLocation takes both, as UTC and as the server's own zone: neither is where a
		// customer lives.
		return ringfence.Errorf(ringfence.EINVALID, "timezone is required: an IANA time zone like Europe/Berlin")
	}
	if err := ringfence.ValidatePhone("phone", c.Phone); err != nil {
		return err
	}
	if _, err := c.Location(); err != nil {
		return err
	}
	if err := ringfence.ValidateCallTime(c.DailyCallTime); err != nil {
		return err
	}
	if c.AgentID == "" || c.FromNumber == "" {
		return ringfence.Errorf(ringfence.EINVALID, "agent_id and from_number (for Vapi, the phone number id) are required")
	}
	return nil
}

// nextDaily is when a customer's next daily call falls, or zero without a daily call time.
func nextDaily(c ringfence.Customer, now time.Time) (time.Time, error) {
	if c.DailyCallTime == "" {
		return time.Time{}, nil
	}
	loc, err := c.Location()
	if err != nil {
		return time.Time{}, err
	}
	next, _, err := ringfence.NextDailyCall(c.DailyCallTime, loc, now)
	return next, err
}

// customerOf reads a customer of the authenticated account (another account's is not found).
func (s *Server) customerOf(ctx context.Context, req events.APIGatewayV2HTTPRequest) (ringfence.Customer, error) {
	account, err := s.authenticate(ctx, req)
	if err != nil {
		return ringfence.Customer{}, err
	}
	id, err := pathID(req)
	if err != nil {
		return ringfence.Customer{}, err
	}
	c, err := s.store.GetCustomer(ctx, id)
	if err != nil {
		return c, err
	}
	if c.AccountID != account {
		return c, ringfence.Errorf(ringfence.ENOTFOUND, "customer %s not found", id)
	}
	return c, nil
}

func (s *Server) getCustomer(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	c, err := s.customerOf(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toCustomerResponse(c), nil
}

func (s *Server) patchCustomer(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	c, err := s.customerOf(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	b, err := body(req)
	if err != nil {
		return 0, nil, err
	}
	var in patchCustomerRequest
	if err := decodeStrict(b, &in); err != nil {
		return 0, nil, err
	}
	ch := dynamo.CustomerChange{Paid: in.Paid, PhoneValidated: in.PhoneValidated, CallsDisabled: in.CallsDisabled, DailyCallTime: in.DailyCallTime}
	if in.DailyCallTime != nil {
		if err := ringfence.ValidateCallTime(*in.DailyCallTime); err != nil {
			return 0, nil, err
		}
		c.DailyCallTime = *in.DailyCallTime
		if ch.NextDailyAt, err = nextDaily(c, s.Now()); err != nil {
			return 0, nil, err
		}
	}
	updated, err := s.store.UpdateCustomer(ctx, c.ID, ch)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toCustomerResponse(updated), nil
}
