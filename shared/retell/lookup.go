package retell

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ringfence/ringfence/shared/ringfence"
)

// ReportCall asks Retell for one call (GET /v2/get-call/{call_id}) and translates its call object
// into a call event, the way the webhook carrying the same object would. It satisfies
// ringfence.Reporter; a call Retell does not know (404) is ENOTFOUND.
func (c *Client) ReportCall(ctx context.Context, providerCallID string) (ringfence.CallEvent, error) {
	raw, err := c.api.ReadOne(ctx, "Retell", "/v2/get-call/"+url.PathEscape(providerCallID))
	if err != nil {
		return ringfence.CallEvent{}, err
	}
	return ParseCall(raw)
}

// ParseCall translates Retell's call object into a call event. call_status says which webhook the
// object stands for: "registered" a call not connected yet (no new status), "ongoing" a
// call_started, and "ended", "not_connected" or "error" a call_ended, or a call_analyzed once the
// analysis is in, so the outcome, cost, duration and transcript are read exactly as the webhook's.
func ParseCall(body []byte) (ringfence.CallEvent, error) {
	var call Call
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&call); err != nil {
		return ringfence.CallEvent{}, ringfence.Errorf(ringfence.EINVALID, "Retell's answer is not a call object: %s", ringfence.DescribeJSONError(err))
	}
	if strings.TrimSpace(call.CallID) == "" {
		return ringfence.CallEvent{}, ringfence.Errorf(ringfence.EINVALID, "Retell's call object has no call_id")
	}
	event := "call_registered"
	switch call.CallStatus {
	case "ongoing":
		event = EventCallStarted
	case "ended", "not_connected", "error":
		event = EventCallEnded
		if analysis := bytes.TrimSpace(call.CallAnalysis); len(analysis) > 0 && !bytes.Equal(analysis, []byte("null")) {
			event = EventCallAnalyzed
		}
	}
	return Webhook{Event: event, Call: &call}.CallEvent()
}

// listPageSize is how many calls one page of Retell's call list asks for.
const listPageSize = 100

// maxListPages bounds how many pages one search reads.
const maxListPages = 50

// listCallsRequest is the body of Retell's POST /v3/list-calls.
type listCallsRequest struct {
	FilterCriteria listFilter `json:"filter_criteria"`
	Limit          int        `json:"limit"`
	SortOrder      string     `json:"sort_order"`
	PaginationKey  string     `json:"pagination_key,omitempty"`
}

// listFilter filters the list by the call's metadata: ringfence's call id is in it.
type listFilter struct {
	Metadata []stringFilter `json:"metadata"`
}

// stringFilter is one of Retell's string filters.
type stringFilter struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Op    string `json:"op"`
	Value string `json:"value"`
}

// listCallsResponse is Retell's answer to POST /v3/list-calls.
type listCallsResponse struct {
	Items         []Call `json:"items"`
	HasMore       bool   `json:"has_more"`
	PaginationKey string `json:"pagination_key"`
}

// FindCall asks Retell whether the call was placed after all: it lists the calls whose metadata
// carries ringfence's call id, page after page while Retell says there are more. The filter does
// the search; the id is still checked on each call returned. It returns ENOTFOUND when Retell has
// no such call. since is not used: the metadata names the call exactly, and a call not connected
// yet may have no start time to filter on.
func (c *Client) FindCall(ctx context.Context, req ringfence.DialRequest, since time.Time) (string, error) {
	body := listCallsRequest{
		FilterCriteria: listFilter{Metadata: []stringFilter{{Key: CallIDVariable, Type: "string", Op: "eq", Value: req.CallID}}},
		Limit:          listPageSize, SortOrder: "descending",
	}
	for range maxListPages {
		raw, err := c.api.Read(ctx, "Retell", http.MethodPost, "/v3/list-calls", body)
		if err != nil {
			return "", err
		}
		var page listCallsResponse
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&page); err != nil {
			return "", fmt.Errorf("Retell's call list cannot be read: %w", err)
		}
		for _, call := range page.Items {
			if id, _ := call.Metadata[CallIDVariable].(string); id == req.CallID && call.CallID != "" {
				return call.CallID, nil
			}
		}
		if !page.HasMore || page.PaginationKey == "" || page.PaginationKey == body.PaginationKey {
			return "", ringfence.Errorf(ringfence.ENOTFOUND, "Retell has no call %s", req.CallID)
		}
		body.PaginationKey = page.PaginationKey
	}
	return "", fmt.Errorf("Retell's call list for %s runs past %d pages", req.CallID, maxListPages)
}
