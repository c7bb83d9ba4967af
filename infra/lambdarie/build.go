package lambdarie

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// Builder builds the functions' bootstraps for this machine into a directory of its own, each
// at most once, and finds the emulator. A test binary shares one, so that every test runs the
// same binaries and none waits for a build twice.
type Builder struct {
	root, dir string

	mu         sync.Mutex
	bootstraps map[string]string
	emulator   string
}

// NewBuilder returns a Builder for the repository at root that builds into dir.
func NewBuilder(root, dir string) *Builder {
	return &Builder{root: root, dir: dir, bootstraps: map[string]string{}}
}

// Build builds the bootstraps of the named functions (folders under functions/) that are not
// built yet, as `make build` does but for this machine's GOOS and GOARCH (the emulator runs
// them here, not on Lambda's arm64). One `go build` builds them all, so that the packages they
// share compile once and the links run in parallel.
func (b *Builder) Build(ctx context.Context, fns ...string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var pkgs []string
	for _, fn := range fns {
		if _, done := b.bootstraps[fn]; !done && !contains(pkgs, "./functions/"+fn) {
			pkgs = append(pkgs, "./functions/"+fn)
		}
	}
	if len(pkgs) == 0 {
		return nil
	}
	out := filepath.Join(b.dir, "go-build") + string(filepath.Separator)
	args := append([]string{"build", "-tags", "lambda.norpc", "-o", out}, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = b.root
	// The machine's own cgo setting, not make build's CGO_ENABLED=0: ringfence is pure Go either
	// way, and this way the bootstraps reuse the packages the test binaries already compiled
	// (CGO_ENABLED=0 rebuilds net and everything above it, the AWS SDK included), which keeps
	// make test within its budget on a fresh clone.
	cmd.Env = append(os.Environ(), "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", strings.Join(pkgs, " "), err, msg)
	}
	for _, pkg := range pkgs {
		fn := filepath.Base(pkg)
		bootstrap := filepath.Join(b.dir, fn, "bootstrap")
		if err := os.MkdirAll(filepath.Dir(bootstrap), 0o755); err != nil {
			return err
		}
		if err := os.Rename(filepath.Join(out, fn), bootstrap); err != nil {
			return err
		}
		b.bootstraps[fn] = bootstrap
	}
	return nil
}

// Bootstrap returns the path of a function's bootstrap, built if it is not yet.
func (b *Builder) Bootstrap(ctx context.Context, fn string) (string, error) {
	if err := b.Build(ctx, fn); err != nil {
		return "", err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bootstraps[fn], nil
}

// Emulator returns the path of the aws-lambda-rie executable at the version go.mod's tool
// directive pins: `go tool -n` builds it into Go's build cache, from the module proxy like any
// dependency, and prints where it is.
func (b *Builder) Emulator(ctx context.Context) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.emulator != "" {
		return b.emulator, nil
	}
	cmd := exec.CommandContext(ctx, "go", "tool", "-n", "aws-lambda-rie")
	cmd.Dir = b.root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go tool -n aws-lambda-rie: %w\n%s", err, stderr.Bytes())
	}
	b.emulator = strings.TrimSpace(string(out))
	return b.emulator, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
