package retell_test

import (
	"testing"
	"time"

	"github.com/ringfence/ringfence/shared/retell"
)

// The test vector published in Retell's SDKs (tests/test_webhook_auth.py and
// tests/webhook-auth.test.ts): body, key, timestamp and the expected signature.
const (
	vectorBody      = `{"event":"call_ended"}`
	vectorKey       = "test-api-key"
	vectorTimestamp = 1700000000000
	vectorDigest    = "07024cabe7dd8f6d1c6e4a8324ca92c812e6ad4a7ee506c04f7e462e3321823e"
)

var vectorTime = time.UnixMilli(vectorTimestamp)

func TestSignMatchesPublishedVector(t *testing.T) {
	got, want := retell.Sign([]byte(vectorBody), vectorKey, vectorTime), "v=1700000000000,d="+vectorDigest
	if got != want {
		t.Fatalf("Sign=%s, want %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	header := "v=1700000000000,d=" + vectorDigest
	tests := []struct {
		name   string
		body   string
		key    string
		header string
		now    time.Time
		ok     bool
	}{
		{"published vector", vectorBody, vectorKey, header, vectorTime, true},
		{"tolerance edge, later", vectorBody, vectorKey, header, time.UnixMilli(1700000300000), true},
		{"tolerance edge, earlier", vectorBody, vectorKey, header, time.UnixMilli(1699999700000), true},
		{"stale", vectorBody, vectorKey, header, time.UnixMilli(1700000300001), false},
		{"from the future", vectorBody, vectorKey, header, time.UnixMilli(1699999699999), false},
		{"body changed", vectorBody + " ", vectorKey, header, vectorTime, false},
		{"wrong key", vectorBody, "wrong-api-key", header, vectorTime, false},
		{"empty", vectorBody, vectorKey, "", vectorTime, false},
		{"no digest", vectorBody, vectorKey, "v=1700000000000", vectorTime, false},
		{"swapped", vectorBody, vectorKey, "d=" + vectorDigest + ",v=1700000000000", vectorTime, false},
		{"prefixed", vectorBody, vectorKey, "prefix-" + header, vectorTime, false},
		{"suffixed", vectorBody, vectorKey, header + "-suffix", vectorTime, false},
		{"not hex", vectorBody, vectorKey, "v=1700000000000,d=not-hex", vectorTime, false},
		{"short digest", vectorBody, vectorKey, "v=1700000000000,d=" + vectorDigest[2:], vectorTime, false},
		{"negative timestamp", vectorBody, vectorKey, "v=-1700000000000,d=" + vectorDigest, vectorTime, false},
		{"extra field", vectorBody, vectorKey, header + ",extra=value", vectorTime, false},
		{"huge timestamp", vectorBody, vectorKey, "v=999999999999999999999999,d=" + vectorDigest, vectorTime, false},
		{"no key configured", vectorBody, "", header, vectorTime, false},
		{"no key configured, signed with the empty key", vectorBody, "", retell.Sign([]byte(vectorBody), "", vectorTime), vectorTime, false},
	}
	for _, tt := range tests {
		err := retell.Verify([]byte(tt.body), tt.key, tt.header, tt.now)
		if (err == nil) != tt.ok {
			t.Fatalf("%s: Verify err=%v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}
