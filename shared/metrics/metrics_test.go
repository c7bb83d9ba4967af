package metrics_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/ringfence/ringfence/shared/metrics"
)

// A record is an Embedded Metric Format line CloudWatch can extract: the _aws block names the
// metric and its dimensions, and the line carries their values.
func TestRecordIsEmbeddedMetricFormat(t *testing.T) {
	var buf bytes.Buffer
	metrics.New(&buf, "bolna-webhook").Count(metrics.Webhooks, 1, "Provider", "bolna", "Result", "duplicate")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not one JSON line: %q", buf.String())
	}
	aws := rec["_aws"].(map[string]any)
	cw := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
	dims := cw["Dimensions"].([]any)[0].([]any)
	if cw["Namespace"] != "ringfence" || len(dims) != 3 || dims[0] != "Function" || aws["Timestamp"] == nil {
		t.Fatalf("_aws=%v", aws)
	}
	if rec["Webhooks"] != 1.0 || rec["Provider"] != "bolna" || rec["Result"] != "duplicate" || rec["Function"] != "bolna-webhook" {
		t.Fatalf("record=%v", rec)
	}
	var nilRecorder *metrics.Recorder
	nilRecorder.Count(metrics.Webhooks, 1) // Must not panic.
}
