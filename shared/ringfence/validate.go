package ringfence

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The bounds every outside input is checked against before anything is written. They keep each
// item well inside DynamoDB's limits (2,048 bytes for a partition key, 1,024 for a sort key,
// 400 KB for an item, 38 digits for a number) with room for the keys' prefixes, so no input can
// fail a write half-way through a request.
const (
	// MaxIDLength bounds ids: ringfence's own, and the providers' call and execution ids.
	MaxIDLength = 256
	// MaxNameLength bounds names (a campaign's, a contact's, a customer's), in bytes.
	MaxNameLength = 200
	// MaxTextLength bounds the other short texts: agent ids, company and branch names, greetings.
	MaxTextLength = 1000
	// MaxFieldNameLength and MaxFieldValueLength bound a contact's extra fields and a call's
	// metadata, key and value, in bytes; MaxFields bounds how many one contact or call has.
	MaxFieldNameLength  = 100
	MaxFieldValueLength = 1000
	MaxFields           = 20
	// MaxTranscriptLength and MaxExtractedDataLength bound what ringfence keeps of what a
	// provider reports about a call, in bytes, so a call's item (with its variables and history)
	// stays under 400 KB. They never refuse a report: a longer transcript is kept cut, saying
	// how long it was, and extracted data too large to keep is dropped (a cut JSON object is no
	// object), so the report's outcome, duration and cost are always kept.
	MaxTranscriptLength    = 200_000
	MaxExtractedDataLength = 50_000
	// MaxURLLength bounds a recording URL.
	MaxURLLength = 2048
	// MaxCostDecimals is the precision costs are kept at: a millionth of a dollar.
	MaxCostDecimals = 6
)

// MaxCallCost is the most one call may cost, in USD. A report beyond it is refused: no real call
// costs that much, and one absurd report must never push a campaign's total past what DynamoDB
// can hold (which would fail every later write to the campaign).
var MaxCallCost = MustParseDecimal("10000")

// MaxCallDuration is the longest call each provider can place, the bound on a reported duration:
// Vapi's maxDurationSeconds goes up to 43,200 seconds and Retell's max_call_duration_ms up to
// 2 hours; Bolna documents no maximum, so it gets the largest of the others.
var MaxCallDuration = map[Provider]time.Duration{
	ProviderBolna:  12 * time.Hour,
	ProviderVapi:   12 * time.Hour,
	ProviderRetell: 2 * time.Hour,
}

// Excerpt quotes an outside value for an error message or a log line: control characters escaped,
// and cut to 40 characters, so a 100,000-character id is never echoed back whole.
func Excerpt(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) > max {
		runes := []rune(s)
		return fmt.Sprintf("%q…(%d bytes)", string(runes[:max]), len(s))
	}
	return fmt.Sprintf("%q", s)
}

// MaskPhone shows only the last four digits of a phone number, for logs and error messages.
func MaskPhone(s string) string {
	if len(s) <= 4 {
		return strings.Repeat("*", len(s))
	}
	if len(s) > 20 {
		s = s[len(s)-20:]
	}
	return strings.Repeat("*", len(s)-4) + s[len(s)-4:]
}

// ValidateID checks an id from outside: 1 to MaxIDLength printable ASCII characters, no spaces.
// The id is not echoed: an id that fails may be anything, of any length.
func ValidateID(field, s string) error {
	if s == "" {
		return Errorf(EINVALID, "%s is required", field)
	}
	if len(s) > MaxIDLength {
		return Errorf(EINVALID, "%s is longer than %d characters", field, MaxIDLength)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return Errorf(EINVALID, "%s may hold only printable ASCII characters without spaces", field)
		}
	}
	return nil
}

// isUnsafeRune reports whether r may not appear in a name or short text: control characters
// (NUL, ESC, ...), which terminals act on, and the bidirectional controls (U+202E and its kin),
// which make text read differently from what it holds.
func isUnsafeRune(r rune) bool {
	switch {
	case unicode.IsControl(r), r == utf8.RuneError:
		return true
	case r == '\u200e', r == '\u200f', r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069', r == '\u061c':
		return true
	}
	return false
}

// ValidateText checks a name or short text: valid UTF-8, at most max bytes, without control or
// bidirectional-control characters. Empty is allowed; the caller checks for required fields.
func ValidateText(field, s string, max int) error {
	if len(s) > max {
		return Errorf(EINVALID, "%s is longer than %d bytes", field, max)
	}
	if !utf8.ValidString(s) {
		return Errorf(EINVALID, "%s is not valid UTF-8", field)
	}
	for _, r := range s {
		if isUnsafeRune(r) {
			return Errorf(EINVALID, "%s holds a control character (U+%04X)", field, r)
		}
	}
	return nil
}

