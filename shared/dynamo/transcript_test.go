package dynamo_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// validated is ev as the service applies it: checked, its transcript cut to what a call keeps.
func validated(t *testing.T, ev ringfence.CallEvent) ringfence.CallEvent {
	t.Helper()
	if err := ev.Validate(); err != nil {
		t.Fatal(err)
	}
	return ev
}

// A transcript too long for the call's item is kept cut, with its length; "longer wins" still
// holds between cut transcripts, by the lengths the provider sent: a later report whose whole
// transcript is shorter changes nothing, a longer one replaces it, once.
func TestTranscriptKeptCutAndMergedByLength(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	campaign, calls := MustCampaignWithCalls(t, env.Store, 1)
	c := calls[0]
	turns := func(n int) string {
		return strings.Repeat("Agent: नमस्ते।\nUser: हाँ।\n", n/30+1)[:n]
	}
	report := func(n int, version string) ringfence.CallEvent {
		return validated(t, ringfence.CallEvent{Provider: ringfence.ProviderBolna, ProviderCallID: c.ProviderCallID,
			Status: ringfence.StatusCompleted, Version: version, Cost: decimal("25.12"), Duration: decimal("7140"), Transcript: turns(n)})
	}
	steps := []struct {
		name   string
		ev     ringfence.CallEvent
		result ringfence.ApplyResult
		length int
	}{
		{"the report ends the call, its transcript cut", report(300_000, "v1"), ringfence.ResultFirstTerminal, 300_000},
		{"a shorter original changes nothing", report(250_000, "v1"), ringfence.ResultDuplicate, 300_000},
		{"a longer original replaces it", report(320_000, "v1"), ringfence.ResultMerged, 320_000},
		{"the same again changes nothing", report(320_000, "v1"), ringfence.ResultDuplicate, 320_000},
	}
	for _, step := range steps {
		if _, result, err := env.Store.ApplyCallEvent(ctx, c.ID, step.ev); err != nil || result != step.result {
			t.Fatalf("%s: result=%s err=%v, want %s", step.name, result, err, step.result)
		}
		got, err := env.Store.GetCall(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.TranscriptCut() || got.FullTranscriptLength() != step.length || len(got.Transcript) > ringfence.MaxTranscriptLength ||
			!strings.HasPrefix(turns(step.length), got.Transcript) {
			t.Fatalf("%s: kept %d bytes, cut=%v, length %d; want a cut beginning of %d bytes", step.name, len(got.Transcript), got.TranscriptCut(), got.FullTranscriptLength(), step.length)
		}
		if got.Outcome != ringfence.StatusCompleted || got.Cost.String() != "25.12" {
			t.Fatalf("%s: outcome=%s cost=%s, want completed at 25.12", step.name, got.Outcome, got.Cost)
		}
	}
	after, err := env.Store.GetCampaign(ctx, campaign.AccountID, campaign.ID)
	if err != nil || after.CallsCompleted != 1 || after.TotalCost.String() != "25.12" {
		t.Fatalf("campaign=%+v err=%v, want one call costing 25.12", after, err)
	}
}

// The store keeps the call's item under DynamoDB's 400 KB whatever else the item holds: with
// 150 KB of extracted data beside it, a 300 KB transcript is cut further, and the outcome and
// cost are written.
func TestTranscriptCutToFitTheItem(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	ctx := context.Background()
	_, calls := MustCampaignWithCalls(t, env.Store, 1)
	c := calls[0]
	ev := ringfence.CallEvent{Provider: ringfence.ProviderBolna, ProviderCallID: c.ProviderCallID, Status: ringfence.StatusCompleted,
		Version: "v1", Cost: decimal("2.12"), Transcript: strings.Repeat("User: hello there\n", 300_000/18),
		ExtractedData: `{"notes":"` + strings.Repeat("x", 150_000) + `"}`}
	if _, result, err := env.Store.ApplyCallEvent(ctx, c.ID, ev); err != nil || result != ringfence.ResultFirstTerminal {
		t.Fatalf("result=%s err=%v, want the call ended", result, err)
	}
	got, err := env.Store.GetCall(ctx, c.ID)
	if err != nil || got.Outcome != ringfence.StatusCompleted || got.Cost.String() != "2.12" || got.ExtractedData == "" {
		t.Fatalf("call=%+v err=%v, want completed at 2.12 with its data", got.Outcome, err)
	}
	if !got.TranscriptCut() || got.FullTranscriptLength() != len(ev.Transcript) || len(got.Transcript)+len(got.ExtractedData) > 400*1024-16*1024 {
		t.Fatalf("kept %d of %d bytes beside %d of data, cut=%v: want the item under 400 KB", len(got.Transcript), got.FullTranscriptLength(), len(got.ExtractedData), got.TranscriptCut())
	}
}
