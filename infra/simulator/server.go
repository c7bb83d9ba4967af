package simulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/ringfence/ringfence/shared/bolna"
	"github.com/ringfence/ringfence/shared/retell"
	"github.com/ringfence/ringfence/shared/ringfence"
	"github.com/ringfence/ringfence/shared/vapi"
)

// Options configure the simulator.
type Options struct {
	// APIKey is the bearer key the simulated provider API accepts.
	APIKey string
	// BolnaWebhookURL is where Bolna's execution webhooks are sent (ringfence's
	// /webhooks/bolna?token=... URL). It may be set after New, before the first call.
	BolnaWebhookURL string
	// RetellWebhookURL is where Retell's webhooks are sent (ringfence's /webhooks/retell). They
	// are signed with APIKey, which is also the Retell API key the simulator accepts.
	RetellWebhookURL string
	// VapiWebhookURL is where Vapi's server messages are sent (ringfence's /webhooks/vapi),
	// authenticated with VapiWebhookSecret as VapiCredential says.
	VapiWebhookURL string
	// VapiWebhookSecret is the secret of Vapi's server messages: the one configured in
	// ringfence, as it is in Vapi's dashboard. Empty means APIKey.
	VapiWebhookSecret string
	// ToolsURL is ringfence's tools base URL (/tools), where agents' custom functions call, and
	// BolnaToolToken the api_token a Bolna custom function sends ("Bearer <token>").
	ToolsURL       string
	BolnaToolToken string
	// VapiCredential is how Vapi's server messages carry the secret: VapiBearer (the default, as a
	// newly set-up Vapi account sends them), VapiSecretHeader or VapiHMAC.
	VapiCredential string
	// CallLength is how long a call runs before its webhooks are sent.
	CallLength time.Duration
	// Seed makes costs and delivery orders repeatable.
	Seed uint64
	// Refuse lists numbers the provider refuses to call (it answers 400).
	Refuse map[string]bool
	// RefuseFirst refuses the first n dials of a number, then accepts.
	RefuseFirst map[string]int
	// WebhookBeforeAnswer sends a call's first webhook before answering the dial, as a provider
	// whose webhook outruns its own HTTP response does.
	WebhookBeforeAnswer bool
	// OmitCallID leaves ringfence's call id out of the webhooks, so only the provider's id
	// identifies the call.
	OmitCallID bool
	// DropAnswer places the call but drops the connection instead of answering the dial, so the
	// caller cannot know whether the call was placed.
	DropAnswer bool
	// Silent places calls but never sends their webhooks, like a provider that says nothing: the
	// calls still end after CallLength, and its API reports them, live and then ended.
	Silent bool
	// Forget makes the provider's API have no record of the calls it placed (404 to get-call,
	// absent from its lists), like a provider that lost them.
	Forget bool
	// DropFinal is the share of calls (0 to 1) whose final webhooks, the ones that end the call,
	// are never sent: the provider's API still reports how each ended.
	DropFinal float64
	// Concurrency is how many of a call's webhooks are sent at the same instant (default 3).
	Concurrency int
	// CallLimit, when set, is the account's concurrency at the provider: a dial while that many
	// calls are in flight is refused with the provider's own limit signal: HTTP 429 (Bolna and
	// Retell), subscriptionLimits.concurrencyBlocked (Vapi).
	CallLimit int
}

// Simulator is a provider stand-in that speaks Bolna's API and webhooks. It is an http.Handler.
type Simulator struct {
	opts   Options
	client *http.Client

	mu          sync.Mutex
	rng         *rand.Rand
	seq         int
	inFlight    int
	maxInFlight int
	placed      int
	dials       map[string]int      // Dials per recipient number.
	scripts     map[string]Script   // By ringfence call id.
	failures    []string            // Webhook deliveries that never got a 2xx.
	refused     map[string]int      // Dials refused per number.
	calls       map[string]*simCall // By provider call id: what the providers' APIs report.
	order       []*simCall          // The same calls, in the order they were placed.
	busy        int                 // Dials refused with 429 for the CallLimit.
	deliveries  sync.WaitGroup
}

// New returns a simulator.
func New(opts Options) *Simulator {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 3
	}
	return &Simulator{
		opts: opts, client: &http.Client{Timeout: 30 * time.Second},
		rng: rand.New(rand.NewPCG(opts.Seed, opts.Seed+1)), dials: map[string]int{}, scripts: map[string]Script{}, refused: map[string]int{},
		calls: map[string]*simCall{},
	}
}

