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

// Contacts exported in national format are read in the campaign's default_region and dialled in
// E.164; a direct call's number is read in its request's region; a number that cannot exist is
// refused with its position, and nothing of the request is written.
func TestNationalNumbersAreDialledInE164(t *testing.T) {
	s := MustStack(t, simulator.Options{Silent: true}, 5, 5)
	var c campaignView
	s.do(t, "POST", "/campaigns", `{"name":"uk","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100",
		"default_region":"GB","contacts":[{"name":"A","phone":"020 7946 0018"},{"name":"B","phone":"07911 123456"},
		{"name":"C","phone":"+1 (415) 555-0101"}]}`, 201, &c)
	var bad struct{ Message string }
	s.do(t, "POST", "/campaigns/"+c.ID+"/contacts", `{"contacts":[{"name":"D","phone":"020 7946 0019"},{"name":"E","phone":"020 12"}]}`, 400, &bad)
	if !strings.Contains(bad.Message, "contacts[1].phone") {
		t.Fatalf("bad upload message=%q, want contacts[1].phone", bad.Message)
	}
	s.do(t, "GET", "/campaigns/"+c.ID, "", 200, &c)
	if c.TotalContacts != 3 {
		t.Fatalf("total_contacts=%d after a refused upload, want 3", c.TotalContacts)
	}
	s.do(t, "POST", "/campaigns/"+c.ID+"/start", "", 202, nil)
	var direct callView
	s.do(t, "POST", "/calls", `{"to":"(212) 555-0101","default_region":"US","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100"}`, 201, &direct)
	dials := s.sim.Stats().DialsPerNumber
	for _, want := range []string{"+442079460018", "+447911123456", "+14155550101", "+12125550101"} {
		if dials[want] != 1 {
			t.Fatalf("dials=%v, want one to %s", dials, want)
		}
	}
}

// at sets the store's clock, which decides every window, to an RFC 3339 time.
func (s *stack) at(t *testing.T, v string) {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, v)
	if err != nil {
		t.Fatal(err)
	}
	s.setStoreNow(func() time.Time { return tm })
}

// drainCampaign runs one drain of the account's campaign queue and checks how many it dialled.
func (s *stack) drainCampaign(t *testing.T, want int) {
	t.Helper()
	n, err := s.fn("dispatcher").Calling.Drain(context.Background(), "acct_test", ringfence.SlotCampaign, 10)
	if err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Fatalf("dialled %d, want %d", n, want)
	}
}

// zonedCall is a call as GET /campaigns/{id}/calls shows it, with its recipient's zone.
type zonedCall struct {
	Status         string   `json:"status"`
	ProviderCallID string   `json:"provider_call_id"`
	Timezone       string   `json:"timezone"`
	TimezoneSource string   `json:"timezone_source"`
	Timezones      []string `json:"timezones"`
	Contact        struct {
		Phone string `json:"phone"`
	} `json:"contact"`
}

func (s *stack) zonedCalls(t *testing.T, campaignID string) map[string]zonedCall {
	t.Helper()
	var page struct{ Calls []zonedCall }
	s.do(t, "GET", "/campaigns/"+campaignID+"/calls", "", 200, &page)
	out := map[string]zonedCall{}
	for _, c := range page.Calls {
		out[c.Contact.Phone] = c
	}
	return out
}

