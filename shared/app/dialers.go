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

// providerClients returns a client for every provider whose API key is configured. Each reads
// its key from the secret store when it is used, so a rotated key is used without a redeploy.
func (cfg Config) providerClients() map[ringfence.Provider]ringfence.ProviderClient {
	clients := map[string]struct {
		provider ringfence.Provider
		build    func(key string) ringfence.ProviderClient
	}{
		secrets.BolnaAPIKey:  {ringfence.ProviderBolna, func(key string) ringfence.ProviderClient { return bolna.NewClient(cfg.BolnaAPIURL, key) }},
		secrets.RetellAPIKey: {ringfence.ProviderRetell, func(key string) ringfence.ProviderClient { return retell.NewClient(cfg.RetellAPIURL, key) }},
		secrets.VapiAPIKey:   {ringfence.ProviderVapi, func(key string) ringfence.ProviderClient { return vapi.NewClient(cfg.VapiAPIURL, key) }},
	}
	out := map[ringfence.Provider]ringfence.ProviderClient{}
	for _, name := range cfg.providerKeys {
		c := clients[name]
		out[c.provider] = &keyedClient{secrets: cfg.Secrets, name: name, provider: c.provider, build: c.build}
	}
	return out
}

// dialers is providerClients as the calling service takes them.
func (cfg Config) dialers() map[ringfence.Provider]ringfence.Dialer {
	out := map[ringfence.Provider]ringfence.Dialer{}
	for p, c := range cfg.providerClients() {
		out[p] = c
	}
	return out
}

// keyedClient is a provider's client built with the key the secret store holds now; the client
// is rebuilt when the key changes. It is a ringfence.ProviderClient like the client it wraps.
type keyedClient struct {
	secrets  secrets.Store
	name     string
	provider ringfence.Provider
	build    func(key string) ringfence.ProviderClient

	mu     sync.Mutex
	key    string
	client ringfence.ProviderClient
}

var _ ringfence.ProviderClient = (*keyedClient)(nil)

// current returns the client for the key in force. A key that cannot be read, or is unset, is a
// refusal: the call was not placed, and the provider could not be asked.
func (k *keyedClient) current(ctx context.Context) (ringfence.ProviderClient, error) {
	v, err := k.secrets.Get(ctx, k.name)
	if err != nil {
		return nil, fmt.Errorf("%w: the %s API key could not be read: %v", ringfence.ErrDialRefused, k.provider, err)
	}
	if v.Current == "" {
		return nil, fmt.Errorf("%w: provider %s is not configured (its API key is empty)", ringfence.ErrDialRefused, k.provider)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.client == nil || k.key != v.Current {
		k.key, k.client = v.Current, k.build(v.Current)
	}
	return k.client, nil
}

// Dial places the call with the current key.
func (k *keyedClient) Dial(ctx context.Context, req ringfence.DialRequest) (string, error) {
	c, err := k.current(ctx)
	if err != nil {
		return "", err
	}
	return c.Dial(ctx, req)
}

// FindCall asks the provider, with the current key, for a call placed for req.
func (k *keyedClient) FindCall(ctx context.Context, req ringfence.DialRequest, since time.Time) (string, error) {
	c, err := k.current(ctx)
	if err != nil {
		return "", err
	}
	return c.FindCall(ctx, req, since)
}

// ReportCall asks the provider, with the current key, what it knows of one call.
func (k *keyedClient) ReportCall(ctx context.Context, providerCallID string) (ringfence.CallEvent, error) {
	c, err := k.current(ctx)
	if err != nil {
		return ringfence.CallEvent{}, err
	}
	return c.ReportCall(ctx, providerCallID)
}
