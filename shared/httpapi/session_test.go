package httpapi_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/app"
	"github.com/ringfence/ringfence/shared/calling"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/httpapi"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// dashboardRequest is a browser's request to a dashboard route, on the API's own host.
func dashboardRequest(tb testing.TB, routeKey, query, body string, cookies ...string) events.APIGatewayV2HTTPRequest {
	tb.Helper()
	req := MustEvent(tb, "api-healthz.json")
	method, path, _ := strings.Cut(routeKey, " ")
	req.RouteKey, req.RawPath, req.RequestContext.RouteKey = routeKey, path, routeKey
	req.RequestContext.HTTP.Method, req.RequestContext.HTTP.Path = method, path
	req.Headers = map[string]string{"host": req.RequestContext.DomainName, "content-type": "application/x-www-form-urlencoded"}
	if method == "POST" {
		req.Headers["origin"] = "https://" + req.RequestContext.DomainName
	}
	if query != "" {
		q, err := url.ParseQuery(query)
		if err != nil {
			tb.Fatal(err)
		}
		req.QueryStringParameters = map[string]string{}
		for k := range q {
			req.QueryStringParameters[k] = q.Get(k)
		}
	}
	req.Body, req.Cookies = body, cookies
	return req
}

// sessionCookie returns the "rf_session=<token>" a login response set, failing the test if none.
func sessionCookie(tb testing.TB, resp events.APIGatewayV2HTTPResponse) string {
	tb.Helper()
	if resp.StatusCode != 303 {
		tb.Fatalf("login status=%d, want 303 (body %s)", resp.StatusCode, resp.Body)
	}
	for _, c := range resp.Cookies {
		if v, _, _ := strings.Cut(c, ";"); strings.HasPrefix(v, httpapi.SessionCookie+"=") && v != httpapi.SessionCookie+"=" {
			return v
		}
	}
	tb.Fatalf("login set no session cookie: %v", resp.Cookies)
	return ""
}

// MustLogin signs in with the API key through the form and returns the session cookie.
func (h *harness) MustLogin(tb testing.TB) string {
	tb.Helper()
	resp := invoke(tb, h.srv.Management(), dashboardRequest(tb, "POST /dashboard/login", "", "api_key="+testAPIKey))
	return sessionCookie(tb, resp)
}

func (h *harness) dashboardStatus(tb testing.TB, srv *httpapi.Server, cookie string) int {
	tb.Helper()
	return invoke(tb, srv.Management(), dashboardRequest(tb, "GET /dashboard", "", "", cookie)).StatusCode
}

// oldStyleToken signs "account|expiry" as sessions were signed when their key came from the API key.
func oldStyleToken(secret, account string, expires time.Time) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(account + "|" + strconv.FormatInt(expires.Unix(), 10)))
	mac := hmac.New(sha256.New, []byte("ringfence-session:"+secret))
	mac.Write([]byte(payload))
	return payload + "." + hex.EncodeToString(mac.Sum(nil))
}

// Holding the API key is not enough to sign a dashboard session for any account: the session
// secret is not derived from it, and a deployment without a session secret has no sessions.
func TestAPIKeyCannotForgeASession(t *testing.T) {
	env := dynamotest.MustNewStore(t)
	a := app.NewWithAWS(app.Config{Table: env.Table, DynamoDBEndpoint: dynamotest.Endpoint(), APIKey: testAPIKey, AccountID: "acct_test"},
		dynamotest.Config(), io.Discard)
	sum := sha256.Sum256([]byte("ringfence-dashboard-session:" + testAPIKey))
	derived := hex.EncodeToString(sum[:])
	for _, secret := range []string{derived, testAPIKey, ""} {
		for _, token := range []string{oldStyleToken(secret, "acct_other", time.Now().Add(time.Hour))} {
			resp := invoke(t, a.HTTP.Management(), dashboardRequest(t, "GET /dashboard", "", "", httpapi.SessionCookie+"="+token))
			if resp.StatusCode != 401 || strings.Contains(resp.Body, "acct_other") {
				t.Fatalf("forged session (secret %q): status=%d, want 401", secret, resp.StatusCode)
			}
			link := invoke(t, a.HTTP.Management(), dashboardRequest(t, "GET /dashboard/login", "token="+token, ""))
			if len(link.Cookies) != 0 || link.StatusCode == 303 {
				t.Fatalf("forged login link (secret %q): status=%d cookies=%v, want no session", secret, link.StatusCode, link.Cookies)
			}
		}
	}
}

