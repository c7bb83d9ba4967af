package simulator

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ringfence/ringfence/shared/ringfence"
	"github.com/ringfence/ringfence/shared/vapi"
)

// The credentials the simulated Vapi can authenticate its server messages with.
const (
	VapiBearer       = "bearer"        // Authorization: Bearer <secret>, Vapi's default credential.
	VapiSecretHeader = "x-vapi-secret" // The legacy inline secret, in X-Vapi-Secret.
	VapiHMAC         = "hmac"          // An HMAC credential with its defaults: x-signature, x-timestamp.
)

// authenticateVapi sets the headers by which a server message carries secret, as credential
// says (VapiBearer when empty). An HMAC is computed at the moment the message is sent.
func authenticateVapi(h http.Header, body []byte, credential, secret string, now time.Time) {
	switch credential {
	case VapiSecretHeader:
		h.Set(vapi.SecretHeader, secret)
	case VapiHMAC:
		ts := strconv.FormatInt(now.UnixMilli(), 10)
		h.Set(vapi.SignatureHeader, hex.EncodeToString(vapi.Sign(body, secret, ts)))
		h.Set(vapi.TimestampHeader, ts)
	default:
		h.Set(vapi.AuthorizationHeader, "Bearer "+secret)
	}
}

// vapiTimestamp is a message's timestamp in one of the forms Vapi has sent: epoch milliseconds,
// as today's schema has it, or an ISO-8601 string, as 2024's messages carried it.
func vapiTimestamp(rng *rand.Rand, t time.Time) any {
	if rng.IntN(2) == 0 {
		return t.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return t.UnixMilli()
}

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
// all shuffled. Their timestamps are epoch milliseconds or ISO-8601 strings, at random.
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
		msg := map[string]any{"type": vapi.TypeStatusUpdate, "status": st, "timestamp": vapiTimestamp(rng, start.Add(time.Duration(i)*time.Second)), "call": snapshot, "customer": call.Customer}
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
		"timestamp": vapiTimestamp(rng, end.Add(2*time.Second)), "call": stale, "customer": call.Customer,
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
	live := call
	live.Status = statuses[len(statuses)-2]
	ended := vapiCallObject(call, map[string]any{"status": "ended", "endedReason": reason, "cost": json.Number(cost),
		"startedAt": report["startedAt"], "endedAt": report["endedAt"], "updatedAt": report["endedAt"],
		"artifact": report["artifact"], "analysis": report["analysis"]})
	return Script{Provider: ringfence.ProviderVapi, ExecutionID: call.ID, Deliveries: bodies, Outcome: outcome, Cost: ringfence.MustParseDecimal(cost),
		Live: vapiCallObject(live, nil), Final: ended}
}

// vapiCallObject renders a call as Vapi's API returns it (GET /call/{id}), with more fields.
func vapiCallObject(call vapiCall, more map[string]any) []byte {
	b, err := json.Marshal(call)
	if err != nil {
		panic(err)
	}
	var obj map[string]any
	json.Unmarshal(b, &obj)
	for k, v := range more {
		obj[k] = v
	}
	if b, err = json.Marshal(obj); err != nil {
		panic(err)
	}
	return b
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
	script := s.place(req.Customer.Number, req.AssistantOverrides.Metadata[vapi.CallIDVariable], placement{agentID: req.AssistantID, from: req.PhoneNumberID}, func(rng *rand.Rand, id, echo string) Script {
		call = vapiCall{ID: id, OrgID: "org-sim", Type: "outboundPhoneCall", Status: "queued", PhoneNumberID: req.PhoneNumberID,
			AssistantID: req.AssistantID, Customer: req.Customer, CreatedAt: time.Now().UTC()}
		if echo != "" {
			call.AssistantOverrides = req.AssistantOverrides
		}
		return VapiScript(rng, call, OutcomeFor(req.Customer.Number), time.Now())
	})
	if s.start(w, script) {
		return
	}
	writeJSON(w, http.StatusCreated, call)
}

// vapiListCalls answers GET /call: the calls placed from phoneNumberId whose createdAt is within
// createdAtGt/createdAtGe and createdAtLe, newest first, at most limit (default 100), as a plain
// array, as Vapi's API does.
func (s *Simulator) vapiListCalls(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.opts.APIKey {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Invalid Key.", "statusCode": 401})
		return
	}
	q := r.URL.Query()
	after, _ := time.Parse(time.RFC3339Nano, q.Get("createdAtGt"))
	from, _ := time.Parse(time.RFC3339Nano, q.Get("createdAtGe"))
	to, _ := time.Parse(time.RFC3339Nano, q.Get("createdAtLe"))
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit <= 0 {
		limit = 100
	}
	phone := q.Get("phoneNumberId")
	calls := s.listed(ringfence.ProviderVapi, func(c *simCall) bool {
		return (phone == "" || c.who.from == phone) && c.createdAt.After(after) && !c.createdAt.Before(from) && (to.IsZero() || !c.createdAt.After(to))
	})
	out := make([]json.RawMessage, 0, len(calls))
	for i := len(calls) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, calls[i])
	}
	writeJSON(w, http.StatusOK, out)
}

// vapiGetCall answers GET /call/{id}: the call object, live or ended; 404 for a call Vapi has no
// record of.
func (s *Simulator) vapiGetCall(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.opts.APIKey {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Invalid Key.", "statusCode": 401})
		return
	}
	c := s.lookup(ringfence.ProviderVapi, strings.TrimPrefix(r.URL.Path, "/call/"))
	if c == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found", "statusCode": 404})
		return
	}
	s.mu.Lock()
	body := c.object()
	s.mu.Unlock()
	writeRaw(w, http.StatusOK, body)
}
