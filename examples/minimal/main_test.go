package main

import (
	"context"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
	"github.com/orgsso/orgsso/store/memory"
	"github.com/orgsso/orgsso/tests/faultstore"
)

// TestMinimalLineCount keeps the example the whole file a host needs in at
// most 20 lines: non-blank, non-comment lines outside the import block,
// the package clause, main and the protected page included.
func TestMinimalLineCount(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "main.go", src, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	imports := map[int]bool{}
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.IMPORT {
			for l := fset.Position(g.Pos()).Line; l <= fset.Position(g.End()).Line; l++ {
				imports[l] = true
			}
		}
	}
	var s scanner.Scanner
	s.Init(fset.AddFile("main.go", -1, len(src)), src, nil, 0) // comments are skipped
	lines := map[int]bool{}
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		if tok == token.SEMICOLON && lit == "\n" {
			continue // inserted at a line's end, not written
		}
		if l := fset.Position(pos).Line; !imports[l] {
			lines[l] = true
		}
	}
	if n := len(lines); n > 20 {
		t.Errorf("main.go has %d counted lines; want at most 20", n)
	} else {
		t.Logf("main.go: %d counted lines", n)
	}
}

// TestReadmeShowsMinimal: README's integration section shows this file's
// code as it is.
func TestReadmeShowsMinimal(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	code := string(src[strings.Index(string(src), "package main"):])
	if !strings.Contains(string(readme), "```go\n"+code+"```") {
		t.Errorf("README.md does not show examples/minimal/main.go from its package clause on; copy it again")
	}
}

// site is the example's application on a real HTTP server, with a SAML IdP
// and an OpenID provider of ssotest on theirs, and organization "acme"
// signing in through either.
type site struct {
	app   *httptest.Server
	store *faultstore.Store
	idp   *ssotest.IdP
}

