package oidc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/orgsso/orgsso/internal/text"
)

// Endpoints are the provider endpoints a RelyingParty calls. Discover reads
// them from the discovery document; hosts that pin endpoints give them to New.
type Endpoints struct {
	AuthURL     string // authorization_endpoint; required
	TokenURL    string // token_endpoint; required
	JWKSURL     string // jwks_uri; required
	UserInfoURL string // userinfo_endpoint; required when Config.UserInfo
	// ClientSecretPost sends the client credentials in the token request
	// body (client_secret_post) instead of HTTP Basic (client_secret_basic,
	// the default).
	ClientSecretPost bool
}

// RelyingParty is the OpenID Connect relying party for one provider and one
// client: it starts sign-ins, finishes them at the token endpoint and
// verifies ID tokens. It is safe for concurrent use. The provider's key set
// is cached and fetched again when a token names a key it does not hold.
type RelyingParty struct {
	s         *settings
	endpoints Endpoints
	oauth     oauth2.Config
	keys      gooidc.KeySet // RemoteKeySet, cached
	verifier  *gooidc.IDTokenVerifier
	ctx       context.Context // carries s.client for go-oidc and x/oauth2
}

// New returns a RelyingParty for the given endpoints, without any network
// call: the key set is fetched on the first verification.
func New(cfg Config, ep Endpoints) (*RelyingParty, error) {
	s, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	return newRP(s, ep)
}

func newRP(s *settings, ep Endpoints) (*RelyingParty, error) {
	for _, f := range []struct{ name, url string }{
		{"AuthURL", ep.AuthURL}, {"TokenURL", ep.TokenURL}, {"JWKSURL", ep.JWKSURL},
	} {
		if err := checkURL(f.url); err != nil {
			return nil, &ConfigError{Field: "Endpoints." + f.name, Reason: "must be an absolute https URL (http only for localhost)", Err: err}
		}
	}
	if ep.UserInfoURL != "" || s.UserInfo {
		if err := checkURL(ep.UserInfoURL); err != nil {
			return nil, &ConfigError{Field: "Endpoints.UserInfoURL", Reason: "must be an absolute https URL (http only for localhost) when UserInfo is on", Err: err}
		}
	}
	ctx := gooidc.ClientContext(context.Background(), s.client)
	keys := gooidc.NewRemoteKeySet(ctx, ep.JWKSURL)
	rp := &RelyingParty{s: s, endpoints: ep, ctx: ctx, keys: keys}
	style := oauth2.AuthStyleInHeader
	if ep.ClientSecretPost || s.ClientSecret == "" {
		style = oauth2.AuthStyleInParams
	}
	rp.oauth = oauth2.Config{
		ClientID:     s.ClientID,
		ClientSecret: string(s.ClientSecret),
		RedirectURL:  s.RedirectURL,
		Scopes:       s.Scopes,
		Endpoint:     oauth2.Endpoint{AuthURL: ep.AuthURL, TokenURL: ep.TokenURL, AuthStyle: style},
	}
	rp.verifier = gooidc.NewVerifier(s.Issuer, tracingKeySet{keys}, &gooidc.Config{
		ClientID:             s.ClientID,
		SupportedSigningAlgs: s.algs,
		SkipExpiryCheck:      true, // our own time checks: the org's skew, the injected clock
	})
	return rp, nil
}

// discoveryDoc is the part of the discovery document a RelyingParty reads.
type discoveryDoc struct {
	Issuer            string   `json:"issuer"`
	AuthURL           string   `json:"authorization_endpoint"`
	TokenURL          string   `json:"token_endpoint"`
	JWKSURL           string   `json:"jwks_uri"`
	UserInfoURL       string   `json:"userinfo_endpoint"`
	TokenAuthMethods  []string `json:"token_endpoint_auth_methods_supported"`
	CodeChallengeAlgs []string `json:"code_challenge_methods_supported"`
}

