package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"embed"
	"encoding/pem"
	"errors"
	"html/template"
	"log"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// The bundled OpenID provider is orgsso's own test provider
// (ssotest.NewOIDC: discovery, JWKS, authorization code flow with PKCE,
// token and userinfo endpoints), served by the bundled IdP's server under
// /oidc, with a login page in front of its authorization endpoint. It is
// demo-only: its users are the demo accounts, and it knows one client, the
// app.

// oidcPath is where the bundled provider lives on the IdP's server; its
// issuer is the IdP's URL followed by it.
const oidcPath = "/oidc"

// The app's client registration at the bundled provider, fixed and printed:
// demo-only.
const (
	demoOIDCClientID     = "democms"
	demoOIDCClientSecret = "democms-oidc-secret"
)

// oidcRolesClaim is the ID token claim the bundled provider puts a user's
// groups in (Okta's name).
const oidcRolesClaim = "groups"

//go:embed templates/oidc_login.html
var oidcTemplateFS embed.FS

// bundledOP is the bundled OpenID provider. Its client's redirect URIs are
// exact (no prefix match), and ssotest fixes them when the provider is made:
// registering a new one (a new connection, a renamed organization) makes the
// provider again with the same key, so tokens and key IDs stay the same.
type bundledOP struct {
	Issuer string // http://localhost:PORT/oidc
	key    *rsa.PrivateKey
	tmpl   *template.Template

	mu        sync.Mutex
	redirects []string               // registered redirect URIs, sorted
	op        *ssotest.OIDCProvider  // nil until the first registration
	accounts  map[string]demoAccount // by IdP user name
}

// newBundledOP makes the provider for issuer, signing with the RSA key kept
// in dir/oidc-key.pem (created on first use): a restarted demo publishes
// the same key.
func newBundledOP(issuer, dir string) (*bundledOP, error) {
	key, err := loadOrCreateOIDCKey(filepath.Join(dir, "oidc-key.pem"))
	if err != nil {
		return nil, err
	}
	tmpl, err := template.New("oidc_login.html").Funcs(template.FuncMap{
		"accounts": demoAccounts,
		"join":     joinStrings,
	}).ParseFS(oidcTemplateFS, "templates/oidc_login.html")
	if err != nil {
		return nil, err
	}
	accounts := make(map[string]demoAccount)
	for _, a := range demoAccounts() {
		accounts[a.IdPUser] = a
	}
	return &bundledOP{Issuer: issuer, key: key, tmpl: tmpl, accounts: accounts}, nil
}

// owns reports whether an OIDC connection trusts this provider as the
// app's client: the issuer of a bundled provider (this run's or an earlier
// run's on another port: http://localhost:PORT/oidc) and the demo's client
// ID.
func (p *bundledOP) owns(c sso.OIDCConfig) bool {
	u, err := url.Parse(c.Issuer)
	return err == nil && u.Scheme == "http" && u.Hostname() == "localhost" && u.Path == oidcPath &&
		c.ClientID == demoOIDCClientID
}

// register adds redirect URIs to the app's client, remaking the provider if
// any is new.
func (p *bundledOP) register(uris ...string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	next := slices.Clone(p.redirects)
	for _, u := range uris {
		if !slices.Contains(next, u) {
			next = append(next, u)
		}
	}
	if len(next) == 0 || (p.op != nil && len(next) == len(p.redirects)) {
		return nil
	}
	slices.Sort(next)
	op, err := ssotest.NewOIDC(ssotest.OIDCConfig{
		Issuer:     p.Issuer,
		Key:        p.key,
		RolesClaim: oidcRolesClaim,
		Clients: []ssotest.OIDCClient{{
			ID: demoOIDCClientID, Secret: demoOIDCClientSecret, RedirectURIs: next,
		}},
		Login: p.login,
	})
	if err != nil {
		return err
	}
	p.op, p.redirects = op, next
	return nil
}

