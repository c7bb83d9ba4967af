package calling_test

import (
	"bytes"
	"fmt"
	"image/png"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringfence/ringfence/infra/simulator"
	"github.com/ringfence/ringfence/shared/httpapi"
)

// chromium finds a headless-capable Chromium. CI installs Debian's (make test does, as root);
// elsewhere the browser tests are skipped when there is none.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("Chromium is required in CI: make test installs Debian's chromium when run as root")
	}
	t.Skip("no Chromium on this machine (apt-get install chromium); the dashboard's browser test is skipped")
	return ""
}

// headless runs Chromium headless on url with extra flags and returns what it printed.
func headless(t *testing.T, browser, url string, flags ...string) string {
	t.Helper()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir=" + t.TempDir()}, flags...)
	cmd := exec.Command(browser, append(args, url)...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("chromium: %v\n%s", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("chromium did not finish in a minute")
	}
	return out.String()
}

// The dashboard, loaded in headless Chromium through a login link against a running stack,
// shows a finished demo campaign correctly: its progress, outcomes and cost, the slots, and the
// recent activity. A screenshot of it is taken and checked to be a real, non-blank page.
func TestDashboardInChromium(t *testing.T) {
	browser := chromium(t)
	s := MustStack(t, simulator.Options{CallLength: 10 * time.Millisecond, Seed: 21}, 5, 3)
	var c campaignView
	s.do(t, "POST", "/campaigns", `{"name":"Demo renewals","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100","contacts":`+contacts(8)+`}`, 201, &c)
	s.do(t, "POST", "/campaigns/"+c.ID+"/start", "", 202, nil)
	waitFor(t, 30*time.Second, "the demo campaign to complete", func() bool {
		var got campaignView
		s.do(t, "GET", "/campaigns/"+c.ID, "", 200, &got)
		return got.Status == "completed"
	})
	s.sim.Wait()
	var got campaignView
	s.do(t, "GET", "/campaigns/"+c.ID, "", 200, &got)

	// A login link signs in once, so each browser run gets its own.
	link := func(next ...string) string {
		url := s.base + "/dashboard/login?token=" + httpapi.LoginToken(s.fn("api").Config.SessionSecret, "acct_test", time.Now().Add(httpapi.LoginLinkLifetime))
		if len(next) > 0 {
			url += "&next=" + neturl.QueryEscape(next[0])
		}
		return url
	}
	dom := headless(t, browser, link(), "--dump-dom")
	for _, want := range []string{"Demo renewals", c.ID, "8 / 8", "completed", "campaign slots in use", "0 / 3", got.TotalCost, "first_terminal"} {
		if !strings.Contains(dom, want) {
			t.Fatalf("the dashboard does not show %q:\n%s", want, dom)
		}
	}
	for outcome, n := range got.Outcomes {
		if !strings.Contains(dom, outcome+" "+strconv.Itoa(n)) {
			t.Fatalf("the dashboard does not show %s %d", outcome, n)
		}
	}
	// Without a session, the same page is the sign-in form.
	if anon := headless(t, browser, s.base+"/dashboard", "--dump-dom"); !strings.Contains(anon, `name="api_key"`) || strings.Contains(anon, c.ID) {
		t.Fatalf("an anonymous visitor sees:\n%s", anon)
	}

	checkScreenshot(t, browser, link(), "dashboard.png")
	checkCampaignPages(t, s, browser, link, c, got)
}

// checkScreenshot takes a screenshot of url in Chromium, checks it is a real, non-blank page, and
// keeps it in $RINGFENCE_SCREENSHOT_DIR when that is set.
func checkScreenshot(t *testing.T, browser, url, name string) {
	t.Helper()
	shot := filepath.Join(t.TempDir(), name)
	headless(t, browser, url, "--screenshot="+shot, "--window-size=1280,900", "--hide-scrollbars")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 900 {
		t.Fatalf("screenshot is %v, want 1280x900", b)
	}
	colours := map[uint32]bool{}
	for y := 0; y < 900; y += 7 {
		for x := 0; x < 1280; x += 7 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[r>>12<<8|g>>12<<4|b>>12] = true
		}
	}
	if len(colours) < 4 {
		t.Fatalf("the screenshot has %d colours: a blank page", len(colours))
	}
	if dir := os.Getenv("RINGFENCE_SCREENSHOT_DIR"); dir != "" {
		b, _ := os.ReadFile(shot)
		os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
}

// checkCampaignPages opens the finished campaign's page in Chromium (its charts, numbers and
// calls, then filtered to one outcome), and the page of a campaign still running, whose calls
// wait for their calling hours; it keeps a screenshot of the finished campaign's page.
func checkCampaignPages(t *testing.T, s *stack, browser string, link func(...string) string, c, got campaignView) {
	t.Helper()
	page := "/dashboard/campaigns/" + c.ID
	dom := headless(t, browser, link(page), "--dump-dom")
	for _, want := range []string{"Demo renewals", `id="chart-ended"`, `<title id="chart-ended-title">`, `id="chart-cost"`,
		`id="chart-answer-rate"`, `id="hours-table"`, `id="answer-rate">`, `id="cost-per-answered">`, `id="total-cost">` + got.TotalCost + "<",
		`href="/dashboard/campaigns/` + c.ID + `/calls.csv"`, "<rect "} {
		if !strings.Contains(dom, want) {
			t.Fatalf("the campaign page does not show %q:\n%s", want, dom)
		}
	}
	if n := strings.Count(dom, `data-call="`); n != 8 {
		t.Fatalf("the campaign page lists %d calls, want 8", n)
	}
	filtered := headless(t, browser, link(page+"?outcome=completed"), "--dump-dom")
	if n := strings.Count(filtered, `data-call="`); n != got.Outcomes["completed"] {
		t.Fatalf("filtered to completed, the page lists %d calls, want %d", n, got.Outcomes["completed"])
	}
	if !strings.Contains(filtered, `<option value="completed" selected`) {
		t.Fatal("the filtered page does not show its filter as chosen")
	}
	checkScreenshot(t, browser, link(page), "campaign.png")

	// A campaign that runs outside its calling hours: its calls wait, and the page says for what.
	h := time.Now().UTC().Hour()
	start := (h + 2) % 24
	if start > 21 {
		start = 1
	}
	hours := fmt.Sprintf(`{"timezone":"UTC","days":["mon","tue","wed","thu","fri","sat","sun"],"start":"%02d:00","end":"%02d:00"}`, start, start+1)
	var running campaignView
	s.do(t, "POST", "/campaigns", `{"name":"After hours","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100","calling_hours":`+hours+`,"contacts":`+contacts(3)+`}`, 201, &running)
	s.do(t, "POST", "/campaigns/"+running.ID+"/start", "", 202, nil)
	dom = headless(t, browser, link("/dashboard/campaigns/"+running.ID), "--dump-dom")
	for _, want := range []string{`id="campaign-status">running<`, `data-status="queued"`, "calling hours", "pause</button>"} {
		if !strings.Contains(dom, want) {
			t.Fatalf("the running campaign's page does not show %q:\n%s", want, dom)
		}
	}
}
