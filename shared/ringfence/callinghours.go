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

// CallingHours is when a campaign may call: on the listed weekdays, from Start to End local time,
// except on the blackout dates. On a campaign, Timezone is the campaign's zone; on a call, Zones
// are the recipient's zones (its contact's own, its number's, or the campaign's, as Source says),
// and the window must be open in every one of them.
type CallingHours struct {
	Timezone      string
	Days          []string // "mon" … "sun".
	Start         string   // "HH:MM", 24-hour clock.
	End           string   // "HH:MM", after Start.
	BlackoutDates []string // "YYYY-MM-DD": no call on these local dates, in each recipient zone.
	Zones         []string // The recipient's zones; empty: Timezone alone.
	Source        ZoneSource
}

// ZoneSource says where a call's time zone came from.
type ZoneSource string

// The sources of a recipient's time zone, in the order they are tried.
const (
	ZoneFromContact  ZoneSource = "contact"  // The contact's own timezone.
	ZoneFromNumber   ZoneSource = "number"   // The number's zones, from libphonenumber's data.
	ZoneFromCampaign ZoneSource = "campaign" // The campaign's calling_hours.timezone.
)

// MaxBlackoutDates bounds calling_hours.blackout_dates: two years of holidays fit well within it.
const MaxBlackoutDates = 100

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
	if len(h.BlackoutDates) > MaxBlackoutDates {
		return Errorf(EINVALID, "calling_hours.blackout_dates holds more than %d dates", MaxBlackoutDates)
	}
	dates := map[string]bool{}
	for i, d := range h.BlackoutDates {
		if _, err := time.Parse("2006-01-02", d); err != nil || dates[d] {
			return Errorf(EINVALID, "calling_hours.blackout_dates[%d] %s is not a date like 2026-12-25, once each", i, Excerpt(d))
		}
		dates[d] = true
	}
	return nil
}

// For returns the hours of a call to a contact: judged in the contact's own zone when it has one;
// else in its number's zones, all of them, when the library knows them and they share a window
// (a toll-free number spans Guam to Newfoundland, whose windows never meet); else in the
// campaign's zone. now is when the call is queued, which the shared window is judged from.
func (h *CallingHours) For(contactZone, phone string, now time.Time) *CallingHours {
	if h == nil {
		return nil
	}
	out := *h
	switch zones := PhoneZones(phone); {
	case contactZone != "":
		out.Timezone, out.Zones, out.Source = contactZone, []string{contactZone}, ZoneFromContact
	case len(zones) > 0 && h.sharesWindow(zones, now):
		out.Timezone, out.Zones, out.Source = zones[0], zones, ZoneFromNumber
	default:
		out.Zones, out.Source = []string{h.Timezone}, ZoneFromCampaign
	}
	return &out
}

// sharesWindow reports whether the window opens in every one of zones at once within a fortnight
// of now.
func (h *CallingHours) sharesWindow(zones []string, now time.Time) bool {
	in := *h
	in.Zones = zones
	open, closes := in.Window(now)
	return closes.After(open) && open.Before(now.Add(14*24*time.Hour))
}

// zones are the zones the hours are judged in.
func (h *CallingHours) zones() []string {
	if len(h.Zones) > 0 {
		return h.Zones
	}
	return []string{h.Timezone}
}

// NextOpen returns t when t falls inside the calling hours in every zone, and otherwise the first
// moment after t when it does (or, where the zones' windows never meet, a later moment at which
// the question is asked again). Windows are computed on the local calendar day by day, so across
// a DST change a window of 09:00–17:00 stays 09:00–17:00 on the wall clock: its UTC instants move
// by the hour the clocks moved. nil hours are always open.
func (h *CallingHours) NextOpen(t time.Time) time.Time {
	open, _ := h.Window(t)
	return open
}

// Window returns the next time the hours are open in every zone, from t on, and when that
// opening closes (the earliest close among the zones). nil hours are always open: the zero close
// then means never. A queue entry keeps both, and the claim that dials it holds only between
// them: the window is a condition of the dial, not a check made before it.
func (h *CallingHours) Window(t time.Time) (opens, closes time.Time) {
	if h == nil {
		return t, time.Time{}
	}
	zones := h.zones()
	candidate := t
	// Each round moves the candidate to the latest of the zones' next openings; when every zone
	// is open at the candidate, it is the answer. The rounds are bounded: zones whose windows
	// never meet end on a candidate that is still closed somewhere, and closes <= opens says so.
	for round := 0; round < 16; round++ {
		latest, agreed := candidate, true
		for _, z := range zones {
			o, _ := h.windowIn(z, candidate)
			if o.After(latest) {
				latest = o
			}
			if !o.Equal(candidate) {
				agreed = false
			}
		}
		candidate = latest
		if agreed {
			break
		}
	}
	closes = time.Time{}
	for _, z := range zones {
		o, c := h.windowIn(z, candidate)
		if !o.Equal(candidate) {
			c = candidate // Closed in this zone: the window is empty.
		}
		if closes.IsZero() || c.Before(closes) {
			closes = c
		}
	}
	return candidate, closes
}

// windowIn returns the next opening of the hours in one zone from t on (t itself when open) and
// its close. Blackout dates are skipped as closed days, on the zone's own calendar.
func (h *CallingHours) windowIn(zone string, t time.Time) (opens, closes time.Time) {
	loc, err := LoadZone(zone)
	if err != nil {
		return t, t.Add(time.Minute) // Validated when stored; an unknown zone here cannot block a call forever.
	}
	var sh, sm, eh, em int
	fmt.Sscanf(h.Start, "%d:%d", &sh, &sm)
	fmt.Sscanf(h.End, "%d:%d", &eh, &em)
	local := t.In(loc)
	for day := 0; day <= 7+len(h.BlackoutDates); day++ {
		d := time.Date(local.Year(), local.Month(), local.Day()+day, 12, 0, 0, 0, loc)
		if !h.on(d.Weekday()) || h.blackedOut(d) {
			continue
		}
		open := time.Date(d.Year(), d.Month(), d.Day(), sh, sm, 0, 0, loc)
		closes := time.Date(d.Year(), d.Month(), d.Day(), eh, em, 0, 0, loc)
		if !t.Before(closes) {
			continue
		}
		if t.Before(open) {
			return open, closes
		}
		return t, closes
	}
	// No open day within reach: every listed day is blacked out. Ask again a week on.
	later := t.Add(7 * 24 * time.Hour)
	return later, later
}

// blackedOut reports whether the local date of d is a blackout date.
func (h *CallingHours) blackedOut(d time.Time) bool {
	date := d.Format("2006-01-02")
	for _, b := range h.BlackoutDates {
		if b == date {
			return true
		}
	}
	return false
}

// Open reports whether t is inside the calling hours in every zone.
func (h *CallingHours) Open(t time.Time) bool {
	open, closes := h.Window(t)
	return open.Equal(t) && (h == nil || closes.After(t))
}

func (h *CallingHours) on(d time.Weekday) bool {
	for _, name := range h.Days {
		if weekdays[name] == d {
			return true
		}
	}
	return false
}
