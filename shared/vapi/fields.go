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

// parseTime reads a JSON value as a moment in any form ringfence.ParseProviderTime accepts (an
// ISO-8601 string, or epoch seconds or milliseconds, bare or in a string). Anything else is the
// zero Time.
func parseTime(b []byte) time.Time {
	b = bytes.TrimSpace(b)
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return time.Time{}
		}
	}
	at, err := ringfence.ParseProviderTime(s)
	if err != nil || at.UnixMilli() <= 0 {
		return time.Time{} // A moment at or before the epoch is no call's time.
	}
	return at
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
