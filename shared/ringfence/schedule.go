package ringfence

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	// The time zone database travels in the binary: a Lambda image need not have one.
	_ "time/tzdata"
)

// CallType says why a scheduled call is placed.
type CallType string

// The scheduled call types.
const (
	CallWelcome CallType = "welcome" // Once, after sign-up.
	CallDaily   CallType = "daily"   // Once a day, at the customer's chosen time.
)

// WelcomeDelay is how long after sign-up a customer becomes due for the welcome call.
const WelcomeDelay = 20 * time.Minute

// ScheduledCall names the one call of a type a customer gets on a local date: it is the
// idempotency key of the scheduler and the claim of the dispatcher.
type ScheduledCall struct {
	CustomerID string
	Type       CallType
	LocalDate  string // YYYY-MM-DD in the customer's time zone.
	Attempt    int    // 1 for the first try; retries after a refusal count up.
}

// Key returns the scheduled call's idempotency key: customer, type and local date.
func (s ScheduledCall) Key() string {
	return s.CustomerID + "#" + string(s.Type) + "#" + s.LocalDate
}

// CallID returns the id of one attempt of the scheduled call. It is derived from the key, so two
// schedulers that enqueue the same call name the same record and the second finds it exists.
func (s ScheduledCall) CallID() string {
	return fmt.Sprintf("call_sch_%s_%s_%s_a%d", s.CustomerID, s.Type, strings.ReplaceAll(s.LocalDate, "-", ""), s.Attempt)
}

// Eligible reports whether a customer may be called: paid, phone validated, calls not disabled.
func (c Customer) Eligible() bool { return c.Paid && c.PhoneValidated && !c.CallsDisabled }

// Location loads the customer's time zone.
func (c Customer) Location() (*time.Location, error) {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return nil, Errorf(EINVALID, "timezone %s is not an IANA time zone like Europe/Berlin", Excerpt(c.Timezone))
	}
	return loc, nil
}

var hhmm = regexp.MustCompile(`^([01][0-9]|2[0-3]):([0-5][0-9])$`)

// ValidateCallTime checks a daily call time, "HH:MM" on a 24-hour clock ("" for none).
func ValidateCallTime(s string) error {
	if s != "" && !hhmm.MatchString(s) {
		return Errorf(EINVALID, "daily_call_time %s is not a 24-hour time like 18:30", Excerpt(s))
	}
	return nil
}

// NextDailyCall returns the first time after `after` at which the customer's daily call falls, in
// their time zone, and the local date it falls on. Across a DST change the wall-clock time stays
// the chosen one: a call at 09:00 is at 09:00 local time on both sides. A time that does not exist
// on a day (it falls in the hour the clocks skip) is moved by the skipped hour.
func NextDailyCall(callTime string, loc *time.Location, after time.Time) (time.Time, string, error) {
	m := hhmm.FindStringSubmatch(callTime)
	if m == nil {
		return time.Time{}, "", ValidateCallTime(callTime)
	}
	var h, min int
	fmt.Sscanf(m[1]+" "+m[2], "%d %d", &h, &min)
	local := after.In(loc)
	for day := 0; day < 3; day++ {
		d := local.AddDate(0, 0, day)
		at := time.Date(d.Year(), d.Month(), d.Day(), h, min, 0, 0, loc)
		if at.After(after) {
			return at.UTC(), time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, loc).Format("2006-01-02"), nil
		}
	}
	return time.Time{}, "", Errorf(EINTERNAL, "no daily call time found after %s", after)
}

// LocalDate returns the date of t in loc, as YYYY-MM-DD.
func LocalDate(t time.Time, loc *time.Location) string { return t.In(loc).Format("2006-01-02") }
