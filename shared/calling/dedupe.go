package calling

import (
	"context"
	"sort"

	"github.com/ringfence/ringfence/shared/ringfence"
)

// Duplicate is a queue entry that places the same scheduled call (customer, type, local date) as
// an older one, which is kept.
type Duplicate struct {
	Entry ringfence.QueueEntry
	Kept  ringfence.QueueEntry
}

// DedupeQueue finds queue entries that place the same scheduled call as an older entry (data
// imported from a system without ringfence's idempotency keys can hold them), keeps the oldest of
// each group, and, when apply is set, removes the others: each removed entry's call is cancelled
// through the terminal transition, which deletes its entry in the same write. Without apply it
// only reports. Running it twice, or while the dispatcher runs, removes each duplicate once.
func (s *Service) DedupeQueue(ctx context.Context, apply bool) ([]Duplicate, error) {
	queues, err := s.store.QueuedAccounts(ctx)
	if err != nil {
		return nil, err
	}
	var dups []Duplicate
	for _, q := range queues {
		entries, err := s.store.QueueEntries(ctx, q.AccountID, q.Kind)
		if err != nil {
			return dups, err
		}
		sort.SliceStable(entries, func(i, j int) bool { return entries[i].EnqueuedAt < entries[j].EnqueuedAt })
		oldest := map[string]ringfence.QueueEntry{}
		for _, e := range entries {
			if e.Schedule == nil {
				continue
			}
			kept, seen := oldest[e.Schedule.Key()]
			if !seen {
				oldest[e.Schedule.Key()] = e
				continue
			}
			dups = append(dups, Duplicate{Entry: e, Kept: kept})
			if apply {
				if err := s.removeDuplicate(ctx, e, kept); err != nil {
					return dups, err
				}
			}
		}
	}
	return dups, nil
}

func (s *Service) removeDuplicate(ctx context.Context, e, kept ringfence.QueueEntry) error {
	c, err := s.store.GetCall(ctx, e.CallID)
	if ringfence.ErrorCode(err) == ringfence.ENOTFOUND {
		return s.store.DeleteQueueEntry(ctx, e)
	}
	if err != nil {
		return err
	}
	_, _, err = s.apply(ctx, c.ID, ringfence.CallEvent{Provider: c.Provider, Status: ringfence.StatusCancelled, EndReason: "duplicate of " + kept.CallID})
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "duplicate queue entry removed", "call_id", e.CallID, "kept", kept.CallID, "customer", e.Schedule.CustomerID, "call_type", e.Schedule.Type, "local_date", e.Schedule.LocalDate)
	return nil
}
