package httpapi

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/bolna"
	"github.com/ringfence/ringfence/shared/calling"
	"github.com/ringfence/ringfence/shared/metrics"
	"github.com/ringfence/ringfence/shared/retell"
	"github.com/ringfence/ringfence/shared/ringfence"
	"github.com/ringfence/ringfence/shared/secrets"
	"github.com/ringfence/ringfence/shared/vapi"
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
	token, err := s.secret(ctx, secrets.BolnaWebhookToken)
	if err != nil {
		return 0, nil, err
	}
	if !token.Accepts(req.QueryStringParameters["token"]) {
		return 0, nil, ringfence.Errorf(ringfence.EUNAUTHORIZED, "the webhook URL's token is missing or wrong")
	}
	if !allowedSource(s.cfg.BolnaAllowedIPs, req.RequestContext.HTTP.SourceIP) {
		return 0, nil, ringfence.Errorf(ringfence.EUNAUTHORIZED, "requests from %s are not accepted", req.RequestContext.HTTP.SourceIP)
	}
	b, err := body(req)
	if err != nil {
		return 0, nil, err
	}
	ex, ev, err := bolna.ParseWebhookExecution(b)
	if err != nil {
		return 0, nil, err
	}
	if ours, caller, inbound := ex.Inbound(); inbound {
		call, err := s.calls.ResolveInbound(ctx, ringfence.ProviderBolna, ev.ProviderCallID, ours, caller, ex.AgentID)
		if ringfence.ErrorCode(err) == ringfence.ENOTFOUND {
			s.log.WarnContext(ctx, "Bolna webhook for an inbound call to a number with no route", "provider", "bolna", "execution_id", ev.ProviderCallID, "to_number", ringfence.MaskPhone(ours))
			return http.StatusOK, webhookReply{Result: "unrouted"}, nil
		}
		if err != nil {
			return 0, nil, err
		}
		ev.CallID = call.ID
	}
	return s.applyEvent(ctx, req, ev)
}

// allowedSource reports whether a request's source address is on the allowlist (an empty list
// allows any). Bolna signs nothing, so its documented source addresses are a second check.
func allowedSource(allowed []string, source string) bool {
	if len(allowed) == 0 {
		return true
	}
	for _, ip := range allowed {
		if ip == source {
			return true
		}
	}
	return false
}

// applyEvent applies a provider event exactly once. An event whose call is not known yet is
// parked and answered 202; it is applied as soon as the call's provider id is recorded. An event
// whose application failed for a transient reason is kept (one conditional write) and answered
// 202 {"result": "kept"}, for the sweep to apply: no provider has to retry it. Only when even
// keeping it fails is the answer a 5xx.
func (s *Server) applyEvent(ctx context.Context, req events.APIGatewayV2HTTPRequest, ev ringfence.CallEvent) (int, any, error) {
	call, result, err := s.calls.ApplyEvent(ctx, ev)
	if code := ringfence.ErrorCode(err); code == ringfence.EUNAVAILABLE || code == ringfence.EINTERNAL {
		keepErr := s.calls.Keep(ctx, ev)
		if keepErr != nil {
			s.log.ErrorContext(ctx, "an event that could not be applied could not be kept either", "request_id", req.RequestContext.RequestID,
				"provider", ev.Provider, "execution_id", ev.ProviderCallID, "error", err.Error(), "keep_error", keepErr.Error())
			if ringfence.ErrorCode(keepErr) == ringfence.ETOOMANY {
				return 0, nil, keepErr
			}
			return 0, nil, err
		}
		s.log.WarnContext(ctx, "event kept for the sweep after applying it failed", "request_id", req.RequestContext.RequestID,
			"provider", ev.Provider, "execution_id", ev.ProviderCallID, "event_type", ev.Status, "result", calling.ResultKept, "error", err.Error())
		s.Metrics.Count(metrics.Webhooks, 1, "Provider", string(ev.Provider), "Result", string(calling.ResultKept))
		return http.StatusAccepted, webhookReply{Result: calling.ResultKept}, nil
	}
	if err != nil {
		return 0, nil, err
	}
	s.log.InfoContext(ctx, "webhook applied",
		"request_id", req.RequestContext.RequestID, "account", call.AccountID, "provider", ev.Provider, "call_id", call.ID,
		"execution_id", ev.ProviderCallID, "campaign", call.CampaignID, "event_type", ev.Status, "result", result)
	s.Metrics.Count(metrics.Webhooks, 1, "Provider", string(ev.Provider), "Result", string(result))
	if call.AccountID != "" {
		s.activity.add(call.AccountID, string(result))
		if err := s.activity.flushIfDue(ctx, s.store, s.Now(), false); err != nil {
			s.log.WarnContext(ctx, "adding webhook activity failed", "error", err.Error())
		}
	}
	switch result {
	case ringfence.ResultFirstTerminal:
		s.Metrics.Count(metrics.FirstTransitions, 1, "Provider", string(ev.Provider))
	case ringfence.ResultDuplicate:
		s.Metrics.Count(metrics.DuplicatesAbsorbed, 1, "Provider", string(ev.Provider))
	case calling.ResultParked:
		return http.StatusAccepted, webhookReply{Result: result}, nil
	}
	return http.StatusOK, webhookReply{CallID: call.ID, Result: result}, nil
}

