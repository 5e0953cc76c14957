package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/sso"
)

// sessionCookie is the app's session cookie, orgsso's, by the name it has
// on the demo's http BaseURL (no __Host- prefix). It must differ from
// samlidp's "session": cookies do not separate ports, and both run on
// localhost.
const sessionCookie = sso.SessionCookieName

// ssoSignIn walks a browser from p (a page that leads to the IdP's login
// form) through the IdP and its auto-post form back to the app, and returns
// the final page.
func ssoSignIn(t *testing.T, c *client, u urls, p *page, user, password string) *page {
	t.Helper()
	return c.submit(idpAutoPost(t, c, u, p, user, password), "SAMLResponseForm", nil)
}

// idpAutoPost signs in at the IdP from p (its login form, or the sign-in
// chooser, where it picks the organization's own SAML IdP) and returns the
// IdP's auto-post form, not yet posted.
func idpAutoPost(t *testing.T, c *client, u urls, p *page, user, password string) *page {
	t.Helper()
	if strings.Contains(p.Body, `id="sso-choices"`) {
		p = c.submit(p, "choose-primary", nil)
	}
	if p.URL.Host != strings.TrimPrefix(u.IdP, "http://") || !strings.Contains(p.Body, `name="SAMLRequest"`) {
		t.Fatalf("want the IdP login form, got %s (status %d)\n%s", p.URL, p.Status, cutStr(p.Body, 2000))
	}
	autoPost := c.submit(p, "idp-form", map[string]string{"user": user, "password": password})
	if !strings.Contains(autoPost.Body, `name="SAMLResponse"`) {
		t.Fatalf("IdP did not answer with its auto-post form: %s (status %d)\n%s", autoPost.URL, autoPost.Status, cutStr(autoPost.Body, 2000))
	}
	return autoPost
}

// passwordSignIn signs in on the login page with an app password.
func passwordSignIn(t *testing.T, c *client, u urls, email, password string) *page {
	t.Helper()
	return c.submit(c.get(u.App+"/login"), "password-form", map[string]string{"email": email, "password": password})
}

// wantEnded checks that c's session ended: the dashboard sends it to the
// login page, which says why (msg) and clears the session cookie; the next
// visit finds it signed out.
func wantEnded(t *testing.T, c *client, u urls, msg string) {
	t.Helper()
	c.takeHops()
	p := c.get(u.App + "/")
	_, cookies := c.takeHops()
	if p.URL.Path != "/login" {
		t.Fatalf("the ended session still reaches %s (status %d)", p.URL.Path, p.Status)
	}
	wantText(t, "login page after the session ended", p.Body, msg)
	if !slices.ContainsFunc(cookies, func(c string) bool {
		return strings.HasPrefix(c, sessionCookie+"=;") && strings.Contains(c, "Max-Age=0")
	}) {
		t.Errorf("Set-Cookie = %q; want the session cookie cleared", cookies)
	}
	if p := c.get(u.App + "/"); p.URL.Path != "/login" || strings.Contains(p.Body, `id="login-ended"`) {
		t.Errorf("second visit: %s, ended message shown again = %v; want the plain login page", p.URL.Path, strings.Contains(p.Body, `id="login-ended"`))
	}
}

// The login page's messages for ended sessions.
var (
	msgSSODisabled = endedMessages["sso_disabled"]
	msgRemoved     = endedMessages["removed"]
	msgSSORequired = endedMessages["sso_required"]
	msgRevoked     = endedMessages["revoked"]
)