// A contact without a timezone is called in its number's zone, not the campaign's: a campaign
// open 09:00–17:00 in New York calls its New York number at 09:30 there, its San Francisco number
// at 09:00 Pacific, and its Idaho number (area code 208 spans Mountain and Pacific time) only
// once the window is open in both zones. A contact's own timezone still wins, and a number the
// library places nowhere usable is called in the campaign's zone.
func TestRecipientZoneFromTheNumber(t *testing.T) {
	s := MustStack(t, simulator.Options{Silent: true}, 5, 10)
	s.at(t, "2026-11-02T14:30:00Z") // Monday: 09:30 in New York, 07:30 in Boise, 06:30 in San Francisco.
	var c campaignView
	s.do(t, "POST", "/campaigns", `{"name":"zones","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100",
		"calling_hours":{"timezone":"America/New_York","days":["mon","tue","wed","thu","fri"],"start":"09:00","end":"17:00"},
		"contacts":[{"name":"NY","phone":"+12125550101"},{"name":"SF","phone":"+14155550101"},
		            {"name":"Idaho","phone":"+12085550101"},{"name":"SF in NY","phone":"+14155550102","timezone":"America/New_York"}]}`, 201, &c)
	s.do(t, "POST", "/campaigns/"+c.ID+"/start", "", 202, nil)
	calls := s.zonedCalls(t, c.ID)
	for phone, want := range map[string]zonedCall{
		"+12125550101": {Timezone: "America/New_York", TimezoneSource: "number"},
		"+14155550101": {Timezone: "America/Los_Angeles", TimezoneSource: "number"},
		"+12085550101": {Timezone: "America/Boise", TimezoneSource: "number", Timezones: []string{"America/Boise", "America/Los_Angeles"}},
		"+14155550102": {Timezone: "America/New_York", TimezoneSource: "contact"},
	} {
		got := calls[phone]
		if got.Timezone != want.Timezone || got.TimezoneSource != want.TimezoneSource || strings.Join(got.Timezones, ",") != strings.Join(want.Timezones, ",") {
			t.Fatalf("call to %s zone=%s (%s) %v, want %s (%s) %v", phone, got.Timezone, got.TimezoneSource, got.Timezones, want.Timezone, want.TimezoneSource, want.Timezones)
		}
	}
	dialled := func(phones ...string) {
		t.Helper()
		calls := s.zonedCalls(t, c.ID)
		want := map[string]bool{}
		for _, p := range phones {
			want[p] = true
		}
		for phone, call := range calls {
			if got := call.ProviderCallID != ""; got != want[phone] {
				t.Fatalf("call to %s dialled=%v (status %s), want %v", phone, got, call.Status, want[phone])
			}
		}
	}
	dialled("+12125550101", "+14155550102")
	s.at(t, "2026-11-02T16:30:00Z") // 09:30 in Boise, 08:30 in San Francisco: Idaho's window is not open in both.
	s.drainCampaign(t, 0)
	dialled("+12125550101", "+14155550102")
	s.at(t, "2026-11-02T17:00:00Z") // 09:00 Pacific.
	s.drainCampaign(t, 2)
	dialled("+12125550101", "+14155550102", "+14155550101", "+12085550101")
	var csvBody string
	s.doCSV(t, "/campaigns/"+c.ID+"/calls.csv", &csvBody)
	if !strings.Contains(csvBody, ",America/Boise America/Los_Angeles,number") || !strings.Contains(csvBody, ",America/New_York,contact") {
		t.Fatalf("CSV=%s, want each call's timezone and timezone_source", csvBody)
	}
}

// No call on a blackout date, each judged on the recipient's own calendar: at 01:00 UTC on
// 3 November it is still the 2nd in Honolulu, whose contact is called, and already the 3rd (a
// blackout date) in Tokyo, whose contact waits for its window on the 4th.
func TestBlackoutDatesInTheRecipientsZone(t *testing.T) {
	s := MustStack(t, simulator.Options{Silent: true}, 5, 10)
	s.at(t, "2026-11-03T01:00:00Z") // 15:00 on the 2nd in Honolulu, 10:00 on the 3rd in Tokyo.
	var c campaignView
	s.do(t, "POST", "/campaigns", `{"name":"holiday","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100",
		"calling_hours":{"timezone":"America/New_York","days":["mon","tue","wed","thu","fri","sat","sun"],"start":"09:00","end":"17:00",
		                 "blackout_dates":["2026-11-03"]},
		"contacts":[{"name":"Honolulu","phone":"+18085551234"},{"name":"Tokyo","phone":"+81312345678"}]}`, 201, &c)
	var started struct{ Queued, Dialled int }
	s.do(t, "POST", "/campaigns/"+c.ID+"/start", "", 202, &started)
	if started.Queued != 2 || started.Dialled != 1 {
		t.Fatalf("start queued=%d dialled=%d, want 2 and 1", started.Queued, started.Dialled)
	}
	calls := s.zonedCalls(t, c.ID)
	if calls["+18085551234"].ProviderCallID == "" || calls["+81312345678"].ProviderCallID != "" {
		t.Fatalf("calls=%+v, want Honolulu dialled and Tokyo waiting", calls)
	}
	tokyo, err := s.env.Store.GetCall(context.Background(), "call_"+strings.TrimPrefix(c.ID, "cmp_")+"_"+dynamo.ContactID(1))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tokyo.QueueKey, "2026-11-04T00:00:00.000Z#") {
		t.Fatalf("Tokyo queue key=%s, want 09:00 JST on the 4th", tokyo.QueueKey)
	}
	s.at(t, "2026-11-04T00:00:00Z")
	s.drainCampaign(t, 1)
}

