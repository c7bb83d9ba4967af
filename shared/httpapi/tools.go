package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/retell"
	"github.com/ringfence/ringfence/shared/ringfence"
	"github.com/ringfence/ringfence/shared/secrets"
)

// toolReply is what a mid-call tool answers; the agent reads "message" to the caller's benefit.
type toolReply struct {
	Success bool   `json:"success"`
	Error   string `json:"error,omitempty"`
	Message string `json:"message"`
	CallID  string `json:"call_id,omitempty"`
	Day     string `json:"reschedule_day,omitempty"`
	// Unparsed says reschedule_day holds the caller's words, kept as given, not a day.
	Unparsed bool `json:"reschedule_day_unparsed,omitempty"`
}

// tool dispatches a mid-call function call made by POST, its arguments in the JSON body. The
// caller is a provider: Retell signs its function calls (x-retell-signature over the raw body);
// Bolna presents a tool token.
func (s *Server) tool(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	b, err := body(req)
	if err != nil {
		return 0, nil, err
	}
	auth, err := s.toolCaller(ctx, req, b)
	if err != nil {
		return 0, nil, err
	}
	args, err := toolArguments(b)
	if err != nil {
		return 0, nil, err
	}
	return s.runTool(ctx, auth, req.PathParameters["name"], args)
}

// toolByQuery dispatches a mid-call function call made by GET, its arguments in the query string:
// a Bolna custom function configured with "method": "GET" sends its "param" values that way, as
// Bolna's own documentation example does. Any body is ignored, as a GET's body means nothing.
func (s *Server) toolByQuery(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	auth, err := s.toolCaller(ctx, req, nil)
	if err != nil {
		return 0, nil, err
	}
	args, err := queryArguments(req.QueryStringParameters)
	if err != nil {
		return 0, nil, err
	}
	return s.runTool(ctx, auth, req.PathParameters["name"], args)
}

// runTool runs one tool by name with its arguments (flattened, with the provider's call object
// under "call"), for POST /tools/{name} and for Vapi's tool-calls messages alike.
func (s *Server) runTool(ctx context.Context, auth toolAuth, name string, args map[string]any) (int, any, error) {
	switch name {
	case "reschedule_lead":
		return s.rescheduleLead(ctx, auth, args)
	case "initialize_call":
		return s.initializeCall(ctx, auth, args)
	default:
		// The agent reads the answer aloud or acts on it: a clear refusal it can speak around
		// serves the caller better than an HTTP error.
		s.log.WarnContext(ctx, "unknown tool called", "provider", auth.provider, "tool", name)
		return http.StatusOK, toolReply{Success: false, Error: "unknown_tool",
			Message: fmt.Sprintf("There is no tool named %q. Carry on with the conversation without it.", name)}, nil
	}
}

// toolCaller authenticates the provider calling a tool: a valid Retell signature, or a tool token
// from Bolna in the query string or the Authorization header (Bolna sends a tool's configured
// api_token verbatim, with or without "Bearer"). A tool token belongs to one account: one the
// account issued (POST /tool-tokens), or the deployment's Bolna token, which is the deployment
// account's. Either reaches only its own account's calls and numbers.
func (s *Server) toolCaller(ctx context.Context, req events.APIGatewayV2HTTPRequest, b []byte) (toolAuth, error) {
	if sig := header(req, retell.SignatureHeader); sig != "" {
		if err := s.verifyRetell(ctx, b, sig); err != nil {
			return toolAuth{}, err
		}
		return toolAuth{provider: ringfence.ProviderRetell, anyAccount: true}, nil
	}
	presented := req.QueryStringParameters["token"]
	if presented == "" {
		presented = bearer(req)
	}
	if presented == "" {
		presented = strings.TrimSpace(header(req, "Authorization"))
	}
	refused := ringfence.Errorf(ringfence.EUNAUTHORIZED, "sign the request (x-retell-signature) or send the tool token as ?token=<token> or 'Authorization: Bearer <token>'")
	if presented == "" {
		return toolAuth{}, refused
	}
	token, err := s.secret(ctx, secrets.BolnaWebhookToken)
	if err != nil {
		return toolAuth{}, err
	}
	if token.Accepts(presented) {
		return toolAuth{provider: ringfence.ProviderBolna, account: s.cfg.AccountID}, nil
	}
	account, err := s.store.AccountIDByToolToken(ctx, presented)
	if ringfence.ErrorCode(err) == ringfence.EUNAUTHORIZED {
		return toolAuth{}, refused
	}
	if err != nil {
		return toolAuth{}, err
	}
	return toolAuth{provider: ringfence.ProviderBolna, account: account}, nil
}

