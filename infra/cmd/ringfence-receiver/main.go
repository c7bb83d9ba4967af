// Command ringfence-receiver is a local stand-in for the business's own system: it registers
// itself as an endpoint of the local ringfence (or takes the secret of one registered already),
// then logs every event whose Standard Webhooks signature it verified, and refuses the others.
//
//	go run ./infra/cmd/ringfence-receiver                     register with http://127.0.0.1:3000, listen on 127.0.0.1:4000
//	go run ./infra/cmd/ringfence-receiver -secret whsec_...   listen only, for an endpoint created by hand
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/ringfence/ringfence/shared/outbound"
	"github.com/ringfence/ringfence/shared/ringfence"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ringfence-receiver:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	flags := flag.NewFlagSet("ringfence-receiver", flag.ContinueOnError)
	addr := flags.String("addr", "127.0.0.1:4000", "address to listen on (a loopback address: ringfence accepts plain http only there)")
	api := flags.String("api", "http://127.0.0.1:3000", "the local ringfence API to register with")
	secret := flags.String("secret", "", "the endpoint's secret, when it is registered already; otherwise the receiver registers itself")
	types := flags.String("events", strings.Join(ringfence.EventTypes, ","), "comma-separated event types to receive")
	if err := flags.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	url := "http://" + ln.Addr().String() + "/events"
	if *secret == "" {
		key := getenv("RINGFENCE_API_KEY")
		if key == "" {
			key = "local-dev-api-key-0123456789" // make run's development key.
		}
		id, s, err := register(ctx, *api, key, url, strings.Split(*types, ","))
		if err != nil {
			return fmt.Errorf("register with %s (is `make run` running?): %w", *api, err)
		}
		*secret = s
		fmt.Fprintf(stdout, "registered endpoint %s -> %s\n", id, url)
	}
	fmt.Fprintf(stdout, "listening on %s; events whose signature verifies are logged below\n", url)
	srv := &http.Server{Handler: handler(*secret, stdout, time.Now), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// register creates an endpoint through POST /endpoints and returns its id and secret.
func register(ctx context.Context, api, key, url string, types []string) (string, string, error) {
	body, _ := json.Marshal(map[string]any{"url": url, "events": types, "description": "ringfence-receiver"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, api+"/endpoints", bytes.NewReader(body))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return "", "", fmt.Errorf("POST /endpoints answered %s: %s", resp.Status, raw)
	}
	var out struct{ ID, Secret string }
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", "", err
	}
	return out.ID, out.Secret, nil
}

// handler verifies each request and logs the events that pass; a request that fails is refused
// with 401, which ringfence retries, so a wrong secret shows as failing deliveries.
func handler(secret string, stdout io.Writer, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		if err := outbound.Verify(secret, r.Header, body, now()); err != nil {
			fmt.Fprintf(stdout, "REFUSED %s: %v\n", r.Header.Get(outbound.HeaderID), err)
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var ev struct {
			Type      string          `json:"type"`
			Timestamp string          `json:"timestamp"`
			Data      json.RawMessage `json:"data"`
		}
		_ = json.Unmarshal(body, &ev)
		fmt.Fprintf(stdout, "verified %s %s at %s: %s\n", r.Header.Get(outbound.HeaderID), ev.Type, ev.Timestamp, ev.Data)
		w.WriteHeader(http.StatusNoContent)
	})
}
