// Package app wires ringfence together from the environment: configuration, the AWS client, the
// store and the handlers. Every function's main and the local runner build the same App, so the
// code that runs on Lambda is the code that runs locally.
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/httpapi"
)

// Config is everything the functions read from their environment.
type Config struct {
	Table             string // RINGFENCE_TABLE
	DynamoDBEndpoint  string // RINGFENCE_DYNAMODB_ENDPOINT: DynamoDB Local's URL; empty on AWS.
	APIKey            string // RINGFENCE_API_KEY
	AccountID         string // RINGFENCE_ACCOUNT_ID, default "default"
	BolnaWebhookToken string // BOLNA_WEBHOOK_TOKEN
	LogLevel          string // RINGFENCE_LOG_LEVEL: DEBUG, INFO (default), WARN or ERROR
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
		LogLevel:          getenv("RINGFENCE_LOG_LEVEL"),
	}
	if cfg.Table == "" {
		return cfg, fmt.Errorf("RINGFENCE_TABLE is not set")
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "default"
	}
	return cfg, nil
}

// App is the wired backend.
type App struct {
	Config Config
	Store  *dynamo.Store
	HTTP   *httpapi.Server
	Log    *slog.Logger
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
	log := NewLogger(stdout, cfg.LogLevel)
	store := dynamo.NewStore(dynamo.NewClient(awsCfg, cfg.DynamoDBEndpoint), cfg.Table)
	server := httpapi.NewServer(store, httpapi.Config{
		APIKey: cfg.APIKey, AccountID: cfg.AccountID, BolnaWebhookToken: cfg.BolnaWebhookToken,
	}, log)
	return &App{Config: cfg, Store: store, HTTP: server, Log: log}
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
	return out
}