// doCSV reads a CSV answer of the API as text.
func (s *stack) doCSV(t *testing.T, path string, out *string) {
	t.Helper()
	*out = s.MustPage(t, path)
}

// With a cap of one call per 24 hours, a number in two running campaigns is dialled once: the
// other campaign's call waits, held, shows until when, and is dialled once the period allows.
// A direct call to the number counts toward the cap but is placed, unless it asks to respect it.
func TestContactFrequencyCapAcrossCampaigns(t *testing.T) {
	s := MustStack(t, simulator.Options{Silent: true}, 5, 10)
	ctx := context.Background()
	s.at(t, "2026-11-02T15:00:00Z")
	var settings struct {
		ContactFrequency struct {
			MaxCalls int    `json:"max_calls"`
			Per      string `json:"per"`
		} `json:"contact_frequency"`
	}
	s.do(t, "PUT", "/settings", `{"contact_frequency":{"max_calls":1,"per":"24h"}}`, 200, &settings)
	s.do(t, "GET", "/settings", "", 200, &settings)
	if settings.ContactFrequency.MaxCalls != 1 || settings.ContactFrequency.Per != "1d" {
		t.Fatalf("settings=%+v, want 1 call per 1d", settings)
	}
	s.do(t, "PUT", "/settings", `{"contact_frequency":{"max_calls":0,"per":"24h"}}`, 400, nil)
	var a, b campaignView
	s.do(t, "POST", "/campaigns", `{"name":"a","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100",
		"contacts":[{"name":"Shared","phone":"+12125550101"},{"name":"Only A","phone":"+12125550102"}]}`, 201, &a)
	s.do(t, "POST", "/campaigns", `{"name":"b","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100",
		"contacts":[{"name":"Shared","phone":"+12125550101"}]}`, 201, &b)
	s.do(t, "POST", "/campaigns/"+a.ID+"/start", "", 202, nil)
	s.do(t, "POST", "/campaigns/"+b.ID+"/start", "", 202, nil)
	if got := s.sim.Stats().DialsPerNumber["+12125550101"]; got != 1 {
		t.Fatalf("dials to the shared number=%d, want 1", got)
	}
	var held struct {
		Calls []struct {
			Status    string    `json:"status"`
			Held      string    `json:"held"`
			HeldUntil time.Time `json:"held_until"`
		}
	}
	s.do(t, "GET", "/campaigns/"+b.ID+"/calls", "", 200, &held)
	if len(held.Calls) != 1 || held.Calls[0].Status != "queued" || held.Calls[0].Held != "contact_frequency" ||
		!held.Calls[0].HeldUntil.Equal(time.Date(2026, 11, 3, 15, 0, 0, 0, time.UTC)) {
		t.Fatalf("campaign b calls=%+v, want one queued, held by contact_frequency until 2026-11-03T15:00Z", held.Calls)
	}
	// A direct call counts but is placed; one that respects the cap waits, held.
	var direct callView
	s.do(t, "POST", "/calls", `{"to":"+12125550102","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100"}`, 201, &direct)
	var respectful struct {
		Status string `json:"status"`
		Held   string `json:"held"`
	}
	s.do(t, "POST", "/calls", `{"to":"+12125550101","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100","respect_frequency":true}`, 202, &respectful)
	if respectful.Status != "queued" || respectful.Held != "contact_frequency" {
		t.Fatalf("respectful direct call=%+v, want queued and held", respectful)
	}
	s.at(t, "2026-11-03T14:59:00Z")
	s.drainCampaign(t, 0)
	s.at(t, "2026-11-03T15:00:00Z")
	s.drainCampaign(t, 1)
	if got := s.sim.Stats().DialsPerNumber["+12125550101"]; got != 2 {
		t.Fatalf("dials to the shared number=%d, want 2 a day apart", got)
	}
	// The held direct call now waits for the next period: the campaign's call took this one.
	n, err := s.fn("dispatcher").Calling.Drain(ctx, "acct_test", ringfence.SlotDirect, 5)
	if err != nil || n != 0 {
		t.Fatalf("direct drain dialled %d (%v), want 0", n, err)
	}
}

