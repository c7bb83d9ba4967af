package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"
)

// ColdStart is one function's cold-start proxy: the size of its stripped arm64 bootstrap, and
// how long its process takes from start to asking the Lambda runtime API for its first event.
type ColdStart struct {
	Function string
	Bytes    int64
	Ready    time.Duration // Median of the runs.
}

// MeasureColdStarts builds every function twice: as the stripped linux/arm64 bootstrap that is
// deployed (for its size), and for this machine (to run it). It runs each host build against a
// stand-in of the runtime API and times the first "next invocation" request.
func MeasureColdStarts(ctx context.Context, root string, functions []string, env []string, runs int) ([]ColdStart, error) {
	dir, err := os.MkdirTemp("", "ringfence-coldstart-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var out []ColdStart
	for _, fn := range functions {
		arm := filepath.Join(dir, "arm64", fn, "bootstrap")
		if err := build(ctx, root, fn, arm, "arm64"); err != nil {
			return nil, err
		}
		info, err := os.Stat(arm)
		if err != nil {
			return nil, err
		}
		host := filepath.Join(dir, "host", fn, "bootstrap")
		if err := build(ctx, root, fn, host, ""); err != nil {
			return nil, err
		}
		var times []time.Duration
		for range runs {
			d, err := timeToReady(ctx, host, env)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", fn, err)
			}
			times = append(times, d)
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		out = append(out, ColdStart{Function: fn, Bytes: info.Size(), Ready: times[len(times)/2]})
	}
	return out, nil
}

func build(ctx context.Context, root, fn, out, arch string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, "./functions/"+fn)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if arch != "" {
		cmd.Env = append(cmd.Env, "GOOS=linux", "GOARCH="+arch)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %v\n%s", fn, err, b)
	}
	return nil
}

// timeToReady starts the binary with AWS_LAMBDA_RUNTIME_API pointing at a local stand-in and
// returns the time until its first request for an event.
func timeToReady(ctx context.Context, binary string, env []string) (time.Duration, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	ready := make(chan time.Time, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case ready <- time.Now():
		default:
		}
		<-r.Context().Done() // Hold the request: no event will come.
	})}
	go srv.Serve(ln)
	defer srv.Close()
	cmd := exec.CommandContext(ctx, binary)
	cmd.Env = append(env, "AWS_LAMBDA_RUNTIME_API="+ln.Addr().String())
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	select {
	case at := <-ready:
		return at.Sub(start), nil
	case <-time.After(30 * time.Second):
		return 0, fmt.Errorf("%s never asked for an event", binary)
	}
}
