package calling_test

import (
	"context"
	"fmt"
	"github.com/ringfence/ringfence/shared/app"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringfence/ringfence/infra/simulator"
	"github.com/ringfence/ringfence/shared/calling"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/ringfence"
	"github.com/ringfence/ringfence/shared/vapi"
)

// clock is a settable clock shared by the store and the service under test.
type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }
func (s *stack) useClock(c *clock) {
	s.each(func(a *app.App) { a.Store.Now, a.Calling.Now, a.HTTP.Now = c.Now, c.Now, time.Now })
	s.env.Store.Now = c.Now
}
func vapiCustomer(i int) ringfence.Customer {
	return ringfence.Customer{
		ID: fmt.Sprintf("cus_%05d", i), AccountID: "acct_test", Name: fmt.Sprintf("Customer %d", i), Phone: fmt.Sprintf("+1415557%04d", i),
		Timezone: "UTC", Provider: ringfence.ProviderVapi, AgentID: "assistant-1", FromNumber: "phone-number-1", Paid: true, PhoneValidated: true,
	}
}

// MustCustomers creates customers at the clock's time.
func MustCustomers(t *testing.T, s *stack, customers []ringfence.Customer, next func(ringfence.Customer) time.Time) {
	t.Helper()
	parallel(t, len(customers), func(i int) error {
		_, err := s.env.Store.CreateCustomer(context.Background(), customers[i], next(customers[i]))
		return err
	})
}

// 1,000 customers, four scheduler runs at once and two dispatchers at once: exactly one welcome
// call each.
func TestWelcomeCallsArePlacedOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 customers are skipped in -short mode")
	}
	s := MustStack(t, simulator.Options{Silent: true}, 2000, 10)
	c := &clock{}
	c.Set(time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC))
	s.useClock(c)
	customers := make([]ringfence.Customer, 1000)
	for i := range customers {
		customers[i] = vapiCustomer(i)
	}
	MustCustomers(t, s, customers, func(ringfence.Customer) time.Time { return time.Time{} })
	ctx := context.Background()
	if r, err := s.fn("scheduler").Calling.Schedule(ctx, c.Now().Add(10*time.Minute), 15*time.Minute); err != nil || r.Enqueued != 0 {
		t.Fatalf("10 minutes after sign-up: %+v, %v; want nothing due yet", r, err)
	}
	c.Add(21 * time.Minute)
	var wg sync.WaitGroup
	var enqueued atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := s.fn("scheduler").Calling.Schedule(ctx, c.Now(), 15*time.Minute)
			if err != nil {
				t.Error(err)
			}
			enqueued.Add(int64(r.Enqueued))
		}()
	}
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.fn("dispatcher").Calling.DrainAll(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if _, err := s.fn("dispatcher").Calling.DrainAll(ctx); err != nil {
		t.Fatal(err)
	}
	st := s.sim.Stats()
	if enqueued.Load() != 1000 || st.Placed != 1000 || len(st.DialsPerNumber) != 1000 {
		t.Fatalf("enqueued=%d placed=%d numbers=%d, want 1000 each", enqueued.Load(), st.Placed, len(st.DialsPerNumber))
	}
	for number, n := range st.DialsPerNumber {
		if n != 1 {
			t.Fatalf("%s got %d welcome calls, want 1", number, n)
		}
	}
	// A day later nothing is due: the welcome call is done.
	c.Add(24 * time.Hour)
	if r, err := s.fn("scheduler").Calling.Schedule(ctx, c.Now(), 15*time.Minute); err != nil || r.Enqueued != 0 {
		t.Fatalf("a day later: %+v, %v; want nothing enqueued", r, err)
	}
}

