package testio

import (
	"strings"
	"testing"
)

// MustReadList reads testdata/name of the package under test as a list of values, one a line.
// Blank lines and lines starting with # (which name the list's sources) are skipped.
func MustReadList(tb testing.TB, name string) []string {
	tb.Helper()
	var values []string
	for _, line := range strings.Split(string(MustReadFixture(tb, name)), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		values = append(values, line)
	}
	if len(values) == 0 {
		tb.Fatalf("testdata/%s lists no values", name)
	}
	return values
}
