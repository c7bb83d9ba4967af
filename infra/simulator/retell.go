package simulator

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ringfence/ringfence/shared/retell"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// RetellCall names one Retell call: its ids, numbers and direction.
type RetellCall struct {
	CallID    string // Retell's call id.
	AgentID   string
	From      string
	To        string
	Direction ringfence.Direction
	Metadata  map[string]string // ringfence's call id, for the calls ringfence placed.
}

// retellReasons is the disconnection_reason Retell reports for each outcome.
var retellReasons = map[ringfence.CallStatus]string{
	ringfence.StatusCompleted: "user_hangup",
	ringfence.StatusNoAnswer:  "dial_no_answer",
	ringfence.StatusBusy:      "dial_busy",
	ringfence.StatusFailed:    "dial_failed",
	ringfence.StatusCancelled: "manual_stopped",
}

// RetellScript scripts the webhooks Retell sends for one call that ends in outcome: call_started
// (only for a call that connected), call_ended with the cost so far, call_analyzed with the
// final cost and the analysis; each retried once or twice, as Retell retries a delivery it
// thinks failed, and shuffled. Half the unanswered calls are picked up by a voicemail box: the
// call connects (call_started, call_status "ended") and ends with voicemail_reached.
func RetellScript(rng *rand.Rand, call RetellCall, outcome ringfence.CallStatus, start time.Time) Script {
	first, final := cents(rng), cents(rng)
	end := start.Add(time.Duration(30+rng.IntN(60)) * time.Second)
	reason := retellReasons[outcome]
	voicemail := outcome == ringfence.StatusNoAnswer && rng.IntN(2) == 0
	if voicemail {
		reason = "voicemail_reached"
	}
	var bodies [][]byte
	connected := outcome == ringfence.StatusCompleted || voicemail
	if connected {
		bodies = append(bodies, retellEvent(retell.EventCallStarted, call, "ongoing", "", start, time.Time{}, "", nil))
	}
	status := "ended"
	if !connected {
		status = "not_connected"
	}
	bodies = append(bodies,
		retellEvent(retell.EventCallEnded, call, status, reason, start, end, first, nil),
		retellEvent(retell.EventCallAnalyzed, call, status, reason, start, end, final,
			map[string]any{"call_successful": outcome == ringfence.StatusCompleted, "call_summary": "The caller asked about opening hours.",
				"user_sentiment": "Positive", "in_voicemail": voicemail}))
	distinct := len(bodies)
	for i := 0; i < distinct; i++ {
		for range 1 + rng.IntN(2) {
			bodies = append(bodies, bodies[i])
		}
	}
	finalBody := bodies[distinct-1] // call_analyzed: the final cost and the analysis.
	rng.Shuffle(len(bodies), func(i, j int) { bodies[i], bodies[j] = bodies[j], bodies[i] })
	live := "registered"
	if connected {
		live = "ongoing"
	}
	return Script{Provider: ringfence.ProviderRetell, ExecutionID: call.CallID, Deliveries: bodies, Outcome: outcome, Cost: ringfence.MustParseDecimal(final).Shift(2),
		Live:  retellCallObject(retellEvent(retell.EventCallStarted, call, live, "", start, time.Time{}, "", nil)),
		Final: retellCallObject(finalBody)}
}

// retellCallObject is the call object of a webhook, as Retell's get-call returns it.
func retellCallObject(webhook []byte) []byte {
	var w struct {
		Call json.RawMessage `json:"call"`
	}
	if err := json.Unmarshal(webhook, &w); err != nil {
		panic(err)
	}
	return w.Call
}

// retellEvent renders one Retell webhook body.
func retellEvent(event string, call RetellCall, status, reason string, start, end time.Time, costCents string, analysis map[string]any) []byte {
	c := map[string]any{
		"call_type": "phone_call", "call_id": call.CallID, "agent_id": call.AgentID, "agent_version": 1,
		"direction": string(call.Direction), "from_number": call.From, "to_number": call.To, "call_status": status,
		"start_timestamp": start.UnixMilli(), "retell_llm_dynamic_variables": map[string]string{},
	}
	if len(call.Metadata) > 0 {
		c["metadata"] = call.Metadata
	}
	if !end.IsZero() {
		c["end_timestamp"] = end.UnixMilli()
		c["duration_ms"] = end.Sub(start).Milliseconds()
		c["disconnection_reason"] = reason
		c["transcript"] = "Agent: Hi, thanks for calling.\nUser: What time do you open tomorrow?\nAgent: We open at nine.\n"
		c["recording_url"] = "https://recordings.example.com/retell/" + call.CallID + "/recording.wav"
		c["call_cost"] = map[string]any{
			"combined_cost": json.Number(costCents), "total_duration_seconds": int(end.Sub(start).Seconds()),
			"product_costs": []map[string]any{{"product": "retell_platform", "cost": json.Number(costCents)}},
		}
	}
	if analysis != nil {
		c["call_analysis"] = analysis
	}
	b, err := json.Marshal(map[string]any{"event": event, "call": c})
	if err != nil {
		panic(err)
	}
	return b
}

// RetellFunctionCall renders the body of a Retell custom-function request: the function's name,
// its arguments and the call object as Retell sends it mid-call.
func RetellFunctionCall(name string, args map[string]any, call RetellCall, start time.Time) []byte {
	c := map[string]any{
		"call_type": "phone_call", "call_id": call.CallID, "agent_id": call.AgentID, "direction": string(call.Direction),
		"from_number": call.From, "to_number": call.To, "call_status": "ongoing", "start_timestamp": start.UnixMilli(),
		"transcript": "Agent: Hi, thanks for calling.\n",
	}
	if len(call.Metadata) > 0 {
		c["metadata"] = call.Metadata
	}
	b, err := json.Marshal(map[string]any{"name": name, "args": args, "call": c})
	if err != nil {
		panic(err)
	}
	return b
}

// RetellCallID returns a Retell-shaped call id.
func RetellCallID(rng *rand.Rand) string {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 32)
	for i := range b {
		b[i] = letters[rng.IntN(len(letters))]
	}
	return fmt.Sprint(string(b))
}
