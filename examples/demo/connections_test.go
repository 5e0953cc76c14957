package main

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/oidc"
	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/sso"
)

// wantOPLogin fails unless p is the bundled OpenID provider's login page.
func wantOPLogin(t *testing.T, u urls, p *page) {
	t.Helper()
	if p.URL.Host != strings.TrimPrefix(u.IdP, "http://") || p.URL.Path != oidcPath+"/authorize" || !strings.Contains(p.Body, `id="op-form"`) {
		t.Fatalf("want the OpenID provider's login page, got %s (status %d)\n%s", p.URL, p.Status, cutStr(p.Body, 2000))
	}
}

// opSignIn signs in at the bundled OpenID provider from p (its login page)
// and follows the redirects back to the app.
func opSignIn(t *testing.T, c *client, u urls, p *page, user, password string) *page {
	t.Helper()
	wantOPLogin(t, u, p)
	return c.submit(p, "op-form", map[string]string{"user": user, "password": password})
}

// opCallbackURL signs in at the provider from p and returns the callback
// URL it redirects to (code and state), without following it.
func opCallbackURL(t *testing.T, c *client, u urls, p *page, user, password string) string {
	t.Helper()
	wantOPLogin(t, u, p)
	f, err := findForm(p.Body, "op-form")
	require.NoError(t, err)
	f.values.Set("user", user)
	f.values.Set("password", password)
	action, err := p.URL.Parse(f.action)
	require.NoError(t, err)
	resp, err := c.hc.PostForm(action.String(), f.values)
	require.NoError(t, err)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.Contains(loc, "/callback?") {
		t.Fatalf("the provider answered %d, Location %q; want a redirect to the callback", resp.StatusCode, loc)
	}
	return loc
}

