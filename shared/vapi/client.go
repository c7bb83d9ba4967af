package vapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/ringfence/ringfence/shared/providerapi"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// DefaultBaseURL is Vapi's API.
const DefaultBaseURL = "https://api.vapi.ai"

// Client places, finds and reports calls through Vapi's API. It satisfies ringfence.Dialer,
// ringfence.Finder and ringfence.Reporter (lookup.go).
type Client struct{ api providerapi.Client }

// NewClient returns a client for Vapi's API at baseURL (DefaultBaseURL when empty).
func NewClient(baseURL, apiKey string) *Client {
	return &Client{api: providerapi.New(baseURL, DefaultBaseURL, apiKey)}
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
	raw, status, err := c.api.Do(ctx, http.MethodPost, "/call", CreateCallRequest{
		AssistantID: req.AgentID, PhoneNumberID: req.FromNumber, Customer: Party{Number: req.ToNumber},
		AssistantOverrides: AssistantOverrides{Metadata: map[string]string{CallIDVariable: req.CallID}, VariableValues: req.Variables},
	})
	if err != nil {
		return "", err
	}
	if status >= 300 {
		return "", providerapi.Refused("Vapi", status, raw, "message", "error")
	}
	var out struct {
		ID string `json:"id"`
		// Set when Vapi's call concurrency limit blocked the call (SubscriptionLimits).
		SubscriptionLimits struct {
			ConcurrencyBlocked bool `json:"concurrencyBlocked"`
		} `json:"subscriptionLimits"`
	}
	err = json.Unmarshal(raw, &out)
	if err == nil && strings.TrimSpace(out.ID) == "" && out.SubscriptionLimits.ConcurrencyBlocked {
		return "", fmt.Errorf("%w: %w: Vapi answered %d with concurrencyBlocked", ringfence.ErrDialRefused, ringfence.ErrProviderBusy, status)
	}
	if err != nil || strings.TrimSpace(out.ID) == "" {
		return "", fmt.Errorf("%w: Vapi answered %d without a call id", ringfence.ErrDialUnknown, status)
	}
	return out.ID, nil
}
