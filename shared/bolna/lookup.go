package bolna

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ringfence/ringfence/shared/ringfence"
)

// ReportCall asks Bolna for one execution (GET /executions/{execution_id}) and translates it into a
// call event exactly as the execution webhook carrying the same object would be. It satisfies
// ringfence.Reporter; an execution Bolna does not know (404) is ENOTFOUND.
func (c *Client) ReportCall(ctx context.Context, providerCallID string) (ringfence.CallEvent, error) {
	raw, err := c.api.ReadOne(ctx, "Bolna", "/executions/"+url.PathEscape(providerCallID))
	if err != nil {
		return ringfence.CallEvent{}, err
	}
	return ParseExecution(raw)
}

// ParseExecution translates the execution object Bolna's API returns into a call event. Bolna's
// API reference names the conversation's length conversation_time where its webhook says
// conversation_duration; either is read, so a completed call that was answered is completed.
func ParseExecution(body []byte) (ringfence.CallEvent, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return ringfence.CallEvent{}, ringfence.Errorf(ringfence.EINVALID, "Bolna's answer is not an execution object")
	}
	if _, ok := fields["conversation_duration"]; !ok {
		if t, ok := fields["conversation_time"]; ok {
			fields["conversation_duration"] = t
			b, err := json.Marshal(fields)
			if err != nil {
				return ringfence.CallEvent{}, ringfence.Errorf(ringfence.EINVALID, "Bolna's execution cannot be read: %v", err)
			}
			body = b
		}
	}
	_, ev, err := ParseWebhookExecution(body)
	return ev, err
}

// executionsPageSize is Bolna's largest page of executions.
const executionsPageSize = 50

// maxListPages bounds how many pages one search reads.
const maxListPages = 100

// executionsPage is one page of Bolna's GET /v2/agent/{agent_id}/executions.
type executionsPage struct {
	HasMore bool        `json:"has_more"`
	Data    []Execution `json:"data"`
}

// FindCall asks Bolna whether the call was placed after all: it lists the agent's executions
// created since `since`, page after page while Bolna says there are more, and looks for
// ringfence's call id in each one's context_details.recipient_data (the call's user_data). It
// returns ENOTFOUND when Bolna has no such execution.
func (c *Client) FindCall(ctx context.Context, req ringfence.DialRequest, since time.Time) (string, error) {
	for page := 1; page <= maxListPages; page++ {
		q := url.Values{
			"page_number": {fmt.Sprint(page)}, "page_size": {fmt.Sprint(executionsPageSize)},
			"from": {since.UTC().Format("2006-01-02T15:04:05.000Z")},
		}
		raw, err := c.api.Read(ctx, "Bolna", http.MethodGet, "/v2/agent/"+url.PathEscape(req.AgentID)+"/executions?"+q.Encode(), nil)
		if err != nil {
			return "", err
		}
		var p executionsPage
		if err := json.Unmarshal(raw, &p); err != nil {
			return "", fmt.Errorf("Bolna's executions list cannot be read: %w", err)
		}
		for _, ex := range p.Data {
			if ex.ContextDetails == nil {
				continue
			}
			if ex.ContextDetails.RecipientData.CallID == req.CallID && strings.TrimSpace(string(ex.ID)) != "" {
				return strings.TrimSpace(string(ex.ID)), nil
			}
		}
		if !p.HasMore || len(p.Data) == 0 {
			return "", ringfence.Errorf(ringfence.ENOTFOUND, "Bolna has no execution for call %s", req.CallID)
		}
	}
	return "", fmt.Errorf("Bolna's executions since %s run past %d pages", since.UTC().Format(time.RFC3339), maxListPages)
}
