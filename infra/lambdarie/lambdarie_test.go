package lambdarie_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/infra/dynamodblocal"
	"github.com/ringfence/ringfence/infra/iam"
	"github.com/ringfence/ringfence/infra/lambdarie"
	"github.com/ringfence/ringfence/infra/samtemplate"
	"github.com/ringfence/ringfence/infra/simulator"
	"github.com/ringfence/ringfence/infra/testio"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
)

// builder builds each bootstrap once for the whole test binary, into a directory removed at the
// end.
var builder *lambdarie.Builder

var root string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	if root, err = dynamodblocal.RepoRoot(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "ringfence-bootstraps-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	builder = lambdarie.NewBuilder(root, dir)
	return dynamotest.Main(m)
}

// simulatorKey is the key the provider simulator accepts, and the one the samples are signed with.
const simulatorKey = "local-simulator-key"

func MustTemplate(tb testing.TB) samtemplate.Template {
	tb.Helper()
	tmpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	return tmpl
}

// MustLocal returns the local values the sample events need: a fresh table in DynamoDB Local
// behind the IAM proxy, which holds each function to its role, the development secrets they
// carry, and every provider's API at a simulator.
func MustLocal(tb testing.TB) (map[string]string, *iam.Server) {
	tb.Helper()
	env := dynamotest.MustNewStore(tb)
	roles, err := iam.LoadRepository(root)
	if err != nil {
		tb.Fatal(err)
	}
	proxy, err := iam.Start(dynamotest.Endpoint(), roles)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { proxy.Close() })
	sim := httptest.NewServer(simulator.New(simulator.Options{APIKey: simulatorKey, VapiWebhookSecret: simulatorKey}))
	tb.Cleanup(sim.Close)
	return map[string]string{
		"RINGFENCE_TABLE": env.Table, "RINGFENCE_DYNAMODB_ENDPOINT": proxy.Endpoint,
		"RINGFENCE_API_KEY": "local-dev-api-key-0123456789", "BOLNA_WEBHOOK_TOKEN": "local-bolna-token-0123456789",
		"RINGFENCE_SESSION_SECRET": "local-dev-session-secret-0123456789abcdef", "VAPI_WEBHOOK_SECRET": simulatorKey,
		"BOLNA_API_KEY": simulatorKey, "BOLNA_API_URL": sim.URL, "RETELL_API_KEY": simulatorKey, "RETELL_API_URL": sim.URL,
		"VAPI_API_KEY": simulatorKey, "VAPI_API_URL": sim.URL,
	}, proxy
}

