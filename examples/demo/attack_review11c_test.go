package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/sso"
)

// Attacker review, round 11c: the demo's connection handling (bundled
// OpenID provider, chooser, callback route, the owner's Connections
// section, the democms_test hint cookie).

// globex11c makes Globex, owned by Gina (password "gina-password"), a
// member-owner of its own organization, trusting the bundled SAML IdP, with
// extra connections conns.
func globex11c(t *testing.T, a *app, conns ...sso.Connection) *sso.Organization {
	t.Helper()
	ctx := t.Context()
	idpCfg, err := a.idp.config(ctx)
	require.NoError(t, err)
	globex := &sso.Organization{ID: "org_globex", SSOName: "globex", OwnerID: "user_globex_owner", IdP: idpCfg, Connections: conns}
	require.NoError(t, a.svc.CreateOrganization(ctx, globex))
	hash, err := hashPassword("gina-password", a.pwIter)
	require.NoError(t, err)
	require.NoError(t, a.users.Save(ctx, User{ID: globex.OwnerID, OrgID: globex.ID, Email: "gina@globex.example", Name: "Gina", PasswordHash: hash}))
	_, err = a.svc.AddMember(ctx, globex.ID, globex.OwnerID, sso.Member{UserID: globex.OwnerID, Email: "gina@globex.example"})
	require.NoError(t, err)
	org, err := a.svc.Organization(ctx, globex.ID)
	require.NoError(t, err)
	require.NoError(t, a.registerSP(ctx, org))
	return org
}

// postForm posts a urlencoded form with extra headers.
func postForm11c(t *testing.T, c *client, raw string, form url.Values, hdr map[string]string) *page {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, raw, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return c.do(req)
}

// acmeConnSnapshot is what the attacks below must not change.
func acmeConnSnapshot(t *testing.T, a *app) (version int64, conn sso.Connection, n int) {
	t.Helper()
	org, err := a.svc.Organization(t.Context(), demoOrgID)
	require.NoError(t, err)
	c := org.Connection(demoOIDCConnID)
	require.NotNil(t, c)
	return int64(org.Version), *c, len(org.Connections)
}

// TestAttackReview11cConnectionActionsOwnerOnly: the four Connections
// actions, posted same-origin by a member of Acme, by the owner of another
// organization (naming Acme's connection), and by nobody, change nothing
// at Acme and start no Test SSO.
func TestAttackReview11cConnectionActionsOwnerOnly(t *testing.T) {
	a, u, _ := startApp(t, "", nil)
	globex11c(t, a)
	v0, c0, n0 := acmeConnSnapshot(t, a)

	dave := newClient(t)
	wantIn(t, "dave's dashboard", passwordSignIn(t, dave, u, "dave@acme.example", "dave-demo-password").Body, `<dd id="org-role">member</dd>`)
	gina := newClient(t)
	wantIn(t, "gina's dashboard", passwordSignIn(t, gina, u, "gina@globex.example", "gina-password").Body, `<dd id="org-role">owner</dd>`)
	anon := newClient(t)

	forms := map[string]url.Values{
		"/settings/connections/disable": {"connection": {demoOIDCConnID}},
		"/settings/connections/enable":  {"connection": {demoOIDCConnID}},
		"/settings/connections/test":    {"connection": {demoOIDCConnID}},
		"/settings/connections/save": {"connection": {demoOIDCConnID}, "name": {"pwned"}, "issuer": {"http://evil.example"},
			"client_id": {"evil"}, "client_secret": {"evil"}, "domains": {"acme.example"}},
		"/settings/connections/save#add": {"connection_id": {"evil"}, "name": {"evil"}, "issuer": {"http://localhost:1/oidc"},
			"client_id": {demoOIDCClientID}, "client_secret": {"x"}, "domains": {"acme.example"}},
	}
	same := map[string]string{"Origin": u.App, "Sec-Fetch-Site": "same-origin"}
	for who, c := range map[string]*client{"member": dave, "other organization's owner": gina, "anonymous": anon} {
		for path, form := range forms {
			path, _, _ = strings.Cut(path, "#")
			c.takeHops()
			p := postForm11c(t, c, u.App+path, form, same)
			hops, _ := c.takeHops()
			assert.NotEqual(t, strings.TrimPrefix(u.IdP, "http://"), p.URL.Host, "%s %s reached the provider (%q)", who, path, hops)
			assert.NotContains(t, p.Body, `id="op-form"`, "%s %s", who, path)
			if who == "member" {
				assert.Equal(t, http.StatusForbidden, p.Status, "%s %s", who, path)
			}
			if who == "anonymous" {
				assert.Equal(t, "/login", p.URL.Path, "%s %s", who, path)
			}
		}
	}
	v1, c1, n1 := acmeConnSnapshot(t, a)
	assert.Equal(t, v0, v1, "Acme's organization changed")
	assert.Equal(t, c0, c1, "Acme's connection changed")
	assert.Equal(t, n0, n1)
	// Gina's own organization got no "evil" connection pointing at Acme's
	// domain either? It may (her organization, her choice): but Acme's
	// routing must not follow it.
	c := newClient(t)
	p := c.submit(c.get(u.App+"/login/sso"), "sso-form", map[string]string{"sso_name": "acme", "email": "grace@oidc.acme.test"})
	wantOPLogin(t, u, p)
}

