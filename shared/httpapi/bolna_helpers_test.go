package httpapi_test

import (
	"testing"

	"github.com/ringfence/ringfence/shared/bolna"
	"github.com/ringfence/ringfence/shared/ringfence"
)

func mustParseBolna(t *testing.T, body []byte) ringfence.CallEvent {
	t.Helper()
	ev, err := bolna.ParseWebhook(body)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}
