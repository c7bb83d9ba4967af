// Package simulator stands in for the voice providers: it speaks their wire formats, accepts
// outbound calls in their request and response shapes, and delivers webhooks the way they do:
// several per call, some at the same instant, some duplicated, some out of order.
package simulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"

	"github.com/ringfence/ringfence/shared/bolna"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// DeliveriesPerCall is how many webhooks the simulator sends for one call, duplicates included.
const DeliveriesPerCall = 12

// Script is what a provider will send about one call, and what ringfence should conclude from it.
type Script struct {
	Provider    ringfence.Provider
	ExecutionID string
	Deliveries  [][]byte // Webhook bodies, already shuffled into delivery order.
	Outcome     ringfence.CallStatus
	Cost        ringfence.Decimal // USD, from the newest report.
	// Live and Final are the call as the provider's API reports it (get-call, list-calls) while
	// it runs and once it ended, in the shapes of that provider's API.
	Live, Final []byte
	// FinalDropped is set on a call whose final webhooks the simulator never sends
	// (Options.DropFinal): only asking the provider tells how it ended.
	FinalDropped bool
}

// bolnaStep is one status change of a Bolna execution.
type bolnaStep struct {
	status    string
	costCents string
	seconds   string
	final     bool // Carries the end-of-call data (transcript, recording, extracted data).
	voicemail bool // A voicemail box answered: answered_by_voice_mail is true.
}

// BolnaScript scripts the webhooks Bolna sends for one call that ends in outcome: every status
// change as the whole execution object, the final report twice with a revised cost (as Bolna
// does when its billing settles), and duplicates up to DeliveriesPerCall, shuffled. callID, when
// set, is echoed in context_details.recipient_data as ringfence passes it in user_data. Half the
// unanswered calls are picked up by a voicemail box: Bolna reports those as a conversation that
// completed, with answered_by_voice_mail true.
func BolnaScript(rng *rand.Rand, executionID, callID string, outcome ringfence.CallStatus, start time.Time) Script {
	first, revised := cents(rng), cents(rng)
	var steps []bolnaStep
	switch outcome {
	case ringfence.StatusCompleted:
		steps = []bolnaStep{{status: "queued"}, {status: "initiated"}, {status: "ringing"}, {status: "in-progress"},
			{status: "call-disconnected"}, {status: "completed", costCents: first, seconds: "42.5", final: true},
			{status: "completed", costCents: revised, seconds: "42.5", final: true}}
	case ringfence.StatusNoAnswer:
		if rng.IntN(2) == 0 {
			steps = []bolnaStep{{status: "queued"}, {status: "initiated"}, {status: "ringing"}, {status: "in-progress"},
				{status: "call-disconnected"}, {status: "completed", costCents: first, seconds: "21.5", final: true, voicemail: true},
				{status: "completed", costCents: revised, seconds: "21.5", final: true, voicemail: true}}
			break
		}
		// Bolna reports an unanswered call as "completed" with no conversation.
		steps = []bolnaStep{{status: "queued"}, {status: "initiated"}, {status: "ringing"},
			{status: "completed", costCents: first, seconds: "0"}, {status: "completed", costCents: revised, seconds: "0"}}
	default:
		raw := map[ringfence.CallStatus]string{ringfence.StatusBusy: "busy", ringfence.StatusFailed: "failed", ringfence.StatusCancelled: "canceled"}[outcome]
		steps = []bolnaStep{{status: "queued"}, {status: "initiated"}, {status: raw, costCents: first}, {status: raw, costCents: revised}}
	}
	var bodies [][]byte
	for i, st := range steps {
		bodies = append(bodies, bolnaExecution(executionID, callID, st, start.Add(time.Duration(i)*time.Second)))
	}
	for len(bodies) < DeliveriesPerCall {
		bodies = append(bodies, bodies[rng.IntN(len(steps))])
	}
	rng.Shuffle(len(bodies), func(i, j int) { bodies[i], bodies[j] = bodies[j], bodies[i] })
	cost := ringfence.MustParseDecimal(revised).Shift(2)
	live := bolnaStep{status: "in-progress"}
	if outcome != ringfence.StatusCompleted {
		live.status = "ringing"
	}
	last := len(steps) - 1
	return Script{Provider: ringfence.ProviderBolna, ExecutionID: executionID, Deliveries: bodies, Outcome: outcome, Cost: cost,
		Live:  bolnaAPIExecution(bolnaExecution(executionID, callID, live, start.Add(time.Second))),
		Final: bolnaAPIExecution(bolnaExecution(executionID, callID, steps[last], start.Add(time.Duration(last)*time.Second)))}
}

