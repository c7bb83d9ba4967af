// Package localstack runs ringfence's functions off AWS the way API Gateway and EventBridge run
// them on AWS: an HTTP server that turns each request into the API Gateway (HTTP API, payload 2.0)
// event of its route in template.yaml, and timers that fire the template's schedules. Handlers are
// invoked through lambda.NewHandler(...).Invoke, the same JSON path the Lambda runtime takes.
package localstack

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/ringfence/ringfence/infra/samtemplate"
)

// maxPayloadBytes is API Gateway's limit on a request's payload.
const maxPayloadBytes = 10 << 20

// Invoke runs a handler on a JSON event as the Lambda runtime would, and returns its JSON reply.
// It runs in-process: it serves `make run`'s gateway and schedules, where a process per request
// would make every request a cold start, and the tests that drive handlers with what only an
// in-process handler takes (a fixed clock, injected faults). `make invoke` runs the built
// bootstrap under the Lambda Runtime Interface Emulator instead (infra/lambdarie).
func Invoke(ctx context.Context, handler any, event []byte) ([]byte, error) {
	return lambda.NewHandler(handler).Invoke(ctx, event)
}

// route is one HTTP route of one function.
type route struct {
	method   string
	segments []string
	key      string // "METHOD /path/{param}", API Gateway's routeKey.
	function string
}

// Gateway serves template.yaml's HTTP routes with the functions' handlers.
type Gateway struct {
	routes   []route
	handlers map[string]any
	log      *slog.Logger
}

// NewGateway builds the gateway. Every function with routes must have a handler.
func NewGateway(t samtemplate.Template, handlers map[string]any, log *slog.Logger) (*Gateway, error) {
	g := &Gateway{handlers: handlers, log: log}
	for _, fn := range t.Functions {
		if len(fn.Routes) > 0 && handlers[fn.Name] == nil {
			return nil, fmt.Errorf("template function %s (functions/%s) has no handler", fn.LogicalID, fn.Name)
		}
		for _, r := range fn.Routes {
			g.routes = append(g.routes, route{
				method: r.Method, segments: strings.Split(strings.Trim(r.Path, "/"), "/"),
				key: r.Method + " " + r.Path, function: fn.Name,
			})
		}
	}
	return g, nil
}

// match finds the route of a request and its path parameters.
func (g *Gateway) match(method, path string) (route, map[string]string, bool) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for _, r := range g.routes {
		if r.method != method || len(r.segments) != len(parts) {
			continue
		}
		params := map[string]string{}
		ok := true
		for i, seg := range r.segments {
			if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
				if parts[i] == "" {
					ok = false
					break
				}
				params[strings.Trim(seg, "{}")] = parts[i]
			} else if seg != parts[i] {
				ok = false
				break
			}
		}
		if ok {
			return r, params, true
		}
	}
	return route{}, nil, false
}

// ServeHTTP turns the request into an API Gateway event, invokes the route's handler and writes
// its response, as API Gateway would.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt, params, ok := g.match(r.Method, r.URL.Path)
	if !ok {
		writeJSON(w, http.StatusNotFound, `{"message":"Not Found"}`)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayloadBytes+1))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, `{"message":"could not read the request body"}`)
		return
	}
	if len(body) > maxPayloadBytes {
		writeJSON(w, http.StatusRequestEntityTooLarge, `{"message":"Request Entity Too Large"}`)
		return
	}
	event := APIGatewayEvent(r, body, rt.key, params)
	payload, _ := json.Marshal(event)
	start := time.Now()
	out, err := Invoke(r.Context(), g.handlers[rt.function], payload)
	if err != nil {
		// On AWS a handler that returns an error or panics makes API Gateway answer 500.
		g.log.Error("handler failed", "function", rt.function, "route", rt.key, "error", err.Error())
		writeJSON(w, http.StatusInternalServerError, `{"message":"Internal Server Error"}`)
		return
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		writeJSON(w, http.StatusInternalServerError, `{"message":"Internal Server Error"}`)
		return
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	respBody := []byte(resp.Body)
	if resp.IsBase64Encoded {
		respBody, _ = base64.StdEncoding.DecodeString(resp.Body)
	}
	if resp.StatusCode == 0 {
		resp.StatusCode = http.StatusOK
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(respBody)
	g.log.Debug("request", "function", rt.function, "route", rt.key, "status", resp.StatusCode, "ms", time.Since(start).Milliseconds())
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// APIGatewayEvent builds the event API Gateway (HTTP API, payload format 2.0) delivers for a
// request: header names lower-cased, repeated values joined by commas, and a body that is not
// UTF-8 text base64-encoded.
func APIGatewayEvent(r *http.Request, body []byte, routeKey string, params map[string]string) events.APIGatewayV2HTTPRequest {
	headers := map[string]string{}
	for k, v := range r.Header {
		headers[strings.ToLower(k)] = strings.Join(v, ",")
	}
	var query map[string]string
	for k, v := range r.URL.Query() {
		if query == nil {
			query = map[string]string{}
		}
		query[k] = strings.Join(v, ",")
	}
	var cookies []string
	for _, c := range r.Cookies() {
		cookies = append(cookies, c.String())
	}
	sourceIP, _, _ := net.SplitHostPort(r.RemoteAddr)
	now := time.Now()
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: routeKey, RawPath: r.URL.Path, RawQueryString: r.URL.RawQuery,
		Cookies: cookies, Headers: headers, QueryStringParameters: query, PathParameters: params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: routeKey, AccountID: "local", Stage: "$default", APIID: "local",
			DomainName: r.Host, RequestID: fmt.Sprintf("local-%d", now.UnixNano()),
			Time: now.UTC().Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: r.Method, Path: r.URL.Path, Protocol: r.Proto, SourceIP: sourceIP, UserAgent: r.UserAgent(),
			},
		},
	}
	if len(params) == 0 {
		ev.PathParameters = nil
	}
	if utf8.Valid(body) {
		ev.Body = string(body)
	} else {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	}
	return ev
}

