// Command ringfence-local runs ringfence on this machine without AWS, Docker or the SAM CLI:
//
//	ringfence-local run                  DynamoDB Local + the table + the API on 127.0.0.1:3000 + schedules
//	ringfence-local invoke FN EVENT.json what `sam local invoke FN -e EVENT.json` does: the built
//	                                     bootstrap under the Lambda Runtime Interface Emulator
//	ringfence-local seed-calls CAMPAIGN  gives each contact of a campaign a call with a Bolna
//	                                     execution id, as if it had been dialled (for trying webhooks)
//
// Each reads template.yaml for the functions, routes, schedules and table. run builds the
// handlers in-process with the same wiring (shared/app) as the Lambda functions; invoke runs the
// function's own bootstrap.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ringfence/ringfence/infra/dynamodblocal"
	"github.com/ringfence/ringfence/infra/iam"
	"github.com/ringfence/ringfence/infra/lambdarie"
	"github.com/ringfence/ringfence/infra/localstack"
	"github.com/ringfence/ringfence/infra/samtemplate"
	"github.com/ringfence/ringfence/infra/simulator"
	"github.com/ringfence/ringfence/shared/app"
	"github.com/ringfence/ringfence/shared/bolna"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/retell"
	"github.com/ringfence/ringfence/shared/ringfence"
	"github.com/ringfence/ringfence/shared/vapi"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "ringfence-local:", err)
		os.Exit(1)
	}
}

// localDefaults are the settings a local stack uses unless the environment sets them. The secrets
// are fixed, well-known development values so that the sample events in events/ work as they are.
var localDefaults = map[string]string{
	"RINGFENCE_ADDR":      "127.0.0.1:3000",
	"RINGFENCE_TABLE":     "ringfence-local",
	"RINGFENCE_API_KEY":   "local-dev-api-key-0123456789",
	"BOLNA_WEBHOOK_TOKEN": "local-bolna-token-0123456789",
	// Signs the local dashboard's sessions; a deployment sets a secret of its own.
	"RINGFENCE_SESSION_SECRET": "local-dev-session-secret-0123456789abcdef",
	"RINGFENCE_LOG_LEVEL":      "INFO",
	// Events may go to a receiver on this machine (ringfence-receiver); a deployment never sets it.
	"RINGFENCE_LOOPBACK_ENDPOINTS": "true",
	// The provider simulator stands in for each provider whose API key is not set.
	"RINGFENCE_SIMULATOR_ADDR": "127.0.0.1:3001",
}

// simulatorKey is the API key the local provider simulator accepts.
const simulatorKey = "local-simulator-key"

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: ringfence-local run | invoke FUNCTION EVENT.json")
	}
	root, err := dynamodblocal.RepoRoot()
	if err != nil {
		return err
	}
	env := withDefaults(getenv)
	switch args[0] {
	case "run":
		return runStack(ctx, root, env, stdout, stderr)
	case "invoke":
		if len(args) != 3 {
			return errors.New("usage: ringfence-local invoke FUNCTION EVENT.json")
		}
		return invoke(ctx, root, env, args[1], args[2], stdout, stderr)
	case "seed-calls":
		if len(args) != 2 {
			return errors.New("usage: ringfence-local seed-calls CAMPAIGN_ID")
		}
		return seedCalls(ctx, root, env, args[1], stdout)
	}
	return fmt.Errorf("unknown command %q; use run, invoke or seed-calls", args[0])
}

func withDefaults(getenv func(string) string) func(string) string {
	return func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return localDefaults[k]
	}
}

// dynamoDB makes sure a DynamoDB Local answers and holds the table: the one named by
// RINGFENCE_DYNAMODB_ENDPOINT, or a new in-memory one that stop ends.
func dynamoDB(ctx context.Context, root string, env func(string) string, log io.Writer) (endpoint string, stop func(), err error) {
	stop = func() {}
	endpoint = env("RINGFENCE_DYNAMODB_ENDPOINT")
	if endpoint == "" {
		srv, err := dynamodblocal.Start(ctx, root, 0, log)
		if err != nil {
			return "", stop, err
		}
		endpoint, stop = srv.Endpoint, srv.Stop
	}
	t, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		stop()
		return "", func() {}, err
	}
	if err := dynamo.CreateTable(ctx, dynamo.NewClient(dynamo.LocalConfig(), endpoint), env("RINGFENCE_TABLE"), t.Table); err != nil {
		stop()
		return "", func() {}, err
	}
	return endpoint, stop, nil
}