// toolArguments flattens a tool call body into one map of arguments. Providers and agent
// configurations put the arguments at the top level, or under "arguments" (or "args") as an
// object or as a JSON-encoded string; values nested there win over top-level ones.
func toolArguments(b []byte) (map[string]any, error) {
	var top map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&top); err != nil || top == nil {
		return nil, ringfence.Errorf(ringfence.EINVALID, "tool call body must be a JSON object")
	}
	return flattenArguments(top)
}

// queryArguments reads a GET tool call's query string as its arguments, every value a string,
// flattened as a body's are. The tool token, when it travels in the query string, is not an
// argument.
func queryArguments(query map[string]string) (map[string]any, error) {
	top := map[string]any{}
	for k, v := range query {
		if k != "token" {
			top[k] = v
		}
	}
	return flattenArguments(top)
}

// flattenArguments merges the arguments nested under "arguments" or "args" into the top level.
func flattenArguments(top map[string]any) (map[string]any, error) {
	args := map[string]any{}
	for k, v := range top {
		args[k] = v
	}
	for _, key := range []string{"arguments", "args"} {
		nested, err := objectArgument(top[key], key)
		if err != nil {
			return nil, err
		}
		for k, v := range nested {
			args[k] = v
		}
	}
	return args, nil
}

// objectArgument reads an "arguments" value that is an object or a JSON string holding one.
func objectArgument(v any, key string) (map[string]any, error) {
	switch a := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return a, nil
	case string:
		var m map[string]any
		if err := json.Unmarshal([]byte(a), &m); err != nil || m == nil {
			return nil, ringfence.Errorf(ringfence.EINVALID, "%s is a string but not a JSON object", key)
		}
		return m, nil
	}
	return nil, ringfence.Errorf(ringfence.EINVALID, "%s must be an object or a JSON string", key)
}

// stringArgument returns the first of the named arguments that is present. A present argument
// that is not a string is an error, never silently skipped.
func stringArgument(args map[string]any, names ...string) (string, error) {
	for _, n := range names {
		v, ok := args[n]
		if !ok || v == nil {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return "", ringfence.Errorf(ringfence.EINVALID, "argument %s must be a string", n)
		}
		if strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s), nil
		}
	}
	return "", nil
}

// rescheduleLead stores the day the caller asked to be called again, on the call and its contact.
// The call is named by ringfence's call id or by the provider's execution id.
func (s *Server) rescheduleLead(ctx context.Context, auth toolAuth, args map[string]any) (int, any, error) {
	day, err := ringfence.ParseRescheduleDay(dayArgument(args, "reschedule_day", "day", "preferred_day"), s.Now())
	if err != nil {
		return 0, nil, err
	}
	callID, err := s.toolCallID(ctx, auth, args)
	if err != nil {
		return 0, nil, err
	}
	if _, err := s.store.SetRescheduleDay(ctx, callID, day); err != nil {
		return 0, nil, err
	}
	s.log.InfoContext(ctx, "reschedule_day stored", "call_id", callID, "reschedule_day", day.Day, "unparsed", day.Unparsed)
	reply := toolReply{Success: true, CallID: callID, Day: day.Day, Unparsed: day.Unparsed, Message: "The call back is noted for " + day.Day + "."}
	if day.Unparsed {
		reply.Message = "The caller's words about when to call back are noted as given: " + day.Day + "."
	}
	return http.StatusOK, reply, nil
}

// dayArgument returns the first of the named arguments that is present, as text: the model may
// pass a day as a string, a number or even an object, and whatever it passed is read as words
// (ParseRescheduleDay keeps words it cannot read), never refused for its type.
func dayArgument(args map[string]any, names ...string) string {
	for _, n := range names {
		switch v := args[n].(type) {
		case nil:
			continue
		case string:
			if strings.TrimSpace(v) == "" {
				continue
			}
			return v
		default:
			b, _ := json.Marshal(v)
			return string(b)
		}
	}
	return ""
}