// ScheduledEvent builds the event EventBridge delivers for a schedule.
func ScheduledEvent(rule string, at time.Time) events.EventBridgeEvent {
	return events.EventBridgeEvent{
		Version: "0", ID: fmt.Sprintf("local-%d", at.UnixNano()), DetailType: "Scheduled Event",
		Source: "aws.events", AccountID: "000000000000", Time: at.UTC(), Region: "us-east-1",
		Resources: []string{"arn:aws:events:us-east-1:000000000000:rule/" + rule},
		Detail:    json.RawMessage(`{}`),
	}
}

// RunSchedules fires every enabled schedule of the template at its interval until ctx ends. A
// run that fails is logged; the next tick tries again, as EventBridge's retries would.
func RunSchedules(ctx context.Context, t samtemplate.Template, handlers map[string]any, log *slog.Logger) {
	for _, fn := range t.Functions {
		for _, sch := range fn.Schedules {
			if sch.Disabled || handlers[fn.Name] == nil {
				continue
			}
			go func() {
				ticker := time.NewTicker(sch.Every)
				defer ticker.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case at := <-ticker.C:
						payload, _ := json.Marshal(ScheduledEvent(fn.LogicalID+"-"+sch.Name, at))
						if _, err := Invoke(ctx, handlers[fn.Name], payload); err != nil {
							log.Error("scheduled run failed", "function", fn.Name, "schedule", sch.Name, "error", err.Error())
						}
					}
				}
			}()
		}
	}
}

// StackFile is where a running `make run` stack records how to reach its DynamoDB, relative to
// the repository root, for the commands that work on the running stack.
const StackFile = "infra/.local-stack.json"

// RunningStack returns env overlaid with the DynamoDB endpoint and table of the running `make run`
// stack, or an error saying to start it.
func RunningStack(root string, env func(string) string) (func(string) string, error) {
	var stack map[string]string
	b, err := os.ReadFile(filepath.Join(root, StackFile))
	if err != nil || json.Unmarshal(b, &stack) != nil || !Answers(stack["endpoint"]) {
		return nil, errors.New("no local stack is running; start it with `make run` in another terminal")
	}
	return Overlay(env, map[string]string{"RINGFENCE_DYNAMODB_ENDPOINT": stack["endpoint"], "RINGFENCE_TABLE": stack["table"],
		"RINGFENCE_SESSION_SECRET": stack["session_secret"]}), nil
}

// Answers reports whether a DynamoDB (Local) endpoint answers HTTP.
func Answers(endpoint string) bool {
	if endpoint == "" {
		return false
	}
	c := http.Client{Timeout: time.Second}
	resp, err := c.Post(endpoint, "application/x-amz-json-1.0", strings.NewReader("{}"))
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

// Overlay returns env with values taking precedence.
func Overlay(env func(string) string, values map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := values[k]; ok {
			return v
		}
		return env(k)
	}
}
