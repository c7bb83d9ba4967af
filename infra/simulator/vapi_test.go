package simulator

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/ringfence/ringfence/shared/ringfence"
	"github.com/ringfence/ringfence/shared/vapi"
)

// Every credential the simulated Vapi sends with is one the adapter accepts.
func TestVapiCredentialsAuthenticate(t *testing.T) {
	body := []byte(`{"message":{"type":"status-update"}}`)
	now := time.Now()
	for _, credential := range []string{"", VapiBearer, VapiSecretHeader, VapiHMAC} {
		h := http.Header{}
		authenticateVapi(h, body, credential, "sim-secret", now)
		if err := vapi.Authenticate(h.Get, body, "sim-secret", now); err != nil {
			t.Fatalf("credential %q: %v", credential, err)
		}
		if err := vapi.Authenticate(h.Get, body, "another-secret", now); err == nil {
			t.Fatalf("credential %q authenticated against another secret", credential)
		}
	}
	h := http.Header{}
	authenticateVapi(h, body, "", "sim-secret", now)
	if got, want := h.Get("Authorization"), "Bearer sim-secret"; got != want {
		t.Fatalf("default credential Authorization=%q, want %q", got, want)
	}
}

// A script's messages carry both timestamp forms, and each is read as a message of the call.
func TestVapiScriptUsesBothTimestampForms(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	iso, millis := 0, 0
	for i := range 20 {
		call := vapiCall{ID: "vapi-" + string(rune('a'+i)), Type: "outboundPhoneCall", Customer: vapi.Party{Number: "+14155550123"}}
		script := VapiScript(rng, call, ringfence.StatusCompleted, time.Now())
		for _, body := range script.Deliveries {
			switch {
			case bytes.Contains(body, []byte(`"timestamp":"`)):
				iso++
			case bytes.Contains(body, []byte(`"timestamp":1`)):
				millis++
			}
			m, err := vapi.ParseMessage(body)
			if err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			if ev, err := m.Event(); err != nil || ev.Version == "" || ev.ProviderCallID != call.ID {
				t.Fatalf("event=%+v err=%v, want a versioned event of %s", ev, err, call.ID)
			}
		}
	}
	if iso == 0 || millis == 0 {
		t.Fatalf("%d ISO and %d millisecond timestamps, want both", iso, millis)
	}
}
