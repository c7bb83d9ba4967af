// Package app wires ringfence together from the environment: configuration, the AWS client, the
// store and the handlers. Every function's main and the local runner build the same App, so the
// code that runs on Lambda is the code that runs locally.
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/ringfence/ringfence/shared/calling"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/httpapi"
	"github.com/ringfence/ringfence/shared/metrics"
	"github.com/ringfence/ringfence/shared/outbound"
	"github.com/ringfence/ringfence/shared/ringfence"
	"github.com/ringfence/ringfence/shared/secrets"
)

// Config is everything the functions read from their environment.
type Config struct {
	Table             string   // RINGFENCE_TABLE
	DynamoDBEndpoint  string   // RINGFENCE_DYNAMODB_ENDPOINT: DynamoDB Local's URL; empty on AWS.
	APIKey            string   // RINGFENCE_API_KEY
	AccountID         string   // RINGFENCE_ACCOUNT_ID, default "default"
	BolnaWebhookToken string   // BOLNA_WEBHOOK_TOKEN
	BolnaAllowedIPs   []string // BOLNA_ALLOWED_IPS: comma-separated; empty accepts any source
	BolnaAPIURL       string   // BOLNA_API_URL, default https://api.bolna.ai
	BolnaAPIKey       string   // BOLNA_API_KEY: without it, calls through Bolna are refused
	RetellAPIURL      string   // RETELL_API_URL, default https://api.retellai.com
	RetellAPIKey      string   // RETELL_API_KEY: places calls and verifies Retell's signatures
	VapiAPIURL        string   // VAPI_API_URL, default https://api.vapi.ai
	VapiAPIKey        string   // VAPI_API_KEY: places and looks up calls through Vapi
	VapiWebhookSecret string   // VAPI_WEBHOOK_SECRET: authenticates Vapi's server messages
	SessionSecret     string   // RINGFENCE_SESSION_SECRET: signs dashboard sessions; unset turns sessions off
	// SessionSecretPrevious is RINGFENCE_SESSION_SECRET_PREVIOUS: the secret being rotated out,
	// still accepted for the sessions it signed.
	SessionSecretPrevious string
	// LoopbackEndpoints is RINGFENCE_LOOPBACK_ENDPOINTS=true: events may go to a receiver on
	// loopback, as under make run. template.yaml never sets it.
	LoopbackEndpoints bool
	DirectLimit       int           // RINGFENCE_DIRECT_LIMIT: default concurrent direct calls per account (5)
	CampaignLimit     int           // RINGFENCE_CAMPAIGN_LIMIT: default concurrent campaign calls per account (10)
	StaleAfter        time.Duration // RINGFENCE_STALE_AFTER: a call without news this long is ended (5m)
	DialTimeout       time.Duration // RINGFENCE_DIAL_TIMEOUT: a dialled call without a provider id this long is ended (2m)
	ScheduleWindow    time.Duration // RINGFENCE_SCHEDULE_RATE: the scheduler's rate(...), which it also looks ahead (15m)
	// MaxCallDuration is RINGFENCE_MAX_CALL_DURATIONS, "bolna=2h,retell=2h,vapi=12h": per provider,
	// the longest a call may run, for calls whose provider cannot be asked (default: the
	// providers' own maxima, calling.DefaultMaxCallDuration).
	MaxCallDuration map[ringfence.Provider]time.Duration
	LogLevel        string // RINGFENCE_LOG_LEVEL: DEBUG, INFO (default), WARN or ERROR
	Function        string // AWS_LAMBDA_FUNCTION_NAME, set by Lambda; "local" elsewhere

	// Secrets is where the handlers and the provider clients read secrets at run time. New sets
	// it from the environment; without it, the fields above are the secrets.
	Secrets secrets.Store
	// providerKeys names the provider API keys that are configured: those providers get a client.
	providerKeys []string
}

