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

// cgnat is the shared address space of carrier-grade NAT (RFC 6598), not
// public either.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// publicAddr reports whether ip is an address on the public internet.
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsValid() && ip.IsGlobalUnicast() && !ip.IsPrivate() && !cgnat.Contains(ip) &&
		!(ip.Is4() && ip.As4()[0] == 0)
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
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || (err == nil && !publicAddr(ip)) {
		if r.Body != nil {
			_ = r.Body.Close() // a RoundTripper closes the body, even on error
		}
		return nil, ErrPrivateAddress
	}
	return g.next.RoundTrip(r)
}
