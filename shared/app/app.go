// Package app wires ringfence together from the environment: configuration, the AWS client, the
// store and the handlers. Every function's main and the local runner build the same App, so the
// code that runs on Lambda is the code that runs locally.
package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/ringfence/ringfence/shared/bolna"
	"github.com/ringfence/ringfence/shared/calling"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/httpapi"
	"github.com/ringfence/ringfence/shared/metrics"
	"github.com/ringfence/ringfence/shared/outbound"
	"github.com/ringfence/ringfence/shared/retell"
	"github.com/ringfence/ringfence/shared/ringfence"
	"github.com/ringfence/ringfence/shared/vapi"
)

// Config is everything the functions read from their environment.
type Config struct {
	Table             string        // RINGFENCE_TABLE
	DynamoDBEndpoint  string        // RINGFENCE_DYNAMODB_ENDPOINT: DynamoDB Local's URL; empty on AWS.
	APIKey            string        // RINGFENCE_API_KEY
	AccountID         string        // RINGFENCE_ACCOUNT_ID, default "default"
	BolnaWebhookToken string        // BOLNA_WEBHOOK_TOKEN
	BolnaAllowedIPs   []string      // BOLNA_ALLOWED_IPS: comma-separated; empty accepts any source
	BolnaAPIURL       string        // BOLNA_API_URL, default https://api.bolna.ai
	BolnaAPIKey       string        // BOLNA_API_KEY: without it, calls through Bolna are refused
	RetellAPIURL      string        // RETELL_API_URL, default https://api.retellai.com
	RetellAPIKey      string        // RETELL_API_KEY: places calls and verifies Retell's signatures
	VapiAPIURL        string        // VAPI_API_URL, default https://api.vapi.ai
	VapiAPIKey        string        // VAPI_API_KEY: places and looks up calls through Vapi
	VapiWebhookSecret string        // VAPI_WEBHOOK_SECRET: authenticates Vapi's server messages
	SessionSecret     string        // RINGFENCE_SESSION_SECRET: signs dashboard sessions; derived from the API key if unset
	DirectLimit       int           // RINGFENCE_DIRECT_LIMIT: default concurrent direct calls per account (5)
	CampaignLimit     int           // RINGFENCE_CAMPAIGN_LIMIT: default concurrent campaign calls per account (10)
	StaleAfter        time.Duration // RINGFENCE_STALE_AFTER: a call without news this long is ended (5m)
	DialTimeout       time.Duration // RINGFENCE_DIAL_TIMEOUT: a dialled call without a provider id this long is ended (2m)
	LogLevel          string        // RINGFENCE_LOG_LEVEL: DEBUG, INFO (default), WARN or ERROR
	Function          string        // AWS_LAMBDA_FUNCTION_NAME, set by Lambda; "local" elsewhere
}

// ConfigFromEnv reads the configuration. Only the table is required: a function whose secret is
// unset refuses every request that needs it, rather than failing to start.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{
		Table:             getenv("RINGFENCE_TABLE"),
		DynamoDBEndpoint:  getenv("RINGFENCE_DYNAMODB_ENDPOINT"),
		APIKey:            getenv("RINGFENCE_API_KEY"),
		AccountID:         getenv("RINGFENCE_ACCOUNT_ID"),
		BolnaWebhookToken: getenv("BOLNA_WEBHOOK_TOKEN"),
		BolnaAllowedIPs:   splitList(getenv("BOLNA_ALLOWED_IPS")),
		BolnaAPIURL:       getenv("BOLNA_API_URL"),
		BolnaAPIKey:       getenv("BOLNA_API_KEY"),
		RetellAPIURL:      getenv("RETELL_API_URL"),
		RetellAPIKey:      getenv("RETELL_API_KEY"),
		VapiAPIURL:        getenv("VAPI_API_URL"),
		VapiAPIKey:        getenv("VAPI_API_KEY"),
		VapiWebhookSecret: getenv("VAPI_WEBHOOK_SECRET"),
		SessionSecret:     getenv("RINGFENCE_SESSION_SECRET"),
		LogLevel:          getenv("RINGFENCE_LOG_LEVEL"),
		Function:          getenv("AWS_LAMBDA_FUNCTION_NAME"),
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
	if cfg.AccountID == "" {
		cfg.AccountID = "default"
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
// CloudWatch.
func New(ctx context.Context, getenv func(string) string, stdout io.Writer) (*App, error) {
	cfg, err := ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	awsCfg := dynamo.LocalConfig()
	if cfg.DynamoDBEndpoint == "" {
		if awsCfg, err = config.LoadDefaultConfig(ctx); err != nil {
			return nil, fmt.Errorf("load AWS configuration: %w", err)
		}
	}
	return NewWithAWS(cfg, awsCfg, stdout), nil
}

// NewWithAWS builds the App from a configuration and an AWS configuration the caller made, as
// tests do to add middleware.
func NewWithAWS(cfg Config, awsCfg aws.Config, stdout io.Writer) *App {
	if cfg.SessionSecret == "" && cfg.APIKey != "" {
		// A secret of its own is better; one derived from the deployment's key still changes
		// when the key does, which signs everyone out.
		sum := sha256.Sum256([]byte("ringfence-dashboard-session:" + cfg.APIKey))
		cfg.SessionSecret = hex.EncodeToString(sum[:])
	}
	log := NewLogger(stdout, cfg.LogLevel)
	store := dynamo.NewStore(dynamo.NewClient(awsCfg, cfg.DynamoDBEndpoint), cfg.Table)
	dialers := map[ringfence.Provider]ringfence.Dialer{}
	if cfg.BolnaAPIKey != "" {
		dialers[ringfence.ProviderBolna] = bolna.NewClient(cfg.BolnaAPIURL, cfg.BolnaAPIKey)
	}
	if cfg.RetellAPIKey != "" {
		dialers[ringfence.ProviderRetell] = retell.NewClient(cfg.RetellAPIURL, cfg.RetellAPIKey)
	}
	if cfg.VapiAPIKey != "" {
		dialers[ringfence.ProviderVapi] = vapi.NewClient(cfg.VapiAPIURL, cfg.VapiAPIKey)
	}
	calls := calling.New(store, dialers, calling.Defaults{
		DirectLimit: cfg.DirectLimit, CampaignLimit: cfg.CampaignLimit, StaleAfter: cfg.StaleAfter, DialTimeout: cfg.DialTimeout,
	}, log)
	server := httpapi.NewServer(store, calls, httpapi.Config{
		APIKey: cfg.APIKey, AccountID: cfg.AccountID, BolnaWebhookToken: cfg.BolnaWebhookToken, BolnaAllowedIPs: cfg.BolnaAllowedIPs, RetellAPIKey: cfg.RetellAPIKey,
		VapiWebhookSecret: cfg.VapiWebhookSecret,
		SessionSecret:     cfg.SessionSecret,
		LocalEndpoints:    cfg.DynamoDBEndpoint != "",
	}, log)
	// Every function records its metrics with its logs, named after the Lambda function.
	recorder := metrics.New(stdout, cfg.Function)
	calls.Metrics, server.Metrics = recorder, recorder
	deliverer := outbound.NewDeliverer(store, server.EventBody, log)
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
