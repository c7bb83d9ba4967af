package calling_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"
	"github.com/ringfence/ringfence/infra/simulator"
	"github.com/ringfence/ringfence/shared/app"
	"github.com/ringfence/ringfence/shared/calling"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// campaignContacts is the size of the large campaign test: 2,000 in `make test`, and 50,000 (or
// any size) with RINGFENCE_CAMPAIGN_CONTACTS=50000.
func campaignContacts(tb testing.TB) int {
	tb.Helper()
	n := 2000
	if v := os.Getenv("RINGFENCE_CAMPAIGN_CONTACTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 100 {
			tb.Fatalf("RINGFENCE_CAMPAIGN_CONTACTS=%q, want a number of at least 100", v)
		}
	}
	return n
}

// contactsCSV is a CSV upload of contacts from..to-1, with a timezone column and a variable.
func contactsCSV(from, to int) string {
	var b strings.Builder
	b.WriteString("name,phone,timezone,plan\n")
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "Contact %d,+1415555%04d,America/New_York,gold\n", i, i)
	}
	return b.String()
}

// contactsJSON is a JSON upload of contacts from..to-1.
func contactsJSON(from, to int) string {
	parts := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		parts = append(parts, fmt.Sprintf(`{"name":"Contact %d","phone":"+1415555%04d"}`, i, i))
	}
	return `{"contacts":[` + strings.Join(parts, ",") + `]}`
}

// addedView is the POST /campaigns/{id}/contacts body.
type addedView struct {
	Added         int `json:"added"`
	Duplicates    int `json:"duplicates"`
	TotalContacts int `json:"total_contacts"`
}

// doAs is do with the request's Content-Type.
func (s *stack) doAs(t *testing.T, method, path, contentType, body string, wantStatus int, v any) {
	t.Helper()
	req, _ := http.NewRequest(method, s.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s status=%d body=%.300s, want %d", method, path, resp.StatusCode, b, wantStatus)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
	}
}

// MustCampaignOf creates an empty campaign and uploads n contacts, 10,000 per request, the first
// request as CSV and the rest as JSON.
func (s *stack) MustCampaignOf(t *testing.T, n int) campaignView {
	t.Helper()
	var c campaignView
	s.do(t, "POST", "/campaigns", `{"name":"big","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100"}`, 201, &c)
	for from := 0; from < n; from += ringfence.MaxContactsPerRequest {
		to := min(from+ringfence.MaxContactsPerRequest, n)
		var added addedView
		if from == 0 {
			s.doAs(t, "POST", "/campaigns/"+c.ID+"/contacts", "text/csv", contactsCSV(from, to), 200, &added)
		} else {
			s.doAs(t, "POST", "/campaigns/"+c.ID+"/contacts", "application/json", contactsJSON(from, to), 200, &added)
		}
		if added.Added != to-from || added.TotalContacts != to {
			t.Fatalf("upload %d..%d: %+v, want %d added and %d in all", from, to, added, to-from, to)
		}
	}
	return c
}