// ConfigFromEnv reads the configuration. Only the table is required: a function whose secret is
// unset refuses every request that needs it, rather than failing to start.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{
		Table:                 getenv("RINGFENCE_TABLE"),
		DynamoDBEndpoint:      getenv("RINGFENCE_DYNAMODB_ENDPOINT"),
		APIKey:                getenv("RINGFENCE_API_KEY"),
		AccountID:             getenv("RINGFENCE_ACCOUNT_ID"),
		BolnaWebhookToken:     getenv("BOLNA_WEBHOOK_TOKEN"),
		BolnaAllowedIPs:       splitList(getenv("BOLNA_ALLOWED_IPS")),
		BolnaAPIURL:           getenv("BOLNA_API_URL"),
		BolnaAPIKey:           getenv("BOLNA_API_KEY"),
		RetellAPIURL:          getenv("RETELL_API_URL"),
		RetellAPIKey:          getenv("RETELL_API_KEY"),
		VapiAPIURL:            getenv("VAPI_API_URL"),
		VapiAPIKey:            getenv("VAPI_API_KEY"),
		VapiWebhookSecret:     getenv("VAPI_WEBHOOK_SECRET"),
		SessionSecret:         getenv("RINGFENCE_SESSION_SECRET"),
		SessionSecretPrevious: getenv("RINGFENCE_SESSION_SECRET_PREVIOUS"),
		LoopbackEndpoints:     getenv("RINGFENCE_LOOPBACK_ENDPOINTS") == "true",
		LogLevel:              getenv("RINGFENCE_LOG_LEVEL"),
		Function:              getenv("AWS_LAMBDA_FUNCTION_NAME"),
	}
	if cfg.Function == "" {
		cfg.Function = "local"
	}
	if cfg.Table == "" {
		return cfg, fmt.Errorf("RINGFENCE_TABLE is not set")
	}
	var err error
	if cfg.DirectLimit, err = intSetting(getenv, "RINGFENCE_DIRECT_LIMIT", 5); err != nil {
		return cfg, err
	}
	if cfg.CampaignLimit, err = intSetting(getenv, "RINGFENCE_CAMPAIGN_LIMIT", 10); err != nil {
		return cfg, err
	}
	if cfg.StaleAfter, err = durationSetting(getenv, "RINGFENCE_STALE_AFTER", 5*time.Minute); err != nil {
		return cfg, err
	}
	if cfg.DialTimeout, err = durationSetting(getenv, "RINGFENCE_DIAL_TIMEOUT", 2*time.Minute); err != nil {
		return cfg, err
	}
	if cfg.ScheduleWindow, err = rateSetting(getenv, "RINGFENCE_SCHEDULE_RATE", 15*time.Minute); err != nil {
		return cfg, err
	}
	if cfg.MaxCallDuration, err = maxCallDurations(getenv("RINGFENCE_MAX_CALL_DURATIONS")); err != nil {
		return cfg, err
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "default"
	}
	for name, v := range map[string]string{"RINGFENCE_SESSION_SECRET": cfg.SessionSecret, "RINGFENCE_SESSION_SECRET_PREVIOUS": cfg.SessionSecretPrevious} {
		if v != "" && len(v) < httpapi.MinSessionSecretLength {
			return cfg, fmt.Errorf("%s is shorter than %d characters", name, httpapi.MinSessionSecretLength)
		}
	}

	return cfg, nil
}

// splitList reads a comma-separated list, without blanks.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// intSetting reads a non-negative whole number from the environment.
func intSetting(getenv func(string) string, name string, fallback int) (int, error) {
	v := getenv(name)
	if v == "" {
		return fallback, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s=%q is not a whole number of 0 or more", name, v)
	}
	return n, nil
}

// durationSetting reads a duration such as "5m" from the environment; it must be at least a minute.
func durationSetting(getenv func(string) string, name string, fallback time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return fallback, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < calling.MinStaleAfter {
		return 0, fmt.Errorf("%s=%q is not a duration of at least %s, such as 5m", name, v, calling.MinStaleAfter)
	}
	return d, nil
}

// rateSetting reads an EventBridge rate expression such as "rate(15 minutes)": the scheduler
// runs that often, so it must enqueue every daily call due before its next run.
func rateSetting(getenv func(string) string, name string, fallback time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return fallback, nil
	}
	d, err := ParseRate(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return d, nil
}