// retellWebhook applies Retell's call webhooks and answers its inbound webhook. Every request is
// verified against its x-retell-signature over the raw body before anything is read from it.
// An inbound call gets its record, with its context, from the first of its webhooks or function
// calls to arrive.
func (s *Server) retellWebhook(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	b, err := body(req)
	if err != nil {
		return 0, nil, err
	}
	if err := s.verifyRetell(ctx, b, header(req, retell.SignatureHeader)); err != nil {
		return 0, nil, err
	}
	w, err := retell.ParseWebhook(b)
	if err != nil {
		return 0, nil, err
	}
	if w.Event == retell.EventCallInbound {
		return s.retellInbound(ctx, w.CallInbound)
	}
	if retell.IsChatEvent(w.Event) {
		// ringfence tracks calls, not chats: the event is acknowledged so Retell does not retry it.
		s.log.InfoContext(ctx, "Retell chat event acknowledged and ignored", "provider", "retell", "event", w.Event)
		if w.Event == retell.EventChatInbound {
			return http.StatusOK, retell.ChatInboundResponse{}, nil
		}
		return http.StatusOK, webhookReply{Result: "ignored"}, nil
	}
	ev, err := w.CallEvent()
	if err != nil {
		return 0, nil, err
	}
	if w.Call.Direction == string(ringfence.Inbound) {
		call, err := s.calls.ResolveInbound(ctx, ringfence.ProviderRetell, w.Call.CallID, w.Call.ToNumber, w.Call.FromNumber, w.Call.AgentID)
		if ringfence.ErrorCode(err) == ringfence.ENOTFOUND {
			s.log.WarnContext(ctx, "Retell webhook for an inbound call to a number with no route", "provider", "retell",
				"execution_id", w.Call.CallID, "to_number", ringfence.MaskPhone(w.Call.ToNumber), "event", w.Event)
			return http.StatusOK, webhookReply{Result: "unrouted"}, nil
		}
		if err != nil {
			return 0, nil, err
		}
		ev.CallID = call.ID
	}
	return s.applyEvent(ctx, req, ev)
}

// retellInbound tells Retell how to take a call ringing one of the account's numbers: the
// number's agent, and the company and branch as dynamic variables and metadata. For a number with
// no route it answers with no override, so Retell uses the number's own agent, and logs why.
func (s *Server) retellInbound(ctx context.Context, in *retell.InboundRequest) (int, any, error) {
	route, err := s.calls.RouteFor(ctx, in.ToNumber)
	if ringfence.ErrorCode(err) == ringfence.ENOTFOUND {
		s.log.WarnContext(ctx, "inbound call to a number with no route", "provider", "retell", "to_number", ringfence.MaskPhone(in.ToNumber))
		return http.StatusOK, retell.InboundResponse{}, nil
	}
	if err != nil {
		return 0, nil, err
	}
	vars := map[string]string{
		"company_id": route.CompanyID, "company_name": route.CompanyName,
		"branch_id": route.BranchID, "branch_name": route.BranchName, "greeting": route.Greeting,
	}
	return http.StatusOK, retell.InboundResponse{CallInbound: retell.InboundDecision{
		OverrideAgentID: route.AgentID, DynamicVariables: vars,
		Metadata: map[string]string{"company_id": route.CompanyID, "branch_id": route.BranchID},
	}}, nil
}