// A campaign started before its start_at is scheduled: it dials nothing until then, and the
// dispatcher starts it once start_at has come, once however many runs overlap. At its end_at it
// stops dialling: the calls not yet placed end expired (counted once), calls in flight finish,
// and the campaign completes with exact counters.
func TestScheduledStartAndEnd(t *testing.T) {
	s := MustStack(t, simulator.Options{Silent: true}, 5, 1)
	ctx := context.Background()
	s.at(t, "2026-11-02T15:00:00Z")
	var c campaignView
	s.do(t, "POST", "/campaigns", `{"name":"window","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100",
		"start_at":"2026-11-02T15:01:00Z","end_at":"2026-11-02T16:00:00Z","contacts":`+contacts(3)+`}`, 201, &c)
	var started struct {
		Campaign campaignView
		Queued   int
		Dialled  int
	}
	s.do(t, "POST", "/campaigns/"+c.ID+"/start", "", 202, &started)
	if started.Campaign.Status != "scheduled" || started.Dialled != 0 {
		t.Fatalf("start=%+v, want scheduled and nothing dialled", started)
	}
	dispatch := func() {
		t.Helper()
		if _, err := s.fn("dispatcher").Calling.DrainAll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	dispatch()
	if placed := s.sim.Stats().Placed; placed != 0 {
		t.Fatalf("placed=%d before start_at, want 0", placed)
	}
	s.at(t, "2026-11-02T15:01:00Z")
	dispatch()
	dispatch() // A second run finds it started.
	s.do(t, "GET", "/campaigns/"+c.ID, "", 200, &c)
	if c.Status != "running" || s.sim.Stats().Placed != 1 {
		t.Fatalf("campaign=%s placed=%d, want running with one call placed (one campaign slot)", c.Status, s.sim.Stats().Placed)
	}
	// At end_at the call in flight finishes, and the drain its webhook runs finds the dial claim
	// refused: the next call is never dialled.
	s.at(t, "2026-11-02T16:00:00Z")
	call, err := s.env.Store.GetCall(ctx, "call_"+strings.TrimPrefix(c.ID, "cmp_")+"_"+dynamo.ContactID(0))
	if err != nil {
		t.Fatal(err)
	}
	ev := ringfence.CallEvent{Provider: ringfence.ProviderBolna, CallID: call.ID, ProviderCallID: call.ProviderCallID, Status: ringfence.StatusCompleted}
	if _, _, err := s.fn("bolna-webhook").Calling.ApplyEvent(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if placed := s.sim.Stats().Placed; placed != 1 {
		t.Fatalf("placed=%d after end_at, want 1", placed)
	}
	dispatch()
	dispatch()
	s.do(t, "GET", "/campaigns/"+c.ID, "", 200, &c)
	if c.Status != "completed" || c.CallsCompleted != 3 || c.Outcomes["expired"] != 2 || c.Outcomes["completed"] != 1 || c.Attempts != 1 {
		t.Fatalf("campaign=%+v, want completed: 1 completed, 2 expired, 1 attempt", c)
	}
	if placed := s.sim.Stats().Placed; placed != 1 {
		t.Fatalf("placed=%d, want 1", placed)
	}
}
