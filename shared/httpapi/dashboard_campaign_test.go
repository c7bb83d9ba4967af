package httpapi_test

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/httpapi"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// campaignPageRequest is a signed-in GET of a campaign's page.
func campaignPageRequest(tb testing.TB, campaignID, query, cookie string) events.APIGatewayV2HTTPRequest {
	tb.Helper()
	req := dashboardRequest(tb, "GET /dashboard/campaigns/{id}", query, "", cookie)
	req.RawPath = "/dashboard/campaigns/" + campaignID
	req.RequestContext.HTTP.Path = req.RawPath
	req.PathParameters = map[string]string{"id": campaignID}
	return req
}

// MustEndCalls ends calls through the store, as webhooks do: even ones completed (30 seconds,
// $0.12), odd ones unanswered ($0.01).
func (h *harness) MustEndCalls(tb testing.TB, calls []ringfence.Call) {
	tb.Helper()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, c := range calls {
		ev := ringfence.CallEvent{Provider: c.Provider, ProviderCallID: c.ProviderCallID, Status: ringfence.StatusNoAnswer,
			Cost: ptr(ringfence.MustParseDecimal("0.01")), Duration: ptr(ringfence.MustParseDecimal("4"))}
		if i%2 == 0 {
			ev.Status, ev.Cost, ev.Duration = ringfence.StatusCompleted, ptr(ringfence.MustParseDecimal("0.12")), ptr(ringfence.MustParseDecimal("30"))
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if _, _, err := h.env.Store.ApplyCallEvent(context.Background(), c.ID, ev); err != nil {
				tb.Errorf("ApplyCallEvent: %v", err)
			}
		})
	}
	wg.Wait()
}

func ptr[T any](v T) *T { return &v }

// A render of a campaign's page reads as many items from DynamoDB at 400 calls as at 60: its
// counters, one item per charted hour and one page of calls with their contacts. Both sizes are
// above the page, so a render that read every call (or charted by reading calls) would read more.
func TestCampaignPageRenderCostDoesNotGrowWithItsCalls(t *testing.T) {
	var read atomic.Int64
	h := MustHarness(t, dynamotest.CountItemsRead(&read))
	// The calls end in one hour, whatever the wall clock does during the test.
	hour := time.Now().UTC().Truncate(time.Hour)
	h.env.Store.Now = func() time.Time { return hour }
	campaign := h.MustCampaignOfContacts(t, 400)
	cookie := h.MustLogin(t)
	itemsPerRender := func() (int64, string) {
		t.Helper()
		read.Store(0)
		resp := invoke(t, h.srv.Management(), campaignPageRequest(t, campaign.ID, "", cookie))
		if resp.StatusCode != 200 {
			t.Fatalf("campaign page: status=%d, want 200 (body %.300s)", resp.StatusCode, resp.Body)
		}
		return read.Load(), resp.Body
	}
	calls := h.MustContactCalls(t, campaign, 0, 60)
	h.MustEndCalls(t, calls[:10])
	small, _ := itemsPerRender()
	calls = append(calls, h.MustContactCalls(t, campaign, 60, 400)...)
	h.MustEndCalls(t, calls[10:60])
	large, body := itemsPerRender()
	t.Logf("items read per render of the campaign page: %d at 60 calls, %d at 400 calls", small, large)
	if large != small {
		t.Fatalf("items read per render=%d at 400 calls, want %d as at 60 calls", large, small)
	}
	// The page's numbers are the counters': 60 calls ended, 30 answered, $3.90.
	for _, want := range []string{`id="calls-ended">60<`, `id="answer-rate">–<`, `id="cost-per-answered">0.1300<`,
		`id="average-talk">30.0 s<`, `id="total-cost">3.9<`, `<title id="chart-ended-title">`, `id="next-page"`} {
		if !strings.Contains(body, want) {
			t.Fatalf("the campaign page does not show %s", want)
		}
	}
}

// The filters show only the calls of a status or outcome, and refuse what is not one.
func TestCampaignPageFiltersCalls(t *testing.T) {
	h := MustHarness(t)
	campaign := h.MustCampaignOfContacts(t, 6)
	cookie := h.MustLogin(t)
	calls := h.MustContactCalls(t, campaign, 0, 6)
	h.MustEndCalls(t, calls[:4])
	count := func(query string) int {
		t.Helper()
		resp := invoke(t, h.srv.Management(), campaignPageRequest(t, campaign.ID, query, cookie))
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status=%d, want 200", query, resp.StatusCode)
		}
		return strings.Count(resp.Body, `data-call="`)
	}
	for query, want := range map[string]int{"": 6, "outcome=completed": 2, "outcome=no-answer": 2, "status=initiated": 2} {
		if got := count(query); got != want {
			t.Fatalf("%q shows %d calls, want %d", query, got, want)
		}
	}
	for _, query := range []string{"outcome=ringing", "status=nope", "hours=0", "hours=1000", "cursor=x"} {
		if resp := invoke(t, h.srv.Management(), campaignPageRequest(t, campaign.ID, query, cookie)); resp.StatusCode != 400 {
			t.Fatalf("%q: status=%d, want 400", query, resp.StatusCode)
		}
	}
	// Another account's campaign, or none, is not found; without a session, the sign-in form.
	if resp := invoke(t, h.srv.Management(), campaignPageRequest(t, "cmp_nope", "", cookie)); resp.StatusCode != 404 {
		t.Fatalf("unknown campaign: status=%d, want 404", resp.StatusCode)
	}
	if resp := invoke(t, h.srv.Management(), campaignPageRequest(t, campaign.ID, "", "")); resp.StatusCode != 401 || strings.Contains(resp.Body, calls[0].ID) {
		t.Fatalf("anonymous: status=%d, want 401 and no calls", resp.StatusCode)
	}
}

// A login link may send the browser on to a campaign's page (with its filters), and nowhere else.
func TestLoginLinkGoesOnlyToTheDashboardsOwnPages(t *testing.T) {
	h := MustHarness(t)
	for next, want := range map[string]string{
		"":                           "/dashboard",
		"/dashboard/campaigns/cmp_1": "/dashboard/campaigns/cmp_1",
		"/dashboard/campaigns/cmp_1?outcome=busy":    "/dashboard/campaigns/cmp_1?outcome=busy",
		"https://evil.example/dashboard/campaigns/x": "/dashboard",
		"//evil.example":                       "/dashboard",
		"/dashboard/campaigns/../../evil":      "/dashboard",
		"/dashboard/campaigns/x/../../../evil": "/dashboard",
	} {
		link := httpapi.LoginToken(testSessionSecret, "acct_test", time.Now().Add(httpapi.LoginLinkLifetime))
		resp := invoke(t, h.srv.Management(), dashboardRequest(t, "GET /dashboard/login", "token="+url.QueryEscape(link)+"&next="+url.QueryEscape(next), ""))
		if got := resp.Headers["Location"]; resp.StatusCode != 303 || got != want {
			t.Fatalf("next=%q: status=%d Location=%q, want 303 and %q", next, resp.StatusCode, got, want)
		}
	}
}
