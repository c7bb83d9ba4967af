package retell

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

// DefaultBaseURL is Retell's API.
const DefaultBaseURL = "https://api.retellai.com"

// Client places calls through Retell's API. It satisfies ringfence.Dialer.
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

// CreatePhoneCallRequest is the body of Retell's POST /v2/create-phone-call.
type CreatePhoneCallRequest struct {
	FromNumber                string            `json:"from_number"`
	ToNumber                  string            `json:"to_number"`
	OverrideAgentID           string            `json:"override_agent_id,omitempty"`
	Metadata                  map[string]string `json:"metadata,omitempty"`
	RetellLLMDynamicVariables map[string]string `json:"retell_llm_dynamic_variables,omitempty"`
}

// Dial places the call; ringfence's call id travels in the call's metadata.
func (c *Client) Dial(ctx context.Context, req ringfence.DialRequest) (string, error) {
	body, err := json.Marshal(CreatePhoneCallRequest{
		FromNumber: req.FromNumber, ToNumber: req.ToNumber, OverrideAgentID: req.AgentID,
		Metadata: map[string]string{CallIDVariable: req.CallID}, RetellLLMDynamicVariables: req.Variables,
	})
	if err != nil {
		return "", fmt.Errorf("%w: %v", ringfence.ErrDialRefused, err)
	}
	httpReq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+"/v2/create-phone-call", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ringfence.ErrDialRefused, err)
	}
	httpReq.Header.Set("Authorization", "Bearer "+c.APIKey)
	httpReq.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(httpReq)
	if err != nil {
		var opErr *net.OpError
		if errors.As(err, &opErr) && opErr.Op == "dial" {
			return "", fmt.Errorf("%w: %v", ringfence.ErrDialRefused, err)
		}
		return "", fmt.Errorf("%w: %v", ringfence.ErrDialUnknown, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 300 {
		return "", fmt.Errorf("%w: Retell answered %d: %s", ringfence.ErrDialRefused, resp.StatusCode, errorMessage(raw))
	}
	var out struct {
		CallID string `json:"call_id"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || strings.TrimSpace(out.CallID) == "" {
		return "", fmt.Errorf("%w: Retell answered %d without a call_id", ringfence.ErrDialUnknown, resp.StatusCode)
	}
	return out.CallID, nil
}

func errorMessage(raw []byte) string {
	var body map[string]any
	if json.Unmarshal(raw, &body) == nil {
		for _, k := range []string{"error_message", "message", "error"} {
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
