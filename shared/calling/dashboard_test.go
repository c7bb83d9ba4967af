package calling_test

import (
	"bytes"
	"image/png"
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
	link := func() string {
		return s.base + "/dashboard/login?token=" + httpapi.LoginToken(s.fn("api").Config.SessionSecret, "acct_test", time.Now().Add(httpapi.LoginLinkLifetime))
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

	shot := filepath.Join(t.TempDir(), "dashboard.png")
	headless(t, browser, link(), "--screenshot="+shot, "--window-size=1280,900", "--hide-scrollbars")
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
		os.WriteFile(filepath.Join(dir, "dashboard.png"), b, 0o644)
	}
}