func runStack(ctx context.Context, root string, env func(string) string, stdout, stderr io.Writer) error {
	ddbLog, err := os.Create(filepath.Join(os.TempDir(), "ringfence-dynamodb-local.log"))
	if err != nil {
		return err
	}
	defer ddbLog.Close()
	fmt.Fprintln(stdout, "starting DynamoDB Local...")
	endpoint, stopDB, err := dynamoDB(ctx, root, env, io.MultiWriter(ddbLog))
	if err != nil {
		return err
	}
	defer stopDB()
	ln, err := net.Listen("tcp", env("RINGFENCE_ADDR"))
	if err != nil {
		return fmt.Errorf("listen on %s (set RINGFENCE_ADDR to use another address): %w", env("RINGFENCE_ADDR"), err)
	}
	base := "http://" + ln.Addr().String()
	appEnv := localstack.Overlay(env, map[string]string{"RINGFENCE_DYNAMODB_ENDPOINT": endpoint})
	simURL := ""
	if len(simulated(env)) > 0 {
		sim, url, err := startSimulator(env("RINGFENCE_SIMULATOR_ADDR"), env("RINGFENCE_SIMULATOR_DROP_FINAL"), base, env("BOLNA_WEBHOOK_TOKEN"), vapiWebhookSecret(env))
		if err != nil {
			ln.Close()
			return err
		}
		defer sim.Close()
		simURL = url
		appEnv = simulatorProviders(appEnv, url)
	}
	t, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		ln.Close()
		return err
	}
	// Each function reaches DynamoDB through the IAM proxy, with its own role, as on AWS; the
	// operator's work (the table, the development account) goes to DynamoDB Local directly.
	roles, err := iam.LoadRepository(root)
	if err != nil {
		ln.Close()
		return err
	}
	proxy, err := iam.Start(endpoint, roles)
	if err != nil {
		ln.Close()
		return err
	}
	defer proxy.Close()
	functions, err := localstack.Functions(ctx, t, localstack.Overlay(appEnv, map[string]string{"RINGFENCE_DYNAMODB_ENDPOINT": proxy.Endpoint}), stdout)
	if err != nil {
		ln.Close()
		return err
	}
	operator, err := app.New(ctx, appEnv, io.Discard)
	if err != nil {
		ln.Close()
		return err
	}
	// The development account: the local API key, stored hashed, with the default limits.
	if err := operator.Store.EnsureAccount(ctx, ringfence.Account{ID: operator.Config.AccountID, Name: "local development"}, env("RINGFENCE_API_KEY")); err != nil {
		ln.Close()
		return err
	}
	handlers := localstack.Handlers(functions)
	gw, err := localstack.NewGateway(t, handlers, operator.Log)
	if err != nil {
		ln.Close()
		return err
	}
	// The API's OpenAPI description is served beside the routes, for a viewer to load: a local
	// convenience only, not a route of template.yaml.
	srv := &http.Server{Handler: localstack.WithDocument(filepath.Join(root, "docs", "openapi.yaml"), gw), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	localstack.RunSchedules(ctx, t, handlers, operator.Log)

	stack, _ := json.Marshal(map[string]string{"endpoint": endpoint, "table": env("RINGFENCE_TABLE"), "session_secret": operator.Config.SessionSecret})
	os.WriteFile(filepath.Join(root, localstack.StackFile), stack, 0o644)
	defer os.Remove(filepath.Join(root, localstack.StackFile))

	printBanner(stdout, base, endpoint, simURL, env, t)
	<-ctx.Done()
	fmt.Fprintln(stdout, "stopping...")
	stopServing(srv, shutdownGrace, stdout)
	return nil
}

// shutdownGrace is how long a stopping stack waits for the requests it is serving.
const shutdownGrace = 5 * time.Second

// stopServing stops taking requests and waits up to grace for those in flight, then cuts
// off any still running (a webhook waiting on a DynamoDB Local starved of CPU, say). Stopping
// succeeds either way: a request cut off is a Lambda that died mid-request, which the provider's
// retry or the sweep finishes, so it is reported, not returned as a failure of the stack.
func stopServing(srv *http.Server, grace time.Duration, stdout io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		srv.Close()
		fmt.Fprintf(stdout, "requests still running after %s were cut off\n", grace)
	}
}

