package vapi

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/ringfence/ringfence/shared/ringfence"
)

// Vapi has sent some fields in more than one JSON type over time: the message timestamp was an
// ISO-8601 string in 2024 and is epoch milliseconds in today's schema; ids are strings but a
// proxy or a test tool may send numbers. The types here accept each form, so a message is never
// refused over the shape of a field whose meaning is clear.

// Time is a moment sent as an ISO-8601 string, or as epoch seconds or milliseconds (a JSON number
// or a numeric string). A value of any other shape reads as the zero Time: the fields that carry
// it only order deliveries and measure durations, and a message without them is still applied.
type Time struct{ time.Time }

// UnmarshalJSON reads any of Time's forms and never fails.
func (t *Time) UnmarshalJSON(b []byte) error {
	t.Time = parseTime(b)
	return nil
}

// isoLayouts are the ISO-8601 forms a timestamp string is read in; one without a zone is UTC.
var isoLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"}

// epochMillisFrom is the smallest epoch number read as milliseconds: 1e11 seconds lies in the
// year 5138, 1e11 milliseconds in 1973.
var epochMillisFrom = ringfence.MustParseDecimal("100000000000")

// parseTime reads a JSON value as a moment: an ISO-8601 string, or an epoch number of seconds or
// milliseconds (told apart by size), bare or in a string. Anything else is the zero Time.
func parseTime(b []byte) time.Time {
	b = bytes.TrimSpace(b)
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return time.Time{}
		}
		s = strings.TrimSpace(s)
		for _, layout := range isoLayouts {
			if at, err := time.Parse(layout, s); err == nil {
				return at
			}
		}
	}
	d, err := ringfence.ParseDecimal(s)
	if err != nil || d.Sign() <= 0 {
		return time.Time{}
	}
	millis := d.Shift(-3)
	if d.Cmp(epochMillisFrom) >= 0 {
		millis = d
	}
	ms, ok := wholePart(millis)
	if !ok {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// wholePart returns the integer part of a positive decimal, if it fits an int64 of milliseconds
// that time.UnixMilli can represent.
func wholePart(d ringfence.Decimal) (int64, bool) {
	whole, _, _ := strings.Cut(d.String(), ".")
	if len(whole) > 15 { // Beyond the year 33658: not a timestamp.
		return 0, false
	}
	var n int64
	for _, c := range whole {
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// ID is an identifier sent as a JSON string or a JSON number; it reads as the string. Any other
// shape reads as "", which the fields that need an id refuse with a clear message.
type ID string

// UnmarshalJSON reads a string or a number and never fails.
func (id *ID) UnmarshalJSON(b []byte) error {
	*id = ID(flexString(b))
	return nil
}

// flexString returns a JSON string's value, a JSON number's text, or "" for anything else.
func flexString(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return ""
	}
	if b[0] == '"' {
		var s string
		if json.Unmarshal(b, &s) != nil {
			return ""
		}
		return strings.TrimSpace(s)
	}
	if _, err := ringfence.ParseDecimal(string(b)); err == nil {
		return string(b)
	}
	return ""
}

// Text is a string field ringfence reads but cannot act on in any other type (a phone number, a
// URL, a transcript): a value of another JSON type reads as "", as if it were absent.
type Text string

// UnmarshalJSON reads a string, and anything else as "".
func (t *Text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if json.Unmarshal(b, &s) == nil {
			*t = Text(s)
			return nil
		}
	}
	*t = ""
	return nil
}