func newSite(t *testing.T) *site {
	t.Helper()
	ctx := context.Background()
	st := &site{store: faultstore.New(memory.New())}
	st.app = httptest.NewUnstartedServer(nil)
	base := "http://" + st.app.Listener.Addr().String()
	cfg := sso.Config{BaseURL: base, Store: st.store, InsecureAllowPrivateNetworks: true} // the provider is on 127.0.0.1
	// As main does, with the test's base URL and store.
	h, err := sso.NewHandler(cfg, sso.HandlerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	st.app.Config.Handler = routes(h)
	st.app.Start()
	t.Cleanup(st.app.Close)

	// The SAML IdP.
	st.idp, err = ssotest.New(ssotest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	st.login("alice@acme.example")
	idpSrv := httptest.NewServer(st.idp)
	t.Cleanup(idpSrv.Close)
	idpCfg := st.idp.IdPConfig()
	idpCfg.SSOURL = idpSrv.URL + "/sso"

	// The OpenID provider.
	mux := http.NewServeMux()
	opSrv := httptest.NewServer(mux)
	t.Cleanup(opSrv.Close)
	op, err := ssotest.NewOIDC(ssotest.OIDCConfig{
		Issuer:  opSrv.URL,
		Clients: []ssotest.OIDCClient{{ID: "app", Secret: "app-secret", RedirectURIs: []string{base + "/sso/acme/okta/callback"}}},
		Login: func(*http.Request, *ssotest.AuthorizationRequest) (ssotest.User, error) {
			return ssotest.User{NameID: "sub-bob", Email: "bob@acme.example", FirstName: "Bob"}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", op)

	// What the host's admin UI does, through the Service's admin API.
	admin, err := sso.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(admin.CreateOrganization(ctx, &sso.Organization{ID: "org-1", SSOName: "acme", OwnerID: "u-owner", IdP: idpCfg}))
	must(st.store.SaveMember(ctx, &sso.Member{OrgID: "org-1", UserID: "u-owner", Email: "owner@acme.example", OrgRole: rolemap.RoleOwner}))
	must(st.store.SaveMember(ctx, &sso.Member{OrgID: "org-1", UserID: "u-alice", Email: "alice@acme.example", OrgRole: rolemap.RoleMember}))
	must(st.store.SaveMember(ctx, &sso.Member{OrgID: "org-1", UserID: "u-bob", Email: "bob@acme.example", OrgRole: rolemap.RoleMember}))
	_, err = admin.UpdateOrganization(ctx, "org-1", "u-owner", func(o *sso.Organization) error {
		o.Connections = append(o.Connections, sso.Connection{ID: "okta", Name: "Acme Workforce", Protocol: sso.ProtocolOIDC,
			OIDC: sso.OIDCConfig{Issuer: opSrv.URL, ClientID: "app", ClientSecret: "app-secret"}})
		return nil
	})
	must(err)
	must(admin.EnableConnection(ctx, "org-1", "okta", "u-owner"))
	must(admin.Enable(ctx, "org-1", "u-owner"))
	return st
}

// login makes the SAML IdP sign in email.
func (st *site) login(email string) {
	st.idp.SetLogin(func(*http.Request, *ssotest.AuthnRequest) (ssotest.User, error) {
		return ssotest.User{Email: email}, nil
	})
}

// browser is a client with a cookie jar, following redirects.
func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

// signIn picks connection on the chooser of /sso/login?trigger_sso_flow=acme
// and goes through the IdP; it returns the last response's status and body.
func (st *site) signIn(t *testing.T, c *http.Client, connection string) (int, string) {
	t.Helper()
	status, body, _ := get(t, c, st.app.URL+"/sso/login?trigger_sso_flow=acme&return_to=/")
	if status != http.StatusOK || !strings.Contains(body, "Acme Workforce") {
		t.Fatalf("chooser: %d %q", status, body)
	}
	link := ""
	for _, m := range chooserLink.FindAllStringSubmatch(body, -1) {
		u, err := url.Parse(html.UnescapeString(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		if u.Query().Get("connection") == connection {
			link = u.String()
		}
	}
	if link == "" {
		t.Fatalf("no chooser link for connection %q in %q", connection, body)
	}
	resp, err := c.Get(st.app.URL + link)
	if err != nil {
		t.Fatal(err)
	}
	if connection == "okta" { // the provider redirected back; the redirects were followed
		return read(t, resp)
	}
	// The SAML IdP answered with its auto-posting form: post it.
	status, body = read(t, resp)
	action := formAction.FindStringSubmatch(body)
	if status != http.StatusOK || action == nil {
		t.Fatalf("IdP page: %d %q", status, body)
	}
	values := url.Values{}
	for _, in := range formInput.FindAllStringSubmatch(body, -1) {
		values.Set(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	resp, err = c.PostForm(html.UnescapeString(action[1]), values)
	if err != nil {
		t.Fatal(err)
	}
	return read(t, resp)
}

var (
	chooserLink = regexp.MustCompile(`<a href="([^"]+)"`)
	formAction  = regexp.MustCompile(`<form[^>]*action="([^"]+)"`)
	formInput   = regexp.MustCompile(`<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"`)
)

func get(t *testing.T, c *http.Client, u string) (int, string, *http.Response) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	status, body := read(t, resp)
	return status, body, resp
}

func read(t *testing.T, resp *http.Response) (int, string) {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestMinimalSignIn signs in over HTTP through the SAML IdP and through the
// OpenID provider, sees the protected page, signs out and is sent to sign
// in again.
func TestMinimalSignIn(t *testing.T) {
	st := newSite(t)
	for _, tt := range []struct{ connection, user string }{{"", "u-alice"}, {"okta", "u-bob"}} {
		t.Run("connection="+tt.connection, func(t *testing.T) {
			c := browser(t)
			// Without a session the protected page sends the browser to sign in.
			status, body, resp := get(t, c, st.app.URL+"/reports")
			if status != http.StatusOK || resp.Request.URL.Path != "/sso/login" || resp.Request.URL.Query().Get("return_to") != "/reports" {
				t.Fatalf("GET /reports signed out: %d at %s; want the login page with return_to", status, resp.Request.URL)
			}
			if !strings.Contains(body, `name="trigger_sso_flow"`) {
				t.Errorf("login page %q has no SSO name field", body)
			}

			status, body = st.signIn(t, c, tt.connection)
			if want := "signed in as " + tt.user + " in org-1"; status != http.StatusOK || !strings.Contains(body, want) {
				t.Fatalf("after sign-in: %d %q; want %q", status, body, want)
			}
			if status, body, _ := get(t, c, st.app.URL+"/"); status != http.StatusOK || !strings.Contains(body, tt.user) {
				t.Errorf("GET / signed in: %d %q", status, body)
			}

			resp, err := c.Post(st.app.URL+"/sso/logout", "", nil)
			if err != nil {
				t.Fatal(err)
			}
			if status, _ := read(t, resp); status != http.StatusOK || resp.Request.URL.Path != "/sso/login" {
				t.Errorf("after sign-out: %d at %s; want the login page", status, resp.Request.URL)
			}
			if _, _, resp := get(t, c, st.app.URL+"/"); resp.Request.URL.Path != "/sso/login" {
				t.Errorf("GET / after sign-out landed at %s; want /sso/login", resp.Request.URL)
			}
		})
	}

	md, err := http.Get(st.app.URL + "/sso/acme/metadata")
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := read(t, md); status != http.StatusOK || md.Header.Get("Content-Type") != "application/samlmetadata+xml" {
		t.Errorf("metadata: %d %q", status, md.Header.Get("Content-Type"))
	}
}

// TestMinimalRefused: someone the IdP vouches for who is not a member of the
// organization (and no JIT provisioning) gets a 403 page that says so in
// plain words, and no session.
func TestMinimalRefused(t *testing.T) {
	st := newSite(t)
	st.login("mallory@acme.example")
	c := browser(t)
	status, body := st.signIn(t, c, "")
	if status != http.StatusForbidden || !strings.Contains(body, html.EscapeString(sso.UserMessage(sso.ErrAccessDenied))) {
		t.Fatalf("refused sign-in: %d %q; want 403 with the user message", status, body)
	}
	if strings.Contains(body, "mallory") || strings.Contains(body, "JIT") {
		t.Errorf("the refusal page shows operator detail: %q", body)
	}
	if _, _, resp := get(t, c, st.app.URL+"/"); resp.Request.URL.Path != "/sso/login" {
		t.Errorf("GET / after a refused sign-in landed at %s; want /sso/login", resp.Request.URL)
	}
}

// TestMinimalStoreOutage: when the store does not answer, starting a
// sign-in and the protected page are 503, and a signed-in user is not
// signed out by it.
func TestMinimalStoreOutage(t *testing.T) {
	st := newSite(t)
	c := browser(t)
	if status, body := st.signIn(t, c, ""); status != http.StatusOK {
		t.Fatalf("sign-in: %d %q", status, body)
	}

	st.store.Inject(faultstore.Fault{Method: faultstore.Any, Mode: faultstore.FailBefore}) // every call fails
	for _, path := range []string{"/", "/sso/login?trigger_sso_flow=acme", "/sso/acme/metadata"} {
		status, body, _ := get(t, c, st.app.URL+path)
		if status != http.StatusServiceUnavailable || !strings.Contains(body, sso.UserMessage(sso.ErrUnavailable)) {
			t.Errorf("GET %s during the outage: %d %q; want 503 with the user message", path, status, body)
		}
	}
	st.store.Clear()

	if status, body, _ := get(t, c, st.app.URL+"/"); status != http.StatusOK || !strings.Contains(body, "u-alice") {
		t.Errorf("GET / after the outage: %d %q; want still signed in", status, body)
	}
}
