package bolna

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

// DefaultBaseURL is Bolna's API.
const DefaultBaseURL = "https://api.bolna.ai"

// Client places calls through Bolna's API. It satisfies ringfence.Dialer.
type Client struct {
	BaseURL string
	APIKey  string
	HTTP    *http.Client
}

// NewClient returns a client with a 10-second timeout, which bounds how long a dial may hold a
// Lambda before its outcome counts as unknown.
func NewClient(baseURL, apiKey string) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	return &Client{BaseURL: strings.TrimSuffix(baseURL, "/"), APIKey: apiKey, HTTP: &http.Client{Timeout: 10 * time.Second}}
}

// CallRequest is the body of Bolna's POST /call.
type CallRequest struct {
	AgentID              string         `json:"agent_id"`
	RecipientPhoneNumber string         `json:"recipient_phone_number"`
	FromPhoneNumber      string         `json:"from_phone_number,omitempty"`
	UserData             map[string]any `json:"user_data,omitempty"`
}

// CallResponse is Bolna's answer to POST /call.
type CallResponse struct {
	Message     string `json:"message"`
	Status      string `json:"status"`
	ExecutionID string `json:"execution_id"`
}

// Dial places the call. ringfence's call id travels in user_data, which Bolna echoes in every
// execution webhook under context_details.recipient_data.
func (c *Client) Dial(ctx context.Context, req ringfence.DialRequest) (string, error) {
	userData := map[string]any{CallIDVariable: req.CallID}
	for k, v := range req.Variables {
		if k != CallIDVariable {
			userData[k] = v
		}
	}
	body, err := json.Marshal(CallRequest{AgentID: req.AgentID, RecipientPhoneNumber: req.ToNumber, FromPhoneNumber: req.FromNumber, UserData: userData})
	if err != nil {
		return "", fmt.Errorf("%w: %v", ringfence.ErrDialRefused, err)
	}
	httpReq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+"/call", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ringfence.ErrDialRefused, err)
	}
	httpReq.Header.Set("Authorization", "Bearer "+c.APIKey)
	httpReq.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(httpReq)
	if err != nil {
		var opErr *net.OpError
		if errors.As(err, &opErr) && opErr.Op == "dial" {
			// The connection was never made, so Bolna never saw the request.
			return "", fmt.Errorf("%w: %v", ringfence.ErrDialRefused, err)
		}
		return "", fmt.Errorf("%w: %v", ringfence.ErrDialUnknown, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 300 {
		return "", fmt.Errorf("%w: Bolna answered %d: %s", ringfence.ErrDialRefused, resp.StatusCode, errorMessage(raw))
	}
	var out CallResponse
	if err := json.Unmarshal(raw, &out); err != nil || strings.TrimSpace(out.ExecutionID) == "" {
		// Bolna accepted something but did not say which execution: the call may exist.
		return "", fmt.Errorf("%w: Bolna answered %d without an execution_id", ringfence.ErrDialUnknown, resp.StatusCode)
	}
	return out.ExecutionID, nil
}

// errorMessage reads Bolna's error bodies, which name the problem under "message", "detail" or
// "error" depending on the endpoint.
func errorMessage(raw []byte) string {
	var body map[string]any
	if json.Unmarshal(raw, &body) == nil {
		for _, k := range []string{"message", "detail", "error"} {
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