// bolnaAPIExecution turns a webhook's execution object into the one Bolna's API returns, which
// names the conversation's length conversation_time.
func bolnaAPIExecution(webhook []byte) []byte {
	var ex map[string]any
	if err := json.Unmarshal(webhook, &ex); err != nil {
		panic(err)
	}
	ex["conversation_time"] = ex["conversation_duration"]
	delete(ex, "conversation_duration")
	b, err := json.Marshal(ex)
	if err != nil {
		panic(err)
	}
	return b
}

// cents returns a random cost in cents with two decimals, like Bolna's total_cost.
func cents(rng *rand.Rand) string {
	return fmt.Sprintf("%d.%02d", 1+rng.IntN(40), rng.IntN(100))
}

// bolnaExecution renders the execution object Bolna posts for one step.
func bolnaExecution(executionID, callID string, st bolnaStep, at time.Time) []byte {
	ex := map[string]any{
		"id":                     executionID,
		"agent_id":               "9fb77fd4-45f6-45e4-86bf-ba5912c6156b",
		"batch_id":               nil,
		"status":                 st.status,
		"created_at":             at.Add(-time.Minute).UTC().Format("2006-01-02T15:04:05.000000"),
		"updated_at":             at.UTC().Format("2006-01-02T15:04:05.000000"),
		"conversation_duration":  json.Number(orZero(st.seconds)),
		"total_cost":             json.Number(orZero(st.costCents)),
		"transcript":             nil,
		"extracted_data":         nil,
		"error_message":          nil,
		"answered_by_voice_mail": st.voicemail,
		"telephony_data": map[string]any{
			"duration": "0", "to_number": "+14155550199", "from_number": "+14155550100",
			"recording_url": nil, "provider_call_id": "CA" + executionID, "call_type": "outbound", "provider": "twilio",
			"hangup_by": nil, "hangup_reason": nil,
		},
		"context_details": map[string]any{"recipient_data": map[string]any{}},
	}
	if callID != "" {
		ex["context_details"] = map[string]any{"recipient_data": map[string]any{bolna.CallIDVariable: callID}}
	}
	if st.final {
		ex["transcript"] = "assistant: Hello, this is Naina from Acme.\nuser: Hi.\nassistant: Thank you, goodbye.\n"
		ex["extracted_data"] = map[string]any{"interested": "yes"}
		td := ex["telephony_data"].(map[string]any)
		td["recording_url"] = "https://recordings.example.com/" + executionID + ".mp3"
		td["hangup_by"], td["hangup_reason"] = "Callee", "Call recipient hungup"
	}
	b, err := json.Marshal(ex)
	if err != nil {
		panic(err) // The map holds only JSON-safe values.
	}
	return b
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

// BolnaToolRequest renders the request Bolna makes for a custom function whose API configuration
// has the given method and url: with GET, the function's param values in the query string (as
// Bolna's documentation example configures it); with POST, the same values as a JSON object body.
// apiToken is the function's api_token, which Bolna sends verbatim as the Authorization header.
func BolnaToolRequest(method, toolURL string, params map[string]string, apiToken string) (*http.Request, error) {
	var req *http.Request
	switch method {
	case http.MethodGet:
		u, err := url.Parse(toolURL)
		if err != nil {
			return nil, err
		}
		q := u.Query()
		for k, v := range params {
			q.Set(k, v)
		}
		u.RawQuery = q.Encode()
		if req, err = http.NewRequest(http.MethodGet, u.String(), nil); err != nil {
			return nil, err
		}
	case http.MethodPost:
		body, err := json.Marshal(params)
		if err != nil {
			return nil, err
		}
		if req, err = http.NewRequest(http.MethodPost, toolURL, bytes.NewReader(body)); err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
	default:
		return nil, fmt.Errorf("a Bolna custom function calls by GET or POST, not %s", method)
	}
	if apiToken != "" {
		req.Header.Set("Authorization", apiToken)
	}
	return req, nil
}

// CallBolnaTool makes the request a Bolna agent's custom function named name makes mid-call, by
// method (GET or POST) with params, to ringfence's tools URL, with the Bolna token as the
// function's api_token ("Bearer <token>"). It returns the answer's status and body.
func (s *Simulator) CallBolnaTool(method, name string, params map[string]string) (int, []byte, error) {
	s.mu.Lock()
	base, token := s.opts.ToolsURL, s.opts.BolnaToolToken
	s.mu.Unlock()
	req, err := BolnaToolRequest(method, base+"/"+url.PathEscape(name), params, token)
	if err != nil {
		return 0, nil, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, err
}
