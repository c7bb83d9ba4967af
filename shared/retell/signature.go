// Package retell is the adapter for Retell AI: it verifies Retell's webhook signatures, turns its
// call webhooks and custom-function requests into ringfence's terms, and places calls through
// Retell's API. Retell's quirks stop here.
package retell

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strconv"
	"time"

	"github.com/ringfence/ringfence/shared/ringfence"
)

// SignatureHeader is the header Retell signs every webhook and function call with.
const SignatureHeader = "X-Retell-Signature"

// SignatureTolerance is how far the signature's timestamp may be from now, either way.
const SignatureTolerance = 5 * time.Minute

var signaturePattern = regexp.MustCompile(`^v=(\d{1,15}),d=([0-9a-fA-F]{64})$`)

// Sign returns the signature header value for body at time at: "v=<unix ms>,d=<hex HMAC-SHA256
// of body followed by the timestamp, keyed by the API key>".
func Sign(body []byte, apiKey string, at time.Time) string {
	ts := strconv.FormatInt(at.UnixMilli(), 10)
	return "v=" + ts + ",d=" + hex.EncodeToString(mac(body, ts, apiKey))
}

func mac(body []byte, ts, apiKey string) []byte {
	h := hmac.New(sha256.New, []byte(apiKey))
	h.Write(body)
	h.Write([]byte(ts))
	return h.Sum(nil)
}

// Verify checks a signature header against the raw request body (never a re-serialised form)
// and the API key, and that its timestamp is within SignatureTolerance of now. Any failure is
// EUNAUTHORIZED.
func Verify(body []byte, apiKey, header string, now time.Time) error {
	if apiKey == "" {
		return ringfence.Errorf(ringfence.EUNAUTHORIZED, "Retell requests are not accepted: no Retell API key is configured")
	}
	m := signaturePattern.FindStringSubmatch(header)
	if m == nil {
		return ringfence.Errorf(ringfence.EUNAUTHORIZED, "the %s header is missing or malformed", SignatureHeader)
	}
	ms, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return ringfence.Errorf(ringfence.EUNAUTHORIZED, "the %s timestamp is not a number", SignatureHeader)
	}
	skew := now.Sub(time.UnixMilli(ms))
	if skew > SignatureTolerance || skew < -SignatureTolerance {
		return ringfence.Errorf(ringfence.EUNAUTHORIZED, "the %s timestamp is more than %s from now", SignatureHeader, SignatureTolerance)
	}
	got, _ := hex.DecodeString(m[2])
	if !hmac.Equal(got, mac(body, m[1], apiKey)) {
		return ringfence.Errorf(ringfence.EUNAUTHORIZED, "the %s signature does not match the body", SignatureHeader)
	}
	return nil
}