// TestConnections covers Acme's two connections over HTTP: the chooser on
// "Login via SSO" and the deep link, a sign-in through the OIDC connection
// at the bundled provider (its login page, the binding cookie, the
// callback, roles from the same mapping), email routing, the connection
// endpoints' refusals, and the owner's Connections section: Test SSO of an
// OIDC connection (success and failure reports), Disable ending the
// connection's sessions, Enable, adding and changing an OIDC connection
// without the page ever showing a stored client secret.
func TestConnections(t *testing.T) {
	a, u, _ := startApp(t, "", nil)
	bob := newClient(t)

	t.Run("the chooser leads to the OIDC connection", func(t *testing.T) {
		c := bob
		chooser := c.submit(c.get(u.App+"/login/sso"), "sso-form", map[string]string{"sso_name": "acme"})
		if chooser.Status != http.StatusOK {
			t.Fatalf("chooser: status %d", chooser.Status)
		}
		wantIn(t, "chooser", chooser.Body, `id="sso-choices"`, `id="choose-primary"`, `id="choose-workforce"`,
			sso.PrimaryConnectionName, demoOIDCConnName, `<span class="proto">OIDC</span>`, `<span class="proto">SAML</span>`)
		c.takeHops()
		opPage := c.submit(chooser, "choose-workforce", nil)
		hops, started := c.takeHops()
		wantOPLogin(t, u, opPage)
		if want := []string{"POST /login/sso 302", "GET /oidc/authorize 200"}; !slices.Equal(hops, want) {
			t.Errorf("hops = %q; want %q", hops, want)
		}
		if len(started) != 1 || !strings.HasPrefix(started[0], sso.BindingCookiePrefix) || !strings.Contains(started[0], "HttpOnly") {
			t.Errorf("start Set-Cookie = %q; want one binding cookie", started)
		}
		for _, want := range []string{"client_id", "redirect_uri", "state", "nonce", "code_challenge"} {
			wantIn(t, "OP login form", opPage.Body, `name="`+want+`"`)
		}

		p := c.submit(opPage, "op-form", map[string]string{"user": "bob", "password": "wrong"})
		if p.Status != http.StatusUnauthorized {
			t.Errorf("wrong password: status %d; want 401", p.Status)
		}
		wantIn(t, "OP login page after a wrong password", p.Body, "Wrong user name or password.", `value="bob"`)
		c.takeHops()
		dash := opSignIn(t, c, u, p, "bob", "bob-idp-password")
		hops, cookies := c.takeHops()
		if want := []string{"POST /oidc/authorize 302", "GET /sso/acme/workforce/callback 303", "GET / 200"}; !slices.Equal(hops, want) {
			t.Errorf("hops = %q; want %q", hops, want)
		}
		bindingName, _, _ := strings.Cut(started[0], "=")
		if len(cookies) != 2 || !strings.HasPrefix(cookies[0], bindingName+"=;") || !strings.HasPrefix(cookies[1], sessionCookie+"=") {
			t.Errorf("callback Set-Cookie = %q; want the binding cookie deleted and the session cookie set", cookies)
		}
		wantIn(t, "bob's dashboard", dash.Body, "bob@acme.example", `<dd id="org-role">admin</dd>`, "single sign-on (SSO)")
	})

	t.Run("a callback is used once, in the browser that started it", func(t *testing.T) {
		c := newClient(t)
		chooser := c.get(u.App + "/login?trigger_sso_flow=acme")
		wantIn(t, "deep link", chooser.Body, `id="sso-choices"`, `name="sso_name" value="acme"`)
		callback := opCallbackURL(t, c, u, c.submit(chooser, "choose-workforce", nil), "alice", "alice-idp-password")

		other := newClient(t).get(callback)
		if other.URL.Path != "/login" || !strings.Contains(other.Body, `id="login-error"`) {
			t.Errorf("another browser at the callback landed on %s (status %d); want the login page with an error", other.URL, other.Status)
		}
		dash := c.get(callback)
		wantIn(t, "alice's dashboard", dash.Body, "alice@acme.example", `<dd id="org-role">member</dd>`, "blog: developer")
		again := c.get(callback)
		if again.URL.Path != "/login" || !strings.Contains(again.Body, `id="login-error"`) {
			t.Errorf("the callback replayed landed on %s; want the login page with an error", again.URL)
		}
	})

	t.Run("an email routes to its connection", func(t *testing.T) {
		c := newClient(t)
		p := c.submit(c.get(u.App+"/login/sso"), "sso-form", map[string]string{"sso_name": "acme", "email": "Grace@OIDC.acme.test"})
		dash := opSignIn(t, c, u, p, "grace", "grace-idp-password")
		wantIn(t, "grace's dashboard", dash.Body, "grace@oidc.acme.test", `<dd id="org-role">member</dd>`, "blog: developer")

		p = c.submit(c.get(u.App+"/login/sso"), "sso-form", map[string]string{"sso_name": "acme", "email": "alice@acme.example"})
		wantIn(t, "an email of no routed domain", p.Body, `id="sso-choices"`)

		// Alone, an email finds the organization that verified its domain:
		// Acme verified none.
		p = c.submit(c.get(u.App+"/login/sso"), "sso-form", map[string]string{"email": "grace@oidc.acme.test"})
		if p.Status != http.StatusUnprocessableEntity {
			t.Errorf("email alone: status %d; want 422", p.Status)
		}
		wantIn(t, "email alone", p.Body, `id="login-error"`, `value="grace@oidc.acme.test"`)

		// A choice that is not a connection.
		p = newClient(t).submit(&page{URL: mustURL(t, u.App+"/login/sso"), Body: `<form method="post" action="/login/sso" id="f">` +
			`<input name="sso_name" value="acme"><input name="connection" value="nope"><input name="choose" value="1"></form>`}, "f", nil)
		wantIn(t, "unknown connection", p.Body, sso.UserMessage(sso.ErrUnknownConnection))
	})

	t.Run("connection endpoints refuse what they do not serve", func(t *testing.T) {
		c := newClient(t)
		if p := c.get(u.App + "/sso/acme/workforce/metadata"); p.Status != http.StatusNotFound {
			t.Errorf("metadata of an OIDC connection: status %d; want 404", p.Status)
		}
		if p := c.get(u.App + "/sso/nobody/workforce/metadata"); p.Status != http.StatusNotFound {
			t.Errorf("metadata of an unknown organization: status %d; want 404", p.Status)
		}
		for _, path := range []string{"/sso/acme/workforce/callback", "/sso/acme/workforce/callback?state=x&code=y", "/sso/acme/nope/callback?state=x"} {
			if p := c.get(u.App + path); p.URL.Path != "/login" || !strings.Contains(p.Body, `id="login-error"`) {
				t.Errorf("GET %s landed on %s (status %d); want the login page with an error", path, p.URL, p.Status)
			}
		}
		form := &page{URL: mustURL(t, u.App+"/"), Body: `<form method="post" action="/sso/acme/workforce/acs" id="f"><input name="SAMLResponse" value="PHg+"></form>`}
		if p := c.submit(form, "f", nil); p.URL.Path != "/login" || !strings.Contains(p.Body, `id="login-error"`) {
			t.Errorf("a SAML post to an OIDC connection's ACS landed on %s (status %d); want the login page with an error", p.URL, p.Status)
		}
	})

	owner := newClient(t)
	passwordSignIn(t, owner, u, "owner@acme.example", "owner-demo-password")
	settings := func() *page {
		t.Helper()
		p := owner.get(u.App + "/settings")
		require.Equal(t, http.StatusOK, p.Status)
		return p
	}
	noSecret := func(what string, p *page, secrets ...string) {
		t.Helper()
		for _, s := range append(secrets, demoOIDCClientSecret) {
			if strings.Contains(p.Body, s) {
				t.Errorf("%s shows a stored client secret", what)
			}
		}
	}

	t.Run("the Connections section lists both connections", func(t *testing.T) {
		s := settings()
		wantIn(t, "settings", s.Body, `id="connections-table"`, `data-connection="primary"`, `data-connection="workforce"`,
			u.App+"/sso/acme/acs", u.App+"/sso/acme/workforce/callback", a.idp.op.Issuer, `<span class="secret-state">set</span>`,
			`id="conn-test-workforce"`, `id="conn-disable-workforce"`, `id="conn-form-workforce"`, `id="conn-add-form"`,
			`name="client_secret" value=""`, "email domains: "+demoOIDCDomain)
		noSecret("settings", s)
	})

	t.Run("Test SSO of the OIDC connection", func(t *testing.T) {
		report := opSignIn(t, owner, u, owner.submit(settings(), "conn-test-workforce", nil), "owner", "owner-idp-password")
		wantIn(t, "test report", report.Body, `id="test-ok"`, `<strong id="test-connection">`+demoOIDCConnName,
			"owner@acme.example", "<li>Admins</li>", "<li>Contentstack Developers</li>", `<dd id="test-org-role">admin</dd>`, "blog: developer")
		wantAudit(t, "audit trail", settings().Body, "Olivia (owner) ran Test SSO (the IdP signed in owner@acme.example).")
	})

	t.Run("add and change an OIDC connection", func(t *testing.T) {
		p := owner.submit(settings(), "conn-add-form", map[string]string{"connection_id": "Partner", "name": "Partner",
			"issuer": a.idp.op.Issuer, "client_id": demoOIDCClientID, "client_secret": "typed-secret"})
		if p.Status != http.StatusUnprocessableEntity {
			t.Errorf("bad connection ID: status %d; want 422", p.Status)
		}
		wantIn(t, "add form with a bad ID", p.Body, `id="conn-add-error"`, `<details class="dialog" id="conn-add" open>`,
			`name="connection_id" value="Partner" spellcheck="false" aria-invalid="true"`, `value="`+a.idp.op.Issuer+`"`)
		noSecret("add form with a bad ID", p, "typed-secret")

		p = owner.submit(settings(), "conn-add-form", map[string]string{"connection_id": "partner", "name": "Partner OIDC",
			"issuer": "ftp://op.example", "client_id": demoOIDCClientID, "client_secret": "typed-secret"})
		wantIn(t, "add form with a bad issuer", p.Body, `id="conn-add-error"`, `value="ftp://op.example" spellcheck="false" placeholder="https://login.example.com" aria-invalid="true"`)

		p = owner.submit(settings(), "conn-add-form", map[string]string{"connection_id": "partner", "name": "Partner OIDC",
			"issuer": a.idp.op.Issuer, "client_id": demoOIDCClientID, "client_secret": "wrong-secret", "domains": "partner.example"})
		wantIn(t, "settings after adding", p.Body, "Connection added.", `data-connection="partner"`, u.App+"/sso/acme/partner/callback",
			`id="conn-enable-partner"`, "email domains: partner.example")
		noSecret("settings after adding", p, "wrong-secret")
		wantAudit(t, "audit trail", p.Body, "Olivia (owner) changed the connections.")

		// The wrong secret: the token exchange fails, and the owner gets
		// the failure report.
		failed := opSignIn(t, owner, u, owner.submit(settings(), "conn-test-partner", nil), "owner", "owner-idp-password")
		wantIn(t, "failure report", failed.Body, `id="test-failed"`, `id="failed-check"`, `id="failure-fix"`, `id="failed-connection"`, "Partner OIDC",
			u.App+"/sso/acme/partner/callback", `<input type="hidden" name="connection" value="partner">`)
		noSecret("failure report", failed, "wrong-secret")

		// Changed without a secret: the saved one stays; with one, it is replaced.
		p = owner.submit(settings(), "conn-form-partner", map[string]string{"name": "Partner Workforce"})
		wantIn(t, "settings after a change", p.Body, "Connection saved.", "Partner Workforce")
		p = owner.submit(settings(), "conn-form-partner", map[string]string{"issuer": "http://op.example/?x=1"})
		wantIn(t, "change with a bad issuer", p.Body, `<details class="dialog" id="conn-edit-partner" open>`, `id="conn-form-error-partner"`,
			`value="http://op.example/?x=1" spellcheck="false" aria-invalid="true"`)
		// Another issuer (or client ID) without the secret typed again: the
		// saved secret is never sent to another provider.
		p = owner.submit(settings(), "conn-form-partner", map[string]string{"issuer": "https://op.other.example"})
		wantIn(t, "another issuer without the secret", p.Body, `id="conn-form-error-partner"`, "Enter the client secret again")
		org, err := a.svc.Organization(t.Context(), demoOrgID)
		require.NoError(t, err)
		require.Equal(t, sso.Secret("wrong-secret"), org.Connection("partner").OIDC.ClientSecret, "a change without a secret kept the saved one")
		require.Equal(t, a.idp.op.Issuer, org.Connection("partner").OIDC.Issuer, "the issuer change without the secret was not saved")

		p = owner.submit(settings(), "conn-form-partner", map[string]string{"client_secret": demoOIDCClientSecret})
		wantIn(t, "settings after a new secret", p.Body, "Connection saved.")
		noSecret("settings after a new secret", p)
		report := opSignIn(t, owner, u, owner.submit(settings(), "conn-test-partner", nil), "owner", "owner-idp-password")
		wantIn(t, "test report", report.Body, `id="test-ok"`, `<strong id="test-connection">Partner Workforce`)
	})

	t.Run("disable ends the connection's sessions, enable brings it back", func(t *testing.T) {
		p := owner.submit(settings(), "conn-disable-workforce", nil)
		wantIn(t, "settings after disabling", p.Body, "Connection disabled.", `id="conn-enable-workforce"`)
		wantAudit(t, "audit trail", p.Body, "Olivia (owner): Connection “"+demoOIDCConnName+"” (workforce) turned off; its sessions ended (3 SSO sessions).")
		wantEnded(t, bob, u, endedMessages["connection_off"])

		// One connection left: the deep link goes straight to the SAML IdP.
		c := newClient(t)
		if p := c.get(u.App + "/login?trigger_sso_flow=acme"); !strings.Contains(p.Body, `name="SAMLRequest"`) {
			t.Errorf("deep link with one connection landed on %s; want the SAML IdP's form", p.URL)
		}
		p = c.submit(c.get(u.App+"/login/sso"), "sso-form", map[string]string{"sso_name": "acme", "email": "grace@oidc.acme.test"})
		if strings.Contains(p.Body, `id="op-form"`) {
			t.Errorf("an email routed to a disabled connection reached the provider")
		}

		p = owner.submit(settings(), "conn-enable-workforce", nil)
		wantIn(t, "settings after enabling", p.Body, "Connection enabled.", `id="conn-disable-workforce"`)
		dash := opSignIn(t, c, u, c.submit(c.get(u.App+"/login/sso"), "sso-form", map[string]string{"sso_name": "acme", "email": "grace@oidc.acme.test"}),
			"grace", "grace-idp-password")
		wantIn(t, "grace's dashboard", dash.Body, "grace@oidc.acme.test")

		// A connection that is not there.
		forged := &page{URL: mustURL(t, u.App+"/settings"), Body: `<form method="post" action="/settings/connections/enable" id="f"><input name="connection" value="nope"></form>`}
		p = owner.submit(forged, "f", nil)
		wantIn(t, "enabling an unknown connection", p.Body, `id="connection-error"`, "That connection is not in the organization (any more).")
	})

	t.Run("members cannot manage connections", func(t *testing.T) {
		c := newClient(t)
		opSignIn(t, c, u, c.submit(c.get(u.App+"/login/sso"), "sso-form", map[string]string{"sso_name": "acme", "email": "grace@oidc.acme.test"}),
			"grace", "grace-idp-password")
		forged := &page{URL: mustURL(t, u.App+"/settings"), Body: `<form method="post" action="/settings/connections/disable" id="f"><input name="connection" value="workforce"></form>`}
		if p := c.submit(forged, "f", nil); p.Status != http.StatusForbidden {
			t.Errorf("a member disabling a connection: status %d; want 403", p.Status)
		}
	})
}

