package ringfence_test

import (
	"strings"
	"testing"

	"github.com/ringfence/ringfence/shared/ringfence"
)

// Numbers as outbound teams export them are read in their region and stored in E.164; numbers
// the numbering plan says cannot exist are refused, whatever their length.
func TestNormalizePhone(t *testing.T) {
	for _, tc := range []struct{ in, region, want string }{
		{"(415) 555-0101", "US", "+14155550101"},
		{"020 7946 0018", "GB", "+442079460018"},
		{"+44 20 7946 0018", "", "+442079460018"},
		{"+44 20 7946 0018", "US", "+442079460018"}, // International format wins over the region.
		{"03-1234-5678", "JP", "+81312345678"},
		{"+14155550101", "", "+14155550101"},
	} {
		got, err := ringfence.NormalizePhone("phone", tc.in, tc.region)
		if err != nil || got != tc.want {
			t.Errorf("NormalizePhone(%q, %q)=%q, %v, want %q", tc.in, tc.region, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ in, region, wantMsg string }{
		{"020 7946 0018", "", "default_region"},   // National format needs a region.
		{"+15551234567", "", "not a valid"},       // 555 is no area code: right length, no such number.
		{"+1415555", "", "not a valid"},           // Too short.
		{"0800-FLOWERS", "US", "E.164"},           // Letters are not guessed at.
		{strings.Repeat("1", 100), "US", "E.164"}, // Bounded before the library reads it.
	} {
		_, err := ringfence.NormalizePhone("contacts[3].phone", tc.in, tc.region)
		if ringfence.ErrorCode(err) != ringfence.EINVALID || !strings.Contains(err.Error(), tc.wantMsg) || !strings.Contains(err.Error(), "contacts[3].phone") {
			t.Errorf("NormalizePhone(%q, %q) err=%v, want EINVALID naming contacts[3].phone and %q", tc.in, tc.region, err, tc.wantMsg)
		}
	}
	if _, err := ringfence.ValidateRegion("default_region", "XX"); ringfence.ErrorCode(err) != ringfence.EINVALID {
		t.Errorf("region XX err=%v, want EINVALID", err)
	}
	if got, err := ringfence.ValidateRegion("default_region", "gb"); got != "GB" || err != nil {
		t.Errorf("region gb=%q, %v, want GB", got, err)
	}
}

// A contact list is checked whole, in E.164 after reading, so one number written two ways is a
// duplicate, and an error names the contact's position.
func TestValidateContactsNormalizesAndNamesThePosition(t *testing.T) {
	contacts := []ringfence.Contact{{Phone: "020 7946 0018"}, {Phone: "+447911123456"}}
	if err := ringfence.ValidateContacts(contacts, "GB", nil); err != nil {
		t.Fatal(err)
	}
	if contacts[0].Phone != "+442079460018" {
		t.Fatalf("phone=%q, want E.164", contacts[0].Phone)
	}
	dup := []ringfence.Contact{{Phone: "020 7946 0018"}, {Phone: "+44 20 7946 0018"}}
	if err := ringfence.ValidateContacts(dup, "GB", nil); err == nil || !strings.Contains(err.Error(), "contacts[1].phone") {
		t.Fatalf("duplicate err=%v, want contacts[1].phone", err)
	}
	bad := []ringfence.Contact{{Phone: "+447911123456"}, {Phone: "020 7946 0018"}}
	err := ringfence.ValidateContacts(bad, "", func(i int) string { return []string{"CSV line 2", "CSV line 3"}[i] })
	if err == nil || !strings.Contains(err.Error(), "CSV line 3 phone") {
		t.Fatalf("err=%v, want CSV line 3 phone", err)
	}
}
