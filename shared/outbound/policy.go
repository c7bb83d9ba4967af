package outbound

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/ringfence/ringfence/shared/ringfence"
)

// Policy says where events may be sent. It is checked twice: on the URL when an endpoint is
// registered, and on the address the deliverer connects to, since a name can resolve to another
// address later than it did at registration.
type Policy struct {
	// AllowLoopback accepts a receiver on the developer's own machine: http:// or https:// to
	// localhost, 127.0.0.0/8 or ::1, and nothing else that is not public. Only
	// RINGFENCE_LOOPBACK_ENDPOINTS sets it, which the local runner sets and template.yaml never does.
	AllowLoopback bool
}

// MaxURLLength bounds an endpoint's URL.
const MaxURLLength = 2048

// refusedPrefixes are the address ranges that no event is sent to, beyond those net/netip names
// (private, loopback, link-local, multicast, unspecified): they are not the public Internet, or
// they carry an IPv4 address inside an IPv6 one, which would let it past the IPv4 checks.
var refusedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),        // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),    // shared address space (CGNAT), Alibaba's metadata
	netip.MustParsePrefix("192.0.0.0/24"),     // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),     // documentation
	netip.MustParsePrefix("198.18.0.0/15"),    // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"),  // documentation
	netip.MustParsePrefix("203.0.113.0/24"),   // documentation
	netip.MustParsePrefix("240.0.0.0/4"),      // reserved, and the broadcast address
	netip.MustParsePrefix("168.63.129.16/32"), // Azure's host address (metadata and DNS)
	netip.MustParsePrefix("::/96"),            // IPv4-compatible (and ::, ::1)
	netip.MustParsePrefix("::ffff:0:0/96"),    // IPv4-mapped
	netip.MustParsePrefix("64:ff9b::/96"),     // NAT64
	netip.MustParsePrefix("64:ff9b:1::/48"),   // local NAT64
	netip.MustParsePrefix("100::/64"),         // discard
	netip.MustParsePrefix("2001::/32"),        // Teredo
	netip.MustParsePrefix("2001:db8::/32"),    // documentation
	netip.MustParsePrefix("2002::/16"),        // 6to4
	netip.MustParsePrefix("fec0::/10"),        // site-local, deprecated
}

// refusedSuffixes end the names that lead inside a network: the clouds' metadata services
// (metadata.google.internal, instance-data.ec2.internal) and the names only a local resolver
// answers. Names without a dot (localhost, metadata, instance-data) are refused by checkHost.
var refusedSuffixes = []string{".localhost", ".internal", ".local", ".localdomain", ".home.arpa", ".intranet", ".lan"}

