// Package oidcop runs an independent OpenID provider in process, for
// end-to-end tests of OpenID Connect relying parties (orgsso's OIDC
// connections among them).
//
// The protocol side is github.com/zitadel/oidc/v3/pkg/op, a third-party
// OpenID provider implementation: nothing here shares code or assumptions
// with orgsso or with its first-party test provider sso/ssotest, so a relying
// party that passes against both is not merely agreeing with itself. This
// package adds only what op leaves to its host: an in-memory op.Storage
// (clients, users, authorization requests, codes, access tokens, one RS256
// signing key), a username/password login page, and a scripted browser
// (Provider.Login) that drives that page.
//
// A test starts a provider, points its relying party at Issuer, builds an
// authorization URL the usual way and hands it to Login, which returns the
// callback URL the browser would land on:
//
//	p, err := oidcop.Start(oidcop.Config{
//		Clients: []oidcop.Client{{ID: "app", Secret: "s3cret", RedirectURIs: []string{cb}}},
//		Users:   []oidcop.User{{Email: "ada@example.com", Password: "pw", GivenName: "Ada", FamilyName: "Lovelace", EmailVerified: true}},
//	})
//	defer p.Close()
//	callback, err := p.Login(ctx, authCodeURL, "ada@example.com", "pw")
//
// The provider serves plain http on 127.0.0.1 (op.WithAllowInsecure), the
// authorization code flow only (response_type=code, PKCE plain or S256,
// client_secret_basic and client_secret_post), userinfo, introspection,
// revocation and JWKS. It keeps no login session: every authorization
// request shows the login page, and prompt=none is answered login_required.
//
// The package holds no global state; each Provider has its own server,
// storage and keys. op logs through log/slog's default logger.
package oidcop

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// DefaultRolesClaim is the claim that carries User.Roles when
// Config.RolesClaim is empty (Okta's name; Entra ID uses "roles").
const DefaultRolesClaim = "groups"

// Client authentication methods at the token endpoint (Client.AuthMethod).
const (
	AuthMethodBasic = "client_secret_basic"
	AuthMethodPost  = "client_secret_post"
)

// Config configures a provider started by Start.
type Config struct {
	// Clients are the registered relying parties (AddClient adds more).
	Clients []Client
	// Users are the accounts the login page accepts (AddUser adds more).
	Users []User
	// SigningKey signs ID tokens (RS256). nil = a fresh 2048-bit key; a test
	// binary that starts many providers can make one key and share it.
	SigningKey *rsa.PrivateKey
	// RolesClaim names the claim that carries User.Roles, in the ID token
	// and at userinfo. "" = DefaultRolesClaim.
	RolesClaim string
}

// Client is a confidential web client (application type web): code flow,
// client_secret_basic or client_secret_post.
type Client struct {
	// ID is the client_id. Required, unique.
	ID string
	// Secret is the client_secret. Required.
	Secret string
	// RedirectURIs are the registered redirect URIs; an authorization
	// request's redirect_uri must equal one exactly. At least one.
	RedirectURIs []string
	// AuthMethod is the method the client is registered with: AuthMethodBasic
	// ("" means it) or AuthMethodPost. op's token endpoint accepts either
	// method from any client; this sets what the client reports.
	AuthMethod string
	// UserinfoOnly keeps the profile and email claims, the roles claim and
	// User.Claims out of the ID token (op's default for flows that issue an
	// access token, and OIDC Core 5.4's reading): the relying party must read
	// them at userinfo. false = they are in the ID token too.
	UserinfoOnly bool
}

// User is an account of the provider.
type User struct {
	// ID is the subject (sub). "" = Username.
	ID string
	// Username is what the login form asks for. "" = Email. Unique.
	Username string
	// Password is what the login form checks. Required.
	Password string
	// Email and EmailVerified are sent with scope email. op omits
	// email_verified when it is false.
	Email         string
	EmailVerified bool
	// GivenName and FamilyName are sent with scope profile, with name
	// ("given family") and preferred_username (Username).
	GivenName, FamilyName string
	// Roles are sent under Config.RolesClaim whenever the user has any,
	// whatever the scopes (as Entra ID sends roles).
	Roles []string
	// Claims are further claims sent with every ID token and userinfo
	// response. They must not name a standard claim.
	Claims map[string]any
}

// Provider is a running OpenID provider. Its methods are safe for concurrent
// use. Close it when done.
type Provider struct {
	srv     *httptest.Server
	issuer  string
	op      *op.Provider
	storage *storage
}