// vapiWebhook applies Vapi's status updates and end-of-call reports exactly once, answers its
// tool calls and its assistant requests. Every message is authenticated (see vapi.Authenticate:
// X-Vapi-Secret, a Bearer token, or an HMAC signature over the raw body) before anything is read
// from it. Other message types are acknowledged and ignored.
func (s *Server) vapiWebhook(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	b, err := body(req)
	if err != nil {
		return 0, nil, err
	}
	secret, err := s.secret(ctx, secrets.VapiWebhookSecret)
	if err != nil {
		return 0, nil, err
	}
	if err := verifyWith(secret, func(secret string) error {
		return vapi.Authenticate(func(name string) string { return header(req, name) }, b, secret, s.Now())
	}); err != nil {
		return 0, nil, err
	}
	m, err := vapi.ParseMessage(b)
	if err != nil {
		return 0, nil, err
	}
	switch m.Type {
	case vapi.TypeToolCalls:
		return s.vapiToolCalls(ctx, m)
	case vapi.TypeAssistantRequest:
		return s.vapiAssistantRequest(ctx, m)
	case vapi.TypeStatusUpdate, vapi.TypeEndOfCallReport:
		if !m.IsAboutCall() {
			// A chat's or a session's report: ringfence tracks calls only.
			s.log.InfoContext(ctx, "Vapi message without a call acknowledged and ignored", "provider", "vapi", "type", m.Type)
			return http.StatusOK, webhookReply{Result: "ignored"}, nil
		}
	default:
		s.log.DebugContext(ctx, "Vapi message ignored", "provider", "vapi", "type", m.Type)
		return http.StatusOK, webhookReply{Result: "ignored"}, nil
	}
	ev, err := m.Event()
	if err != nil {
		return 0, nil, err
	}
	if ours, caller, inbound := m.Inbound(); inbound {
		call, err := s.calls.ResolveInbound(ctx, ringfence.ProviderVapi, m.Call.ID, ours, caller, "")
		if ringfence.ErrorCode(err) == ringfence.ENOTFOUND {
			s.log.WarnContext(ctx, "Vapi message for an inbound call to a number with no route", "provider", "vapi", "execution_id", m.Call.ID, "to_number", ringfence.MaskPhone(ours))
			return http.StatusOK, webhookReply{Result: "unrouted"}, nil
		}
		if err != nil {
			return 0, nil, err
		}
		ev.CallID = call.ID
	}
	return s.applyEvent(ctx, req, ev)
}

// unservedMessage is what Vapi says to someone calling a number ringfence has no route for,
// before it ends the call.
const unservedMessage = "Sorry, this number cannot take calls right now. Please try again later."

