// Command ringfence-mutate checks that every guard is load-bearing. It reads a curated list of
// guard mutations (infra/mutate/mutants.json: a condition removed or weakened, as exact text to
// find and its replacement, with the tests that should catch it), applies each one alone to a
// temporary copy of the repository's tracked files, runs those tests against it, and reports each
// mutant as caught, survived (no test noticed: the guard is not proved) or stale (its original
// text is no longer found exactly once: the code moved, and the list needs updating). Mutants
// accepted as equivalent (they change no behaviour) are listed with their reason and not run,
// unless -equivalent is given: then one that survives is reported as equivalent, and one that is
// caught was not equivalent after all, and its entry needs correcting.
//
// The working tree is never edited: only the copy is mutated, and it is deleted at the end. The
// tests share one DynamoDB Local, started here unless RINGFENCE_DYNAMODB_ENDPOINT names one.
//
//	ringfence-mutate [-mutants FILE] [-only REGEXP] [-equivalent] [-markdown] [-v]
//
// It exits with status 1 unless every mutant it ran was caught and none is stale.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/ringfence/ringfence/infra/dynamodblocal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ringfence-mutate:", err)
		os.Exit(1)
	}
}

// Mutant is one deliberate bug in the code that guards the promise.
type Mutant struct {
	ID string `json:"id"`
	// Guard says, in words, what the mutated code guards.
	Guard string `json:"guard"`
	// File is the file to mutate, relative to the repository root.
	File string `json:"file"`
	// Original is the exact text to replace; it must occur exactly once in File.
	Original    string `json:"original"`
	Replacement string `json:"replacement"`
	// Packages and Run are the tests that should catch the mutant: `go test -run Run Packages...`.
	Packages []string `json:"packages"`
	Run      string   `json:"run"`
	// Equivalent, when set, says why the mutant changes no behaviour and is accepted as surviving.
	Equivalent string `json:"equivalent,omitempty"`
}

// Outcome is what running the tests against a mutant showed.
type Outcome string

// The outcomes.
const (
	Caught     Outcome = "caught"     // A test failed.
	Survived   Outcome = "survived"   // Every test passed: the guard is not proved.
	Stale      Outcome = "stale"      // The original text is not found exactly once.
	Broken     Outcome = "broken"     // The mutated code does not build: the list is wrong.
	Equivalent Outcome = "equivalent" // Accepted without running, for the reason given.
)

// result is one mutant's outcome, with the test output that explains it.
type result struct {
	mutant  Mutant
	outcome Outcome
	took    time.Duration
	detail  string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("ringfence-mutate", flag.ContinueOnError)
	flags.SetOutput(stderr)
	list := flags.String("mutants", filepath.Join("infra", "mutate", "mutants.json"), "the curated mutants (a relative path is from the repository root)")
	only := flags.String("only", "", "run only the mutants whose id matches this regular expression")
	runEquivalent := flags.Bool("equivalent", false, "run the mutants accepted as equivalent too (they are expected to survive)")
	markdown := flags.Bool("markdown", false, "print the results as a Markdown table")
	verbose := flags.Bool("v", false, "print the test output of every mutant not caught")
	timeout := flags.Duration("timeout", 5*time.Minute, "the longest one mutant's tests may run")
	if err := flags.Parse(args); err != nil {
		return err
	}
	root, err := dynamodblocal.RepoRoot()
	if err != nil {
		return err
	}
	if !filepath.IsAbs(*list) {
		*list = filepath.Join(root, *list)
	}
	mutants, err := load(*list)
	if err != nil {
		return err
	}
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			return fmt.Errorf("-only: %w", err)
		}
		mutants = filter(mutants, func(m Mutant) bool { return re.MatchString(m.ID) })
	}
	if len(mutants) == 0 {
		return errors.New("no mutants to run")
	}

	copyDir, err := os.MkdirTemp("", "ringfence-mutate-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(copyDir)
	if err := copyTracked(ctx, root, copyDir); err != nil {
		return err
	}
	env := os.Environ()
	if os.Getenv("RINGFENCE_DYNAMODB_ENDPOINT") == "" {
		srv, err := dynamodblocal.Start(ctx, root, 0, io.Discard)
		if err != nil {
			return err
		}
		defer srv.Stop()
		env = append(env, "RINGFENCE_DYNAMODB_ENDPOINT="+srv.Endpoint)
	}
	t := tester{dir: copyDir, env: env, timeout: *timeout}

	toRun := filter(mutants, func(m Mutant) bool { return m.Equivalent == "" || *runEquivalent })
	fmt.Fprintf(stderr, "checking that the tests pass unmutated (%d packages)...\n", len(baselines(toRun)))
	for pkg, pattern := range baselines(toRun) {
		if ok, out := t.test(ctx, pattern, []string{pkg}); !ok {
			return fmt.Errorf("the tests fail without any mutation, so no mutant can be judged: go test -run '%s' %s\n%s", pattern, pkg, tail(out))
		}
	}
	var results []result
	for i, m := range mutants {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r := result{mutant: m, outcome: Equivalent, detail: m.Equivalent}
		if m.Equivalent == "" || *runEquivalent {
			fmt.Fprintf(stderr, "[%d/%d] %s\n", i+1, len(mutants), m.ID)
			r = t.try(ctx, m)
			if m.Equivalent != "" && r.outcome == Survived {
				// As its reason says: it changes no behaviour the tests can see.
				r.outcome, r.detail = Equivalent, m.Equivalent
			}
		}
		results = append(results, r)
		if *verbose && r.outcome != Equivalent {
			fmt.Fprintf(stderr, "%s %s:\n%s\n", r.outcome, m.ID, tail(r.detail))
		}
	}
	if *markdown {
		printMarkdown(stdout, results)
	} else {
		printText(stdout, results)
	}
	s := score(results)
	fmt.Fprintln(stdout, s)
	if !s.clean() {
		return errors.New("not every guard is proved: see the mutants not caught above")
	}
	return nil
}

