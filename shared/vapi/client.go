package vapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ringfence/ringfence/shared/providerapi"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// DefaultBaseURL is Vapi's API.
const DefaultBaseURL = "https://api.vapi.ai"

// Client places and finds calls through Vapi's API. It satisfies ringfence.Dialer and
// ringfence.Finder.
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

// FindCall asks Vapi whether the call was placed after all: it lists the calls created since
// `since` from the same phone number and looks for ringfence's call id in their metadata. It
// returns ENOTFOUND when Vapi has no such call.
func (c *Client) FindCall(ctx context.Context, req ringfence.DialRequest, since time.Time) (string, error) {
	q := url.Values{"phoneNumberId": {req.FromNumber}, "createdAtGt": {since.UTC().Format(time.RFC3339Nano)}, "limit": {"100"}}
	raw, status, err := c.api.Do(ctx, http.MethodGet, "/call?"+q.Encode(), nil)
	if err != nil {
		return "", err
	}
	if status >= 300 {
		return "", fmt.Errorf("Vapi answered %d to the call list: %s", status, strings.TrimSpace(string(raw[:min(len(raw), 200)])))
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
