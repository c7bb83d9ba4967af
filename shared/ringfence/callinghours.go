package ringfence

import (
	"strings"
	"time"
)

// LoadZone loads an IANA time zone named by a client. "Local" and the empty name are refused:
// they would mean the server's zone, which is no one's calling hours.
func LoadZone(name string) (*time.Location, error) {
	if strings.TrimSpace(name) == "" || name == "Local" || len(name) > 64 {
		return nil, Errorf(EINVALID, "timezone %q is not an IANA time zone like Europe/Berlin", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, Errorf(EINVALID, "timezone %q is not an IANA time zone like Europe/Berlin", name)
	}
	return loc, nil
}
