package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/ringfence/ringfence/shared/httpapi"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// longRetellCallEnded is Retell's call_ended (the fixture's call object) for the call with
// provider id providerCallID, grown to at least size bytes as a two-hour call's is: a long
// transcript, and the same turns again in transcript_object, as the SDK's PhoneCallResponse has.
func longRetellCallEnded(tb testing.TB, providerCallID string, size int) []byte {
	tb.Helper()
	var w map[string]any
	if err := json.Unmarshal(mustProviderFixture(tb, ringfence.ProviderRetell, "call-ended.json"), &w); err != nil {
		tb.Fatal(err)
	}
	const turn = "Agent: नमस्ते, मैं Acme से नैना बोल रही हूँ।\nUser: हाँ, बोलिए।\n"
	c := w["call"].(map[string]any)
	c["call_id"], c["metadata"] = providerCallID, map[string]any{}
	c["transcript"] = strings.Repeat(turn, 300_000/len(turn)+1)
	utterance := map[string]any{"role": "user", "content": "हाँ, बोलिए।", "words": []any{
		map[string]any{"word": "हाँ,", "start": 1.5, "end": 1.9}, map[string]any{"word": "बोलिए।", "start": 2.0, "end": 2.6},
	}}
	one, _ := json.Marshal(utterance)
	var turns []any
	for n := len(c["transcript"].(string)) + 2048; n < size; n += len(one) + 1 {
		turns = append(turns, utterance)
	}
	c["transcript_object"] = turns
	b, err := json.Marshal(w)
	if err != nil || len(b) < size || len(b) > httpapi.MaxBodyBytes {
		tb.Fatalf("call_ended of %d bytes (%v), want %d to %d", len(b), err, size, httpapi.MaxBodyBytes)
	}
	return b
}

// A call_ended of 1.5 MB, as Retell sends for a two-hour call, ends its call with its outcome
// and cost, and keeps the transcript cut, saying how long it was; one larger than Lambda's 6 MB
// request limit is refused with 413.
func TestLargeRetellCallEnded(t *testing.T) {
	h := mustRetellHarness(t)
	ctx := context.Background()
	call := ringfence.Call{ID: "call_large_1", AccountID: "acct_test", Provider: ringfence.ProviderRetell, ProviderCallID: "retell-large-1", Status: ringfence.StatusInProgress}
	if err := h.env.Store.CreateCall(ctx, call); err != nil {
		t.Fatal(err)
	}
	body := longRetellCallEnded(t, call.ProviderCallID, 1_500_000)
	var reply struct{ Result string }
	MustDecode(t, invoke(t, h.srv.RetellWebhook(), h.retellDelivery(t, body)), 200, &reply)
	got, err := h.env.Store.GetCall(ctx, call.ID)
	if err != nil || reply.Result != "first_terminal" || got.Outcome != ringfence.StatusCompleted || got.Cost.String() != "0.7" {
		t.Fatalf("result=%s call=%+v err=%v, want completed at 0.7", reply.Result, got.Status, err)
	}
	if !got.TranscriptCut() || len(got.Transcript) > ringfence.MaxTranscriptLength || got.FullTranscriptLength() < 300_000 {
		t.Fatalf("transcript kept %d of %d bytes, cut=%v; want it cut and its length kept", len(got.Transcript), got.FullTranscriptLength(), got.TranscriptCut())
	}
	tooLarge := h.retellDelivery(t, []byte(`{"event":"call_ended","call":{"call_id":"x","transcript":"`+strings.Repeat("a", httpapi.MaxBodyBytes)+`"}}`))
	if resp := invoke(t, h.srv.RetellWebhook(), tooLarge); resp.StatusCode != 413 {
		t.Fatalf("a body over %d bytes: status=%d, want 413", httpapi.MaxBodyBytes, resp.StatusCode)
	}
}

// BenchmarkSixMegabyteDelivery measures the memory one delivery of Lambda's largest request
// takes, from the runtime's payload to the answer: a Retell call_ended of 6 MB ending its call.
// "peak-MB" is what the delivery allocates with the collector off, an upper bound of the live
// heap it needs; template.yaml's MemorySize for the webhook functions is set from it.
//
//	go test ./shared/httpapi -run '^$' -bench SixMegabyte -benchtime 3x
func BenchmarkSixMegabyteDelivery(b *testing.B) {
	h := mustRetellHarness(b)
	ctx := context.Background()
	handler := lambda.NewHandler(h.srv.RetellWebhook())
	var peak uint64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		call := ringfence.Call{ID: fmt.Sprintf("call_bench_%d", i), AccountID: "acct_test", Provider: ringfence.ProviderRetell,
			ProviderCallID: fmt.Sprintf("retell-bench-%d", i), Status: ringfence.StatusInProgress}
		if err := h.env.Store.CreateCall(ctx, call); err != nil {
			b.Fatal(err)
		}
		payload, _ := json.Marshal(h.retellDelivery(b, longRetellCallEnded(b, call.ProviderCallID, httpapi.MaxBodyBytes-64<<10)))
		runtime.GC()
		gc := debug.SetGCPercent(-1)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b.StartTimer()
		out, err := handler.Invoke(ctx, payload)
		b.StopTimer()
		runtime.ReadMemStats(&after)
		debug.SetGCPercent(gc)
		if err != nil || !strings.Contains(string(out), `first_terminal`) {
			b.Fatalf("answer %.200s (%v), want the call ended", out, err)
		}
		peak = max(peak, after.TotalAlloc-before.TotalAlloc)
		b.StartTimer()
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
}
