package ringfence

import (
	"strings"
	"time"
)

// NumberRoute says whose one of an account's phone numbers is: the company and branch an
// inbound call to it is for. It is the source of every inbound call's context.
type NumberRoute struct {
	Number      string
	AccountID   string
	CompanyID   string
	CompanyName string
	BranchID    string
	BranchName  string
	AgentID     string
	Greeting    string
	UpdatedAt   time.Time
	// Confirmed is set once an operator confirmed that the number is the account's. Until then
	// the route is a claim: inbound calls to the number get no context from it.
	Confirmed bool
}

// Validate checks a route as submitted by a client.
func (r *NumberRoute) Validate() error {
	if err := ValidatePhone("number", r.Number); err != nil {
		return err
	}
	r.CompanyID, r.BranchID = strings.TrimSpace(r.CompanyID), strings.TrimSpace(r.BranchID)
	if r.CompanyID == "" || r.BranchID == "" {
		return Errorf(EINVALID, "company_id and branch_id are required")
	}
	for name, v := range map[string]string{"company_id": r.CompanyID, "branch_id": r.BranchID} {
		if err := ValidateText(name, v, MaxIDLength); err != nil {
			return err
		}
	}
	for name, v := range map[string]string{"company_name": r.CompanyName, "branch_name": r.BranchName, "agent_id": r.AgentID, "greeting": r.Greeting} {
		if err := ValidateText(name, v, MaxTextLength); err != nil {
			return err
		}
	}
	return nil
}

// CallContext is who an inbound call is for (from the called number's route) and from (a known
// customer, unless the caller is anonymous).
type CallContext struct {
	CompanyID    string
	CompanyName  string
	BranchID     string
	BranchName   string
	Greeting     string
	CustomerID   string
	CustomerName string
	Anonymous    bool
}

// ContextFor is the context of a call to route's number from a caller, before any customer is
// looked up.
func ContextFor(route NumberRoute, from string) CallContext {
	return CallContext{
		CompanyID: route.CompanyID, CompanyName: route.CompanyName, BranchID: route.BranchID,
		BranchName: route.BranchName, Greeting: route.Greeting, Anonymous: IsAnonymous(from),
	}
}

// IsAnonymous reports whether a caller number hides the caller: providers send "anonymous",
// "private", an empty string, or something that is not a phone number.
func IsAnonymous(from string) bool {
	return ValidatePhone("from", strings.TrimSpace(from)) != nil
}

// Direction says who placed a call.
type Direction string

// The directions.
const (
	Outbound Direction = "outbound"
	Inbound  Direction = "inbound"
)

// InboundCallID is ringfence's id of an inbound call, derived from the provider's id so that the
// provider's webhooks and the agent's function calls, whichever arrives first, name the same
// record and the first to arrive creates it.
func InboundCallID(p Provider, providerCallID string) string {
	return "call_in_" + string(p) + "_" + providerCallID
}
