package calling_test

import (
	"strings"
	"testing"

	"github.com/ringfence/ringfence/infra/simulator"
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
