package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/ringfence/ringfence/shared/dynamo"
)

// SessionCookie names the dashboard's session cookie.
const SessionCookie = "rf_session"

// SessionLifetime is how long a dashboard session lasts, counted from the login. It is absolute:
// nothing renews a session, so after it the browser signs in again.
const SessionLifetime = 12 * time.Hour

// LoginLinkLifetime is how long a login link from the operators' tool can be used (once).
const LoginLinkLifetime = 5 * time.Minute

// MinSessionSecretLength is the shortest session secret accepted: 32 bytes, as long as the
// HMAC-SHA256 key is useful.
const MinSessionSecretLength = 32

// The purposes a signed token is bound to. The purpose is inside the signed payload, so a session
// cookie cannot be replayed as a login link (which would renew it) nor a login link used as a
// cookie (which would skip its single use).
const (
	purposeLogin   = "login"
	purposeSession = "session"
)

// tokenVersion prefixes the signed payload, so a change of format never verifies an old token.
const tokenVersion = "v1"

// signedToken is what a dashboard token carries: its purpose, its own id (a login link's id is
// claimed once; a session's id names its revocable record), its absolute expiry, and the account.
type signedToken struct {
	purpose string
	id      string
	expires time.Time
	account string
}

// LoginToken returns a single-use login link's token for account, valid until expires. It is
// signed with secret, the deployment's current RINGFENCE_SESSION_SECRET.
func LoginToken(secret, account string, expires time.Time) string {
	return signToken(secret, signedToken{purpose: purposeLogin, id: dynamo.NewID("lnk"), expires: expires, account: account})
}

// signToken encodes and signs t: base64url("v1|purpose|id|expiry|account") "." hex(HMAC-SHA256).
// The account comes last, so a "|" in it cannot shift the other fields.
func signToken(secret string, t signedToken) string {
	raw := strings.Join([]string{tokenVersion, t.purpose, t.id, strconv.FormatInt(t.expires.Unix(), 10), t.account}, "|")
	payload := base64.RawURLEncoding.EncodeToString([]byte(raw))
	return payload + "." + hex.EncodeToString(tokenMAC(secret, payload))
}

// tokenMAC keys the MAC with the session secret alone: it shares nothing with the API key, so
// holding the API key does not let anyone sign a session.
func tokenMAC(secret, payload string) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte("ringfence-dashboard-token:" + payload))
	return h.Sum(nil)
}

// verifyToken returns the token's contents if its signature holds under one of the secrets (the
// current one, or the previous one during a rotation), it has the wanted purpose, and it has not
// expired. An empty secret verifies nothing: without a session secret there are no sessions.
func verifyToken(secrets []string, purpose, token string, now time.Time) (signedToken, bool) {
	payload, sig, ok := strings.Cut(token, ".")
	if !ok || len(token) > 2048 {
		return signedToken{}, false
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return signedToken{}, false
	}
	valid := false
	for _, secret := range secrets {
		if secret != "" && hmac.Equal(got, tokenMAC(secret, payload)) {
			valid = true
		}
	}
	if !valid {
		return signedToken{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return signedToken{}, false
	}
	parts := strings.SplitN(string(raw), "|", 5)
	if len(parts) != 5 || parts[0] != tokenVersion || parts[1] != purpose || parts[2] == "" || parts[4] == "" {
		return signedToken{}, false
	}
	unix, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil || !now.Before(time.Unix(unix, 0)) {
		return signedToken{}, false
	}
	return signedToken{purpose: parts[1], id: parts[2], expires: time.Unix(unix, 0), account: parts[4]}, true
}
