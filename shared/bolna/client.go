package bolna

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/ringfence/ringfence/shared/providerapi"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// DefaultBaseURL is Bolna's API.
const DefaultBaseURL = "https://api.bolna.ai"

// Client places calls through Bolna's API. It satisfies ringfence.Dialer.
type Client struct{ api providerapi.Client }

// NewClient returns a client for Bolna's API at baseURL (DefaultBaseURL when empty).
func NewClient(baseURL, apiKey string) *Client {
	return &Client{api: providerapi.New(baseURL, DefaultBaseURL, apiKey)}
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
	raw, status, err := c.api.Do(ctx, http.MethodPost, "/call", CallRequest{
		AgentID: req.AgentID, RecipientPhoneNumber: req.ToNumber, FromPhoneNumber: req.FromNumber, UserData: userData,
	})
	if err != nil {
		return "", err
	}
	if status >= 300 {
		// Bolna's error bodies name the problem under "message", "detail" or "error".
		return "", providerapi.Refused("Bolna", status, raw, "message", "detail", "error")
	}
	var out CallResponse
	if err := json.Unmarshal(raw, &out); err != nil || strings.TrimSpace(out.ExecutionID) == "" {
		// Bolna accepted something but did not say which execution: the call may exist.
		return "", fmt.Errorf("%w: Bolna answered %d without an execution_id", ringfence.ErrDialUnknown, status)
	}
	return out.ExecutionID, nil
}