// TestAttackReview11cConnectionFormsRefuseCrossSite: the new forms (and
// the SSO start, a login CSRF vector) refuse a cross-site POST in the
// owner's browser.
func TestAttackReview11cConnectionFormsRefuseCrossSite(t *testing.T) {
	a, u, _ := startApp(t, "", nil)
	v0, c0, _ := acmeConnSnapshot(t, a)
	owner := newClient(t)
	passwordSignIn(t, owner, u, "owner@acme.example", "owner-demo-password")
	forms := map[string]url.Values{
		"/settings/connections/disable": {"connection": {demoOIDCConnID}},
		"/settings/connections/enable":  {"connection": {demoOIDCConnID}},
		"/settings/connections/test":    {"connection": {demoOIDCConnID}},
		"/settings/connections/save": {"connection": {demoOIDCConnID}, "issuer": {"http://localhost:1/oidc"},
			"client_id": {demoOIDCClientID}, "name": {"x"}},
		"/login/sso": {"sso_name": {"acme"}, "connection": {demoOIDCConnID}, "choose": {"1"}},
	}
	for path, form := range forms {
		for _, hdr := range []map[string]string{
			{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
			{"Origin": "http://evil.example"},
			{"Sec-Fetch-Site": "same-site"},
			{"Origin": "null"},
			{"Origin": u.IdP}, // the bundled IdP/OP: another origin (port) on localhost
		} {
			owner.takeHops()
			p := postForm11c(t, owner, u.App+path, form, hdr)
			_, cookies := owner.takeHops()
			assert.Equal(t, http.StatusForbidden, p.Status, "%s %v", path, hdr)
			for _, c := range cookies {
				assert.False(t, strings.HasPrefix(c, testHintCookie+"=") || strings.HasPrefix(c, sso.BindingCookiePrefix),
					"%s %v set %q", path, hdr, c)
			}
		}
	}
	v1, c1, _ := acmeConnSnapshot(t, a)
	assert.Equal(t, v0, v1)
	assert.Equal(t, c0, c1)
}

// TestAttackReview11cClientSecretNeverEchoed: a typed client secret (and
// the bundled one) never reaches a page, the audit trail or the operator
// log: not after a refused add, a refused change, a successful add, a Test
// SSO whose discovery or token exchange fails, nor the failure report.
func TestAttackReview11cClientSecretNeverEchoed(t *testing.T) {
	logs := &syncBuffer{}
	a, u, _ := startApp(t, "", func(c *config) { c.Log = logs })
	const s1, s2, s3 = "sekrit-11c-one", "sekrit-11c-two", "sekrit-11c-three"
	owner := newClient(t)
	passwordSignIn(t, owner, u, "owner@acme.example", "owner-demo-password")
	var pages []*page
	settings := func() *page { return owner.get(u.App + "/settings") }
	// A refused add (bad ID), a refused add (secret too long, marker first).
	pages = append(pages, owner.submit(settings(), "conn-add-form", map[string]string{"connection_id": "Bad ID", "name": "n",
		"issuer": a.idp.op.Issuer, "client_id": demoOIDCClientID, "client_secret": s1}))
	pages = append(pages, owner.submit(settings(), "conn-add-form", map[string]string{"connection_id": "longsecret", "name": "n",
		"issuer": a.idp.op.Issuer, "client_id": demoOIDCClientID, "client_secret": s1 + strings.Repeat("x", 2000)}))
	// An add whose issuer does not answer discovery, then its Test SSO.
	pages = append(pages, owner.submit(settings(), "conn-add-form", map[string]string{"connection_id": "deadissuer", "name": "Dead",
		"issuer": "http://127.0.0.1:1/oidc", "client_id": "c", "client_secret": s2}))
	pages = append(pages, owner.submit(settings(), "conn-test-deadissuer", nil))
	// An add at the bundled provider with a wrong secret, then its Test SSO
	// (the token exchange fails: the provider answers invalid_client).
	pages = append(pages, owner.submit(settings(), "conn-add-form", map[string]string{"connection_id": "wrongsecret", "name": "Wrong",
		"issuer": a.idp.op.Issuer, "client_id": demoOIDCClientID, "client_secret": s3}))
	pages = append(pages, opSignIn(t, owner, u, owner.submit(settings(), "conn-test-wrongsecret", nil), "owner", "owner-idp-password"))
	wantIn(t, "failure report", pages[len(pages)-1].Body, `id="test-failed"`)
	// A refused change (bad issuer) with a new secret typed.
	pages = append(pages, owner.submit(settings(), "conn-form-wrongsecret", map[string]string{"issuer": "ftp://x", "client_secret": s1}))
	// Enabling a connection whose secret is wrong is allowed; the sign-in
	// fails for a member.
	pages = append(pages, owner.submit(settings(), "conn-enable-wrongsecret", nil))
	c := newClient(t)
	chooser := c.submit(c.get(u.App+"/login/sso"), "sso-form", map[string]string{"sso_name": "acme"})
	pages = append(pages, chooser)
	pages = append(pages, opSignIn(t, c, u, c.submit(chooser, "choose-wrongsecret", nil), "alice", "alice-idp-password"))
	pages = append(pages, settings())
	for i, p := range pages {
		for _, s := range []string{s1, s2, s3, demoOIDCClientSecret} {
			assert.NotContains(t, p.Body, s, "page %d (%s, status %d) shows a client secret", i, p.URL, p.Status)
		}
	}
	for _, s := range []string{s1, s2, s3, demoOIDCClientSecret} {
		assert.NotContains(t, logs.String(), s, "the operator log shows a client secret")
	}
	recs, err := a.audit.recent(t.Context(), demoOrgID, 200)
	require.NoError(t, err)
	for _, r := range recs {
		for _, s := range []string{s1, s2, s3, demoOIDCClientSecret} {
			assert.NotContains(t, r.Detail+r.Email+strings.Join(r.Fields, ","), s, "the audit trail keeps a client secret")
		}
	}
}

// TestAttackReview11cTestHintForgedOrForeign: the democms_test cookie is
// attacker-settable input. Set by an anonymous visitor, a member, or the
// owner of another organization, a failed callback still shows the login
// page's code, never the report naming the check.
func TestAttackReview11cTestHintForgedOrForeign(t *testing.T) {
	a, u, _ := startApp(t, "", nil)
	globex11c(t, a)
	dave := newClient(t)
	passwordSignIn(t, dave, u, "dave@acme.example", "dave-demo-password")
	gina := newClient(t)
	passwordSignIn(t, gina, u, "gina@globex.example", "gina-password")
	for who, c := range map[string]*client{"anonymous": newClient(t), "member": dave, "other organization's owner": gina} {
		appURL := mustURL(t, u.App+"/sso/")
		c.hc.Jar.SetCookies(appURL, []*http.Cookie{{Name: testHintCookie, Value: demoOIDCConnID, Path: "/sso/"}})
		for _, q := range []string{"state=x", "state=x&error=access_denied&error_description=%3Cb%3Ecall%3C%2Fb%3E", ""} {
			p := c.get(u.App + "/sso/acme/" + demoOIDCConnID + "/callback?" + q)
			assert.Equal(t, "/login", p.URL.Path, "%s %s", who, q)
			assert.NotContains(t, p.Body, `id="test-failed"`, "%s %s", who, q)
			assert.NotContains(t, p.Body, `id="failed-check"`, "%s %s", who, q)
			assert.NotContains(t, p.Body, "call", "%s %s", who, q)
			c.hc.Jar.SetCookies(appURL, []*http.Cookie{{Name: testHintCookie, Value: demoOIDCConnID, Path: "/sso/"}})
		}
	}
}

// TestAttackReview11cOwnerLuredWithHint: Acme's owner, mid Test SSO (hint
// cookie set), is lured to a forged callback carrying attacker text: the
// report (their own browser) shows only fixed text; nothing is consumed or
// recorded with the attacker's words; and the forged request does not make
// Acme's audit trail carry the attacker's text.
func TestAttackReview11cOwnerLuredWithHint(t *testing.T) {
	a, u, _ := startApp(t, "", nil)
	owner := newClient(t)
	passwordSignIn(t, owner, u, "owner@acme.example", "owner-demo-password")
	opPage := owner.submit(owner.get(u.App+"/settings"), "conn-test-"+demoOIDCConnID, nil)
	wantOPLogin(t, u, opPage)
	const evil = "EVIL11C<script>alert(1)</script>Call +1-555"
	p := owner.get(u.App + "/sso/acme/" + demoOIDCConnID + "/callback?" + url.Values{
		"state": {"forged"}, "error": {evil}, "error_description": {evil}, "code": {evil}}.Encode())
	assert.NotContains(t, p.Body, "EVIL11C")
	assert.NotContains(t, p.Body, "<script>alert")
	recs, err := a.audit.recent(t.Context(), demoOrgID, 50)
	require.NoError(t, err)
	for _, r := range recs {
		assert.NotContains(t, r.Detail+r.Email, "EVIL11C")
	}
	assert.NotContains(t, auditOf(owner.get(u.App+"/settings").Body), "EVIL11C")
}

// TestAttackReview11cReturnToStaysOnSite: the chooser's return path, the
// email route and the deep link never send a finished OIDC sign-in off
// the site.
func TestAttackReview11cReturnToStaysOnSite(t *testing.T) {
	_, u, _ := startApp(t, "", nil)
	for _, rt := range []string{"//evil.example/x", "/\\evil.example", "https://evil.example/", "/\t/evil.example", "\\\\evil.example",
		"/%5Cevil.example", " //evil.example", "http:evil.example"} {
		// The chooser, posted directly with the return path.
		c := newClient(t)
		p := postForm11c(t, c, u.App+"/login/sso", url.Values{"sso_name": {"acme"}, "connection": {demoOIDCConnID}, "choose": {"1"},
			sso.ReturnToParam: {rt}}, map[string]string{"Origin": u.App})
		dash := opSignIn(t, c, u, p, "alice", "alice-idp-password")
		assert.Equal(t, strings.TrimPrefix(u.App, "http://"), dash.URL.Host, "chooser return_to %q", rt)

		// Email routing.
		c = newClient(t)
		p = postForm11c(t, c, u.App+"/login/sso", url.Values{"sso_name": {"acme"}, "email": {"grace@oidc.acme.test"},
			sso.ReturnToParam: {rt}}, map[string]string{"Origin": u.App})
		dash = opSignIn(t, c, u, p, "grace", "grace-idp-password")
		assert.Equal(t, strings.TrimPrefix(u.App, "http://"), dash.URL.Host, "email return_to %q", rt)

		// The deep link's chooser carries it in a hidden field.
		c = newClient(t)
		ch := c.get(u.App + "/login?" + url.Values{sso.TriggerParam: {"acme"}, sso.ReturnToParam: {rt}}.Encode())
		wantIn(t, "deep link chooser", ch.Body, `id="sso-choices"`)
		f, err := findForm(ch.Body, "choose-"+demoOIDCConnID)
		require.NoError(t, err)
		got := f.values.Get(sso.ReturnToParam)
		assert.True(t, got == "/" || (strings.HasPrefix(got, "/") && !strings.HasPrefix(got, "//") && !strings.HasPrefix(got, "/\\") && !strings.ContainsAny(got, "\\\t")),
			"deep link return_to %q carried as %q", rt, got)
		dash = opSignIn(t, c, u, c.submit(ch, "choose-"+demoOIDCConnID, nil), "alice", "alice-idp-password")
		assert.Equal(t, strings.TrimPrefix(u.App, "http://"), dash.URL.Host, "deep link return_to %q", rt)
	}
}

// TestAttackReview11cCallbackAtWrongConnection: a callback (code and
// state) of Acme's workforce connection, replayed at another connection at
// the same bundled provider (added afterwards: the provider is rebuilt
// with the new redirect URI), or at another organization's connection with
// the same ID, signs nobody in; nor does it after the rebuild at the right
// connection in another browser.
func TestAttackReview11cCallbackAtWrongConnection(t *testing.T) {
	a, u, _ := startApp(t, "", nil)
	ctx := t.Context()
	// Globex: its own connection "workforce" at the bundled provider.
	gc := demoOIDCConnection(a.idp.op.Issuer)
	gc.Domains = nil
	globex11c(t, a, gc)
	require.NoError(t, a.svc.EnableConnection(ctx, "org_globex", demoOIDCConnID, "user_globex_owner"))

	c := newClient(t)
	chooser := c.submit(c.get(u.App+"/login/sso"), "sso-form", map[string]string{"sso_name": "acme"})
	callback := opCallbackURL(t, c, u, c.submit(chooser, "choose-"+demoOIDCConnID, nil), "alice", "alice-idp-password")
	cb, err := url.Parse(callback)
	require.NoError(t, err)

	// The owner adds a second connection at the same provider: rebuilt.
	before := a.idp.op.provider()
	_, err = a.svc.UpdateOrganization(ctx, demoOrgID, demoOwnerID, func(o *sso.Organization) error {
		pc := demoOIDCConnection(a.idp.op.Issuer)
		pc.ID, pc.Name, pc.Domains = "partner", "Partner", nil
		o.Connections = append(o.Connections, pc)
		return nil
	})
	require.NoError(t, err)
	org, err := a.svc.Organization(ctx, demoOrgID)
	require.NoError(t, err)
	require.NoError(t, a.registerSP(ctx, org))
	require.NoError(t, a.svc.EnableConnection(ctx, demoOrgID, "partner", demoOwnerID))
	assert.NotSame(t, before, a.idp.op.provider(), "the provider was rebuilt")

	for _, path := range []string{"/sso/acme/partner/callback", "/sso/globex/workforce/callback", "/sso/ACME/workforce/callback"} {
		// In the browser that started it (binding cookie of workforce).
		p := c.get(u.App + path + "?" + cb.RawQuery)
		assert.Equal(t, "/login", p.URL.Path, "%s", path)
		assert.NotContains(t, p.Body, "alice@acme.example", "%s", path)
	}
	// Another browser at the right connection.
	other := newClient(t).get(callback)
	assert.Equal(t, "/login", other.URL.Path)
}
