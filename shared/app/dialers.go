package app

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ringfence/ringfence/shared/bolna"
	"github.com/ringfence/ringfence/shared/retell"
	"github.com/ringfence/ringfence/shared/ringfence"
	"github.com/ringfence/ringfence/shared/secrets"
	"github.com/ringfence/ringfence/shared/vapi"
)

// dialers returns a client for every provider whose API key is configured. Each reads its key
// from the secret store when it dials, so a rotated key is used without a redeploy.
func (cfg Config) dialers() map[ringfence.Provider]ringfence.Dialer {
	clients := map[string]struct {
		provider ringfence.Provider
		build    func(key string) ringfence.Dialer
	}{
		secrets.BolnaAPIKey:  {ringfence.ProviderBolna, func(key string) ringfence.Dialer { return bolna.NewClient(cfg.BolnaAPIURL, key) }},
		secrets.RetellAPIKey: {ringfence.ProviderRetell, func(key string) ringfence.Dialer { return retell.NewClient(cfg.RetellAPIURL, key) }},
		secrets.VapiAPIKey:   {ringfence.ProviderVapi, func(key string) ringfence.Dialer { return vapi.NewClient(cfg.VapiAPIURL, key) }},
	}
	out := map[ringfence.Provider]ringfence.Dialer{}
	for _, name := range cfg.providerKeys {
		c := clients[name]
		d := &keyedDialer{secrets: cfg.Secrets, name: name, provider: c.provider, build: c.build}
		if _, finds := c.build("").(ringfence.Finder); finds {
			out[c.provider] = keyedFinder{d}
		} else {
			out[c.provider] = d
		}
	}
	return out
}

// keyedDialer dials through a provider's client built with the key the secret store holds now;
// the client is rebuilt when the key changes.
type keyedDialer struct {
	secrets  secrets.Store
	name     string
	provider ringfence.Provider
	build    func(key string) ringfence.Dialer

	mu     sync.Mutex
	key    string
	client ringfence.Dialer
}

// current returns the client for the key in force. A key that cannot be read, or is unset, is a
// refusal: the call was not placed.
func (d *keyedDialer) current(ctx context.Context) (ringfence.Dialer, error) {
	v, err := d.secrets.Get(ctx, d.name)
	if err != nil {
		return nil, fmt.Errorf("%w: the %s API key could not be read: %v", ringfence.ErrDialRefused, d.provider, err)
	}
	if v.Current == "" {
		return nil, fmt.Errorf("%w: provider %s is not configured (its API key is empty)", ringfence.ErrDialRefused, d.provider)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.client == nil || d.key != v.Current {
		d.key, d.client = v.Current, d.build(v.Current)
	}
	return d.client, nil
}

// Dial places the call with the current key.
func (d *keyedDialer) Dial(ctx context.Context, req ringfence.DialRequest) (string, error) {
	c, err := d.current(ctx)
	if err != nil {
		return "", err
	}
	return c.Dial(ctx, req)
}

// keyedFinder is a keyedDialer for a provider that can also find a call placed for a request.
type keyedFinder struct{ *keyedDialer }

// FindCall asks the provider with the current key.
func (f keyedFinder) FindCall(ctx context.Context, req ringfence.DialRequest, since time.Time) (string, error) {
	c, err := f.current(ctx)
	if err != nil {
		return "", err
	}
	return c.(ringfence.Finder).FindCall(ctx, req, since)
}
