package ringfence

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// RetryPolicy says when a campaign calls a contact again: after an attempt ends with one of
// Statuses, while fewer than MaxAttempts have been made, after the attempt's delay.
type RetryPolicy struct {
	Statuses    []CallStatus
	MaxAttempts int
	Delays      []string // Durations such as "10s", "30m", "2h"; the last one repeats.
}

// Bounds on a retry policy.
const (
	maxRetryAttempts = 10
	maxRetryDelay    = 7 * 24 * time.Hour
)

var retryDelay = regexp.MustCompile(`^([1-9][0-9]{0,5})(s|m|h)$`)

// ParseRetryDelay reads a delay written like "10s", "30m" or "2h": a whole positive number of
// seconds, minutes or hours, so no fraction passes through a float.
func ParseRetryDelay(s string) (time.Duration, error) {
	m := retryDelay.FindStringSubmatch(s)
	if m == nil {
		return 0, Errorf(EINVALID, "retry delay %q is not a duration like 10s, 30m or 2h", s)
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}[m[2]]
	d := time.Duration(n) * unit
	if d > maxRetryDelay {
		return 0, Errorf(EINVALID, "retry delay %q is longer than 7 days", s)
	}
	return d, nil
}

// Validate checks a policy as a client sent it.
func (p RetryPolicy) Validate() error {
	if p.MaxAttempts < 1 || p.MaxAttempts > maxRetryAttempts {
		return Errorf(EINVALID, "retry.max_attempts must be from 1 to %d", maxRetryAttempts)
	}
	if len(p.Statuses) == 0 {
		return Errorf(EINVALID, "retry.statuses must name at least one of no-answer, busy, failed")
	}
	seen := map[CallStatus]bool{}
	for i, st := range p.Statuses {
		switch st {
		case StatusNoAnswer, StatusBusy, StatusFailed:
		default:
			return Errorf(EINVALID, "retry.statuses[%d] %q is not one of no-answer, busy, failed", i, st)
		}
		if seen[st] {
			return Errorf(EINVALID, "retry.statuses[%d] %q appears twice", i, st)
		}
		seen[st] = true
	}
	if p.MaxAttempts > 1 && (len(p.Delays) == 0 || len(p.Delays) > maxRetryAttempts) {
		return Errorf(EINVALID, "retry.delays must hold from 1 to %d durations like 30m", maxRetryAttempts)
	}
	for i, d := range p.Delays {
		if _, err := ParseRetryDelay(d); err != nil {
			return Errorf(EINVALID, "retry.delays[%d]: %s", i, err.(*Error).Message)
		}
	}
	return nil
}

// Next reports whether a contact whose attempt number `attempt` (from 1) ended with status is
// called again, and after how long.
func (p *RetryPolicy) Next(attempt int, status CallStatus) (time.Duration, bool) {
	if p == nil || attempt >= p.MaxAttempts || len(p.Delays) == 0 {
		return 0, false
	}
	for _, st := range p.Statuses {
		if st == status {
			d, err := ParseRetryDelay(p.Delays[min(attempt, len(p.Delays))-1])
			return d, err == nil
		}
	}
	return 0, false
}

// AttemptCallID is the id of a contact's attempt: the first attempt's id, then that id with
// "_a<n>". Derived, so that two writers of the same retry name the same call.
func AttemptCallID(firstCallID string, attempt int) string {
	if attempt <= 1 {
		return firstCallID
	}
	return fmt.Sprintf("%s_a%d", firstCallID, attempt)
}

// FirstAttemptCallID is the id of the first attempt of the contact whose attempt `attempt` is id.
func FirstAttemptCallID(id string, attempt int) string {
	if attempt <= 1 {
		return id
	}
	suffix := fmt.Sprintf("_a%d", attempt)
	if len(id) > len(suffix) && id[len(id)-len(suffix):] == suffix {
		return id[:len(id)-len(suffix)]
	}
	return id
}
