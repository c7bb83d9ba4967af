package httpapi

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// campaignPageCalls is how many calls one render of a campaign page reads: the filters apply to
// that page, so a filtered page may show fewer rows, and the page's cost never grows with the
// campaign's calls.
const campaignPageCalls = 50

// Periods the dashboard charts, in hours: one hour item each, so a render reads at most
// maxChartHours+1 of them, however many calls ended in them.
const (
	defaultChartHours = 24
	maxChartHours     = 168
)

// callRow is one call in a campaign page's table.
type callRow struct {
	ID, Contact, Phone, Status, Outcome, EndReason, WaitsFor string
	Attempt                                                  int
	Created, Ended                                           stamp
	Duration, Cost, RecordingURL, Transcript                 string
}

// stamp is a time as the pages show it: UTC text in a <time> element with its machine form.
type stamp struct{ Text, ISO string }

func stampOf(t time.Time) stamp {
	if t.IsZero() {
		return stamp{}
	}
	return stamp{Text: t.UTC().Format("2006-01-02 15:04:05 UTC"), ISO: t.UTC().Format(time.RFC3339)}
}

// dashboardCampaign serves one campaign's page: its settings, counters and controls, the charts of
// its hour counters, and a page of its calls, filtered by status or outcome.
func (s *Server) dashboardCampaign(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	account, ok := s.dashboardAccount(ctx, req)
	if !ok {
		return http.StatusUnauthorized, loginPage(""), nil
	}
	id, err := pathID(req)
	if err != nil {
		return 0, nil, err
	}
	q := req.QueryStringParameters
	status, err := statusFilter("status", q["status"], false)
	if err != nil {
		return 0, nil, err
	}
	outcome, err := statusFilter("outcome", q["outcome"], true)
	if err != nil {
		return 0, nil, err
	}
	hours, err := chartHours(q["hours"])
	if err != nil {
		return 0, nil, err
	}
	after, err := callsCursor(q["cursor"])
	if err != nil {
		return 0, nil, err
	}
	c, err := s.store.GetCampaign(ctx, account, id)
	if err != nil {
		return 0, nil, err
	}
	now := s.Now().UTC()
	from := now.Add(-time.Duration(hours-1) * time.Hour)
	stats, err := s.store.CampaignHours(ctx, c.ID, from, now)
	if err != nil {
		return 0, nil, err
	}
	calls, contacts, err := s.store.CampaignCallsPage(ctx, c.ID, after, campaignPageCalls)
	if err != nil {
		return 0, nil, err
	}
	var rows []callRow
	for _, call := range calls {
		if (status != "" && call.Status != status) || (outcome != "" && call.Outcome != outcome) {
			continue
		}
		contact := contacts[call.ContactID]
		rows = append(rows, callRowOf(call, contact, c, now))
	}
	next := ""
	if len(calls) == campaignPageCalls {
		v := url.Values{"cursor": {base64.RawURLEncoding.EncodeToString([]byte(calls[len(calls)-1].ID))}}
		for _, k := range []string{"status", "outcome", "hours"} {
			if q[k] != "" {
				v.Set(k, q[k])
			}
		}
		next = "?" + v.Encode()
	}
	view := map[string]any{
		"Account": account, "Campaign": c, "Settings": settingsOf(c), "Actions": campaignActions(c.Status),
		"Lifetime": lifetimeNumbersOf(c), "Charts": chartsOf(stats, from, hours, "Campaign "+c.Name), "Calls": rows,
		"Next": next, "Status": string(status), "Outcome": string(outcome), "Hours": hours, "HourChoices": []int{6, 24, 72, 168},
		"Statuses": allStatuses(), "Outcomes": ringfence.CampaignOutcomes, "Now": stampOf(now), "Filtered": status != "" || outcome != "",
	}
	return http.StatusOK, page{html: render(campaignTemplate, view)}, nil
}

// statusFilter validates a status (or outcome) filter from the query string; "" filters nothing.
func statusFilter(name, v string, terminalOnly bool) (ringfence.CallStatus, error) {
	if v == "" {
		return "", nil
	}
	st := ringfence.CallStatus(v)
	if st.Rank() == 0 || (terminalOnly && !st.IsTerminal()) {
		return "", ringfence.Errorf(ringfence.EINVALID, "%s %s is not a call %s", name, ringfence.Excerpt(v), name)
	}
	return st, nil
}

