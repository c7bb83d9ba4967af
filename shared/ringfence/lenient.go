package ringfence

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// ProviderID is an identifier a provider sends as a JSON string or as a JSON integer: Bolna's
// documentation shows execution ids as integers while its real payloads carry UUID strings. Either
// form reads as the same text, so an id never fails a message over its JSON type.
type ProviderID string

// UnmarshalJSON implements json.Unmarshaler. null leaves the id empty.
func (id *ProviderID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = ProviderID(strings.TrimSpace(s))
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return Errorf(EINVALID, "an id must be a string or an integer, got %.40s", b)
	}
	if _, err := strconv.ParseInt(n.String(), 10, 64); err != nil {
		return Errorf(EINVALID, "an id must be a string or an integer, got %s", n)
	}
	*id = ProviderID(n.String())
	return nil
}

// ProviderTime is a timestamp in any of the forms providers have sent: an ISO-8601 string with
// or without a zone (a time without one is UTC, as Bolna sends it), or epoch seconds or epoch
// milliseconds, as a JSON number or a string of digits. The zero value means "absent".
type ProviderTime struct {
	time.Time
}

// epochMillisFrom is the smallest number read as epoch milliseconds rather than seconds: 1e11
// seconds is the year 5138, while 1e11 milliseconds is March 1973, before any call was placed.
const epochMillisFrom = 100_000_000_000

// maxEpochMillis bounds an epoch timestamp at the year 5138, beyond which a number is not a time.
const maxEpochMillis = 100_000_000_000_000

// isoLayouts are the ISO-8601 forms accepted, zoned first.
var isoLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// UnmarshalJSON implements json.Unmarshaler. null and "" leave the time absent.
func (t *ProviderTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	text := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &text); err != nil {
			return err
		}
	}
	parsed, err := ParseProviderTime(text)
	if err != nil {
		return err
	}
	t.Time = parsed
	return nil
}

// ParseProviderTime reads one of the forms ProviderTime accepts. "" is the zero time.
func ParseProviderTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if strings.Trim(s, "0123456789.eE+-") == "" && !strings.Contains(s[1:], "-") {
		return epochTime(s)
	}
	for _, layout := range isoLayouts {
		if parsed, err := time.Parse(layout, s); err == nil {
			return parsed.UTC(), nil
		}
	}
	return time.Time{}, Errorf(EINVALID, "%.40q is not an ISO-8601 time or an epoch timestamp", s)
}

// epochTime reads epoch seconds or milliseconds, possibly with a fraction, exactly: the number is
// a Decimal, never a float64, so a millisecond timestamp keeps every digit.
func epochTime(s string) (time.Time, error) {
	d, err := ParseDecimal(s)
	if err != nil || d.Sign() < 0 {
		return time.Time{}, Errorf(EINVALID, "%.40q is not an epoch timestamp", s)
	}
	if d.Cmp(MustParseDecimal(strconv.Itoa(epochMillisFrom))) < 0 {
		d = d.Shift(-3) // Seconds to milliseconds.
	}
	if d.Cmp(MustParseDecimal(strconv.Itoa(maxEpochMillis))) >= 0 {
		return time.Time{}, Errorf(EINVALID, "%.40q is too large for an epoch timestamp", s)
	}
	whole, _, _ := strings.Cut(d.String(), ".")
	ms, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return time.Time{}, Errorf(EINVALID, "%.40q is not an epoch timestamp", s)
	}
	return time.UnixMilli(ms).UTC(), nil
}

// Text is an optional string field a provider may send in another JSON type: a string reads as
// itself, a number or a boolean as its JSON text, and null, an object or an array as "", as if
// the field were absent. A field ringfence keeps but cannot read never fails a delivery.
type Text string

// UnmarshalJSON implements json.Unmarshaler; it never fails.
func (t *Text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*t = ""
	switch {
	case len(b) == 0, b[0] == '{', b[0] == '[', bytes.Equal(b, []byte("null")):
	case b[0] == '"':
		var s string
		if json.Unmarshal(b, &s) == nil {
			*t = Text(s)
		}
	default:
		*t = Text(b)
	}
	return nil
}

// ExtractedData reads what a provider extracted from a call (Bolna's extracted_data, Retell's
// call_analysis, Vapi's structured data) as the compact text of a JSON object: an object as
// itself, and a string holding a JSON object as that object, as some agents send it. Absent,
// null, an empty object or an empty string hold nothing. Anything else (a string of prose, an
// array, a number) cannot be kept as extracted data: it reads as "" with dropped set, for the
// adapter to log, and the rest of the delivery is applied.
func ExtractedData(raw []byte) (data string, dropped bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", true
		}
		raw = bytes.TrimSpace([]byte(s))
	}
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", false
	}
	var buf bytes.Buffer
	if raw[0] != '{' || json.Compact(&buf, raw) != nil {
		return "", true
	}
	if buf.String() == "{}" {
		return "", false
	}
	return buf.String(), false
}
