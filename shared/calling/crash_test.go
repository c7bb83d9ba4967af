package calling_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/ringfence/ringfence/infra/simulator"
	"github.com/ringfence/ringfence/shared/calling"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// serviceWith returns the calling service of a new instance of one function (built by app.New,
// under that function's role) whose DynamoDB client is built with options, on the stack's clock.
func (s *stack) serviceWith(t *testing.T, function string, c *clock, options ...func(*aws.Config)) *calling.Service {
	t.Helper()
	a := s.another(t, function, nil, options...)
	a.Store.Now, a.Calling.Now = c.Now, c.Now
	return a.Calling
}

// runUntilCrash runs fn and reports whether it died with dynamotest.Crash.
func runUntilCrash(fn func()) (crashed bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(dynamotest.Crash); !ok {
				panic(r)
			}
			crashed = true
		}
	}()
	fn()
	return false
}

// writePath is one background or API write path for the crash test: how to set up a fresh stack,
// the work that may die at any DynamoDB request, and what must hold once the schedules have run
// for a while afterwards.
type writePath struct {
	name     string
	function string // The function whose work it is, under whose role it runs.
	setup    func(t *testing.T, s *stack, c *clock)
	work     func(ctx context.Context, svc *calling.Service, c *clock)
	check    func(t *testing.T, s *stack)
}

// recover runs the scheduled jobs over the next quarter of an hour, as EventBridge would.
func recoverAfter(t *testing.T, s *stack, c *clock) {
	ctx := context.Background()
	for range 15 {
		c.Add(time.Minute)
		if _, err := s.fn("scheduler").Calling.Schedule(ctx, c.Now(), 15*time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := s.fn("sweeper").Calling.Sweep(ctx, c.Now()); err != nil {
			t.Fatal(err)
		}
	}
}

func noSlotHeld(t *testing.T, s *stack) {
	t.Helper()
	counts, held, err := s.env.Store.ListSlots(context.Background(), "acct_test")
	if err != nil || counts[ringfence.SlotDirect] != 0 || len(held) != 0 {
		t.Fatalf("slots in use=%d held=%d (%v) after recovery, want none", counts[ringfence.SlotDirect], len(held), err)
	}
}

// TestCrashAtEveryStepOfEveryWritePath kills each write path before and after each of its
// DynamoDB requests, lets the schedules run, and checks that nothing leaked, doubled or was lost:
// no slot stays held, no number is dialled twice, the welcome call is placed exactly once.
func TestCrashAtEveryStepOfEveryWritePath(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash matrix is skipped in -short mode")
	}
	cu := vapiCustomer(7)
	paths := []writePath{
		{
			name:     "place a direct call",
			function: "api",
			setup:    func(t *testing.T, s *stack, c *clock) {},
			work: func(ctx context.Context, svc *calling.Service, c *clock) {
				svc.PlaceDirect(ctx, "acct_test", calling.DirectCall{To: "+14155550123", Provider: ringfence.ProviderVapi, AgentID: "assistant-1", FromNumber: "phone-number-1"})
			},
			check: func(t *testing.T, s *stack) {
				noSlotHeld(t, s)
				if n := s.sim.Stats().DialsPerNumber["+14155550123"]; n > 1 {
					t.Fatalf("dialled %d times, want at most once", n)
				}
			},
		},
		{
			name:     "schedule and dispatch a welcome call",
			function: "scheduler",
			setup: func(t *testing.T, s *stack, c *clock) {
				MustCustomers(t, s, []ringfence.Customer{cu}, func(ringfence.Customer) time.Time { return time.Time{} })
				c.Add(21 * time.Minute)
			},
			work: func(ctx context.Context, svc *calling.Service, c *clock) { svc.Schedule(ctx, c.Now(), 15*time.Minute) },
			check: func(t *testing.T, s *stack) {
				noSlotHeld(t, s)
				got, _ := s.env.Store.GetCustomer(context.Background(), cu.ID)
				if n := s.sim.Stats().DialsPerNumber[cu.Phone]; n != 1 || got.WelcomeCallID == "" {
					t.Fatalf("welcome calls placed=%d claim=%q, want exactly one, claimed", n, got.WelcomeCallID)
				}
			},
		},
		{
			name:     "sweep a stale call",
			function: "sweeper",
			setup: func(t *testing.T, s *stack, c *clock) {
				call, err := s.env.Store.CreateCallWithSlot(context.Background(), ringfence.Call{ID: dynamo.NewID("call"), AccountID: "acct_test", Provider: ringfence.ProviderVapi, ToNumber: "+14155550124"}, ringfence.SlotDirect, 5)
				if err != nil {
					t.Fatal(err)
				}
				if err := s.env.Store.RecordProviderCallID(context.Background(), call.ID, "vapi-stale-1"); err != nil {
					t.Fatal(err)
				}
				c.Add(10 * time.Minute)
			},
			work:  func(ctx context.Context, svc *calling.Service, c *clock) { svc.Sweep(ctx, c.Now()) },
			check: func(t *testing.T, s *stack) { noSlotHeld(t, s) },
		},
	}
	start := time.Now().Add(-30 * time.Minute) // Near the real time the simulator stamps its calls with.
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			var requests atomic.Int64
			{
				s := MustStack(t, simulator.Options{Silent: true}, 5, 5)
				c := &clock{}
				c.Set(start)
				s.useClock(c)
				p.setup(t, s, c)
				p.work(context.Background(), s.serviceWith(t, p.function, c, dynamotest.CountRequests(&requests)), c)
				recoverAfter(t, s, c)
				p.check(t, s)
			}
			if requests.Load() < 2 {
				t.Fatalf("the path made %d DynamoDB requests; the test would prove nothing", requests.Load())
			}
			for n := 1; n <= int(requests.Load()); n++ {
				for _, after := range []bool{false, true} {
					s := MustStack(t, simulator.Options{Silent: true}, 5, 5)
					c := &clock{}
					c.Set(start)
					s.useClock(c)
					p.setup(t, s, c)
					if !runUntilCrash(func() { p.work(context.Background(), s.serviceWith(t, p.function, c, dynamotest.CrashAt(n, after)), c) }) {
						t.Fatalf("request %d (after=%v): the path did not reach the crash point", n, after)
					}
					recoverAfter(t, s, c)
					p.check(t, s)
				}
			}
			t.Logf("%d requests, each crashed before and after", requests.Load())
		})
	}
}