// A session cookie is not a login link: presenting it as one does not renew it. A login link
// signs in once. A session ends at its absolute lifetime however often it is used, and a login
// link for an account that does not exist signs no one in.
func TestSessionsAreBoundAndEnd(t *testing.T) {
	h := MustHarness(t)
	start := time.Now()
	clock := start
	h.srv.Now, h.env.Store.Now = func() time.Time { return clock }, func() time.Time { return clock }
	cookie := h.MustLogin(t)
	if got := h.dashboardStatus(t, h.srv, cookie); got != 200 {
		t.Fatalf("dashboard with a fresh session: status=%d, want 200", got)
	}

	token := strings.TrimPrefix(cookie, httpapi.SessionCookie+"=")
	renew := invoke(t, h.srv.Management(), dashboardRequest(t, "GET /dashboard/login", "token="+url.QueryEscape(token), ""))
	if renew.StatusCode != 401 || len(renew.Cookies) != 0 {
		t.Fatalf("session token as a login link: status=%d cookies=%v, want 401 and no cookie", renew.StatusCode, renew.Cookies)
	}

	link := httpapi.LoginToken(testSessionSecret, "acct_test", clock.Add(httpapi.LoginLinkLifetime))
	if got := h.dashboardStatus(t, h.srv, httpapi.SessionCookie+"="+link); got != 401 {
		t.Fatalf("login link as a session cookie: status=%d, want 401", got)
	}
	linked := sessionCookie(t, invoke(t, h.srv.Management(), dashboardRequest(t, "GET /dashboard/login", "token="+url.QueryEscape(link), "")))
	if got := h.dashboardStatus(t, h.srv, linked); got != 200 {
		t.Fatalf("dashboard through a login link's session: status=%d, want 200", got)
	}
	again := invoke(t, h.srv.Management(), dashboardRequest(t, "GET /dashboard/login", "token="+url.QueryEscape(link), ""))
	if again.StatusCode != 401 || len(again.Cookies) != 0 {
		t.Fatalf("login link used twice: status=%d cookies=%v, want 401 and no cookie", again.StatusCode, again.Cookies)
	}

	nobody := httpapi.LoginToken(testSessionSecret, "acct_nobody", clock.Add(httpapi.LoginLinkLifetime))
	if resp := invoke(t, h.srv.Management(), dashboardRequest(t, "GET /dashboard/login", "token="+url.QueryEscape(nobody), "")); resp.StatusCode != 401 || len(resp.Cookies) != 0 {
		t.Fatalf("login link for an account that does not exist: status=%d cookies=%v, want 401", resp.StatusCode, resp.Cookies)
	}
	forged := oldStyleToken(testSessionSecret, "acct_nobody", clock.Add(time.Hour))
	if got := h.dashboardStatus(t, h.srv, httpapi.SessionCookie+"="+forged); got != 401 {
		t.Fatalf("session naming an account that does not exist: status=%d, want 401", got)
	}

	clock = start.Add(httpapi.SessionLifetime - time.Minute)
	if got := h.dashboardStatus(t, h.srv, cookie); got != 200 {
		t.Fatalf("session just inside its lifetime: status=%d, want 200", got)
	}
	clock = start.Add(httpapi.SessionLifetime + time.Second)
	if got := h.dashboardStatus(t, h.srv, cookie); got != 401 {
		t.Fatalf("session past its lifetime: status=%d, want 401", got)
	}
}

