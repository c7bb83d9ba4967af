package simulator_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ringfence/ringfence/infra/simulator"
	"github.com/ringfence/ringfence/shared/bolna"
	"github.com/ringfence/ringfence/shared/retell"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// finalStatus applies a script's deliveries as ringfence does, the first terminal status winning,
// and reports it with whether any delivery's end reason was a voicemail's.
func finalStatus(t *testing.T, sc simulator.Script) (ringfence.CallStatus, bool) {
	t.Helper()
	var final ringfence.CallStatus
	var voicemail bool
	for _, body := range sc.Deliveries {
		var ev ringfence.CallEvent
		var err error
		switch sc.Provider {
		case ringfence.ProviderBolna:
			ev, err = bolna.ParseWebhook(body)
		case ringfence.ProviderRetell:
			var w retell.Webhook
			if w, err = retell.ParseWebhook(body); err == nil {
				ev, err = w.CallEvent()
			}
		}
		if err != nil {
			t.Fatalf("delivery does not parse: %v\n%s", err, body)
		}
		if ev.Status.IsTerminal() {
			if final != "" && final != ev.Status {
				t.Fatalf("deliveries disagree on the outcome: %s and %s", final, ev.Status)
			}
			final = ev.Status
		}
		if ev.EndReason == "completed: "+bolna.VoicemailEndReason || ev.EndReason == "voicemail_reached" {
			voicemail = true
		}
	}
	return final, voicemail
}

// Unanswered calls in the simulator's scripts include voicemail pickups, as the providers report
// them (Bolna's answered_by_voice_mail, Retell's voicemail_reached), and every script still ends
// with the outcome it promises.
func TestScriptsIncludeVoicemailPickups(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	for _, provider := range []ringfence.Provider{ringfence.ProviderBolna, ringfence.ProviderRetell} {
		pickups := map[bool]int{}
		for i := 0; i < 40; i++ {
			for _, outcome := range ringfence.Outcomes {
				var sc simulator.Script
				if provider == ringfence.ProviderBolna {
					sc = simulator.BolnaScript(rng, "exec-1", "", outcome, start)
				} else {
					sc = simulator.RetellScript(rng, simulator.RetellCall{CallID: "c1", Direction: ringfence.Outbound}, outcome, start)
				}
				got, voicemail := finalStatus(t, sc)
				if got != outcome || got != sc.Outcome {
					t.Fatalf("%s script for %s ends %s", provider, outcome, got)
				}
				if voicemail && outcome != ringfence.StatusNoAnswer {
					t.Fatalf("%s: a voicemail pickup in a %s script", provider, outcome)
				}
				if outcome == ringfence.StatusNoAnswer {
					pickups[voicemail]++
				}
			}
		}
		if pickups[true] == 0 || pickups[false] == 0 {
			t.Fatalf("%s: unanswered scripts with and without voicemail = %d/%d, want both", provider, pickups[true], pickups[false])
		}
	}
}

// A Bolna custom function's request has its parameters in the query string for GET and in a JSON
// body for POST, with the api_token as the Authorization header.
func TestBolnaToolRequest(t *testing.T) {
	params := map[string]string{"execution_id": "exec-1", "reschedule_day": "Thursday"}
	get, err := simulator.BolnaToolRequest("GET", "http://localhost/tools/reschedule_lead", params, "Bearer tok")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := get.URL.RawQuery, "execution_id=exec-1&reschedule_day=Thursday"; got != want || get.Body != nil || get.Header.Get("Authorization") != "Bearer tok" {
		t.Fatalf("GET query=%s body=%v auth=%q, want %s, no body, the token", got, get.Body, get.Header.Get("Authorization"), want)
	}
	post, err := simulator.BolnaToolRequest("POST", "http://localhost/tools/reschedule_lead", params, "Bearer tok")
	if err != nil || post.URL.RawQuery != "" || post.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("POST=%+v (%v), want a JSON body and no query", post, err)
	}
	if _, err := simulator.BolnaToolRequest("DELETE", "http://localhost/tools/x", params, ""); err == nil {
		t.Fatal("DELETE accepted, want an error")
	}
}
