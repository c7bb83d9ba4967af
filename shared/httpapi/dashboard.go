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
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/ringfence"
	"github.com/ringfence/ringfence/shared/secrets"
)

// page is an HTML answer (a status, its HTML and any headers), for the dashboard's routes.
type page struct {
	html    string
	headers map[string]string
}

// dashboardAccount authenticates the dashboard: the API key as a bearer header, or the session
// cookie a login set. A session counts only while its signature holds (under the current or the
// previous session secret), it was issued as a session, its absolute lifetime has not run out,
// its record is still in the table (logging out deletes it), and the account's API keys are
// those that stood when it began (a rotation or a revocation ends it at once).
func (s *Server) dashboardAccount(ctx context.Context, req events.APIGatewayV2HTTPRequest) (string, bool) {
	if bearer(req) != "" {
		account, err := s.authenticate(ctx, req)
		return account, err == nil
	}
	t, ok := s.sessionOf(ctx, req)
	return t.account, ok
}

// sessionOf returns the live session the request's cookie names.
func (s *Server) sessionOf(ctx context.Context, req events.APIGatewayV2HTTPRequest) (signedToken, bool) {
	value, ok := cookie(req, SessionCookie)
	if !ok {
		return signedToken{}, false
	}
	t, ok := verifyToken(s.sessionSecrets(), purposeSession, value, s.Now())
	if !ok {
		return signedToken{}, false
	}
	account, err := s.store.SessionAccount(ctx, t.id)
	if err != nil {
		if ringfence.ErrorCode(err) != ringfence.EUNAUTHORIZED {
			s.log.ErrorContext(ctx, "reading a dashboard session failed", "error", err.Error())
		}
		return signedToken{}, false
	}
	return t, account == t.account
}

// cookie returns the value of the named cookie of the request.
func cookie(req events.APIGatewayV2HTTPRequest, name string) (string, bool) {
	for _, c := range req.Cookies {
		for _, part := range strings.Split(c, ";") {
			n, v, _ := strings.Cut(part, "=")
			if strings.TrimSpace(n) == name {
				return strings.TrimSpace(v), true
			}
		}
	}
	return "", false
}

// sessionSecrets are the secrets a token may be signed with: the current one and, while a
// rotation is under way, the previous one. New tokens are always signed with the current one.
func (s *Server) sessionSecrets() []string {
	return []string{s.cfg.SessionSecret, s.cfg.SessionSecretPrevious}
}

// dashboard serves the campaign dashboard, or the login form to a visitor without a session.
func (s *Server) dashboard(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	account, ok := s.dashboardAccount(ctx, req)
	if !ok {
		return http.StatusUnauthorized, loginPage(""), nil
	}
	hours, err := chartHours(req.QueryStringParameters["hours"])
	if err != nil {
		return 0, nil, err
	}
	view, err := s.dashboardView(ctx, account, hours)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, page{html: render(dashboardTemplate, view)}, nil
}

func loginPage(message string) page {
	return page{html: render(loginTemplate, map[string]any{"Error": message})}
}