// ParseRate reads an EventBridge rate expression: rate(1 minute), rate(15 minutes), rate(1 hour),
// rate(2 days). Like EventBridge, it wants the singular unit for 1 and the plural for more.
func ParseRate(expr string) (time.Duration, error) {
	inner, ok := strings.CutPrefix(expr, "rate(")
	inner, ok2 := strings.CutSuffix(inner, ")")
	n, unit, ok3 := strings.Cut(inner, " ")
	count, err := strconv.Atoi(n)
	if !ok || !ok2 || !ok3 || err != nil || count <= 0 || n != strconv.Itoa(count) {
		return 0, fmt.Errorf("%q is not a rate expression such as rate(15 minutes)", expr)
	}
	units := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}
	singular := strings.TrimSuffix(unit, "s")
	d, known := units[singular]
	if !known || (count == 1) != (unit == singular) {
		return 0, fmt.Errorf("%q is not a rate expression: say rate(1 %s) or rate(%d %ss)", expr, singular, max(count, 2), singular)
	}
	return time.Duration(count) * d, nil
}

// maxCallDurations reads "provider=duration" pairs, comma-separated, such as "vapi=12h,retell=2h";
// a provider not named keeps its default.
func maxCallDurations(v string) (map[ringfence.Provider]time.Duration, error) {
	out := map[ringfence.Provider]time.Duration{}
	for _, pair := range splitList(v) {
		name, value, _ := strings.Cut(pair, "=")
		p, err := ringfence.ParseProvider(name)
		if err != nil {
			return nil, fmt.Errorf("RINGFENCE_MAX_CALL_DURATIONS: %s", ringfence.ErrorMessage(err))
		}
		d, err := time.ParseDuration(strings.TrimSpace(value))
		if err != nil || d < time.Minute {
			return nil, fmt.Errorf("RINGFENCE_MAX_CALL_DURATIONS: %q is not a duration of at least 1m, such as %s=2h", value, p)
		}
		out[p] = d
	}
	return out, nil
}

// App is the wired backend.
type App struct {
	Config  Config
	Store   *dynamo.Store
	Calling *calling.Service
	HTTP    *httpapi.Server
	Log     *slog.Logger
	Metrics *metrics.Recorder
	// Deliverer sends the outbox's events to the accounts' endpoints.
	Deliverer *outbound.Deliverer
}

// New builds the App from the environment. Logs go to stdout as JSON, where Lambda sends them to
// CloudWatch. Secrets come from Secrets Manager where the environment names their ARNs
// (NAME_ARN), and from the environment otherwise (shared/secrets). Options change the AWS
// configuration, as tests do to add middleware; a function's main passes none.
func New(ctx context.Context, getenv func(string) string, stdout io.Writer, options ...func(*aws.Config)) (*App, error) {
	cfg, err := ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	awsCfg := localConfig(getenv)
	var manager *secrets.Manager
	if cfg.DynamoDBEndpoint == "" || secrets.InSecretsManager(getenv) {
		loaded, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("load AWS configuration: %w", err)
		}
		if cfg.DynamoDBEndpoint == "" {
			awsCfg = loaded
		}
		manager = secrets.NewManager(secretsmanager.NewFromConfig(loaded))
	}
	store := secrets.FromEnvironment(getenv, manager)
	if err := cfg.withSecrets(ctx, getenv, store); err != nil {
		return nil, err
	}
	for _, o := range options {
		o(&awsCfg)
	}
	return NewWithAWS(cfg, awsCfg, stdout), nil
}

// localConfig is the AWS configuration for DynamoDB Local. Its credentials are those the
// environment gives, as Lambda gives each function its role's credentials in AWS_ACCESS_KEY_ID
// and AWS_SECRET_ACCESS_KEY: the local stack names each function's role that way, so that the
// role is enforced off AWS too (infra/iam). Without them the credentials are the operator's.
func localConfig(getenv func(string) string) aws.Config {
	cfg := dynamo.LocalConfig()
	if id := getenv("AWS_ACCESS_KEY_ID"); id != "" {
		cfg.Credentials = credentials.NewStaticCredentialsProvider(id, getenv("AWS_SECRET_ACCESS_KEY"), getenv("AWS_SESSION_TOKEN"))
	}
	return cfg
}