// Logging out clears the cookie and revokes the session: a copy of the token kept elsewhere is
// refused from then on.
func TestLogoutRevokesTheSession(t *testing.T) {
	h := MustHarness(t)
	cookie := h.MustLogin(t)
	resp := invoke(t, h.srv.Management(), dashboardRequest(t, "POST /dashboard/logout", "", "", cookie))
	if resp.StatusCode != 303 || len(resp.Cookies) != 1 || !strings.Contains(resp.Cookies[0], "Max-Age=0") {
		t.Fatalf("logout: status=%d cookies=%v, want 303 clearing the cookie", resp.StatusCode, resp.Cookies)
	}
	if got := h.dashboardStatus(t, h.srv, cookie); got != 401 {
		t.Fatalf("dashboard with a revoked session: status=%d, want 401", got)
	}
}

// The sign-in form posted from another site sets no cookie (login CSRF).
func TestLoginFromAnotherSiteIsRefused(t *testing.T) {
	h := MustHarness(t)
	for _, origin := range []string{"https://evil.example", "null"} {
		req := dashboardRequest(t, "POST /dashboard/login", "", "api_key="+testAPIKey)
		req.Headers["origin"] = origin
		resp := invoke(t, h.srv.Management(), req)
		if resp.StatusCode != 403 || len(resp.Cookies) != 0 {
			t.Fatalf("login from origin %s: status=%d cookies=%v, want 403 and no cookie", origin, resp.StatusCode, resp.Cookies)
		}
	}
	req := dashboardRequest(t, "POST /dashboard/login", "", "api_key="+testAPIKey)
	delete(req.Headers, "origin")
	req.Headers["sec-fetch-site"] = "cross-site"
	if resp := invoke(t, h.srv.Management(), req); resp.StatusCode != 403 || len(resp.Cookies) != 0 {
		t.Fatalf("cross-site login without Origin: status=%d, want 403", resp.StatusCode)
	}
}

// Rotating the session secret keeps the sessions signed with the previous one until they end;
// once the previous secret is dropped they are refused.
func TestSessionSecretRotation(t *testing.T) {
	h := MustHarness(t)
	cookie := h.MustLogin(t)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	calls := calling.New(h.env.Store, nil, calling.Defaults{DirectLimit: 5, CampaignLimit: 10}, log)
	next := "next-session-secret-0123456789abcdef"
	rotating := httpapi.NewServer(h.env.Store, calls, httpapi.Config{APIKey: testAPIKey, AccountID: "acct_test", SessionSecret: next, SessionSecretPrevious: testSessionSecret}, log)
	if got := h.dashboardStatus(t, rotating, cookie); got != 200 {
		t.Fatalf("session signed with the previous secret during the rotation: status=%d, want it accepted", got)
	}
	rotated := httpapi.NewServer(h.env.Store, calls, httpapi.Config{APIKey: testAPIKey, AccountID: "acct_test", SessionSecret: next}, log)
	if got := h.dashboardStatus(t, rotated, cookie); got != 401 {
		t.Fatalf("session signed with a dropped secret: status=%d, want 401", got)
	}
	off := httpapi.NewServer(h.env.Store, calls, httpapi.Config{APIKey: testAPIKey, AccountID: "acct_test"}, log)
	if got := h.dashboardStatus(t, off, cookie); got != 401 {
		t.Fatalf("session on a deployment without a session secret: status=%d, want 401", got)
	}
}

