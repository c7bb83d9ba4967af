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
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"run"}, func(k string) string { return env[k] }, &out, io.Discard) }()
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
