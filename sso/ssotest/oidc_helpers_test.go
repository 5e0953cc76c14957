package ssotest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/orgsso/orgsso/sso/ssotest"
)

// The relying party the OIDC tests register.
const (
	rpClientID    = "app"
	rpSecret      = "app-secret"
	rpRedirectURI = "https://app.example.com/oidc/callback"
	rpOtherClient = "other-app"
)

// oidcClock is a clock the tests move.
type oidcClock struct {
	mu  sync.Mutex
	now time.Time
}

func newOIDCClock() *oidcClock { return &oidcClock{now: t0} }

func (c *oidcClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *oidcClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// oidcEnv is a test OpenID provider on an httptest server and an independent
// relying party (go-oidc + x/oauth2) configured against it.
type oidcEnv struct {
	op       *ssotest.OIDCProvider
	srv      *httptest.Server
	clock    *oidcClock
	jwksHits atomic.Int32
	ctx      context.Context
	provider *oidc.Provider
	conf     oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// newOIDCEnv starts a provider from cfg (Issuer, Now, Clients and a fixed
// Key and OtherKey filled in when unset) and discovers it with go-oidc.
func newOIDCEnv(t *testing.T, cfg ssotest.OIDCConfig) *oidcEnv {
	t.Helper()
	env := &oidcEnv{clock: newOIDCClock(), ctx: context.Background()}
	mux := http.NewServeMux()
	env.srv = httptest.NewServer(mux)
	t.Cleanup(env.srv.Close)

	cfg.Issuer = env.srv.URL
	if cfg.Now == nil {
		cfg.Now = env.clock.Now
	}
	if cfg.Clients == nil {
		cfg.Clients = []ssotest.OIDCClient{
			{ID: rpClientID, Secret: rpSecret, RedirectURIs: []string{rpRedirectURI}},
			{ID: rpOtherClient, Secret: "other-secret", RedirectURIs: []string{"https://other.example.com/cb"}},
		}
	}
	if cfg.Key == nil && cfg.Algorithm != ssotest.ES256 {
		cfg.Key = idpKey()
		if cfg.OtherKey == nil {
			cfg.OtherKey = otherKey()
		}
	}
	op, err := ssotest.NewOIDC(cfg)
	if err != nil {
		t.Fatalf("NewOIDC() err = %v", err)
	}
	env.op = op
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == ssotest.OIDCJWKSPath {
			env.jwksHits.Add(1)
		}
		op.ServeHTTP(w, r)
	}))

	env.provider, err = oidc.NewProvider(env.ctx, env.srv.URL)
	if err != nil {
		t.Fatalf("oidc.NewProvider() err = %v", err)
	}
	env.conf = oauth2.Config{
		ClientID:     rpClientID,
		ClientSecret: rpSecret,
		Endpoint:     env.provider.Endpoint(),
		RedirectURL:  rpRedirectURI,
		Scopes:       []string{oidc.ScopeOpenID, "email", "profile"},
	}
	env.verifier = env.provider.Verifier(&oidc.Config{ClientID: rpClientID, Now: env.clock.Now})
	return env
}

// flow is one sign-in's secrets, as the relying party keeps them.
type flow struct {
	state, nonce, verifier string
}

func newFlow() flow {
	return flow{state: "st-" + oauth2.GenerateVerifier()[:8], nonce: "n-" + oauth2.GenerateVerifier()[:12], verifier: oauth2.GenerateVerifier()}
}

// authCodeURL is where the relying party sends the browser for f.
func (e *oidcEnv) authCodeURL(f flow, extra ...oauth2.AuthCodeOption) string {
	opts := append([]oauth2.AuthCodeOption{oidc.Nonce(f.nonce), oauth2.S256ChallengeOption(f.verifier)}, extra...)
	return e.conf.AuthCodeURL(f.state, opts...)
}

