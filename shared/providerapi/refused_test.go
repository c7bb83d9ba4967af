package providerapi_test

import (
	"errors"
	"testing"

	"github.com/ringfence/ringfence/shared/providerapi"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// A 429 is the provider's own limit: refused, and busy, so the call waits instead of failing.
func TestRefusedMarksTheProviderLimit(t *testing.T) {
	tests := []struct {
		status int
		busy   bool
	}{{429, true}, {400, false}, {422, false}, {500, false}}
	for _, tc := range tests {
		err := providerapi.Refused("Retell", tc.status, []byte(`{"error_message":"slow down"}`), "error_message")
		if !errors.Is(err, ringfence.ErrDialRefused) {
			t.Fatalf("Refused(%d)=%v, want ErrDialRefused", tc.status, err)
		}
		if got := errors.Is(err, ringfence.ErrProviderBusy); got != tc.busy {
			t.Fatalf("Refused(%d) busy=%v, want %v", tc.status, got, tc.busy)
		}
	}
}
