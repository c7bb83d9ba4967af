package calling_test

import (
	"context"
	"io"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringfence/ringfence/infra/simulator"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// MustPage GETs a page (the dashboard's HTML, a CSV) with the API key and returns its text.
func (s *stack) MustPage(t *testing.T, path string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", s.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: status=%d, want 200:\n%.500s", path, resp.StatusCode, b)
	}
	return string(b)
}

// MustDemoCampaign runs a campaign of n contacts on the simulator to its end and returns it.
func (s *stack) MustDemoCampaign(t *testing.T, name string, n int) campaignView {
	t.Helper()
	var c campaignView
	s.do(t, "POST", "/campaigns", `{"name":"`+name+`","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100","contacts":`+contacts(n)+`}`, 201, &c)
	s.do(t, "POST", "/campaigns/"+c.ID+"/start", "", 202, nil)
	waitFor(t, 30*time.Second, "the campaign to complete", func() bool {
		var got campaignView
		s.do(t, "GET", "/campaigns/"+c.ID, "", 200, &got)
		return got.Status == "completed"
	})
	s.sim.Wait()
	s.do(t, "GET", "/campaigns/"+c.ID, "", 200, &c)
	return c
}

// ratioOf is n/d rounded to places, computed exactly as the page does.
func ratioOf(t *testing.T, n string, d, places int) string {
	r, ok := new(big.Rat).SetString(n)
	if !ok {
		t.Fatalf("not a number: %q", n)
	}
	return r.Quo(r, big.NewRat(int64(d), 1)).FloatString(places)
}

// A campaign run on the simulator through the whole stack: its page's hourly numbers equal the
// campaign's counters and the sum of its calls, since the hour counters moved in the same
// transactions as the calls' ends and reports.
func TestCampaignPageNumbersEqualCountersAndCalls(t *testing.T) {
	s := MustStack(t, simulator.Options{CallLength: 10 * time.Millisecond, Seed: 27}, 5, 3)
	c := s.MustDemoCampaign(t, "Hourly numbers", 12)
	var page struct {
		Calls []struct {
			Outcome  string  `json:"outcome"`
			Cost     *string `json:"cost"`
			Duration *string `json:"duration_seconds"`
		} `json:"calls"`
	}
	s.do(t, "GET", "/campaigns/"+c.ID+"/calls?limit=500", "", 200, &page)
	var cost, talk ringfence.Decimal
	answered := 0
	for _, call := range page.Calls {
		if call.Cost != nil {
			cost = cost.Add(ringfence.MustParseDecimal(*call.Cost))
		}
		if call.Outcome == "completed" {
			answered++
			if call.Duration != nil {
				talk = talk.Add(ringfence.MustParseDecimal(*call.Duration))
			}
		}
	}
	now := time.Now()
	hours, err := s.env.Store.CampaignHours(context.Background(), c.ID, now.Add(-2*time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	sum := ringfence.HourStats{}
	for _, h := range hours {
		sum = sum.Plus(h)
	}
	if sum.Dialled != c.Attempts || sum.EndedTotal() != len(page.Calls) || sum.Answered() != answered {
		t.Fatalf("hours count %d dialled, %d ended, %d answered; the campaign %d attempts, its calls %d and %d answered",
			sum.Dialled, sum.EndedTotal(), sum.Answered(), c.Attempts, len(page.Calls), answered)
	}
	if sum.Cost.Cmp(ringfence.MustParseDecimal(c.TotalCost)) != 0 || sum.Cost.Cmp(cost) != 0 || sum.TalkSeconds.Cmp(talk) != 0 {
		t.Fatalf("hours cost %s and talk %s; the campaign %s, its calls %s and talk %s", sum.Cost, sum.TalkSeconds, c.TotalCost, cost, talk)
	}
	if answered == 0 || answered == c.Attempts {
		t.Fatalf("%d of %d answered: the simulator's seed should give a mix", answered, c.Attempts)
	}

	html := s.MustPage(t, "/dashboard/campaigns/"+c.ID)
	tenths := (1000*answered + c.Attempts/2) / c.Attempts
	for _, want := range []string{
		`id="calls-ended">` + strconv.Itoa(len(page.Calls)) + `<`,
		`id="answer-rate">` + strconv.Itoa(tenths/10) + "." + strconv.Itoa(tenths%10) + `%<`,
		`id="cost-per-answered">` + ratioOf(t, c.TotalCost, answered, 4) + `<`,
		`id="average-talk">` + ratioOf(t, talk.String(), answered, 1) + ` s<`,
		`id="total-cost">` + c.TotalCost + `<`,
	} {
		if !strings.Contains(html, want) {
			t.Fatalf("the campaign page does not show %s", want)
		}
	}
	if got := strings.Count(html, `data-call="`); got != len(page.Calls) {
		t.Fatalf("the campaign page lists %d calls, want %d", got, len(page.Calls))
	}
	// The account's dashboard charts the same hours, over all its calls.
	if dash := s.MustPage(t, "/dashboard"); !strings.Contains(dash, `id="calls-ended">`+strconv.Itoa(len(page.Calls))+`<`) ||
		!strings.Contains(dash, `href="/dashboard/campaigns/`+c.ID+`"`) {
		t.Fatalf("the dashboard does not chart the account's %d calls or link the campaign", len(page.Calls))
	}
}
