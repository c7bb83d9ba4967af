package lambdarie

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// How long the emulator may take to answer after it starts, and to stop after it is asked to.
const (
	startTimeout = 30 * time.Second
	stopGrace    = 5 * time.Second
)

// invocationsPath is where the emulator takes invocations, as Lambda's Invoke API does.
const invocationsPath = "/2015-03-31/functions/function/invocations"

// Emulator is one function's bootstrap under the Runtime Interface Emulator, in a process group
// of its own. The emulator starts the bootstrap on the first invocation (a cold start) and keeps
// it for the next ones, as Lambda keeps a warm instance.
type Emulator struct {
	url    string
	cmd    *exec.Cmd
	exited chan struct{}
	stop   sync.Once
}

// Start runs bootstrap under the emulator with env (see FunctionEnv) and returns once the
// emulator answers HTTP. The emulator's and the function's logs go to logs. Both listen on
// ports of the loopback interface chosen free, never fixed ones; if another process takes one
// between the choice and the start, the start is tried again.
func Start(ctx context.Context, emulator, bootstrap string, env []string, logs io.Writer) (*Emulator, error) {
	var err error
	for range 3 {
		var e *Emulator
		if e, err = start(ctx, emulator, bootstrap, env, logs); err == nil {
			return e, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, err
}

func start(ctx context.Context, emulator, bootstrap string, env []string, logs io.Writer) (*Emulator, error) {
	addrs, err := freeAddrs(2)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(emulator, "--runtime-interface-emulator-address", addrs[0], "--runtime-api-address", addrs[1], bootstrap)
	// The function's working directory is its bootstrap's, as /var/task is on Lambda.
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logs, logs
	// The bootstrap shares the emulator's output; should it outlive the emulator, waiting for
	// the emulator does not wait for it too.
	cmd.WaitDelay = stopGrace
	// A group of its own, so that stopping it reaches whatever it started; killed with the
	// process that started it, so that a test binary that dies leaves nothing running.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", emulator, err)
	}
	e := &Emulator{url: "http://" + addrs[0], cmd: cmd, exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(e.exited)
	}()
	if err := e.waitAnswering(ctx); err != nil {
		e.Stop()
		return nil, err
	}
	return e, nil
}

// freeAddrs returns n loopback addresses whose ports were free a moment ago, all different.
func freeAddrs(n int) ([]string, error) {
	var addrs []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		addrs = append(addrs, l.Addr().String())
	}
	return addrs, nil
}

// waitAnswering polls the emulator until it answers any HTTP request (its root is a 404, which
// invokes nothing), it exits, or startTimeout passes.
func (e *Emulator) waitAnswering(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	client := http.Client{Timeout: time.Second}
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	for {
		if resp, err := client.Get(e.url + "/"); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-e.exited:
			return fmt.Errorf("the emulator exited before answering (%v)", e.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("the emulator did not answer at %s: %w", e.url, ctx.Err())
		case <-poll.C:
		}
	}
}

// FunctionError is what a function's invocation ended with when its handler returned an error
// or panicked: Lambda's error payload.
type FunctionError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

func (e *FunctionError) Error() string { return fmt.Sprintf("%s: %s", e.Type, e.Message) }

// Invoke sends one event to the function and returns its JSON reply. A handler's error comes
// back as a *FunctionError; a timeout, or an emulator that cannot run the function, as an error.
func (e *Emulator) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url+invocationsPath, bytes.NewReader(event))
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the emulator answered %s: %s", resp.Status, out)
	}
	// The emulator answers 200 whatever the function did: its error payload, or a timeout's text.
	if bytes.HasPrefix(out, []byte("Task timed out")) {
		return nil, errors.New(string(out))
	}
	var keys map[string]json.RawMessage
	if json.Unmarshal(out, &keys) == nil && keys["errorMessage"] != nil && keys["errorType"] != nil {
		var fault FunctionError
		json.Unmarshal(out, &fault)
		return nil, &fault
	}
	return out, nil
}

// Stop asks the emulator to stop (it kills the bootstrap and exits), kills its process group
// if it has not within stopGrace, and waits for it.
func (e *Emulator) Stop() {
	e.stop.Do(func() {
		pgid := e.cmd.Process.Pid
		syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-e.exited:
		case <-time.After(stopGrace):
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-e.exited
		}
	})
}

// Invoke runs one event through function fn's bootstrap under the emulator, as `sam local
// invoke` does: it builds the bootstrap (once per Builder), starts the emulator with env, invokes
// it once and stops it.
func Invoke(ctx context.Context, b *Builder, fn string, env []string, event []byte, logs io.Writer) ([]byte, error) {
	bootstrap, err := b.Bootstrap(ctx, fn)
	if err != nil {
		return nil, err
	}
	emulator, err := b.Emulator(ctx)
	if err != nil {
		return nil, err
	}
	e, err := Start(ctx, emulator, bootstrap, env, logs)
	if err != nil {
		return nil, err
	}
	defer e.Stop()
	return e.Invoke(ctx, event)
}
