package oidcop_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/orgsso/orgsso/tests/oidcop"
)

// The relying party's side: its redirect URI is never served (Login stops
// before opening it), so any absolute URL does.
const (
	clientID     = "orgsso-e2e"
	clientSecret = "e2e-secret-never-logged"
	redirectURI  = "http://127.0.0.1:1/oidc/callback"
)

var (
	keyOnce sync.Once
	key     *rsa.PrivateKey
)

// sharedKey makes one RSA key per test binary: providers are cheap, keys
// are not.
func sharedKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	keyOnce.Do(func() {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return key
}

var ada = oidcop.User{
	ID:            "00u-ada",
	Email:         "ada@example.com",
	EmailVerified: true,
	Password:      "correct horse",
	GivenName:     "Ada",
	FamilyName:    "Lovelace",
	Roles:         []string{"engineering", "admins"},
	Claims:        map[string]any{"tenant": "acme"},
}

// start runs a provider with one client and ada, closed when t ends.
func start(t *testing.T, mutate ...func(*oidcop.Config)) *oidcop.Provider {
	t.Helper()
	cfg := oidcop.Config{
		Clients:    []oidcop.Client{{ID: clientID, Secret: clientSecret, RedirectURIs: []string{redirectURI}}},
		Users:      []oidcop.User{ada},
		SigningKey: sharedKey(t),
	}
	for _, m := range mutate {
		m(&cfg)
	}
	p, err := oidcop.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// rp is an independent relying party: go-oidc discovery and verification,
// x/oauth2 for the code exchange.
type rp struct {
	provider *oidc.Provider
	config   oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func newRP(t *testing.T, ctx context.Context, issuer string, style oauth2.AuthStyle) *rp {
	t.Helper()
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	ep := provider.Endpoint()
	ep.AuthStyle = style
	return &rp{
		provider: provider,
		config: oauth2.Config{
			ClientID:     clientID,
			ClientSecret: clientSecret,
			RedirectURL:  redirectURI,
			Endpoint:     ep,
			Scopes:       []string{oidc.ScopeOpenID, "email", "profile"},
		},
		verifier: provider.Verifier(&oidc.Config{ClientID: clientID}),
	}
}

// flow is one sign-in's secrets, kept by the relying party.
type flow struct {
	state, nonce, verifier string
	authURL                string
}

func (r *rp) begin() flow {
	f := flow{state: rand.Text(), nonce: rand.Text(), verifier: oauth2.GenerateVerifier()}
	f.authURL = r.config.AuthCodeURL(f.state, oidc.Nonce(f.nonce), oauth2.S256ChallengeOption(f.verifier))
	return f
}

// code checks the callback's state and returns its code.
func code(t *testing.T, cb *url.URL, f flow) string {
	t.Helper()
	q := cb.Query()
	if e := q.Get("error"); e != "" {
		t.Fatalf("callback error %s: %s", e, q.Get("error_description"))
	}
	if got := q.Get("state"); got != f.state {
		t.Fatalf("state = %q, want %q", got, f.state)
	}
	if q.Get("code") == "" {
		t.Fatalf("callback %s has no code", cb.Redacted())
	}
	return q.Get("code")
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

type idClaims struct {
	Email         string         `json:"email"`
	EmailVerified *bool          `json:"email_verified"`
	Name          string         `json:"name"`
	GivenName     string         `json:"given_name"`
	FamilyName    string         `json:"family_name"`
	Groups        []string       `json:"groups"`
	Tenant        string         `json:"tenant"`
	Extra         map[string]any `json:"-"`
}

func TestRoundTrip(t *testing.T) {
	for _, style := range []struct {
		name  string
		style oauth2.AuthStyle
	}{{"client_secret_basic", oauth2.AuthStyleInHeader}, {"client_secret_post", oauth2.AuthStyleInParams}} {
		t.Run(style.name, func(t *testing.T) {
			ctx := ctxT(t)
			p := start(t)
			if !strings.HasPrefix(p.Issuer(), "http://127.0.0.1:") {
				t.Fatalf("issuer %q", p.Issuer())
			}
			r := newRP(t, ctx, p.Issuer(), style.style)

			var disc struct {
				Methods    []string `json:"token_endpoint_auth_methods_supported"`
				Challenges []string `json:"code_challenge_methods_supported"`
			}
			if err := r.provider.Claims(&disc); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"client_secret_basic", "client_secret_post"} {
				if !slices.Contains(disc.Methods, want) {
					t.Errorf("discovery auth methods %v lack %s", disc.Methods, want)
				}
			}
			if !slices.Contains(disc.Challenges, "S256") {
				t.Errorf("discovery code_challenge_methods_supported %v lacks S256", disc.Challenges)
			}

			f := r.begin()
			cb, err := p.Login(ctx, f.authURL, ada.Email, ada.Password)
			if err != nil {
				t.Fatal(err)
			}
			if cb.Scheme+"://"+cb.Host+cb.Path != redirectURI {
				t.Fatalf("callback %s is not at the redirect URI", cb.Redacted())
			}
			tok, err := r.config.Exchange(ctx, code(t, cb, f), oauth2.VerifierOption(f.verifier))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			raw, ok := tok.Extra("id_token").(string)
			if !ok {
				t.Fatal("token response has no id_token")
			}
			idt, err := r.verifier.Verify(ctx, raw)
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if idt.Nonce != f.nonce {
				t.Errorf("nonce = %q, want %q", idt.Nonce, f.nonce)
			}
			if idt.Subject != ada.ID || idt.Issuer != p.Issuer() {
				t.Errorf("sub, iss = %q, %q", idt.Subject, idt.Issuer)
			}
			if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
				t.Errorf("at_hash: %v", err)
			}
			var c idClaims
			if err := idt.Claims(&c); err != nil {
				t.Fatal(err)
			}
			if c.Email != ada.Email || c.EmailVerified == nil || !*c.EmailVerified ||
				c.Name != "Ada Lovelace" || c.GivenName != "Ada" || c.FamilyName != "Lovelace" {
				t.Errorf("ID token claims = %+v", c)
			}
			if !slices.Equal(c.Groups, ada.Roles) || c.Tenant != "acme" {
				t.Errorf("groups, tenant = %v, %q", c.Groups, c.Tenant)
			}

			info, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			if info.Subject != ada.ID || info.Email != ada.Email || !info.EmailVerified {
				t.Errorf("userinfo = %+v", info)
			}
		})
	}
}

// A code is good once: the replay is refused, and the access token of the
// first exchange is revoked with it.
func TestReplayedCodeRefused(t *testing.T) {
	ctx := ctxT(t)
	p := start(t)
	r := newRP(t, ctx, p.Issuer(), oauth2.AuthStyleInHeader)
	f := r.begin()
	cb, err := p.Login(ctx, f.authURL, ada.Email, ada.Password)
	if err != nil {
		t.Fatal(err)
	}
	c := code(t, cb, f)
	tok, err := r.config.Exchange(ctx, c, oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.config.Exchange(ctx, c, oauth2.VerifierOption(f.verifier))
	wantOAuthError(t, err, "invalid_grant")
	if _, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("userinfo still answers the access token of a replayed code")
	}
}

func TestWrongVerifierRefused(t *testing.T) {
	ctx := ctxT(t)
	p := start(t)
	r := newRP(t, ctx, p.Issuer(), oauth2.AuthStyleInHeader)
	f := r.begin()
	cb, err := p.Login(ctx, f.authURL, ada.Email, ada.Password)
	if err != nil {
		t.Fatal(err)
	}
	c := code(t, cb, f)
	_, err = r.config.Exchange(ctx, c, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	wantOAuthError(t, err, "invalid_grant")
	_, err = r.config.Exchange(ctx, c) // no verifier at all
	wantOAuthError(t, err, "invalid_request")
}

func TestWrongSecretRefused(t *testing.T) {
	ctx := ctxT(t)
	p := start(t)
	r := newRP(t, ctx, p.Issuer(), oauth2.AuthStyleInHeader)
	f := r.begin()
	cb, err := p.Login(ctx, f.authURL, ada.Email, ada.Password)
	if err != nil {
		t.Fatal(err)
	}
	r.config.ClientSecret = "not-the-secret"
	_, err = r.config.Exchange(ctx, code(t, cb, f), oauth2.VerifierOption(f.verifier))
	wantOAuthError(t, err, "invalid_client")
}

func TestWrongPassword(t *testing.T) {
	ctx := ctxT(t)
	p := start(t)
	r := newRP(t, ctx, p.Issuer(), oauth2.AuthStyleInHeader)
	for _, tc := range []struct{ user, password string }{
		{ada.Email, "wrong"}, {"nobody@example.com", ada.Password},
	} {
		_, err := p.Login(ctx, r.begin().authURL, tc.user, tc.password)
		if !errors.Is(err, oidcop.ErrLoginFailed) {
			t.Errorf("Login(%q, %q) = %v, want ErrLoginFailed", tc.user, tc.password, err)
		}
	}
	// The provider still works after failed logins.
	f := r.begin()
	cb, err := p.Login(ctx, f.authURL, ada.Email, ada.Password)
	if err != nil {
		t.Fatal(err)
	}
	code(t, cb, f)
}

func TestRefuseNext(t *testing.T) {
	ctx := ctxT(t)
	p := start(t)
	r := newRP(t, ctx, p.Issuer(), oauth2.AuthStyleInHeader)
	if err := p.RefuseNext("temporarily_unavailable", ""); err == nil {
		t.Error("RefuseNext took an error code op cannot send")
	}
	if err := p.RefuseNext("", "user is not assigned to this application"); err != nil {
		t.Fatal(err)
	}
	f := r.begin()
	cb, err := p.Login(ctx, f.authURL, ada.Email, ada.Password)
	if err != nil {
		t.Fatal(err)
	}
	q := cb.Query()
	if q.Get("error") != "access_denied" || q.Get("state") != f.state || q.Get("code") != "" ||
		q.Get("error_description") != "user is not assigned to this application" {
		t.Errorf("refused callback = %s", cb.Redacted())
	}
	// Only the next login.
	f = r.begin()
	if cb, err = p.Login(ctx, f.authURL, ada.Email, ada.Password); err != nil {
		t.Fatal(err)
	}
	code(t, cb, f)
}

// Requests the provider will not answer at the redirect URI fail in Login.
func TestBadRequestsNotRedirected(t *testing.T) {
	ctx := ctxT(t)
	p := start(t)
	r := newRP(t, ctx, p.Issuer(), oauth2.AuthStyleInHeader)

	bad := r.config
	bad.RedirectURL = "http://127.0.0.1:1/elsewhere"
	if cb, err := p.Login(ctx, bad.AuthCodeURL("s"), ada.Email, ada.Password); err == nil {
		t.Errorf("unregistered redirect_uri: landed on %s", cb.Redacted())
	}
	bad = r.config
	bad.ClientID = "unknown"
	if cb, err := p.Login(ctx, bad.AuthCodeURL("s"), ada.Email, ada.Password); err == nil {
		t.Errorf("unknown client: landed on %s", cb.Redacted())
	}
	// prompt=none: no session at this provider, answered at the redirect URI.
	cb, err := p.Login(ctx, r.config.AuthCodeURL("s", oauth2.SetAuthURLParam("prompt", "none")), ada.Email, ada.Password)
	if err != nil {
		t.Fatal(err)
	}
	if cb.Query().Get("error") != "login_required" {
		t.Errorf("prompt=none callback = %s", cb.Redacted())
	}
}

// UserinfoOnly keeps profile, email and extra claims out of the ID token.
func TestUserinfoOnly(t *testing.T) {
	ctx := ctxT(t)
	p := start(t, func(c *oidcop.Config) {
		c.Clients[0].UserinfoOnly = true
		c.Clients[0].AuthMethod = oidcop.AuthMethodPost
		c.RolesClaim = "roles"
	})
	r := newRP(t, ctx, p.Issuer(), oauth2.AuthStyleInParams)
	f := r.begin()
	cb, err := p.Login(ctx, f.authURL, ada.Email, ada.Password)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := r.config.Exchange(ctx, code(t, cb, f), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatal(err)
	}
	idt, err := r.verifier.Verify(ctx, tok.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := idt.Claims(&m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"email", "name", "roles", "tenant"} {
		if _, ok := m[k]; ok {
			t.Errorf("ID token has %s", k)
		}
	}
	info, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	var um map[string]any
	if err := info.Claims(&um); err != nil {
		t.Fatal(err)
	}
	if um["email"] != ada.Email || um["name"] != "Ada Lovelace" || um["tenant"] != "acme" {
		t.Errorf("userinfo = %v", um)
	}
	if roles, _ := um["roles"].([]any); len(roles) != 2 {
		t.Errorf("userinfo roles = %v", um["roles"])
	}
}

func TestAddLater(t *testing.T) {
	ctx := ctxT(t)
	p := start(t)
	if err := p.AddClient(oidcop.Client{ID: clientID, Secret: "x", RedirectURIs: []string{redirectURI}}); err == nil {
		t.Error("duplicate client accepted")
	}
	if err := p.AddUser(oidcop.User{Email: "grace@example.com", Password: "pw", GivenName: "Grace"}); err != nil {
		t.Fatal(err)
	}
	r := newRP(t, ctx, p.Issuer(), oauth2.AuthStyleInHeader)
	f := r.begin()
	cb, err := p.Login(ctx, f.authURL, "grace@example.com", "pw")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := r.config.Exchange(ctx, code(t, cb, f), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatal(err)
	}
	idt, err := r.verifier.Verify(ctx, tok.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	// op omits email_verified when false; no roles means no groups claim.
	if idt.Subject != "grace@example.com" || c.Name != "Grace" || c.EmailVerified != nil || c.Groups != nil {
		t.Errorf("sub %q, claims %+v", idt.Subject, c)
	}
}

func TestConfigValidation(t *testing.T) {
	good := oidcop.Client{ID: "c", Secret: "s", RedirectURIs: []string{redirectURI}}
	for name, cfg := range map[string]oidcop.Config{
		"client without secret":    {Clients: []oidcop.Client{{ID: "c", RedirectURIs: []string{redirectURI}}}},
		"client without redirect":  {Clients: []oidcop.Client{{ID: "c", Secret: "s"}}},
		"relative redirect":        {Clients: []oidcop.Client{{ID: "c", Secret: "s", RedirectURIs: []string{"/cb"}}}},
		"unknown auth method":      {Clients: []oidcop.Client{{ID: "c", Secret: "s", RedirectURIs: []string{redirectURI}, AuthMethod: "none"}}},
		"user without password":    {Clients: []oidcop.Client{good}, Users: []oidcop.User{{Email: "a@b"}}},
		"duplicate user":           {Users: []oidcop.User{{Email: "a@b", Password: "p"}, {Email: "a@b", Password: "q"}}},
		"standard claim in Claims": {Users: []oidcop.User{{Email: "a@b", Password: "p", Claims: map[string]any{"email": "x"}}}},
		"roles claim in Claims":    {Users: []oidcop.User{{Email: "a@b", Password: "p", Claims: map[string]any{"groups": "x"}}}},
		"standard roles claim":     {RolesClaim: "sub"},
	} {
		cfg.SigningKey = sharedKey(t)
		if p, err := oidcop.Start(cfg); err == nil {
			p.Close()
			t.Errorf("%s: started", name)
		}
	}
}

// Providers are independent: a code of one is unknown to another.
func TestProvidersIndependent(t *testing.T) {
	ctx := ctxT(t)
	p1, p2 := start(t), start(t)
	r1 := newRP(t, ctx, p1.Issuer(), oauth2.AuthStyleInHeader)
	r2 := newRP(t, ctx, p2.Issuer(), oauth2.AuthStyleInHeader)
	f := r1.begin()
	cb, err := p1.Login(ctx, f.authURL, ada.Email, ada.Password)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r2.config.Exchange(ctx, code(t, cb, f), oauth2.VerifierOption(f.verifier))
	wantOAuthError(t, err, "invalid_grant")
}

// Close stops the server.
func TestClose(t *testing.T) {
	p, err := oidcop.Start(oidcop.Config{SigningKey: sharedKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	if resp, err := http.Get(p.Issuer() + "/.well-known/openid-configuration"); err == nil {
		resp.Body.Close()
		t.Error("provider still answers after Close")
	}
}

func wantOAuthError(t *testing.T, err error, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want an OAuth error %s", err, code)
	}
	if re.ErrorCode != code {
		t.Errorf("error code = %q (%s), want %q", re.ErrorCode, re.ErrorDescription, code)
	}
}
