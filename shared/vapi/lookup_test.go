package vapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/ringfence/ringfence/infra/testio"
	"github.com/ringfence/ringfence/shared/ringfence"
	"github.com/ringfence/ringfence/shared/vapi"
)

// MustServe serves handler as Vapi's API and returns a client of it.
func MustServe(tb testing.TB, handler http.HandlerFunc) *vapi.Client {
	tb.Helper()
	return vapi.NewClient(testio.ServeAPI(tb, handler), "key")
}

// GET /call/{id} reads as the server messages would: an ended call with its outcome, cost,
// duration and transcript; a live call with its status; an unknown call as not found; any other
// failure as an error that is not "not found".
func TestReportCall(t *testing.T) {
	for _, tc := range []struct {
		name     string
		status   int
		body     []byte
		want     ringfence.CallStatus
		cost     string
		duration string
		code     string
	}{
		{name: "ended", status: 200, body: testio.MustReadFixture(t, "call-ended.json"), want: ringfence.StatusCompleted, cost: "0.1234", duration: "65.5"},
		{name: "live", status: 200, body: testio.MustReadFixture(t, "call-in-progress.json"), want: ringfence.StatusInProgress},
		{name: "unknown", status: 404, body: []byte(`{"message":"Not Found","statusCode":404}`), code: ringfence.ENOTFOUND},
		{name: "outage", status: 503, body: []byte(`{"message":"Service Unavailable"}`), code: ringfence.EINTERNAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var path string
			c := MustServe(t, testio.Answer(tc.status, tc.body, &path))
			ev, err := c.ReportCall(context.Background(), "2b1f2d1c-7c1e-4a57-9d7e-6e2f4b1c9a10")
			if path != "GET /call/2b1f2d1c-7c1e-4a57-9d7e-6e2f4b1c9a10" {
				t.Fatalf("request=%q, want GET /call/{id}", path)
			}
			if got := ringfence.ErrorCode(err); got != tc.code {
				t.Fatalf("error code=%q (%v), want %q", got, err, tc.code)
			}
			if err != nil {
				return
			}
			if ev.Status != tc.want || ev.ProviderCallID != "2b1f2d1c-7c1e-4a57-9d7e-6e2f4b1c9a10" || ev.CallID != "call_sch_cus_1_daily_20260101_a1" {
				t.Fatalf("event=%+v, want status %s with both ids", ev, tc.want)
			}
			if tc.cost != "" && (ev.Cost.String() != tc.cost || ev.Duration.String() != tc.duration || ev.Transcript == "" || ev.ExtractedData != `{"mood":"good"}`) {
				t.Fatalf("report cost=%s duration=%s transcript=%q data=%s, want %s and %s", ev.Cost, ev.Duration, ev.Transcript, ev.ExtractedData, tc.cost, tc.duration)
			}
		})
	}
}

// The report read from the API ranks just below the end-of-call report of the same end, so that
// report, arriving later, still replaces what was read.
func TestReportedCallRanksBelowTheEndOfCallReport(t *testing.T) {
	reported, err := vapi.ParseCall(testio.MustReadFixture(t, "call-ended.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := vapi.ParseMessage(testio.MustReadFixture(t, "end-of-call-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	report, err := m.Event()
	if err != nil {
		t.Fatal(err)
	}
	if reported.Version == "" || reported.Version >= report.Version {
		t.Fatalf("reported version=%q, want below the report's %q", reported.Version, report.Version)
	}
}

// fakeCallList is Vapi's call list over n calls from one phone number, one a second, answering
// at most `limit` calls of the window asked for, newest or oldest first.
func fakeCallList(t *testing.T, n int, newestFirst bool, pages *int) http.HandlerFunc {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func(w http.ResponseWriter, r *http.Request) {
		*pages++
		q := r.URL.Query()
		if r.URL.Path != "/call" || q.Get("phoneNumberId") != "phone-number-1" || q.Get("limit") != "100" {
			t.Errorf("request %s, want GET /call?phoneNumberId=phone-number-1&limit=100", r.URL)
		}
		from, _ := time.Parse(time.RFC3339Nano, q.Get("createdAtGe"))
		to, _ := time.Parse(time.RFC3339Nano, q.Get("createdAtLe"))
		var out []map[string]any
		for i := range n {
			at := start.Add(time.Duration(i) * time.Second)
			if (!from.IsZero() && at.Before(from)) || (!to.IsZero() && at.After(to)) {
				continue
			}
			out = append(out, map[string]any{"id": fmt.Sprintf("vapi-%03d", i), "orgId": "org-1", "type": "outboundPhoneCall", "status": "ended",
				"phoneNumberId": "phone-number-1", "createdAt": at.Format(time.RFC3339Nano),
				"assistantOverrides": map[string]any{"metadata": map[string]any{"ringfence_call_id": fmt.Sprintf("call_%03d", i)}}})
		}
		sort.SliceStable(out, func(i, j int) bool {
			return (out[i]["createdAt"].(string) > out[j]["createdAt"].(string)) == newestFirst
		})
		json.NewEncoder(w).Encode(out[:min(len(out), 100)])
	}
}

// A lost dial is found however deep in the list it lies, whichever order Vapi lists in; a call
// Vapi never placed is not found once every page was read.
func TestFindCallPagesThroughTheList(t *testing.T) {
	since := time.Date(2025, 12, 31, 23, 50, 0, 0, time.UTC)
	for _, newestFirst := range []bool{true, false} {
		for _, tc := range []struct {
			callID, want string
		}{{"call_000", "vapi-000"}, {"call_249", "vapi-249"}, {"call_137", "vapi-137"}, {"call_never", ""}} {
			pages := 0
			c := MustServe(t, fakeCallList(t, 250, newestFirst, &pages))
			got, err := c.FindCall(context.Background(), ringfence.DialRequest{CallID: tc.callID, FromNumber: "phone-number-1"}, since)
			if tc.want == "" {
				if ringfence.ErrorCode(err) != ringfence.ENOTFOUND || pages < 3 {
					t.Fatalf("newest first %v: %s found %q (%v) after %d pages, want not found after reading all", newestFirst, tc.callID, got, err, pages)
				}
				continue
			}
			if err != nil || got != tc.want {
				t.Fatalf("newest first %v: %s found %q (%v), want %s", newestFirst, tc.callID, got, err, tc.want)
			}
		}
	}
}