// load reads the mutant list and checks that each entry is complete and its id unique.
func load(path string) ([]Mutant, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var mutants []Mutant
	if err := dec.Decode(&mutants); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	seen := map[string]bool{}
	for _, m := range mutants {
		switch {
		case m.ID == "" || m.File == "" || m.Original == "" || m.Guard == "":
			return nil, fmt.Errorf("%s: mutant %q needs an id, a guard, a file and an original", path, m.ID)
		case m.Original == m.Replacement:
			return nil, fmt.Errorf("%s: mutant %s changes nothing", path, m.ID)
		case len(m.Packages) == 0 || m.Run == "":
			return nil, fmt.Errorf("%s: mutant %s names no tests to catch it", path, m.ID)
		case seen[m.ID]:
			return nil, fmt.Errorf("%s: mutant id %s is used twice", path, m.ID)
		}
		if _, err := regexp.Compile(m.Run); err != nil {
			return nil, fmt.Errorf("%s: mutant %s: run: %w", path, m.ID, err)
		}
		seen[m.ID] = true
	}
	return mutants, nil
}

func filter(mutants []Mutant, keep func(Mutant) bool) []Mutant {
	var out []Mutant
	for _, m := range mutants {
		if keep(m) {
			out = append(out, m)
		}
	}
	return out
}