// vapiAssistantRequest tells Vapi which assistant takes a call ringing one of the account's
// numbers: the route's agent, with the company, the branch and the known customer as the
// assistant's variable values. The call's record is created, with its context, in the same write
// (ResolveInbound), so the messages and tool calls that follow find it complete. A number with no
// route gets Vapi's error answer, which Vapi speaks to the caller. Three reads and one write, and
// nothing that waits, keep the answer well inside Vapi's 7.5 seconds.
func (s *Server) vapiAssistantRequest(ctx context.Context, m *vapi.Message) (int, any, error) {
	ours, caller := m.Numbers()
	if ours == "" {
		s.log.WarnContext(ctx, "Vapi assistant-request without the called number", "provider", "vapi", "execution_id", m.Call.ID)
		return http.StatusOK, vapi.AssistantResponse{Error: unservedMessage}, nil
	}
	call, err := s.calls.ResolveInbound(ctx, ringfence.ProviderVapi, m.Call.ID, ours, caller, "")
	if ringfence.ErrorCode(err) == ringfence.ENOTFOUND {
		s.log.WarnContext(ctx, "Vapi assistant-request for a number with no route", "provider", "vapi", "execution_id", m.Call.ID, "to_number", ours)
		return http.StatusOK, vapi.AssistantResponse{Error: unservedMessage}, nil
	}
	if err != nil {
		return 0, nil, err
	}
	x := call.Context
	vars := map[string]string{
		"company_id": x.CompanyID, "company_name": x.CompanyName,
		"branch_id": x.BranchID, "branch_name": x.BranchName, "greeting": x.Greeting,
		"customer_id": x.CustomerID, "customer_name": x.CustomerName,
	}
	for k, v := range vars {
		if v == "" {
			delete(vars, k)
		}
	}
	s.log.InfoContext(ctx, "Vapi assistant chosen", "provider", "vapi", "call_id", call.ID, "execution_id", m.Call.ID, "company", x.CompanyID, "branch", x.BranchID, "known_customer", x.CustomerID != "")
	return http.StatusOK, vapi.AssistantResponse{
		AssistantID: call.AgentID,
		AssistantOverrides: &vapi.AssistantOverrides{
			VariableValues: vars,
			Metadata:       map[string]string{vapi.CallIDVariable: call.ID},
		},
	}, nil
}

// vapiToolCalls runs each tool call of a tool-calls message and always answers 200 in Vapi's
// shape, {"results": [{"name", "toolCallId", "result"} or {"name", "toolCallId", "error"}]}, one
// per item: Vapi ignores any other answer, so an error on one item (malformed, refused, or an
// internal failure) becomes that item's error result and the others keep their results. At most
// vapi.MaxToolCalls items run; the rest are answered with an error.
func (s *Server) vapiToolCalls(ctx context.Context, m *vapi.Message) (int, any, error) {
	callObject := vapiCallObject(m)
	out := vapi.ToolResults{Results: []vapi.ToolResult{}}
	for _, tc := range m.ToolCalls() {
		result := vapi.ToolResult{Name: tc.Name, ToolCallID: tc.ID}
		reply, err := s.runVapiTool(ctx, tc, callObject)
		switch {
		case err == nil:
			b, _ := json.Marshal(reply)
			result.Result = string(b)
		case ringfence.ErrorCode(err) == ringfence.EINTERNAL:
			s.log.ErrorContext(ctx, "Vapi tool call failed", "provider", "vapi", "tool", tc.Name, "tool_call_id", tc.ID, "error", err.Error())
			result.Error = "The tool could not run just now. Carry on with the conversation without it."
		default:
			s.log.WarnContext(ctx, "Vapi tool call refused", "provider", "vapi", "tool", tc.Name, "tool_call_id", tc.ID, "error", ringfence.ErrorMessage(err))
			result.Error = ringfence.ErrorMessage(err)
		}
		out.Results = append(out.Results, result)
	}
	return http.StatusOK, out, nil
}

// runVapiTool runs one tool call with its arguments and the message's call object.
func (s *Server) runVapiTool(ctx context.Context, tc vapi.ToolCall, callObject map[string]any) (any, error) {
	if tc.Err != nil {
		return nil, tc.Err
	}
	args := map[string]any{}
	for k, v := range tc.Arguments {
		args[k] = v
	}
	args["call"] = callObject
	_, reply, err := s.runTool(ctx, toolAuth{provider: ringfence.ProviderVapi, anyAccount: true}, tc.Name, args)
	return reply, err
}

// vapiCallObject is the call a Vapi tool call is about, in the shape the tools read.
func vapiCallObject(m *vapi.Message) map[string]any {
	obj := map[string]any{}
	if m.Call == nil {
		return obj
	}
	obj["call_id"] = m.Call.ID
	obj["direction"] = string(ringfence.Outbound)
	ours, other := m.Numbers()
	if _, _, inbound := m.Inbound(); inbound {
		obj["direction"], obj["to_number"], obj["from_number"] = string(ringfence.Inbound), ours, other
	} else {
		obj["to_number"], obj["from_number"] = other, ours
	}
	if id := m.Call.CallID(); id != "" {
		obj["metadata"] = map[string]any{vapi.CallIDVariable: id}
	}
	return obj
}
