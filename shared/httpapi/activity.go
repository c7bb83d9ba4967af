package httpapi

import (
	"context"
	"sync"
	"time"

	"github.com/ringfence/ringfence/shared/dynamo"
)

// activityFlushEvery is how often a process adds the deliveries it counted to the table.
const activityFlushEvery = 5 * time.Second

// activityCounter counts webhook deliveries in memory, per account and result, and adds them to
// the account's hourly activity at most every few seconds: the dashboard's "duplicates absorbed"
// costs a delivery no request. Counts of a process that stops before its next flush are lost; the
// dashboard shows them as "about", and the exact numbers are the metrics'.
type activityCounter struct {
	mu        sync.Mutex
	counts    map[string]dynamo.Activity
	lastFlush time.Time
}

func (a *activityCounter) add(account, result string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.counts == nil {
		a.counts = map[string]dynamo.Activity{}
	}
	if a.counts[account] == nil {
		a.counts[account] = dynamo.Activity{}
	}
	a.counts[account]["deliveries"]++
	a.counts[account][result]++
}

// flushIfDue writes the counts when the last flush is old enough (or force is set).
func (a *activityCounter) flushIfDue(ctx context.Context, store *dynamo.Store, now time.Time, force bool) error {
	a.mu.Lock()
	if !force && now.Sub(a.lastFlush) < activityFlushEvery || len(a.counts) == 0 {
		a.mu.Unlock()
		return nil
	}
	counts := a.counts
	a.counts, a.lastFlush = nil, now
	a.mu.Unlock()
	for account, c := range counts {
		if err := store.AddActivity(ctx, account, now, c); err != nil {
			return err
		}
	}
	return nil
}
