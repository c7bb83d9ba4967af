// Package providerapi is the HTTP plumbing the provider adapters share: a JSON request with the
// provider's bearer key, and what a failure means for a dial: refused (the provider said no, or
// never got the request) or unknown (the request may have been carried out).
package providerapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/ringfence/ringfence/shared/ringfence"
)

// Client calls one provider's API.
type Client struct {
	BaseURL string
	APIKey  string
	HTTP    *http.Client
}

// New returns a client for baseURL (defaultURL when empty) with a 10-second timeout, which
// bounds how long a dial may hold a Lambda before its outcome counts as unknown.
func New(baseURL, defaultURL, apiKey string) Client {
	if baseURL == "" {
		baseURL = defaultURL
	}
	return Client{BaseURL: strings.TrimSuffix(baseURL, "/"), APIKey: apiKey, HTTP: &http.Client{Timeout: 10 * time.Second}}
}

// Do sends a request (with a JSON body unless body is nil) and returns the response's body and
// status. A failure to connect wraps ringfence.ErrDialRefused: the provider never saw the
// request. Any later failure (a timeout, a dropped connection) wraps ringfence.ErrDialUnknown.
func (c Client) Do(ctx context.Context, method, path string, body any) ([]byte, int, error) {
	var reader io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, 0, fmt.Errorf("%w: %v", ringfence.ErrDialRefused, err)
		}
		reader = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, reader)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ringfence.ErrDialRefused, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.APIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		var opErr *net.OpError
		if errors.As(err, &opErr) && opErr.Op == "dial" {
			return nil, 0, fmt.Errorf("%w: %v", ringfence.ErrDialRefused, err)
		}
		return nil, 0, fmt.Errorf("%w: %v", ringfence.ErrDialUnknown, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return raw, resp.StatusCode, nil
}

// Refused is the error for a provider's refusal: its status and what its body says under the
// first of keys present (providers name the message differently).
//
// A 429 (Too Many Requests) is the provider's rate or concurrency limit, which the official SDKs
// name apart (the Retell SDK's RateLimitError, retell-sdk core/error.d.ts): it also wraps
// ringfence.ErrProviderBusy, so the call waits and is dialled again instead of failing.
func Refused(provider string, status int, raw []byte, keys ...string) error {
	if status == http.StatusTooManyRequests {
		return fmt.Errorf("%w: %w: %s answered %d: %s", ringfence.ErrDialRefused, ringfence.ErrProviderBusy, provider, status, errorMessage(raw, keys))
	}
	return fmt.Errorf("%w: %s answered %d: %s", ringfence.ErrDialRefused, provider, status, errorMessage(raw, keys))
}

func errorMessage(raw []byte, keys []string) string {
	var body map[string]any
	if json.Unmarshal(raw, &body) == nil {
		for _, k := range keys {
			if v, ok := body[k]; ok && v != nil {
				return fmt.Sprint(v)
			}
		}
	}
	if len(raw) > 200 {
		raw = raw[:200]
	}
	return string(raw)
}

// Read sends a request whose answer ringfence only reads (one call, a page of a list) and returns
// the answer's body. No answer, or a status of 300 or more, is an error that quotes the start of
// the answer: ringfence then knows nothing about what it asked, and concludes nothing.
func (c Client) Read(ctx context.Context, provider, method, path string, body any) ([]byte, error) {
	raw, status, err := c.Do(ctx, method, path, body)
	if err != nil {
		return nil, fmt.Errorf("ask %s (%s %s): %w", provider, method, path, err)
	}
	if status >= 300 {
		return nil, &StatusError{Provider: provider, Request: method + " " + path, Status: status, Body: snippet(raw)}
	}
	return raw, nil
}

// ReadOne is Read for a request that names one thing (GET /call/{id}): a 404 is ENOTFOUND, the
// provider's own word that it has no such thing. Lists never use it, since a list's 404 says
// nothing about any call.
func (c Client) ReadOne(ctx context.Context, provider, path string) ([]byte, error) {
	raw, err := c.Read(ctx, provider, http.MethodGet, path, nil)
	var status *StatusError
	if errors.As(err, &status) && status.Status == http.StatusNotFound {
		return nil, ringfence.Errorf(ringfence.ENOTFOUND, "%s has no %s", provider, path)
	}
	return raw, err
}

// StatusError is a provider's answer of 300 or more to a request ringfence only reads.
type StatusError struct {
	Provider, Request string
	Status            int
	Body              string // The start of the answer.
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s answered %d to %s: %s", e.Provider, e.Status, e.Request, e.Body)
}

// snippet is the start of a provider's answer, for an error message.
func snippet(raw []byte) string {
	return strings.TrimSpace(string(raw[:min(len(raw), 200)]))
}