// Start validates cfg, starts the provider on an httptest server on
// 127.0.0.1 and returns it.
func Start(cfg Config) (*Provider, error) {
	key := cfg.SigningKey
	if key == nil {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, fmt.Errorf("oidcop: signing key: %w", err)
		}
	}
	rolesClaim := cfg.RolesClaim
	if rolesClaim == "" {
		rolesClaim = DefaultRolesClaim
	}

	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	st, err := newStorage(issuer, key, rolesClaim)
	if err != nil {
		srv.Close()
		return nil, err
	}
	for _, c := range cfg.Clients {
		if err := st.addClient(c); err != nil {
			srv.Close()
			return nil, err
		}
	}
	for _, u := range cfg.Users {
		if err := st.addUser(u); err != nil {
			srv.Close()
			return nil, err
		}
	}

	var cryptoKey [32]byte
	if _, err := rand.Read(cryptoKey[:]); err != nil {
		srv.Close()
		return nil, fmt.Errorf("oidcop: crypto key: %w", err)
	}
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:      cryptoKey,
		CryptoKeyId:    "oidcop",
		CodeMethodS256: true,
		AuthMethodPost: true,
	}, st, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("oidcop: %w", err)
	}

	p := &Provider{srv: srv, issuer: issuer, op: provider, storage: st}
	mux := http.NewServeMux()
	interceptor := op.NewIssuerInterceptor(provider.IssuerFromRequest)
	mux.Handle(loginPath, interceptor.Handler(http.HandlerFunc(p.serveLogin)))
	mux.Handle("/", provider)
	srv.Config.Handler = mux
	srv.Start()
	return p, nil
}

// Issuer returns the issuer URL (http://127.0.0.1:port, no trailing slash);
// discovery is at Issuer + "/.well-known/openid-configuration".
func (p *Provider) Issuer() string { return p.issuer }

// Close shuts the server down, waiting for requests in flight.
func (p *Provider) Close() { p.srv.Close() }

// AddClient registers another client.
func (p *Provider) AddClient(c Client) error { return p.storage.addClient(c) }

// AddUser adds another account.
func (p *Provider) AddUser(u User) error { return p.storage.addUser(u) }

// RefuseNext makes the next login that passes the password check end in an
// error response to the client's redirect_uri, as a provider that denies
// the user access to the application does: redirect_uri?error=code
// &error_description=description&state=…. code is an error code of the
// authorization endpoint: "access_denied" ("" means it), "server_error",
// "login_required", "interaction_required", "invalid_request",
// "invalid_scope" or "unauthorized_client"; another is an error.
func (p *Provider) RefuseNext(code, description string) error {
	newErr, ok := refusals[code]
	if !ok {
		return fmt.Errorf("oidcop: RefuseNext: unsupported error code %q", code)
	}
	p.storage.setRefusal(newErr().WithDescription("%s", description))
	return nil
}

var refusals = map[string]func() *oidc.Error{
	"":                     oidc.ErrAccessDenied,
	"access_denied":        oidc.ErrAccessDenied,
	"server_error":         oidc.ErrServerError,
	"login_required":       oidc.ErrLoginRequired,
	"interaction_required": oidc.ErrInteractionRequired,
	"invalid_request":      oidc.ErrInvalidRequest,
	"invalid_scope":        oidc.ErrInvalidScope,
	"unauthorized_client":  oidc.ErrUnauthorizedClient,
}

// ErrLoginFailed is returned by Login when the login page refused the
// username or password (it shows the form again with the error).
var ErrLoginFailed = errors.New("oidcop: login failed")

func validRedirect(u string) error {
	parsed, err := url.Parse(u)
	if err != nil || !parsed.IsAbs() || parsed.Host == "" || parsed.Fragment != "" ||
		(parsed.Scheme != "http" && parsed.Scheme != "https") {
		return fmt.Errorf("oidcop: redirect URI %q: must be an absolute http(s) URL without fragment", u)
	}
	return nil
}

func (c Client) validate() error {
	switch {
	case c.ID == "":
		return errors.New("oidcop: client: ID required")
	case c.Secret == "":
		return fmt.Errorf("oidcop: client %q: Secret required", c.ID)
	case len(c.RedirectURIs) == 0:
		return fmt.Errorf("oidcop: client %q: a redirect URI required", c.ID)
	case c.AuthMethod != "" && c.AuthMethod != AuthMethodBasic && c.AuthMethod != AuthMethodPost:
		return fmt.Errorf("oidcop: client %q: AuthMethod %q: want %s or %s", c.ID, c.AuthMethod, AuthMethodBasic, AuthMethodPost)
	}
	for _, u := range c.RedirectURIs {
		if err := validRedirect(u); err != nil {
			return err
		}
	}
	return nil
}

// standardClaims are set by op from the typed fields; User.Claims must not
// name them.
var standardClaims = []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "auth_time",
	"nonce", "acr", "amr", "azp", "at_hash", "c_hash", "sid", "email", "email_verified",
	"name", "given_name", "family_name", "preferred_username", "locale"}

func (u *User) normalize() error {
	if u.Username == "" {
		u.Username = u.Email
	}
	if u.ID == "" {
		u.ID = u.Username
	}
	switch {
	case u.Username == "":
		return errors.New("oidcop: user: Username or Email required")
	case u.Password == "":
		return fmt.Errorf("oidcop: user %q: Password required", u.Username)
	}
	for k := range u.Claims {
		if isStandardClaim(k) {
			return fmt.Errorf("oidcop: user %q: Claims must not set the standard claim %q", u.Username, k)
		}
	}
	return nil
}

func isStandardClaim(name string) bool {
	for _, std := range standardClaims {
		if strings.EqualFold(name, std) {
			return true
		}
	}
	return false
}

// callbackURL is where the login page sends the browser once the request is
// authenticated: op's authorization callback, which redirects to the client.
func (p *Provider) callbackURL(ctx context.Context, authRequestID string) string {
	return op.AuthCallbackURL(p.op)(ctx, authRequestID)
}
