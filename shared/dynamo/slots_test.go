package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/ringfence"
)

func directCall(i int) ringfence.Call {
	return ringfence.Call{ID: dynamo.NewID("call"), AccountID: "acct", Provider: ringfence.ProviderBolna, AgentID: "a",
		FromNumber: "+14155550100", ToNumber: fmt.Sprintf("+1415556%04d", i)}
}

// 1,000 reservations at once against a limit of 10 grant exactly 10.
func TestConcurrentReservationsNeverPassTheLimit(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	var granted, refused atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 100)
	for i := range 1000 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			_, err := env.Store.CreateCallWithSlot(ctx, directCall(i), ringfence.SlotDirect, 10)
			switch {
			case err == nil:
				granted.Add(1)
			case errors.Is(err, ringfence.ErrAtLimit):
				refused.Add(1)
			default:
				t.Errorf("CreateCallWithSlot: %v", err)
			}
		}()
	}
	wg.Wait()
	if granted.Load() != 10 || refused.Load() != 990 {
		t.Fatalf("granted=%d refused=%d, want 10 and 990", granted.Load(), refused.Load())
	}
	counts, slots, err := env.Store.ListSlots(ctx, "acct")
	if err != nil {
		t.Fatal(err)
	}
	if counts[ringfence.SlotDirect] != 10 || len(slots) != 10 {
		t.Fatalf("in_use=%d held=%d, want 10 and 10", counts[ringfence.SlotDirect], len(slots))
	}
}

// Releasing the same call twice, and then by its provider's id, frees one slot.
func TestReleaseFreesOneSlot(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	c, err := env.Store.CreateCallWithSlot(ctx, directCall(1), ringfence.SlotDirect, 5)
	if err != nil {
		t.Fatal(err)
	}
	other, err := env.Store.CreateCallWithSlot(ctx, directCall(2), ringfence.SlotDirect, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Store.RecordProviderCallID(ctx, c.ID, "exec-1"); err != nil {
		t.Fatal(err)
	}
	_, slots := MustSlotsInUse(t, env.Store, "acct", ringfence.SlotDirect)
	if len(slots) != 2 || (slots[0].ProviderCallID != "exec-1" && slots[1].ProviderCallID != "exec-1") {
		t.Fatalf("slots=%+v, want the execution id on the slot", slots)
	}
	var wg sync.WaitGroup
	var released atomic.Int64
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ok bool
			var err error
			if i%2 == 0 {
				ok, err = env.Store.ReleaseSlot(ctx, c.ID)
			} else {
				ok, err = env.Store.ReleaseSlotByProviderCallID(ctx, ringfence.ProviderBolna, "exec-1")
			}
			if err != nil {
				t.Errorf("release: %v", err)
			}
			if ok {
				released.Add(1)
			}
		}()
	}
	wg.Wait()
	inUse, slots := MustSlotsInUse(t, env.Store, "acct", ringfence.SlotDirect)
	if released.Load() != 1 || inUse != 1 || len(slots) != 1 || slots[0].CallID != other.ID {
		t.Fatalf("released=%d in_use=%d held=%+v, want 1, 1 and only %s", released.Load(), inUse, slots, other.ID)
	}
	// The call's terminal transition after the release releases nothing more.
	if _, _, err := env.Store.ApplyCallEvent(ctx, c.ID, ringfence.CallEvent{Provider: ringfence.ProviderBolna, Status: ringfence.StatusCompleted}); err != nil {
		t.Fatal(err)
	}
	if inUse, _ = MustSlotsInUse(t, env.Store, "acct", ringfence.SlotDirect); inUse != 1 {
		t.Fatalf("in_use=%d after the terminal event, want 1", inUse)
	}
}

// The first terminal transition of a call that holds a slot releases it in the same write.
func TestTerminalTransitionReleasesTheSlot(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	c, err := env.Store.CreateCallWithSlot(ctx, directCall(1), ringfence.SlotDirect, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.CreateCallWithSlot(ctx, directCall(2), ringfence.SlotDirect, 1); !errors.Is(err, ringfence.ErrAtLimit) {
		t.Fatalf("second reservation err=%v, want ErrAtLimit", err)
	}
	for range 3 {
		if _, _, err := env.Store.ApplyCallEvent(ctx, c.ID, ringfence.CallEvent{Provider: ringfence.ProviderBolna, Status: ringfence.StatusBusy}); err != nil {
			t.Fatal(err)
		}
	}
	inUse, slots := MustSlotsInUse(t, env.Store, "acct", ringfence.SlotDirect)
	if inUse != 0 || len(slots) != 0 {
		t.Fatalf("in_use=%d held=%d, want 0 and 0", inUse, len(slots))
	}
	if _, err := env.Store.CreateCallWithSlot(ctx, directCall(3), ringfence.SlotDirect, 1); err != nil {
		t.Fatalf("reservation after release: %v", err)
	}
}

// Two dispatchers that see the same queue entry: exactly one gets its lease.
func TestQueueLeaseIsExclusive(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	c, err := env.Store.EnqueueCall(ctx, directCall(1), ringfence.SlotDirect)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := env.Store.NextQueued(ctx, "acct", ringfence.SlotDirect, 10)
	if err != nil || len(entries) != 1 || entries[0].CallID != c.ID {
		t.Fatalf("entries=%+v err=%v", entries, err)
	}
	var won atomic.Int64
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := env.Store.ClaimQueued(ctx, entries[0], fmt.Sprintf("owner-%d", i), 60e9)
			if err != nil {
				t.Error(err)
			}
			if ok {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("leases granted=%d, want 1", won.Load())
	}
}
