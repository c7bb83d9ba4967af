package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringfence/ringfence/shared/outbound"
)

func TestHandlerLogsVerifiedEventsAndRefusesOthers(t *testing.T) {
	secret := outbound.NewSecret()
	now := time.Unix(1795236000, 0)
	var out bytes.Buffer
	h := handler(secret, &out, func() time.Time { return now })
	body := `{"type":"call.ended","timestamp":"2026-11-21T04:40:00Z","data":{"id":"call_1"}}`
	send := func(key string) int {
		sig, err := outbound.Sign(key, "evt_1", now, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/events", strings.NewReader(body))
		req.Header.Set(outbound.HeaderID, "evt_1")
		req.Header.Set(outbound.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		req.Header.Set(outbound.HeaderSignature, sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if got, want := send(secret), http.StatusNoContent; got != want {
		t.Fatalf("status=%d, want %d", got, want)
	}
	if got, want := send(outbound.NewSecret()), http.StatusUnauthorized; got != want {
		t.Fatalf("status with another secret=%d, want %d", got, want)
	}
	if !strings.Contains(out.String(), "verified evt_1 call.ended") || !strings.Contains(out.String(), "REFUSED evt_1") {
		t.Fatalf("log=%q, want the verified event and the refusal", out.String())
	}
}
