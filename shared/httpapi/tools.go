package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// toolReply is what a mid-call tool answers; the agent reads "message" to the caller's benefit.
type toolReply struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
	CallID  string `json:"call_id,omitempty"`
	Day     string `json:"reschedule_day,omitempty"`
}

// tool dispatches a mid-call function call by its name.
func (s *Server) tool(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	if !s.toolCallerAuthenticated(req) {
		return 0, nil, ringfence.Errorf(ringfence.EUNAUTHORIZED, "send the tool token as ?token=<token> or 'Authorization: Bearer <token>'")
	}
	b, err := body(req)
	if err != nil {
		return 0, nil, err
	}
	args, err := toolArguments(b)
	if err != nil {
		return 0, nil, err
	}
	switch name := req.PathParameters["name"]; name {
	case "reschedule_lead":
		return s.rescheduleLead(ctx, args)
	default:
		return 0, nil, ringfence.Errorf(ringfence.ENOTFOUND, "there is no tool named %q", name)
	}
}

// toolCallerAuthenticated accepts Bolna's tool token in the query string or in the Authorization
// header (Bolna sends a tool's configured api_token verbatim, with or without "Bearer").
func (s *Server) toolCallerAuthenticated(req events.APIGatewayV2HTTPRequest) bool {
	presented := req.QueryStringParameters["token"]
	if presented == "" {
		presented = bearer(req)
	}
	if presented == "" {
		presented = strings.TrimSpace(header(req, "Authorization"))
	}
	return secretEqual(presented, s.cfg.BolnaWebhookToken)
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
func (s *Server) rescheduleLead(ctx context.Context, args map[string]any) (int, any, error) {
	raw, err := stringArgument(args, "reschedule_day", "day", "preferred_day")
	if err != nil {
		return 0, nil, err
	}
	day, err := ringfence.ParseRescheduleDay(raw)
	if err != nil {
		return 0, nil, err
	}
	callID, err := s.toolCallID(ctx, args)
	if err != nil {
		return 0, nil, err
	}
	if _, err := s.store.SetRescheduleDay(ctx, callID, day); err != nil {
		return 0, nil, err
	}
	s.log.InfoContext(ctx, "reschedule_day stored", "call_id", callID, "reschedule_day", day)
	return http.StatusOK, toolReply{Success: true, CallID: callID, Day: day, Message: "The call back is noted for " + day + "."}, nil
}

// toolCallID finds the call a tool call is about: "call_id" is ringfence's id; "execution_id"
// is Bolna's, looked up by a consistent read.
func (s *Server) toolCallID(ctx context.Context, args map[string]any) (string, error) {
	callID, err := stringArgument(args, "call_id", "ringfence_call_id")
	if err != nil || callID != "" {
		return callID, err
	}
	executionID, err := stringArgument(args, "execution_id")
	if err != nil {
		return "", err
	}
	if executionID == "" {
		return "", ringfence.Errorf(ringfence.EINVALID, "call_id or execution_id is required")
	}
	return s.store.CallIDByProviderCallID(ctx, ringfence.ProviderBolna, executionID)
}
