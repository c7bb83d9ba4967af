package simulator

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/ringfence/ringfence/shared/ringfence"
	"github.com/ringfence/ringfence/shared/vapi"
)

// vapiReasons is the endedReason Vapi reports for each outcome.
var vapiReasons = map[ringfence.CallStatus]string{
	ringfence.StatusCompleted: "customer-ended-call",
	ringfence.StatusNoAnswer:  "customer-did-not-answer",
	ringfence.StatusBusy:      "customer-busy",
	ringfence.StatusFailed:    "twilio-failed-to-connect-call",
	ringfence.StatusCancelled: "manually-canceled",
}

// vapiCall is a call the simulated Vapi placed, as its API lists it.
type vapiCall struct {
	ID                 string                  `json:"id"`
	OrgID              string                  `json:"orgId"`
	Type               string                  `json:"type"`
	Status             string                  `json:"status"`
	PhoneNumberID      string                  `json:"phoneNumberId"`
	AssistantID        string                  `json:"assistantId"`
	Customer           vapi.Party              `json:"customer"`
	AssistantOverrides vapi.AssistantOverrides `json:"assistantOverrides"`
	CreatedAt          time.Time               `json:"createdAt"`
}

// VapiScript scripts the server messages Vapi sends for one call that ends in outcome: status
// updates (queued, ringing, in-progress for a call that connected, ended), then the end-of-call
// report, whose call object is the stale snapshot Vapi took while the call rang; a few duplicated,
// all shuffled.
func VapiScript(rng *rand.Rand, call vapiCall, outcome ringfence.CallStatus, start time.Time) Script {
	cost := fmt.Sprintf("0.%04d", 100+rng.IntN(9000))
	reason := vapiReasons[outcome]
	statuses := []string{"queued", "ringing"}
	if outcome == ringfence.StatusCompleted {
		statuses = append(statuses, "in-progress")
	}
	statuses = append(statuses, "ended")
	var bodies [][]byte
	for i, st := range statuses {
		snapshot := call
		snapshot.Status = st
		msg := map[string]any{"type": vapi.TypeStatusUpdate, "status": st, "timestamp": start.Add(time.Duration(i) * time.Second).UnixMilli(), "call": snapshot, "customer": call.Customer}
		if st == "ended" {
			msg["endedReason"] = reason
		}
		bodies = append(bodies, vapiMessage(msg))
	}
	stale := call
	stale.Status = "ringing"
	end := start.Add(time.Duration(20+rng.IntN(60)) * time.Second)
	report := map[string]any{
		"type": vapi.TypeEndOfCallReport, "endedReason": reason, "cost": json.Number(cost),
		"startedAt": start.UTC().Format(time.RFC3339Nano), "endedAt": end.UTC().Format(time.RFC3339Nano),
		"timestamp": end.Add(2 * time.Second).UnixMilli(), "call": stale, "customer": call.Customer,
		"artifact": map[string]any{
			"transcript":   "AI: Good evening! This is your daily check-in.\nUser: All good, thanks.\n",
			"recordingUrl": "https://storage.vapi.ai/" + call.ID + "-mono.wav",
		},
		"analysis": map[string]any{"summary": "Daily check-in completed.", "structuredData": map[string]any{"mood": "good"}, "successEvaluation": "true"},
	}
	bodies = append(bodies, vapiMessage(report))
	for range 3 {
		bodies = append(bodies, bodies[rng.IntN(len(bodies))])
	}
	rng.Shuffle(len(bodies), func(i, j int) { bodies[i], bodies[j] = bodies[j], bodies[i] })
	return Script{Provider: ringfence.ProviderVapi, ExecutionID: call.ID, Deliveries: bodies, Outcome: outcome, Cost: ringfence.MustParseDecimal(cost)}
}

func vapiMessage(m map[string]any) []byte {
	b, err := json.Marshal(map[string]any{"message": m})
	if err != nil {
		panic(err)
	}
	return b
}

// vapiCreateCall answers POST /call in Vapi's shapes and, later, sends the call's messages.
func (s *Simulator) vapiCreateCall(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.opts.APIKey {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Invalid Key. Hot tip, you may be using the private key instead of the public key, or vice versa.", "error": "Unauthorized", "statusCode": 401})
		return
	}
	var req vapi.CreateCallRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": []string{"body must be JSON"}, "error": "Bad Request", "statusCode": 400})
		return
	}
	if req.AssistantID == "" || req.PhoneNumberID == "" || !e164.MatchString(req.Customer.Number) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": []string{"assistantId, phoneNumberId and an E.164 customer.number are required"}, "error": "Bad Request", "statusCode": 400})
		return
	}
	if s.refuses(req.Customer.Number) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Couldn't Create Call. Customer number is invalid.", "error": "Bad Request", "statusCode": 400})
		return
	}
	if s.atLimit() {
		// Vapi answers a call its concurrency limit blocked with the batch shape and
		// subscriptionLimits.concurrencyBlocked (shared/vapi/testdata/create-call-concurrency-blocked.json).
		writeJSON(w, http.StatusCreated, map[string]any{
			"subscriptionLimits": map[string]any{"concurrencyBlocked": true, "concurrencyLimit": s.opts.CallLimit, "remainingConcurrentCalls": 0},
			"results":            []any{},
			"errors":             []any{map[string]any{"customer": req.Customer, "error": "Concurrency limit reached."}},
		})
		return
	}
	var call vapiCall
	script := s.place(req.Customer.Number, req.AssistantOverrides.Metadata[vapi.CallIDVariable], func(rng *rand.Rand, id, echo string) Script {
		call = vapiCall{ID: id, OrgID: "org-sim", Type: "outboundPhoneCall", Status: "queued", PhoneNumberID: req.PhoneNumberID,
			AssistantID: req.AssistantID, Customer: req.Customer, CreatedAt: time.Now().UTC()}
		if echo != "" {
			call.AssistantOverrides = req.AssistantOverrides
		}
		return VapiScript(rng, call, OutcomeFor(req.Customer.Number), time.Now())
	})
	s.mu.Lock()
	s.vapiCalls = append(s.vapiCalls, call)
	s.mu.Unlock()
	if s.start(w, script) {
		return
	}
	writeJSON(w, http.StatusCreated, call)
}

// vapiListCalls answers GET /call: the calls placed from phoneNumberId after createdAtGt, as a
// plain array, as Vapi's API does.
func (s *Simulator) vapiListCalls(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.opts.APIKey {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Invalid Key.", "statusCode": 401})
		return
	}
	since, _ := time.Parse(time.RFC3339Nano, r.URL.Query().Get("createdAtGt"))
	phone := r.URL.Query().Get("phoneNumberId")
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []vapiCall{}
	for _, c := range s.vapiCalls {
		if (phone == "" || c.PhoneNumberID == phone) && c.CreatedAt.After(since) {
			out = append(out, c)
		}
	}
	writeJSON(w, http.StatusOK, out)
}
