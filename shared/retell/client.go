package retell

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/ringfence/ringfence/shared/providerapi"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// DefaultBaseURL is Retell's API.
const DefaultBaseURL = "https://api.retellai.com"

// Client places calls through Retell's API. It satisfies ringfence.Dialer.
type Client struct{ api providerapi.Client }

// NewClient returns a client for Retell's API at baseURL (DefaultBaseURL when empty).
func NewClient(baseURL, apiKey string) *Client {
	return &Client{api: providerapi.New(baseURL, DefaultBaseURL, apiKey)}
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
	raw, status, err := c.api.Do(ctx, http.MethodPost, "/v2/create-phone-call", CreatePhoneCallRequest{
		FromNumber: req.FromNumber, ToNumber: req.ToNumber, OverrideAgentID: req.AgentID,
		Metadata: map[string]string{CallIDVariable: req.CallID}, RetellLLMDynamicVariables: req.Variables,
	})
	if err != nil {
		return "", err
	}
	if status >= 300 {
		return "", providerapi.Refused("Retell", status, raw, "error_message", "message", "error")
	}
	var out struct {
		CallID string `json:"call_id"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || strings.TrimSpace(out.CallID) == "" {
		return "", fmt.Errorf("%w: Retell answered %d without a call_id", ringfence.ErrDialUnknown, status)
	}
	return out.CallID, nil
}
