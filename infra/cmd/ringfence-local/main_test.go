package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringfence/ringfence/infra/testio"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// The local stack, started as `make run` starts it, serves the template's routes with the real
// handlers: the health check, a campaign created and read back, and API Gateway's answers for a
// route that does not exist.
func TestRunServesTheAPI(t *testing.T) {
	addr := freeAddr(t)
	env := map[string]string{
		"RINGFENCE_ADDR":              addr,
		"RINGFENCE_SIMULATOR_ADDR":    freeAddr(t),
		"RINGFENCE_DYNAMODB_ENDPOINT": dynamotest.Endpoint(),
		"RINGFENCE_TABLE":             fmt.Sprintf("run_%d", time.Now().UnixNano()),
		"RINGFENCE_LOG_LEVEL":         "ERROR",
	}
	ctx, cancel := context.WithCancel(context.Background())
	// The stack's functions log to out while the test reads it.
	out := &testio.Buffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"run"}, func(k string) string { return env[k] }, out, io.Discard) }()
	base := "http://" + addr
	waitHealthy(t, base+"/healthz", done)

	key := localDefaults["RINGFENCE_API_KEY"]
	body := `{"name":"demo","provider":"bolna","agent_id":"a","from_number":"+14155550100","contacts":[{"name":"Ann","phone":"+14155550101"}]}`
	resp := do(t, "POST", base+"/campaigns", key, body)
	if resp.status != 201 {
		t.Fatalf("POST /campaigns status=%d body=%s", resp.status, resp.body)
	}
	var created struct{ ID string }
	json.Unmarshal([]byte(resp.body), &created)
	got := do(t, "GET", base+"/campaigns/"+created.ID, key, "")
	if got.status != 200 || !strings.Contains(got.body, `"total_contacts":1`) {
		t.Fatalf("GET campaign status=%d body=%s", got.status, got.body)
	}
	if r := do(t, "GET", base+"/campaigns/"+created.ID, "wrong", ""); r.status != 401 {
		t.Fatalf("wrong key status=%d, want 401", r.status)
	}
	if r := do(t, "GET", base+"/nowhere", key, ""); r.status != 404 {
		t.Fatalf("unknown route status=%d, want 404", r.status)
	}
	if r := do(t, "GET", base+"/openapi.yaml", "", ""); r.status != 200 || !strings.HasPrefix(r.body, "openapi: 3.1") {
		t.Fatalf("GET /openapi.yaml status=%d, want 200 and the API's OpenAPI document", r.status)
	}
	if !strings.Contains(out.String(), "Authorization: Bearer "+key) {
		t.Fatalf("banner does not say how to authenticate:\n%s", out.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run returned %v", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("server still answers after the stack was stopped")
	}
}

// invoke runs one function on a sample event, as `make invoke` does, and prints its response.
func TestInvokePrintsTheHandlerResponse(t *testing.T) {
	env := map[string]string{
		"RINGFENCE_DYNAMODB_ENDPOINT": dynamotest.Endpoint(),
		"RINGFENCE_TABLE":             fmt.Sprintf("invoke_%d", time.Now().UnixNano()),
		"RINGFENCE_LOG_LEVEL":         "ERROR",
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"invoke", "api", filepath.Join("..", "..", "..", "events", "api-create-campaign.json")}, func(k string) string { return withDefaults(func(k string) string { return env[k] })(k) }, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	if err := json.Unmarshal(out.Bytes(), &resp); err != nil || resp.StatusCode != 201 || !strings.Contains(resp.Body, "November renewals") {
		t.Fatalf("invoke printed %s (err %v), want a 201 API Gateway response", out.String(), err)
	}
	if err := run(context.Background(), []string{"invoke", "nosuch", filepath.Join("..", "..", "..", "events", "api-healthz.json")}, func(k string) string { return env[k] }, &out, io.Discard); err == nil {
		t.Fatal("invoking an unknown function succeeded")
	}
}

type response struct {
	status int
	body   string
}

func do(t *testing.T, method, url, key, body string) response {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, string(b)}
}

func waitHealthy(t *testing.T, url string, done chan error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("run stopped early: %v", err)
		default:
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not answer 200 in time", url)
}

