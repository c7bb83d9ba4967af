package ringfence

import (
	"regexp"
	"strconv"
	"time"
)

// ContactFrequency caps how many calls one number receives from an account in any rolling
// period, counting every campaign's calls, direct calls and scheduled calls.
type ContactFrequency struct {
	MaxCalls int
	Per      time.Duration
}

// Settings are an account's own settings.
type Settings struct {
	ContactFrequency *ContactFrequency // nil: no cap.
}

// Bounds of a contact frequency cap: the dial times kept per number are at most MaxCallsCap, and
// a period is from a minute to 90 days.
const (
	MaxCallsCap = 50
	maxPeriod   = 90 * 24 * time.Hour
)

var period = regexp.MustCompile(`^([1-9][0-9]{0,5})(m|h|d)$`)

// ParsePeriod reads a rolling period written like "30m", "24h" or "7d".
func ParsePeriod(s string) (time.Duration, error) {
	m := period.FindStringSubmatch(s)
	if m == nil {
		return 0, Errorf(EINVALID, "contact_frequency.per %s is not a period like 30m, 24h or 7d", Excerpt(s))
	}
	n, _ := strconv.Atoi(m[1])
	d := time.Duration(n) * map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[m[2]]
	if d > maxPeriod {
		return 0, Errorf(EINVALID, "contact_frequency.per %s is longer than 90 days", Excerpt(s))
	}
	return d, nil
}

// Validate checks a cap as a client sent it.
func (f ContactFrequency) Validate() error {
	if f.MaxCalls < 1 || f.MaxCalls > MaxCallsCap {
		return Errorf(EINVALID, "contact_frequency.max_calls must be from 1 to %d", MaxCallsCap)
	}
	if f.Per < time.Minute || f.Per > maxPeriod {
		return Errorf(EINVALID, "contact_frequency.per must be from 1m to 90d")
	}
	return nil
}

// FormatPeriod writes a period as ParsePeriod reads it.
func FormatPeriod(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	case d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	return strconv.Itoa(int(d/time.Minute)) + "m"
}

// KeepDials is the list of a number's dial times (oldest first) after one more at now: the last
// MaxCalls of them, which is all the cap ever needs to look at.
func (f ContactFrequency) KeepDials(dials []string, now string) []string {
	out := append(append([]string{}, dials...), now)
	if len(out) > f.MaxCalls {
		out = out[len(out)-f.MaxCalls:]
	}
	return out
}

// HeldUntil is when a number whose last dials (oldest first) fill the cap may be called again:
// when the oldest of its last MaxCalls dials leaves the period.
func (f ContactFrequency) HeldUntil(dials []time.Time) time.Time {
	if len(dials) < f.MaxCalls {
		return time.Time{}
	}
	return dials[len(dials)-f.MaxCalls].Add(f.Per)
}

// HoldContactFrequency is why a call waits for the contact frequency cap.
const HoldContactFrequency = "contact_frequency"