// CheckURL checks an endpoint's URL at registration: absolute, https:// (http:// only to a
// loopback receiver that the policy allows), no credentials, and a host that is a public
// address or a name with a dot that is neither numeric nor one of the names that lead inside.
// The URL is not echoed: it may be anything.
func (p Policy) CheckURL(raw string) error {
	if len(raw) > MaxURLLength {
		return ringfence.Errorf(ringfence.EINVALID, "url is longer than %d characters", MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.User != nil || u.Opaque != "" {
		return ringfence.Errorf(ringfence.EINVALID, "url must be an absolute https:// URL, without credentials")
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	loopback, err := p.checkHost(host)
	if err != nil {
		return err
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && loopback:
	default:
		return ringfence.Errorf(ringfence.EINVALID, "url must be https:// (plain http:// is accepted only for a local receiver on a loopback address)")
	}
	return nil
}

// checkHost checks a URL's host, and reports whether it is a loopback one the policy allows.
func (p Policy) checkHost(host string) (bool, error) {
	if addr, err := netip.ParseAddr(host); err == nil {
		if addr.Zone() != "" {
			return false, refused()
		}
		return addr.IsLoopback(), p.CheckAddr(addr)
	}
	if p.AllowLoopback && host == "localhost" {
		return true, nil
	}
	labels := strings.Split(host, ".")
	if len(labels) < 2 || isNumeric(labels[len(labels)-1]) {
		// A name without a dot is completed by the resolver's search list, and a numeric last
		// label is an address in another spelling (2130706433, 0x7f.1, 0177.0.0.1, 127.1).
		return false, refused()
	}
	for _, l := range labels {
		if !isLabel(l) {
			return false, ringfence.Errorf(ringfence.EINVALID, "url's host is not a valid name")
		}
	}
	for _, suffix := range refusedSuffixes {
		if strings.HasSuffix(host, suffix) {
			return false, refused()
		}
	}
	return false, nil
}

// CheckAddr checks an address the deliverer would connect to: public unicast only, or loopback
// when the policy allows a local receiver.
func (p Policy) CheckAddr(addr netip.Addr) error {
	if !addr.IsValid() {
		return refused()
	}
	if addr.IsLoopback() && p.AllowLoopback && (addr.Is4() || addr == netip.IPv6Loopback()) {
		return nil
	}
	if addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() ||
		addr.IsInterfaceLocalMulticast() || addr.IsMulticast() || addr.IsUnspecified() {
		return refused()
	}
	for _, prefix := range refusedPrefixes {
		if prefix.Contains(addr) {
			return refused()
		}
	}
	return nil
}

// errRefusedAddress is the dial-time refusal, which an attempt reports as "blocked".
var errRefusedAddress = errors.New("the address is not one events are sent to")

func refused() error {
	return ringfence.Errorf(ringfence.EINVALID, "url must lead to a public address: private, loopback, link-local, metadata and internal addresses and names are refused")
}

// isNumeric reports whether a label is a number in any base a resolver reads (decimal, octal
// with a leading 0, hex with 0x): no top-level domain is.
func isNumeric(label string) bool {
	s := label
	if strings.HasPrefix(s, "0x") {
		s = s[2:]
		return strings.Trim(s, "0123456789abcdef") == ""
	}
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// isLabel reports whether s is a DNS label: letters, digits and inner hyphens (an
// internationalized name comes as punycode), at most 63 characters.
func isLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// NewHTTPClient returns the client attempts are made with: a 10 s timeout; a connection only to
// an address the policy allows, checked on the address actually dialled (after resolution, for
// every address a name has); no proxy; and a redirect is an answer (a failed one), never
// followed, so an event goes only where the endpoint says.
func NewHTTPClient(p Policy) *http.Client {
	dialer := &net.Dialer{
		Timeout: AttemptTimeout,
		Control: func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return errRefusedAddress
			}
			addr, err := netip.ParseAddr(host)
			if err != nil || p.CheckAddr(addr) != nil {
				return errRefusedAddress
			}
			return nil
		},
	}
	transport := &http.Transport{
		Proxy:               nil,
		DialContext:         dialer.DialContext,
		TLSHandshakeTimeout: AttemptTimeout,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	return &http.Client{
		Timeout:       AttemptTimeout,
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// FailureClass names why an attempt got no answer, in a word: blocked (the address is not one
// events are sent to), timeout, dns, refused, tls, or connection. It is what the account sees,
// never the error's text, which names addresses and ports of the network the deliverer is in.
func FailureClass(err error) string {
	var dnsErr *net.DNSError
	var netErr net.Error
	var certErr *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var record tls.RecordHeaderError
	var alert tls.AlertError
	switch {
	case errors.Is(err, errRefusedAddress):
		return "blocked"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.As(err, &dnsErr):
		return "dns"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.As(err, &certErr), errors.As(err, &unknownAuthority), errors.As(err, &hostname),
		errors.As(err, &invalid), errors.As(err, &record), errors.As(err, &alert):
		return "tls"
	}
	return "connection"
}

// statusClass is how a failed answer is reported: its status code alone, since the reason
// phrase is the endpoint's own text.
func statusClass(code int) string { return fmt.Sprintf("status %d", code) }
