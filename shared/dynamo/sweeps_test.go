package dynamo_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// A slot whose call no longer holds it (here, the call item was lost, as in data carried over
// from the system ringfence replaces) is released once, however many sweeps find it at once.
func TestOrphanSlotIsReleasedOnce(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	c, err := env.Store.CreateCallWithSlot(ctx, directCall(1), ringfence.SlotDirect, 5)
	if err != nil {
		t.Fatal(err)
	}
	// Break the data behind the store's back: the only write in the tests that does.
	_, err = env.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(env.Table),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "CALL#" + c.ID}, "sk": &types.AttributeValueMemberS{Value: "CALL"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	slots, err := env.Store.SlotsHeldSince(ctx, time.Now().Add(time.Minute))
	if err != nil || len(slots) != 1 || slots[0].CallID != c.ID {
		t.Fatalf("slots=%+v err=%v, want the one slot", slots, err)
	}
	var released atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := env.Store.ReleaseOrphanSlot(ctx, slots[0])
			if err != nil {
				t.Error(err)
			}
			if ok {
				released.Add(1)
			}
		}()
	}
	wg.Wait()
	inUse, held := MustSlotsInUse(t, env.Store, "acct", ringfence.SlotDirect)
	if released.Load() != 1 || inUse != 0 || len(held) != 0 {
		t.Fatalf("released=%d in_use=%d held=%d, want 1, 0, 0", released.Load(), inUse, len(held))
	}
}

// A slot whose call still holds it is never released as an orphan.
func TestHeldSlotIsNotAnOrphan(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	c, err := env.Store.CreateCallWithSlot(ctx, directCall(1), ringfence.SlotDirect, 5)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := env.Store.ReleaseOrphanSlot(ctx, ringfence.Slot{AccountID: "acct", Kind: ringfence.SlotDirect, CallID: c.ID})
	inUse, held := MustSlotsInUse(t, env.Store, "acct", ringfence.SlotDirect)
	if err != nil || ok || inUse != 1 || len(held) != 1 {
		t.Fatalf("released=%v err=%v in_use=%d held=%d, want the slot kept", ok, err, inUse, len(held))
	}
}

// Invariant 10 (the provider is the source of truth): a webhook that arrives between the sweep's
// read and its write wins. The test fixes the interleaving: the sweep reads a quiet call, the
// provider then reports it in progress, and only then does the sweep write. The sweep's write
// must find the call moved and stand down, even after it re-reads the call.
func TestWebhookBetweenSweepReadAndWriteWins(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	_, calls := MustCampaignWithCalls(t, env.Store, 1)
	c := calls[0]

	seen, err := env.Store.GetCall(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	progress := ringfence.CallEvent{Provider: c.Provider, ProviderCallID: c.ProviderCallID, Status: ringfence.StatusInProgress}
	if _, r, err := env.Store.ApplyCallEvent(ctx, c.ID, progress); err != nil || r != ringfence.ResultAdvanced {
		t.Fatalf("in-progress webhook: %v, %v; want advanced", r, err)
	}
	sweep := ringfence.CallEvent{Provider: c.Provider, Status: ringfence.StatusFailed, EndReason: ringfence.EndReasonStale, Sweep: true, SeenActivity: seen.LastActivity}
	_, r, err := env.Store.ApplyCallEventFrom(ctx, seen, sweep)
	if err != nil {
		t.Fatal(err)
	}
	if r != ringfence.ResultDuplicate {
		t.Fatalf("sweep result=%v, want %v (the webhook won)", r, ringfence.ResultDuplicate)
	}
	got, err := env.Store.GetCall(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != ringfence.StatusInProgress || got.EndedStale {
		t.Fatalf("call status=%v ended_stale=%v, want in-progress and not swept", got.Status, got.EndedStale)
	}
}

// Invariant 10 (the provider is the source of truth): when the provider says a quiet call is still
// live, the sweep moves the call's activity forward to its own clock, never back over what a
// webhook wrote since. A check older than the call's latest activity changes nothing, so the
// call is not judged quiet again before its time; a later one moves the activity forward.
func TestLiveCallCheckNeverMovesActivityBack(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	_, calls := MustCampaignWithCalls(t, env.Store, 1)
	c := calls[0]
	progress := ringfence.CallEvent{Provider: c.Provider, ProviderCallID: c.ProviderCallID, Status: ringfence.StatusInProgress}
	if _, r, err := env.Store.ApplyCallEvent(ctx, c.ID, progress); err != nil || r != ringfence.ResultAdvanced {
		t.Fatalf("in-progress webhook: %v, %v; want advanced", r, err)
	}
	moved, err := env.Store.GetCall(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	latest, err := time.Parse(time.RFC3339Nano, moved.LastActivity)
	if err != nil {
		t.Fatalf("activity %q: %v", moved.LastActivity, err)
	}

	wrote, err := env.Store.MarkCallChecked(ctx, c.ID, latest.Add(-time.Minute), ringfence.StatusInProgress)
	if err != nil {
		t.Fatal(err)
	}
	got, err := env.Store.GetCall(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if wrote || got.LastActivity != moved.LastActivity {
		t.Fatalf("an older check wrote=%v, activity %s; want no write and %s kept", wrote, got.LastActivity, moved.LastActivity)
	}

	wrote, err = env.Store.MarkCallChecked(ctx, c.ID, latest.Add(time.Minute), ringfence.StatusInProgress)
	if err != nil {
		t.Fatal(err)
	}
	got, err = env.Store.GetCall(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if at, _ := time.Parse(time.RFC3339Nano, got.LastActivity); !wrote || !at.Equal(latest.Add(time.Minute)) {
		t.Fatalf("a later check wrote=%v, activity %s; want it moved to %s", wrote, got.LastActivity, latest.Add(time.Minute))
	}
}
