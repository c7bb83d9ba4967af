// Package secrets reads ringfence's secrets (API keys, webhook secrets) at run time. On AWS the
// environment holds only each secret's ARN, as <NAME>_ARN, and the value comes from AWS Secrets
// Manager, cached for a few minutes, so that a rotated secret is picked up without a redeploy.
// Locally (make run, tests) the same code reads the value from the environment variable NAME.
//
// A secret that authenticates a caller (a webhook secret, an API key) is accepted in its current
// value and, for a grace period after a rotation, its previous one: the provider, or the client,
// may still send the old value while the change reaches it.
package secrets

import (
	"context"
	"crypto/subtle"
)

// The secrets, by the environment variable that holds the value locally.
const (
	APIKey            = "RINGFENCE_API_KEY"        // The management API's bearer key of the deployment's account.
	SessionSecret     = "RINGFENCE_SESSION_SECRET" // Signs the dashboard's sessions.
	BolnaWebhookToken = "BOLNA_WEBHOOK_TOKEN"      // Bolna's webhook URL carries it as ?token=.
	BolnaAPIKey       = "BOLNA_API_KEY"            // Places calls through Bolna.
	RetellAPIKey      = "RETELL_API_KEY"           // Places calls through Retell and verifies its signatures.
	VapiAPIKey        = "VAPI_API_KEY"             // Places and finds calls through Vapi.
	VapiWebhookSecret = "VAPI_WEBHOOK_SECRET"      // Authenticates Vapi's server messages.
)

// Names lists every secret.
var Names = []string{APIKey, SessionSecret, BolnaWebhookToken, BolnaAPIKey, RetellAPIKey, VapiAPIKey, VapiWebhookSecret}

// ARNSuffix ends the name of the environment variable holding a secret's ARN on AWS.
const ARNSuffix = "_ARN"

// Value is a secret's current value and, during the grace period after a rotation, the previous
// one. An empty Current means the secret is not set.
type Value struct {
	Current  string
	Previous string
}

// Candidates returns the values a caller may present: the current one, then the previous one
// while it is still accepted.
func (v Value) Candidates() []string {
	var out []string
	for _, s := range []string{v.Current, v.Previous} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Accepts says whether presented is the current value or the previous one, comparing in
// constant time. Nothing matches an unset secret.
func (v Value) Accepts(presented string) bool {
	ok := false
	for _, s := range v.Candidates() {
		if subtle.ConstantTimeCompare([]byte(presented), []byte(s)) == 1 {
			ok = true
		}
	}
	return ok && presented != ""
}

// Store reads secrets by name.
type Store interface {
	// Get returns the secret's value; an unset secret is a Value with an empty Current, not an
	// error. An error means the value could not be read now (the secret store is unreachable).
	Get(ctx context.Context, name string) (Value, error)
}

// Static is a Store of fixed values, for tests and for code given its secrets directly.
type Static map[string]Value

// Get returns the value stored under name.
func (s Static) Get(_ context.Context, name string) (Value, error) { return s[name], nil }

// Env reads secrets from the environment: the variable NAME holds the current value and
// NAME_PREVIOUS, when set, the previous one (to try a rotation locally).
type Env func(string) string

// Get returns the value of the variable name.
func (e Env) Get(_ context.Context, name string) (Value, error) {
	return Value{Current: e(name), Previous: e(name + "_PREVIOUS")}, nil
}

// FromEnvironment returns the Store the functions use: a secret whose ARN the environment names
// (NAME_ARN) is read from Secrets Manager through manager; any other from the variable NAME.
// manager may be nil when no ARN is set.
func FromEnvironment(getenv func(string) string, manager *Manager) Store {
	return routed{getenv: getenv, manager: manager}
}

// InSecretsManager says whether the environment names any secret's ARN, so that a Secrets
// Manager client is needed.
func InSecretsManager(getenv func(string) string) bool {
	for _, name := range Names {
		if getenv(name+ARNSuffix) != "" {
			return true
		}
	}
	return false
}

// Configured says whether the environment gives the secret name a value or an ARN, without
// reading it: a provider whose key is configured this way gets a client.
func Configured(getenv func(string) string, name string) bool {
	return getenv(name) != "" || getenv(name+ARNSuffix) != ""
}

type routed struct {
	getenv  func(string) string
	manager *Manager
}

func (r routed) Get(ctx context.Context, name string) (Value, error) {
	if arn := r.getenv(name + ARNSuffix); arn != "" && r.manager != nil {
		return r.manager.Get(ctx, arn)
	}
	return Env(r.getenv).Get(ctx, name)
}