// SetWebhookBase sets where webhooks go, for a simulator created before its target: base is
// ringfence's URL, and Bolna's deliveries carry bolnaToken in their URL.
func (s *Simulator) SetWebhookBase(base, bolnaToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.BolnaWebhookURL = base + "/webhooks/bolna?token=" + bolnaToken
	s.opts.RetellWebhookURL = base + "/webhooks/retell"
	s.opts.VapiWebhookURL = base + "/webhooks/vapi"
	s.opts.ToolsURL = base + "/tools"
	s.opts.BolnaToolToken = "Bearer " + bolnaToken
}

// ServeHTTP serves the simulated provider APIs: placing calls, and asking about them (get-call
// and list-calls) in each provider's shapes.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/executions/"):
		s.bolnaGetExecution(w, r)
		return
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v2/agent/") && strings.HasSuffix(r.URL.Path, "/executions"):
		s.bolnaListExecutions(w, r)
		return
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v2/get-call/"):
		s.retellGetCall(w, r)
		return
	case r.Method == http.MethodPost && r.URL.Path == "/v3/list-calls":
		s.retellListCalls(w, r)
		return
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/call/"):
		s.vapiGetCall(w, r)
		return
	case r.Method == http.MethodPost && r.URL.Path == "/call" && isVapi(r):
		s.vapiCreateCall(w, r)
		return
	case r.Method == http.MethodPost && r.URL.Path == "/call":
		s.bolnaCall(w, r)
		return
	case r.Method == http.MethodPost && r.URL.Path == "/v2/create-phone-call":
		s.retellCall(w, r)
		return
	case r.URL.Path == "/call" && r.Method == http.MethodGet:
		s.vapiListCalls(w, r)
		return
	}
	writeJSON(w, http.StatusNotFound, map[string]any{"message": "no such endpoint"})
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// bolnaCall answers POST /call in Bolna's shapes and, later, sends the call's webhooks.
func (s *Simulator) bolnaCall(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.opts.APIKey {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": 401, "message": "Access denied"})
		return
	}
	var req bolna.CallRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Parsing error"})
		return
	}
	if req.AgentID == "" || !e164.MatchString(req.RecipientPhoneNumber) {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": "agent_id and an E.164 recipient_phone_number are required"})
		return
	}
	if s.refuses(req.RecipientPhoneNumber) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "recipient_phone_number is not reachable"})
		return
	}
	if s.atLimit() {
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"message": "concurrency limit reached"})
		return
	}
	callID, _ := req.UserData[bolna.CallIDVariable].(string)
	script := s.place(req.RecipientPhoneNumber, callID, placement{agentID: req.AgentID, from: req.FromPhoneNumber}, func(rng *rand.Rand, id, echo string) Script {
		return BolnaScript(rng, id, echo, OutcomeFor(req.RecipientPhoneNumber), time.Now())
	})
	if s.start(w, script) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": "done", "status": "queued", "execution_id": script.ExecutionID})
}

// retellCall answers POST /v2/create-phone-call in Retell's shapes and, later, sends the call's
// webhooks, signed.
func (s *Simulator) retellCall(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.opts.APIKey {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error_message": "Invalid API key"})
		return
	}
	var req retell.CreatePhoneCallRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error_message": "Invalid request body"})
		return
	}
	if !e164.MatchString(req.FromNumber) || !e164.MatchString(req.ToNumber) {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error_message": "from_number and to_number must be E.164"})
		return
	}
	if s.refuses(req.ToNumber) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error_message": "to_number is not reachable"})
		return
	}
	if s.atLimit() {
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"error_message": "concurrency limit reached"})
		return
	}
	callID := req.Metadata[retell.CallIDVariable]
	var call RetellCall
	script := s.place(req.ToNumber, callID, placement{agentID: req.OverrideAgentID, from: req.FromNumber}, func(rng *rand.Rand, id, echo string) Script {
		call = RetellCall{CallID: id, AgentID: req.OverrideAgentID, From: req.FromNumber, To: req.ToNumber, Direction: ringfence.Outbound}
		if echo != "" {
			call.Metadata = req.Metadata
		}
		return RetellScript(rng, call, OutcomeFor(req.ToNumber), time.Now())
	})
	if s.start(w, script) {
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"call_type": "phone_call", "call_id": call.CallID, "agent_id": call.AgentID, "call_status": "registered",
		"direction": "outbound", "from_number": call.From, "to_number": call.To, "metadata": req.Metadata,
	})
}

