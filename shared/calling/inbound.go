package calling

import (
	"context"
	"strings"

	"github.com/ringfence/ringfence/shared/ringfence"
)

// ResolveInbound makes sure an inbound call has its record and its context, and returns the call.
// The context comes from the called number's route (and, for a caller who is not anonymous, the
// account's customer with that number) and is written in the same write that creates the
// record, so a webhook and a function call that race each other both find it complete: nothing
// waits, nothing polls. A number with no route is ENOTFOUND.
func (s *Service) ResolveInbound(ctx context.Context, p ringfence.Provider, providerCallID, to, from, agentID string) (ringfence.Call, error) {
	if err := ringfence.ValidateID("the provider's call id", providerCallID); err != nil {
		return ringfence.Call{}, err
	}
	to = strings.TrimSpace(to)
	id := ringfence.InboundCallID(p, providerCallID)
	if c, err := s.store.GetCall(ctx, id); err == nil && c.Context.CompanyID != "" {
		return c, nil // Created, with its context, by whichever request came first.
	}
	route, callContext, err := s.LookupContext(ctx, to, from)
	if err != nil {
		return ringfence.Call{}, err
	}
	if agentID == "" {
		agentID = route.AgentID
	}
	return s.store.CreateInboundCall(ctx, ringfence.Call{
		ID: id, AccountID: route.AccountID, Provider: p, ProviderCallID: providerCallID, Direction: ringfence.Inbound,
		Status: ringfence.StatusInProgress, ToNumber: to, FromNumber: strings.TrimSpace(from), AgentID: agentID, Context: callContext,
	})
}

// RouteFor returns the route of one of the account's numbers, as the inbound webhook that asks how
// to take a ringing call needs it. A claim not confirmed yet routes nothing (ENOTFOUND): any
// account can claim any number, and only a confirmed one answers its inbound calls.
func (s *Service) RouteFor(ctx context.Context, number string) (ringfence.NumberRoute, error) {
	route, err := s.store.GetNumber(ctx, strings.TrimSpace(number))
	if err == nil && !route.Confirmed {
		s.log.WarnContext(ctx, "inbound call to a number whose claim is not confirmed", "account", route.AccountID, "to_number", ringfence.MaskPhone(route.Number))
		return ringfence.NumberRoute{}, ringfence.Errorf(ringfence.ENOTFOUND, "number %s is claimed but not confirmed", ringfence.MaskPhone(route.Number))
	}
	return route, err
}

// LookupContext resolves the context of a call between one of the account's numbers (routed) and
// another party: the number's route, and the account's customer with the other party's number
// unless it is anonymous. A number with no route is ENOTFOUND. It writes nothing.
func (s *Service) LookupContext(ctx context.Context, routed, other string) (ringfence.NumberRoute, ringfence.CallContext, error) {
	route, err := s.RouteFor(ctx, routed)
	if err != nil {
		return route, ringfence.CallContext{}, err
	}
	callContext := ringfence.ContextFor(route, other)
	if !callContext.Anonymous {
		customer, err := s.store.CustomerByPhone(ctx, route.AccountID, strings.TrimSpace(other))
		switch {
		case err == nil:
			callContext.CustomerID, callContext.CustomerName = customer.ID, customer.Name
		case ringfence.ErrorCode(err) != ringfence.ENOTFOUND:
			return route, callContext, err
		}
	}
	return route, callContext, nil
}
