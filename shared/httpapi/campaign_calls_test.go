package httpapi_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/ringfence/ringfence/shared/ringfence"
)

// callsPage is a GET /campaigns/{id}/calls body.
type callsPage struct {
	Calls []struct {
		ID         string `json:"id"`
		Transcript string `json:"transcript"`
		Contact    *struct {
			Phone string `json:"phone"`
		} `json:"contact"`
	} `json:"calls"`
	NextCursor *string `json:"next_cursor"`
}

func (h *harness) mustCallsPage(t *testing.T, campaignID string, query url.Values, want int) callsPage {
	t.Helper()
	req := MustEvent(t, "api-list-campaign-calls.json")
	req.PathParameters = map[string]string{"id": campaignID}
	req.QueryStringParameters = map[string]string{}
	for k := range query {
		req.QueryStringParameters[k] = query.Get(k)
	}
	req.RawQueryString = query.Encode()
	var page callsPage
	MustDecode(t, invoke(t, h.srv.Management(), req), want, &page)
	return page
}

// A campaign's calls come in pages of at most `limit`, each call once, with its contact; the
// transcript only when asked for; a bad limit or cursor is a 400.
func TestCampaignCallsArePaged(t *testing.T) {
	h := MustHarness(t)
	campaign, calls := h.MustCreateCampaign(t, 7)
	ended := ringfence.CallEvent{Provider: ringfence.ProviderBolna, ProviderCallID: calls[0].ProviderCallID, Status: ringfence.StatusCompleted, Transcript: "assistant: hello"}
	if _, _, err := h.env.Store.ApplyCallEvent(context.Background(), calls[0].ID, ended); err != nil {
		t.Fatal(err)
	}

	seen := map[string]bool{}
	transcripts := 0
	query := url.Values{"limit": {"3"}}
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatalf("more pages than 7 calls need")
		}
		page := h.mustCallsPage(t, campaign.ID, query, 200)
		if len(page.Calls) > 3 {
			t.Fatalf("page of %d calls, want at most 3", len(page.Calls))
		}
		for _, c := range page.Calls {
			if seen[c.ID] {
				t.Fatalf("call %s on two pages", c.ID)
			}
			seen[c.ID] = true
			if c.Contact == nil || c.Contact.Phone == "" {
				t.Fatalf("call %s without its contact", c.ID)
			}
			if c.Transcript != "" {
				transcripts++
			}
		}
		if page.NextCursor == nil {
			break
		}
		query.Set("cursor", *page.NextCursor)
	}
	if len(seen) != 7 || transcripts != 0 {
		t.Fatalf("calls=%d with %d transcripts, want 7 without", len(seen), transcripts)
	}
	page := h.mustCallsPage(t, campaign.ID, url.Values{"include": {"transcript"}, "limit": {"7"}}, 200)
	b, _ := json.Marshal(page)
	if len(page.Calls) != 7 || !json.Valid(b) {
		t.Fatalf("calls=%d, want 7", len(page.Calls))
	}
	found := false
	for _, c := range page.Calls {
		found = found || c.Transcript == "assistant: hello"
	}
	if !found {
		t.Fatalf("include=transcript gave no transcript")
	}
	for _, bad := range []url.Values{{"limit": {"0"}}, {"limit": {"501"}}, {"limit": {"x"}}, {"cursor": {"!!"}}, {"include": {"secrets"}}} {
		h.mustCallsPage(t, campaign.ID, bad, 400)
	}
}

// The dashboard shows each campaign's controls for its status, and its buttons move the campaign.
func TestDashboardControlsCampaigns(t *testing.T) {
	h := MustHarness(t)
	campaign, _ := h.MustCreateCampaign(t, 2)
	dash := MustEvent(t, "api-get-campaign.json")
	dash.RouteKey, dash.RawPath, dash.PathParameters = "GET /dashboard", "/dashboard", nil
	resp := invoke(t, h.srv.Management(), dash)
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, "/dashboard/campaigns/"+campaign.ID+"/cancel") {
		t.Fatalf("dashboard status=%d, want 200 with a cancel button for the created campaign", resp.StatusCode)
	}
	press := func(action string, want int) {
		t.Helper()
		req := MustEvent(t, "api-start-campaign.json")
		req.RouteKey = "POST /dashboard/campaigns/{id}/{action}"
		req.PathParameters = map[string]string{"id": campaign.ID, "action": action}
		if got := invoke(t, h.srv.Management(), req); got.StatusCode != want {
			t.Fatalf("%s: status=%d body=%s, want %d", action, got.StatusCode, got.Body, want)
		}
	}
	press("explode", 400)
	press("resume", 409)
	press("cancel", 303)
	if got := h.MustGetCampaign(t, campaign.ID); got.Status != "cancelled" {
		t.Fatalf("status=%s, want cancelled", got.Status)
	}
	resp = invoke(t, h.srv.Management(), dash)
	if strings.Contains(resp.Body, "/dashboard/campaigns/"+campaign.ID+"/") {
		t.Fatalf("a cancelled campaign still shows buttons")
	}
}

// GET /campaigns/{id}/calls.csv holds every call, one row each after the header, with its contact.
func TestCampaignCallsCSV(t *testing.T) {
	h := MustHarness(t)
	campaign, calls := h.MustCreateCampaign(t, 600) // More than one page of the index.
	req := MustEvent(t, "api-campaign-calls-csv.json")
	req.PathParameters = map[string]string{"id": campaign.ID}
	resp := invoke(t, h.srv.Management(), req)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Headers["Content-Type"], "text/csv") {
		t.Fatalf("status=%d content-type=%q body=%.200s, want 200 text/csv", resp.StatusCode, resp.Headers["Content-Type"], resp.Body)
	}
	rows, err := csv.NewReader(strings.NewReader(resp.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(calls)+1 || rows[0][0] != "call_id" || resp.Headers["X-Next-Cursor"] != "" {
		t.Fatalf("rows=%d, want a header and %d calls, all in one response", len(rows), len(calls))
	}
	seen := map[string]bool{}
	for _, r := range rows[1:] {
		if seen[r[0]] || r[4] == "" {
			t.Fatalf("row %v: a call twice, or without its contact's phone", r)
		}
		seen[r[0]] = true
	}
}
