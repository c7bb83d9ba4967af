package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// maxCSVBytes bounds one CSV response below Lambda's 6 MB response payload. A campaign whose
// calls do not fit continues at X-Next-Cursor (pass it back as ?cursor=).
const maxCSVBytes = 5 << 20

var csvHeader = []string{"call_id", "attempt", "contact_id", "name", "phone", "status", "outcome", "end_reason",
	"cost", "duration_seconds", "reschedule_day", "provider_call_id", "recording_url", "created_at", "updated_at", "timezone", "timezone_source"}

// campaignCallsCSV writes every call of a campaign as CSV, page by page from the index, in
// contact order, without transcripts; past maxCSVBytes it stops at a page boundary and names
// where to go on in the X-Next-Cursor header.
func (s *Server) campaignCallsCSV(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	c, err := s.campaignOf(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	return s.callsCSV(ctx, req, c)
}

// dashboardCampaignCSV is the campaign page's download: the same CSV, for the signed-in session
// instead of the API key, so it is one click from the page.
func (s *Server) dashboardCampaignCSV(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	account, ok := s.dashboardAccount(ctx, req)
	if !ok {
		return 0, nil, ringfence.Errorf(ringfence.EUNAUTHORIZED, "sign in to the dashboard first")
	}
	id, err := pathID(req)
	if err != nil {
		return 0, nil, err
	}
	c, err := s.store.GetCampaign(ctx, account, id)
	if err != nil {
		return 0, nil, err
	}
	return s.callsCSV(ctx, req, c)
}

// callsCSV writes a campaign's calls as CSV, from the cursor in the request on.
func (s *Server) callsCSV(ctx context.Context, req events.APIGatewayV2HTTPRequest, c ringfence.Campaign) (int, any, error) {
	after := ""
	if v := req.QueryStringParameters["cursor"]; v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(b) > 200 || !strings.HasPrefix(string(b), "call_") {
			return 0, nil, ringfence.Errorf(ringfence.EINVALID, "cursor is not one this API returned")
		}
		after = string(b)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(csvHeader)
	next := ""
	for {
		calls, contacts, err := s.store.CampaignCallsPage(ctx, c.ID, after, maxCallsPage)
		if err != nil {
			return 0, nil, err
		}
		for _, call := range calls {
			ct := contacts[call.ContactID]
			zone, source, zones := callZones(call.Hours)
			if len(zones) > 1 {
				zone = strings.Join(zones, " ")
			}
			w.Write([]string{call.ID, strconv.Itoa(call.Attempt), call.ContactID, spreadsheetSafe(ct.Name), ct.Phone,
				string(call.Status), string(call.Outcome), spreadsheetSafe(call.EndReason), decimalCell(call.Cost), decimalCell(call.Duration),
				spreadsheetSafe(call.RescheduleDay), call.ProviderCallID, call.RecordingURL, timeCell(call.CreatedAt), timeCell(call.UpdatedAt),
				zone, source})
		}
		w.Flush()
		if len(calls) < maxCallsPage {
			break
		}
		after = calls[len(calls)-1].ID
		if buf.Len() >= maxCSVBytes-maxCallsPage*1024 {
			next = base64.RawURLEncoding.EncodeToString([]byte(after))
			break
		}
	}
	headers := map[string]string{"Content-Type": "text/csv; charset=utf-8",
		"Content-Disposition": `attachment; filename="` + c.ID + `-calls.csv"`}
	if next != "" {
		headers["X-Next-Cursor"] = next
	}
	return http.StatusOK, page{html: buf.String(), headers: headers}, nil
}

// spreadsheetSafe keeps a cell a spreadsheet would run as a formula as text.
func spreadsheetSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func decimalCell(d *ringfence.Decimal) string {
	if d == nil {
		return ""
	}
	return d.String()
}

func timeCell(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
