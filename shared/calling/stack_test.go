package calling_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringfence/ringfence/infra/testio"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/ringfence/ringfence/infra/localstack"
	"github.com/ringfence/ringfence/infra/openapi"
	"github.com/ringfence/ringfence/infra/samtemplate"
	"github.com/ringfence/ringfence/infra/simulator"
	"github.com/ringfence/ringfence/shared/app"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

const (
	apiKey     = "test-api-key-0123456789"
	bolnaToken = "test-bolna-token-0123456789"
	simKey     = "local-simulator-key" // The key the Retell samples in events/ are signed with.
)

// stack is the whole backend on a fresh table, served over HTTP the way `make run` serves it,
// with the provider simulator placing the calls and sending the webhooks. Each function is its
// own App, built by app.New from the environment Lambda would give it, and reaches DynamoDB
// through the IAM proxy with its own role: a request its deployed role would deny fails here.
type stack struct {
	out    *testio.Buffer // Everything the functions wrote: their logs and metrics.
	env    dynamotest.Env // The table, and the operator's store on it, for seeding and checking.
	fns    map[string]*app.App
	sim    *simulator.Simulator
	base   string
	simURL func() string
	vars   map[string]string // The local settings every function's environment starts from.
}

func MustStack(t *testing.T, simOpts simulator.Options, directLimit, campaignLimit int, options ...func(*aws.Config)) *stack {
	t.Helper()
	env := dynamotest.MustNewStore(t)
	simOpts.APIKey = simKey
	sim := simulator.New(simOpts)
	simServer := httptest.NewServer(sim)
	t.Cleanup(simServer.Close)
	vars := map[string]string{
		"RINGFENCE_TABLE": env.Table, "RINGFENCE_DYNAMODB_ENDPOINT": dynamotest.FunctionEndpoint(t),
		"RINGFENCE_API_KEY": apiKey, "RINGFENCE_ACCOUNT_ID": "acct_test",
		"BOLNA_WEBHOOK_TOKEN": bolnaToken, "BOLNA_API_URL": simServer.URL, "BOLNA_API_KEY": simKey,
		"RETELL_API_URL": simServer.URL, "RETELL_API_KEY": simKey,
		"VAPI_API_URL": simServer.URL, "VAPI_API_KEY": simKey, "VAPI_WEBHOOK_SECRET": simKey,
		"RINGFENCE_DIRECT_LIMIT": strconv.Itoa(directLimit), "RINGFENCE_CAMPAIGN_LIMIT": strconv.Itoa(campaignLimit),
		"RINGFENCE_LOG_LEVEL": "INFO", "RINGFENCE_SESSION_SECRET": "test-session-secret-0123456789abcdef",
		// The tests' receivers listen on loopback, as a developer's does under make run.
		"RINGFENCE_LOOPBACK_ENDPOINTS": "true",
	}
	out := &testio.Buffer{}
	tmpl, err := samtemplate.Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fns, err := localstack.Functions(context.Background(), tmpl, mapEnv(vars), out, options...)
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{out: out, env: env, fns: fns, sim: sim, simURL: func() string { return simServer.URL }, vars: vars}
	gw, err := localstack.NewGateway(tmpl, s.handlers(), s.log())
	if err != nil {
		t.Fatal(err)
	}
	gwServer := httptest.NewServer(gw)
	t.Cleanup(gwServer.Close)
	s.base = gwServer.URL
	sim.SetWebhookBase(gwServer.URL, bolnaToken)
	// Registered before sim.Wait, so it runs after it: it sees the last webhook's requests too.
	t.Cleanup(func() {
		if t.Failed() {
			for _, line := range strings.Split(out.String(), "\n") {
				if strings.Contains(line, `"level":"ERROR"`) {
					t.Log(line)
				}
			}
		}
		// A request a role denies fails the test even where the code only logs the failure (a
		// webhook that cannot dial the campaign's next contact, say): on AWS it would fail too.
		if denied := dynamotest.Denied(t, env.Table); len(denied) > 0 {
			t.Errorf("the functions' roles denied %d requests; the distinct ones:\n%s", len(denied), strings.Join(slices.Compact(slices.Sorted(slices.Values(denied))), "\n"))
		}
	})
	t.Cleanup(sim.Wait) // No webhook outlives its test's table.
	return s
}