// Daily calls over three days, the scheduler every 15 minutes (twice at once) and the dispatcher
// every minute: one call per customer per local day, including a customer whose clocks go back an
// hour in the middle (New York, 2026-11-01).
func TestDailyCallsOncePerLocalDay(t *testing.T) {
	s := MustStack(t, simulator.Options{CallLength: time.Millisecond}, 50, 10)
	c := &clock{}
	start := time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC)
	c.Set(start)
	s.useClock(c)
	zones := []string{"America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Sydney", "UTC"}
	var customers []ringfence.Customer
	for i, zone := range zones {
		cu := vapiCustomer(i)
		cu.Timezone, cu.DailyCallTime = zone, "09:00"
		customers = append(customers, cu)
	}
	MustCustomers(t, s, customers, func(cu ringfence.Customer) time.Time {
		loc, _ := cu.Location()
		next, _, _ := ringfence.NextDailyCall(cu.DailyCallTime, loc, start)
		return next
	})
	ctx := context.Background()
	for c.Now().Before(start.Add(72 * time.Hour)) {
		if c.Now().Minute()%15 == 0 {
			var wg sync.WaitGroup
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := s.fn("scheduler").Calling.Schedule(ctx, c.Now(), 15*time.Minute); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
		}
		if _, err := s.fn("dispatcher").Calling.DrainAll(ctx); err != nil {
			t.Fatal(err)
		}
		c.Add(time.Minute)
	}
	s.sim.Wait()
	st := s.sim.Stats()
	// Count the daily calls the provider placed per customer (each also had its welcome call).
	daily := map[string]int{}
	for callID := range st.Scripts {
		for _, cu := range customers {
			if strings.HasPrefix(callID, "call_sch_"+cu.ID+"_daily_") {
				daily[cu.Phone]++
			}
		}
	}
	for _, cu := range customers {
		if n := daily[cu.Phone]; n != 3 || st.DialsPerNumber[cu.Phone] != 4 {
			t.Fatalf("%s (%s) got %d daily calls in three days (%d calls in all), want 3 (and the welcome call)", cu.ID, cu.Timezone, n, st.DialsPerNumber[cu.Phone])
		}
	}
	// The New York customer's calls were at 09:00 local time on each day, across the change.
	ny, _ := time.LoadLocation("America/New_York")
	for _, date := range []string{"2026-10-31", "2026-11-01", "2026-11-02"} {
		sc := ringfence.ScheduledCall{CustomerID: customers[0].ID, Type: ringfence.CallDaily, LocalDate: date, Attempt: 1}
		rec, err := s.env.Store.GetSchedule(ctx, sc)
		if err != nil || rec.Status != dynamo.SchedulePlaced {
			t.Fatalf("New York daily call on %s: %+v, %v; want placed", date, rec, err)
		}
		call, err := s.env.Store.GetCall(ctx, rec.CurrentCallID)
		if err != nil {
			t.Fatal(err)
		}
		if local := call.DialStartedAt.In(ny); local.Hour() != 9 || local.Format("2006-01-02") != date {
			t.Fatalf("New York call on %s was dialled at %s local, want 09:00", date, local)
		}
	}
}

