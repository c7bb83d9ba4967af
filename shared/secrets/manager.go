package secrets

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// Defaults of a Manager.
const (
	// RefreshEvery is how long a value read from Secrets Manager is used before it is read again:
	// a rotated secret reaches every running function within this long.
	RefreshEvery = 5 * time.Minute
	// PreviousGrace is how long after a rotation (the current version's creation) the previous
	// value is still accepted from callers.
	PreviousGrace = 24 * time.Hour
)

// API is the part of the Secrets Manager client a Manager uses.
type API interface {
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Manager reads secrets from AWS Secrets Manager by ARN and caches them for RefreshEvery.
type Manager struct {
	api API
	// Now is the clock the cache and the grace period are measured on. Tests replace it.
	Now func() time.Time
	// RefreshEvery and PreviousGrace default to the package's constants.
	RefreshEvery  time.Duration
	PreviousGrace time.Duration

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	value   Value
	readAt  time.Time
	current time.Time // When the current version was created: the rotation's time.
	// previous is kept apart from value so that the grace period is judged at every Get.
	previous string
}

// NewManager returns a Manager reading through api.
func NewManager(api API) *Manager {
	return &Manager{api: api, Now: time.Now, RefreshEvery: RefreshEvery, PreviousGrace: PreviousGrace, cache: map[string]cached{}}
}

// Get returns the secret arn's current value, and its previous value while the grace period
// after the rotation lasts. A value read less than RefreshEvery ago is served from the cache. If
// Secrets Manager cannot be reached, a value read before keeps being served rather than refusing
// every request; with none, the error is returned.
func (m *Manager) Get(ctx context.Context, arn string) (Value, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.Now()
	c, ok := m.cache[arn]
	if !ok || now.Sub(c.readAt) >= m.RefreshEvery {
		fresh, err := m.read(ctx, arn)
		switch {
		case err == nil:
			fresh.readAt = now
			c, ok = fresh, true
			m.cache[arn] = c
		case !ok:
			return Value{}, err
		}
	}
	v := Value{Current: c.value.Current}
	if c.previous != "" && now.Before(c.current.Add(m.PreviousGrace)) {
		v.Previous = c.previous
	}
	return v, nil
}

// read fetches the AWSCURRENT and AWSPREVIOUS versions. A secret without a current version (one
// the stack created empty, for a provider's key not put yet) is unset, not an error.
func (m *Manager) read(ctx context.Context, arn string) (cached, error) {
	cur, err := m.version(ctx, arn, "AWSCURRENT")
	if err != nil || cur == nil {
		return cached{}, err
	}
	c := cached{value: Value{Current: strings.TrimSpace(aws.ToString(cur.SecretString))}, current: aws.ToTime(cur.CreatedDate)}
	prev, err := m.version(ctx, arn, "AWSPREVIOUS")
	if err != nil {
		return cached{}, err
	}
	if prev != nil {
		c.previous = strings.TrimSpace(aws.ToString(prev.SecretString))
	}
	return c, nil
}

func (m *Manager) version(ctx context.Context, arn, stage string) (*secretsmanager.GetSecretValueOutput, error) {
	out, err := m.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionStage: aws.String(stage)})
	var notFound *types.ResourceNotFoundException
	if errors.As(err, &notFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read secret %s (%s): %w", arn, stage, err)
	}
	return out, nil
}
