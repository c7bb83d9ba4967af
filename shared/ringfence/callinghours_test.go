package ringfence_test

import (
	"testing"
	"time"

	"github.com/ringfence/ringfence/shared/ringfence"
)

// Calling hours keep their wall-clock times across DST changes in three zones: the UTC instant of
// "09:00" moves by the hour the clocks moved, and a contact is never called outside its window.
func TestCallingHoursAcrossDST(t *testing.T) {
	utc := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	weekdays := []string{"mon", "tue", "wed", "thu", "fri"}
	every := []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	tests := []struct {
		name string
		h    ringfence.CallingHours
		at   string
		want string
	}{
		// New York leaves DST on Sunday 1 November 2026: 09:00 is 13:00 UTC before, 14:00 after.
		{"new york friday evening before the change", ringfence.CallingHours{Timezone: "America/New_York", Days: weekdays, Start: "09:00", End: "17:00"}, "2026-10-30T21:30:00Z", "2026-11-02T14:00:00Z"},
		{"new york friday morning before the change", ringfence.CallingHours{Timezone: "America/New_York", Days: weekdays, Start: "09:00", End: "17:00"}, "2026-10-30T12:59:00Z", "2026-10-30T13:00:00Z"},
		{"new york inside the window", ringfence.CallingHours{Timezone: "America/New_York", Days: weekdays, Start: "09:00", End: "17:00"}, "2026-11-02T21:59:00Z", "2026-11-02T21:59:00Z"},
		{"new york spring forward", ringfence.CallingHours{Timezone: "America/New_York", Days: []string{"sun"}, Start: "09:00", End: "17:00"}, "2026-03-08T01:00:00Z", "2026-03-08T13:00:00Z"},
		// Berlin leaves DST on Sunday 25 October 2026: 09:00 is 07:00 UTC before, 08:00 after.
		{"berlin saturday inside", ringfence.CallingHours{Timezone: "Europe/Berlin", Days: []string{"mon", "sat"}, Start: "09:00", End: "12:00"}, "2026-10-24T08:00:00Z", "2026-10-24T08:00:00Z"},
		{"berlin saturday after close", ringfence.CallingHours{Timezone: "Europe/Berlin", Days: []string{"mon", "sat"}, Start: "09:00", End: "12:00"}, "2026-10-24T10:00:00Z", "2026-10-26T08:00:00Z"},
		// Sydney enters DST on Sunday 4 October 2026: 09:00 is 23:00 UTC before, 22:00 after.
		{"sydney saturday evening", ringfence.CallingHours{Timezone: "Australia/Sydney", Days: every, Start: "09:00", End: "17:00"}, "2026-10-03T08:00:00Z", "2026-10-03T22:00:00Z"},
		{"sydney friday evening", ringfence.CallingHours{Timezone: "Australia/Sydney", Days: every, Start: "09:00", End: "17:00"}, "2026-10-02T08:00:00Z", "2026-10-02T23:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.h.Validate(); err != nil {
				t.Fatal(err)
			}
			got, want := tc.h.NextOpen(utc(tc.at)), utc(tc.want)
			if !got.Equal(want) {
				t.Fatalf("NextOpen(%s)=%s, want %s", tc.at, got.UTC().Format(time.RFC3339), tc.want)
			}
			if !tc.h.Open(got) {
				t.Fatalf("Open(%s)=false, want true", got)
			}
		})
	}
	var none *ringfence.CallingHours
	if at := utc("2026-10-30T03:00:00Z"); !none.NextOpen(at).Equal(at) {
		t.Fatalf("no calling hours must never wait")
	}
}

func TestCallingHoursValidate(t *testing.T) {
	bad := []ringfence.CallingHours{
		{Timezone: "Mars/Olympus", Days: []string{"mon"}, Start: "09:00", End: "17:00"},
		{Timezone: "UTC", Days: []string{"monday"}, Start: "09:00", End: "17:00"},
		{Timezone: "UTC", Days: []string{"mon", "mon"}, Start: "09:00", End: "17:00"},
		{Timezone: "UTC", Days: nil, Start: "09:00", End: "17:00"},
		{Timezone: "UTC", Days: []string{"mon"}, Start: "17:00", End: "09:00"},
		{Timezone: "UTC", Days: []string{"mon"}, Start: "9:00", End: "17:00"},
		{Timezone: "Local", Days: []string{"mon"}, Start: "09:00", End: "17:00"},
	}
	for _, h := range bad {
		if err := h.Validate(); ringfence.ErrorCode(err) != ringfence.EINVALID {
			t.Fatalf("Validate(%+v)=%v, want invalid", h, err)
		}
	}
}

func TestRetryPolicy(t *testing.T) {
	p := &ringfence.RetryPolicy{Statuses: []ringfence.CallStatus{ringfence.StatusNoAnswer}, MaxAttempts: 4, Delays: []string{"10s", "30m", "2h"}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		attempt int
		status  ringfence.CallStatus
		delay   time.Duration
		retry   bool
	}{
		{1, ringfence.StatusNoAnswer, 10 * time.Second, true},
		{2, ringfence.StatusNoAnswer, 30 * time.Minute, true},
		{3, ringfence.StatusNoAnswer, 2 * time.Hour, true},
		{4, ringfence.StatusNoAnswer, 0, false},
		{1, ringfence.StatusBusy, 0, false},
		{1, ringfence.StatusCompleted, 0, false},
	}
	for _, tc := range tests {
		delay, retry := p.Next(tc.attempt, tc.status)
		if delay != tc.delay || retry != tc.retry {
			t.Fatalf("Next(%d, %s)=%v,%v, want %v,%v", tc.attempt, tc.status, delay, retry, tc.delay, tc.retry)
		}
	}
	for _, bad := range []ringfence.RetryPolicy{
		{Statuses: []ringfence.CallStatus{"completed"}, MaxAttempts: 2, Delays: []string{"1m"}},
		{Statuses: []ringfence.CallStatus{"busy"}, MaxAttempts: 0},
		{Statuses: []ringfence.CallStatus{"busy"}, MaxAttempts: 2, Delays: []string{"1.5h"}},
		{Statuses: []ringfence.CallStatus{"busy"}, MaxAttempts: 2, Delays: []string{"200h"}},
		{Statuses: []ringfence.CallStatus{"busy"}, MaxAttempts: 2},
	} {
		if err := bad.Validate(); ringfence.ErrorCode(err) != ringfence.EINVALID {
			t.Fatalf("Validate(%+v)=%v, want invalid", bad, err)
		}
	}
}

// Blackout dates are dates, once each; a window never opens on one, in each zone's own calendar.
func TestBlackoutDates(t *testing.T) {
	h := ringfence.CallingHours{Timezone: "Asia/Tokyo", Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "09:00", End: "17:00"}
	for _, bad := range [][]string{{"2026-13-01"}, {"25/12/2026"}, {"2026-12-25", "2026-12-25"}} {
		h.BlackoutDates = bad
		if err := h.Validate(); ringfence.ErrorCode(err) != ringfence.EINVALID {
			t.Fatalf("blackout_dates %v err=%v, want EINVALID", bad, err)
		}
	}
	h.BlackoutDates = []string{"2026-11-03"}
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	at, _ := time.Parse(time.RFC3339, "2026-11-03T01:00:00Z") // Tuesday 10:00 in Tokyo.
	opens, closes := h.Window(at)
	if want := "2026-11-04T00:00:00Z"; opens.UTC().Format(time.RFC3339) != want || closes.Sub(opens) != 8*time.Hour {
		t.Fatalf("window=%s–%s, want %s for 8 hours", opens, closes, want)
	}
}
