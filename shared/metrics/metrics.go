// Package metrics records ringfence's metrics in CloudWatch's Embedded Metric Format: one JSON
// line per measurement, written with the function's logs, from which CloudWatch Logs extracts the
// metric. Nothing is sent anywhere; a function only writes to its output.
package metrics

import (
	"encoding/json"
	"io"
	"sort"
	"sync"
	"time"
)

// Namespace is the CloudWatch namespace of every ringfence metric.
const Namespace = "ringfence"

// The metrics, by name. Their dimensions are listed where they are recorded.
const (
	Webhooks             = "Webhooks"             // Provider, Result
	FirstTransitions     = "FirstTransitions"     // Provider
	DuplicatesAbsorbed   = "DuplicatesAbsorbed"   // Provider
	Rejected             = "Rejected"             // Reason
	StaleCallsSwept      = "StaleCallsSwept"      // (none)
	CallsReconciled      = "CallsReconciled"      // (none): quiet calls ended with their provider's report
	ProviderLookupErrors = "ProviderLookupErrors" // (none): quiet calls whose provider could not be asked
	KeptEventsApplied    = "KeptEventsApplied"    // (none)
	SlotsInUse           = "SlotsInUse"           // Kind
	StuckSlots           = "StuckSlots"           // (none)
	QueueDepth           = "QueueDepth"           // (none)
	QueueOldestAge       = "QueueOldestAgeSeconds"
	DialErrors           = "ProviderDialErrors"  // Provider, Kind (refused or unknown)
	DialLatency          = "ProviderDialLatency" // Provider
)

// Units.
const (
	Count        = "Count"
	Seconds      = "Seconds"
	Milliseconds = "Milliseconds"
)

// Recorder writes metric records. A nil *Recorder records nothing, so code that may run without
// one (tests, tools) need not check.
type Recorder struct {
	mu       sync.Mutex
	w        io.Writer
	function string
	now      func() time.Time
}

// New returns a recorder writing to w; every record carries the function's name as a dimension.
func New(w io.Writer, function string) *Recorder {
	return &Recorder{w: w, function: function, now: time.Now}
}

// Record writes one measurement with its unit and dimensions (name, value pairs).
func (r *Recorder) Record(name string, value float64, unit string, dims ...string) {
	if r == nil {
		return
	}
	rec := map[string]any{"Function": r.function, name: value}
	keys := []string{"Function"}
	for i := 0; i+1 < len(dims); i += 2 {
		rec[dims[i]] = dims[i+1]
		keys = append(keys, dims[i])
	}
	sort.Strings(keys[1:])
	rec["_aws"] = map[string]any{
		"Timestamp": r.now().UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  Namespace,
			"Dimensions": [][]string{keys},
			"Metrics":    []any{map[string]string{"Name": name, "Unit": unit}},
		}},
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.w.Write(append(b, '\n'))
}

// Count records one occurrence (or value occurrences) of something.
func (r *Recorder) Count(name string, value float64, dims ...string) {
	r.Record(name, value, Count, dims...)
}

// The metrics of events sent to the business's own endpoints.
const (
	EventDeliveries      = "EventDeliveries"      // Result (delivered, retrying, failed)
	EventDeliveryLatency = "EventDeliveryLatency" // (none): from the change to its delivery
	EndpointFailures     = "EndpointFailures"     // (none): deliveries that failed for good
)