// start begins a placed call's webhooks, and reports whether the dial's answer was dropped
// (the response must then not be written).
func (s *Simulator) start(w http.ResponseWriter, script Script) bool {
	if s.opts.WebhookBeforeAnswer {
		s.deliver(script, script.Deliveries[0])
	}
	s.deliveries.Add(1)
	go s.play(script)
	if s.opts.DropAnswer {
		// The answer is lost on the way: the body stops short of its Content-Length and the
		// server closes the connection, so the caller cannot know whether the call was placed.
		// The handler returns normally; aborting its goroutine (a hijacked connection closed
		// under it) is what the race detector reported in TestLostDialAnswerIsNeverRedialled.
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "64")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`{"message":"do`))
		return true
	}
	return false
}

// refuses decides whether to refuse a dial of phone, and counts the refusal.
// atLimit reports whether a dial now finds the account at its CallLimit, and counts the refusal.
func (s *Simulator) atLimit() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.CallLimit > 0 && s.inFlight >= s.opts.CallLimit {
		s.busy++
		return true
	}
	return false
}

func (s *Simulator) refuses(phone string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.Refuse[phone] || s.refused[phone] < s.opts.RefuseFirst[phone] {
		s.refused[phone]++
		return true
	}
	return false
}

// place records a new call and scripts its webhooks with scriptFor, given the provider call id
// and the ringfence call id to echo ("" when the simulator omits it).
func (s *Simulator) place(phone, callID string, who placement, scriptFor func(rng *rand.Rand, id, echo string) Script) Script {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	s.placed++
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	s.dials[phone]++
	executionID := fmt.Sprintf("%08x-sim0-4000-8000-%012d", s.rng.Uint32(), s.seq)
	echo := callID
	if s.opts.OmitCallID {
		echo = ""
	}
	script := scriptFor(s.rng, executionID, echo)
	if s.opts.DropFinal > 0 {
		script.FinalDropped = s.rng.Float64() < s.opts.DropFinal
	}
	s.scripts[callID] = script
	c := &simCall{script: script, callID: callID, who: who, createdAt: time.Now().UTC(), forgotten: s.opts.Forget}
	s.calls[script.ExecutionID] = c
	s.order = append(s.order, c)
	return script
}

// placement is who placed a call and from where, as the providers' lists filter them.
type placement struct {
	agentID string
	from    string // The from number; Vapi's phoneNumberId.
}

// simCall is one call the simulator placed, as the provider's API reports it.
type simCall struct {
	script    Script
	callID    string // ringfence's call id.
	who       placement
	createdAt time.Time
	ended     bool // The call ended at the provider: its API reports script.Final.
	forgotten bool // The provider lost the call: its API has no record of it.
}

// object is the call as the provider's API reports it now.
func (c *simCall) object() []byte {
	if c.ended {
		return c.script.Final
	}
	return c.script.Live
}

// lookup returns the call the provider's API knows by id, or nil.
func (s *Simulator) lookup(p ringfence.Provider, id string) *simCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls[id]
	if c == nil || c.forgotten || c.script.Provider != p {
		return nil
	}
	return c
}

// listed returns the calls of provider p the API lists that match keep, in the order placed.
func (s *Simulator) listed(p ringfence.Provider, keep func(c *simCall) bool) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := [][]byte{}
	for _, c := range s.order {
		if !c.forgotten && c.script.Provider == p && keep(c) {
			out = append(out, c.object())
		}
	}
	return out
}

// LiveCalls returns the calls live at the provider now (placed, not ended, not forgotten), by
// ringfence's call id, with when each was placed.
func (s *Simulator) LiveCalls() map[string]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]time.Time{}
	for _, c := range s.order {
		if !c.ended && !c.forgotten {
			out[c.callID] = c.createdAt
		}
	}
	return out
}

// OutcomeFor is how a simulated call to phone ends. It depends only on the number, so a demo
// campaign ends the same way every time.
func OutcomeFor(phone string) ringfence.CallStatus {
	h := fnv.New32a()
	h.Write([]byte(phone))
	switch h.Sum32() % 10 {
	case 6:
		return ringfence.StatusNoAnswer
	case 7:
		return ringfence.StatusBusy
	case 8:
		return ringfence.StatusFailed
	}
	return ringfence.StatusCompleted
}

