package ringfence

import (
	"fmt"
	"strings"
	"time"
)

// LoadZone loads an IANA time zone named by a client. "Local" and the empty name are refused:
// they would mean the server's zone, which is no one's calling hours.
func LoadZone(name string) (*time.Location, error) {
	if strings.TrimSpace(name) == "" || name == "Local" || len(name) > 64 {
		return nil, Errorf(EINVALID, "timezone %q is not an IANA time zone like Europe/Berlin", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, Errorf(EINVALID, "timezone %q is not an IANA time zone like Europe/Berlin", name)
	}
	return loc, nil
}

// CallingHours is when a campaign may call: on the listed weekdays, from Start to End local time
// in Timezone (a contact's own zone overrides the campaign's).
type CallingHours struct {
	Timezone string
	Days     []string // "mon" … "sun".
	Start    string   // "HH:MM", 24-hour clock.
	End      string   // "HH:MM", after Start.
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// Validate checks calling hours as a client sent them.
func (h CallingHours) Validate() error {
	if _, err := LoadZone(h.Timezone); err != nil {
		return Errorf(EINVALID, "calling_hours.timezone %q is not an IANA time zone like America/New_York", h.Timezone)
	}
	if len(h.Days) == 0 || len(h.Days) > 7 {
		return Errorf(EINVALID, "calling_hours.days must list from 1 to 7 of mon, tue, wed, thu, fri, sat, sun")
	}
	seen := map[string]bool{}
	for i, d := range h.Days {
		if _, ok := weekdays[d]; !ok || seen[d] {
			return Errorf(EINVALID, "calling_hours.days[%d] %q is not one of mon … sun, once each", i, d)
		}
		seen[d] = true
	}
	if !hhmm.MatchString(h.Start) || !hhmm.MatchString(h.End) || h.End <= h.Start {
		return Errorf(EINVALID, "calling_hours.start and end must be 24-hour times like 09:00 and 17:30, start before end")
	}
	return nil
}

// In returns the hours in another time zone ("" keeps the campaign's), for a contact's own zone.
func (h *CallingHours) In(zone string) *CallingHours {
	if h == nil || zone == "" {
		return h
	}
	out := *h
	out.Timezone = zone
	return &out
}

// NextOpen returns t when t falls inside the calling hours, and otherwise the moment they next
// open. Windows are computed on the local calendar day by day, so across a DST change a window of
// 09:00–17:00 stays 09:00–17:00 on the wall clock: its UTC instants move by the hour the clocks
// moved. nil hours are always open.
func (h *CallingHours) NextOpen(t time.Time) time.Time {
	if h == nil {
		return t
	}
	loc, err := LoadZone(h.Timezone)
	if err != nil {
		return t // Validated when stored; an unknown zone here cannot block a call forever.
	}
	var sh, sm, eh, em int
	fmt.Sscanf(h.Start, "%d:%d", &sh, &sm)
	fmt.Sscanf(h.End, "%d:%d", &eh, &em)
	local := t.In(loc)
	for day := 0; day <= 7; day++ {
		d := time.Date(local.Year(), local.Month(), local.Day()+day, 12, 0, 0, 0, loc)
		if !h.on(d.Weekday()) {
			continue
		}
		open := time.Date(d.Year(), d.Month(), d.Day(), sh, sm, 0, 0, loc)
		closes := time.Date(d.Year(), d.Month(), d.Day(), eh, em, 0, 0, loc)
		if !t.Before(closes) {
			continue
		}
		if t.Before(open) {
			return open
		}
		return t
	}
	return t // No listed day: validation forbids it.
}

// Open reports whether t is inside the calling hours.
func (h *CallingHours) Open(t time.Time) bool { return h.NextOpen(t).Equal(t) }

func (h *CallingHours) on(d time.Weekday) bool {
	for _, name := range h.Days {
		if weekdays[name] == d {
			return true
		}
	}
	return false
}
