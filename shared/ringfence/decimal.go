package ringfence

import (
	"encoding/json"
	"math/big"
	"strconv"
	"strings"
)

// Decimal is an exact decimal number: unscaled × 10^-scale. Money and durations travel as
// Decimals between provider payloads and DynamoDB Number attributes, so no cost ever passes
// through float64 and sums stay exact. The zero value is 0.
type Decimal struct {
	unscaled big.Int
	scale    int32
}

// maxDecimalDigits bounds parsed input. DynamoDB Numbers hold 38 significant digits; anything
// longer could not be stored exactly, so it is refused at the edge.
const maxDecimalDigits = 38

// ParseDecimal reads a decimal in plain ("-12.50") or exponent ("1.5e-3") notation.
func ParseDecimal(s string) (Decimal, error) {
	var d Decimal
	mantissa, exponent := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > 1000 || e < -1000 {
			return d, Errorf(EINVALID, "%s is not a decimal number", Excerpt(s))
		}
		mantissa, exponent = s[:i], e
	}
	sign := ""
	if strings.HasPrefix(mantissa, "-") || strings.HasPrefix(mantissa, "+") {
		sign, mantissa = mantissa[:1], mantissa[1:]
	}
	whole, frac, _ := strings.Cut(mantissa, ".")
	digits := whole + frac
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return d, Errorf(EINVALID, "%s is not a decimal number", Excerpt(s))
	}
	if len(strings.Trim(digits, "0")) > maxDecimalDigits {
		return d, Errorf(EINVALID, "%s has more than %d significant digits", Excerpt(s), maxDecimalDigits)
	}
	d.unscaled.SetString(strings.TrimPrefix(sign, "+")+digits, 10)
	d.scale = int32(len(frac) - exponent)
	d = d.normalized()
	// Bound the magnitude too, so every accepted number prints in plain notation that parses
	// back, and fits a DynamoDB Number: at most 38 digits before and 38 after the point.
	if d.scale > maxDecimalDigits || len(new(big.Int).Abs(&d.unscaled).String())-int(d.scale) > maxDecimalDigits {
		return Decimal{}, Errorf(EINVALID, "%s is too large or too small a number", Excerpt(s))
	}
	return d, nil
}

// MustParseDecimal is ParseDecimal for constants known to be valid; it panics otherwise.
func MustParseDecimal(s string) Decimal {
	d, err := ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

// normalized drops trailing zeros of the fraction and makes the scale non-negative, so equal
// numbers have one representation and one String.
func (d Decimal) normalized() Decimal {
	var out Decimal
	out.unscaled.Set(&d.unscaled)
	out.scale = d.scale
	ten := big.NewInt(10)
	for out.scale < 0 {
		out.unscaled.Mul(&out.unscaled, ten)
		out.scale++
	}
	var q, r big.Int
	for out.scale > 0 {
		q.QuoRem(&out.unscaled, ten, &r)
		if r.Sign() != 0 {
			break
		}
		out.unscaled.Set(&q)
		out.scale--
	}
	return out
}

// aligned returns the unscaled values of a and b at a common scale.
func aligned(a, b Decimal) (x, y *big.Int, scale int32) {
	x, y = new(big.Int).Set(&a.unscaled), new(big.Int).Set(&b.unscaled)
	scale = max(a.scale, b.scale)
	x.Mul(x, pow10(scale-a.scale))
	y.Mul(y, pow10(scale-b.scale))
	return x, y, scale
}

func pow10(n int32) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

// Add returns d + o.
func (d Decimal) Add(o Decimal) Decimal {
	x, y, scale := aligned(d, o)
	var out Decimal
	out.unscaled.Add(x, y)
	out.scale = scale
	return out.normalized()
}

// Sub returns d - o.
func (d Decimal) Sub(o Decimal) Decimal {
	x, y, scale := aligned(d, o)
	var out Decimal
	out.unscaled.Sub(x, y)
	out.scale = scale
	return out.normalized()
}

// Shift returns d × 10^-places: Shift(2) turns cents into dollars exactly.
func (d Decimal) Shift(places int32) Decimal {
	var out Decimal
	out.unscaled.Set(&d.unscaled)
	out.scale = d.scale + places
	return out.normalized()
}

// Cmp compares d and o and returns -1, 0 or +1.
func (d Decimal) Cmp(o Decimal) int {
	x, y, _ := aligned(d, o)
	return x.Cmp(y)
}

// IsZero reports whether d is 0.
func (d Decimal) IsZero() bool { return d.unscaled.Sign() == 0 }

// Sign returns -1, 0 or +1.
func (d Decimal) Sign() int { return d.unscaled.Sign() }

// String returns the plain decimal notation, the form stored in DynamoDB and shown in the API.
func (d Decimal) String() string {
	n := d.normalized()
	s := new(big.Int).Abs(&n.unscaled).String()
	if n.scale > 0 {
		if pad := int(n.scale) - len(s) + 1; pad > 0 {
			s = strings.Repeat("0", pad) + s
		}
		s = s[:len(s)-int(n.scale)] + "." + s[len(s)-int(n.scale):]
	}
	if n.unscaled.Sign() < 0 {
		s = "-" + s
	}
	return s
}

// MarshalJSON writes the decimal as a JSON string, so clients never parse it as a float.
func (d Decimal) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.String())
}

// UnmarshalJSON accepts a JSON number or a JSON string holding one.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	parsed, err := ParseDecimal(s)
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}

// Round returns d rounded to at most places decimals, halves away from zero.
func (d Decimal) Round(places int32) Decimal {
	n := d.normalized()
	if n.scale <= places {
		return n
	}
	div := pow10(n.scale - places)
	q, r := new(big.Int).QuoRem(&n.unscaled, div, new(big.Int))
	twice := new(big.Int).Abs(r)
	twice.Mul(twice, big.NewInt(2))
	if twice.Cmp(div) >= 0 {
		q.Add(q, big.NewInt(int64(n.unscaled.Sign())))
	}
	var out Decimal
	out.unscaled.Set(q)
	out.scale = places
	return out.normalized()
}
