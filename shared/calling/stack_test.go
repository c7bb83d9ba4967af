package calling_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringfence/ringfence/infra/testio"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/ringfence/ringfence/infra/localstack"
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
// with the provider simulator placing the calls and sending the webhooks.
type stack struct {
	out    *testio.Buffer // Everything the functions wrote: their logs and metrics.
	env    dynamotest.Env
	app    *app.App
	sim    *simulator.Simulator
	base   string
	simURL func() string
}

func MustStack(t *testing.T, simOpts simulator.Options, directLimit, campaignLimit int, options ...func(*aws.Config)) *stack {
	t.Helper()
	env := dynamotest.MustNewStore(t)
	simOpts.APIKey = simKey
	sim := simulator.New(simOpts)
	simServer := httptest.NewServer(sim)
	t.Cleanup(simServer.Close)
	cfg := app.Config{
		Table: env.Table, DynamoDBEndpoint: dynamotest.Endpoint(), APIKey: apiKey, AccountID: "acct_test",
		BolnaWebhookToken: bolnaToken, BolnaAPIURL: simServer.URL, BolnaAPIKey: simKey,
		RetellAPIURL: simServer.URL, RetellAPIKey: simKey,
		VapiAPIURL: simServer.URL, VapiAPIKey: simKey, VapiWebhookSecret: simKey,
		DirectLimit: directLimit, CampaignLimit: campaignLimit, LogLevel: "INFO",
		SessionSecret: "test-session-secret-0123456789abcdef",
	}
	out := &testio.Buffer{}
	a := app.NewWithAWS(cfg, dynamotest.Config(options...), out)
	tmpl, err := samtemplate.Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	gw, err := localstack.NewGateway(tmpl, a.Handlers(), a.Log)
	if err != nil {
		t.Fatal(err)
	}
	gwServer := httptest.NewServer(gw)
	t.Cleanup(gwServer.Close)
	sim.SetWebhookBase(gwServer.URL, bolnaToken)
	t.Cleanup(sim.Wait) // No webhook outlives its test's table.
	return &stack{out: out, env: env, app: a, sim: sim, base: gwServer.URL, simURL: func() string { return simServer.URL }}
}

// do sends an authenticated API request and decodes the JSON answer into v.
func (s *stack) do(t *testing.T, method, path, body string, wantStatus int, v any) {
	t.Helper()
	req, _ := http.NewRequest(method, s.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s status=%d body=%s, want %d", method, path, resp.StatusCode, b, wantStatus)
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
				localstack.Invoke(ctx, s.app.Handlers()["dispatcher"], payload)
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
