package outbound_test

import (
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringfence/ringfence/shared/outbound"
)

type vectors struct {
	Secret           string `json:"secret"`
	ID               string `json:"id"`
	Timestamp        int64  `json:"timestamp"`
	Body             string `json:"body"`
	Signature        string `json:"signature"`
	InvalidSignature string `json:"invalid_signature"`
}

func MustReadVectors(tb testing.TB) vectors {
	tb.Helper()
	raw, err := os.ReadFile("testdata/signature-vectors.json")
	if err != nil {
		tb.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(raw, &v); err != nil {
		tb.Fatal(err)
	}
	return v
}

func TestSignMatchesTheSpecificationsVector(t *testing.T) {
	v := MustReadVectors(t)
	for _, secret := range []string{v.Secret, strings.TrimPrefix(v.Secret, "whsec_")} {
		got, err := outbound.Sign(secret, v.ID, time.Unix(v.Timestamp, 0), []byte(v.Body))
		if err != nil {
			t.Fatal(err)
		}
		if want := v.Signature; got != want {
			t.Fatalf("Sign(%s)=%s, want %s", secret, got, want)
		}
	}
}

func TestVerifyAgainstTheSpecificationsVectors(t *testing.T) {
	v := MustReadVectors(t)
	signedAt := time.Unix(v.Timestamp, 0)
	tests := []struct {
		name      string
		signature string
		now       time.Time
		drop      string
		wantValid bool
	}{
		{"valid", v.Signature, signedAt, "", true},
		{"invalid signature", v.InvalidSignature, signedAt, "", false},
		{"several signatures, one valid", v.InvalidSignature + " v2," + v.Signature[3:] + " " + v.Signature, signedAt, "", true},
		{"only a v2 signature", "v2," + v.Signature[3:], signedAt, "", false},
		{"old timestamp", v.Signature, signedAt.Add(outbound.Tolerance + time.Second), "", false},
		{"new timestamp", v.Signature, signedAt.Add(-outbound.Tolerance - time.Second), "", false},
		{"missing id", v.Signature, signedAt, outbound.HeaderID, false},
		{"missing timestamp", v.Signature, signedAt, outbound.HeaderTimestamp, false},
		{"missing signature", v.Signature, signedAt, outbound.HeaderSignature, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set(outbound.HeaderID, v.ID)
			h.Set(outbound.HeaderTimestamp, strconv.FormatInt(v.Timestamp, 10))
			h.Set(outbound.HeaderSignature, tt.signature)
			h.Del(tt.drop)
			err := outbound.Verify(v.Secret, h, []byte(v.Body), tt.now)
			if got := err == nil; got != tt.wantValid {
				t.Fatalf("valid=%v (%v), want %v", got, err, tt.wantValid)
			}
		})
	}
}

func TestNewSecretSignsAndVerifies(t *testing.T) {
	secret := outbound.NewSecret()
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret=%s, want the whsec_ prefix", secret)
	}
	now := time.Unix(1700000000, 0)
	sig, err := outbound.Sign(secret, "evt_1", now, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set(outbound.HeaderID, "evt_1")
	h.Set(outbound.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(outbound.HeaderSignature, sig)
	if err := outbound.Verify(secret, h, []byte(`{}`), now); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if err := outbound.Verify(outbound.NewSecret(), h, []byte(`{}`), now); err == nil {
		t.Fatalf("Verify with another secret passed, want a mismatch")
	}
}
