package ringfence_test

import (
	"testing"

	"github.com/ringfence/ringfence/shared/ringfence"
)

func TestParseDecimalString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0", "0"},
		{"12.50", "12.5"},
		{"-0.0834", "-0.0834"},
		{"1.5e-3", "0.0015"},
		{"2E2", "200"},
		{"0.30000000000000004", "0.30000000000000004"},
		{"+7", "7"},
		{"000.100", "0.1"},
	}
	for _, tt := range tests {
		d, err := ringfence.ParseDecimal(tt.in)
		if err != nil {
			t.Fatalf("ParseDecimal(%q) error: %v", tt.in, err)
		}
		if got := d.String(); got != tt.want {
			t.Fatalf("ParseDecimal(%q)=%s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseDecimalRejects(t *testing.T) {
	for _, in := range []string{"", "abc", "1.2.3", "1e", "--1", "NaN", "Infinity", "1e99999", "123456789012345678901234567890123456789"} {
		if _, err := ringfence.ParseDecimal(in); err == nil {
			t.Fatalf("ParseDecimal(%q) succeeded, want an error", in)
		}
	}
}

func TestDecimalArithmeticIsExact(t *testing.T) {
	a := ringfence.MustParseDecimal("0.1")
	b := ringfence.MustParseDecimal("0.2")
	if got, want := a.Add(b).String(), "0.3"; got != want {
		t.Fatalf("0.1+0.2=%s, want %s", got, want)
	}
	if got, want := a.Sub(b).String(), "-0.1"; got != want {
		t.Fatalf("0.1-0.2=%s, want %s", got, want)
	}
	if got, want := ringfence.MustParseDecimal("1234.5").Shift(2).String(), "12.345"; got != want {
		t.Fatalf("cents to dollars=%s, want %s", got, want)
	}
	if got := ringfence.MustParseDecimal("1.50").Cmp(ringfence.MustParseDecimal("1.5")); got != 0 {
		t.Fatalf("Cmp(1.50, 1.5)=%d, want 0", got)
	}
}

func TestDecimalJSON(t *testing.T) {
	var d ringfence.Decimal
	for _, in := range []string{`12.34`, `"12.34"`} {
		if err := d.UnmarshalJSON([]byte(in)); err != nil {
			t.Fatalf("UnmarshalJSON(%s): %v", in, err)
		}
		b, _ := d.MarshalJSON()
		if got, want := string(b), `"12.34"`; got != want {
			t.Fatalf("MarshalJSON=%s, want %s", got, want)
		}
	}
}
