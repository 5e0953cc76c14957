package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/orgsso/orgsso/sso"
)

// ssoSignIn walks a browser from p (a page that leads to the IdP's login
// form) through the IdP and its auto-post form back to the app, and returns
// the final page.
func ssoSignIn(t *testing.T, c *client, u urls, p *page, user, password string) *page {
	t.Helper()
	if p.URL.Host != strings.TrimPrefix(u.IdP, "http://") || !strings.Contains(p.Body, `name="SAMLRequest"`) {
		t.Fatalf("want the IdP login form, got %s (status %d)\n%s", p.URL, p.Status, cutStr(p.Body, 2000))
	}
	autoPost := c.submit(p, "idp-form", map[string]string{"user": user, "password": password})
	if !strings.Contains(autoPost.Body, `name="SAMLResponse"`) {
		t.Fatalf("IdP did not answer with its auto-post form: %s (status %d)\n%s", autoPost.URL, autoPost.Status, cutStr(autoPost.Body, 2000))
	}
	return c.submit(autoPost, "SAMLResponseForm", nil)
}

// passwordSignIn signs in on the login page with an app password.
func passwordSignIn(t *testing.T, c *client, u urls, email, password string) *page {
	t.Helper()
	return c.submit(c.get(u.App+"/login"), "password-form", map[string]string{"email": email, "password": password})
}

