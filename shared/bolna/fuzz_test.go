package bolna_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ringfence/ringfence/shared/bolna"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// Any body either parses into an event with a provider call id, or is refused as invalid.
func FuzzParseWebhook(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, file := range files {
		b, _ := os.ReadFile(file)
		f.Add(b)
	}
	f.Add([]byte(`{"id":1,"status":"completed","total_cost":"1e3"}`))
	f.Add([]byte(`{"id":"x","status":"busy","extracted_data":[1]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := bolna.ParseWebhook(body)
		if err != nil {
			if ringfence.ErrorCode(err) != ringfence.EINVALID {
				t.Fatalf("error code %s for %q, want invalid", ringfence.ErrorCode(err), body)
			}
			return
		}
		if ev.ProviderCallID == "" || ev.Provider != ringfence.ProviderBolna {
			t.Fatalf("event without a call: %+v", ev)
		}
		if ev.Cost != nil && ev.Cost.Sign() < 0 {
			t.Fatalf("negative cost accepted: %s", ev.Cost)
		}
	})
}