// Discover fetches {Issuer}/.well-known/openid-configuration (bounded by
// MaxResponseBytes, with the configured client), requires its issuer to equal
// Config.Issuer exactly and every endpoint to be https, and returns a
// RelyingParty for it. The key set is fetched on the first verification.
// Failures are *ValidationError with CheckDiscovery.
func Discover(ctx context.Context, cfg Config) (*RelyingParty, error) {
	s, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	p, err := gooidc.NewProvider(gooidc.ClientContext(ctx, s.client), s.Issuer)
	if err != nil {
		var mis *gooidc.IssuerMismatchError
		if errors.As(err, &mis) {
			return nil, mismatch(CheckDiscovery, "discovered issuer", s.Issuer, mis.Discovered)
		}
		return nil, wrapFail(CheckDiscovery, "fetching the discovery document failed", err)
	}
	var doc discoveryDoc
	if err := p.Claims(&doc); err != nil {
		return nil, wrapFail(CheckDiscovery, "the discovery document is not valid JSON", err)
	}
	if doc.Issuer != s.Issuer { // go-oidc checked; kept as the invariant we rely on
		return nil, mismatch(CheckDiscovery, "discovered issuer", s.Issuer, doc.Issuer)
	}
	ep := Endpoints{AuthURL: doc.AuthURL, TokenURL: doc.TokenURL, JWKSURL: doc.JWKSURL, UserInfoURL: doc.UserInfoURL}
	for _, f := range []struct{ name, url string }{
		{"authorization_endpoint", ep.AuthURL}, {"token_endpoint", ep.TokenURL},
		{"jwks_uri", ep.JWKSURL}, {"userinfo_endpoint", ep.UserInfoURL},
	} {
		if f.url == "" && f.name == "userinfo_endpoint" && !s.UserInfo {
			continue
		}
		if err := checkURL(f.url); err != nil {
			return nil, &ValidationError{Check: CheckDiscovery, Reason: f.name + " is not an https URL", Got: text.Truncate(f.url, maxQuoted), Err: err}
		}
	}
	if len(doc.CodeChallengeAlgs) > 0 && !slices.Contains(doc.CodeChallengeAlgs, "S256") {
		return nil, fail(CheckDiscovery, "the provider does not support PKCE with S256")
	}
	// client_secret_basic is the default (RFC 8414); use post only when the
	// provider lists it and not basic.
	if len(doc.TokenAuthMethods) > 0 && !slices.Contains(doc.TokenAuthMethods, "client_secret_basic") &&
		slices.Contains(doc.TokenAuthMethods, "client_secret_post") {
		ep.ClientSecretPost = true
	}
	return newRP(s, ep)
}

// Endpoints returns the provider endpoints the RelyingParty calls.
func (rp *RelyingParty) Endpoints() Endpoints { return rp.endpoints }

// boundedClient copies c (or makes a default client), gives it a timeout when
// it has none, bounds every response body to max bytes, and refuses
// redirects to anything but https (or http on localhost).
func boundedClient(c *http.Client, max int64) *http.Client {
	var cp http.Client
	if c != nil {
		cp = *c
	}
	var timeout time.Duration
	if cp.Timeout <= 0 {
		// A per-request context deadline in the transport rather than
		// Client.Timeout: the same bound without the client's timer
		// goroutine per request.
		timeout = DefaultHTTPTimeout
	}
	base := cp.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cp.Transport = limitTransport{base: base, max: max, timeout: timeout}
	next := cp.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := checkURL(req.URL.String()); err != nil {
			return fmt.Errorf("redirect refused: %w", err)
		}
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &cp
}

// errBodyTooLarge is the read error of a response body over the limit.
var errBodyTooLarge = errors.New("response body larger than MaxResponseBytes")

// limitTransport bounds every response body: reading past max bytes fails
// with errBodyTooLarge (rather than silently truncating, which could turn a
// large JWKS into a different, smaller valid one).
type limitTransport struct {
	base    http.RoundTripper
	max     int64
	timeout time.Duration // per request, body included; 0 = the client's own
}

// RoundTrip implements http.RoundTripper.
func (t limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	cancel := context.CancelFunc(func() {})
	if t.timeout > 0 {
		var ctx context.Context
		ctx, cancel = context.WithTimeout(req.Context(), t.timeout)
		req = req.WithContext(ctx)
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		cancel()
		return nil, err
	}
	if resp.ContentLength > t.max {
		resp.Body.Close()
		cancel()
		return nil, errBodyTooLarge
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.max, cancel: cancel}
	return resp, nil
}

type limitedBody struct {
	rc     io.ReadCloser
	left   int64
	cancel context.CancelFunc // ends the request's deadline with the body
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, errBodyTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return 0, errBodyTooLarge
	}
	return n, err
}

func (b *limitedBody) Close() error {
	defer b.cancel()
	return b.rc.Close()
}

// isTimeout reports whether err is a timeout of the HTTP client or context.
func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &te) && te.Timeout())
}
