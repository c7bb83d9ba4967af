package ringfence

import (
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// maxPhoneInput bounds a phone number as a client writes it, spaces, dashes and brackets
// included, before the library reads it.
const maxPhoneInput = 64

// ValidateRegion checks a default_region: an ISO 3166 alpha-2 code the phone number library
// knows (GB, US, DE …), in either case. It returns the code in upper case, and "" for "".
func ValidateRegion(field, region string) (string, error) {
	if region == "" {
		return "", nil
	}
	r := strings.ToUpper(strings.TrimSpace(region))
	if len(r) != 2 || !phonenumbers.GetSupportedRegions()[r] {
		return "", Errorf(EINVALID, "%s %s is not an ISO 3166 alpha-2 region like GB or US", field, Excerpt(region))
	}
	return r, nil
}

// NormalizePhone reads a phone number as a client wrote it and returns it in E.164. A number in
// international format ("+44 20 7946 0018") is read as it is; a number in national format
// ("020 7946 0018") is read in region, which must be given. The number must be one the
// numbering plan of its country says is valid, not merely the right length.
func NormalizePhone(field, s, region string) (string, error) {
	// The number is not echoed: it is personal data, and it may be anything.
	if strings.TrimSpace(s) == "" {
		return "", Errorf(EINVALID, "%s is required", field)
	}
	if len(s) > maxPhoneInput || !isPhoneText(s) {
		return "", Errorf(EINVALID, "%s is not an E.164 phone number like +14155550100", field)
	}
	if region == "" && !strings.HasPrefix(strings.TrimSpace(s), "+") {
		return "", Errorf(EINVALID, "%s is in national format: write it in E.164 like +14155550100, or give default_region", field)
	}
	n, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		where := ""
		if region != "" {
			where = " in region " + region
		}
		return "", Errorf(EINVALID, "%s is not a valid phone number%s (E.164 like +14155550100)", field, where)
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// isPhoneText reports whether s holds only what people write in phone numbers: digits, spaces,
// and + ( ) - . /. Letters (vanity numbers, extensions) are refused rather than guessed at.
func isPhoneText(s string) bool {
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', strings.ContainsRune(" +()-./", r):
		default:
			return false
		}
	}
	return true
}

// ValidatePhone checks that s is a valid phone number written in E.164, such as +14155550100:
// what ringfence stores, and what it takes where no region can apply.
func ValidatePhone(field, s string) error {
	e164, err := NormalizePhone(field, s, "")
	if err != nil {
		return err
	}
	if e164 != s {
		return Errorf(EINVALID, "%s is not written in E.164 like +14155550100", field)
	}
	return nil
}

// PhoneZones returns the IANA time zones the phone number library places an E.164 number in,
// those the runtime can load, in the library's order; none when it does not know.
func PhoneZones(e164 string) []string {
	n, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return nil
	}
	names, err := phonenumbers.GetTimezonesForNumber(n)
	if err != nil {
		return nil
	}
	var zones []string
	for _, name := range names {
		if name == phonenumbers.UNKNOWN_TIMEZONE {
			continue
		}
		if _, err := LoadZone(name); err == nil {
			zones = append(zones, name)
		}
	}
	return zones
}

// contactPrefix names a contact in an error: contacts[12], or what at says (CSV line 14).
func contactPrefix(at func(int) string, i int) string {
	if at == nil {
		return fmt.Sprintf("contacts[%d]", i)
	}
	return at(i)
}

// contactField names a contact's field in an error: contacts[12].phone, or CSV line 14 phone.
func contactField(at func(int) string, i int, name string) string {
	if at == nil {
		return fmt.Sprintf("contacts[%d].%s", i, name)
	}
	return at(i) + " " + name
}
