package app_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/ringfence/ringfence/shared/app"
	"github.com/ringfence/ringfence/shared/ringfence"
	"github.com/ringfence/ringfence/shared/secrets"
)

// The scheduler looks ahead as far as its own rate (RINGFENCE_SCHEDULE_RATE, the template's
// ScheduleRate), so that a slower rate does not call customers late.
func TestScheduleWindowFollowsScheduleRate(t *testing.T) {
	for rate, want := range map[string]time.Duration{"": 15 * time.Minute, "rate(1 minute)": time.Minute, "rate(30 minutes)": 30 * time.Minute, "rate(1 hour)": time.Hour, "rate(2 hours)": 2 * time.Hour} {
		env := map[string]string{"RINGFENCE_TABLE": "t", "RINGFENCE_SCHEDULE_RATE": rate}
		cfg, err := app.ConfigFromEnv(func(k string) string { return env[k] })
		if err != nil {
			t.Fatalf("%q: %v", rate, err)
		}
		if got := cfg.ScheduleWindow; got != want {
			t.Fatalf("ScheduleWindow for %q=%v, want %v", rate, got, want)
		}
	}
	for _, bad := range []string{"rate(1 minutes)", "rate(2 minute)", "rate(0 minutes)", "rate(15 fortnights)", "cron(0 * * * ? *)", "rate(015 minutes)", "15m"} {
		env := map[string]string{"RINGFENCE_TABLE": "t", "RINGFENCE_SCHEDULE_RATE": bad}
		if _, err := app.ConfigFromEnv(func(k string) string { return env[k] }); err == nil {
			t.Fatalf("RINGFENCE_SCHEDULE_RATE=%q was accepted", bad)
		}
	}
}

// Locally the environment holds the secrets themselves: the session secret is read at start, and
// the others are read from the same store the handlers and provider clients use.
func TestNewReadsSecretsFromTheEnvironment(t *testing.T) {
	env := map[string]string{
		"RINGFENCE_TABLE": "t", "RINGFENCE_DYNAMODB_ENDPOINT": "http://127.0.0.1:1",
		"RINGFENCE_SESSION_SECRET": "session-secret-0123456789-0123456789", "VAPI_API_KEY": "vapi-key",
	}
	a, err := app.New(context.Background(), func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if a.Config.SessionSecret != "session-secret-0123456789-0123456789" {
		t.Fatalf("SessionSecret=%q", a.Config.SessionSecret)
	}
	v, err := a.Config.Secrets.Get(context.Background(), secrets.VapiAPIKey)
	if err != nil || v.Current != "vapi-key" {
		t.Fatalf("VAPI_API_KEY=%+v, %v", v, err)
	}
}

// RINGFENCE_MAX_CALL_DURATIONS names a maximum per provider; a provider not named keeps the
// provider's own maximum, and a malformed setting stops the function from starting.
func TestMaxCallDurations(t *testing.T) {
	for _, tc := range []struct {
		setting string
		want    map[ringfence.Provider]time.Duration
		bad     bool
	}{
		{setting: "", want: map[ringfence.Provider]time.Duration{}},
		{setting: "vapi=3h", want: map[ringfence.Provider]time.Duration{ringfence.ProviderVapi: 3 * time.Hour}},
		{setting: "bolna=90m, Retell=1h", want: map[ringfence.Provider]time.Duration{ringfence.ProviderBolna: 90 * time.Minute, ringfence.ProviderRetell: time.Hour}},
		{setting: "twilio=1h", bad: true},
		{setting: "vapi=forever", bad: true},
		{setting: "vapi=10s", bad: true},
	} {
		env := map[string]string{"RINGFENCE_TABLE": "t", "RINGFENCE_MAX_CALL_DURATIONS": tc.setting}
		cfg, err := app.ConfigFromEnv(func(k string) string { return env[k] })
		if tc.bad {
			if err == nil {
				t.Fatalf("%q: accepted, want refused", tc.setting)
			}
			continue
		}
		if err != nil || len(cfg.MaxCallDuration) != len(tc.want) {
			t.Fatalf("%q: %v (%v), want %v", tc.setting, cfg.MaxCallDuration, err, tc.want)
		}
		for p, d := range tc.want {
			if cfg.MaxCallDuration[p] != d {
				t.Fatalf("%q: %s=%s, want %s", tc.setting, p, cfg.MaxCallDuration[p], d)
			}
		}
	}
}
