package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// SessionCookie names the dashboard's session cookie.
const SessionCookie = "rf_session"

// sessionFor is how long a dashboard login lasts.
const sessionFor = 12 * time.Hour

// SessionToken signs "account until expiry" with the secret. The same form serves the session
// cookie and the short-lived login links the operators' tool prints.
func SessionToken(secret, account string, expires time.Time) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(account + "|" + strconv.FormatInt(expires.Unix(), 10)))
	return payload + "." + hex.EncodeToString(sessionMAC(secret, payload))
}

func sessionMAC(secret, payload string) []byte {
	h := hmac.New(sha256.New, []byte("ringfence-session:"+secret))
	h.Write([]byte(payload))
	return h.Sum(nil)
}

// verifySession returns the account a token was signed for, if its signature holds and it has
// not expired.
func verifySession(secret, token string, now time.Time) (string, bool) {
	if secret == "" {
		return "", false
	}
	payload, sig, ok := strings.Cut(token, ".")
	if !ok {
		return "", false
	}
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, sessionMAC(secret, payload)) {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return "", false
	}
	account, exp, ok := strings.Cut(string(raw), "|")
	unix, err := strconv.ParseInt(exp, 10, 64)
	if !ok || err != nil || now.After(time.Unix(unix, 0)) {
		return "", false
	}
	return account, true
}
