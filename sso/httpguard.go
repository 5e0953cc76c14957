package sso

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// ErrPrivateAddress: an outgoing request (OIDC discovery, keys, token,
// userinfo) was refused because its address is loopback, private,
// link-local or otherwise not public. An organization's owner chooses the
// URLs the Service fetches; without this rule they could make it reach the
// host's own network (server-side request forgery). See
// Config.InsecureAllowPrivateNetworks.
var ErrPrivateAddress = errors.New("sso: refusing to fetch from a loopback, private or link-local address (Config.InsecureAllowPrivateNetworks allows it for development)")

// defaultHTTPTimeout bounds each outgoing request of the default client.
const defaultHTTPTimeout = 10 * time.Second

// nonPublic are special-purpose ranges that IsGlobalUnicast and IsPrivate
// do not exclude: carrier-grade NAT, IETF protocol assignments,
// benchmarking, reserved, and the IPv6 translations that reach IPv4
// (NAT64, 6to4).
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2002::/16"),
}

// publicAddr reports whether ip is an address on the public internet.
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// numericHost reports whether host is an address in one of the forms a
// resolver may accept besides the canonical one (inet_aton: "127.1",
// "0x7f000001", "2130706433", "017700000001"): every dot-separated part is
// decimal, octal or 0x-hexadecimal digits. No DNS name is made of such
// parts (top-level domains are not numeric).
func numericHost(host string) bool {
	for _, part := range strings.Split(host, ".") {
		p := strings.TrimPrefix(strings.TrimPrefix(part, "0x"), "0X")
		if p == "" && part == "" {
			return false
		}
		for i := 0; i < len(p); i++ {
			c := p[i]
			if !('0' <= c && c <= '9') && !(p != part && ('a' <= c && c <= 'f' || 'A' <= c && c <= 'F')) {
				return false
			}
		}
	}
	return true
}

// outgoingClient returns the client the Service fetches with. Without
// allowPrivate, the default client's dialer refuses every address that is
// not public, at connect time (so DNS answers that point inside, and
// redirects, are refused too), and does not use a proxy; a host's own
// client keeps its transport, wrapped to refuse URLs whose host is a
// loopback name or a non-public literal address (the host's dialer owns the
// rest).
func outgoingClient(base *http.Client, allowPrivate bool) *http.Client {
	if allowPrivate {
		if base != nil {
			return base
		}
		return &http.Client{Timeout: defaultHTTPTimeout}
	}
	if base == nil {
		d := &net.Dialer{Timeout: defaultHTTPTimeout, Control: func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return ErrPrivateAddress
			}
			ip, err := netip.ParseAddr(host)
			if err != nil || !publicAddr(ip) {
				return ErrPrivateAddress
			}
			return nil
		}}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.Proxy = nil
		tr.DialContext = d.DialContext
		return &http.Client{Transport: tr, Timeout: defaultHTTPTimeout}
	}
	c := *base
	next := base.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = hostGuard{next: next}
	return &c
}

// hostGuard refuses requests to loopback names and non-public literal
// addresses before its transport sees them.
type hostGuard struct{ next http.RoundTripper }

func (g hostGuard) RoundTrip(r *http.Request) (*http.Response, error) {
	host := strings.TrimSuffix(strings.ToLower(r.URL.Hostname()), ".")
	ip, err := netip.ParseAddr(host)
	refuse := host == "localhost" || strings.HasSuffix(host, ".localhost") || host == "" ||
		(err == nil && !publicAddr(ip)) || (err != nil && numericHost(host))
	if refuse {
		if r.Body != nil {
			_ = r.Body.Close() // a RoundTripper closes the body, even on error
		}
		return nil, ErrPrivateAddress
	}
	return g.next.RoundTrip(r)
}