// dashboardLogin takes the login form (the API key) or a login link (a signed, single-use,
// short-lived token), records a new session, sets its cookie (HttpOnly, Secure, SameSite=Strict)
// and sends the browser on to the dashboard. A form posted from another site never reaches it
// (checkDashboardOrigin), so no one can sign a visitor in to an account of theirs (login CSRF).
func (s *Server) dashboardLogin(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	if s.cfg.SessionSecret == "" {
		return 0, nil, ringfence.Errorf(ringfence.EUNAVAILABLE, "dashboard sessions are off: RINGFENCE_SESSION_SECRET is not set (the dashboard still takes the API key as a bearer header)")
	}
	account := ""
	if token := req.QueryStringParameters["token"]; token != "" {
		a, err := s.redeemLoginLink(ctx, token)
		if err != nil {
			return http.StatusUnauthorized, loginPage("That login link has expired, was used already, or is not valid."), nil
		}
		account = a
	} else {
		if req.RequestContext.HTTP.Method == http.MethodGet || req.RouteKey == "GET /dashboard/login" {
			return http.StatusOK, loginPage(""), nil
		}
		b, err := body(req)
		if err != nil {
			return 0, nil, err
		}
		form, _ := url.ParseQuery(string(b))
		a, err := s.signInAccount(ctx, strings.TrimSpace(form.Get("api_key")))
		if err != nil {
			return http.StatusUnauthorized, loginPage("That API key is not valid."), nil
		}
		account = a
	}
	session := signedToken{purpose: purposeSession, id: dynamo.NewID("ses"), expires: s.Now().Add(SessionLifetime), account: account}
	if err := s.store.CreateSession(ctx, session.id, account, session.expires); err != nil {
		return 0, nil, err
	}
	cookie := SessionCookie + "=" + signToken(s.cfg.SessionSecret, session) +
		"; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=" + strconv.Itoa(int(SessionLifetime.Seconds()))
	return http.StatusSeeOther, page{headers: map[string]string{"Location": afterLogin(req.QueryStringParameters["next"]), "Set-Cookie": cookie}}, nil
}

