package vapi

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strconv"
	"strings"
	"time"

	"github.com/ringfence/ringfence/shared/ringfence"
)

// The headers Vapi authenticates its server messages with, as its credential types send them.
const (
	// SecretHeader carries the secret as is: the legacy inline `secret`, or a Bearer Token
	// credential with header X-Vapi-Secret and no Bearer prefix.
	SecretHeader = "X-Vapi-Secret"
	// AuthorizationHeader carries a Bearer Token credential's token, with or without "Bearer ".
	AuthorizationHeader = "Authorization"
	// SignatureHeader and TimestampHeader are an HMAC credential's defaults: the signature of
	// "{timestamp}.{body}", and the timestamp it signs.
	SignatureHeader = "X-Signature"
	TimestampHeader = "X-Timestamp"
	// LegacySignatureHeader is where Vapi's older documentation put the secret, and where
	// HMAC credentials are often configured to send their signature.
	LegacySignatureHeader = "X-Vapi-Signature"
)

// SignatureTolerance is how far an HMAC timestamp may be from now, either way.
const SignatureTolerance = 5 * time.Minute

// Authenticate checks a server message against the configured secret, in each way a Vapi
// credential can present it without ringfence calling anyone:
//
//   - the secret itself in X-Vapi-Secret (the legacy inline secret, or a Bearer Token credential
//     with that header name and no prefix);
//   - the secret in Authorization, as "Bearer <secret>" or bare (a Bearer Token credential);
//   - an HMAC credential keyed by the secret (as is, or base64-decoded): the signature in
//     x-signature or x-vapi-signature, SHA-256, SHA-1 or SHA-512 (told apart by length), hex or
//     base64, with or without a prefix such as "sha256=", over "{timestamp}.{body}" with the
//     timestamp from x-timestamp (seconds or milliseconds, within five minutes of now): Vapi's
//     HMACAuthenticationPlan defaults (includeTimestamp true). A signature of the body alone is
//     refused: nothing would stop its replay.
//
// Any one valid credential authenticates the message; every comparison is constant-time. Vapi's
// OAuth 2.0 credential cannot be checked this way (its token comes from the user's own token
// server), so it is not supported. Any failure is EUNAUTHORIZED.
func Authenticate(header func(string) string, body []byte, secret string, now time.Time) error {
	if secret == "" {
		return ringfence.Errorf(ringfence.EUNAUTHORIZED, "Vapi requests are not accepted: no Vapi webhook secret is configured")
	}
	presented := false
	for _, name := range []string{SecretHeader, LegacySignatureHeader} {
		if v := strings.TrimSpace(header(name)); v != "" {
			presented = true
			if secretMatches(v, secret) {
				return nil
			}
		}
	}
	if v := strings.TrimSpace(header(AuthorizationHeader)); v != "" {
		presented = true
		if scheme, token, ok := strings.Cut(v, " "); ok && strings.EqualFold(scheme, "Bearer") {
			v = strings.TrimSpace(token)
		}
		if secretMatches(v, secret) {
			return nil
		}
	}
	ok, err := signatureMatches(header, body, secret, now)
	if ok {
		return nil
	}
	if err != nil {
		return err
	}
	if presented {
		return ringfence.Errorf(ringfence.EUNAUTHORIZED, "the Vapi credential does not match the configured secret")
	}
	return ringfence.Errorf(ringfence.EUNAUTHORIZED, "send the secret as %s or 'Authorization: Bearer <secret>', or sign the body (%s, %s)", SecretHeader, SignatureHeader, TimestampHeader)
}

// secretMatches compares a presented secret with the configured one in constant time.
func secretMatches(presented, secret string) bool {
	return subtle.ConstantTimeCompare([]byte(presented), []byte(secret)) == 1
}