// MustStart starts function fn under the emulator, stopped when the test ends however it ends.
func MustStart(tb testing.TB, fn string, env []string, logs *testio.Buffer) *lambdarie.Emulator {
	tb.Helper()
	ctx := context.Background()
	bootstrap, err := builder.Bootstrap(ctx, fn)
	if err != nil {
		tb.Fatal(err)
	}
	rie, err := builder.Emulator(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	e, err := lambdarie.Start(ctx, rie, bootstrap, env, logs)
	if err != nil {
		tb.Fatalf("%v\n%s", err, logs)
	}
	tb.Cleanup(e.Stop)
	return e
}

// expectation is one row of events/README.md's table: what a sample event gets from its function.
type expectation struct {
	file, function, status string
}

// MustExpectations reads the table of events/README.md: | `file` | function | status |.
func MustExpectations(tb testing.TB) []expectation {
	tb.Helper()
	f, err := os.Open(filepath.Join(root, "events", "README.md"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []expectation
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		cells := strings.Split(strings.Trim(lines.Text(), "| "), "|")
		if len(cells) != 3 || !strings.HasPrefix(strings.TrimSpace(cells[0]), "`") {
			continue
		}
		out = append(out, expectation{
			file: strings.Trim(strings.TrimSpace(cells[0]), "`"), function: strings.TrimSpace(cells[1]),
			status: strings.Trim(strings.TrimSpace(cells[2]), "`"),
		})
	}
	return out
}

// Every sample event in events/, sent as `make invoke` sends it (through its function's
// bootstrap, under the emulator, with the template's environment and its role), gets the status
// events/README.md says it gets: an API event the statusCode of its API Gateway response, a
// scheduled event a null reply and no error. No request is denied by a role. Each function is
// one emulator, kept warm across its events, which run in the table's order against one table.
func TestEverySampleEventGetsItsStatusUnderTheEmulator(t *testing.T) {
	want := MustExpectations(t)
	files, _ := filepath.Glob(filepath.Join(root, "events", "*.json"))
	listed := map[string]bool{}
	var functions []string
	for _, x := range want {
		listed[x.file] = true
		if !slices.Contains(functions, x.function) {
			functions = append(functions, x.function)
		}
	}
	for _, f := range files {
		if !listed[filepath.Base(f)] {
			t.Fatalf("events/%s is not in events/README.md's table", filepath.Base(f))
		}
	}
	if len(files) != len(want) {
		t.Fatalf("events/README.md lists %d events, events/ holds %d", len(want), len(files))
	}
	ctx := context.Background()
	if err := builder.Build(ctx, functions...); err != nil {
		t.Fatal(err)
	}
	tmpl := MustTemplate(t)
	local, proxy := MustLocal(t)
	emulators := map[string]*lambdarie.Emulator{}
	logs := &testio.Buffer{}
	for _, x := range want {
		e, ok := emulators[x.function]
		if !ok {
			env, err := lambdarie.FunctionEnv(tmpl, x.function, local)
			if err != nil {
				t.Fatal(err)
			}
			e = MustStart(t, x.function, env, logs)
			emulators[x.function] = e
		}
		event, err := os.ReadFile(filepath.Join(root, "events", x.file))
		if err != nil {
			t.Fatal(err)
		}
		if event, err = lambdarie.SignRetell(event, local["RETELL_API_KEY"], time.Now()); err != nil {
			t.Fatal(err)
		}
		out, err := e.Invoke(ctx, event)
		if err != nil {
			t.Fatalf("%s: %v\n%s", x.file, err, logs)
		}
		got := string(out)
		var resp events.APIGatewayV2HTTPResponse
		if json.Unmarshal(out, &resp) == nil && resp.StatusCode != 0 {
			got = strconv.Itoa(resp.StatusCode)
		}
		if got != x.status {
			t.Errorf("%s: %s (%s), want %s", x.file, got, out, x.status)
		}
	}
	if denied := proxy.Denied(local["RINGFENCE_TABLE"]); len(denied) > 0 {
		t.Fatalf("a role denied what a sample event needs: %v", denied)
	}
}

// A function's environment is the template's, with local values for what exists only in the
// deployed stack: each secret's ARN becomes the secret itself, for the functions the template
// gives it to and no other; the function has its role's credentials; the table and DynamoDB
// Local's endpoint are required; a local value overrides what the template sets.
func TestFunctionEnvIsTheTemplatesWithLocalValues(t *testing.T) {
	tmpl := MustTemplate(t)
	local := map[string]string{
		"RINGFENCE_TABLE": "t1", "RINGFENCE_DYNAMODB_ENDPOINT": "http://127.0.0.1:8000",
		"VAPI_WEBHOOK_SECRET": "vapi-secret", "VAPI_WEBHOOK_SECRET_PREVIOUS": "vapi-old", "RINGFENCE_API_KEY": "api-key",
		"BOLNA_API_URL": "http://127.0.0.1:3001",
	}
	envOf := func(fn string) map[string]string {
		t.Helper()
		list, err := lambdarie.FunctionEnv(tmpl, fn, local)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, kv := range list {
			k, v, _ := strings.Cut(kv, "=")
			out[k] = v
		}
		return out
	}
	vapi, api := envOf("vapi-webhook"), envOf("api")
	for name, want := range map[string]string{
		"VAPI_WEBHOOK_SECRET": "vapi-secret", "VAPI_WEBHOOK_SECRET_PREVIOUS": "vapi-old", "RINGFENCE_API_KEY": "",
		"RINGFENCE_TABLE": "t1", "RINGFENCE_LOG_LEVEL": "INFO", "BOLNA_API_URL": "http://127.0.0.1:3001",
		"AWS_ACCESS_KEY_ID": iam.AccessKeyID("VapiWebhookFunction"), "AWS_LAMBDA_FUNCTION_NAME": "vapi-webhook", "AWS_LAMBDA_FUNCTION_TIMEOUT": "15",
	} {
		if got := vapi[name]; got != want {
			t.Fatalf("vapi-webhook: %s=%q, want %q", name, got, want)
		}
	}
	if api["RINGFENCE_API_KEY"] != "api-key" || api["VAPI_WEBHOOK_SECRET"] != "" || api["AWS_LAMBDA_FUNCTION_TIMEOUT"] != "29" {
		t.Fatalf("api environment=%v, want its own API key, not Vapi's secret, and its timeout", api)
	}
	for name := range vapi {
		if strings.HasSuffix(name, "_ARN") {
			t.Fatalf("vapi-webhook was given %s; locally a secret is its value", name)
		}
	}
	for _, drop := range []string{"RINGFENCE_TABLE", "RINGFENCE_DYNAMODB_ENDPOINT"} {
		without := map[string]string{}
		for k, v := range local {
			if k != drop {
				without[k] = v
			}
		}
		if _, err := lambdarie.FunctionEnv(tmpl, "api", without); err == nil {
			t.Fatalf("an environment without %s was accepted", drop)
		}
	}
	if _, err := lambdarie.FunctionEnv(tmpl, "nosuch", local); err == nil {
		t.Fatal("a function the template does not have was accepted")
	}
}

// A handler that fails gives Lambda's error payload, which Invoke returns as a FunctionError;
// the emulator keeps serving after it.
func TestHandlerErrorIsAFunctionError(t *testing.T) {
	local, _ := MustLocal(t)
	env, err := lambdarie.FunctionEnv(MustTemplate(t), "sweeper", local)
	if err != nil {
		t.Fatal(err)
	}
	logs := &testio.Buffer{}
	e := MustStart(t, "sweeper", env, logs)
	_, err = e.Invoke(context.Background(), []byte(`"not an EventBridge event"`))
	var fault *lambdarie.FunctionError
	if !errors.As(err, &fault) || fault.Message == "" {
		t.Fatalf("invoke=%v, want a FunctionError\n%s", err, logs)
	}
	event, _ := os.ReadFile(filepath.Join(root, "events", "sweeper-scheduled.json"))
	if out, err := e.Invoke(context.Background(), event); err != nil || string(out) != "null" {
		t.Fatalf("after the error: %s, %v\n%s", out, err, logs)
	}
}

// Stopping the emulator ends it and the bootstrap it started, and leaves no process behind.
func TestStopLeavesNoProcess(t *testing.T) {
	local, _ := MustLocal(t)
	env, err := lambdarie.FunctionEnv(MustTemplate(t), "api", local)
	if err != nil {
		t.Fatal(err)
	}
	logs := &testio.Buffer{}
	e := MustStart(t, "api", env, logs)
	event, _ := os.ReadFile(filepath.Join(root, "events", "api-healthz.json"))
	if _, err := e.Invoke(context.Background(), event); err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	children := MustChildren(t, e.PID())
	if len(children) != 1 {
		t.Fatalf("the emulator runs %v, want its bootstrap", children)
	}
	e.Stop()
	for _, pid := range append(children, e.PID()) {
		if alive(pid) {
			t.Fatalf("process %d is still running after Stop", pid)
		}
	}
}

// MustChildren lists a process's children, those of each of its threads (Linux's /proc).
func MustChildren(tb testing.TB, pid int) []int {
	tb.Helper()
	lists, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	if err != nil || len(lists) == 0 {
		tb.Fatalf("no threads of process %d in /proc: %v", pid, err)
	}
	var out []int
	for _, list := range lists {
		b, _ := os.ReadFile(list)
		for _, f := range strings.Fields(string(b)) {
			n, _ := strconv.Atoi(f)
			out = append(out, n)
		}
	}
	return out
}

// alive says whether a process runs: it exists and is not a zombie waiting to be reaped.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(rest, "Z")
}

// The bootstrap acts as its function's role: its requests carry the credentials FunctionEnv
// gives it, so with another role's (here one the template does not have) the IAM proxy refuses
// them and the health check answers 503.
func TestBootstrapActsAsItsRole(t *testing.T) {
	tmpl := MustTemplate(t)
	local, _ := MustLocal(t)
	event, _ := os.ReadFile(filepath.Join(root, "events", "api-healthz.json"))
	for _, tt := range []struct {
		key  string
		want int
	}{{"", 200}, {iam.AccessKeyID("NoSuchFunction"), 503}} {
		key, want := tt.key, tt.want
		if key != "" {
			local["AWS_ACCESS_KEY_ID"] = key
		}
		env, err := lambdarie.FunctionEnv(tmpl, "api", local)
		if err != nil {
			t.Fatal(err)
		}
		logs := &testio.Buffer{}
		out, err := MustStart(t, "api", env, logs).Invoke(context.Background(), event)
		var resp events.APIGatewayV2HTTPResponse
		if err != nil || json.Unmarshal(out, &resp) != nil || resp.StatusCode != want {
			t.Fatalf("credentials %q: %s, %v, want %d\n%s", key, out, err, want, logs)
		}
	}
}
