package ringfence_test

import (
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ringfence/ringfence/shared/ringfence"
)

// A decimal that parses prints as a decimal that parses to the same number.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"0", "12.71", "-0.0834", "1.5e-3", "1E+2", "0.30000000000000004", "", "abc", "1e99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ringfence.ParseDecimal(s)
		if err != nil {
			return
		}
		again, err := ringfence.ParseDecimal(d.String())
		if err != nil || again.Cmp(d) != 0 {
			t.Fatalf("%q printed as %q, which parses to %v (%v)", s, d.String(), again, err)
		}
		if sum := d.Add(d).Sub(d); sum.Cmp(d) != 0 {
			t.Fatalf("%s + %s - %s = %s", d, d, d, sum)
		}
	})
}

func FuzzParseRescheduleDay(f *testing.F) {
	for _, s := range []string{"Monday", "thu", "2026-12-01", "", "someday", "शुक्रवार को", "pasado mañana", "Freitag morgen", "2026-13-45"} {
		f.Add(s)
	}
	today := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		day, err := ringfence.ParseRescheduleDay(s, today)
		if err != nil {
			return
		}
		if again, err := ringfence.ParseRescheduleDay(day.Day, today); err != nil || again != day {
			t.Fatalf("%q read as %+v, which reads as %+v (%v)", s, day, again, err)
		}
	})
}

// A provider timestamp either parses to a time that reads back the same from its epoch
// milliseconds and its ISO-8601 form, or is refused as invalid: never a panic, never a guess.
func FuzzParseProviderTime(f *testing.F) {
	for _, s := range []string{"1714608491736", "1714608491", "1714608491.736", "2024-05-02T00:08:11.736Z", "2024-05-02T00:08:11.736", "2024-05-02 00:08:11", "", "-1", "1e40", "e", "yesterday"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ringfence.ParseProviderTime(s)
		if err != nil {
			if ringfence.ErrorCode(err) != ringfence.EINVALID {
				t.Fatalf("%q: error code %s, want invalid", s, ringfence.ErrorCode(err))
			}
			return
		}
		if got.IsZero() {
			return
		}
		ms := got.Truncate(time.Millisecond)
		for _, form := range []string{strconv.FormatInt(ms.UnixMilli(), 10), ms.Format(time.RFC3339Nano)} {
			if ms.UnixMilli() < 100_000_000_000 || ms.UnixMilli() >= 100_000_000_000_000 {
				break // Outside the range both forms read the same way (from March 1973, 1e11 ms, to the year 5138).
			}
			again, err := ringfence.ParseProviderTime(form)
			if err != nil || !again.Equal(ms) {
				t.Fatalf("%q read as %s; its form %q reads as %s (%v)", s, got, form, again, err)
			}
		}
	})
}

// A provider event that passes the checks fits the store: ids short and printable, a cost of at
// most 10,000 USD with at most 6 decimals, a non-negative duration, an http(s) recording URL.
// Checking it again changes nothing.
func FuzzCallEventValidate(f *testing.F) {
	f.Add("exec-1", "call_1", "12.3456789", "60", "https://example.com/r.mp3", "completed")
	f.Add(strings.Repeat("x", 300), "", "1e37", "-5", "javascript:alert(1)", "\x1b[2J")
	f.Add("a b", "call\u202e", "0.07470000000000001", "43201", "HTTP://h", "")
	f.Fuzz(func(t *testing.T, providerCallID, callID, cost, duration, recording, reason string) {
		ev := ringfence.CallEvent{Provider: ringfence.ProviderVapi, ProviderCallID: providerCallID, CallID: callID, RecordingURL: recording, EndReason: reason}
		if d, err := ringfence.ParseDecimal(cost); err == nil {
			ev.Cost = &d
		}
		if d, err := ringfence.ParseDecimal(duration); err == nil {
			ev.Duration = &d
		}
		if err := ev.Validate(); err != nil {
			if ringfence.ErrorCode(err) != ringfence.EINVALID || len(ringfence.ErrorMessage(err)) > 300 {
				t.Fatalf("refusal %v: want a short EINVALID", err)
			}
			return
		}
		for _, id := range []string{ev.ProviderCallID, ev.CallID} {
			if len(id) > ringfence.MaxIDLength || strings.ContainsAny(id, " \x00\x1b") {
				t.Fatalf("id %q passed", id)
			}
		}
		if ev.Cost != nil {
			if ev.Cost.Sign() < 0 || ev.Cost.Cmp(ringfence.MaxCallCost) > 0 || ev.Cost.Round(ringfence.MaxCostDecimals).Cmp(*ev.Cost) != 0 {
				t.Fatalf("cost %s passed", ev.Cost)
			}
		}
		if ev.Duration != nil && ev.Duration.Sign() < 0 {
			t.Fatalf("duration %s passed", ev.Duration)
		}
		if ev.RecordingURL != "" && !strings.HasPrefix(strings.ToLower(ev.RecordingURL), "http") {
			t.Fatalf("recording URL %q passed", ev.RecordingURL)
		}
		again := ev
		if err := again.Validate(); err != nil || (ev.Cost != nil && again.Cost.Cmp(*ev.Cost) != 0) {
			t.Fatalf("checking twice: %v, cost %v then %v", err, ev.Cost, again.Cost)
		}
	})
}

// Text that passes ValidateText holds no control character; any text, once Printable, holds
// none either; an Excerpt is short whatever it quotes.
func FuzzValidateText(f *testing.F) {
	for _, s := range []string{"Ann", "evil\x1b[31m", "abc\u202edef", "\x00", "Zoë", "\xff\xfe", strings.Repeat("a", 300)} {
		f.Add(s)
	}
	unsafe := func(s string) bool {
		for _, r := range s {
			if unicode.IsControl(r) && r != '\n' && r != '\t' || r == '\u202e' || r == '\u2066' {
				return true
			}
		}
		return false
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ringfence.ValidateText("name", s, ringfence.MaxNameLength) == nil && (unsafe(s) || len(s) > ringfence.MaxNameLength || !utf8.ValidString(s)) {
			t.Fatalf("%q passed", s)
		}
		if ringfence.ValidateFields("metadata", map[string]string{s: "v"}) == nil && strings.TrimSpace(s) == "" {
			t.Fatalf("field name %q passed", s)
		}
		if p := ringfence.Printable(s); unsafe(p) {
			t.Fatalf("Printable(%q) = %q holds a control character", s, p)
		}
		if e := ringfence.Excerpt(s); len(e) > 500 {
			t.Fatalf("Excerpt of %d bytes is %d bytes", len(s), len(e))
		}
		if ringfence.ValidateID("id", s) == nil && (s == "" || len(s) > ringfence.MaxIDLength || strings.ContainsAny(s, " \x00\x7f")) {
			t.Fatalf("id %q passed", s)
		}
	})
}