// mapEnv reads an environment from a map.
func mapEnv(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// fn returns one function's App, named by its folder under functions/.
func (s *stack) fn(name string) *app.App {
	a, ok := s.fns[name]
	if !ok {
		panic("no function " + name)
	}
	return a
}

// each changes every function, as a test does to set their clocks.
func (s *stack) each(change func(a *app.App)) {
	for _, a := range s.fns {
		change(a)
	}
}

// setStoreNow sets the clock of every function's store, and of the operator's.
func (s *stack) setStoreNow(now func() time.Time) {
	s.each(func(a *app.App) { a.Store.Now = now })
	s.env.Store.Now = now
}

// setNow sets every function's clock: its store's and its calling service's.
func (s *stack) setNow(now func() time.Time) {
	s.setStoreNow(now)
	s.each(func(a *app.App) { a.Calling.Now = now })
}

// another builds one more instance of a function, as Lambda starts another when runs overlap:
// app.New with that function's environment and role, the stack's settings changed by overrides,
// and options on its AWS configuration.
func (s *stack) another(t *testing.T, name string, overrides map[string]string, options ...func(*aws.Config)) *app.App {
	t.Helper()
	tmpl, err := samtemplate.Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	vars := maps.Clone(s.vars)
	maps.Copy(vars, overrides)
	a, err := localstack.Function(context.Background(), tmpl, name, mapEnv(vars), s.out, options...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// handlers returns each function's handler from its own App.
func (s *stack) handlers() map[string]any { return localstack.Handlers(s.fns) }

// log is where the stack's own messages go: the api function's logger.
func (s *stack) log() *slog.Logger { return s.fn("api").Log }

// operator returns the App an operator's command (the ops tool) uses: the stack's settings with
// the operator's own credentials, straight to DynamoDB Local, as ringfence-ops runs.
func (s *stack) operator(t *testing.T) *app.App {
	t.Helper()
	vars := maps.Clone(s.vars)
	vars["RINGFENCE_DYNAMODB_ENDPOINT"] = dynamotest.Endpoint()
	a, err := app.New(context.Background(), mapEnv(vars), s.out)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// apiDocument is docs/openapi.yaml, read once for all the tests.
var apiDocument = sync.OnceValues(func() (*openapi.Checker, error) {
	return openapi.NewChecker(filepath.Join("..", "..", "docs", "openapi.yaml"))
})

// mustAPIDocument returns the checker of docs/openapi.yaml; a document that does not load fails
// the test.
func mustAPIDocument(t *testing.T) *openapi.Checker {
	t.Helper()
	c, err := apiDocument()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// do sends an authenticated API request, checks the exchange against docs/openapi.yaml, and
// decodes the JSON answer into v.
func (s *stack) do(t *testing.T, method, path, body string, wantStatus int, v any) {
	t.Helper()
	doc := mustAPIDocument(t) // Read before the request, so no test's requests wait on it in between.
	req, _ := http.NewRequest(method, s.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+apiKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s status=%d body=%s, want %d", method, path, resp.StatusCode, b, wantStatus)
	}
	// Every exchange of the end-to-end tests is held against the published description too.
	if err := doc.Check(req, []byte(body), resp.StatusCode, resp.Header, b); err != nil {
		t.Fatalf("docs/openapi.yaml and the API disagree: %v", err)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
	}
}

type slotsView struct {
	Slots map[string]struct{ InUse, Limit int } `json:"slots"`
	Held  []struct {
		CallID      string `json:"call_id"`
		ExecutionID string `json:"execution_id"`
	} `json:"held"`
}

type campaignView struct {
	ID             string         `json:"id"`
	Status         string         `json:"status"`
	TotalContacts  int            `json:"total_contacts"`
	Attempts       int            `json:"attempts"`
	CallsCompleted int            `json:"calls_completed"`
	TotalCost      string         `json:"total_cost"`
	Outcomes       map[string]int `json:"outcomes"`
}

type callView struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	Outcome        string `json:"outcome"`
	ProviderCallID string `json:"provider_call_id"`
	EndReason      string `json:"end_reason"`
	Position       int    `json:"position"`
}

// dispatchEvery runs the scheduled dispatcher on its schedule (here, every interval) until the
// test ends, as EventBridge would.
func (s *stack) dispatchEvery(t *testing.T, interval time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case at := <-time.After(interval):
				payload, _ := json.Marshal(localstack.ScheduledEvent("dispatcher", at))
				localstack.Invoke(ctx, s.handlers()["dispatcher"], payload)
			}
		}
	}()
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func contacts(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`{"name":"Contact %d","phone":"+1415555%04d"}`, i, i)
	}
	return "[" + strings.Join(parts, ",") + "]"
}
