package outbound_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/ringfence/ringfence/shared/outbound"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// An endpoint's URL is https:// to a public name or address. Private, loopback, link-local,
// unique-local, IPv4-mapped or -compatible, unspecified, shared (CGNAT) and benchmark addresses,
// the clouds' metadata addresses and names, and the numeric spellings of an address that a
// resolver reads as one (2130706433, 0x7f.1, 0177.0.0.1) are refused; plain http:// and loopback
// only when the policy allows a local receiver.
func TestPolicyCheckURL(t *testing.T) {
	local := outbound.Policy{AllowLoopback: true}
	tests := []struct {
		url    string
		policy outbound.Policy
		valid  bool
	}{
		{"https://crm.example.com/hook", outbound.Policy{}, true},
		{"https://crm.example.com:8443/hook?x=1", outbound.Policy{}, true},
		{"https://CRM.Example.COM./hook", outbound.Policy{}, true},
		{"https://93.184.215.14/hook", outbound.Policy{}, true},
		{"https://[2606:4700::1111]/hook", outbound.Policy{}, true},
		{"https://api.10x.example/hook", outbound.Policy{}, true},

		// The probes.
		{"https://169.254.169.254/latest/meta-data/", outbound.Policy{}, false},
		{"https://10.0.0.1/", outbound.Policy{}, false},
		{"https://192.168.1.1:8443", outbound.Policy{}, false},
		{"https://[::ffff:169.254.169.254]/", outbound.Policy{}, false},
		{"https://2130706433/", outbound.Policy{}, false},
		{"https://localhost:2375", outbound.Policy{}, false},
		{"https://metadata.google.internal/", outbound.Policy{}, false},
		{"https://[fd00::1]/", outbound.Policy{}, false},

		// Their kin.
		{"https://172.16.0.1/", outbound.Policy{}, false},
		{"https://127.0.0.1/", outbound.Policy{}, false},
		{"https://127.1/", outbound.Policy{}, false},
		{"https://0x7f.1/", outbound.Policy{}, false},
		{"https://0x7f000001/", outbound.Policy{}, false},
		{"https://0177.0.0.1/", outbound.Policy{}, false},
		{"https://017700000001/", outbound.Policy{}, false},
		{"https://0.0.0.0/", outbound.Policy{}, false},
		{"https://[::]/", outbound.Policy{}, false},
		{"https://[::1]/", outbound.Policy{}, false},
		{"https://[::127.0.0.1]/", outbound.Policy{}, false},
		{"https://[::ffff:7f00:1]/", outbound.Policy{}, false},
		{"https://[64:ff9b::a00:1]/", outbound.Policy{}, false},
		{"https://[2002:a00:1::]/", outbound.Policy{}, false},
		{"https://[fe80::1%25eth0]/", outbound.Policy{}, false},
		{"https://[fd00:ec2::254]/", outbound.Policy{}, false},
		{"https://100.64.0.1/", outbound.Policy{}, false},
		{"https://100.100.100.200/", outbound.Policy{}, false},
		{"https://198.18.0.1/", outbound.Policy{}, false},
		{"https://224.0.0.1/", outbound.Policy{}, false},
		{"https://255.255.255.255/", outbound.Policy{}, false},
		{"https://168.63.129.16/", outbound.Policy{}, false},
		{"https://metadata/", outbound.Policy{}, false},
		{"https://instance-data.ec2.internal/", outbound.Policy{}, false},
		{"https://db.corp.internal/", outbound.Policy{}, false},
		{"https://printer.local/", outbound.Policy{}, false},
		{"https://app.localhost/", outbound.Policy{}, false},
		{"https://intranet/", outbound.Policy{}, false},
		{"https://exa_mple.com/", outbound.Policy{}, false},

		// The form of the URL.
		{"http://crm.example.com/hook", outbound.Policy{}, false},
		{"http://crm.example.com/hook", local, false},
		{"https://user:pass@crm.example.com/hook", outbound.Policy{}, false},
		{"ftp://crm.example.com/hook", outbound.Policy{}, false},
		{"crm.example.com/hook", outbound.Policy{}, false},
		{"", outbound.Policy{}, false},
		{"https://crm.example.com/" + strings.Repeat("x", 2048), outbound.Policy{}, false},

		// A local receiver, only when allowed: loopback, never private space.
		{"http://127.0.0.1:4000/events", outbound.Policy{}, false},
		{"http://127.0.0.1:4000/events", local, true},
		{"http://localhost:4000/events", local, true},
		{"http://[::1]:4000/events", local, true},
		{"https://127.0.0.1:4000/events", local, true},
		{"http://10.0.0.1/events", local, false},
		{"http://169.254.169.254/", local, false},
		{"http://2130706433:4000/", local, false},
	}
	for _, tt := range tests {
		err := tt.policy.CheckURL(tt.url)
		if got := err == nil; got != tt.valid {
			t.Fatalf("CheckURL(%.60q, loopback %v) valid=%v (%v), want %v", tt.url, tt.policy.AllowLoopback, got, err, tt.valid)
		}
		if err != nil && ringfence.ErrorCode(err) != ringfence.EINVALID {
			t.Fatalf("CheckURL(%q) code=%s, want %s", tt.url, ringfence.ErrorCode(err), ringfence.EINVALID)
		}
	}
}

