package outbound

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/metrics"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// AttemptTimeout bounds one attempt: an endpoint that has not answered by then has failed it.
const AttemptTimeout = 10 * time.Second

// lease is how long a claimed delivery stays claimed: longer than an attempt can take, so that
// only a deliverer that died mid-attempt lets another make the attempt again.
const lease = time.Minute

// waitForEarlier is how long a delivery waits, uncounted, for an earlier event about the same
// call to reach the same endpoint first.
const waitForEarlier = 30 * time.Second

// parallelAttempts bounds the HTTP requests one run makes at once, by default.
const parallelAttempts = 16

// Deliverer sends the outbox's events to the endpoints that receive them. It runs on a
// schedule; overlapping runs are safe, as every step is claimed by a conditional write.
type Deliverer struct {
	Store *dynamo.Store
	// Render returns an event's body, {"type", "timestamp", "data"}, with the call or campaign as
	// the API shows it.
	Render func(context.Context, ringfence.Event) ([]byte, error)
	// Client makes the attempts: NewHTTPClient's, which dials only addresses its Policy allows,
	// times out after AttemptTimeout and follows no redirects.
	Client  *http.Client
	Log     *slog.Logger
	Metrics *metrics.Recorder
	// Now is the clock. Tests replace it to move time.
	Now func() time.Time
	// Parallel bounds the attempts made at once; 1 makes them one after another, in the calling
	// goroutine, as the crash tests need.
	Parallel int
}

// NewDeliverer returns a deliverer whose HTTP client sends only to public addresses (a local
// run replaces it with one that also reaches a receiver on loopback).
func NewDeliverer(store *dynamo.Store, render func(context.Context, ringfence.Event) ([]byte, error), log *slog.Logger) *Deliverer {
	return &Deliverer{Store: store, Render: render, Client: NewHTTPClient(Policy{}), Log: log, Now: time.Now, Parallel: parallelAttempts}
}

// Report says what one run did.
type Report struct {
	Events    int // events sent for the first time (their deliveries created)
	Attempts  int // HTTP requests made
	Delivered int
	Retrying  int
	Failed    int
	Waiting   int // deliveries left waiting for an earlier event about the same call
}

// DeliverScheduled is the deliverer function's handler, run by EventBridge every minute.
func (d *Deliverer) DeliverScheduled(ctx context.Context, _ events.EventBridgeEvent) error {
	r, err := d.Run(ctx)
	if err != nil {
		return err
	}
	if r.Attempts > 0 || r.Events > 0 {
		d.Log.InfoContext(ctx, "events delivered", "events", r.Events, "attempts", r.Attempts,
			"delivered", r.Delivered, "retrying", r.Retrying, "failed", r.Failed, "waiting", r.Waiting)
	}
	return nil
}

// maxPerRun bounds the events and deliveries one run takes on, so that a run ends well within
// the function's timeout however large a backlog grew; the next run takes the rest.
const maxPerRun = 2000

// Run sends every event and delivery that is due: new events get one delivery per endpoint
// that receives them, and every due delivery gets an attempt. Events other than call.corrected
// go first, so that a call's correction follows its end in the same run.
func (d *Deliverer) Run(ctx context.Context) (Report, error) {
	var r Report
	work, err := d.Store.DueOutbox(ctx, d.Now(), maxPerRun)
	if err != nil {
		return r, err
	}
	run := &run{Deliverer: d, endpoints: map[string][]ringfence.Endpoint{}}
	var mu sync.Mutex
	// An event that cannot be sent now holds back no other: the run goes on, and reports the
	// first error at its end, so that the function's errors show it and the next run tries again.
	fanOutErr := d.each(len(work.Events), func(i int) error {
		created, err := run.fanOut(ctx, work.Events[i])
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			d.Log.ErrorContext(ctx, "event not sent", "event", work.Events[i].ID, "error", err.Error())
			return err
		}
		r.Events++
		work.Deliveries = append(work.Deliveries, created...)
		return nil
	})
	var first, after []ringfence.Delivery
	for _, del := range work.Deliveries {
		if del.EventType == ringfence.EventCallCorrected {
			after = append(after, del)
		} else {
			first = append(first, del)
		}
	}
	err = fanOutErr
	for _, batch := range [][]ringfence.Delivery{first, after} {
		batchErr := d.each(len(batch), func(i int) error {
			outcome, err := run.attempt(ctx, batch[i])
			mu.Lock()
			defer mu.Unlock()
			r.count(outcome)
			return err
		})
		if err == nil {
			err = batchErr
		}
	}
	return r, err
}