// TestSeedAddsTheOIDCConnection: a database of a demo from before
// connections (Acme without the OIDC connection) gets it at the next start,
// enabled and working; the start after that changes nothing; and each start
// points it at the provider's new port.
func TestSeedAddsTheOIDCConnection(t *testing.T) {
	dir := t.TempDir()
	a, _, stop := startApp(t, dir, nil)
	ctx := t.Context()
	require.NoError(t, a.svc.DisableConnection(ctx, demoOrgID, demoOIDCConnID, demoOwnerID))
	_, err := a.svc.UpdateOrganization(ctx, demoOrgID, demoOwnerID, func(o *sso.Organization) error {
		o.Connections = nil
		return nil
	})
	require.NoError(t, err)
	stop()

	a, _, stop = startApp(t, dir, nil)
	org, err := a.svc.Organization(ctx, demoOrgID)
	require.NoError(t, err)
	c := org.Connection(demoOIDCConnID)
	require.NotNil(t, c, "the seed did not add the OIDC connection")
	require.True(t, c.Enabled)
	require.Equal(t, a.idp.op.Issuer, c.OIDC.Issuer)
	version := org.Version
	stop()

	a, u, _ := startApp(t, dir, nil)
	org, err = a.svc.Organization(ctx, demoOrgID)
	require.NoError(t, err)
	require.Len(t, org.Connections, 1)
	require.Equal(t, a.idp.op.Issuer, org.Connection(demoOIDCConnID).OIDC.Issuer, "the issuer follows the provider's port")
	// The IdP's new port: the SAML IdP's URLs and the issuer are updated,
	// nothing else.
	require.LessOrEqual(t, org.Version, version+2, "a restart changed more than the bundled providers' URLs")
	cl := newClient(t)
	dash := opSignIn(t, cl, u, cl.submit(cl.get(u.App+"/login/sso"), "sso-form", map[string]string{"sso_name": "acme", "email": "grace@oidc.acme.test"}),
		"grace", "grace-idp-password")
	wantIn(t, "grace's dashboard after two restarts", dash.Body, "grace@oidc.acme.test", "blog: developer")
}