// A provider that refuses a scheduled call: the claim is given back, a retry after the backoff
// places the call once.
func TestRefusedScheduledCallIsRetriedOnce(t *testing.T) {
	cu := vapiCustomer(1)
	s := MustStack(t, simulator.Options{RefuseFirst: map[string]int{cu.Phone: 1}}, 5, 5)
	c := &clock{}
	c.Set(time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC))
	s.useClock(c)
	MustCustomers(t, s, []ringfence.Customer{cu}, func(ringfence.Customer) time.Time { return time.Time{} })
	ctx := context.Background()
	c.Add(21 * time.Minute)
	if _, err := s.fn("scheduler").Calling.Schedule(ctx, c.Now(), 15*time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := s.env.Store.GetCustomer(ctx, cu.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st := s.sim.Stats(); st.Refused[cu.Phone] != 1 || st.Placed != 0 || got.WelcomeCallID != "" {
		t.Fatalf("after the refusal: refused=%d placed=%d claim=%q, want 1, 0 and the claim given back", st.Refused[cu.Phone], st.Placed, got.WelcomeCallID)
	}
	if n, err := s.fn("dispatcher").Calling.DrainAll(ctx); err != nil || n != 0 {
		t.Fatalf("before the backoff: dialled %d (%v), want 0", n, err)
	}
	c.Add(2 * time.Minute)
	for range 3 {
		if _, err := s.fn("dispatcher").Calling.DrainAll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	s.sim.Wait()
	st := s.sim.Stats()
	if got, err = s.env.Store.GetCustomer(ctx, cu.ID); err != nil {
		t.Fatal(err)
	}
	rec, err := s.env.Store.GetSchedule(ctx, ringfence.ScheduledCall{CustomerID: cu.ID, Type: ringfence.CallWelcome, LocalDate: "2026-11-21"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Placed != 1 || rec.Attempts != 2 || rec.Status != dynamo.SchedulePlaced || got.WelcomeCallID != rec.CurrentCallID {
		t.Fatalf("placed=%d schedule=%+v claim=%q, want 1 call, 2 attempts, placed, claimed by the second attempt", st.Placed, rec, got.WelcomeCallID)
	}
}

// crashingDialer stands in for a Lambda that dies right after the provider accepted the call,
// before anything is recorded: the provider has placed it, ringfence knows nothing of it.
type crashingDialer struct{ ringfence.Dialer }

type crashed struct{}

func (d crashingDialer) Dial(ctx context.Context, req ringfence.DialRequest) (string, error) {
	d.Dialer.Dial(ctx, req)
	panic(crashed{})
}

// A process that dies after the provider accepted a scheduled call and before recording it does
// not lead to a second call: the claim stays, and the sweep asks the provider, finds the call and
// records it.
func TestCrashAfterTheProviderAcceptedDoesNotCallTwice(t *testing.T) {
	cu := vapiCustomer(1)
	s := MustStack(t, simulator.Options{Silent: true}, 5, 5)
	c := &clock{}
	// The provider stamps its calls with the real time, so this test's clock starts there.
	c.Set(time.Now().Add(-21 * time.Minute))
	s.useClock(c)
	MustCustomers(t, s, []ringfence.Customer{cu}, func(ringfence.Customer) time.Time { return time.Time{} })
	ctx := context.Background()
	c.Add(21 * time.Minute)
	// The scheduler run that dies: its dispatcher's provider call succeeds, then the process ends.
	dying := calling.New(s.fn("scheduler").Store, map[ringfence.Provider]ringfence.Dialer{ringfence.ProviderVapi: crashingDialer{vapi.NewClient(s.simURL(), simKey)}}, calling.Defaults{DirectLimit: 5, CampaignLimit: 5}, s.log())
	dying.Now = c.Now
	func() {
		defer func() {
			if r := recover(); r == nil {
				t.Fatal("the dialer did not crash")
			}
		}()
		dying.Schedule(ctx, c.Now(), 15*time.Minute)
	}()
	if st := s.sim.Stats(); st.Placed != 1 {
		t.Fatalf("placed=%d before the retry, want 1", st.Placed)
	}
	// Everything runs again, as the schedules would, over the next minutes.
	for range 5 {
		c.Add(time.Minute)
		if _, err := s.fn("scheduler").Calling.Schedule(ctx, c.Now(), 15*time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := s.fn("sweeper").Calling.Sweep(ctx, c.Now()); err != nil {
			t.Fatal(err)
		}
	}
	st := s.sim.Stats()
	got, _ := s.env.Store.GetCustomer(ctx, cu.ID)
	call, err := s.env.Store.GetCall(ctx, got.WelcomeCallID)
	if st.Placed != 1 || err != nil || call.ProviderCallID == "" {
		t.Fatalf("placed=%d, welcome call %+v (%v); want one call, found and recorded", st.Placed, call, err)
	}
}

// Entries imported twice for the same scheduled call: the maintenance command reports them in a
// dry run, removes all but the oldest when applied, and finds nothing the second time.
func TestDedupeQueueKeepsTheOldest(t *testing.T) {
	s := MustStack(t, simulator.Options{}, 0, 0)
	c := &clock{}
	c.Set(time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC))
	s.useClock(c)
	ctx := context.Background()
	sc := ringfence.ScheduledCall{CustomerID: "cus_legacy", Type: ringfence.CallDaily, LocalDate: "2026-11-21", Attempt: 1}
	var ids []string
	for i := range 3 {
		call := ringfence.Call{ID: fmt.Sprintf("call_legacy_%d", i), AccountID: "acct_test", Provider: ringfence.ProviderVapi, Schedule: &sc, ToNumber: "+14155550100"}
		if _, err := s.env.Store.EnqueueCall(ctx, call, ringfence.SlotDirect); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, call.ID)
		c.Add(time.Second)
	}
	other := ringfence.ScheduledCall{CustomerID: "cus_other", Type: ringfence.CallDaily, LocalDate: "2026-11-21", Attempt: 1}
	if _, err := s.env.Store.EnqueueCall(ctx, ringfence.Call{ID: "call_other", AccountID: "acct_test", Provider: ringfence.ProviderVapi, Schedule: &other}, ringfence.SlotDirect); err != nil {
		t.Fatal(err)
	}
	dups, err := s.operator(t).Calling.DedupeQueue(ctx, false)
	if err != nil || len(dups) != 2 || dups[0].Kept.CallID != ids[0] {
		t.Fatalf("dry run: %+v, %v; want 2 duplicates of %s", dups, err, ids[0])
	}
	if entries, _ := s.env.Store.QueueEntries(ctx, "acct_test", ringfence.SlotDirect); len(entries) != 4 {
		t.Fatalf("the dry run removed entries: %d left, want 4", len(entries))
	}
	if dups, err = s.operator(t).Calling.DedupeQueue(ctx, true); err != nil || len(dups) != 2 {
		t.Fatalf("apply: %+v, %v", dups, err)
	}
	entries, _ := s.env.Store.QueueEntries(ctx, "acct_test", ringfence.SlotDirect)
	if len(entries) != 2 || entries[0].CallID != ids[0] && entries[1].CallID != ids[0] {
		t.Fatalf("entries after apply=%+v, want the oldest and the other customer's", entries)
	}
	for _, id := range ids[1:] {
		if call, _ := s.env.Store.GetCall(ctx, id); call.Status != ringfence.StatusCancelled {
			t.Fatalf("duplicate %s status=%s, want cancelled", id, call.Status)
		}
	}
	if dups, err = s.operator(t).Calling.DedupeQueue(ctx, true); err != nil || len(dups) != 0 {
		t.Fatalf("second apply: %+v, %v; want nothing", dups, err)
	}
}