// Revoking an account's keys, or rotating them, ends at once every dashboard session made while
// they stood, whether signed in with a key or through a login link; a key a rotation replaced
// still calls the API through its grace, but signs no one in to the dashboard.
func TestRevokedOrRotatedKeysEndTheirSessions(t *testing.T) {
	h := MustHarness(t)
	ctx := context.Background()
	key := dynamo.NewAPIKey()
	if err := h.env.Store.CreateAccount(ctx, ringfence.Account{ID: "acct_b", Name: "B"}, key); err != nil {
		t.Fatal(err)
	}
	login := func(key string) events.APIGatewayV2HTTPResponse {
		return invoke(t, h.srv.Management(), dashboardRequest(t, "POST /dashboard/login", "", "api_key="+url.QueryEscape(key)))
	}
	linked := func() string {
		link := httpapi.LoginToken(testSessionSecret, "acct_b", time.Now().Add(httpapi.LoginLinkLifetime))
		return sessionCookie(t, invoke(t, h.srv.Management(), dashboardRequest(t, "GET /dashboard/login", "token="+url.QueryEscape(link), "")))
	}
	pause := func(cookie string) int {
		req := dashboardRequest(t, "POST /dashboard/campaigns/{id}/{action}", "", "", cookie)
		req.PathParameters = map[string]string{"id": "cmp_x", "action": "pause"}
		return invoke(t, h.srv.Management(), req).StatusCode
	}

	byKey, byLink := sessionCookie(t, login(key)), linked()
	for _, c := range []string{byKey, byLink} {
		if got := h.dashboardStatus(t, h.srv, c); got != 200 {
			t.Fatalf("dashboard before the rotation: status=%d, want 200", got)
		}
	}
	next := dynamo.NewAPIKey()
	if err := h.env.Store.RotateAPIKey(ctx, "acct_b", next, time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{byKey, byLink} {
		if got := h.dashboardStatus(t, h.srv, c); got != 401 {
			t.Fatalf("dashboard with a session of the rotated keys: status=%d, want 401", got)
		}
		if got := pause(c); got != 401 {
			t.Fatalf("dashboard pause with a session of the rotated keys: status=%d, want 401", got)
		}
	}
	if resp := login(key); resp.StatusCode != 401 || len(resp.Cookies) != 0 {
		t.Fatalf("sign-in with the replaced key in its grace: status=%d cookies=%v, want 401 and no cookie", resp.StatusCode, resp.Cookies)
	}

	byKey, byLink = sessionCookie(t, login(next)), linked()
	if n, err := h.env.Store.RevokeAPIKeys(ctx, "acct_b"); err != nil || n != 2 {
		t.Fatalf("RevokeAPIKeys=%d, %v", n, err)
	}
	for _, c := range []string{byKey, byLink} {
		if got := h.dashboardStatus(t, h.srv, c); got != 401 {
			t.Fatalf("dashboard with a session of the revoked keys: status=%d, want 401", got)
		}
		if got := pause(c); got != 401 {
			t.Fatalf("dashboard pause with a session of the revoked keys: status=%d, want 401", got)
		}
	}
}

// Every state-changing dashboard route takes the same origin check as the sign-in form: a
// campaign's button pressed from another site, with the visitor's session, changes nothing.
func TestDashboardButtonsFromAnotherSiteAreRefused(t *testing.T) {
	h := MustHarness(t)
	campaign, _ := h.MustCreateCampaign(t, 1)
	cookie := h.MustLogin(t)
	for _, headers := range []map[string]string{{"origin": "https://evil.example"}, {"origin": "null"}, {"sec-fetch-site": "cross-site"}} {
		req := dashboardRequest(t, "POST /dashboard/campaigns/{id}/{action}", "", "", cookie)
		req.PathParameters = map[string]string{"id": campaign.ID, "action": "cancel"}
		delete(req.Headers, "origin")
		for k, v := range headers {
			req.Headers[k] = v
		}
		if resp := invoke(t, h.srv.Management(), req); resp.StatusCode != 403 {
			t.Fatalf("cancel from %v: status=%d body=%s, want 403", headers, resp.StatusCode, resp.Body)
		}
	}
	if got := h.MustGetCampaign(t, campaign.ID); got.Status == "cancelled" {
		t.Fatal("a button pressed from another site cancelled the campaign")
	}
	req := dashboardRequest(t, "POST /dashboard/campaigns/{id}/{action}", "", "", cookie)
	req.PathParameters = map[string]string{"id": campaign.ID, "action": "cancel"}
	MustDecode(t, invoke(t, h.srv.Management(), req), 303, nil)
}