// play waits out the call, ends it at the provider, then sends its webhooks a few at a time, in
// the script's order (none when Silent; none of the final ones when they are dropped). The call
// stops counting as in flight when it ends, before anything reports the end.
func (s *Simulator) play(script Script) {
	defer s.deliveries.Done()
	time.Sleep(s.opts.CallLength)
	// The call ends at the provider before anything says so: from here its API reports the end.
	s.mu.Lock()
	s.calls[script.ExecutionID].ended = true
	s.inFlight--
	s.mu.Unlock()
	deliveries := script.Deliveries
	if s.opts.Silent {
		return
	}
	if script.FinalDropped {
		deliveries = nil
		for _, body := range script.Deliveries {
			if !isFinal(script.Provider, body) {
				deliveries = append(deliveries, body)
			}
		}
	}
	for start := 0; start < len(deliveries); start += s.opts.Concurrency {
		wave := deliveries[start:min(start+s.opts.Concurrency, len(deliveries))]
		var wg sync.WaitGroup
		for _, body := range wave {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.deliver(script, body)
			}()
		}
		wg.Wait()
	}
}

// isFinal reports whether a webhook body ends its call: a terminal Bolna status, Retell's
// call_ended or call_analyzed, Vapi's end-of-call report or "ended" status update.
func isFinal(p ringfence.Provider, body []byte) bool {
	switch p {
	case ringfence.ProviderBolna:
		var ex struct{ Status string }
		json.Unmarshal(body, &ex)
		return bolna.MapStatus(ex.Status, nil).IsTerminal()
	case ringfence.ProviderRetell:
		var ev struct{ Event string }
		json.Unmarshal(body, &ev)
		return ev.Event != retell.EventCallStarted
	}
	var msg struct{ Message struct{ Type, Status string } }
	json.Unmarshal(body, &msg)
	return msg.Message.Type == vapi.TypeEndOfCallReport || msg.Message.Status == "ended"
}

// deliver posts one webhook of a script, retrying on anything but a 2xx as providers do. Retell's
// are signed at the moment they are sent, as Retell signs them.
func (s *Simulator) deliver(script Script, body []byte) {
	s.mu.Lock()
	url := s.opts.BolnaWebhookURL
	switch script.Provider {
	case ringfence.ProviderRetell:
		url = s.opts.RetellWebhookURL
	case ringfence.ProviderVapi:
		url = s.opts.VapiWebhookURL
	}
	s.mu.Unlock()
	var last string
	for attempt := 0; attempt < 6; attempt++ {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		switch script.Provider {
		case ringfence.ProviderRetell:
			req.Header.Set(retell.SignatureHeader, retell.Sign(body, s.opts.APIKey, time.Now()))
		case ringfence.ProviderVapi:
			secret := s.opts.VapiWebhookSecret
			if secret == "" {
				secret = s.opts.APIKey
			}
			authenticateVapi(req.Header, body, s.opts.VapiCredential, secret, time.Now())
		}
		resp, err := s.client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode < 300 {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(time.Duration(20*(attempt+1)) * time.Millisecond)
	}
	s.mu.Lock()
	s.failures = append(s.failures, last)
	s.mu.Unlock()
}

// Wait blocks until every placed call's webhooks have been sent.
func (s *Simulator) Wait() { s.deliveries.Wait() }

// Stats is what the simulator saw.
type Stats struct {
	Placed         int
	InFlight       int
	MaxInFlight    int
	DialsPerNumber map[string]int
	Scripts        map[string]Script // By ringfence call id.
	Failures       []string          // Deliveries never acknowledged with a 2xx.
	Refused        map[string]int    // Dials refused per number.
	Busy           int               // Dials refused with 429 for the CallLimit.
}

// Stats returns a copy of what the simulator saw so far.
func (s *Simulator) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Busy: s.busy, Placed: s.placed, InFlight: s.inFlight, MaxInFlight: s.maxInFlight, DialsPerNumber: map[string]int{}, Scripts: map[string]Script{}, Failures: append([]string(nil), s.failures...)}
	for k, v := range s.dials {
		st.DialsPerNumber[k] = v
	}
	for k, v := range s.scripts {
		st.Scripts[k] = v
	}
	st.Refused = map[string]int{}
	for k, v := range s.refused {
		st.Refused[k] = v
	}
	return st
}

// isVapi tells Vapi's POST /call from Bolna's, which share the path: Vapi's body names an
// assistantId.
func isVapi(r *http.Request) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body = io.NopCloser(bytes.NewReader(body))
	return err == nil && bytes.Contains(body, []byte(`"assistantId"`))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