// toolCallID finds the call a tool call is about, only among the calls it may reach: calls of the
// provider that authenticated it and, for a tool token, of the token's account. Every call it
// cannot reach, another account's or none at all, by whichever id it was named, gets the one
// answer errCallNotReached, so a token learns neither that a call exists nor its internal id.
func (s *Server) toolCallID(ctx context.Context, auth toolAuth, args map[string]any) (string, error) {
	id, err := s.providerToolCallID(ctx, auth.provider, args)
	if err == nil && !auth.anyAccount {
		var c ringfence.Call
		if c, err = s.store.GetCall(ctx, id); err == nil && !auth.reaches(c.AccountID) {
			s.log.WarnContext(ctx, "tool call named a call of another account", "provider", auth.provider, "call_id", id)
			err = errCallNotReached
		}
	}
	if ringfence.ErrorCode(err) == ringfence.ENOTFOUND {
		return "", errCallNotReached
	}
	return id, err
}

// errCallNotReached is the answer to a tool call about a call it cannot reach. It names no id.
var errCallNotReached = ringfence.Errorf(ringfence.ENOTFOUND, "the call named was not found among the calls this tool call may reach")

// providerToolCallID finds the call a tool call is about among the calls of the provider that
// authenticated it: ringfence's id from the call's metadata or the "ringfence_call_id" argument;
// the provider's id from the provider's call object; a "call_id" argument (ringfence's id, or else
// the provider's); an "execution_id" argument (the provider's id). Provider ids are looked up
// with a consistent read.
//
// A ringfence id is taken only for a call of the same provider and, when the provider's call
// object names its call, only for that call. A tool call naming any other call is answered "not
// found" and changes nothing.
func (s *Server) providerToolCallID(ctx context.Context, provider ringfence.Provider, args map[string]any) (string, error) {
	call := callObject(args)
	if call.id != "" {
		if err := ringfence.ValidateID("call.call_id", call.id); err != nil {
			return "", err
		}
	}
	ours, err := idArgument(call.metadata, "ringfence_call_id")
	if err == nil && ours == "" {
		ours, err = idArgument(args, "ringfence_call_id")
	}
	if err != nil {
		return "", err
	}
	if ours != "" {
		return s.ownCall(ctx, provider, ours, call.id)
	}
	if call.id != "" {
		return s.store.CallIDByProviderCallID(ctx, provider, call.id)
	}
	id, err := idArgument(args, "call_id")
	if err != nil {
		return "", err
	}
	if id != "" {
		if c, err := s.store.GetCall(ctx, id); err == nil && c.Provider == provider {
			return id, nil
		} else if err != nil && ringfence.ErrorCode(err) != ringfence.ENOTFOUND {
			return "", err
		}
		return s.store.CallIDByProviderCallID(ctx, provider, id)
	}
	executionID, err := idArgument(args, "execution_id")
	if err != nil {
		return "", err
	}
	if executionID == "" {
		return "", ringfence.Errorf(ringfence.EINVALID, "call_id or execution_id is required")
	}
	return s.store.CallIDByProviderCallID(ctx, provider, executionID)
}

// ownCall checks that ringfence's call id names a call of the provider that authenticated the
// tool call and, when the provider's call object names its call (providerCallID), that very call
// (or one whose provider id is not recorded yet, as when the tool outruns the dial's answer).
func (s *Server) ownCall(ctx context.Context, provider ringfence.Provider, id, providerCallID string) (string, error) {
	c, err := s.store.GetCall(ctx, id)
	if err != nil {
		return "", err
	}
	if c.Provider != provider || (providerCallID != "" && c.ProviderCallID != "" && c.ProviderCallID != providerCallID) {
		s.log.WarnContext(ctx, "tool call named a call outside its own", "provider", provider, "call_id", id)
		return "", ringfence.Errorf(ringfence.ENOTFOUND, "call %s is not a %s call of this conversation", id, provider)
	}
	return id, nil
}

// idArgument is stringArgument for an id: one too long for a key, or with characters no id has,
// is refused before it is looked up.
func idArgument(args map[string]any, name string) (string, error) {
	id, err := stringArgument(args, name)
	if err != nil || id == "" {
		return id, err
	}
	return id, ringfence.ValidateID(name, id)
}

// toolCall is the call object a provider sends with a function call (Retell's "call").
type toolCall struct {
	id, to, from, direction, agentID string
	metadata                         map[string]any
}

// callObject reads the "call" object of a function call body, if there is one.
func callObject(args map[string]any) toolCall {
	obj, _ := args["call"].(map[string]any)
	str := func(k string) string { v, _ := obj[k].(string); return strings.TrimSpace(v) }
	meta, _ := obj["metadata"].(map[string]any)
	return toolCall{id: str("call_id"), to: str("to_number"), from: str("from_number"), direction: str("direction"), agentID: str("agent_id"), metadata: meta}
}
