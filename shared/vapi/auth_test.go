package vapi_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strconv"
	"testing"
	"time"

	"github.com/ringfence/ringfence/shared/vapi"
)

// Each way a Vapi credential presents the secret authenticates a message; anything else is
// refused.
func TestAuthenticate(t *testing.T) {
	body := []byte(`{"message":{"type":"status-update"}}`)
	now := time.Unix(1767225600, 0)
	secret := "vapi-secret"
	sig := func(ts string) string { return hex.EncodeToString(vapi.Sign(body, secret, ts)) }
	mac := func(newHash func() hash.Hash, key, payload []byte) []byte {
		h := hmac.New(newHash, key)
		h.Write(payload)
		return h.Sum(nil)
	}
	seconds, millis := strconv.FormatInt(now.Unix(), 10), strconv.FormatInt(now.UnixMilli(), 10)
	edge := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	b64Secret := base64.StdEncoding.EncodeToString([]byte("raw key bytes"))
	tests := []struct {
		name    string
		headers map[string]string
		ok      bool
	}{
		{"X-Vapi-Secret", map[string]string{"X-Vapi-Secret": secret}, true},
		{"wrong X-Vapi-Secret", map[string]string{"X-Vapi-Secret": "nope"}, false},
		{"Bearer token", map[string]string{"Authorization": "Bearer " + secret}, true},
		{"Bearer token, lower-case scheme", map[string]string{"Authorization": "bearer " + secret}, true},
		{"token without the Bearer prefix", map[string]string{"Authorization": secret}, true},
		{"wrong Bearer token", map[string]string{"Authorization": "Bearer nope"}, false},
		{"Basic credentials", map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("u:"+secret))}, false},
		{"secret in X-Vapi-Signature (older docs)", map[string]string{"X-Vapi-Signature": secret}, true},
		{"hmac, seconds", map[string]string{"X-Signature": sig(seconds), "X-Timestamp": seconds}, true},
		{"hmac, milliseconds", map[string]string{"X-Signature": sig(millis), "X-Timestamp": millis}, true},
		{"hmac with prefix", map[string]string{"X-Signature": "sha256=" + sig(seconds), "X-Timestamp": seconds}, true},
		{"hmac, base64", map[string]string{"X-Signature": base64.StdEncoding.EncodeToString(vapi.Sign(body, secret, seconds)), "X-Timestamp": seconds}, true},
		{"hmac in x-vapi-signature", map[string]string{"X-Vapi-Signature": sig(seconds), "X-Timestamp": seconds}, true},
		// Vapi's HMAC credential signs "{timestamp}.{body}" by default (includeTimestamp): a
		// signature of the body alone could be replayed forever, so it is refused, with or
		// without a timestamp beside it, and so is a signature without its timestamp.
		{"hmac of the body alone", map[string]string{"X-Signature": hex.EncodeToString(mac(sha256.New, []byte(secret), body))}, false},
		{"hmac of the body alone, with any X-Timestamp", map[string]string{"X-Signature": hex.EncodeToString(mac(sha256.New, []byte(secret), body)), "X-Timestamp": seconds}, false},
		{"hmac without its X-Timestamp", map[string]string{"X-Signature": sig(seconds)}, false},
		{"hmac-sha512", map[string]string{"X-Signature": hex.EncodeToString(mac(sha512.New, []byte(secret), []byte(seconds+"."+string(body)))), "X-Timestamp": seconds}, true},
		{"hmac-sha1", map[string]string{"X-Signature": hex.EncodeToString(mac(sha1.New, []byte(secret), []byte(seconds+"."+string(body)))), "X-Timestamp": seconds}, true},
		{"hmac of another timestamp", map[string]string{"X-Signature": sig(seconds), "X-Timestamp": strconv.FormatInt(now.Unix()+1, 10)}, false},
		{"stale hmac", map[string]string{"X-Signature": sig("1767225000"), "X-Timestamp": "1767225000"}, false},
		{"timestamp that is not a time", map[string]string{"X-Signature": sig(seconds), "X-Timestamp": "yesterday"}, false},
		{"hmac with another key", map[string]string{"X-Signature": hex.EncodeToString(vapi.Sign(body, "other", seconds)), "X-Timestamp": seconds}, false},
		{"tolerance edge, earlier", map[string]string{"X-Signature": sig(edge(-vapi.SignatureTolerance)), "X-Timestamp": edge(-vapi.SignatureTolerance)}, true},
		{"tolerance edge, later", map[string]string{"X-Signature": sig(edge(vapi.SignatureTolerance)), "X-Timestamp": edge(vapi.SignatureTolerance)}, true},
		{"just past the tolerance, earlier", map[string]string{"X-Signature": sig(edge(-vapi.SignatureTolerance - time.Second)), "X-Timestamp": edge(-vapi.SignatureTolerance - time.Second)}, false},
		{"just past the tolerance, later", map[string]string{"X-Signature": sig(edge(vapi.SignatureTolerance + time.Second)), "X-Timestamp": edge(vapi.SignatureTolerance + time.Second)}, false},
		{"no headers", map[string]string{}, false},
	}
	for _, tt := range tests {
		err := vapi.Authenticate(func(h string) string { return tt.headers[h] }, body, secret, now)
		if (err == nil) != tt.ok {
			t.Fatalf("%s: err=%v, want ok=%v", tt.name, err, tt.ok)
		}
	}
	// An HMAC credential whose secret is base64 (secretIsBase64) signs with the decoded key.
	decoded := map[string]string{"X-Signature": hex.EncodeToString(mac(sha256.New, []byte("raw key bytes"), []byte(seconds+"."+string(body)))), "X-Timestamp": seconds}
	if err := vapi.Authenticate(func(h string) string { return decoded[h] }, body, b64Secret, now); err != nil {
		t.Fatalf("hmac with a base64 secret: %v", err)
	}
	if err := vapi.Authenticate(func(string) string { return secret }, body, "", now); err == nil {
		t.Fatal("no configured secret accepted a request")
	}
	// Without a configured secret, a request signed with the empty secret (which anyone can
	// compute) is refused too: a missing secret locks the door.
	for _, signedEmpty := range []map[string]string{
		{"X-Signature": hex.EncodeToString(vapi.Sign(body, "", seconds)), "X-Timestamp": seconds},
		{"X-Signature": hex.EncodeToString(mac(sha256.New, nil, body))},
		{"Authorization": "Bearer "},
	} {
		if err := vapi.Authenticate(func(h string) string { return signedEmpty[h] }, body, "", now); err == nil {
			t.Fatalf("no configured secret accepted %v", signedEmpty)
		}
	}
}
