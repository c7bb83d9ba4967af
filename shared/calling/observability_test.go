package calling_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringfence/ringfence/infra/simulator"
	"github.com/ringfence/ringfence/infra/testio"
	"github.com/ringfence/ringfence/shared/calling"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// records returns the JSON lines the functions wrote: logs and metric records alike.
func (s *stack) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(s.out.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil {
			out = append(out, rec)
		}
	}
	return out
}

// metricValues returns the values of the metric records with the given name (and dimension
// values) written in Embedded Metric Format, in the order written.
func metricValues(recs []map[string]any, name string, dims map[string]string) []float64 {
	var values []float64
	for _, rec := range recs {
		if v, ok := rec[name].(float64); ok && metricSeen([]map[string]any{rec}, name, dims) {
			values = append(values, v)
		}
	}
	return values
}

// metricSeen reports whether a metric record with the given name (and dimension values) was
// written in Embedded Metric Format.
func metricSeen(recs []map[string]any, name string, dims map[string]string) bool {
	for _, rec := range recs {
		aws, ok := rec["_aws"].(map[string]any)
		if !ok || rec[name] == nil {
			continue
		}
		cw := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
		if cw["Metrics"].([]any)[0].(map[string]any)["Name"] != name {
			continue
		}
		match := true
		for k, v := range dims {
			if rec[k] != v {
				match = false
			}
		}
		if match {
			return true
		}
	}
	return false
}

// A campaign, a refused request and a sweep write the structured logs and the metrics operators
// rely on, with the same keys everywhere and no secrets.
func TestLogsAndMetrics(t *testing.T) {
	s := MustStack(t, simulator.Options{CallLength: 10 * time.Millisecond, Seed: 4}, 5, 5)
	var c campaignView
	s.do(t, "POST", "/campaigns", `{"name":"observed","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100","contacts":`+contacts(6)+`}`, 201, &c)
	s.do(t, "POST", "/campaigns/"+c.ID+"/start", "", 202, nil)
	waitFor(t, 30*time.Second, "the campaign to complete", func() bool {
		var got campaignView
		s.do(t, "GET", "/campaigns/"+c.ID, "", 200, &got)
		return got.Status == "completed"
	})
	s.sim.Wait()
	s.do(t, "POST", "/campaigns", `{"name":`, 400, nil)
	// Give the sweep work, so that its metrics report what it did rather than the zeros of an idle
	// sweep: a call the provider went silent about (ended as stale), and a call in progress for
	// longer than StuckSlotAfter but within its longest duration (its slot reported as stuck).
	ctx := context.Background()
	silent := ringfence.Call{ID: dynamo.NewID("call"), AccountID: "acct_test", Provider: ringfence.ProviderBolna,
		ProviderCallID: "exec-silent", Status: ringfence.StatusInitiated, ToNumber: "+14155550177", FromNumber: "+14155550100", AgentID: "agent-1"}
	if err := s.env.Store.CreateCall(ctx, silent); err != nil {
		t.Fatal(err)
	}
	long, err := s.env.Store.CreateCallWithSlot(ctx, ringfence.Call{ID: dynamo.NewID("call"), AccountID: "acct_test", Provider: ringfence.ProviderBolna,
		ToNumber: "+14155550178", FromNumber: "+14155550100", AgentID: "agent-1"}, ringfence.SlotDirect, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.env.Store.RecordProviderCallID(ctx, long.ID, "exec-long"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.env.Store.ApplyCallEvent(ctx, long.ID, ringfence.CallEvent{Provider: ringfence.ProviderBolna, Status: ringfence.StatusInProgress}); err != nil {
		t.Fatal(err)
	}
	// Bolna's API as the sweep finds it: the long call still in progress (Bolna's own example of
	// an execution in progress), the silent one unknown.
	live, err := os.ReadFile(filepath.Join("..", "bolna", "testdata", "execution-get-in-progress.json"))
	if err != nil {
		t.Fatal(err)
	}
	bolnaAPI := testio.ServeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/exec-long") {
			w.Write(live)
			return
		}
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"message":"execution not found"}`))
	})
	sweeper := s.another(t, "sweeper", map[string]string{"BOLNA_API_URL": bolnaAPI})
	r, err := sweeper.Calling.Sweep(ctx, time.Now().Add(calling.StuckSlotAfter+2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if r.CallsEnded != 1 || len(r.StuckSlots) != 1 || r.StuckSlots[0].CallID != long.ID {
		t.Fatalf("sweep=%+v, want the silent call ended and the long call's slot reported stuck", r)
	}
	recs := s.records(t)
	for name, want := range map[string]float64{"StaleCallsSwept": 1, "StuckSlots": 1} {
		if got := metricValues(recs, name, nil); len(got) != 1 || got[0] != want {
			t.Fatalf("%s=%v, want one record of %v", name, got, want)
		}
	}
	for _, m := range []struct {
		name string
		dims map[string]string
	}{
		{"Webhooks", map[string]string{"Provider": "bolna", "Result": "first_terminal"}},
		{"Webhooks", map[string]string{"Provider": "bolna", "Result": "duplicate"}},
		{"FirstTransitions", map[string]string{"Provider": "bolna"}},
		{"DuplicatesAbsorbed", map[string]string{"Provider": "bolna"}},
		{"ProviderDialLatency", map[string]string{"Provider": "bolna"}},
		{"Rejected", map[string]string{"Reason": "invalid"}},
		{"StaleCallsSwept", nil},
		{"CallsReconciled", nil},
		{"ProviderLookupErrors", nil},
		{"KeptEventsApplied", nil},
		{"StuckSlots", nil},
		{"SlotsInUse", map[string]string{"Kind": "campaign"}},
		{"QueueDepth", nil},
		{"QueueOldestAgeSeconds", nil},
	} {
		if !metricSeen(recs, m.name, m.dims) {
			t.Fatalf("no %s metric with %v in the output", m.name, m.dims)
		}
	}
	applied := 0
	for _, rec := range recs {
		if rec["msg"] != "webhook applied" {
			continue
		}
		applied++
		for _, key := range []string{"request_id", "account", "provider", "call_id", "execution_id", "campaign", "event_type", "result"} {
			if _, ok := rec[key]; !ok {
				t.Fatalf("webhook log without %s: %v", key, rec)
			}
		}
	}
	if applied == 0 {
		t.Fatal("no webhook was logged")
	}
	out := s.out.String()
	for _, secret := range []string{apiKey, bolnaToken, "Thank you, goodbye"} {
		if strings.Contains(out, secret) {
			t.Fatalf("the output contains %q: secrets and transcripts stay out of the logs", secret)
		}
	}
}