// signatureMatches checks an HMAC signature, if one is present: over "{timestamp}.{body}", with
// the timestamp from X-Timestamp, which must be there and within SignatureTolerance of now. That
// is what keeps an old message from being replayed.
func signatureMatches(header func(string) string, body []byte, secret string, now time.Time) (bool, error) {
	var sigs [][]byte
	for _, name := range []string{SignatureHeader, LegacySignatureHeader} {
		if v := strings.TrimSpace(header(name)); v != "" {
			sigs = append(sigs, decodeSignatures(v)...)
		}
	}
	if len(sigs) == 0 {
		return false, nil
	}
	// The timestamp is required and signed: Vapi's HMAC credential includes it by default
	// (includeTimestamp, payload "{timestamp}.{body}"), and a signature of the body alone, or
	// one beside a timestamp it does not cover, would let a message be replayed forever.
	ts := strings.TrimSpace(header(TimestampHeader))
	if ts == "" {
		return false, ringfence.Errorf(ringfence.EUNAUTHORIZED, "a signed Vapi request must carry %s, and sign it with the body", TimestampHeader)
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || n <= 0 {
		return false, ringfence.Errorf(ringfence.EUNAUTHORIZED, "the %s header is not a Unix time", TimestampHeader)
	}
	at := time.Unix(n, 0)
	if len(ts) >= 13 {
		at = time.UnixMilli(n)
	}
	if skew := now.Sub(at); skew > SignatureTolerance || skew < -SignatureTolerance {
		return false, ringfence.Errorf(ringfence.EUNAUTHORIZED, "the %s is more than %s from now", TimestampHeader, SignatureTolerance)
	}
	payloads := [][]byte{append([]byte(ts+"."), body...)}
	keys := [][]byte{[]byte(secret)}
	if k, err := base64.StdEncoding.DecodeString(secret); err == nil && len(k) > 0 {
		keys = append(keys, k)
	}
	// Each (algorithm, key, payload) MAC is computed once, whatever the number of candidate
	// signatures, so an unauthenticated body is hashed a bounded number of times.
	macs := map[int][][]byte{}
	matched := 0
	for _, sig := range sigs {
		newHash := hashForLength(len(sig))
		if newHash == nil {
			continue
		}
		if _, done := macs[len(sig)]; !done {
			for _, key := range keys {
				for _, payload := range payloads {
					mac := hmac.New(newHash, key)
					mac.Write(payload)
					macs[len(sig)] = append(macs[len(sig)], mac.Sum(nil))
				}
			}
		}
		for _, mac := range macs[len(sig)] {
			matched |= subtle.ConstantTimeCompare(mac, sig)
		}
	}
	if matched != 1 {
		return false, ringfence.Errorf(ringfence.EUNAUTHORIZED, "the %s does not match the body", SignatureHeader)
	}
	return true, nil
}

// decodeSignatures returns the byte strings a signature header may stand for: hex or base64,
// with or without a prefix ending in "=" (such as "sha256=" or "v1=").
func decodeSignatures(v string) [][]byte {
	candidates := []string{v}
	if i := strings.Index(v, "="); i > 0 && i < len(v)-1 {
		candidates = append(candidates, v[i+1:])
	}
	var out [][]byte
	for _, c := range candidates {
		if b, err := hex.DecodeString(c); err == nil {
			out = append(out, b)
		}
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(c); err == nil {
				out = append(out, b)
			}
		}
	}
	return out
}

// hashForLength returns the hash an HMAC of that many bytes was made with, or nil.
func hashForLength(n int) func() hash.Hash {
	switch n {
	case sha1.Size:
		return sha1.New
	case sha256.Size:
		return sha256.New
	case sha512.Size:
		return sha512.New
	}
	return nil
}

// Sign returns the HMAC-SHA256 of body at timestamp ts, as Vapi's HMAC credential computes it with
// its default settings (payload "{timestamp}.{body}").
func Sign(body []byte, secret, ts string) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts + "."))
	h.Write(body)
	return h.Sum(nil)
}
