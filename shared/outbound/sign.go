// Package outbound sends ringfence's events to the business's own endpoints, signed as the
// Standard Webhooks specification describes (https://www.standardwebhooks.com), at least once,
// with retries that back off over more than a day.
package outbound

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of the Standard Webhooks specification.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// secretPrefix marks a symmetric signing secret; what follows it is the key in base64.
const secretPrefix = "whsec_"

// NewSecret returns a new signing secret: "whsec_" and 32 random bytes in base64.
func NewSecret() string {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms.
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(key)
}

// key decodes a secret into the HMAC key; the "whsec_" prefix is optional, as in the
// specification's own libraries.
func key(secret string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil || len(k) == 0 {
		return nil, errors.New("the secret is not whsec_ followed by base64")
	}
	return k, nil
}

// Sign returns the webhook-signature header's value for a message: "v1," and the base64
// HMAC-SHA256 of "{id}.{timestamp}.{body}" under the secret's key.
func Sign(secret, id string, timestamp time.Time, body []byte) (string, error) {
	k, err := key(secret)
	if err != nil {
		return "", err
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(k, id, timestamp.Unix(), body)), nil
}

func mac(key []byte, id string, unix int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + strconv.FormatInt(unix, 10) + "."))
	m.Write(body)
	return m.Sum(nil)
}

// Tolerance is how far a message's timestamp may be from the receiver's clock, either way.
const Tolerance = 5 * time.Minute

// Verify checks a received message as a receiver should: the three headers are present, the
// timestamp is within Tolerance of now, and one of the space-separated v1 signatures matches.
func Verify(secret string, header http.Header, body []byte, now time.Time) error {
	id, ts, sigs := header.Get(HeaderID), header.Get(HeaderTimestamp), header.Get(HeaderSignature)
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("webhook-timestamp is not a number of seconds")
	}
	if d := now.Sub(time.Unix(unix, 0)); d > Tolerance || d < -Tolerance {
		return errors.New("webhook-timestamp is too far from now")
	}
	k, err := key(secret)
	if err != nil {
		return err
	}
	want := mac(k, id, unix, body)
	for _, sig := range strings.Fields(sigs) {
		version, value, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(value)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no webhook-signature matches")
}