// At dial time the address a name resolved to is checked again, whatever the URL said: a name
// can point at a private address after it was registered.
func TestPolicyCheckAddr(t *testing.T) {
	for _, tt := range []struct {
		addr     string
		loopback bool
		allowed  bool
	}{
		{"93.184.215.14", false, true},
		{"2606:4700::1111", false, true},
		{"127.0.0.1", false, false},
		{"127.0.0.1", true, true},
		{"::1", true, true},
		{"::ffff:127.0.0.1", true, false},
		{"10.1.2.3", true, false},
		{"169.254.169.254", false, false},
		{"fd00:ec2::254", false, false},
		{"::ffff:169.254.169.254", false, false},
		{"0.0.0.0", true, false},
	} {
		err := outbound.Policy{AllowLoopback: tt.loopback}.CheckAddr(netip.MustParseAddr(tt.addr))
		if got := err == nil; got != tt.allowed {
			t.Fatalf("CheckAddr(%s, loopback %v) allowed=%v (%v), want %v", tt.addr, tt.loopback, got, err, tt.allowed)
		}
	}
}

// The client checks the address it connects to: a receiver on loopback is reached only when the
// policy allows one, and a redirect is an answer, never followed.
func TestClientDialsOnlyWhereThePolicyAllows(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	get := func(p outbound.Policy, path string) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+path, nil)
		resp, err := outbound.NewHTTPClient(p).Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return resp, err
	}
	if _, err := get(outbound.Policy{}, "/"); err == nil || outbound.FailureClass(err) != "blocked" {
		t.Fatalf("strict client to a loopback receiver: err=%v (class %q), want it blocked", err, outbound.FailureClass(err))
	}
	resp, err := get(outbound.Policy{AllowLoopback: true}, "/")
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("local client to a loopback receiver: %v, want 204", err)
	}
	resp, err = get(outbound.Policy{AllowLoopback: true}, "/moved")
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("redirect: %v, want the 302 itself", err)
	}
}

// A failed attempt is told by its class, never by the dial error's text, which would map the
// network behind the deliverer (hosts, ports, addresses).
func TestFailureClass(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	addr := closed.URL
	closed.Close()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, addr, nil)
	_, err := outbound.NewHTTPClient(outbound.Policy{AllowLoopback: true}).Do(req)
	if got := outbound.FailureClass(err); got != "refused" {
		t.Fatalf("FailureClass(%v)=%q, want refused", err, got)
	}
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()
	req, _ = http.NewRequestWithContext(context.Background(), http.MethodGet, tlsSrv.URL, nil)
	_, err = outbound.NewHTTPClient(outbound.Policy{AllowLoopback: true}).Do(req)
	if got := outbound.FailureClass(err); got != "tls" {
		t.Fatalf("FailureClass(%v)=%q, want tls", err, got)
	}
	for err, want := range map[error]string{
		&net.DNSError{Err: "no such host", Name: "crm.example.com", IsNotFound: true}: "dns",
		context.DeadlineExceeded:               "timeout",
		errors.New("connection reset by peer"): "connection",
	} {
		if got := outbound.FailureClass(&url.Error{Op: "Post", URL: "https://crm.example.com/", Err: err}); got != want {
			t.Fatalf("FailureClass(%v)=%q, want %q", err, got, want)
		}
	}
}
