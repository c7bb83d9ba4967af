package httpapi

import (
	"bytes"
	"context"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// page is an HTML answer (a status, its HTML and any headers), for the dashboard's routes.
type page struct {
	html    string
	headers map[string]string
}

// dashboardAccount authenticates the dashboard: the API key as a bearer header, or the signed
// session cookie a login set.
func (s *Server) dashboardAccount(ctx context.Context, req events.APIGatewayV2HTTPRequest) (string, bool) {
	if bearer(req) != "" {
		account, err := s.authenticate(ctx, req)
		return account, err == nil
	}
	for _, c := range req.Cookies {
		name, value, _ := strings.Cut(c, "=")
		if strings.TrimSpace(name) == SessionCookie {
			return verifySession(s.cfg.SessionSecret, strings.TrimSpace(value), s.Now())
		}
	}
	return "", false
}

// dashboard serves the campaign dashboard, or the login form to a visitor without a session.
func (s *Server) dashboard(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	account, ok := s.dashboardAccount(ctx, req)
	if !ok {
		return http.StatusUnauthorized, page{html: render(loginTemplate, map[string]any{"Error": ""})}, nil
	}
	view, err := s.dashboardView(ctx, account)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, page{html: render(dashboardTemplate, view)}, nil
}

// dashboardLogin takes the login form (the API key) or a login link (a signed, short-lived
// token), sets the session cookie (HttpOnly, Secure, SameSite=Strict) and sends the browser on
// to the dashboard.
func (s *Server) dashboardLogin(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	account := ""
	if token := req.QueryStringParameters["token"]; token != "" {
		a, ok := verifySession(s.cfg.SessionSecret, token, s.Now())
		if !ok {
			return http.StatusUnauthorized, page{html: render(loginTemplate, map[string]any{"Error": "That login link has expired or is not valid."})}, nil
		}
		account = a
	} else {
		b, err := body(req)
		if err != nil {
			return 0, nil, err
		}
		form, _ := url.ParseQuery(string(b))
		check := req
		check.Headers = map[string]string{"authorization": "Bearer " + form.Get("api_key")}
		a, err := s.authenticate(ctx, check)
		if err != nil {
			return http.StatusUnauthorized, page{html: render(loginTemplate, map[string]any{"Error": "That API key is not valid."})}, nil
		}
		account = a
	}
	if s.cfg.SessionSecret == "" {
		return 0, nil, ringfence.Errorf(ringfence.EUNAVAILABLE, "dashboard sessions are not configured")
	}
	cookie := SessionCookie + "=" + SessionToken(s.cfg.SessionSecret, account, s.Now().Add(sessionFor)) +
		"; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=" + strconv.Itoa(int(sessionFor.Seconds()))
	return http.StatusSeeOther, page{headers: map[string]string{"Location": "/dashboard", "Set-Cookie": cookie}}, nil
}

// dashboardView gathers what the dashboard shows.
type campaignRow struct {
	ID, Name, Status, Cost string
	Done, Total, Percent   int
	Outcomes               []outcomeCount
	Actions                []string // The controls the campaign's status allows: pause, resume, cancel.
}

type outcomeCount struct {
	Name  string
	Count int
}

type slotRow struct {
	Kind         string
	InUse, Limit int
	Queued       int
}

type activityLine struct {
	At, CallID, What string
}

func (s *Server) dashboardView(ctx context.Context, account string) (map[string]any, error) {
	campaigns, err := s.store.ListCampaigns(ctx, account)
	if err != nil {
		return nil, err
	}
	var rows []campaignRow
	var recent []activityLine
	for i, c := range campaigns {
		row := campaignRow{ID: c.ID, Name: c.Name, Status: string(c.Status), Cost: c.TotalCost.String(), Done: c.CallsCompleted, Total: c.TotalContacts, Actions: campaignActions(c.Status)}
		if c.TotalContacts > 0 {
			row.Percent = 100 * c.CallsCompleted / c.TotalContacts
		}
		for _, o := range ringfence.CampaignOutcomes {
			row.Outcomes = append(row.Outcomes, outcomeCount{string(o), c.OutcomeCounts[o]})
		}
		rows = append(rows, row)
		if i < 3 { // Recent activity comes from a page of the newest campaigns' call histories.
			calls, _, err := s.store.CampaignCallsPage(ctx, c.ID, "", dashboardCallsPerCampaign)
			if err != nil {
				return nil, err
			}
			for _, call := range calls {
				for _, h := range call.History {
					at, what, _ := strings.Cut(h, " ")
					recent = append(recent, activityLine{At: at, CallID: call.ID, What: what})
				}
			}
		}
	}
	sort.Slice(recent, func(i, j int) bool { return recent[i].At > recent[j].At })
	if len(recent) > 15 {
		recent = recent[:15]
	}
	usage, _, err := s.calls.Slots(ctx, account)
	if err != nil {
		return nil, err
	}
	var slots []slotRow
	for _, u := range usage {
		queued, err := s.store.QueueLength(ctx, account, u.Kind, "")
		if err != nil {
			return nil, err
		}
		slots = append(slots, slotRow{Kind: string(u.Kind), InUse: u.InUse, Limit: u.Limit, Queued: queued})
	}
	stuck, err := s.stuckCalls(ctx, account)
	if err != nil {
		return nil, err
	}
	activity, err := s.store.ActivitySince(ctx, account, s.Now().Add(-time.Hour))
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"Account": account, "Campaigns": rows, "Slots": slots, "Stuck": stuck, "Recent": recent,
		"Deliveries": activity["deliveries"], "FirstTransitions": activity[string(ringfence.ResultFirstTerminal)],
		"Duplicates": activity[string(ringfence.ResultDuplicate)], "Now": s.Now().UTC().Format("15:04:05 MST"),
	}, nil
}

