package vapi_test

import (
	"encoding/hex"
	"strconv"
	"testing"
	"time"

	"github.com/ringfence/ringfence/infra/testio"

	"github.com/ringfence/ringfence/shared/ringfence"
	"github.com/ringfence/ringfence/shared/vapi"
)

// The report's call object says "ringing"; the outcome comes from endedReason.
func TestEndOfCallReportWithStaleSnapshot(t *testing.T) {
	m, err := vapi.ParseMessage(testio.MustReadFixture(t, "end-of-call-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := m.Event()
	if err != nil {
		t.Fatal(err)
	}
	if ev.Status != ringfence.StatusCompleted || ev.CallID != "call_sch_cus_1_daily_20260101_a1" || ev.ProviderCallID != "2b1f2d1c-7c1e-4a57-9d7e-6e2f4b1c9a10" {
		t.Fatalf("event=%+v", ev)
	}
	if ev.Cost.String() != "0.1234" || ev.Duration.String() != "65.5" || ev.ExtractedData != `{"mood":"good"}` || ev.RecordingURL == "" || ev.Transcript == "" {
		t.Fatalf("report data: cost=%s duration=%s data=%s", ev.Cost, ev.Duration, ev.ExtractedData)
	}
}

func TestStatusUpdateEnded(t *testing.T) {
	m, err := vapi.ParseMessage(testio.MustReadFixture(t, "status-update-ended.json"))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := m.Event()
	if err != nil || ev.Status != ringfence.StatusBusy || ev.Cost != nil {
		t.Fatalf("event=%+v err=%v, want busy without a cost", ev, err)
	}
}

func TestToolCallArgumentsAsObjectOrString(t *testing.T) {
	for file, want := range map[string]map[string]string{
		"tool-calls-object.json": {"reschedule_day": "Friday"},
		"tool-calls-string.json": {"day": "monday"},
	} {
		m, err := vapi.ParseMessage(testio.MustReadFixture(t, file))
		if err != nil {
			t.Fatal(err)
		}
		calls, err := m.ToolCalls()
		if err != nil || len(calls) != 1 || calls[0].Name != "reschedule_lead" {
			t.Fatalf("%s: calls=%+v err=%v", file, calls, err)
		}
		for k, v := range want {
			if calls[0].Arguments[k] != v {
				t.Fatalf("%s: arguments=%v, want %s=%s", file, calls[0].Arguments, k, v)
			}
		}
	}
}

func TestMapEndedReason(t *testing.T) {
	tests := map[string]ringfence.CallStatus{
		"customer-ended-call":                                ringfence.StatusCompleted,
		"assistant-ended-call":                               ringfence.StatusCompleted,
		"assistant-ended-call-after-message-spoken":          ringfence.StatusCompleted,
		"assistant-said-end-call-phrase":                     ringfence.StatusCompleted,
		"assistant-forwarded-call":                           ringfence.StatusCompleted,
		"exceeded-max-duration":                              ringfence.StatusCompleted,
		"silence-timed-out":                                  ringfence.StatusCompleted,
		"customer-busy":                                      ringfence.StatusBusy,
		"customer-did-not-answer":                            ringfence.StatusNoAnswer,
		"voicemail":                                          ringfence.StatusNoAnswer,
		"manually-canceled":                                  ringfence.StatusCancelled,
		"twilio-failed-to-connect-call":                      ringfence.StatusFailed,
		"twilio-reported-customer-misdialed":                 ringfence.StatusFailed,
		"vonage-rejected":                                    ringfence.StatusFailed,
		"call.start.error-subscription-insufficient-credits": ringfence.StatusFailed,
		"pipeline-error-openai-llm-failed":                   ringfence.StatusFailed,
		"something-new-from-vapi":                            ringfence.StatusFailed,
	}
	for reason, want := range tests {
		if got := vapi.MapEndedReason(reason); got != want {
			t.Fatalf("MapEndedReason(%s)=%s, want %s", reason, got, want)
		}
	}
}

func TestAuthenticate(t *testing.T) {
	body := []byte(`{"message":{"type":"status-update"}}`)
	now := time.Unix(1767225600, 0)
	secret := "vapi-secret"
	sig := func(ts string) string { return hex.EncodeToString(vapi.Sign(body, secret, ts)) }
	seconds, millis := strconv.FormatInt(now.Unix(), 10), strconv.FormatInt(now.UnixMilli(), 10)
	edge := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	tests := []struct {
		name    string
		headers map[string]string
		ok      bool
	}{
		{"shared secret", map[string]string{"X-Vapi-Secret": secret}, true},
		{"wrong secret", map[string]string{"X-Vapi-Secret": "nope"}, false},
		{"hmac, seconds", map[string]string{"X-Signature": sig(seconds), "X-Timestamp": seconds}, true},
		{"hmac, milliseconds", map[string]string{"X-Signature": sig(millis), "X-Timestamp": millis}, true},
		{"hmac with prefix", map[string]string{"X-Signature": "sha256=" + sig(seconds), "X-Timestamp": seconds}, true},
		{"hmac of another timestamp", map[string]string{"X-Signature": sig(seconds), "X-Timestamp": strconv.FormatInt(now.Unix()+1, 10)}, false},
		{"stale hmac", map[string]string{"X-Signature": sig("1767225000"), "X-Timestamp": "1767225000"}, false},
		{"tolerance edge, earlier", map[string]string{"X-Signature": sig(edge(-vapi.SignatureTolerance)), "X-Timestamp": edge(-vapi.SignatureTolerance)}, true},
		{"tolerance edge, later", map[string]string{"X-Signature": sig(edge(vapi.SignatureTolerance)), "X-Timestamp": edge(vapi.SignatureTolerance)}, true},
		{"just past the tolerance, earlier", map[string]string{"X-Signature": sig(edge(-vapi.SignatureTolerance - time.Second)), "X-Timestamp": edge(-vapi.SignatureTolerance - time.Second)}, false},
		{"just past the tolerance, later", map[string]string{"X-Signature": sig(edge(vapi.SignatureTolerance + time.Second)), "X-Timestamp": edge(vapi.SignatureTolerance + time.Second)}, false},
		{"no headers", map[string]string{}, false},
	}
	for _, tt := range tests {
		err := vapi.Authenticate(func(h string) string { return tt.headers[h] }, body, secret, now)
		if (err == nil) != tt.ok {
			t.Fatalf("%s: err=%v, want ok=%v", tt.name, err, tt.ok)
		}
	}
	if err := vapi.Authenticate(func(string) string { return secret }, body, "", now); err == nil {
		t.Fatal("no configured secret accepted a request")
	}
	// Without a configured secret, a request signed with the empty secret (which anyone can
	// compute) is refused too: a missing secret locks the door.
	signedEmpty := map[string]string{"X-Signature": hex.EncodeToString(vapi.Sign(body, "", seconds)), "X-Timestamp": seconds}
	if err := vapi.Authenticate(func(h string) string { return signedEmpty[h] }, body, "", now); err == nil {
		t.Fatal("no configured secret accepted a request signed with the empty secret")
	}
}