// Each provider is simulated unless its own API key is set, and the simulator uses the secrets
// the user configured: with a real RETELL_API_KEY and a chosen VAPI_WEBHOOK_SECRET, Bolna and
// Vapi campaigns still run to the end against the simulator, whose Vapi messages carry that
// secret and whose Bolna webhooks carry the configured token.
func TestRunSimulatesEachProviderWithoutItsKey(t *testing.T) {
	addr := freeAddr(t)
	env := map[string]string{
		"RINGFENCE_ADDR":              addr,
		"RINGFENCE_SIMULATOR_ADDR":    freeAddr(t),
		"RINGFENCE_DYNAMODB_ENDPOINT": dynamotest.Endpoint(),
		"RINGFENCE_TABLE":             fmt.Sprintf("mixed_%d", time.Now().UnixNano()),
		"RINGFENCE_LOG_LEVEL":         "ERROR",
		"RETELL_API_KEY":              "key_real-retell-account-key",
		"VAPI_WEBHOOK_SECRET":         "my-own-vapi-secret",
		"BOLNA_WEBHOOK_TOKEN":         "my-own-bolna-token-0123456789",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &testio.Buffer{} // The stack writes its metrics to it while the test reads the banner.
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"run"}, func(k string) string { return env[k] }, out, io.Discard) }()
	base := "http://" + addr
	waitHealthy(t, base+"/healthz", done)
	key := localDefaults["RINGFENCE_API_KEY"]

	for _, c := range []struct{ provider, from string }{{"bolna", "+14155550100"}, {"vapi", "phone-number-id-1"}} {
		id := mustStartCampaign(t, base, key, c.provider, c.from)
		waitCompleted(t, base+"/campaigns/"+id, key, done)
	}
	for _, want := range []string{"Retell: the real API at https://api.retellai.com", "Bolna: simulated", "Vapi: simulated", "X-Vapi-Secret: my-own-vapi-secret", "token=my-own-bolna-token-0123456789"} {
		if !strings.Contains(strings.Join(strings.Fields(out.String()), " "), want) {
			t.Fatalf("banner does not say %q:\n%s", want, out.String())
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run returned %v", err)
	}
}

// mustStartCampaign creates a campaign of two contacts through provider and starts it, and
// returns its id.
func mustStartCampaign(t *testing.T, base, key, provider, from string) string {
	t.Helper()
	body := fmt.Sprintf(`{"name":"%s campaign","provider":"%s","agent_id":"agent-1","from_number":"%s","contacts":[{"name":"Ann","phone":"+14155550101"},{"name":"Bo","phone":"+14155550102"}]}`, provider, provider, from)
	resp := do(t, "POST", base+"/campaigns", key, body)
	if resp.status != 201 {
		t.Fatalf("create %s campaign: %d %s", provider, resp.status, resp.body)
	}
	var created struct{ ID string }
	json.Unmarshal([]byte(resp.body), &created)
	if r := do(t, "POST", base+"/campaigns/"+created.ID+"/start", key, ""); r.status >= 300 {
		t.Fatalf("start %s campaign: %d %s", provider, r.status, r.body)
	}
	return created.ID
}

// waitCompleted polls a campaign until every contact's call has ended; the simulator's calls
// last a few seconds.
func waitCompleted(t *testing.T, url, key string, done chan error) {
	t.Helper()
	waitCompletedWithin(t, url, key, done, 90*time.Second)
}

// waitCompletedWithin is waitCompleted with a deadline of its own.
func waitCompletedWithin(t *testing.T, url, key string, done chan error, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	var last string
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("run stopped early: %v", err)
		default:
		}
		r := do(t, "GET", url, key, "")
		var c struct {
			TotalContacts  int `json:"total_contacts"`
			CallsCompleted int `json:"calls_completed"`
		}
		json.Unmarshal([]byte(r.body), &c)
		if r.status == 200 && c.TotalContacts > 0 && c.CallsCompleted == c.TotalContacts {
			return
		}
		last = r.body
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("campaign %s did not complete: %s", url, last)
}

// A request still running when the stack stops does not make stopping fail: after the grace
// period it is cut off, the server stops answering, and the cut is reported.
func TestStopCutsOffRequestsStillRunning(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	started := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	base := "http://" + ln.Addr().String()
	go http.Get(base + "/slow")
	<-started

	var out bytes.Buffer
	stopServing(srv, 100*time.Millisecond, &out)
	if !strings.Contains(out.String(), "cut off") {
		t.Fatalf("stopping did not report the request it cut off: %q", out.String())
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("server still answers after it was stopped")
	}
}

// A receiver on loopback is a local run's, never a deployment's: make run allows it, and
// template.yaml never sets the switch, so on AWS an endpoint cannot lead to loopback.
func TestLoopbackEndpointsAreLocalOnly(t *testing.T) {
	if got := withDefaults(func(string) string { return "" })("RINGFENCE_LOOPBACK_ENDPOINTS"); got != "true" {
		t.Fatalf("make run's RINGFENCE_LOOPBACK_ENDPOINTS=%q, want true", got)
	}
	template, err := os.ReadFile(filepath.Join("..", "..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(template), "RINGFENCE_LOOPBACK_ENDPOINTS") {
		t.Fatal("template.yaml sets RINGFENCE_LOOPBACK_ENDPOINTS: a deployment's endpoints could lead to loopback")
	}
}
