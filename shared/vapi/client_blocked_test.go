package vapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/ringfence/ringfence/shared/ringfence"
	"github.com/ringfence/ringfence/shared/vapi"
)

// A call Vapi's concurrency limit blocked is the provider's limit: refused and busy, so ringfence
// queues it again instead of failing it or leaving it unknown.
func TestDialBlockedByConcurrencyIsBusy(t *testing.T) {
	body, err := os.ReadFile("testdata/create-call-concurrency-blocked.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		w.Write(body)
	}))
	defer srv.Close()
	_, err = vapi.NewClient(srv.URL, "key").Dial(context.Background(), ringfence.DialRequest{CallID: "call_1", AgentID: "a", FromNumber: "pn", ToNumber: "+14155550123"})
	if !errors.Is(err, ringfence.ErrProviderBusy) || !errors.Is(err, ringfence.ErrDialRefused) {
		t.Fatalf("Dial=%v, want refused and busy", err)
	}
}