// each calls fn for 0..n-1, d.Parallel at a time (one after another, in the calling goroutine,
// when Parallel is 1), and returns the first error once every call has returned.
func (d *Deliverer) each(n int, fn func(i int) error) error {
	if d.Parallel <= 1 {
		var firstErr error
		for i := range n {
			if err := fn(i); err != nil && firstErr == nil {
				firstErr = err
			}
		}
		return firstErr
	}
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		slots    = make(chan struct{}, d.Parallel)
	)
	for i := range n {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			if err := fn(i); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// count adds an attempt's outcome to the report.
func (r *Report) count(outcome string) {
	switch outcome {
	case "":
	case "waiting":
		r.Waiting++
	case ringfence.DeliveryDelivered:
		r.Attempts++
		r.Delivered++
	case ringfence.DeliveryFailed:
		r.Attempts++
		r.Failed++
	default:
		r.Attempts++
		r.Retrying++
	}
}

// run is one run of the deliverer: it reads each account's endpoints once.
type run struct {
	*Deliverer
	mu        sync.Mutex
	endpoints map[string][]ringfence.Endpoint
}

// endpointsOf returns an account's endpoints, read once per run.
func (r *run) endpointsOf(ctx context.Context, accountID string) ([]ringfence.Endpoint, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.endpoints[accountID]; ok {
		return e, nil
	}
	e, err := r.Store.ListEndpoints(ctx, accountID)
	if err != nil {
		return nil, err
	}
	r.endpoints[accountID] = e
	return e, nil
}

// fanOut fixes an event's body and creates its deliveries. Another run that did it first is not
// an error: it has the deliveries to make.
func (r *run) fanOut(ctx context.Context, ev ringfence.Event) ([]ringfence.Delivery, error) {
	body, err := r.Render(ctx, ev)
	if err != nil {
		return nil, err
	}
	endpoints, err := r.endpointsOf(ctx, ev.AccountID)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range endpoints {
		if e.Subscribes(ev.Type) {
			ids = append(ids, e.ID)
		}
	}
	created, err := r.Store.FanOut(ctx, ev, string(body), ids)
	if ringfence.ErrorCode(err) == ringfence.ECONFLICT {
		return nil, nil
	}
	return created, err
}

// mustWait reports whether a call.corrected must wait for the call's call.ended to reach the
// endpoint first: while that delivery is pending, or while the event has not been sent at all.
// A call.ended that has no delivery to this endpoint (it was registered after the call ended)
// holds nothing back.
func (r *run) mustWait(ctx context.Context, del ringfence.Delivery) (bool, error) {
	endedID := ringfence.EventID(ringfence.EventCallEnded, del.SubjectID)
	ended, err := r.Store.GetDelivery(ctx, endedID, del.EndpointID)
	if err == nil {
		return ended.Status == ringfence.DeliveryPending, nil
	}
	if ringfence.ErrorCode(err) != ringfence.ENOTFOUND {
		return false, err
	}
	ev, err := r.Store.GetEvent(ctx, endedID)
	if ringfence.ErrorCode(err) == ringfence.ENOTFOUND {
		return false, nil
	}
	return err == nil && ev.Body == "", err
}

// attempt makes one attempt of a delivery, if it can claim it, and records what came of it:
// delivered on any 2xx, otherwise due again after the backoff, or failed after the last attempt.
// It returns the delivery's status afterwards, "waiting" when it must wait for an earlier event,
// or "" when another run had claimed it.
func (r *run) attempt(ctx context.Context, del ringfence.Delivery) (string, error) {
	now := r.Now()
	if del.EventType == ringfence.EventCallCorrected {
		// A correction must not overtake the end it corrects on its way to the endpoint.
		wait, err := r.mustWait(ctx, del)
		if err != nil {
			return "", err
		}
		if wait {
			return "waiting", r.Store.Postpone(ctx, del, now.Add(waitForEarlier))
		}
	}
	claimed, err := r.Store.ClaimDelivery(ctx, del, now.Add(lease))
	if err != nil || !claimed {
		return "", err
	}
	attempt := ringfence.DeliveryAttempt{
		EndpointID: del.EndpointID, EventID: del.EventID, EventType: del.EventType,
		Attempt: del.Attempts + 1, At: now.UTC().Format("2006-01-02T15:04:05.000Z"),
	}
	endpoints, err := r.endpointsOf(ctx, del.AccountID)
	if err != nil {
		return "", err
	}
	i := slices.IndexFunc(endpoints, func(e ringfence.Endpoint) bool { return e.ID == del.EndpointID })
	if i < 0 {
		attempt.Error = "the endpoint was deleted"
		return r.record(ctx, del, attempt, ringfence.DeliveryFailed, now)
	}
	endpoint := endpoints[i]
	ev, err := r.Store.GetEvent(ctx, del.EventID)
	if err != nil {
		return "", err
	}
	attempt.StatusCode, attempt.Error = r.send(ctx, endpoint, ev, now)
	if attempt.StatusCode >= 200 && attempt.StatusCode < 300 {
		r.Metrics.Record(metrics.EventDeliveryLatency, r.Now().Sub(parseStamp(ev.CreatedAt)).Seconds(), metrics.Seconds)
		return r.record(ctx, del, attempt, ringfence.DeliveryDelivered, now)
	}
	wait, more := ringfence.NextAttemptAfter(attempt.Attempt)
	if !more {
		r.Log.WarnContext(ctx, "event not delivered after the last attempt", "event", ev.ID, "endpoint", endpoint.ID,
			"account", endpoint.AccountID, "status_code", attempt.StatusCode, "error", attempt.Error)
		r.Metrics.Count(metrics.EndpointFailures, 1)
		return r.record(ctx, del, attempt, ringfence.DeliveryFailed, now)
	}
	return r.record(ctx, del, attempt, ringfence.DeliveryPending, now.Add(wait))
}

func (d *Deliverer) record(ctx context.Context, del ringfence.Delivery, a ringfence.DeliveryAttempt, status string, next time.Time) (string, error) {
	if err := d.Store.RecordAttempt(ctx, del, a, status, next); err != nil {
		return "", err
	}
	result := status
	if status == ringfence.DeliveryPending {
		result = "retrying"
	}
	d.Metrics.Count(metrics.EventDeliveries, 1, "Result", result)
	return status, nil
}

// send makes the HTTP request, signed with the endpoint's current secret and timestamped now;
// the webhook-id is the event's id on every attempt, so the receiver can drop repeats. It returns
// the response's status code (0 when none came back) and, for a failure, its class (FailureClass,
// or "status N"): the account sees that, never an error's text.
func (d *Deliverer) send(ctx context.Context, e ringfence.Endpoint, ev ringfence.Event, now time.Time) (int, string) {
	body := []byte(ev.Body)
	sig, err := Sign(e.Secret, ev.ID, now, body)
	if err != nil {
		d.Log.ErrorContext(ctx, "event not signed", "event", ev.ID, "endpoint", e.ID, "error", err.Error())
		return 0, "internal"
	}
	ctx, cancel := context.WithTimeout(ctx, AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, strings.NewReader(ev.Body))
	if err != nil {
		return 0, "invalid url"
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ringfence-webhooks/1")
	req.Header.Set(HeaderID, ev.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)
	resp, err := d.Client.Do(req)
	if err != nil {
		d.Log.InfoContext(ctx, "delivery attempt failed", "event", ev.ID, "endpoint", e.ID, "account", e.AccountID, "error", err.Error())
		return 0, FailureClass(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return resp.StatusCode, statusClass(resp.StatusCode)
	}
	return resp.StatusCode, ""
}

func parseStamp(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}