// TestDemo runs the demo's main flows over HTTP without a browser: SSO
// through the bundled IdP for alice (mapped roles), carol (denied) and bob
// (admin), a replayed response, password sign-in under the organization's
// rules, owner-only settings, forms with bad input, strict mode, disabling,
// renaming and re-enabling SSO, and a restart on the same database.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	u, stop := startDemo(t, dir)

	t.Run("alice signs in through Login via SSO", func(t *testing.T) {
		c := newClient(t)
		login := c.get(u.App + "/login")
		wantIn(t, "login page", login.Body, `href="/login/sso"`)
		ssoPage := c.get(u.App + "/login/sso")
		idpForm := c.submit(ssoPage, "sso-form", map[string]string{"sso_name": "acme"})
		_, started := c.takeHops()
		// The redirect to the IdP sets the sign-in's browser-binding cookie
		// (http demo: SameSite=Lax, not Secure).
		if len(started) != 1 || !strings.HasPrefix(started[0], sso.BindingCookiePrefix) ||
			!strings.Contains(started[0], "HttpOnly") || !strings.Contains(started[0], "SameSite=Lax") ||
			!strings.Contains(started[0], "Max-Age=600") || strings.Contains(started[0], "Secure") {
			t.Errorf("SSO start Set-Cookie = %q; want one HttpOnly SameSite=Lax binding cookie for 10 minutes", started)
		}
		dash := ssoSignIn(t, c, u, idpForm, "alice", "alice-idp-password")
		hops, cookies := c.takeHops()
		if want := []string{"POST /sso 200", "POST /sso/acme/acs 303", "GET / 200"}; !slices.Equal(hops, want) {
			t.Errorf("hops = %q; want %q", hops, want)
		}
		// The ACS deletes the binding cookie and sets the session cookie.
		bindingName, _, _ := strings.Cut(strings.Join(started, ""), "=")
		if len(cookies) != 2 || !strings.HasPrefix(cookies[0], bindingName+"=;") || !strings.Contains(cookies[0], "Max-Age=0") ||
			!strings.HasPrefix(cookies[1], sessionCookie+"=") ||
			!strings.Contains(cookies[1], "HttpOnly") || !strings.Contains(cookies[1], "SameSite=Lax") {
			t.Errorf("ACS Set-Cookie = %q; want the binding cookie deleted and one HttpOnly SameSite=Lax %s cookie", cookies, sessionCookie)
		}
		wantIn(t, "alice's dashboard", dash.Body, "alice@acme.example", `<dd id="org-role">member</dd>`, "blog: developer", "single sign-on (SSO)")

		settings := c.get(u.App + "/settings")
		if settings.Status != http.StatusForbidden {
			t.Errorf("alice GET /settings: status %d; want 403", settings.Status)
		}
		wantIn(t, "alice's settings page", settings.Body, "Only the organization owner")

		out := c.submit(dash, "logout-form", nil)
		wantIn(t, "page after logout", out.Body, "You are signed out.")
		if p := c.get(u.App + "/"); p.URL.Path != "/login" {
			t.Errorf("after logout, / landed on %s; want /login", p.URL.Path)
		}
	})

	t.Run("carol is denied with a safe message", func(t *testing.T) {
		c := newClient(t)
		p := ssoSignIn(t, c, u, c.get(u.App+"/login?trigger_sso_flow=acme"), "carol", "carol-idp-password")
		if p.URL.Path != "/login" || p.URL.Query().Get("error") != "denied" {
			t.Errorf("carol landed on %s; want /login?error=denied", p.URL)
		}
		wantIn(t, "carol's login page", p.Body, sso.UserMessage(sso.ErrAccessDenied))
		if strings.Contains(p.Body, "Marketing") {
			t.Errorf("the login page reveals carol's IdP group")
		}
	})

	t.Run("bob is admin, and his response cannot be replayed", func(t *testing.T) {
		c := newClient(t)
		idpForm := c.get(u.App + "/login?trigger_sso_flow=acme")
		autoPost := c.submit(idpForm, "idp-form", map[string]string{"user": "bob", "password": "bob-idp-password"})
		dash := c.submit(autoPost, "SAMLResponseForm", nil)
		wantIn(t, "bob's dashboard", dash.Body, "bob@acme.example", `<dd id="org-role">admin</dd>`)
		again := c.submit(autoPost, "SAMLResponseForm", nil)
		wantIn(t, "replayed response", again.Body, sso.UserMessage(sso.ErrReplay))
	})

	t.Run("unknown SSO name", func(t *testing.T) {
		c := newClient(t)
		p := c.submit(c.get(u.App+"/login/sso"), "sso-form", map[string]string{"sso_name": "globex"})
		if p.Status != http.StatusUnprocessableEntity {
			t.Errorf("status %d; want 422", p.Status)
		}
		wantIn(t, "SSO login page", p.Body, sso.UserMessage(sso.ErrUnknownOrganization), `value="globex"`)
	})

	t.Run("password sign-in", func(t *testing.T) {
		c := newClient(t)
		p := passwordSignIn(t, c, u, "dave@acme.example", "wrong")
		wantIn(t, "wrong password", p.Body, "Incorrect email or password.", `value="dave@acme.example"`)
		p = passwordSignIn(t, c, u, "alice@acme.example", "anything")
		wantIn(t, "SSO-only user", p.Body, "Incorrect email or password.")
		p = passwordSignIn(t, c, u, "", "")
		wantIn(t, "empty form", p.Body, "Enter your email address and your password.")
		p = passwordSignIn(t, c, u, "dave@acme.example", "dave-demo-password")
		wantIn(t, "dave's dashboard (strict mode off, allowed without SSO)", p.Body, "dave@acme.example", ">password</dd>")
	})

	owner := newClient(t)
	settings := func() *page {
		t.Helper()
		p := owner.get(u.App + "/settings")
		if p.Status != http.StatusOK {
			t.Fatalf("owner GET /settings: status %d\n%s", p.Status, cutStr(p.Body, 2000))
		}
		return p
	}
	t.Run("owner settings", func(t *testing.T) {
		p := passwordSignIn(t, owner, u, "owner@acme.example", "owner-demo-password")
		wantIn(t, "owner's dashboard", p.Body, `<dd id="org-role">owner</dd>`)
		s := settings()
		wantIn(t, "settings", s.Body, u.App+"/sso/acme/acs", u.App+"/sso/acme/metadata", sso.NameIDFormatEmail,
			"SSO enabled", "Contentstack Developers", "sign_in_succeeded", "alice@acme.example", "sign_in_failed")
	})

	t.Run("bad input keeps what was typed and saves nothing", func(t *testing.T) {
		p := owner.submit(settings(), "users-form", map[string]string{"session_timeout_hours": "99", "strict_mode": "on"})
		if p.Status != http.StatusUnprocessableEntity {
			t.Errorf("timeout 99: status %d; want 422", p.Status)
		}
		wantIn(t, "users form", p.Body, "Session timeout must be a whole number of hours from 1 to 24.", `value="99"`)
		if !strings.Contains(p.Body, `id="strict-mode" checked`) {
			t.Errorf("the re-rendered form lost the strict mode checkbox")
		}
		if s := settings(); strings.Contains(s.Body, `id="strict-mode" checked`) || !strings.Contains(s.Body, `value="12"`) {
			t.Errorf("a failed save changed the settings")
		}

		p = owner.submit(settings(), "users-form", map[string]string{"stack_uid#1": "docs"})
		wantText(t, "row without roles", p.Body, `Role mapping row 2: stack "docs" needs at least one stack role.`)
		p = owner.submit(settings(), "users-form", map[string]string{"idp_role#2": "Admins", "org_role#2": "member"})
		wantText(t, "IdP role mapped twice", p.Body, `Role mapping row 3: IdP role "Admins" is already mapped to admin in row 2`)
		p = owner.submit(settings(), "users-form", map[string]string{"idp_role#2": " Editors ", "delimiter": "space"})
		wantText(t, "role split by the delimiter", p.Body, `Role mapping row 1 ("Contentstack Developers"): IdP role identifier contains white space`)

		if s := settings(); !strings.Contains(s.Body, `name="stack_uid" value="blog"`) || strings.Contains(s.Body, "docs") || strings.Contains(s.Body, "Editors") {
			t.Errorf("a failed save changed the role mapping")
		}

		p = owner.submit(settings(), "idp-form", map[string]string{"sso_url": "ftp://idp.example/sso"})
		wantIn(t, "IdP form", p.Body, "Single Sign-On URL:", `value="ftp://idp.example/sso"`)
		p = owner.submit(settings(), "idp-form", map[string]string{"certificates": "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"})
		wantIn(t, "IdP form", p.Body, "never a private key")
		p = owner.submit(settings(), "metadata-form", map[string]string{"metadata": "<nope/>"})
		wantIn(t, "metadata form", p.Body, "IdP metadata:", "&lt;nope/&gt;")
		p = owner.submit(settings(), "name-form", map[string]string{"sso_name": "Acme"})
		wantIn(t, "name form", p.Body, "Disable SSO (step 5) before changing the SSO name")
	})

	t.Run("owner runs Test SSO", func(t *testing.T) {
		idpForm := owner.submit(settings(), "test-form", nil)
		report := ssoSignIn(t, owner, u, idpForm, "owner", "owner-idp-password")
		wantIn(t, "test report", report.Body, "SSO connection established successfully", "owner@acme.example",
			"Admins", "Contentstack Developers", `<dd id="test-org-role">admin</dd>`, "blog: developer")
	})

	t.Run("strict mode refuses dave's password and not the owner's", func(t *testing.T) {
		p := owner.submit(settings(), "users-form", map[string]string{"strict_mode": "on"})
		wantIn(t, "settings after save", p.Body, "User management settings saved.")
		if !strings.Contains(p.Body, `id="strict-mode" checked`) {
			t.Fatalf("strict mode is not on after saving")
		}
		p = passwordSignIn(t, newClient(t), u, "dave@acme.example", "dave-demo-password")
		if p.Status != http.StatusForbidden {
			t.Errorf("dave under strict mode: status %d; want 403", p.Status)
		}
		wantIn(t, "dave's login page", p.Body, sso.UserMessage(sso.ErrSSORequired))
		p = passwordSignIn(t, newClient(t), u, "owner@acme.example", "owner-demo-password")
		wantIn(t, "owner's dashboard", p.Body, `<dd id="org-role">owner</dd>`)
	})

	t.Run("disable, rename, reconfigure from metadata, enable", func(t *testing.T) {
		alice := newClient(t)
		ssoSignIn(t, alice, u, alice.get(u.App+"/login?trigger_sso_flow=acme"), "alice", "alice-idp-password")

		p := owner.submit(settings(), "disable-form", nil)
		wantIn(t, "settings after disable", p.Body, "SSO disabled.", `id="sso-state">SSO disabled`)
		if p := alice.get(u.App + "/"); p.URL.Path != "/login" {
			t.Errorf("alice's SSO session survived Disable: / landed on %s", p.URL.Path)
		}
		p = alice.get(u.App + "/login?trigger_sso_flow=acme")
		wantIn(t, "deep link with SSO disabled", p.Body, sso.UserMessage(sso.ErrSSODisabled))
		p = passwordSignIn(t, newClient(t), u, "dave@acme.example", "dave-demo-password")
		wantIn(t, "dave with SSO disabled (strict mode on)", p.Body, `<dd id="org-role">member</dd>`)

		p = owner.submit(settings(), "name-form", map[string]string{"sso_name": "Acme"})
		wantIn(t, "name form", p.Body, "may contain only lowercase letters", `value="Acme"`)
		p = owner.submit(settings(), "name-form", map[string]string{"sso_name": "acme-corp"})
		wantIn(t, "settings after rename", p.Body, "SSO name saved.", u.App+"/sso/acme-corp/acs")
		if p := newClient(t).get(u.App + "/sso/acme/metadata"); p.Status != http.StatusNotFound {
			t.Errorf("old metadata URL: status %d; want 404", p.Status)
		}
		wantIn(t, "new metadata", newClient(t).get(u.App+"/sso/acme-corp/metadata").Body, `entityID="`+u.App+`/sso/acme-corp/metadata"`)

		// A draft may be saved incomplete; Test SSO and Enable then say what is missing.
		p = owner.submit(settings(), "idp-form", map[string]string{"sso_url": ""})
		wantIn(t, "settings after saving a draft", p.Body, "IdP configuration saved.", "Not complete yet: Single Sign-On URL: is empty")
		p = owner.submit(settings(), "test-form", nil)
		wantIn(t, "Test SSO without an SSO URL", p.Body, "Test SSO cannot start: Single Sign-On URL: is empty")
		p = owner.submit(settings(), "enable-form", nil)
		wantIn(t, "Enable without an SSO URL", p.Body, "SSO cannot be enabled yet. Single Sign-On URL: is empty", `id="sso-state">SSO disabled`)

		md := newClient(t).get(u.IdP + "/metadata")
		p = owner.submit(settings(), "metadata-form", map[string]string{"metadata": md.Body})
		wantIn(t, "settings after importing metadata", p.Body, "IdP metadata imported.", `value="`+u.IdP+`/sso"`, "It points at the bundled demo IdP.")

		p = owner.submit(settings(), "enable-form", nil)
		wantIn(t, "settings after enable", p.Body, "SSO enabled.", u.App+"/login?trigger_sso_flow=acme-corp")
		dash := ssoSignIn(t, alice, u, alice.get(u.App+"/login?trigger_sso_flow=acme-corp"), "alice", "alice-idp-password")
		wantIn(t, "alice's dashboard under the new name", dash.Body, "alice@acme.example", "<code>acme-corp</code>")
	})

	// Stopped and started again on the same database (the IdP gets another
	// port): the seed changes nothing the owner saved, and SSO still works
	// because the IdP's key pair is kept next to the database.
	t.Run("restart", func(t *testing.T) {
		stop()
		u, _ := startDemo(t, dir)
		owner := newClient(t)
		passwordSignIn(t, owner, u, "owner@acme.example", "owner-demo-password")
		s := owner.get(u.App + "/settings")
		wantIn(t, "settings after restart", s.Body, `id="strict-mode" checked`, `name="sso_name" value="acme-corp"`,
			`id="sso-state">SSO enabled`, `value="`+u.IdP+`/sso"`)
		alice := newClient(t)
		dash := ssoSignIn(t, alice, u, alice.get(u.App+"/login?trigger_sso_flow=acme-corp"), "alice", "alice-idp-password")
		wantIn(t, "alice's dashboard after restart", dash.Body, "alice@acme.example", "blog: developer")
	})
}