// afterLogin is where a login link sends the browser: a campaign's page when the link names one,
// else the dashboard. Only the dashboard's own campaign paths are taken, so a link cannot send a
// visitor anywhere else (no open redirect).
func afterLogin(next string) string {
	path, query, _ := strings.Cut(next, "?")
	id, ok := strings.CutPrefix(path, "/dashboard/campaigns/")
	if !ok || ringfence.ValidateID("campaign id", id) != nil || strings.Trim(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != "" {
		return "/dashboard"
	}
	// The page's filters ride along, re-encoded, so nothing but a query follows the path.
	if q, err := url.ParseQuery(query); err == nil && len(q) > 0 {
		return path + "?" + q.Encode()
	}
	return path
}

// signInAccount returns the account of the API key the sign-in form carries: the deployment's
// own key, or an account's key that no rotation has replaced. A replaced key still calls the API
// through its grace, but signs no one in: its session would outlive the rotation meant to end it.
func (s *Server) signInAccount(ctx context.Context, key string) (string, error) {
	if key == "" {
		return "", ringfence.Errorf(ringfence.EUNAUTHORIZED, "no API key")
	}
	own, err := s.secret(ctx, secrets.APIKey)
	if err != nil {
		return "", err
	}
	if own.Accepts(key) {
		return s.cfg.AccountID, nil
	}
	return s.store.AccountIDByCurrentAPIKey(ctx, key)
}

// redeemLoginLink checks a login link and claims it, once, for an account that exists.
func (s *Server) redeemLoginLink(ctx context.Context, token string) (string, error) {
	t, ok := verifyToken(s.sessionSecrets(), purposeLogin, token, s.Now())
	if !ok {
		return "", ringfence.Errorf(ringfence.EUNAUTHORIZED, "login link not valid")
	}
	if err := s.accountExists(ctx, t.account); err != nil {
		return "", err
	}
	if err := s.store.ClaimLoginLink(ctx, t.id, t.account, t.expires); err != nil {
		return "", err
	}
	return t.account, nil
}

// accountExists refuses an account that is neither the deployment's own nor stored.
func (s *Server) accountExists(ctx context.Context, account string) error {
	if account == s.cfg.AccountID && account != "" {
		return nil
	}
	found, err := s.store.AccountExists(ctx, account)
	if err != nil {
		return err
	}
	if !found {
		return ringfence.Errorf(ringfence.EUNAUTHORIZED, "no such account")
	}
	return nil
}

// dashboardLogout revokes the session the cookie names (its record is deleted, so the token is
// refused from then on, wherever a copy of it is) and clears the cookie.
func (s *Server) dashboardLogout(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	if value, ok := cookie(req, SessionCookie); ok {
		if t, ok := verifyToken(s.sessionSecrets(), purposeSession, value, s.Now()); ok {
			if err := s.store.RevokeSession(ctx, t.id); err != nil {
				return 0, nil, err
			}
		}
	}
	clear := SessionCookie + "=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0"
	return http.StatusSeeOther, page{headers: map[string]string{"Location": "/dashboard", "Set-Cookie": clear}}, nil
}

// checkDashboardOrigin is the one origin check of every state-changing dashboard route (any
// method but GET under /dashboard: sign-in, sign-out, a campaign's buttons), run before the
// route: a form posted from another site is refused, so no site can sign a visitor in to an
// account of its own (login CSRF) nor press a button with the visitor's session.
func checkDashboardOrigin(req events.APIGatewayV2HTTPRequest) error {
	method, path, _ := strings.Cut(req.RouteKey, " ")
	if method == http.MethodGet || path != "/dashboard" && !strings.HasPrefix(path, "/dashboard/") {
		return nil
	}
	if !sameOrigin(req) {
		return ringfence.Errorf(ringfence.EFORBIDDEN, "the dashboard's form was posted from another site")
	}
	return nil
}

// sameOrigin reports whether a browser's form post comes from the dashboard's own site. Browsers
// send Origin (or at least Sec-Fetch-Site) with every POST; a request with neither is not a
// browser's, and a forged cross-site form cannot omit them.
func sameOrigin(req events.APIGatewayV2HTTPRequest) bool {
	host := req.RequestContext.DomainName
	if host == "" {
		host = header(req, "Host")
	}
	if origin := header(req, "Origin"); origin != "" {
		u, err := url.Parse(origin)
		return err == nil && origin != "null" && u.Host != "" && strings.EqualFold(u.Host, host)
	}
	if site := header(req, "Sec-Fetch-Site"); site != "" {
		return site == "same-origin" || site == "none"
	}
	return true
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
	Queued       string // "1000+" when more wait than the dashboard counts
}

type activityLine struct {
	At, CallID, What string
}

func (s *Server) dashboardView(ctx context.Context, account string, hours int) (map[string]any, error) {
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
		if i < 3 { // Recent activity comes from the latest calls of the newest campaigns.
			calls, err := s.store.LatestCampaignCalls(ctx, c.ID, dashboardCallsPerCampaign)
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
		queued, more, err := s.store.CountQueued(ctx, account, u.Kind, dashboardQueueCount)
		if err != nil {
			return nil, err
		}
		row := slotRow{Kind: string(u.Kind), InUse: u.InUse, Limit: u.Limit, Queued: strconv.Itoa(queued)}
		if more {
			row.Queued += "+"
		}
		slots = append(slots, row)
	}
	stuck, err := s.stuckCalls(ctx, account)
	if err != nil {
		return nil, err
	}
	activity, err := s.store.ActivitySince(ctx, account, s.Now().Add(-time.Hour))
	if err != nil {
		return nil, err
	}
	endpoints, err := s.endpointsWithHealth(ctx, account)
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	from := now.Add(-time.Duration(hours-1) * time.Hour)
	stats, err := s.store.AccountHours(ctx, account, from, now)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"Charts": chartsOf(stats, from, hours, "all campaigns and calls of the account"), "Hours": hours, "HourChoices": []int{6, 24, 72, 168},
		"Endpoints": endpoints,
		"Account":   account, "Campaigns": rows, "Slots": slots, "Stuck": stuck, "Recent": recent,
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
.muted{color:#5d6670;font-size:12px} .tiles{display:flex;gap:12px}
.tile{background:#fff;border:1px solid #dde1e6;padding:10px 14px;min-width:140px}
.tile b{font-size:20px;display:block}
</style>`

var loginTemplate = template.Must(template.New("login").Parse(`<!doctype html><html><head><meta charset="utf-8"><title>ringfence: sign in</title>` + style + `</head>
<body><h1>ringfence</h1><p class="muted">Sign in with your API key.</p>
{{if .Error}}<p role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/dashboard/login"><input type="password" name="api_key" aria-label="API key" autocomplete="current-password">
<button type="submit">Sign in</button></form></body></html>`))

var dashboardTemplate = template.Must(template.Must(template.New("dashboard").Parse(chartsSection)).Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="5"><title>ringfence dashboard</title>` + style + pageStyle + `</head><body>
<h1>ringfence</h1><p class="muted">Account {{.Account}} · updated {{.Now}} · refreshes every 5 seconds</p>
<form method="post" action="/dashboard/logout"><button type="submit">Sign out</button></form>
<div class="tiles">
{{range .Slots}}<div class="tile" id="slots-{{.Kind}}"><span class="muted">{{.Kind}} slots in use</span><b>{{.InUse}} / {{.Limit}}</b><span class="muted">{{.Queued}} waiting</span></div>{{end}}
<div class="tile" id="activity"><span class="muted">webhooks, last hour (about)</span><b>{{.Deliveries}}</b><span class="muted">{{.FirstTransitions}} ended calls · {{.Duplicates}} duplicates absorbed</span></div>
<div class="tile" id="stuck-count"><span class="muted">stuck calls</span><b>{{len .Stuck}}</b></div>
</div>
<h2>Campaigns</h2>
<table id="campaigns"><tr><th>campaign</th><th>status</th><th>progress</th><th>outcomes</th><th>cost (USD)</th><th></th></tr>
{{range .Campaigns}}<tr data-campaign="{{.ID}}"><td><a href="/dashboard/campaigns/{{.ID}}">{{.Name}}</a><br><span class="muted">{{.ID}}</span></td><td>{{.Status}}</td>
<td><span class="bar"><span style="width:{{.Percent}}%"></span></span> <span class="progress">{{.Done}} / {{.Total}}</span></td>
<td>{{range .Outcomes}}<span class="outcome">{{.Name}} {{.Count}}</span> {{end}}</td><td class="cost">{{.Cost}}</td>
<td>{{$id := .ID}}{{range .Actions}}<form method="post" action="/dashboard/campaigns/{{$id}}/{{.}}" style="display:inline"><button type="submit">{{.}}</button></form> {{end}}</td></tr>
{{else}}<tr><td colspan="6" class="muted">No campaigns yet.</td></tr>{{end}}</table>
{{template "charts" .}}
<h2>Stuck calls</h2>
<table id="stuck"><tr><th>call</th><th>status</th><th>last news</th></tr>
{{range .Stuck}}<tr><td>{{.CallID}}</td><td>{{.What}}</td><td>{{.At}}</td></tr>{{else}}<tr><td colspan="3" class="muted">None.</td></tr>{{end}}</table>
<h2>Endpoints</h2>
<table id="endpoints"><tr><th>endpoint</th><th>events</th><th>health</th><th>last attempt</th></tr>
{{range .Endpoints}}<tr data-endpoint="{{.ID}}"><td>{{.URL}}<br><span class="muted">{{.ID}}</span></td><td>{{range .Events}}{{.}} {{end}}</td>
<td class="health">{{.Health.Status}}<br><span class="muted">{{.Health.RecentFailures}} of the last {{.Health.RecentAttempts}} attempts failed</span></td>
<td>{{.Health.LastAttemptAt}} {{if .Health.LastStatusCode}}({{.Health.LastStatusCode}}){{end}}</td></tr>
{{else}}<tr><td colspan="4" class="muted">No endpoints: POST /endpoints to receive events.</td></tr>{{end}}</table>
<h2>Recent activity</h2>
<table id="recent"><tr><th>when</th><th>call</th><th>what</th></tr>
{{range .Recent}}<tr><td>{{.At}}</td><td>{{.CallID}}</td><td>{{.What}}</td></tr>{{else}}<tr><td colspan="3" class="muted">Nothing yet.</td></tr>{{end}}</table>
</body></html>`))