// TestDemo runs the demo's main flows over HTTP without a browser: SSO
// through the bundled IdP for alice (mapped roles), carol (denied) and bob
// (admin), a replayed response, password sign-in under the organization's
// rules, owner-only settings through the admin API and their audit trail,
// forms with bad input (plain messages, the input in error marked),
// certificates expired and expiring, attribute names, Test SSO succeeding
// and failing, strict mode, members invited, changed and removed, sessions
// ended with the reason shown, disabling, renaming and re-enabling SSO, and a
// restart on the same database.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	a, u, stop := startApp(t, dir, nil)

	alice, bob := newClient(t), newClient(t)
	t.Run("alice signs in through Login via SSO", func(t *testing.T) {
		c := newClient(t)
		login := c.get(u.App + "/login")
		wantIn(t, "login page", login.Body, `href="/login/sso"`)
		ssoPage := c.get(u.App + "/login/sso")
		// Acme signs in through two connections: the chooser comes first,
		// and starts nothing yet.
		chooser := c.submit(ssoPage, "sso-form", map[string]string{"sso_name": "acme"})
		wantIn(t, "chooser", chooser.Body, `id="sso-choices"`, `id="choose-primary"`, `id="choose-workforce"`)
		if _, cookies := c.takeHops(); len(cookies) != 0 {
			t.Errorf("the chooser set cookies %q; want none", cookies)
		}
		idpForm := c.submit(chooser, "choose-primary", nil)
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
		ssoSignIn(t, alice, u, alice.get(u.App+"/login?trigger_sso_flow=acme"), "alice", "alice-idp-password")
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
		idpForm := bob.get(u.App + "/login?trigger_sso_flow=acme")
		autoPost := idpAutoPost(t, bob, u, idpForm, "bob", "bob-idp-password")
		dash := bob.submit(autoPost, "SAMLResponseForm", nil)
		wantIn(t, "bob's dashboard", dash.Body, "bob@acme.example", `<dd id="org-role">admin</dd>`)
		again := newClient(t).submit(autoPost, "SAMLResponseForm", nil)
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

	dave := newClient(t)
	t.Run("password sign-in", func(t *testing.T) {
		c := newClient(t)
		p := passwordSignIn(t, c, u, "dave@acme.example", "wrong")
		wantIn(t, "wrong password", p.Body, "Incorrect email or password.", `value="dave@acme.example"`)
		p = passwordSignIn(t, c, u, "alice@acme.example", "anything")
		wantIn(t, "SSO-only user", p.Body, "Incorrect email or password.")
		p = passwordSignIn(t, c, u, "", "")
		wantIn(t, "empty form", p.Body, "Enter your email address and your password.")
		p = passwordSignIn(t, dave, u, "dave@acme.example", "dave-demo-password")
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
	t.Run("owner settings and the audit trail of the seed and the sign-ins", func(t *testing.T) {
		p := passwordSignIn(t, owner, u, "owner@acme.example", "owner-demo-password")
		wantIn(t, "owner's dashboard", p.Body, `<dd id="org-role">owner</dd>`)
		s := settings()
		wantIn(t, "settings", s.Body, u.App+"/sso/acme/acs", u.App+"/sso/acme/metadata", saml.NameIDFormatEmail,
			"SSO enabled", "Contentstack Developers", `id="members-table"`, `data-email="dave@acme.example"`, `data-email="alice@acme.example"`)
		wantAudit(t, "audit trail", s.Body,
			"Olivia (owner) created the organization.",
			"Olivia (owner) invited dave@acme.example as member.",
			"Olivia (owner) enabled SSO.",
			"alice@acme.example joined at their first SSO sign-in as member.",
			"alice@acme.example signed in with SSO as member.",
			"A sign-in of carol@acme.example failed: the organization's rules refused them",
		)
		// Newest first.
		if i, j := strings.Index(s.Body, "signed in with SSO as admin"), strings.Index(s.Body, "created the organization"); i < 0 || j < i {
			t.Errorf("the audit trail is not newest first: bob's sign-in at %d, the creation at %d", i, j)
		}
	})

	t.Run("bad input keeps what was typed, marks the input and saves nothing", func(t *testing.T) {
		p := owner.submit(settings(), "users-form", map[string]string{"session_timeout_hours": "99", "strict_mode": "on"})
		if p.Status != http.StatusUnprocessableEntity {
			t.Errorf("timeout 99: status %d; want 422", p.Status)
		}
		wantIn(t, "users form", p.Body, "Session timeout must be a whole number of hours from 1 to 24.",
			`value="99" inputmode="numeric" style="max-width:120px" aria-invalid="true"`)
		if !strings.Contains(p.Body, `id="strict-mode" checked`) {
			t.Errorf("the re-rendered form lost the strict mode checkbox")
		}
		if s := settings(); strings.Contains(s.Body, `id="strict-mode" checked`) || !strings.Contains(s.Body, `value="12"`) {
			t.Errorf("a failed save changed the settings")
		}

		p = owner.submit(settings(), "users-form", map[string]string{"stack_uid#1": "docs"})
		wantText(t, "row without roles", p.Body, `Role mapping row 2: stack "docs" needs at least one stack role.`)
		wantIn(t, "row without roles", p.Body, `aria-label="Stack roles, row 2" aria-invalid="true"`)
		if n := strings.Count(p.Body, ` aria-invalid="true"`); n != 1 {
			t.Errorf("%d inputs marked invalid; want 1", n)
		}
		p = owner.submit(settings(), "users-form", map[string]string{"idp_role#2": "Admins", "org_role#2": "member"})
		wantText(t, "IdP role mapped twice", p.Body, `Role mapping row 3: IdP role "Admins" is already mapped to admin in row 2`)
		wantIn(t, "IdP role mapped twice", p.Body, `aria-label="Organization role, row 3" aria-invalid="true"`)
		p = owner.submit(settings(), "users-form", map[string]string{"idp_role#2": " Editors ", "delimiter": "space"})
		wantText(t, "role split by the delimiter", p.Body, `Role mapping row 1 ("Contentstack Developers"): IdP role identifier contains white space`)
		wantIn(t, "role split by the delimiter", p.Body, `aria-label="IdP role, row 1" aria-invalid="true"`)
		// Every input of the table has a label.
		for name, label := range map[string]string{"idp_role": "IdP role", "org_role": "Organization role",
			"stack_uid": "Stack UID", "stack_roles": "Stack roles", "remove": "Remove row"} {
			if n, l := strings.Count(p.Body, `name="`+name+`"`), strings.Count(p.Body, `aria-label="`+label+`, row `)+strings.Count(p.Body, `aria-label="`+label+` `); n == 0 || n != l {
				t.Errorf("%d %s inputs, %d labelled %q", n, name, l, label)
			}
		}

		if s := settings(); !strings.Contains(s.Body, `name="stack_uid" value="blog"`) || strings.Contains(s.Body, "docs") || strings.Contains(s.Body, "Editors") {
			t.Errorf("a failed save changed the role mapping")
		}

		p = owner.submit(settings(), "idp-form", map[string]string{"sso_url": "ftp://idp.example/sso"})
		wantText(t, "IdP form", p.Body, `The IdP single sign-on URL scheme "ftp" is not https.`)
		wantIn(t, "IdP form", p.Body, `value="ftp://idp.example/sso" aria-invalid="true"`)
		p = owner.submit(settings(), "idp-form", map[string]string{"certificates": "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"})
		wantIn(t, "IdP form", p.Body, "never a private key", `spellcheck="false" aria-invalid="true"`)
		p = owner.submit(settings(), "metadata-form", map[string]string{"metadata": "<nope/>"})
		wantIn(t, "metadata form", p.Body, "IdP metadata", "&lt;nope/&gt;")
		p = owner.submit(settings(), "name-form", map[string]string{"sso_name": "acme-corp"})
		wantIn(t, "name form while SSO is enabled", p.Body, "The SSO name can only be changed while SSO is disabled.", `value="acme-corp"`)
		p = owner.submit(settings(), "attributes-form", map[string]string{"attr_roles": "groups, bad\x01name"})
		wantIn(t, "attributes form", p.Body, "Roles: an attribute name is at most 256 characters", `name="attr_roles" value="groups, bad`)

		for _, s := range []string{p.Body, settings().Body} {
			if strings.Contains(s, "sso: ") || strings.Contains(s, "position 0") {
				t.Errorf("a settings page shows Go error text or a position from 0")
			}
		}
	})

	t.Run("certificates: expired refused, expiring saved with a warning", func(t *testing.T) {
		expired := testCertPEMValid(t, "old IdP", time.Now().AddDate(-1, 0, 0), time.Now().Add(-24*time.Hour))
		p := owner.submit(settings(), "idp-form", map[string]string{"certificates": expired})
		wantText(t, "expired certificate", p.Body, "IdP certificate 1 expired on "+time.Now().Add(-24*time.Hour).UTC().Format(time.DateOnly)+": paste the IdP's current signing certificate.")
		if strings.Contains(p.Body, "IdP configuration saved.") || strings.Contains(p.Body, `class="notice"`) {
			t.Errorf("an expired certificate shows a saved notice")
		}
		if s := settings(); strings.Contains(s.Body, "old IdP") {
			t.Errorf("the expired certificate was saved")
		}

		// The rotation: the bundled IdP's certificate and the next one,
		// which expires in ten days.
		expiring := testCertPEMValid(t, "next IdP", time.Now().Add(-time.Hour), time.Now().Add(10*24*time.Hour))
		p = owner.submit(settings(), "idp-form", map[string]string{"certificates": a.idp.certPEM + expiring})
		wantIn(t, "expiring certificate", p.Body, "IdP configuration saved.", `id="idp-warnings"`, "next IdP")
		wantText(t, "expiring certificate", p.Body, "IdP certificate 2: the certificate expires on", "(in 9 days); add the IdP's next signing certificate before then, or sign-in stops",
			"Warning: IdP certificate 2 expires on")
		wantAudit(t, "audit trail", p.Body, "Olivia (owner) changed the IdP certificates.", "Warning: IdP certificate 2 expires on")

		p = owner.submit(settings(), "idp-form", map[string]string{"certificates": a.idp.certPEM})
		wantIn(t, "back to one certificate", p.Body, "IdP configuration saved.")
		if strings.Contains(p.Body, `id="idp-warnings"`) {
			t.Errorf("the warning stayed after the expiring certificate was removed")
		}
	})

	t.Run("owner runs Test SSO, and edits the attribute names it reads", func(t *testing.T) {
		report := ssoSignIn(t, owner, u, owner.submit(settings(), "test-form", nil), "owner", "owner-idp-password")
		wantIn(t, "test report", report.Body, "SSO connection established successfully", "owner@acme.example",
			"Admins", "Contentstack Developers", `<dd id="test-org-role">admin</dd>`, "blog: developer",
			`id="read-from"`, "<td>Roles</td><td><code>"+idpGroupsAttribute+"</code></td>")
		if strings.Contains(report.Body, "not found under") {
			t.Errorf("the report misses an attribute:\n%s", cutStr(report.Body[strings.Index(report.Body, "read-from"):], 1500))
		}

		p := owner.submit(settings(), "attributes-form", map[string]string{"attr_first_name": "nickname, given"})
		wantIn(t, "attribute names saved", p.Body, "Attribute names saved.", `name="attr_first_name" value="nickname, given"`)
		wantAudit(t, "audit trail", p.Body, "Olivia (owner) changed the attribute names.")
		report = ssoSignIn(t, owner, u, owner.submit(settings(), "test-form", nil), "owner", "owner-idp-password")
		wantIn(t, "test report", report.Body, "<td>First name</td><td><span class=\"hint\">not found under this organization's attribute names</span>",
			"first or last name missing")
		owner.submit(settings(), "attributes-form", map[string]string{"attr_first_name": ""})
	})

	t.Run("a failed Test SSO shows the owner the check and its fix, and others a safe message", func(t *testing.T) {
		wrong := testCertPEM(t, "wrong IdP")
		p := owner.submit(settings(), "idp-form", map[string]string{"certificates": wrong})
		wantIn(t, "wrong certificate saved", p.Body, "IdP configuration saved.")
		autoPost := idpAutoPost(t, owner, u, owner.submit(settings(), "test-form", nil), "owner", "owner-idp-password")
		report := owner.submit(autoPost, "SAMLResponseForm", nil)
		fr := sso.ReportFailure(&saml.ValidationError{Check: saml.CheckSignature})
		wantIn(t, "failure report", report.Body, `id="failed-check">signature</strong>`, `id="test-again"`, u.App+"/sso/acme/acs")
		wantText(t, "failure report", report.Body, fr.Problem, fr.Fix)

		// The same response posted by someone else: the login page's message.
		anon := newClient(t).submit(autoPost, "SAMLResponseForm", nil)
		if anon.URL.Path != "/login" || strings.Contains(anon.Body, "signature") || strings.Contains(anon.Body, "failed-check") {
			t.Errorf("an anonymous poster landed on %s and may have learnt the failed check:\n%s", anon.URL, cutStr(anon.Body, 2000))
		}
		wantIn(t, "anonymous poster", anon.Body, `id="login-error"`)
		wantAudit(t, "audit trail", settings().Body, "A sign-in failed: the response's signature did not verify with the saved IdP certificates.")

		md := newClient(t).get(u.IdP + "/metadata")
		p = owner.submit(settings(), "metadata-form", map[string]string{"metadata": md.Body})
		wantIn(t, "metadata imported", p.Body, "IdP metadata imported.", "It points at the bundled demo IdP.")
	})

	t.Run("strict mode ends dave's password session and refuses his password, not the owner's", func(t *testing.T) {
		p := owner.submit(settings(), "users-form", map[string]string{"strict_mode": "on"})
		wantIn(t, "settings after save", p.Body, "User management settings saved.")
		if !strings.Contains(p.Body, `id="strict-mode" checked`) {
			t.Fatalf("strict mode is not on after saving")
		}
		wantAudit(t, "audit trail", p.Body, "Olivia (owner) changed strict mode; 1 password session ended.")
		wantEnded(t, dave, u, msgSSORequired)
		p = passwordSignIn(t, newClient(t), u, "dave@acme.example", "dave-demo-password")
		if p.Status != http.StatusForbidden {
			t.Errorf("dave under strict mode: status %d; want 403", p.Status)
		}
		wantIn(t, "dave's login page", p.Body, sso.UserMessage(sso.ErrSSORequired))
		p = passwordSignIn(t, newClient(t), u, "owner@acme.example", "owner-demo-password")
		wantIn(t, "owner's dashboard", p.Body, `<dd id="org-role">owner</dd>`)
	})

	t.Run("members: invite, change, end sessions, remove", func(t *testing.T) {
		p := owner.submit(settings(), "invite-form", map[string]string{"email": "eve@acme.example", "name": "Eve Example", "role": "admin", "allow_without_sso": "on"})
		wantIn(t, "after inviting eve", p.Body, "Member invited.", `data-email="eve@acme.example"`, "Eve Example")
		wantAudit(t, "audit trail", p.Body, "Olivia (owner) invited eve@acme.example as admin.")
		p = owner.submit(settings(), "invite-form", map[string]string{"email": "EVE@acme.example", "name": "Eve Again"})
		wantIn(t, "inviting eve again", p.Body, "That email address is already a member of the organization.", `<details class="dialog" id="invite" open>`)
		p = owner.submit(settings(), "invite-form", map[string]string{"email": "not an email"})
		wantIn(t, "inviting a non-address", p.Body, "Enter the member&#39;s email address", `value="not an email" autocomplete="off" aria-invalid="true"`)

		p = owner.submit(settings(), "access-dave@acme.example", nil)
		wantIn(t, "after changing dave's access", p.Body, "Member updated.")
		wantAudit(t, "audit trail", p.Body, "Olivia (owner) changed the access without SSO of dave@acme.example.")

		p = owner.submit(settings(), "sessions-alice@acme.example", nil)
		wantIn(t, "after ending alice's sessions", p.Body, "The member&#39;s sessions have ended.")
		wantAudit(t, "audit trail", p.Body, "Olivia (owner) ended 1 session of Alice (member).")
		wantEnded(t, alice, u, msgRevoked)

		p = owner.submit(settings(), "remove-bob@acme.example", nil)
		wantIn(t, "after removing bob", p.Body, "Member removed.")
		if strings.Contains(p.Body, `data-email="bob@acme.example"`) {
			t.Errorf("bob is still listed")
		}
		wantAudit(t, "audit trail", p.Body, "Olivia (owner) removed bob@acme.example; 1 session ended.")
		wantEnded(t, bob, u, msgRemoved)

		// No button removes the owner; a hand-made post is refused with the rule.
		s := settings()
		forged := &page{URL: s.URL, Body: `<form method="post" action="/settings/members/remove" id="remove-owner">` +
			`<input type="hidden" name="email" value="owner@acme.example"></form>`}
		p = owner.submit(forged, "remove-owner", nil)
		wantIn(t, "removing the owner", p.Body, "The owner cannot be removed from the organization.")
	})

	t.Run("disable, rename, reconfigure from metadata, enable", func(t *testing.T) {
		ssoSignIn(t, alice, u, alice.get(u.App+"/login?trigger_sso_flow=acme"), "alice", "alice-idp-password")

		p := owner.submit(settings(), "disable-form", nil)
		wantIn(t, "settings after disable", p.Body, "SSO disabled.", `id="sso-state">SSO disabled`)
		wantEnded(t, alice, u, msgSSODisabled)
		p = alice.get(u.App + "/login?trigger_sso_flow=acme")
		wantIn(t, "deep link with SSO disabled", p.Body, sso.UserMessage(sso.ErrSSODisabled))

		p = owner.submit(settings(), "name-form", map[string]string{"sso_name": "Acme"})
		wantIn(t, "name form", p.Body, "The SSO name may contain only lowercase letters", `value="Acme" spellcheck="false" aria-invalid="true"`)
		p = owner.submit(settings(), "name-form", map[string]string{"sso_name": "acme-corp"})
		wantIn(t, "settings after rename", p.Body, "SSO name saved.", u.App+"/sso/acme-corp/acs")
		if p := newClient(t).get(u.App + "/sso/acme/metadata"); p.Status != http.StatusNotFound {
			t.Errorf("old metadata URL: status %d; want 404", p.Status)
		}
		wantIn(t, "new metadata", newClient(t).get(u.App+"/sso/acme-corp/metadata").Body, `entityID="`+u.App+`/sso/acme-corp/metadata"`)

		// A draft may be saved incomplete; Test SSO and Enable then say what is missing.
		p = owner.submit(settings(), "idp-form", map[string]string{"sso_url": ""})
		wantIn(t, "settings after saving a draft", p.Body, "IdP configuration saved.", "Not complete yet: Enter the IdP&#39;s single sign-on URL.")
		p = owner.submit(settings(), "test-form", nil)
		wantIn(t, "Test SSO without an SSO URL", p.Body, "Test SSO cannot start: Enter the IdP&#39;s single sign-on URL.")
		p = owner.submit(settings(), "enable-form", nil)
		wantIn(t, "Enable without an SSO URL", p.Body, "SSO cannot be enabled yet. Enter the IdP&#39;s single sign-on URL.", `id="sso-state">SSO disabled`)

		md := newClient(t).get(u.IdP + "/metadata")
		p = owner.submit(settings(), "metadata-form", map[string]string{"metadata": md.Body})
		wantIn(t, "settings after importing metadata", p.Body, "IdP metadata imported.", `value="`+u.IdP+`/sso"`, "It points at the bundled demo IdP.")

		p = owner.submit(settings(), "enable-form", nil)
		wantIn(t, "settings after enable", p.Body, "SSO enabled.", u.App+"/login?trigger_sso_flow=acme-corp")
		wantAudit(t, "audit trail", p.Body, "Olivia (owner) disabled SSO; 1 SSO session ended.", "Olivia (owner) changed the SSO name.")
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
			`id="sso-state">SSO enabled`, `value="`+u.IdP+`/sso"`, `data-email="eve@acme.example"`)
		if strings.Contains(s.Body, `data-email="bob@acme.example"`) {
			t.Errorf("the seed brought bob back")
		}
		wantAudit(t, "audit trail after restart", s.Body, "Olivia (owner) changed the IdP entity ID and the IdP single sign-on URL.",
			"Olivia (owner) removed bob@acme.example")
		alice := newClient(t)
		dash := ssoSignIn(t, alice, u, alice.get(u.App+"/login?trigger_sso_flow=acme-corp"), "alice", "alice-idp-password")
		wantIn(t, "alice's dashboard after restart", dash.Body, "alice@acme.example", "blog: developer")
	})
}