// stuckCalls lists the account's calls in flight with no news for five minutes or more.
func (s *Server) stuckCalls(ctx context.Context, account string) ([]activityLine, error) {
	ids, err := s.store.CallsIdleSince(ctx, s.Now().Add(-5*time.Minute))
	if err != nil {
		return nil, err
	}
	var out []activityLine
	for _, id := range ids {
		c, err := s.store.GetCall(ctx, id)
		if err != nil || c.AccountID != account || c.Status.IsTerminal() {
			continue
		}
		out = append(out, activityLine{At: c.LastActivity, CallID: c.ID, What: string(c.Status)})
	}
	return out, nil
}

func render(t *template.Template, data any) string {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return "<!doctype html><p>The page could not be shown.</p>"
	}
	return buf.String()
}

const style = `<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#1d232a;background:#f6f7f9}
h1{font-size:20px;margin:0 0 4px} h2{font-size:15px;margin:24px 0 8px;color:#4a5563}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #dde1e6}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #eef0f3;font-size:13px}
.bar{background:#e6e9ee;border-radius:4px;height:10px;width:160px;display:inline-block;vertical-align:middle}
.bar span{display:block;height:10px;border-radius:4px;background:#2f7d4f}
.muted{color:#6b7480;font-size:12px} .tiles{display:flex;gap:12px}
.tile{background:#fff;border:1px solid #dde1e6;padding:10px 14px;min-width:140px}
.tile b{font-size:20px;display:block}
</style>`

var loginTemplate = template.Must(template.New("login").Parse(`<!doctype html><html><head><meta charset="utf-8"><title>ringfence: sign in</title>` + style + `</head>
<body><h1>ringfence</h1><p class="muted">Sign in with your API key.</p>
{{if .Error}}<p role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/dashboard/login"><input type="password" name="api_key" aria-label="API key" autocomplete="current-password">
<button type="submit">Sign in</button></form></body></html>`))

var dashboardTemplate = template.Must(template.New("dashboard").Parse(`<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="refresh" content="5"><title>ringfence dashboard</title>` + style + `</head><body>
<h1>ringfence</h1><p class="muted">Account {{.Account}} · updated {{.Now}} · refreshes every 5 seconds</p>
<div class="tiles">
{{range .Slots}}<div class="tile" id="slots-{{.Kind}}"><span class="muted">{{.Kind}} slots in use</span><b>{{.InUse}} / {{.Limit}}</b><span class="muted">{{.Queued}} waiting</span></div>{{end}}
<div class="tile" id="activity"><span class="muted">webhooks, last hour (about)</span><b>{{.Deliveries}}</b><span class="muted">{{.FirstTransitions}} ended calls · {{.Duplicates}} duplicates absorbed</span></div>
<div class="tile" id="stuck-count"><span class="muted">stuck calls</span><b>{{len .Stuck}}</b></div>
</div>
<h2>Campaigns</h2>
<table id="campaigns"><tr><th>campaign</th><th>status</th><th>progress</th><th>outcomes</th><th>cost (USD)</th><th></th></tr>
{{range .Campaigns}}<tr data-campaign="{{.ID}}"><td>{{.Name}}<br><span class="muted">{{.ID}}</span></td><td>{{.Status}}</td>
<td><span class="bar"><span style="width:{{.Percent}}%"></span></span> <span class="progress">{{.Done}} / {{.Total}}</span></td>
<td>{{range .Outcomes}}<span class="outcome">{{.Name}} {{.Count}}</span> {{end}}</td><td class="cost">{{.Cost}}</td>
<td>{{$id := .ID}}{{range .Actions}}<form method="post" action="/dashboard/campaigns/{{$id}}/{{.}}" style="display:inline"><button type="submit">{{.}}</button></form> {{end}}</td></tr>
{{else}}<tr><td colspan="6" class="muted">No campaigns yet.</td></tr>{{end}}</table>
<h2>Stuck calls</h2>
<table id="stuck"><tr><th>call</th><th>status</th><th>last news</th></tr>
{{range .Stuck}}<tr><td>{{.CallID}}</td><td>{{.What}}</td><td>{{.At}}</td></tr>{{else}}<tr><td colspan="3" class="muted">None.</td></tr>{{end}}</table>
<h2>Recent activity</h2>
<table id="recent"><tr><th>when</th><th>call</th><th>what</th></tr>
{{range .Recent}}<tr><td>{{.At}}</td><td>{{.CallID}}</td><td>{{.What}}</td></tr>{{else}}<tr><td colspan="3" class="muted">Nothing yet.</td></tr>{{end}}</table>
</body></html>`))
