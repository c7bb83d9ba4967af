package ringfence_test

import (
	"testing"

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