// copyTracked copies the files git tracks, as they are in the working tree (uncommitted changes
// included), into dir. Copies, not hard links: a mutant written over a hard link would edit the
// working tree's file too.
func copyTracked(ctx context.Context, root, dir string) error {
	out, err := exec.CommandContext(ctx, "git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		return fmt.Errorf("git ls-files: %w", err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(root, name)
		info, err := os.Lstat(src)
		if errors.Is(err, os.ErrNotExist) {
			continue // Deleted in the working tree, not yet in the index.
		}
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, b, info.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}

// baselines groups the mutants' tests by package: one run per package of every test any mutant
// names in it.
func baselines(mutants []Mutant) map[string]string {
	patterns := map[string][]string{}
	for _, m := range mutants {
		for _, pkg := range m.Packages {
			patterns[pkg] = append(patterns[pkg], "(?:"+m.Run+")")
		}
	}
	out := map[string]string{}
	for pkg, ps := range patterns {
		sort.Strings(ps)
		out[pkg] = strings.Join(compact(ps), "|")
	}
	return out
}

func compact(sorted []string) []string {
	var out []string
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// tester runs go test in the copy.
type tester struct {
	dir     string
	env     []string
	timeout time.Duration
}

// try applies one mutant to the copy, runs its tests, and puts the original back.
func (t tester) try(ctx context.Context, m Mutant) result {
	start := time.Now()
	path := filepath.Join(t.dir, m.File)
	b, err := os.ReadFile(path)
	if err != nil {
		return result{mutant: m, outcome: Stale, detail: err.Error()}
	}
	original := string(b)
	if n := strings.Count(original, m.Original); n != 1 {
		return result{mutant: m, outcome: Stale, detail: fmt.Sprintf("the original text occurs %d times in %s, not once", n, m.File)}
	}
	if err := os.WriteFile(path, []byte(strings.Replace(original, m.Original, m.Replacement, 1)), 0o644); err != nil {
		return result{mutant: m, outcome: Broken, detail: err.Error()}
	}
	defer os.WriteFile(path, b, 0o644)
	ok, out := t.test(ctx, m.Run, m.Packages)
	r := result{mutant: m, took: time.Since(start), detail: out}
	switch {
	case ok:
		r.outcome = Survived
	case buildFailed(out):
		r.outcome = Broken
	default:
		r.outcome = Caught
	}
	return r
}

// test runs `go test -count=1 -run pattern packages...` in the copy and reports whether it passed.
func (t tester) test(ctx context.Context, pattern string, packages []string) (bool, string) {
	goCmd := os.Getenv("GO")
	if goCmd == "" {
		goCmd = "go"
	}
	args := append([]string{"test", "-count=1", "-timeout", t.timeout.String(), "-run", pattern}, packages...)
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir, cmd.Env = t.dir, t.env
	out, err := cmd.CombinedOutput()
	return err == nil, string(out)
}

// buildFailed reports whether go test failed before any test ran: the mutant does not compile
// or does not pass vet.
func buildFailed(out string) bool {
	return strings.Contains(out, "[build failed]") || strings.Contains(out, "[setup failed]") || strings.Contains(out, "vet: ")
}

// failure is the first line of a test's output that says why it failed, to show which test
// caught a mutant and how.
func failure(out string) string {
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if failureLine.MatchString(line) {
			return line
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--- FAIL") || strings.HasPrefix(line, "panic:") {
			return strings.TrimSpace(line)
		}
	}
	return "(the tests failed; run with -v to see why)"
}

var failureLine = regexp.MustCompile(`^\S+_test\.go:\d+: `)

// tail is the end of a long test output, where the failure is.
func tail(out string) string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-30):], "\n")
}

// summary is the score of a run.
type summary struct {
	caught, survived, stale, broken, equivalent int
}

func score(results []result) summary {
	var s summary
	for _, r := range results {
		switch r.outcome {
		case Caught:
			s.caught++
		case Survived:
			s.survived++
		case Stale:
			s.stale++
		case Broken:
			s.broken++
		case Equivalent:
			s.equivalent++
		}
	}
	return s
}

func (s summary) clean() bool { return s.survived == 0 && s.stale == 0 && s.broken == 0 }

func (s summary) String() string {
	judged := s.caught + s.survived
	pct := 100.0
	if judged > 0 {
		pct = 100 * float64(s.caught) / float64(judged)
	}
	return fmt.Sprintf("score: %d of %d non-equivalent mutants caught (%.0f%%); %d survived, %d stale, %d broken; %d accepted as equivalent",
		s.caught, judged, pct, s.survived, s.stale, s.broken, s.equivalent)
}

func printText(w io.Writer, results []result) {
	for _, r := range results {
		took := ""
		if r.took > 0 {
			took = fmt.Sprintf(" (%.0fs)", r.took.Seconds())
		}
		fmt.Fprintf(w, "%-10s %-40s %s%s\n", r.outcome, r.mutant.ID, r.mutant.File, took)
		switch r.outcome {
		case Equivalent, Stale:
			fmt.Fprintf(w, "           %s\n", r.detail)
		case Caught:
			fmt.Fprintf(w, "           %s\n", failure(r.detail))
		}
	}
}

func printMarkdown(w io.Writer, results []result) {
	fmt.Fprintln(w, "| mutant | guard | file | outcome | caught by / reason |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, r := range results {
		why := "`" + r.mutant.Run + "`"
		if r.outcome == Equivalent || r.outcome == Stale {
			why = r.detail
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", r.mutant.ID, r.mutant.Guard, r.mutant.File, r.outcome, strings.ReplaceAll(why, "|", "\\|"))
	}
}
