package calling_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringfence/ringfence/infra/simulator"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/retell"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// hindiTurns are one exchange of a Hindi call, in the "Agent:"/"User:" form of the providers'
// transcripts; a two-hour call is this exchange repeated.
const hindiTurns = "Agent: नमस्ते, मैं Acme से नैना बोल रही हूँ। क्या मैं विवेक जी से बात कर रही हूँ?\nUser: हाँ, बोलिए, मैं विवेक बोल रहा हूँ।\n"

// longTranscript repeats a real-shaped exchange until the transcript holds at least n bytes.
func longTranscript(n int) string {
	return strings.Repeat(hindiTurns, n/len(hindiTurns)+1)
}

// mustFixture reads one of an adapter's fixtures (shared/<provider>/testdata) as a JSON object.
func mustFixture(t *testing.T, provider, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", provider, "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s/%s: %v", provider, name, err)
	}
	return v
}

// post sends a provider's delivery as it sends it and returns the status and body of the answer.
func (s *stack) post(t *testing.T, path string, body []byte, headers map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.base+path, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// mustDialledCall starts a one-contact campaign through provider and returns the campaign and
// its dialled call. The simulated provider places the call and says nothing: the test sends the
// provider's deliveries itself.
func (s *stack) mustDialledCall(t *testing.T, provider, from string) (campaignView, ringfence.Call) {
	t.Helper()
	var c campaignView
	s.do(t, "POST", "/campaigns", `{"name":"long `+provider+`","provider":"`+provider+`","agent_id":"agent-1","from_number":"`+from+`","contacts":[{"name":"Vivek","phone":"+14155550123"}]}`, 201, &c)
	s.do(t, "POST", "/campaigns/"+c.ID+"/start", "", 202, nil)
	id := "call_" + strings.TrimPrefix(c.ID, "cmp_") + "_" + dynamo.ContactID(0)
	var call ringfence.Call
	waitFor(t, 30*time.Second, provider+"'s call to be dialled", func() bool {
		var err error
		call, err = s.env.Store.GetCall(t.Context(), id)
		return err == nil && call.ProviderCallID != ""
	})
	return c, call
}

// Reports of two-hour calls, as each provider sends them (a Retell call_ended of 1.5 MB with its
// transcripts, and a transcript of more than 300,000 bytes from each provider), end their call
// with its outcome and cost, once, through the whole stack; the transcript is kept cut, and says
// how long it was.
func TestLongCallsEndWithTheirOutcomeAndCost(t *testing.T) {
	s := MustStack(t, simulator.Options{Silent: true}, 5, 5)
	transcript := longTranscript(300_000)
	deliveries := []struct {
		provider, from string
		cost           string
		deliver        func(call ringfence.Call) (path string, body []byte, headers map[string]string)
	}{
		{"bolna", "+14155550100", "25.12", func(call ringfence.Call) (string, []byte, map[string]string) {
			ex := mustFixture(t, "bolna", "execution-completed.json")
			ex["id"], ex["transcript"], ex["total_cost"], ex["conversation_duration"] = call.ProviderCallID, transcript, 2512, 7140.5
			ex["context_details"] = map[string]any{"recipient_data": map[string]any{"ringfence_call_id": call.ID}}
			b, _ := json.Marshal(ex)
			return "/webhooks/bolna?token=" + bolnaToken, b, nil
		}},
		{"vapi", "phone-number-1", "2.12", func(call ringfence.Call) (string, []byte, map[string]string) {
			env := mustFixture(t, "vapi", "end-of-call-report.json")
			m := env["message"].(map[string]any)
			m["cost"], m["endedReason"] = 2.12, "customer-ended-call"
			m["startedAt"], m["endedAt"] = "2026-12-06T10:00:00.000Z", "2026-12-06T11:59:00.000Z"
			m["artifact"].(map[string]any)["transcript"] = transcript
			m["call"] = map[string]any{"id": call.ProviderCallID, "type": "outboundPhoneCall", "status": "ringing",
				"assistantOverrides": map[string]any{"metadata": map[string]any{"ringfence_call_id": call.ID}}}
			b, _ := json.Marshal(env)
			return "/webhooks/vapi", b, map[string]string{"X-Vapi-Secret": simKey}
		}},
		{"retell", "+14155550100", "18.4", func(call ringfence.Call) (string, []byte, map[string]string) {
			return "/webhooks/retell", retellCallEnded(t, call, transcript, 1_500_000), nil
		}},
	}
	for _, d := range deliveries {
		t.Run(d.provider, func(t *testing.T) {
			campaign, call := s.mustDialledCall(t, d.provider, d.from)
			path, body, headers := d.deliver(call)
			for i, want := range []string{`"first_terminal"`, `"duplicate"`} {
				if d.provider == "retell" {
					headers = map[string]string{"X-Retell-Signature": retellSignature(body)}
				}
				if status, answer := s.post(t, path, body, headers); status != 200 || !strings.Contains(answer, want) {
					t.Fatalf("delivery %d of %d bytes: status=%d body=%s, want 200 %s", i+1, len(body), status, answer, want)
				}
			}
			var got struct {
				Outcome             string `json:"outcome"`
				Cost                string `json:"cost"`
				Transcript          string `json:"transcript"`
				TranscriptTruncated bool   `json:"transcript_truncated"`
				TranscriptLength    int    `json:"transcript_length"`
				RecordingURL        string `json:"recording_url"`
			}
			s.do(t, "GET", "/calls/"+call.ID, "", 200, &got)
			if got.Outcome != "completed" || got.Cost != d.cost {
				t.Fatalf("call outcome=%q cost=%q, want completed costing %s", got.Outcome, got.Cost, d.cost)
			}
			if !got.TranscriptTruncated || got.TranscriptLength != len(transcript) || len(got.Transcript) > ringfence.MaxTranscriptLength ||
				!strings.HasPrefix(transcript, got.Transcript) || got.RecordingURL == "" {
				t.Fatalf("transcript kept %d bytes, truncated=%v, length=%d, recording %q; want it cut below %d, saying it was %d bytes, with the recording URL",
					len(got.Transcript), got.TranscriptTruncated, got.TranscriptLength, got.RecordingURL, ringfence.MaxTranscriptLength, len(transcript))
			}
			var after campaignView
			s.do(t, "GET", "/campaigns/"+campaign.ID, "", 200, &after)
			if after.CallsCompleted != 1 || after.Outcomes["completed"] != 1 || after.TotalCost != d.cost {
				t.Fatalf("campaign=%+v, want one completed call costing %s, counted once", after, d.cost)
			}
		})
	}
}

// retellCallEnded is Retell's call_ended for call, as Retell sends it for a two-hour call: the
// whole call object, its transcript and, as the SDK's PhoneCallResponse types them, the same
// turns again in transcript_object (each word timed) and transcript_with_tool_calls, until the
// body holds at least size bytes.
func retellCallEnded(t *testing.T, call ringfence.Call, transcript string, size int) []byte {
	t.Helper()
	w := mustFixture(t, "retell", "call-ended.json")
	c := w["call"].(map[string]any)
	c["call_id"], c["transcript"], c["disconnection_reason"] = call.ProviderCallID, transcript, "user_hangup"
	c["metadata"] = map[string]any{"ringfence_call_id": call.ID}
	c["call_cost"] = map[string]any{"combined_cost": 1840}
	var pair []any
	for i, line := range strings.Split(strings.TrimSpace(hindiTurns), "\n") {
		role, content, _ := strings.Cut(line, ": ")
		var words []any
		for j, word := range strings.Fields(content) {
			at := float64(i*10+j) / 2
			words = append(words, map[string]any{"word": word, "start": at, "end": at + 0.4})
		}
		pair = append(pair, map[string]any{"role": strings.ToLower(role), "content": content, "words": words})
	}
	base, _ := json.Marshal(w)
	pairBytes, _ := json.Marshal(pair)
	var turns []any
	for n := len(base); n < size+32<<10; n += 2 * len(pairBytes) { // With room for the estimate.
		turns = append(turns, pair...)
	}
	c["transcript_object"], c["transcript_with_tool_calls"] = turns, turns
	b, err := json.Marshal(w)
	if err != nil || len(b) < size {
		t.Fatalf("call_ended of %d bytes (%v), want at least %d", len(b), err, size)
	}
	return b
}

// retellSignature signs a body as Retell signs its webhooks, with the stack's Retell key.
func retellSignature(body []byte) string { return retell.Sign(body, simKey, time.Now()) }