// chartHours validates the period the charts show, in hours.
func chartHours(v string) (int, error) {
	if v == "" {
		return defaultChartHours, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxChartHours {
		return 0, ringfence.Errorf(ringfence.EINVALID, "hours must be a whole number from 1 to %d", maxChartHours)
	}
	return n, nil
}

// callsCursor decodes a calls page cursor, as GET /campaigns/{id}/calls does.
func callsCursor(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) > 200 || !strings.HasPrefix(string(b), "call_") {
		return "", ringfence.Errorf(ringfence.EINVALID, "cursor is not one this page gave")
	}
	return string(b), nil
}

func allStatuses() []ringfence.CallStatus {
	return []ringfence.CallStatus{ringfence.StatusQueued, ringfence.StatusDialing, ringfence.StatusInitiated, ringfence.StatusRinging,
		ringfence.StatusInProgress, ringfence.StatusEnded, ringfence.StatusCompleted, ringfence.StatusNoAnswer, ringfence.StatusBusy,
		ringfence.StatusFailed, ringfence.StatusCancelled, ringfence.StatusSkipped}
}

// transcriptShown bounds the transcript a campaign page shows per call, so a page of long calls
// stays small; the full transcript is in GET /calls/{id}.
const transcriptShown = 2000

func callRowOf(c ringfence.Call, contact ringfence.Contact, campaign ringfence.Campaign, now time.Time) callRow {
	r := callRow{ID: c.ID, Contact: contact.Name, Phone: c.ToNumber, Status: string(c.Status), Outcome: string(c.Outcome),
		EndReason: c.EndReason, Attempt: max(c.Attempt, 1), Created: stampOf(c.CreatedAt), Ended: stampOf(c.EndedAt),
		RecordingURL: safeLink(c.RecordingURL), WaitsFor: waitsFor(c, campaign, now)}
	if c.Duration != nil {
		r.Duration = c.Duration.String() + " s"
	}
	if c.Cost != nil {
		r.Cost = c.Cost.String()
	}
	r.Transcript = c.Transcript
	if len(r.Transcript) > transcriptShown {
		r.Transcript = r.Transcript[:transcriptShown] + " … (cut here; GET /calls/" + c.ID + " has it whole)"
	}
	return r
}

// safeLink keeps only http(s) links: a recording URL comes from a provider, and a javascript:
// URL must never become a link on the dashboard.
func safeLink(u string) string {
	if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		return u
	}
	return ""
}

// waitsFor says why a queued call is not being dialled yet: a hold (the campaign is paused), its
// retry delay or start time, the calling hours of the contact's zone, or a free concurrency slot.
func waitsFor(c ringfence.Call, campaign ringfence.Campaign, now time.Time) string {
	if c.Status != ringfence.StatusQueued {
		return ""
	}
	if campaign.Status == ringfence.CampaignPaused {
		return "a hold: the campaign is paused"
	}
	notBefore, _, _ := strings.Cut(c.QueueKey, "#")
	if t, err := time.Parse(time.RFC3339Nano, notBefore); err == nil && t.After(now) {
		if c.Attempt > 1 {
			return "its retry delay, until " + stampOf(t).Text
		}
		return "its start time, " + stampOf(t).Text
	}
	if c.Hours != nil && !c.Hours.Open(now) {
		return "calling hours, open from " + stampOf(c.Hours.NextOpen(now)).Text
	}
	if campaign.MaxConcurrency > 0 {
		return "a free slot (at most " + strconv.Itoa(campaign.MaxConcurrency) + " at once)"
	}
	return "a free slot of the account"
}

// setting is one line of a campaign's settings.
type setting struct{ Name, Value string }

func settingsOf(c ringfence.Campaign) []setting {
	out := []setting{{"provider", string(c.Provider)}, {"agent", c.AgentID}, {"from number", c.FromNumber}, {"created", stampOf(c.CreatedAt).Text}}
	hours := "any time"
	if h := c.Hours; h != nil {
		hours = strings.Join(h.Days, ", ") + " " + h.Start + "–" + h.End + " " + h.Timezone + " (each contact's own zone first)"
	}
	out = append(out, setting{"calling hours", hours})
	retry := "none: each contact is called once"
	if r := c.Retry; r != nil {
		var statuses []string
		for _, st := range r.Statuses {
			statuses = append(statuses, string(st))
		}
		retry = "up to " + strconv.Itoa(r.MaxAttempts) + " attempts on " + strings.Join(statuses, ", ") + ", after " + strings.Join(r.Delays, ", ")
	}
	out = append(out, setting{"retry", retry})
	concurrency := "the account's campaign slots"
	if c.MaxConcurrency > 0 {
		concurrency = "at most " + strconv.Itoa(c.MaxConcurrency) + " at once"
	}
	return append(out, setting{"concurrency", concurrency + "; " + strconv.Itoa(c.InFlight) + " in flight now"})
}
