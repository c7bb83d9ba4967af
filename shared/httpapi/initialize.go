package httpapi

import (
	"context"
	"net/http"

	"github.com/ringfence/ringfence/shared/ringfence"
)

// initializeReply is initialize_call's answer: who the call is for and from.
type initializeReply struct {
	Success  bool         `json:"success"`
	Error    string       `json:"error,omitempty"`
	Message  string       `json:"message,omitempty"`
	CallID   string       `json:"call_id,omitempty"`
	Company  *namedEntity `json:"company,omitempty"`
	Branch   *namedEntity `json:"branch,omitempty"`
	Customer *namedEntity `json:"customer"`
	Caller   *callerInfo  `json:"caller,omitempty"`
	Greeting string       `json:"greeting,omitempty"`
}

type namedEntity struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

type callerInfo struct {
	Number    string `json:"number,omitempty"`
	Anonymous bool   `json:"anonymous"`
}

// unroutedMessage is what the agent can say when no context can be found: it keeps the
// conversation going without naming a company it does not know.
const unroutedMessage = "I'm sorry, I can't look up the business details right now. How can I help you today?"

// initializeCall answers the agent's first function call with the caller's context. If the call's
// record does not exist yet, or lacks its context, the context is resolved from the called number
// and written now (ResolveInbound): no sleeping, no polling. When the number has no route, the
// answer says so in the provider's expected shape (success: false) with a safe message for the
// agent; no empty company is ever passed on.
func (s *Server) initializeCall(ctx context.Context, auth toolAuth, args map[string]any) (int, any, error) {
	provider := auth.provider
	call := callObject(args)
	id, err := stringArgument(args, "call_id", "execution_id")
	if err != nil {
		return 0, nil, err
	}
	if call.id == "" {
		call.id = id
	}
	for name, dst := range map[string]*string{"to_number": &call.to, "from_number": &call.from, "direction": &call.direction} {
		if *dst == "" {
			if *dst, err = stringArgument(args, name); err != nil {
				return 0, nil, err
			}
		}
	}
	if call.id == "" {
		return 0, nil, ringfence.Errorf(ringfence.EINVALID, "the call's id is missing (call.call_id or call_id)")
	}
	// The number that was called is the one the context belongs to: the callee's for an inbound
	// call, the caller's own for one ringfence placed.
	routed, other := call.to, call.from
	if call.direction == string(ringfence.Outbound) {
		routed, other = call.from, call.to
	}
	if err := ringfence.ValidatePhone("to_number", routed); err != nil {
		return 0, nil, err
	}
	c, err := s.contextualCall(ctx, auth, call, routed, other)
	if ringfence.ErrorCode(err) == ringfence.ENOTFOUND {
		s.log.WarnContext(ctx, "initialize_call for a number with no route; the agent gets the fallback", "provider", provider, "execution_id", call.id, "to_number", ringfence.MaskPhone(routed))
		return http.StatusOK, initializeReply{Success: false, Error: "unknown_number", Message: unroutedMessage}, nil
	}
	if err != nil {
		return 0, nil, err
	}
	x := c.Context
	reply := initializeReply{
		Success: true, CallID: c.ID, Greeting: x.Greeting,
		Company: &namedEntity{ID: x.CompanyID, Name: x.CompanyName}, Branch: &namedEntity{ID: x.BranchID, Name: x.BranchName},
		Caller: &callerInfo{Number: c.FromNumber, Anonymous: x.Anonymous},
	}
	if x.Anonymous {
		reply.Caller.Number = ""
	}
	if x.CustomerID != "" {
		reply.Customer = &namedEntity{ID: x.CustomerID, Name: x.CustomerName}
	}
	s.log.InfoContext(ctx, "call initialized", "provider", provider, "call_id", c.ID, "execution_id", call.id, "company", x.CompanyID, "branch", x.BranchID, "known_customer", x.CustomerID != "")
	return http.StatusOK, reply, nil
}

// contextualCall returns the call with its context. An inbound call's record is created (or
// completed) with its context; a call ringfence placed already has its record, and its context is
// looked up without a write. A tool token reaches only its own account's numbers: another
// account's number is answered as one with no route, before anything is written.
func (s *Server) contextualCall(ctx context.Context, auth toolAuth, call toolCall, routed, other string) (ringfence.Call, error) {
	if !auth.anyAccount {
		route, err := s.calls.RouteFor(ctx, routed)
		if err != nil {
			return ringfence.Call{}, err
		}
		if !auth.reaches(route.AccountID) {
			s.log.WarnContext(ctx, "initialize_call for a number of another account", "provider", auth.provider, "to_number", ringfence.MaskPhone(routed))
			return ringfence.Call{}, ringfence.Errorf(ringfence.ENOTFOUND, "number %s has no route", ringfence.MaskPhone(routed))
		}
	}
	provider := auth.provider
	if call.direction != string(ringfence.Outbound) {
		return s.calls.ResolveInbound(ctx, provider, call.id, routed, other, call.agentID)
	}
	_, x, err := s.calls.LookupContext(ctx, routed, other)
	if err != nil {
		return ringfence.Call{}, err
	}
	id, _ := call.metadata["ringfence_call_id"].(string)
	return ringfence.Call{ID: id, Provider: provider, ProviderCallID: call.id, Direction: ringfence.Outbound, FromNumber: other, Context: x}, nil
}
