package ringfence

import (
	"strings"
	"time"
)

// ParseRescheduleDay validates the day a caller asked to be called again: a weekday name
// ("Monday", "tue") or a calendar date ("2026-11-25"). It returns the normalised form, the
// weekday's full lower-case English name or the ISO date.
func ParseRescheduleDay(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", Errorf(EINVALID, "reschedule_day is required")
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := strings.ToLower(d.String())
		if s == name || s == name[:3] {
			return name, nil
		}
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.Format("2006-01-02"), nil
	}
	return "", Errorf(EINVALID, "reschedule_day %s is neither a weekday name nor a date like 2026-11-25", Excerpt(s))
}
