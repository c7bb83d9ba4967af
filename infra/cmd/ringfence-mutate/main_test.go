package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// MustModule writes a tiny module whose one test checks F, to try mutants on.
func MustModule(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	files := map[string]string{
		"go.mod":        "module example.com/guarded\n\ngo 1.22\n",
		"guard.go":      "package guarded\n\n// F guards.\nfunc F(n int) bool { return n < 10 }\n",
		"guard_test.go": "package guarded\n\nimport \"testing\"\n\nfunc TestF(t *testing.T) {\n\tif F(10) || !F(9) {\n\t\tt.Fatal(\"F(10) must be false and F(9) true\")\n\t}\n}\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// Each mutant is judged by its tests, and the file is put back whatever the outcome.
func TestTryJudgesAndRestores(t *testing.T) {
	dir := MustModule(t)
	before, err := os.ReadFile(filepath.Join(dir, "guard.go"))
	if err != nil {
		t.Fatal(err)
	}
	tr := tester{dir: dir, env: os.Environ(), timeout: time.Minute}
	tests := []struct {
		original, replacement string
		want                  Outcome
	}{
		{"n < 10", "n <= 10", Caught},
		{"// F guards.", "// F guards, mutated.", Survived},
		{"n > 10", "n >= 10", Stale},
		{"n < 10", "n <", Broken},
	}
	for _, tc := range tests {
		m := Mutant{ID: tc.replacement, File: "guard.go", Original: tc.original, Replacement: tc.replacement, Packages: []string{"."}, Run: "^TestF$"}
		if got := tr.try(context.Background(), m); got.outcome != tc.want {
			t.Fatalf("%q -> %q: outcome=%s, want %s\n%s", tc.original, tc.replacement, got.outcome, tc.want, got.detail)
		}
		after, err := os.ReadFile(filepath.Join(dir, "guard.go"))
		if err != nil {
			t.Fatal(err)
		}
		if string(after) != string(before) {
			t.Fatalf("%q -> %q left the file mutated:\n%s", tc.original, tc.replacement, after)
		}
	}
}

// A list with an incomplete or duplicated entry is refused before anything runs.
func TestLoadRefusesBadLists(t *testing.T) {
	good := `{"id":"a","guard":"g","file":"f.go","original":"x","replacement":"y","packages":["./p"],"run":"^T$"}`
	for name, list := range map[string]string{
		"no tests":     `[{"id":"a","guard":"g","file":"f.go","original":"x","replacement":"y"}]`,
		"no change":    `[{"id":"a","guard":"g","file":"f.go","original":"x","replacement":"x","packages":["./p"],"run":"^T$"}]`,
		"duplicate id": "[" + good + "," + good + "]",
		"unknown key":  `[{"id":"a","guard":"g","file":"f.go","original":"x","replacement":"y","packages":["./p"],"run":"^T$","extra":1}]`,
		"bad pattern":  `[{"id":"a","guard":"g","file":"f.go","original":"x","replacement":"y","packages":["./p"],"run":"("}]`,
	} {
		path := filepath.Join(t.TempDir(), "mutants.json")
		if err := os.WriteFile(path, []byte(list), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := load(path); err == nil {
			t.Fatalf("%s: the list was accepted", name)
		}
	}
	path := filepath.Join(t.TempDir(), "mutants.json")
	if err := os.WriteFile(path, []byte("["+good+"]"), 0o644); err != nil {
		t.Fatal(err)
	}
	if ms, err := load(path); err != nil || len(ms) != 1 {
		t.Fatalf("a good list: %v, %v", ms, err)
	}
}

// The score counts only the mutants that were run and are not equivalent.
func TestScore(t *testing.T) {
	s := score([]result{{outcome: Caught}, {outcome: Caught}, {outcome: Survived}, {outcome: Equivalent}})
	if got, want := s.String(), "score: 2 of 3 non-equivalent mutants caught (67%); 1 survived, 0 stale, 0 broken; 1 accepted as equivalent"; got != want {
		t.Fatalf("score=%q, want %q", got, want)
	}
	if s.clean() || !strings.Contains(score([]result{{outcome: Caught}}).String(), "(100%)") {
		t.Fatal("a survivor must make the run unclean, and all caught must score 100%")
	}
}