// A campaign of any size starts in the same number of DynamoDB requests as one of 100 contacts;
// the dispatcher queues the rest in the background, and a dispatcher that dies half-way through
// leaves every contact queued exactly once after the next run.
func TestCampaignStartIsConstantAndQueuesEachContactOnceAcrossACrash(t *testing.T) {
	n := campaignContacts(t)
	var requests atomic.Int64
	// No campaign slots: nothing is dialled, so the queue holds every contact's call.
	s := MustStack(t, simulator.Options{}, 5, 0, dynamotest.CountRequests(&requests))
	ctx := context.Background()

	startCost := func(c campaignView) int64 {
		before := requests.Load()
		var started struct{ Queued, Dialled int }
		s.do(t, "POST", "/campaigns/"+c.ID+"/start", "", 202, &started)
		if started.Queued != dynamo.QueueBatch || started.Dialled != 0 {
			t.Fatalf("start queued=%d dialled=%d, want %d and 0", started.Queued, started.Dialled, dynamo.QueueBatch)
		}
		return requests.Load() - before
	}
	small := s.MustCampaignOf(t, 100)
	large := s.MustCampaignOf(t, n)
	if got, want := startCost(large), startCost(small); got != want {
		t.Fatalf("start of %d contacts took %d DynamoDB requests, want %d as for 100", n, got, want)
	}

	// A dispatcher dies in the middle of queueing the large campaign, after a page was written.
	crashing := calling.New(s.env.Reopen(dynamotest.CrashAt(40, true)), nil, calling.Defaults{}, slog.New(slog.DiscardHandler))
	func() {
		defer func() {
			if r := recover(); r == nil {
				t.Fatalf("the dispatcher did not crash")
			} else if _, ok := r.(dynamotest.Crash); !ok {
				panic(r)
			}
		}()
		crashing.AdvanceCampaigns(ctx)
	}()
	// Two dispatchers then run at once. One run queues for at most queueBudget, so a campaign too
	// large for it is finished by the next scheduled runs, as the dispatcher's schedule does.
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.fn("dispatcher").Calling.AdvanceCampaigns(ctx); err != nil {
				t.Errorf("AdvanceCampaigns: %v", err)
			}
		}()
	}
	wg.Wait()
	for run := 0; ; run++ {
		waiting, err := s.env.Store.PendingContacts(ctx, large.ID, "", 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(waiting) == 0 {
			break
		}
		if run == n/1000+5 {
			t.Fatalf("contacts still wait to be queued after %d more dispatcher runs", run)
		}
		if err := s.fn("dispatcher").Calling.AdvanceCampaigns(ctx); err != nil {
			t.Fatalf("AdvanceCampaigns: %v", err)
		}
	}

	for _, c := range []struct {
		id string
		n  int
	}{{small.ID, 100}, {large.ID, n}} {
		contacts, err := s.env.Store.ListContacts(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		if len(contacts) != c.n {
			t.Fatalf("campaign has %d contacts, want %d", len(contacts), c.n)
		}
		for _, ct := range contacts {
			if ct.CallID == "" {
				t.Fatalf("contact %s (%s) was never queued", ct.ID, ct.Phone)
			}
		}
		calls, err := s.env.Store.ListCampaignCalls(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		perContact := map[string]int{}
		for _, call := range calls {
			perContact[call.ContactID]++
			if call.Status != ringfence.StatusQueued {
				t.Fatalf("call %s is %s, want queued", call.ID, call.Status)
			}
		}
		if len(calls) != c.n || len(perContact) != c.n {
			t.Fatalf("%d calls for %d contacts, want one each of %d", len(calls), len(perContact), c.n)
		}
	}
	entries, err := s.env.Store.QueueEntries(ctx, "acct_test", ringfence.SlotCampaign)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != n+100 {
		t.Fatalf("queue holds %d entries, want %d", len(entries), n+100)
	}
}

// Contacts are validated, all of them, before any is written; adding a phone twice adds it once.
func TestAddContactsValidatesFirstAndIsIdempotentPerPhone(t *testing.T) {
	s := MustStack(t, simulator.Options{}, 5, 0)
	var c campaignView
	s.do(t, "POST", "/campaigns", `{"name":"csv","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100"}`, 201, &c)
	path := "/campaigns/" + c.ID + "/contacts"
	bad := []struct{ name, contentType, body string }{
		{"bad phone in the last row", "text/csv", contactsCSV(0, 50) + "Eve,555-0101,,\n"},
		{"bad timezone", "text/csv", "name,phone,timezone\nAda,+14155550101,Mars/Olympus\n"},
		{"no phone column", "text/csv", "name,number\nAda,+14155550101\n"},
		{"ragged row", "text/csv", "name,phone\nAda,+14155550101,extra\n"},
		{"duplicate phone", "application/json", `{"contacts":[{"phone":"+14155550101"},{"phone":"+14155550101"}]}`},
		{"no contacts", "application/json", `{"contacts":[]}`},
		{"too many", "application/json", contactsJSON(0, ringfence.MaxContactsPerRequest+1)},
	}
	for _, tc := range bad {
		s.doAs(t, "POST", path, tc.contentType, tc.body, 400, nil)
	}
	var got campaignView
	s.do(t, "GET", "/campaigns/"+c.ID, "", 200, &got)
	contacts, err := s.env.Store.ListContacts(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.TotalContacts != 0 || len(contacts) != 0 {
		t.Fatalf("after refused uploads: total_contacts=%d contacts=%d, want none", got.TotalContacts, len(contacts))
	}

	var added addedView
	s.doAs(t, "POST", path, "text/csv", contactsCSV(0, 150), 200, &added)
	s.doAs(t, "POST", path, "text/csv; charset=utf-8", contactsCSV(100, 200), 200, &added)
	if added.Added != 50 || added.Duplicates != 50 || added.TotalContacts != 200 {
		t.Fatalf("second upload: %+v, want 50 added, 50 duplicates, 200 in all", added)
	}
	contacts, err = s.env.Store.ListContacts(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(contacts) != 200 {
		t.Fatalf("contacts=%d, want 200", len(contacts))
	}
	if ct := contacts[0]; ct.Timezone != "America/New_York" || ct.Fields["plan"] != "gold" || ct.Name != "Contact 0" {
		t.Fatalf("first contact=%+v, want its timezone and plan from the CSV", ct)
	}
}

// pauseBeforeClaim is a DynamoDB client option that, while a phase is armed, holds every
// transaction (the claim of a dial) until beforeClaim has run once: the dispatchers have read and
// leased queue entries and are about to claim their dials, and a pause (or cancel) commits first.
// sync.Once makes every dispatcher that arrives meanwhile wait for it.
func pauseBeforeClaim(phase *atomic.Pointer[sync.Once], beforeClaim func()) func(*aws.Config) {
	return func(cfg *aws.Config) {
		cfg.APIOptions = append(cfg.APIOptions, func(st *middleware.Stack) error {
			return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("ringfence-race", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if once := phase.Load(); once != nil && middleware.GetOperationName(ctx) == "TransactWriteItems" {
					once.Do(beforeClaim)
				}
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
		})
	}
}

// Pause, resume and cancel against three dispatchers: when a pause or a cancel commits between a
// dispatcher's read of the queue and its claim of the dial, the claim fails and nothing is dialled;
// resume dials again; cancel ends every call not yet dialled as cancelled, counted once.
func TestPauseResumeCancelRaceThreeDispatchers(t *testing.T) {
	s := MustStack(t, simulator.Options{CallLength: 10 * time.Millisecond, Seed: 7}, 5, 0)
	ctx := context.Background()
	var c campaignView
	s.do(t, "POST", "/campaigns", `{"name":"race","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100","contacts":`+contacts(20)+`}`, 201, &c)
	s.do(t, "POST", "/campaigns/"+c.ID+"/start", "", 202, nil)

	var phase atomic.Pointer[sync.Once]
	var control func()
	var controlled atomic.Bool
	dispatchers := make([]*app.App, 3)
	for i := range dispatchers {
		dispatchers[i] = s.another(t, "dispatcher", map[string]string{"RINGFENCE_CAMPAIGN_LIMIT": "2"}, pauseBeforeClaim(&phase, func() { control(); controlled.Store(true) }))
	}
	drainAll := func() {
		var wg sync.WaitGroup
		for _, d := range dispatchers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := d.Calling.Drain(ctx, "acct_test", ringfence.SlotCampaign, 2); err != nil {
					t.Errorf("Drain: %v", err)
				}
			}()
		}
		wg.Wait()
	}

	// The pause commits just before the first claim: no dispatcher dials.
	control = func() { s.do(t, "POST", "/campaigns/"+c.ID+"/pause", "", 200, nil) }
	phase.Store(&sync.Once{})
	drainAll()
	phase.Store(nil)
	if !controlled.Load() {
		t.Fatalf("no dispatcher tried to claim a dial")
	}
	if got := s.sim.Stats().Placed; got != 0 {
		t.Fatalf("placed=%d after the pause, want 0", got)
	}
	s.do(t, "POST", "/campaigns/"+c.ID+"/pause", "", 200, nil) // Idempotent.
	var got campaignView
	s.do(t, "GET", "/campaigns/"+c.ID, "", 200, &got)
	if got.Status != "paused" {
		t.Fatalf("status=%s, want paused", got.Status)
	}

	// Resumed, the dispatchers dial again, within the limit.
	s.do(t, "POST", "/campaigns/"+c.ID+"/resume", "", 200, nil)
	s.do(t, "POST", "/campaigns/"+c.ID+"/resume", "", 200, nil)
	drainAll()
	s.sim.Wait()
	placed := s.sim.Stats().Placed
	if placed < 1 || placed > 20 {
		t.Fatalf("placed=%d after the resume, want some", placed)
	}

	// The cancel commits just before the next claim: nothing more is dialled, and every call not
	// dialled ends cancelled.
	control = func() { s.do(t, "POST", "/campaigns/"+c.ID+"/cancel", "", 200, nil) }
	controlled.Store(false)
	phase.Store(&sync.Once{})
	drainAll()
	phase.Store(nil)
	if !controlled.Load() {
		t.Fatalf("no dispatcher tried to claim a dial after the resume")
	}
	s.do(t, "POST", "/campaigns/"+c.ID+"/cancel", "", 200, nil) // Idempotent.
	if err := s.fn("dispatcher").Calling.AdvanceCampaigns(ctx); err != nil {
		t.Fatal(err)
	}
	s.sim.Wait()
	waitFor(t, 30*time.Second, "the calls in flight to end", func() bool {
		s.do(t, "GET", "/campaigns/"+c.ID, "", 200, &got)
		return got.CallsCompleted == 20
	})
	if s.sim.Stats().Placed != placed {
		t.Fatalf("placed=%d after the cancel, want %d", s.sim.Stats().Placed, placed)
	}
	if got.Status != "cancelled" || got.Outcomes["cancelled"] != 20-placed {
		t.Fatalf("campaign=%+v, want cancelled with %d calls cancelled", got, 20-placed)
	}
	sum := 0
	for _, n := range got.Outcomes {
		sum += n
	}
	if sum != 20 {
		t.Fatalf("outcomes=%v add up to %d, want 20", got.Outcomes, sum)
	}
	var slots slotsView
	s.do(t, "GET", "/slots", "", 200, &slots)
	if slots.Slots["campaign"].InUse != 0 || len(slots.Held) != 0 {
		t.Fatalf("slots=%+v, want none held", slots)
	}
	s.do(t, "POST", "/campaigns/"+c.ID+"/resume", "", 409, nil)
}
