package bolna_test

import (
	"testing"

	"github.com/ringfence/ringfence/infra/testio"

	"github.com/ringfence/ringfence/shared/bolna"
	"github.com/ringfence/ringfence/shared/ringfence"
)

func TestParseWebhookCompleted(t *testing.T) {
	ev, err := bolna.ParseWebhook(testio.MustReadFixture(t, "execution-completed.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ev.ProviderCallID != "6c972873-19b2-44b0-a6bf-d4f690a7a9cf" || ev.CallID != "call_0123456789abcdef01234567" {
		t.Fatalf("ids=%q/%q", ev.ProviderCallID, ev.CallID)
	}
	if ev.Status != ringfence.StatusCompleted {
		t.Fatalf("Status=%s, want completed", ev.Status)
	}
	if got, want := ev.Cost.String(), "0.1271"; got != want {
		t.Fatalf("Cost=%s, want %s (12.71 cents)", got, want)
	}
	if got, want := ev.Duration.String(), "68.4"; got != want {
		t.Fatalf("Duration=%s, want %s", got, want)
	}
	if ev.Version != "2026-11-21T04:19:08.672994000Z" {
		t.Fatalf("Version=%s", ev.Version)
	}
	if ev.RecordingURL == "" || ev.Transcript == "" || ev.ExtractedData != `{"user_name":"Vivek","callback":"thursday"}` {
		t.Fatalf("data not read: %+v", ev)
	}
}

func TestParseWebhookIntegerID(t *testing.T) {
	ev, err := bolna.ParseWebhook(testio.MustReadFixture(t, "execution-integer-id.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ev.ProviderCallID != "7432382142914" || ev.Version != "2024-01-29T18:31:22.000000000Z" {
		t.Fatalf("id=%s version=%s", ev.ProviderCallID, ev.Version)
	}
}

func TestMapStatus(t *testing.T) {
	talked, silent := ringfence.MustParseDecimal("12.5"), ringfence.MustParseDecimal("0")
	tests := []struct {
		status   string
		duration *ringfence.Decimal
		want     ringfence.CallStatus
	}{
		{"scheduled", nil, ringfence.StatusQueued},
		{"queued", nil, ringfence.StatusQueued},
		{"rescheduled", nil, ringfence.StatusQueued},
		{"initiated", nil, ringfence.StatusInitiated},
		{"ringing", nil, ringfence.StatusRinging},
		{"in-progress", nil, ringfence.StatusInProgress},
		{"call-disconnected", nil, ringfence.StatusEnded},
		{"completed", &talked, ringfence.StatusCompleted},
		{"completed", &silent, ringfence.StatusNoAnswer},
		{"completed", nil, ringfence.StatusNoAnswer},
		{"busy", nil, ringfence.StatusBusy},
		{"no-answer", nil, ringfence.StatusNoAnswer},
		{"canceled", nil, ringfence.StatusCancelled},
		{"stopped", nil, ringfence.StatusCancelled},
		{"failed", nil, ringfence.StatusFailed},
		{"error", nil, ringfence.StatusFailed},
		{"balance-low", nil, ringfence.StatusFailed},
		{"teleported", nil, ""},
	}
	for _, tt := range tests {
		if got := bolna.MapStatus(tt.status, tt.duration); got != tt.want {
			t.Fatalf("MapStatus(%q)=%q, want %q", tt.status, got, tt.want)
		}
	}
}

func TestInboundExecution(t *testing.T) {
	ex, ev, err := bolna.ParseWebhookExecution(testio.MustReadFixture(t, "execution-inbound.json"))
	if err != nil {
		t.Fatal(err)
	}
	ours, caller, inbound := ex.Inbound()
	if !inbound || ours != "+14155550100" || caller != "+917073122016" || ev.CallID != "" {
		t.Fatalf("inbound=%v ours=%s caller=%s call id=%q", inbound, ours, caller, ev.CallID)
	}
	if _, _, inbound := mustExecution(t, "execution-completed.json").Inbound(); inbound {
		t.Fatal("an outbound execution reads as inbound")
	}
}

func mustExecution(t *testing.T, name string) bolna.Execution {
	ex, _, err := bolna.ParseWebhookExecution(testio.MustReadFixture(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return ex
}
