package ringfence

import (
	"errors"
	"time"
)

// ErrProviderBusy marks a provider's refusal for its own rate or concurrency limit (HTTP 429).
// The call was not placed and nothing is wrong with it: it goes back to the queue, with a
// backoff, without spending an attempt.
var ErrProviderBusy = errors.New("the provider is at its rate or concurrency limit")

// BusyBackoff is how long a call waits after its n-th refusal for the provider's limit (from
// 1): base, doubling, at most 64 times base.
func BusyBackoff(base time.Duration, n int) time.Duration {
	return base << min(max(n-1, 0), 6)
}

// Suppression is a number of an account that is never dialled, by any campaign, direct call or
// scheduled call.
type Suppression struct {
	Phone     string
	CreatedAt time.Time
}
