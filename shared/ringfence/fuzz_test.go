package ringfence_test

import (
	"strconv"
	"testing"
	"time"

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
	for _, s := range []string{"Monday", "thu", "2026-12-01", "", "someday"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		day, err := ringfence.ParseRescheduleDay(s)
		if err != nil {
			return
		}
		if again, err := ringfence.ParseRescheduleDay(day); err != nil || again != day {
			t.Fatalf("%q normalised to %q, which normalises to %q (%v)", s, day, again, err)
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
			if ms.Year() < 1973 || ms.UnixMilli() >= 100_000_000_000_000 {
				break // Outside the range both forms read the same way (from 1973 to the year 5138).
			}
			again, err := ringfence.ParseProviderTime(form)
			if err != nil || !again.Equal(ms) {
				t.Fatalf("%q read as %s; its form %q reads as %s (%v)", s, got, form, again, err)
			}
		}
	})
}
