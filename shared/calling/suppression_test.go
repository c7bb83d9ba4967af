package calling_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/ringfence/ringfence/infra/simulator"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// Suppressed numbers are never dialled: not by a campaign (even a contact queued before its
// number was suppressed, which ends skipped and is counted once), not by a direct call.
func TestSuppressedNumbersAreNeverDialled(t *testing.T) {
	s := MustStack(t, simulator.Options{CallLength: 20 * time.Millisecond, Seed: 5}, 2, 1)
	path := func(phone string) string { return "/suppressions/" + url.PathEscape(phone) }
	s.do(t, "PUT", path("+14155550001"), "", 200, nil)
	s.do(t, "PUT", path("+14155550001"), "", 200, nil) // Idempotent.
	s.do(t, "POST", "/calls", `{"to":"+14155550001","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100"}`, 409, nil)

	var c campaignView
	s.do(t, "POST", "/campaigns", `{"name":"dnc","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100",
		"contacts":[{"phone":"+14155550000"},{"phone":"+14155550001"},{"phone":"+14155550002"},{"phone":"+14155550003"}]}`, 201, &c)
	// One campaign slot: the first contact is dialled, the others wait in the queue; then the last
	// one's number is suppressed while it waits.
	s.do(t, "POST", "/campaigns/"+c.ID+"/start", "", 202, nil)
	s.do(t, "PUT", path("+14155550003"), "", 200, nil)
	s.dispatchEvery(t, 100*time.Millisecond)
	var got campaignView
	waitFor(t, 60*time.Second, "the campaign to finish", func() bool {
		s.do(t, "GET", "/campaigns/"+c.ID, "", 200, &got)
		return got.Status == "completed"
	})
	s.sim.Wait()
	st := s.sim.Stats()
	if st.DialsPerNumber["+14155550001"] != 0 || st.DialsPerNumber["+14155550003"] != 0 || st.Placed != 2 {
		t.Fatalf("dials=%v, want only +14155550000 and +14155550002", st.DialsPerNumber)
	}
	if got.Outcomes["skipped"] != 2 || got.Status != "completed" || got.Attempts != 2 {
		t.Fatalf("campaign=%+v, want 2 skipped, 2 attempts, completed", got)
	}
	var list struct {
		Suppressions []struct{ Phone string } `json:"suppressions"`
	}
	s.do(t, "GET", "/suppressions", "", 200, &list)
	if len(list.Suppressions) != 2 || list.Suppressions[0].Phone != "+14155550001" {
		t.Fatalf("suppressions=%+v, want the two numbers", list.Suppressions)
	}
	s.do(t, "DELETE", path("+14155550001"), "", 200, nil)
	s.do(t, "DELETE", path("+14155550001"), "", 200, nil)
	s.do(t, "POST", "/calls", `{"to":"+14155550001","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100"}`, 201, nil)
}

// A scheduled (welcome) call to a suppressed number is never dialled either: its claim finds the
// number on the list, and the call ends skipped.
func TestSuppressedNumbersGetNoScheduledCall(t *testing.T) {
	s := MustStack(t, simulator.Options{Silent: true}, 10, 10)
	c := &clock{}
	c.Set(time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC))
	s.useClock(c)
	customers := []ringfence.Customer{vapiCustomer(0), vapiCustomer(1), vapiCustomer(2)}
	MustCustomers(t, s, customers, func(ringfence.Customer) time.Time { return time.Time{} })
	s.do(t, "PUT", "/suppressions/"+url.PathEscape(customers[1].Phone), "", 200, nil)
	ctx := context.Background()
	c.Add(21 * time.Minute)
	for range 2 { // Two scheduler and dispatcher rounds: the suppressed customer is not tried again.
		if _, err := s.fn("scheduler").Calling.Schedule(ctx, c.Now(), 15*time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := s.fn("dispatcher").Calling.DrainAll(ctx); err != nil {
			t.Fatal(err)
		}
		c.Add(15 * time.Minute)
	}
	st := s.sim.Stats()
	if st.Placed != 2 || st.DialsPerNumber[customers[1].Phone] != 0 {
		t.Fatalf("placed=%d dials=%v, want 2 and none to %s", st.Placed, st.DialsPerNumber, customers[1].Phone)
	}
}