// TestParseDomains reads the connection form's email domains.
func TestParseDomains(t *testing.T) {
	got := parseDomains(" Acme.example, @b.example\nacme.example  c.example,,")
	if want := []string{"acme.example", "b.example", "c.example"}; !slices.Equal(got, want) {
		t.Errorf("parseDomains = %q; want %q", got, want)
	}
	if got := parseDomains(" , "); got != nil {
		t.Errorf("parseDomains of nothing = %q; want nil", got)
	}
}

// TestConnInvalid names the connection form's input a configuration error
// is about.
func TestConnInvalid(t *testing.T) {
	for field, want := range map[string]string{
		"Connections[1].OIDC.Issuer":       "issuer",
		"Connections[0].OIDC.ClientSecret": "client_secret",
		"Connections[2].Domains[3]":        "domains",
		"Connections[0].Name":              "name",
		"Connections.ID":                   "connection_id",
		"IdP.SSOURL":                       "",
	} {
		if got := connInvalid(&sso.ConfigError{Field: field}); got != want {
			t.Errorf("connInvalid(%s) = %q; want %q", field, got, want)
		}
	}
}

// TestCheckName names SAML and OIDC checks for the failure report.
func TestCheckName(t *testing.T) {
	for c, want := range map[error]string{
		saml.CheckExpired:   "not on or after",
		oidc.CheckNonce:     "nonce",
		errors.New("other"): "unnamed",
	} {
		if got := checkName(c); got != want {
			t.Errorf("checkName(%v) = %q; want %q", c, got, want)
		}
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u
}
