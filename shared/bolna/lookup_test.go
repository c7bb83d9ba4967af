package bolna_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/ringfence/ringfence/infra/testio"
	"github.com/ringfence/ringfence/shared/bolna"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// MustServe serves handler as Bolna's API and returns a client of it.
func MustServe(tb testing.TB, handler http.HandlerFunc) *bolna.Client {
	tb.Helper()
	return bolna.NewClient(testio.ServeAPI(tb, handler), "key")
}

// GET /executions/{id} reads as the execution webhook would, with the API's conversation_time
// standing for the webhook's conversation_duration: an answered call that completed is completed,
// with its cost in USD; a running call is in progress; an unknown one is not found.
func TestReportCall(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   []byte
		want   ringfence.CallStatus
		cost   string
		code   string
	}{
		{name: "completed", status: 200, body: testio.MustReadFixture(t, "execution-get.json"), want: ringfence.StatusCompleted, cost: "0.125"},
		{name: "running", status: 200, body: testio.MustReadFixture(t, "execution-get-in-progress.json"), want: ringfence.StatusInProgress},
		{name: "unknown", status: 404, body: []byte(`{"detail":"Execution not found"}`), code: ringfence.ENOTFOUND},
		{name: "outage", status: 502, body: []byte(`bad gateway`), code: ringfence.EINTERNAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var path string
			c := MustServe(t, testio.Answer(tc.status, tc.body, &path))
			ev, err := c.ReportCall(context.Background(), "4c06b4d1-4096-4561-919a-4f94539c8d4a")
			if path != "GET /executions/4c06b4d1-4096-4561-919a-4f94539c8d4a" {
				t.Fatalf("request=%q, want GET /executions/{execution_id}", path)
			}
			if got := ringfence.ErrorCode(err); got != tc.code {
				t.Fatalf("error code=%q (%v), want %q", got, err, tc.code)
			}
			if err != nil {
				return
			}
			if ev.Status != tc.want || ev.CallID != "call_0123456789abcdef01234567" {
				t.Fatalf("event=%+v, want status %s with ringfence's id", ev, tc.want)
			}
			if tc.cost != "" && (ev.Cost.String() != tc.cost || ev.Duration.String() != "42" || ev.Transcript == "") {
				t.Fatalf("report cost=%s duration=%s, want %s and 42", ev.Cost, ev.Duration, tc.cost)
			}
		})
	}
}

// A lost dial is looked for in the agent's executions since the dial, page after page while
// has_more holds.
func TestFindCallPagesThroughTheList(t *testing.T) {
	page := testio.MustReadFixture(t, "executions-page.json")
	for _, tc := range []struct {
		name  string
		on    int // The execution is on this page (0: on none).
		reads int
	}{{"first page", 1, 1}, {"third page", 3, 3}, {"never placed", 0, 4}} {
		t.Run(tc.name, func(t *testing.T) {
			reads := 0
			c := MustServe(t, func(w http.ResponseWriter, r *http.Request) {
				reads++
				q := r.URL.Query()
				if r.URL.Path != "/v2/agent/agent-1/executions" || q.Get("page_number") != fmt.Sprint(reads) || q.Get("page_size") != "50" || q.Get("from") != "2026-01-23T01:00:00.000Z" {
					t.Errorf("request %s, want page %d of agent-1's executions from the dial on", r.URL, reads)
				}
				if reads == tc.on {
					w.Write(page)
					return
				}
				json.NewEncoder(w).Encode(map[string]any{"page_number": reads, "page_size": 50, "total": 200, "has_more": reads < 4,
					"data": []any{map[string]any{"id": fmt.Sprintf("other-%d", reads), "status": "completed", "context_details": map[string]any{"recipient_data": map[string]any{"ringfence_call_id": "call_other"}}}}})
			})
			since := time.Date(2026, 1, 23, 1, 0, 0, 0, time.UTC)
			got, err := c.FindCall(context.Background(), ringfence.DialRequest{CallID: "call_0123456789abcdef01234567", AgentID: "agent-1"}, since)
			if tc.on == 0 {
				if ringfence.ErrorCode(err) != ringfence.ENOTFOUND || reads != tc.reads {
					t.Fatalf("found %q (%v) after %d pages, want not found after %d", got, err, reads, tc.reads)
				}
				return
			}
			if err != nil || got != "4c06b4d1-4096-4561-919a-4f94539c8d4a" || reads != tc.reads {
				t.Fatalf("found %q (%v) after %d pages, want the execution on page %d", got, err, reads, tc.on)
			}
		})
	}
}
