package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/calling"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/httpapi"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// answeringDialer stands in for a provider that places every call.
type answeringDialer struct{}

func (answeringDialer) Dial(_ context.Context, req ringfence.DialRequest) (string, error) {
	return "exec-" + req.CallID, nil
}

// An account's whole life through the operators' tool and the HTTP API: created, its key works;
// its limits set, the next reservation obeys them; its key rotated, the old one works during the
// grace period and gets 401 after it (the API's clock is moved, nothing sleeps); revoked, no key
// works.
func TestAccountLifecycleThroughTheAPI(t *testing.T) {
	ctx := context.Background()
	env := dynamotest.MustNewStore(t)
	getenv := func(k string) string {
		return map[string]string{"RINGFENCE_DYNAMODB_ENDPOINT": dynamotest.Endpoint(), "RINGFENCE_TABLE": env.Table}[k]
	}
	ops := func(args ...string) accountView {
		t.Helper()
		var out bytes.Buffer
		if err := run(ctx, append(args, "--json"), getenv, &out); err != nil {
			t.Fatalf("ringfence-ops %v: %v", args, err)
		}
		var v accountView
		if err := json.Unmarshal(out.Bytes(), &v); err != nil {
			t.Fatalf("ringfence-ops %v printed %s", args, out.String())
		}
		return v
	}

	// The API, on a store of its own whose clock the test moves.
	api := env.Reopen()
	clock := time.Now()
	api.Now = func() time.Time { return clock }
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	calls := calling.New(api, map[ringfence.Provider]ringfence.Dialer{ringfence.ProviderBolna: answeringDialer{}}, calling.Defaults{DirectLimit: 5, CampaignLimit: 10}, log)
	handler := httpapi.NewServer(api, calls, httpapi.Config{}, log).Management()
	request := func(route, key, body string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		method, path, _ := strings.Cut(route, " ")
		req := events.APIGatewayV2HTTPRequest{RouteKey: route, RawPath: path, Body: body,
			Headers: map[string]string{"authorization": "Bearer " + key, "content-type": "application/json"}}
		req.RequestContext.HTTP.Method, req.RequestContext.HTTP.Path = method, path
		resp, err := handler(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	status := func(key string) int { return request("GET /slots", key, "").StatusCode }

	created := ops("accounts", "create", "Acme", "Corp")
	if created.ID == "" || created.Name != "Acme Corp" || !strings.HasPrefix(created.APIKey, "rfk_") {
		t.Fatalf("create printed %+v", created)
	}
	first := created.APIKey
	if got := status(first); got != 200 {
		t.Fatalf("GET /slots with the new account's key: %d, want 200", got)
	}

	if v := ops("accounts", "set-limits", created.ID, "--direct", "1"); v.DirectLimit != "1" || v.CampaignLimit != "default" {
		t.Fatalf("set-limits printed %+v", v)
	}
	place := `{"provider":"bolna","agent_id":"agent-1","from_number":"+14155550100","to":"+14155550123"}`
	var placed [2]struct {
		Status string `json:"status"`
	}
	for i := range placed {
		resp := request("POST /calls", first, place)
		if err := json.Unmarshal([]byte(resp.Body), &placed[i]); err != nil || resp.StatusCode >= 300 {
			t.Fatalf("POST /calls: %d %s", resp.StatusCode, resp.Body)
		}
	}
	if placed[0].Status == string(ringfence.StatusQueued) || placed[1].Status != string(ringfence.StatusQueued) {
		t.Fatalf("with a direct limit of 1 the calls are %s then %s, want dialled then queued", placed[0].Status, placed[1].Status)
	}

	rotated := ops("accounts", "rotate-key", created.ID, "--grace", "1h")
	second := rotated.APIKey
	if rotated.ID != created.ID || second == "" || second == first {
		t.Fatalf("rotate-key printed %+v", rotated)
	}
	if shown := ops("accounts", "show", created.ID); len(shown.Keys) != 2 || shown.APIKey != "" {
		t.Fatalf("show during the rotation printed %+v, want two keys and no key itself", shown)
	}
	if status(first) != 200 || status(second) != 200 {
		t.Fatalf("during the grace period: old key %d, new key %d; want both 200", status(first), status(second))
	}
	clock = clock.Add(time.Hour + time.Minute)
	if status(first) != 401 || status(second) != 200 {
		t.Fatalf("after the grace period: old key %d, new key %d; want 401 and 200", status(first), status(second))
	}

	var out bytes.Buffer
	if err := run(ctx, []string{"accounts", "revoke-key", created.ID, "--json"}, getenv, &out); err != nil || !strings.Contains(out.String(), `"revoked": 2`) {
		t.Fatalf("revoke-key: %v %s", err, out.String())
	}
	if status(second) != 401 {
		t.Fatal("a revoked key still works")
	}

	out.Reset()
	if err := run(ctx, []string{"accounts", "list"}, getenv, &out); err != nil || !strings.Contains(out.String(), created.ID) || !strings.Contains(out.String(), "Acme Corp") {
		t.Fatalf("list: %v\n%s", err, out.String())
	}
	for _, bad := range [][]string{{"accounts"}, {"accounts", "show", "acct_missing"}, {"accounts", "set-limits", created.ID}, {"accounts", "rotate-key", "acct_missing"}, {"accounts", "frobnicate", "x"}} {
		if err := run(ctx, bad, getenv, &out); err == nil {
			t.Fatalf("%v succeeded, want an error", bad)
		}
	}
}
