package app

import (
	"io"

	"testing"

	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// Every provider client the app wires can do all that its provider's client can: dial, find a
// call whose dial went unanswered, and report a call to the sweep (invariant 10). A wrapper
// that lost one would turn the sweep's provider look-up off without a word.
func TestWiredProviderClientsKeepEveryAbility(t *testing.T) {
	env := map[string]string{"RINGFENCE_TABLE": "t", "BOLNA_API_KEY": "b", "RETELL_API_KEY": "r", "VAPI_API_KEY": "v"}
	cfg, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a := NewWithAWS(cfg, dynamo.LocalConfig(), io.Discard)
	dialers := a.Config.dialers()
	for _, p := range []ringfence.Provider{ringfence.ProviderBolna, ringfence.ProviderRetell, ringfence.ProviderVapi} {
		d, ok := dialers[p]
		if !ok {
			t.Fatalf("%s has no client although its key is set", p)
		}
		if _, ok := d.(ringfence.Reporter); !ok {
			t.Errorf("the wired %s client cannot report a call: the sweep would end its quiet calls blind", p)
		}
		if _, ok := d.(ringfence.Finder); !ok {
			t.Errorf("the wired %s client cannot find a call whose dial went unanswered", p)
		}
	}
}
