package vapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ringfence/ringfence/shared/ringfence"
)

// DefaultBaseURL is Vapi's API.
const DefaultBaseURL = "https://api.vapi.ai"

// Client places and finds calls through Vapi's API. It satisfies ringfence.Dialer and
// ringfence.Finder.
type Client struct {
	BaseURL string
	APIKey  string
	HTTP    *http.Client
}

// NewClient returns a client with a 10-second timeout.
func NewClient(baseURL, apiKey string) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	return &Client{BaseURL: strings.TrimSuffix(baseURL, "/"), APIKey: apiKey, HTTP: &http.Client{Timeout: 10 * time.Second}}
}

// CreateCallRequest is the body of Vapi's POST /call for an outbound phone call.
type CreateCallRequest struct {
	AssistantID        string             `json:"assistantId"`
	PhoneNumberID      string             `json:"phoneNumberId"`
	Customer           Party              `json:"customer"`
	AssistantOverrides AssistantOverrides `json:"assistantOverrides"`
}

// AssistantOverrides carries ringfence's call id (metadata) and the agent's variables.
type AssistantOverrides struct {
	Metadata       map[string]string `json:"metadata,omitempty"`
	VariableValues map[string]string `json:"variableValues,omitempty"`
}

// Dial places the call. The from number is the Vapi phone number's id (phoneNumberId).
func (c *Client) Dial(ctx context.Context, req ringfence.DialRequest) (string, error) {
	body, err := json.Marshal(CreateCallRequest{
		AssistantID: req.AgentID, PhoneNumberID: req.FromNumber, Customer: Party{Number: req.ToNumber},
		AssistantOverrides: AssistantOverrides{Metadata: map[string]string{CallIDVariable: req.CallID}, VariableValues: req.Variables},
	})
	if err != nil {
		return "", fmt.Errorf("%w: %v", ringfence.ErrDialRefused, err)
	}
	raw, status, err := c.do(ctx, http.MethodPost, "/call", body)
	if err != nil {
		return "", err
	}
	if status >= 300 {
		return "", fmt.Errorf("%w: Vapi answered %d: %s", ringfence.ErrDialRefused, status, errorMessage(raw))
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || strings.TrimSpace(out.ID) == "" {
		return "", fmt.Errorf("%w: Vapi answered %d without a call id", ringfence.ErrDialUnknown, status)
	}
	return out.ID, nil
}

// FindCall asks Vapi whether the call was placed after all: it lists the calls created since
// `since` from the same phone number and looks for ringfence's call id in their metadata. It
// returns ENOTFOUND when Vapi has no such call.
func (c *Client) FindCall(ctx context.Context, req ringfence.DialRequest, since time.Time) (string, error) {
	q := url.Values{"phoneNumberId": {req.FromNumber}, "createdAtGt": {since.UTC().Format(time.RFC3339Nano)}, "limit": {"100"}}
	raw, status, err := c.do(ctx, http.MethodGet, "/call?"+q.Encode(), nil)
	if err != nil {
		return "", err
	}
	if status >= 300 {
		return "", fmt.Errorf("Vapi answered %d to the call list: %s", status, errorMessage(raw))
	}
	var calls []Call
	if err := json.Unmarshal(raw, &calls); err != nil {
		return "", fmt.Errorf("Vapi's call list is not a list of calls: %w", err)
	}
	for _, call := range calls {
		if call.CallID() == req.CallID {
			return call.ID, nil
		}
	}
	return "", ringfence.Errorf(ringfence.ENOTFOUND, "Vapi has no call %s", req.CallID)
}

func (c *Client) do(ctx context.Context, method, path string, body []byte) ([]byte, int, error) {
	httpReq, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, bytes.NewReader(body))
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ringfence.ErrDialRefused, err)
	}
	httpReq.Header.Set("Authorization", "Bearer "+c.APIKey)
	httpReq.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(httpReq)
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

func errorMessage(raw []byte) string {
	var body map[string]any
	if json.Unmarshal(raw, &body) == nil {
		for _, k := range []string{"message", "error"} {
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