// get requests u as a browser would, without following redirects.
func (e *oidcEnv) get(t *testing.T, u string) *http.Response {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// authorize runs the authorization step for f through HTTP and returns the
// callback URL it redirects to.
func (e *oidcEnv) authorize(t *testing.T, f flow, extra ...oauth2.AuthCodeOption) *url.URL {
	t.Helper()
	resp := e.get(t, e.authCodeURL(f, extra...))
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize status = %d; want 302", resp.StatusCode)
	}
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("authorize Location: %v", err)
	}
	return loc
}

// callback is what the relying party's callback handler does: check state,
// exchange the code with the verifier, and verify the ID token with go-oidc.
// It returns the token response even when verification fails.
func (e *oidcEnv) callback(t *testing.T, f flow, cb *url.URL) (*oauth2.Token, *oidc.IDToken, error) {
	t.Helper()
	q := cb.Query()
	if q.Get("state") != f.state {
		t.Fatalf("callback state = %q; want %q", q.Get("state"), f.state)
	}
	if q.Get("error") != "" {
		return nil, nil, fmt.Errorf("authorize error %s: %s", q.Get("error"), q.Get("error_description"))
	}
	tok, err := e.conf.Exchange(e.ctx, q.Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		return nil, nil, err
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return tok, nil, errNoIDToken
	}
	idt, err := e.verifier.Verify(e.ctx, raw)
	return tok, idt, err
}

// signIn is authorize then callback, with the test RP's own checks.
func (e *oidcEnv) signIn(t *testing.T) (*oauth2.Token, *oidc.IDToken, error) {
	t.Helper()
	f := newFlow()
	tok, idt, err := e.callback(t, f, e.authorize(t, f))
	if err != nil {
		return tok, idt, err
	}
	return tok, idt, rpChecks(idt, f.nonce, rpClientID, e.clock.Now())
}

// The checks the test relying party makes on top of go-oidc's, which checks
// signature, alg, iss, aud, exp and nbf but not these (OpenID Connect Core
// 3.1.3.7 items 5, 6, 10, 11; email_verified is the RP's to judge).
var (
	errNoIDToken     = errors.New("rp: token response has no id_token")
	errNonce         = errors.New("rp: nonce missing or not the one sent")
	errAZP           = errors.New("rp: several audiences without azp, or azp is another client")
	errIssuedAt      = errors.New("rp: iat is in the future")
	errEmailVerified = errors.New("rp: email_verified is not the boolean true")
)

// rpSkew is the test RP's allowance for clock differences.
const rpSkew = time.Minute

func rpChecks(idt *oidc.IDToken, nonce, clientID string, now time.Time) error {
	var c struct {
		AZP           string          `json:"azp"`
		EmailVerified json.RawMessage `json:"email_verified"`
	}
	if err := idt.Claims(&c); err != nil {
		return err
	}
	if idt.Nonce != nonce {
		return errNonce
	}
	if (len(idt.Audience) > 1 && c.AZP == "") || (c.AZP != "" && c.AZP != clientID) {
		return errAZP
	}
	if idt.IssuedAt.After(now.Add(rpSkew)) {
		return errIssuedAt
	}
	if string(c.EmailVerified) != "true" {
		return errEmailVerified
	}
	return nil
}

// oidcParams returns the query of u.
func oidcParams(t *testing.T, u string) url.Values {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatalf("parse %q: %v", u, err)
	}
	return p.Query()
}

// retrieveCode returns the OAuth error code of a failed Exchange, or "".
func retrieveCode(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return ""
}

// withoutParam returns u with the query parameter name removed.
func withoutParam(u, name string) string {
	p, _ := url.Parse(u)
	q := p.Query()
	q.Del(name)
	p.RawQuery = q.Encode()
	return p.String()
}

// withParam returns u with the query parameter name set to value.
func withParam(u, name, value string) string {
	p, _ := url.Parse(u)
	q := p.Query()
	q.Set(name, value)
	p.RawQuery = q.Encode()
	return p.String()
}

// decodeSegment decodes a base64url JSON segment of a compact JWS.
func decodeSegment(t *testing.T, seg string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("segment %q: %v", seg, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("segment %s: %v", b, err)
	}
	return m
}

// newRecorder serves GET path with h and returns the status.
func newRecorder(h http.Handler, path string) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code
}
