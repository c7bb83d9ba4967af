package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
)

// The provider is the source of truth for a call (invariant 10), through the stack as it ships:
// `make run` with every final webhook dropped by the simulator. The sweep, wired by app.New as on
// Lambda, asks the provider about each quiet call and ends it with the provider's outcome, cost
// and duration, never "stale" at no cost. It takes the stale timeout (1 minute, the least there
// is) and a sweep's schedule (every minute) of real time.
func TestRunReconcilesCallsWhoseFinalWebhooksNeverCome(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the stale timeout and the sweep's schedule")
	}
	addr := freeAddr(t)
	env := map[string]string{
		"RINGFENCE_ADDR":                 addr,
		"RINGFENCE_SIMULATOR_ADDR":       freeAddr(t),
		"RINGFENCE_SIMULATOR_DROP_FINAL": "1",
		"RINGFENCE_STALE_AFTER":          "1m",
		"RINGFENCE_DYNAMODB_ENDPOINT":    dynamotest.Endpoint(),
		"RINGFENCE_TABLE":                fmt.Sprintf("reconcile_%d", time.Now().UnixNano()),
		"RINGFENCE_LOG_LEVEL":            "ERROR",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"run"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	}()
	base := "http://" + addr
	waitHealthy(t, base+"/healthz", done)
	key := localDefaults["RINGFENCE_API_KEY"]

	for _, c := range []struct{ provider, from string }{{"bolna", "+14155550100"}, {"vapi", "phone-number-id-1"}, {"retell", "+14155550100"}} {
		id := mustStartCampaign(t, base, key, c.provider, c.from)
		t.Run(c.provider, func(t *testing.T) {
			waitCompletedWithin(t, base+"/campaigns/"+id, key, done, 5*time.Minute)
			r := do(t, "GET", base+"/campaigns/"+id+"/calls", key, "")
			var page struct {
				Calls []struct {
					ID        string `json:"id"`
					Status    string `json:"status"`
					EndReason string `json:"end_reason"`
					Cost      string `json:"cost"`
				} `json:"calls"`
			}
			if err := json.Unmarshal([]byte(r.body), &page); err != nil || len(page.Calls) != 2 {
				t.Fatalf("calls: %d %s", r.status, r.body)
			}
			for _, call := range page.Calls {
				if call.Status != "completed" || call.EndReason == "stale" || call.Cost == "" || strings.TrimLeft(call.Cost, "0.") == "" {
					t.Fatalf("call %s ended %s (end reason %q) at cost %q, want the provider's completed call and its cost: %s", call.ID, call.Status, call.EndReason, call.Cost, r.body)
				}
			}
		})
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run returned %v", err)
	}
}