// startSimulator serves the provider simulator, sending its webhooks to ringfence at base with the
// secrets ringfence is configured with: Bolna's token in the URL, Vapi's secret as its credential.
// Its calls last a few seconds, so a campaign's progress can be watched. dropFinal, when set, is
// the share of calls (0 to 1) whose final webhooks never arrive, for the sweep to reconcile with
// the simulator.
func startSimulator(addr, dropFinal, base, bolnaToken, vapiSecret string) (*http.Server, string, error) {
	drop := 0.0
	if dropFinal != "" {
		var err error
		if drop, err = strconv.ParseFloat(dropFinal, 64); err != nil || drop < 0 || drop > 1 {
			return nil, "", fmt.Errorf("RINGFENCE_SIMULATOR_DROP_FINAL=%q is not a share from 0 to 1", dropFinal)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("listen on %s for the provider simulator (set RINGFENCE_SIMULATOR_ADDR): %w", addr, err)
	}
	sim := simulator.New(simulator.Options{APIKey: simulatorKey, VapiWebhookSecret: vapiSecret, CallLength: 3 * time.Second, Seed: uint64(time.Now().UnixNano()), DropFinal: drop})
	sim.SetWebhookBase(base, bolnaToken)
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return srv, "http://" + ln.Addr().String(), nil
}

func printBanner(w io.Writer, base, endpoint, simURL string, env func(string) string, t samtemplate.Template) {
	fmt.Fprintf(w, "\nringfence is listening on %s\n", base)
	fmt.Fprintf(w, "  DynamoDB Local:     %s (table %s)\n", endpoint, env("RINGFENCE_TABLE"))
	sim := simulated(env)
	for _, p := range providers {
		if slices.Contains(sim, p) {
			fmt.Fprintf(w, "  %-19s simulated at %s (set %s to use the real one)\n", p.name+":", simURL, p.keyVar)
		} else {
			url := env(p.urlVar)
			if url == "" {
				url = p.defaultURL
			}
			fmt.Fprintf(w, "  %-19s the real API at %s\n", p.name+":", url)
		}
	}
	fmt.Fprintf(w, "  management API key: Authorization: Bearer %s\n", env("RINGFENCE_API_KEY"))
	fmt.Fprintf(w, "  dashboard:          %s/dashboard (sign in with the API key)\n", base)
	fmt.Fprintf(w, "  API description:    %s%s (OpenAPI 3.1, served locally only)\n", base, localstack.DocumentPath)
	fmt.Fprintf(w, "  Bolna webhook URL:  %s/webhooks/bolna?token=%s\n", base, env("BOLNA_WEBHOOK_TOKEN"))
	fmt.Fprintf(w, "  Retell webhook URL: %s/webhooks/retell (signed with RETELL_API_KEY)\n", base)
	fmt.Fprintf(w, "  Vapi server URL:    %s/webhooks/vapi (X-Vapi-Secret: %s)\n", base, vapiWebhookSecret(env))
	fmt.Fprintln(w, "  routes:")
	var lines []string
	for _, fn := range t.Functions {
		for _, r := range fn.Routes {
			lines = append(lines, fmt.Sprintf("    %-6s %-28s -> functions/%s", r.Method, r.Path, fn.Name))
		}
		for _, s := range fn.Schedules {
			lines = append(lines, fmt.Sprintf("    every %-22s -> functions/%s", s.Every, fn.Name))
		}
	}
	sort.Strings(lines)
	fmt.Fprintln(w, strings.Join(lines, "\n"))
	fmt.Fprintf(w, "  try:  curl -s -H 'Authorization: Bearer %s' %s/healthz\n", env("RINGFENCE_API_KEY"), base)
	fmt.Fprintf(w, "  events out: go run ./infra/cmd/ringfence-receiver -api %s\n", base)
	fmt.Fprintln(w, "              registers a receiver on 127.0.0.1:4000 as an endpoint (POST /endpoints) and logs each event it verified")
	fmt.Fprintln(w, "Press Ctrl-C to stop.")
}

// seedCalls gives every contact of a campaign a call in status "initiated" with the Bolna
// execution id "<campaign>-exec-<n>", so that webhooks can be tried by hand before placing calls.
func seedCalls(ctx context.Context, root string, env func(string) string, campaignID string, stdout io.Writer) error {
	env, err := localstack.RunningStack(root, env)
	if err != nil {
		return err
	}
	a, err := app.New(ctx, env, io.Discard)
	if err != nil {
		return err
	}
	c, err := a.Store.GetCampaign(ctx, a.Config.AccountID, campaignID)
	if err != nil {
		return err
	}
	contacts, err := a.Store.ListContacts(ctx, c.ID)
	if err != nil {
		return err
	}
	for i, ct := range contacts {
		call := ringfence.Call{
			ID: dynamo.NewID("call"), AccountID: c.AccountID, CampaignID: c.ID, ContactID: ct.ID,
			Provider: c.Provider, ProviderCallID: fmt.Sprintf("%s-exec-%d", c.ID, i+1),
			Status: ringfence.StatusInitiated, ToNumber: ct.Phone, FromNumber: c.FromNumber, AgentID: c.AgentID,
		}
		if err := a.Store.CreateCall(ctx, call); err != nil {
			return fmt.Errorf("contact %s: %w", ct.ID, err)
		}
		fmt.Fprintf(stdout, "contact %s (%s): call %s, execution id %s\n", ct.ID, ct.Phone, call.ID, call.ProviderCallID)
	}
	return nil
}

// invoke runs one function on one event file as `sam local invoke` does, and prints its JSON
// reply: the function's bootstrap, built for this machine, runs under the Lambda Runtime Interface
// Emulator with the environment the template gives it (infra/lambdarie). It uses the DynamoDB of
// a running `make run` stack when there is one, and a throwaway one otherwise.
func invoke(ctx context.Context, root string, env func(string) string, function, eventFile string, stdout, stderr io.Writer) error {
	event, err := os.ReadFile(eventFile)
	if err != nil {
		return err
	}
	if !json.Valid(event) {
		return fmt.Errorf("%s is not valid JSON", eventFile)
	}
	t, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return err
	}
	if env("RINGFENCE_DYNAMODB_ENDPOINT") == "" {
		if stackEnv, err := localstack.RunningStack(root, env); err == nil {
			env = stackEnv
			fmt.Fprintf(stderr, "using the running local stack's DynamoDB at %s\n", env("RINGFENCE_DYNAMODB_ENDPOINT"))
		} else {
			fmt.Fprintln(stderr, "no local stack is running (make run); starting a throwaway DynamoDB Local")
		}
	}
	endpoint, stopDB, err := dynamoDB(ctx, root, env, io.Discard)
	if err != nil {
		return err
	}
	defer stopDB()
	env = withSimulatorProviders(env)
	if event, err = lambdarie.SignRetell(event, env("RETELL_API_KEY"), time.Now()); err != nil {
		return err
	} else if bytes.Contains(event, []byte(`"x-retell-signature"`)) {
		fmt.Fprintln(stderr, "re-signed the event's x-retell-signature with RETELL_API_KEY at the current time")
	}
	// The function reaches DynamoDB through the IAM proxy, with its own role's credentials
	// (FunctionEnv), as on AWS.
	roles, err := iam.LoadRepository(root)
	if err != nil {
		return err
	}
	proxy, err := iam.Start(endpoint, roles)
	if err != nil {
		return err
	}
	defer proxy.Close()
	local := lambdarie.LocalValues(t, env)
	local["RINGFENCE_DYNAMODB_ENDPOINT"] = proxy.Endpoint
	fnEnv, err := lambdarie.FunctionEnv(t, function, local)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ringfence-invoke-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintf(stderr, "building functions/%s and running it under aws-lambda-rie\n", function)
	out, err := lambdarie.Invoke(ctx, lambdarie.NewBuilder(root, dir), function, fnEnv, event, stderr)
	if err != nil {
		return fmt.Errorf("function %s: %w", function, err)
	}
	fmt.Fprintln(stdout, string(out))
	return nil
}