// provider returns the current provider, nil before any registration.
func (p *bundledOP) provider() *ssotest.OIDCProvider {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.op
}

// opUserKey carries, in the authorization request's context, the demo
// account that signed in on the login page.
type opUserKey struct{}

// login is the provider's OIDCLoginFunc: the account the login page
// checked, or a refusal (access_denied) for a request that did not pass
// through it.
func (p *bundledOP) login(r *http.Request, _ *ssotest.AuthorizationRequest) (ssotest.User, error) {
	a, ok := r.Context().Value(opUserKey{}).(demoAccount)
	if !ok {
		return ssotest.User{}, errors.New("not signed in at the login page")
	}
	return ssotest.User{
		NameID: "demo-" + a.IdPUser, // the subject: stable, not the email
		Email:  a.Email, FirstName: a.Given, LastName: a.Surname,
		Roles: a.Groups,
	}, nil
}

// ServeHTTP serves the provider's endpoints. The authorization endpoint
// shows a login page first (GET), and issues a code only when the page is
// posted back with a demo account's user name and password. Every sign-in
// asks for the password: the provider keeps no session.
func (p *bundledOP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := p.provider()
	if op == nil {
		http.Error(w, "the bundled OpenID provider has no client yet", http.StatusServiceUnavailable)
		return
	}
	if r.URL.Path != oidcPath+ssotest.OIDCAuthorizePath {
		op.ServeHTTP(w, r)
		return
	}
	switch r.Method {
	case http.MethodGet:
		p.showLogin(w, http.StatusOK, r.URL.Query(), "", "")
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "cannot read the form", http.StatusBadRequest)
			return
		}
		user, password := r.PostForm.Get("user"), r.PostForm.Get("password")
		r.PostForm.Del("user")
		r.PostForm.Del("password")
		a, ok := p.accounts[user]
		if !ok || subtle.ConstantTimeCompare([]byte(password), []byte(a.IdPPassword)) != 1 {
			p.showLogin(w, http.StatusUnauthorized, r.PostForm, user, "Wrong user name or password.")
			return
		}
		// The provider reads the authorization request from the posted
		// form (already parsed) and the account from the context.
		op.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), opUserKey{}, a)))
	default:
		op.ServeHTTP(w, r)
	}
}

// hiddenField is one authorization request parameter the login form posts
// back.
type hiddenField struct{ Name, Value string }

// showLogin renders the login page, carrying the authorization request's
// parameters in hidden fields.
func (p *bundledOP) showLogin(w http.ResponseWriter, status int, params url.Values, user, toast string) {
	var fields []hiddenField
	for _, k := range slices.Sorted(maps.Keys(params)) {
		if k == "user" || k == "password" {
			continue
		}
		for _, v := range params[k] {
			fields = append(fields, hiddenField{k, v})
		}
	}
	var b strings.Builder
	if err := p.tmpl.Execute(&b, map[string]any{
		"Action": oidcPath + ssotest.OIDCAuthorizePath, "Fields": fields, "User": user, "Toast": toast,
	}); err != nil {
		http.Error(w, "cannot render the login page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// No form-action: browsers apply it to the redirect that follows the
	// post too, and that goes to the app, on another origin.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}

// loadOrCreateOIDCKey returns the provider's RSA signing key from path
// (PKCS #8 PEM), making a new one when it is missing or unreadable. Like
// the SAML IdP's key file, it is only ever readable by its owner.
func loadOrCreateOIDCKey(path string) (*rsa.PrivateKey, error) {
	if key, err := readRSAKey(path); err == nil {
		if err := keepPrivate(path); err != nil {
			return nil, err
		}
		return key, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		log.Printf("demo: making a new OpenID provider key: %v", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600); err != nil {
		return nil, err
	}
	return key, nil
}

// readRSAKey reads an RSA key written by loadOrCreateOIDCKey.
func readRSAKey(path string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("not PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an RSA key")
	}
	return key, nil
}
