package vapi

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

// ReportCall asks Vapi for one call (GET /call/{id}) and translates its call object into a call
// event, the way the server messages about it would: a live call gives its status, an ended call
// its outcome from endedReason, with its cost, duration, transcript and analysis. It satisfies
// ringfence.Reporter; a call Vapi does not know (404) is ENOTFOUND.
func (c *Client) ReportCall(ctx context.Context, providerCallID string) (ringfence.CallEvent, error) {
	raw, err := c.api.ReadOne(ctx, "Vapi", "/call/"+url.PathEscape(providerCallID))
	if err != nil {
		return ringfence.CallEvent{}, err
	}
	return ParseCall(raw)
}

// callReport is the part of Vapi's call object (GET /call/{id}) that says how the call stands.
type callReport struct {
	ID          string          `json:"id"`
	Status      string          `json:"status"`
	EndedReason string          `json:"endedReason"`
	Cost        json.RawMessage `json:"cost"`
	StartedAt   string          `json:"startedAt"`
	EndedAt     string          `json:"endedAt"`
	Artifact    json.RawMessage `json:"artifact"`
	Analysis    json.RawMessage `json:"analysis"`
}

// ParseCall translates Vapi's call object into a call event. The object is read as the server
// message Vapi would send about it (a status update while the call is live, the end-of-call
// report once it ended), so a call reads the same whether it was reported or asked for.
//
// An ended call's report is versioned just below the end-of-call report for the same end, so the
// provider's own report, should it still arrive, replaces data read while Vapi was settling it.
func ParseCall(body []byte) (ringfence.CallEvent, error) {
	var call callReport
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&call); err != nil {
		return ringfence.CallEvent{}, ringfence.Errorf(ringfence.EINVALID, "Vapi's answer is not a call object: %s", ringfence.DescribeJSONError(err))
	}
	if strings.TrimSpace(call.ID) == "" {
		return ringfence.CallEvent{}, ringfence.Errorf(ringfence.EINVALID, "Vapi's call object has no id")
	}
	msg := map[string]any{"call": json.RawMessage(body), "status": call.Status, "endedReason": call.EndedReason, "type": TypeStatusUpdate}
	if call.Status == "ended" {
		msg["type"], msg["startedAt"], msg["endedAt"] = TypeEndOfCallReport, call.StartedAt, call.EndedAt
		for name, raw := range map[string]json.RawMessage{"cost": call.Cost, "artifact": call.Artifact, "analysis": call.Analysis} {
			if len(raw) > 0 {
				msg[name] = raw
			}
		}
	}
	b, err := json.Marshal(map[string]any{"message": msg})
	if err != nil {
		return ringfence.CallEvent{}, ringfence.Errorf(ringfence.EINVALID, "Vapi's call object cannot be read: %v", err)
	}
	m, err := ParseMessage(b)
	if err != nil {
		return ringfence.CallEvent{}, err
	}
	ev, err := m.Event()
	if err != nil {
		return ev, err
	}
	if ev.Status.IsTerminal() && ev.Version != "" {
		ev.Version = ev.Version[:strings.LastIndexByte(ev.Version, '|')+1] + "0"
	}
	return ev, nil
}

// listLimit is how many calls one page of Vapi's call list asks for (Vapi's default).
const listLimit = 100

// maxListPages bounds how many pages one search reads: a search that would need more gives up
// with an error rather than hold the sweep.
const maxListPages = 50

// listedCall is one call of Vapi's call list: the call object and when it was created.
type listedCall struct {
	Call
	createdAt time.Time
}

// UnmarshalJSON reads the call object and its creation time. Call has its own UnmarshalJSON,
// which an embedding struct would otherwise inherit, leaving createdAt unread; the time is read
// as leniently as any Vapi timestamp, and a value that cannot be read is the zero time.
func (c *listedCall) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &c.Call); err != nil {
		return err
	}
	var created struct {
		CreatedAt Time `json:"createdAt"`
	}
	if json.Unmarshal(b, &created) == nil {
		c.createdAt = created.CreatedAt.Time
	}
	return nil
}

// created is when the call was created; the zero time when Vapi's value cannot be read.
func (c listedCall) created() time.Time { return c.createdAt }

// window is a range of creation times to list, each bound inclusive (zero: unbounded).
type window struct{ from, to time.Time }

// FindCall asks Vapi whether the call was placed after all: it lists the calls created since
// `since` from the same phone number and looks for ringfence's call id in their metadata. Vapi's
// list takes creation-time filters and a limit but no cursor, and does not document its order:
// a full page covers one end of its window, so the search goes on on both sides of the page,
// until a page is not full. It returns ENOTFOUND when Vapi has no such call.
func (c *Client) FindCall(ctx context.Context, req ringfence.DialRequest, since time.Time) (string, error) {
	windows := []window{{from: since}}
	seen := map[string]bool{}
	for pages := 0; len(windows) > 0; pages++ {
		if pages == maxListPages {
			return "", fmt.Errorf("Vapi's call list from %s holds more calls than one search reads (%d pages)", since.UTC().Format(time.RFC3339), maxListPages)
		}
		w := windows[len(windows)-1]
		windows = windows[:len(windows)-1]
		calls, err := c.listCalls(ctx, req.FromNumber, w)
		if err != nil {
			return "", err
		}
		fresh := 0
		var oldest, newest time.Time
		for _, call := range calls {
			if call.CallID() == req.CallID {
				return call.ID, nil
			}
			if !seen[call.ID] {
				seen[call.ID] = true
				fresh++
			}
			if created := call.created(); !created.IsZero() {
				if oldest.IsZero() || created.Before(oldest) {
					oldest = created
				}
				newest = maxTime(newest, created)
			}
		}
		if len(calls) < listLimit || fresh == 0 {
			continue
		}
		if oldest.IsZero() {
			// Not finding the call is not the same as Vapi not having it: say so.
			return "", fmt.Errorf("Vapi's call list gives no creation times to page by")
		}
		windows = append(windows, window{from: w.from, to: oldest}, window{from: newest, to: w.to})
	}
	return "", ringfence.Errorf(ringfence.ENOTFOUND, "Vapi has no call %s", req.CallID)
}

// listCalls reads one page of Vapi's call list (GET /call).
func (c *Client) listCalls(ctx context.Context, phoneNumberID string, w window) ([]listedCall, error) {
	q := url.Values{"limit": {fmt.Sprint(listLimit)}}
	if phoneNumberID != "" {
		q.Set("phoneNumberId", phoneNumberID)
	}
	if !w.from.IsZero() {
		q.Set("createdAtGe", w.from.UTC().Format(time.RFC3339Nano))
	}
	if !w.to.IsZero() {
		q.Set("createdAtLe", w.to.UTC().Format(time.RFC3339Nano))
	}
	raw, err := c.api.Read(ctx, "Vapi", http.MethodGet, "/call?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	var calls []listedCall
	if err := json.Unmarshal(raw, &calls); err != nil {
		return nil, fmt.Errorf("Vapi's call list is not a list of calls: %w", err)
	}
	return calls, nil
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
