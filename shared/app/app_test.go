package app_test

import (
	"testing"
	"time"

	"github.com/ringfence/ringfence/shared/app"
	"github.com/ringfence/ringfence/shared/ringfence"
)

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
