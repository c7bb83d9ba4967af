package dynamo_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// campaignMoveEvents are the events of a campaign's pauses, resumes and cancels.
var campaignMoveEvents = []string{ringfence.EventCampaignPaused, ringfence.EventCampaignResumed, ringfence.EventCampaignCancelled}

// ticking makes the store's clock move on by a second each time it is read, so that events
// written one after the other sort in the outbox in the order they were written.
func ticking(s *dynamo.Store) {
	var ticks atomic.Int64
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return start.Add(time.Duration(ticks.Add(1)) * time.Second) }
}

// MustRunningCampaign creates and starts a campaign of account "acct".
func MustRunningCampaign(tb testing.TB, s *dynamo.Store) ringfence.Campaign {
	tb.Helper()
	campaign, _ := MustCampaignWithCalls(tb, s, 1)
	campaign, err := s.StartCampaign(context.Background(), "acct", campaign.ID)
	if err != nil {
		tb.Fatalf("StartCampaign: %v", err)
	}
	return campaign
}

// MustMove moves a campaign as the pause, resume and cancel requests do.
func MustMove(tb testing.TB, s *dynamo.Store, id string, to ringfence.CampaignStatus) ringfence.Campaign {
	tb.Helper()
	from := map[ringfence.CampaignStatus][]ringfence.CampaignStatus{
		ringfence.CampaignPaused:    {ringfence.CampaignRunning},
		ringfence.CampaignRunning:   {ringfence.CampaignPaused},
		ringfence.CampaignCancelled: {ringfence.CampaignCreated, ringfence.CampaignRunning, ringfence.CampaignPaused},
	}[to]
	c, err := s.MoveCampaign(context.Background(), "acct", id, to, from...)
	if err != nil {
		tb.Fatalf("MoveCampaign(%s): %v", to, err)
	}
	if c.Status != to {
		tb.Fatalf("status=%s, want %s", c.Status, to)
	}
	return c
}

// eventTypes lists the types of events, in the order given.
func eventTypes(events []ringfence.Event) []string {
	var types []string
	for _, ev := range events {
		types = append(types, ev.Type)
	}
	return types
}

func TestCampaignMovesWriteOneEventEach(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ticking(env.Store)
	MustCreateEndpoint(t, env.Store, campaignMoveEvents...)
	campaign := MustRunningCampaign(t, env.Store)

	// The second pause is a retry that finds the campaign paused: it writes nothing. The pause
	// after the resume is another move, with an event of its own.
	for _, to := range []ringfence.CampaignStatus{
		ringfence.CampaignPaused, ringfence.CampaignPaused, ringfence.CampaignRunning, ringfence.CampaignPaused,
		ringfence.CampaignCancelled, ringfence.CampaignCancelled,
	} {
		MustMove(t, env.Store, campaign.ID, to)
	}

	events := MustDueOutbox(t, env.Store).Events
	got := eventTypes(events)
	want := []string{ringfence.EventCampaignPaused, ringfence.EventCampaignResumed, ringfence.EventCampaignPaused, ringfence.EventCampaignCancelled}
	if !slices.Equal(got, want) {
		t.Fatalf("events=%v, want %v", got, want)
	}
	ids := map[string]bool{}
	for _, ev := range events {
		ids[ev.ID] = true
		if ev.SubjectID != campaign.ID || ev.AccountID != "acct" {
			t.Fatalf("event=%+v, want one about campaign %s of acct", ev, campaign.ID)
		}
	}
	if got, want := len(ids), len(want); got != want {
		t.Fatalf("distinct event ids=%d, want %d", got, want)
	}
}

func TestConcurrentPausesWriteOneEvent(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	MustCreateEndpoint(t, env.Store, campaignMoveEvents...)
	campaign := MustRunningCampaign(t, env.Store)

	var wg sync.WaitGroup
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := env.Store.MoveCampaign(context.Background(), "acct", campaign.ID, ringfence.CampaignPaused, ringfence.CampaignRunning)
			if err != nil || c.Status != ringfence.CampaignPaused {
				t.Errorf("MoveCampaign: status=%s err=%v, want paused", c.Status, err)
			}
		}()
	}
	wg.Wait()

	if got, want := eventTypes(MustDueOutbox(t, env.Store).Events), []string{ringfence.EventCampaignPaused}; !slices.Equal(got, want) {
		t.Fatalf("events=%v, want %v", got, want)
	}
}

// A pause that read the campaign running, while another request paused and resumed it before the
// pause's write, is a third move: it must get an event of its own, not lose it to the id of the
// other request's pause.
func TestPauseRacingPauseAndResumeGetsItsOwnEvent(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	MustCreateEndpoint(t, env.Store, campaignMoveEvents...)
	campaign := MustRunningCampaign(t, env.Store)
	other := env.Reopen()
	store := env.Reopen(beforeWrite(func() {
		MustMove(t, other, campaign.ID, ringfence.CampaignPaused)
		MustMove(t, other, campaign.ID, ringfence.CampaignRunning)
	}))

	c, err := store.MoveCampaign(ctx, "acct", campaign.ID, ringfence.CampaignPaused, ringfence.CampaignRunning)
	if err != nil || c.Status != ringfence.CampaignPaused {
		t.Fatalf("MoveCampaign: status=%s err=%v, want paused", c.Status, err)
	}
	counts := map[string]int{}
	ids := map[string]bool{}
	for _, ev := range MustDueOutbox(t, env.Store).Events {
		counts[ev.Type]++
		ids[ev.ID] = true
	}
	if counts[ringfence.EventCampaignPaused] != 2 || counts[ringfence.EventCampaignResumed] != 1 || len(ids) != 3 {
		t.Fatalf("events=%v with %d distinct ids, want 2 campaign.paused and 1 campaign.resumed, all distinct", counts, len(ids))
	}
}

func TestCampaignMoveWithoutEndpointIsOneWrite(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	MustCreateEndpoint(t, env.Store, ringfence.EventCallEnded, ringfence.EventCampaignCompleted)
	campaign := MustRunningCampaign(t, env.Store)
	var log dynamotest.OperationLog
	store := env.Reopen(dynamotest.RecordOperations(&log))

	MustMove(t, store, campaign.ID, ringfence.CampaignPaused)

	writes := 0
	for _, name := range log.Names() {
		switch name {
		case "UpdateItem", "PutItem", "TransactWriteItems":
			writes++
			if name != "UpdateItem" {
				t.Fatalf("operations=%v, want the move to be one UpdateItem", log.Names())
			}
		}
	}
	if writes != 1 {
		t.Fatalf("operations=%v, want one write", log.Names())
	}
	if got := MustDueOutbox(t, env.Store).Events; len(got) != 0 {
		t.Fatalf("events=%v, want none: no endpoint receives campaign.paused", got)
	}
}

func TestCancelWritesOneCancelledEvent(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	MustCreateEndpoint(t, env.Store, ringfence.EventCampaignCancelled)
	campaign, _ := MustCampaignWithCalls(t, env.Store, 1)

	// A campaign that never started can be cancelled too; the retry of the cancel writes nothing.
	MustMove(t, env.Store, campaign.ID, ringfence.CampaignCancelled)
	MustMove(t, env.Store, campaign.ID, ringfence.CampaignCancelled)

	if got, want := eventTypes(MustDueOutbox(t, env.Store).Events), []string{ringfence.EventCampaignCancelled}; !slices.Equal(got, want) {
		t.Fatalf("events=%v, want %v", got, want)
	}
}
