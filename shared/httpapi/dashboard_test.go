package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// contactPhone is the phone number of a campaign's contact i in the tests below.
func contactPhone(i int) string { return fmt.Sprintf("+1415555%04d", i) }

// MustCampaignOfContacts creates, through the store, a campaign of n contacts and no calls.
func (h *harness) MustCampaignOfContacts(tb testing.TB, n int) ringfence.Campaign {
	tb.Helper()
	contacts := make([]ringfence.Contact, n)
	for i := range contacts {
		contacts[i] = ringfence.Contact{Name: fmt.Sprintf("Contact %d", i), Phone: contactPhone(i)}
	}
	campaign, err := h.env.Store.CreateCampaign(context.Background(), ringfence.Campaign{ID: dynamo.NewID("cmp"), AccountID: "acct_test",
		Name: "test", Provider: ringfence.ProviderBolna, AgentID: "agent-1", FromNumber: "+14155550100"}, contacts)
	if err != nil {
		tb.Fatalf("CreateCampaign: %v", err)
	}
	return campaign
}

// MustContactCalls creates, through the store, the calls of the campaign's contacts from to
// to-1. They are named as the dispatcher names a contact's call, "call_<campaign>_<contact>", so
// their ids run in contact order as in production, and they are written 16 at a time so that
// hundreds take moments.
func (h *harness) MustContactCalls(tb testing.TB, campaign ringfence.Campaign, from, to int) []ringfence.Call {
	tb.Helper()
	calls := make([]ringfence.Call, 0, to-from)
	for i := from; i < to; i++ {
		contact := dynamo.ContactID(i)
		calls = append(calls, ringfence.Call{
			ID: "call_" + strings.TrimPrefix(campaign.ID, "cmp_") + "_" + contact, AccountID: "acct_test", CampaignID: campaign.ID,
			ContactID: contact, Provider: ringfence.ProviderBolna, ProviderCallID: fmt.Sprintf("%s-exec-%d", campaign.ID, i),
			Status: ringfence.StatusInitiated, ToNumber: contactPhone(i),
		})
	}
	errs := make([]error, len(calls))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(calls); i = int(next.Add(1)) - 1 {
				errs[i] = h.env.Store.CreateCall(context.Background(), calls[i])
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		tb.Fatalf("CreateCall: %v", err)
	}
	return calls
}

// A render of the dashboard reads as many items from DynamoDB when the newest campaign has 400
// calls as when it had 60. The page refreshes itself every 5 seconds, and it once read every
// call of the three newest campaigns each time: 0.7 to 1.0 s a render at 10,000 calls. It now
// reads one page of 50 calls per campaign (and their contacts) for the recent activity, and
// takes everything else from the campaigns' counters. Both sizes are above that page, so a
// render that reads every call reads more at 400.
func TestDashboardRenderCostDoesNotGrowWithCampaignCalls(t *testing.T) {
	var read atomic.Int64
	h := MustHarness(t, dynamotest.CountItemsRead(&read))
	campaign := h.MustCampaignOfContacts(t, 400)
	cookie := h.MustLogin(t)
	itemsPerRender := func(calls []ringfence.Call) int64 {
		t.Helper()
		read.Store(0)
		resp := invoke(t, h.srv.Management(), dashboardRequest(t, "GET /dashboard", "", "", cookie))
		n := read.Load()
		if resp.StatusCode != 200 {
			t.Fatalf("dashboard: status=%d, want 200 (body %.300s)", resp.StatusCode, resp.Body)
		}
		// A render that read no calls would be cheap too; the calls' history in the recent
		// activity shows that this one read them.
		_, recent, _ := strings.Cut(resp.Body, `id="recent"`)
		shown := slices.ContainsFunc(calls, func(c ringfence.Call) bool { return strings.Contains(recent, c.ID) })
		if !shown || !strings.Contains(recent, "created "+string(ringfence.StatusInitiated)) {
			t.Fatalf("the dashboard shows none of the campaign's calls in its recent activity:\n%s", recent)
		}
		return n
	}

	calls := h.MustContactCalls(t, campaign, 0, 60)
	small := itemsPerRender(calls)
	calls = append(calls, h.MustContactCalls(t, campaign, 60, 400)...)
	// The recent activity is the latest calls': those of the last contacts dialled, never the
	// first page of a campaign that has moved on.
	large := itemsPerRender(calls[350:])
	t.Logf("items read per render: %d at 60 calls, %d at 400 calls", small, large)
	if large != small {
		t.Fatalf("items read per render=%d at 400 calls, want %d as at 60 calls", large, small)
	}
}

// The dashboard counts an account's waiting calls with a bounded read: a queue longer than it
// counts shows as "1000+ waiting", and a render reads as much at 1,050 waiting calls as at 1,300.
func TestDashboardCountsALongQueueWithABoundedRead(t *testing.T) {
	var read atomic.Int64
	h := MustHarness(t, dynamotest.CountItemsRead(&read))
	cookie := h.MustLogin(t)
	enqueue := func(n int) {
		t.Helper()
		calls := make([]ringfence.Call, n)
		for i := range calls {
			calls[i] = ringfence.Call{ID: dynamo.NewID("call"), AccountID: "acct_test", Provider: ringfence.ProviderBolna,
				AgentID: "agent-1", FromNumber: "+14155550100", ToNumber: contactPhone(i)}
		}
		if got, err := h.env.Store.EnqueueCalls(context.Background(), calls, ringfence.SlotDirect); err != nil || got != n {
			t.Fatalf("EnqueueCalls: %d of %d (%v)", got, n, err)
		}
	}
	render := func() (int64, string) {
		t.Helper()
		read.Store(0)
		resp := invoke(t, h.srv.Management(), dashboardRequest(t, "GET /dashboard", "", "", cookie))
		if resp.StatusCode != 200 {
			t.Fatalf("dashboard: status=%d, want 200 (body %.300s)", resp.StatusCode, resp.Body)
		}
		_, tile, _ := strings.Cut(resp.Body, `id="slots-direct"`)
		tile, _, _ = strings.Cut(tile, "</div>")
		return read.Load(), html.UnescapeString(tile)
	}

	enqueue(1050)
	small, tile := render()
	if !strings.Contains(tile, "1000+ waiting") {
		t.Fatalf("direct slots tile with 1,050 waiting: %s, want 1000+ waiting", tile)
	}
	enqueue(250)
	large, _ := render()
	t.Logf("items read per render: %d at 1,050 waiting, %d at 1,300", small, large)
	if large != small {
		t.Fatalf("items read per render=%d at 1,300 waiting, want %d as at 1,050", large, small)
	}
}