// withSecrets gives the configuration its secret store and notes which providers have a key.
// The dashboard's session secret is the one secret read once, at start, with its previous value
// while Secrets Manager offers one; without it there are no dashboard sessions.
func (cfg *Config) withSecrets(ctx context.Context, getenv func(string) string, store secrets.Store) error {
	cfg.Secrets = store
	for _, name := range []string{secrets.BolnaAPIKey, secrets.RetellAPIKey, secrets.VapiAPIKey} {
		if secrets.Configured(getenv, name) {
			cfg.providerKeys = append(cfg.providerKeys, name)
		}
	}
	if cfg.SessionSecret == "" && secrets.Configured(getenv, secrets.SessionSecret) {
		// The session secret is read once, at start: the previous value, while Secrets Manager
		// still offers it, keeps the sessions it signed valid through a rotation.
		v, err := store.Get(ctx, secrets.SessionSecret)
		if err != nil {
			return err
		}
		cfg.SessionSecret, cfg.SessionSecretPrevious = v.Current, v.Previous
	}
	return nil
}

// NewWithAWS builds the App from a configuration and an AWS configuration the caller made; New
// ends here. A test that adds middleware passes options to New instead, so that it runs the
// wiring Lambda runs; only tests of one handler's own logic build a Config by hand.
func NewWithAWS(cfg Config, awsCfg aws.Config, stdout io.Writer) *App {
	if cfg.Secrets == nil {
		cfg.Secrets = secrets.Static{
			secrets.APIKey: {Current: cfg.APIKey}, secrets.BolnaWebhookToken: {Current: cfg.BolnaWebhookToken},
			secrets.BolnaAPIKey: {Current: cfg.BolnaAPIKey}, secrets.RetellAPIKey: {Current: cfg.RetellAPIKey},
			secrets.VapiAPIKey: {Current: cfg.VapiAPIKey}, secrets.VapiWebhookSecret: {Current: cfg.VapiWebhookSecret},
		}
		for name, key := range map[string]string{secrets.BolnaAPIKey: cfg.BolnaAPIKey, secrets.RetellAPIKey: cfg.RetellAPIKey, secrets.VapiAPIKey: cfg.VapiAPIKey} {
			if key != "" {
				cfg.providerKeys = append(cfg.providerKeys, name)
			}
		}
	}
	log := NewLogger(stdout, cfg.LogLevel)
	store := dynamo.NewStore(dynamo.NewClient(awsCfg, cfg.DynamoDBEndpoint), cfg.Table)
	calls := calling.New(store, cfg.dialers(), calling.Defaults{
		DirectLimit: cfg.DirectLimit, CampaignLimit: cfg.CampaignLimit, StaleAfter: cfg.StaleAfter, DialTimeout: cfg.DialTimeout,
		ScheduleWindow:  cfg.ScheduleWindow,
		MaxCallDuration: cfg.MaxCallDuration,
	}, log)
	server := httpapi.NewServer(store, calls, httpapi.Config{
		APIKey: cfg.APIKey, AccountID: cfg.AccountID, BolnaWebhookToken: cfg.BolnaWebhookToken, BolnaAllowedIPs: cfg.BolnaAllowedIPs, RetellAPIKey: cfg.RetellAPIKey,
		VapiWebhookSecret: cfg.VapiWebhookSecret,
		SessionSecret:     cfg.SessionSecret, SessionSecretPrevious: cfg.SessionSecretPrevious,
		Secrets:        cfg.Secrets,
		LocalEndpoints: cfg.LoopbackEndpoints,
	}, log)
	// Every function records its metrics with its logs, named after the Lambda function.
	recorder := metrics.New(stdout, cfg.Function)
	calls.Metrics, server.Metrics = recorder, recorder
	deliverer := outbound.NewDeliverer(store, server.EventBody, log)
	deliverer.Client = outbound.NewHTTPClient(outbound.Policy{AllowLoopback: cfg.LoopbackEndpoints})
	deliverer.Metrics = recorder
	return &App{Config: cfg, Store: store, Calling: calls, HTTP: server, Log: log, Metrics: recorder, Deliverer: deliverer}
}

// NewLogger returns a JSON logger at the named level (INFO when the name is unknown).
func NewLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// Handlers returns every function's handler keyed by its folder under functions/, for the local
// runner and the invoke command. Each function's main starts the same handler.
func (a *App) Handlers() map[string]any {
	out := map[string]any{}
	for name, h := range a.HTTP.Handlers() {
		out[name] = h
	}
	out["dispatcher"] = a.Calling.DispatchScheduled
	out["sweeper"] = a.Calling.SweepScheduled
	out["scheduler"] = a.Calling.ScheduleScheduled
	out["deliverer"] = a.Deliverer.DeliverScheduled
	return out
}
