package httpapi

import (
	"context"

	"github.com/ringfence/ringfence/shared/retell"
	"github.com/ringfence/ringfence/shared/ringfence"
	"github.com/ringfence/ringfence/shared/secrets"
)

// secret reads one of the server's secrets at request time, so that a rotated secret takes
// effect without a redeploy. A secret store that cannot be read makes the request unavailable
// (503, which providers retry), never unauthorized.
func (s *Server) secret(ctx context.Context, name string) (secrets.Value, error) {
	v, err := s.cfg.Secrets.Get(ctx, name)
	if err != nil {
		s.log.ErrorContext(ctx, "secret could not be read", "secret", name, "error", err.Error())
		return secrets.Value{}, ringfence.Errorf(ringfence.EUNAVAILABLE, "the server could not read its secrets; try again")
	}
	return v, nil
}

// verifyWith checks a request against each value of a secret a caller may use (the current one,
// then the previous one during a rotation's grace period) and accepts the first that verifies.
// When every value fails, the current value's error is the answer; an unset secret is checked as
// empty, so that the check itself says what is not configured.
func verifyWith(v secrets.Value, check func(secret string) error) error {
	candidates := v.Candidates()
	if len(candidates) == 0 {
		return check("")
	}
	var first error
	for _, c := range candidates {
		err := check(c)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// staticSecrets holds the secrets given in a Config's fields, for a server built without a
// secret store (tests, tools).
func staticSecrets(cfg Config) secrets.Static {
	return secrets.Static{
		secrets.APIKey:            {Current: cfg.APIKey},
		secrets.BolnaWebhookToken: {Current: cfg.BolnaWebhookToken},
		secrets.RetellAPIKey:      {Current: cfg.RetellAPIKey},
		secrets.VapiWebhookSecret: {Current: cfg.VapiWebhookSecret},
	}
}

// verifyRetell checks Retell's signature of a body with its API key, which is also its signing
// key.
func (s *Server) verifyRetell(ctx context.Context, body []byte, signature string) error {
	key, err := s.secret(ctx, secrets.RetellAPIKey)
	if err != nil {
		return err
	}
	return verifyWith(key, func(key string) error { return retell.Verify(body, key, signature, s.Now()) })
}