// withSimulatorProviders points the providers without an API key at the local simulator, as
// `make run` does.
func withSimulatorProviders(env func(string) string) func(string) string {
	if len(simulated(env)) == 0 {
		return env
	}
	return simulatorProviders(env, "http://"+env("RINGFENCE_SIMULATOR_ADDR"))
}

// provider names a provider's settings.
type provider struct {
	name, keyVar, urlVar, defaultURL string
}

var providers = []provider{
	{"Bolna", "BOLNA_API_KEY", "BOLNA_API_URL", bolna.DefaultBaseURL},
	{"Retell", "RETELL_API_KEY", "RETELL_API_URL", retell.DefaultBaseURL},
	{"Vapi", "VAPI_API_KEY", "VAPI_API_URL", vapi.DefaultBaseURL},
}

// simulated returns the providers the simulator stands in for: each whose API key is not set.
// One real key leaves the others simulated.
func simulated(env func(string) string) []provider {
	var out []provider
	for _, p := range providers {
		if env(p.keyVar) == "" {
			out = append(out, p)
		}
	}
	return out
}

// vapiWebhookSecret is the secret Vapi's server messages carry: the one configured, or, for the
// simulator, its own key.
func vapiWebhookSecret(env func(string) string) string {
	if s := env("VAPI_WEBHOOK_SECRET"); s != "" {
		return s
	}
	return simulatorKey
}

// simulatorProviders points the API and key of every simulated provider at the simulator. The
// webhook secrets stay those configured (the simulator sends them), so that the URLs and secrets
// the banner prints are the ones that work.
func simulatorProviders(env func(string) string, url string) func(string) string {
	overlay := map[string]string{}
	for _, p := range simulated(env) {
		overlay[p.urlVar], overlay[p.keyVar] = url, simulatorKey
		if p.name == "Vapi" {
			overlay["VAPI_WEBHOOK_SECRET"] = vapiWebhookSecret(env)
		}
	}
	return localstack.Overlay(env, overlay)
}