// ValidateFields checks a contact's extra fields or a call's metadata: at most MaxFields, each
// named by a non-empty text of at most MaxFieldNameLength bytes, each value at most
// MaxFieldValueLength bytes without control characters.
func ValidateFields(field string, fields map[string]string) error {
	if len(fields) > MaxFields {
		return Errorf(EINVALID, "%s has more than %d fields", field, MaxFields)
	}
	for k, v := range fields {
		if strings.TrimSpace(k) == "" {
			return Errorf(EINVALID, "%s has a field with an empty name", field)
		}
		if err := ValidateText(field+" field name", k, MaxFieldNameLength); err != nil {
			return err
		}
		if err := ValidateText(field+"."+k, v, MaxFieldValueLength); err != nil {
			return err
		}
	}
	return nil
}

// ValidateURL checks a URL that is stored and shown: an absolute http or https URL of at most
// MaxURLLength characters, so no javascript: or data: URL ever reaches a page or a client.
func ValidateURL(field, s string) error {
	if len(s) > MaxURLLength {
		return Errorf(EINVALID, "%s is longer than %d characters", field, MaxURLLength)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Errorf(EINVALID, "%s must be an http or https URL", field)
	}
	return ValidateText(field, s, MaxURLLength)
}

// CallCost checks a call's reported cost and returns it at MaxCostDecimals decimals: it must be
// between 0 and MaxCallCost. More decimals are float noise in a provider's JSON (0.07470000000000001)
// and are rounded, not refused, so a real report is never lost over them.
func CallCost(d Decimal) (Decimal, error) {
	if d.Sign() < 0 {
		return d, Errorf(EINVALID, "cost %s is negative", d)
	}
	if d.Cmp(MaxCallCost) > 0 {
		return d, Errorf(EINVALID, "cost is more than %s USD for one call", MaxCallCost)
	}
	return d.Round(MaxCostDecimals), nil
}

// CallDuration checks a call's reported duration in seconds: between 0 and the provider's
// longest call.
func CallDuration(p Provider, d Decimal) error {
	max, ok := MaxCallDuration[p]
	if !ok {
		max = 12 * time.Hour
	}
	if d.Sign() < 0 {
		return Errorf(EINVALID, "duration %s is negative", d)
	}
	if d.Cmp(MustParseDecimal(fmt.Sprint(int64(max/time.Second)))) > 0 {
		return Errorf(EINVALID, "duration is longer than %s, the longest call %s places", max, p)
	}
	return nil
}

// Validate checks a provider's event before it is applied or parked, whichever adapter read it,
// brings its cost to MaxCostDecimals decimals, and keeps what fits of its large parts (see
// keepWhatFits). An event that fails is refused whole, with a 4xx: a provider that reports a cost
// of 1e37 or a javascript: recording URL is not believed on anything else it says in the same
// delivery. The size of a transcript or of extracted data never refuses an event.
func (ev *CallEvent) Validate() error {
	if ev.ProviderCallID != "" {
		if err := ValidateID("the provider's call id", ev.ProviderCallID); err != nil {
			return err
		}
	}
	if ev.CallID != "" {
		if err := ValidateID("ringfence_call_id", ev.CallID); err != nil {
			return err
		}
	}
	if err := ValidateText("end reason", ev.EndReason, MaxTextLength); err != nil {
		return err
	}
	if len(ev.Version) > 64 {
		return Errorf(EINVALID, "the event's timestamp is not a time")
	}
	if ev.Cost != nil {
		cost, err := CallCost(*ev.Cost)
		if err != nil {
			return err
		}
		ev.Cost = &cost
	}
	if ev.Duration != nil {
		if err := CallDuration(ev.Provider, *ev.Duration); err != nil {
			return err
		}
	}
	if ev.RecordingURL != "" {
		if err := ValidateURL("recording_url", ev.RecordingURL); err != nil {
			return err
		}
	}
	ev.keepWhatFits()
	return nil
}

// keepWhatFits cuts the event's transcript to MaxTranscriptLength, remembering its length, and
// drops extracted data longer than MaxExtractedDataLength, noting each in ev.Notes. It runs after
// the checks that may refuse the event, and changes nothing that decides the call's outcome.
func (ev *CallEvent) keepWhatFits() {
	if len(ev.Transcript) > MaxTranscriptLength {
		ev.TranscriptLength = max(ev.TranscriptLength, len(ev.Transcript))
		ev.Transcript = CutText(ev.Transcript, MaxTranscriptLength)
		ev.Notes = append(ev.Notes, fmt.Sprintf("transcript of %d bytes kept cut to %d", ev.TranscriptLength, len(ev.Transcript)))
	}
	if len(ev.ExtractedData) > MaxExtractedDataLength {
		ev.Notes = append(ev.Notes, fmt.Sprintf("extracted data of %d bytes dropped: more than %d", len(ev.ExtractedData), MaxExtractedDataLength))
		ev.ExtractedData = ""
	}
}

// CutText returns the longest beginning of s that is at most max bytes and ends on a whole
// character, so a cut transcript stays valid UTF-8 (a Hindi character is three bytes).
func CutText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	if max <= 0 {
		return ""
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// Printable returns s with every control and bidirectional-control character except newline and
// tab written as an escape (\x1b, \u202e), for printing stored text on a terminal: a name stored
// before these checks existed must not move the cursor or reverse the text around it.
func Printable(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t' || !isUnsafeRune(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}
