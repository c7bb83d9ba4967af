package retell_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/ringfence/ringfence/infra/testio"
	"github.com/ringfence/ringfence/shared/retell"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// MustServe serves handler as Retell's API and returns a client of it.
func MustServe(tb testing.TB, handler http.HandlerFunc) *retell.Client {
	tb.Helper()
	return retell.NewClient(testio.ServeAPI(tb, handler), "key")
}

// get-call reads as the webhook carrying the same call object would: an ended call with its
// outcome, cost in USD, duration and transcript; an ongoing call as in progress; an unknown call
// as not found; any other failure as an error that is not "not found".
func TestReportCall(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   []byte
		want   ringfence.CallStatus
		cost   string
		code   string
	}{
		{name: "ended", status: 200, body: testio.MustReadFixture(t, "get-call-ended.json"), want: ringfence.StatusCompleted, cost: "0.7"},
		{name: "ongoing", status: 200, body: testio.MustReadFixture(t, "get-call-ongoing.json"), want: ringfence.StatusInProgress},
		{name: "unknown", status: 404, body: []byte(`{"status":"error","message":"Not Found"}`), code: ringfence.ENOTFOUND},
		{name: "outage", status: 500, body: []byte(`{"status":"error","message":"Internal Server Error"}`), code: ringfence.EINTERNAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var path string
			c := MustServe(t, testio.Answer(tc.status, tc.body, &path))
			ev, err := c.ReportCall(context.Background(), "Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6")
			if path != "GET /v2/get-call/Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6" {
				t.Fatalf("request=%q, want GET /v2/get-call/{call_id}", path)
			}
			if got := ringfence.ErrorCode(err); got != tc.code {
				t.Fatalf("error code=%q (%v), want %q", got, err, tc.code)
			}
			if err != nil {
				return
			}
			if ev.Status != tc.want || ev.CallID != "call_0123456789abcdef01234567" {
				t.Fatalf("event=%+v, want status %s with ringfence's id", ev, tc.want)
			}
			if tc.cost != "" && (ev.Cost.String() != tc.cost || ev.Duration.String() != "15.791" || ev.Transcript == "" || ev.ExtractedData == "") {
				t.Fatalf("report cost=%s duration=%s transcript=%q analysis=%q, want %s", ev.Cost, ev.Duration, ev.Transcript, ev.ExtractedData, tc.cost)
			}
		})
	}
}

// A lost dial is looked up by its metadata, page after page: Retell's list is filtered on
// ringfence's call id and followed through pagination_key until has_more is false.
func TestFindCallPagesThroughTheList(t *testing.T) {
	page := testio.MustReadFixture(t, "list-calls-page.json")
	for _, tc := range []struct {
		name      string
		pages     int // The call is on this page (0: on none).
		wantCalls int
	}{{"first page", 1, 1}, {"third page", 3, 3}, {"never placed", 0, 4}} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			c := MustServe(t, func(w http.ResponseWriter, r *http.Request) {
				calls++
				var req map[string]any
				b, _ := io.ReadAll(r.Body)
				json.Unmarshal(b, &req)
				filter, _ := json.Marshal(req["filter_criteria"])
				if r.Method != http.MethodPost || r.URL.Path != "/v3/list-calls" || string(filter) != `{"metadata":[{"key":"ringfence_call_id","op":"eq","type":"string","value":"call_0123456789abcdef01234567"}]}` {
					t.Errorf("request %s %s %s, want POST /v3/list-calls filtered on the metadata", r.Method, r.URL.Path, filter)
				}
				if want := fmt.Sprintf("key-%d", calls-1); calls > 1 && req["pagination_key"] != want {
					t.Errorf("pagination_key=%v, want %s", req["pagination_key"], want)
				}
				if calls == tc.pages {
					w.Write(page)
					return
				}
				more := calls < 4
				json.NewEncoder(w).Encode(map[string]any{"items": []any{}, "has_more": more, "pagination_key": fmt.Sprintf("key-%d", calls)})
			})
			got, err := c.FindCall(context.Background(), ringfence.DialRequest{CallID: "call_0123456789abcdef01234567"}, time.Now())
			if tc.pages == 0 {
				if ringfence.ErrorCode(err) != ringfence.ENOTFOUND || calls != tc.wantCalls {
					t.Fatalf("found %q (%v) after %d pages, want not found after %d", got, err, calls, tc.wantCalls)
				}
				return
			}
			if err != nil || got != "Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6" || calls != tc.wantCalls {
				t.Fatalf("found %q (%v) after %d pages, want the call on page %d", got, err, calls, tc.wantCalls)
			}
		})
	}
}
