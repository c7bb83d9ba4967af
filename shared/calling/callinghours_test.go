package calling_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ringfence/ringfence/infra/simulator"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// Calling hours across the weekend of a DST change, with contacts in three zones (the campaign's
// New York, and Berlin and Sydney of their own): each call waits for its contact's window, is
// dialled when it opens, and a call whose window closed while it waited for a slot waits for the
// next window instead of being dialled or dropped.
func TestCallingHoursAcrossDSTInThreeZones(t *testing.T) {
	// One campaign slot, and a provider that stays silent: the test ends calls itself.
	s := MustStack(t, simulator.Options{Silent: true}, 5, 1)
	ctx := context.Background()
	at := func(v string) {
		tm, err := time.Parse(time.RFC3339, v)
		if err != nil {
			t.Fatal(err)
		}
		s.setStoreNow(func() time.Time { return tm })
	}
	// Friday 30 October 2026, 17:30 in New York: every window is closed. New York leaves DST on
	// Sunday 1 November, Berlin left it on 25 October, Sydney entered it on 4 October.
	at("2026-10-30T21:30:00Z")
	var c campaignView
	s.do(t, "POST", "/campaigns", `{"name":"hours","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100",
		"calling_hours":{"timezone":"America/New_York","days":["mon","tue","wed","thu","fri"],"start":"09:00","end":"17:00"},
		"contacts":[{"name":"NY","phone":"+12125550001"},
		            {"name":"Berlin","phone":"+4930555001","timezone":"Europe/Berlin"},
		            {"name":"Sydney","phone":"+61255550001","timezone":"Australia/Sydney"}]}`, 201, &c)
	var started struct{ Queued, Dialled int }
	s.do(t, "POST", "/campaigns/"+c.ID+"/start", "", 202, &started)
	if started.Queued != 3 || started.Dialled != 0 {
		t.Fatalf("start queued=%d dialled=%d, want 3 and 0", started.Queued, started.Dialled)
	}
	callOf := func(i int) ringfence.Call {
		t.Helper()
		call, err := s.env.Store.GetCall(ctx, "call_"+strings.TrimPrefix(c.ID, "cmp_")+"_"+dynamo.ContactID(i))
		if err != nil {
			t.Fatal(err)
		}
		return call
	}
	drain := func(want int) {
		t.Helper()
		n, err := s.fn("dispatcher").Calling.Drain(ctx, "acct_test", ringfence.SlotCampaign, 5)
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Fatalf("dialled %d, want %d", n, want)
		}
	}
	end := func(i int) {
		t.Helper()
		call := callOf(i)
		ev := ringfence.CallEvent{Provider: ringfence.ProviderBolna, CallID: call.ID, ProviderCallID: call.ProviderCallID, Status: ringfence.StatusCompleted}
		if _, _, err := s.fn("bolna-webhook").Calling.ApplyEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}

	at("2026-11-01T21:59:00Z") // Sunday; Monday 08:59 in Sydney.
	drain(0)
	at("2026-11-01T22:00:00Z") // Monday 09:00 AEDT.
	drain(1)
	if callOf(2).ProviderCallID == "" {
		t.Fatalf("the Sydney contact was not the one dialled")
	}
	at("2026-11-02T08:00:00Z") // Monday 09:00 CET in Berlin (08:00 UTC, no longer 07:00), but no slot is free.
	drain(0)
	at("2026-11-02T17:00:00Z") // 18:00 in Berlin: closed; 12:00 EST in New York: open.
	end(2)                     // Frees the slot; its webhook's drain steps over Berlin and dials New York.
	if callOf(0).ProviderCallID == "" {
		t.Fatalf("the New York contact was not dialled when the slot freed")
	}
	if got := callOf(1); got.Status != ringfence.StatusQueued || !strings.HasPrefix(got.QueueKey, "2026-11-03T08:00:00.000Z#") {
		t.Fatalf("Berlin call=%s with queue key %s, want queued for Tuesday 09:00 CET", got.Status, got.QueueKey)
	}
	at("2026-11-03T07:00:00Z")
	end(0)
	drain(0)
	at("2026-11-03T08:00:00Z")
	drain(1)
	for i := range 3 {
		call := callOf(i)
		if call.DialStartedAt.IsZero() || !call.Hours.Open(call.DialStartedAt) {
			t.Fatalf("contact %d dialled at %s, outside its hours %+v", i, call.DialStartedAt, call.Hours)
		}
	}
	if placed := s.sim.Stats().Placed; placed != 3 {
		t.Fatalf("placed=%d, want 3", placed)
	}
}
