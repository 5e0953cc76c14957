package main

// A real browser against the whole demo: Debian's Chromium, headless, driven
// over the DevTools protocol by chromedp. It clicks through the pages a
// person would and saves screenshots of the key ones.

import (
	"context"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
	"github.com/orgsso/orgsso/store/memory"
)

// chromiumPath returns the Chromium to drive, or "".
func chromiumPath() string {
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// browser is one headless Chromium with a fresh profile.
type browser struct {
	t         *testing.T
	ctx       context.Context
	artifacts string
}

func newBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) *browser {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("Chromium not found at /usr/bin/chromium or as chromium on PATH; CI must install it (apt-get install chromium)")
		}
		t.Skip("Chromium not found at /usr/bin/chromium or as chromium on PATH: skipping the real-browser test (apt-get install chromium to run it)")
	}
	dir := os.Getenv("ORGSSO_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(t.TempDir(), "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots go to %s", dir)

	profile := t.TempDir() // made before the browser's cleanup, so removed after it
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting %s: %v", path, err)
	}
	return &browser{t: t, ctx: ctx, artifacts: dir}
}

// do runs steps with a time limit; on failure it saves a screenshot of where
// the browser is and fails the test.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		b.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
		b.t.Fatalf("%s: %v (at %s)", what, err, loc)
	}
}

// text returns the visible text of the first element matching a CSS selector.
func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// location returns the page's URL.
func (b *browser) location() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return loc
}

// shot saves a full-page PNG screenshot as name.png.
func (b *browser) shot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(b.artifacts, name+".png"), png, 0o644); err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
	}
}

// fresh forgets every cookie: the next scenario starts signed out.
func (b *browser) fresh() {
	b.t.Helper()
	b.do("clear cookies", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.ClearBrowserCookies, cdp.Empty{})
		return err
	}))
}

// bindingCookies returns the orgsso browser-binding cookies Chromium holds
// for the app.
func (b *browser) bindingCookies(appURL string) []*network.Cookie {
	b.t.Helper()
	var out []*network.Cookie
	b.do("read the app's cookies", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{appURL + "/"}})
		if err != nil {
			return err
		}
		for _, c := range res.Cookies {
			if strings.HasPrefix(c.Name, sso.BindingCookiePrefix) {
				out = append(out, c)
			}
		}
		return nil
	}))
	return out
}

// wantBinding checks that Chromium holds exactly one binding cookie for the
// app, as the demo (http on loopback) makes it: HttpOnly, SameSite=Lax, not
// Secure, Path=/, expiring.
func (b *browser) wantBinding(what, appURL string) {
	b.t.Helper()
	// Chromium may report the cookie store a moment after the page that
	// followed the redirect is visible: look again for up to two seconds.
	cs := b.bindingCookies(appURL)
	for i := 0; len(cs) == 0 && i < 20; i++ {
		time.Sleep(100 * time.Millisecond)
		cs = b.bindingCookies(appURL)
	}
	if len(cs) != 1 {
		b.t.Errorf("%s: %d binding cookies in the browser; want 1", what, len(cs))
		return
	}
	c := cs[0]
	if !c.HTTPOnly || c.Secure || c.SameSite != network.CookieSameSiteLax || c.Path != "/" || c.Session || c.Value == "" {
		b.t.Errorf("%s: binding cookie = %+v; want HttpOnly, SameSite=Lax, not Secure, Path=/, with Max-Age", what, c)
	}
}

// wantNoBinding checks that the ACS cleared the binding cookie.
func (b *browser) wantNoBinding(what, appURL string) {
	b.t.Helper()
	if cs := b.bindingCookies(appURL); len(cs) != 0 {
		b.t.Errorf("%s: the browser still holds binding cookies %+v; want them cleared by the ACS", what, cs)
	}
}

// idpSignIn fills in the bundled IdP's login form.
func (b *browser) idpSignIn(user, password string) {
	b.t.Helper()
	b.do("IdP sign-in as "+user,
		chromedp.WaitVisible(chromedp.CSS("#idp-form")),
		chromedp.SendKeys(chromedp.CSS(`#idp-form input[name="user"]`), user),
		chromedp.SendKeys(chromedp.CSS(`#idp-form input[name="password"]`), password),
		chromedp.Click(chromedp.CSS("#idp-submit")),
	)
}

// opSignIn fills in the bundled OpenID provider's login form.
func (b *browser) opSignIn(user, password string) {
	b.t.Helper()
	b.do("OpenID provider sign-in as "+user,
		chromedp.WaitVisible(chromedp.CSS("#op-form")),
		chromedp.SendKeys(chromedp.CSS(`#op-form input[name="user"]`), user),
		chromedp.SendKeys(chromedp.CSS(`#op-form input[name="password"]`), password),
		chromedp.Click(chromedp.CSS("#op-submit")),
	)
}

// choose picks a connection on the sign-in chooser: "primary" (the
// organization's own SAML IdP) or a connection ID.
func (b *browser) choose(key string) {
	b.t.Helper()
	b.do("choose "+key,
		chromedp.WaitVisible(chromedp.CSS("#sso-choices")),
		chromedp.Click(chromedp.CSS("#choose-"+key+"-button")),
	)
}

// passwordSignIn fills in the app's login form.
func (b *browser) passwordSignIn(appURL, email, password string) {
	b.t.Helper()
	b.do("password sign-in as "+email,
		chromedp.Navigate(appURL+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#password-form")),
		chromedp.SendKeys(chromedp.CSS(`#password-form input[name="email"]`), email),
		chromedp.SendKeys(chromedp.CSS(`#password-form input[name="password"]`), password),
		chromedp.Click(chromedp.CSS("#password-submit")),
	)
}

func (b *browser) want(what, got, want string) {
	b.t.Helper()
	if got != want {
		b.t.Errorf("%s = %q; want %q", what, got, want)
	}
}

func (b *browser) wantContains(what, got, want string) {
	b.t.Helper()
	if !strings.Contains(got, want) {
		b.t.Errorf("%s = %q; want it to contain %q", what, got, want)
	}
}

// TestBrowser signs people in through the demo in Chromium: alice through
// "Login via SSO" and the IdP (mapped roles), carol (denied), bob (admin), the
// owner's Test SSO, strict mode switched on in the settings form (the audit
// trail names the owner), a member invited and removed, dave's password
// refused and the owner's accepted, the SSO deep link, and a Test SSO that
// fails on a wrong IdP certificate (the report names the signature check and
// its fix).
func TestBrowser(t *testing.T) {
	// The demo first, so that its cleanup runs after the browser's: a
	// browser still holding a request open would stall the demo's graceful
	// shutdown past its deadline.
	u, _ := startDemo(t, "")
	b := newBrowser(t)

	// alice: login page → Login via SSO → SSO name → IdP → dashboard.
	b.do("open the login page",
		chromedp.Navigate(u.App+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#password-form")),
	)
	b.shot("01-login")
	b.do("Login via SSO",
		chromedp.Click(chromedp.CSS("#sso-link")),
		chromedp.WaitVisible(chromedp.CSS("#sso-form")),
		chromedp.SendKeys(chromedp.CSS(`#sso-form input[name="sso_name"]`), "acme"),
		chromedp.Click(chromedp.CSS("#sso-continue")),
	)
	// Acme signs in through two connections: the chooser, then its own
	// SAML IdP.
	b.choose("primary")
	b.do("IdP form", chromedp.WaitVisible(chromedp.CSS("#idp-form")))
	b.wantContains("IdP login form URL", b.location(), u.IdP+"/sso")
	// The redirect to the IdP set the sign-in's browser binding; the IdP's
	// POST back carries it (the sign-in below succeeds only if it does), and
	// the ACS clears it.
	b.wantBinding("at the IdP", u.App)
	b.shot("02-idp-form")
	b.idpSignIn("alice", "alice-idp-password")
	b.do("alice's dashboard", chromedp.WaitVisible(chromedp.CSS("#org-role")))
	b.wantNoBinding("after alice's sign-in", u.App)
	b.want("alice's email", b.text("#email"), "alice@acme.example")
	b.want("alice's organization role", b.text("#org-role"), "member")
	b.want("alice's stack roles", b.text("#stack-roles"), "blog: developer")
	b.want("alice's sign-in method", b.text("#method"), "single sign-on (SSO)")
	b.shot("03-alice-dashboard")
	b.do("log out",
		chromedp.Click(chromedp.CSS("#logout")),
		chromedp.WaitVisible(chromedp.CSS("#login-info")),
	)

	// carol: her IdP group maps to nothing.
	b.fresh()
	b.do("SSO deep link for carol", chromedp.Navigate(u.App+"/login?trigger_sso_flow=acme"))
	b.choose("primary")
	b.idpSignIn("carol", "carol-idp-password")
	b.do("carol's login page", chromedp.WaitVisible(chromedp.CSS("#login-error")))
	b.want("carol's message", b.text("#login-error"), sso.UserMessage(sso.ErrAccessDenied))
	b.shot("04-carol-denied")

	// bob: admin.
	b.fresh()
	b.do("SSO deep link for bob", chromedp.Navigate(u.App+"/login?trigger_sso_flow=acme"))
	b.choose("primary")
	b.idpSignIn("bob", "bob-idp-password")
	b.do("bob's dashboard", chromedp.WaitVisible(chromedp.CSS("#org-role")))
	b.want("bob's organization role", b.text("#org-role"), "admin")

	// dave: allowed without SSO while strict mode is off.
	b.fresh()
	b.passwordSignIn(u.App, "dave@acme.example", "dave-demo-password")
	b.do("dave's dashboard", chromedp.WaitVisible(chromedp.CSS("#org-role")))
	b.want("dave's sign-in method", b.text("#method"), "password")

	// The owner: password sign-in, settings, Test SSO.
	b.fresh()
	b.passwordSignIn(u.App, "owner@acme.example", "owner-demo-password")
	b.do("owner's dashboard", chromedp.WaitVisible(chromedp.CSS("#org-role")))
	b.want("owner's organization role", b.text("#org-role"), "owner")
	b.do("settings",
		chromedp.Click(chromedp.CSS("#settings-link")),
		chromedp.WaitVisible(chromedp.CSS("#step5")),
	)
	b.want("SSO state", b.text("#sso-state"), "SSO enabled")
	b.shot("05-settings")
	b.do("Test SSO",
		chromedp.Click(chromedp.CSS("#test-sso")),
		chromedp.WaitVisible(chromedp.CSS("#idp-form")),
	)
	b.wantBinding("Test SSO at the IdP", u.App)
	b.idpSignIn("owner", "owner-idp-password")
	b.do("Test SSO report", chromedp.WaitVisible(chromedp.CSS("#test-ok")))
	b.wantNoBinding("after the Test SSO report", u.App)
	b.wantContains("report", b.text("#test-ok"), "SSO connection established successfully")
	b.want("IdP roles received", b.text("#idp-roles"), "Admins\nContentstack Developers")
	b.want("mapped organization role", b.text("#test-org-role"), "admin")
	b.want("mapped stack roles", b.text("#test-stack-roles"), "blog: developer")
	b.want("problems", b.text("#problems"), "None.")
	b.shot("06-test-report")

	// Strict mode on, through the settings form.
	b.do("strict mode on",
		chromedp.Navigate(u.App+"/settings"),
		chromedp.WaitVisible(chromedp.CSS("#strict-mode")),
		chromedp.Click(chromedp.CSS("#strict-mode")),
		chromedp.Click(chromedp.CSS("#users-save")),
		chromedp.WaitVisible(chromedp.CSS("#settings-notice")),
	)
	b.want("notice", b.text("#settings-notice"), "User management settings saved.")
	checked, err := chromedp.Run(b.ctx, chromedp.JavascriptAttribute[bool](chromedp.CSS("#strict-mode"), "checked"))
	if err != nil || !checked {
		t.Errorf("strict mode checkbox after saving: checked = %v, err = %v; want checked", checked, err)
	}
	b.shot("07-settings-strict-mode")
	b.wantContains("audit trail after strict mode", b.text("#audit-table tr.admin"), "Olivia (owner) changed strict mode")

	// Invite a member, then remove them; the audit trail says who did it.
	b.do("invite eve",
		chromedp.Click(chromedp.CSS("#invite-open")),
		chromedp.WaitVisible(chromedp.CSS(`#invite-form input[name="email"]`)),
		chromedp.SendKeys(chromedp.CSS(`#invite-form input[name="email"]`), "eve@acme.example"),
		chromedp.SendKeys(chromedp.CSS(`#invite-form input[name="name"]`), "Eve Example"),
		chromedp.SetValue(chromedp.CSS(`#invite-form select[name="role"]`), "admin"),
		chromedp.Click(chromedp.CSS(`#invite-form input[name="allow_without_sso"]`)),
		chromedp.Click(chromedp.CSS("#invite-submit")),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-email="eve@acme.example"]`)),
	)
	b.want("notice", b.text("#settings-notice"), "Member invited. They can sign in through SSO now.")
	b.wantContains("eve's row", b.text(`tr[data-email="eve@acme.example"]`), "Eve Example")
	b.wantContains("eve's row", b.text(`tr[data-email="eve@acme.example"]`), "admin")
	b.wantContains("audit trail after the invitation", b.text("#audit-table tr.admin"), "Olivia (owner) invited eve@acme.example as admin.")
	b.do("remove eve",
		chromedp.Click(chromedp.CSS(`form[id="remove-eve@acme.example"] button`)),
		chromedp.WaitNotPresent(chromedp.CSS(`tr[data-email="eve@acme.example"]`)),
		chromedp.WaitVisible(chromedp.CSS("#settings-notice")),
	)
	b.want("notice", b.text("#settings-notice"), "Member removed. Their sessions have ended.")
	b.want("newest audit entry", b.text("#audit-table tr.admin td:last-child"), "Olivia (owner) removed eve@acme.example.")
	b.shot("10-audit-trail")

	b.fresh()
	b.passwordSignIn(u.App, "dave@acme.example", "dave-demo-password")
	b.do("dave refused", chromedp.WaitVisible(chromedp.CSS("#login-error")))
	b.want("dave's message", b.text("#login-error"), sso.UserMessage(sso.ErrSSORequired))
	b.shot("08-dave-strict-mode")
	b.passwordSignIn(u.App, "owner@acme.example", "owner-demo-password")
	b.do("owner still signs in", chromedp.WaitVisible(chromedp.CSS("#org-role")))
	b.want("owner's organization role under strict mode", b.text("#org-role"), "owner")

	// The deep link skips the login page (to the chooser: Acme has two
	// connections).
	b.fresh()
	b.do("SSO deep link", chromedp.Navigate(u.App+"/login?trigger_sso_flow=acme"))
	b.choose("primary")
	b.do("IdP form", chromedp.WaitVisible(chromedp.CSS("#idp-form")))
	b.wantContains("deep link lands on", b.location(), u.IdP+"/sso")
	b.idpSignIn("alice", "alice-idp-password")
	b.do("alice's dashboard again", chromedp.WaitVisible(chromedp.CSS("#org-role")))
	b.want("alice's organization role", b.text("#org-role"), "member")

	// A wrong IdP certificate saved, Test SSO fails: the owner gets the
	// failed check and its fix. (The certificate expires within the hour:
	// the settings page warns about it.)
	b.fresh()
	b.passwordSignIn(u.App, "owner@acme.example", "owner-demo-password")
	b.do("save a wrong IdP certificate",
		chromedp.WaitVisible(chromedp.CSS("#org-role")),
		chromedp.Navigate(u.App+"/settings"),
		chromedp.WaitVisible(chromedp.CSS(`#idp-form textarea[name="certificates"]`)),
		chromedp.SetValue(chromedp.CSS(`#idp-form textarea[name="certificates"]`), testCertPEM(t, "wrong IdP")),
		chromedp.Click(chromedp.CSS("#idp-save")),
		chromedp.WaitVisible(chromedp.CSS("#idp-warnings")),
	)
	b.want("notice", b.text("#settings-notice"), "IdP configuration saved.")
	b.wantContains("certificate warning", b.text("#idp-warnings"), "IdP certificate 1: the certificate expires on")
	b.do("Test SSO with the wrong certificate",
		chromedp.Click(chromedp.CSS("#test-sso")),
		chromedp.WaitVisible(chromedp.CSS("#idp-form")),
	)
	b.idpSignIn("owner", "owner-idp-password")
	b.do("the failure report", chromedp.WaitVisible(chromedp.CSS("#test-failed")))
	fr := sso.ReportFailure(&saml.ValidationError{Check: saml.CheckSignature})
	b.want("failed check", b.text("#failed-check"), "signature")
	b.want("problem", b.text("#failure-problem"), fr.Problem)
	b.want("fix", b.text("#failure-fix"), fr.Fix)
	b.shot("11-test-sso-failed")
}

// TestBrowserConnections signs people in through both of Acme's
// connections from the same "Login via SSO" page in Chromium: alice through
// the chooser and the SAML IdP (member, developer on blog), bob through the
// chooser and the bundled OpenID provider (admin), grace by her email's
// domain straight to the OpenID provider; each sign-in's binding cookie set
// at the start and cleared at the end. Then the owner's Connections section
// renders both connections, and Test SSO of the OIDC connection shows the
// report with the roles the mapping grants.
func TestBrowserConnections(t *testing.T) {
	u, _ := startDemo(t, "") // before the browser: see TestBrowser
	b := newBrowser(t)
	loginViaSSO := func(email string) {
		b.t.Helper()
		b.do("Login via SSO",
			chromedp.Navigate(u.App+"/login"),
			chromedp.WaitVisible(chromedp.CSS("#sso-link")),
			chromedp.Click(chromedp.CSS("#sso-link")),
			chromedp.WaitVisible(chromedp.CSS("#sso-form")),
			chromedp.SendKeys(chromedp.CSS(`#sso-form input[name="sso_name"]`), "acme"),
		)
		if email != "" {
			b.do("email", chromedp.SendKeys(chromedp.CSS(`#sso-form input[name="email"]`), email))
		}
		b.do("continue", chromedp.Click(chromedp.CSS("#sso-continue")))
	}

	// alice: the chooser, then SAML.
	loginViaSSO("")
	b.do("the chooser", chromedp.WaitVisible(chromedp.CSS("#sso-choices")))
	b.wantContains("choices", b.text("#choose-primary-button"), sso.PrimaryConnectionName)
	b.wantContains("choices", b.text("#choose-primary-button"), "SAML")
	b.wantContains("choices", b.text("#choose-workforce-button"), demoOIDCConnName)
	b.wantContains("choices", b.text("#choose-workforce-button"), "OIDC")
	b.shot("20-chooser")
	b.choose("primary")
	b.do("SAML IdP form", chromedp.WaitVisible(chromedp.CSS("#idp-form")))
	b.wantContains("SAML IdP URL", b.location(), u.IdP+"/sso")
	b.wantBinding("at the SAML IdP", u.App)
	b.idpSignIn("alice", "alice-idp-password")
	b.do("alice's dashboard", chromedp.WaitVisible(chromedp.CSS("#org-role")))
	b.wantNoBinding("after alice's SAML sign-in", u.App)
	b.want("alice's email", b.text("#email"), "alice@acme.example")
	b.want("alice's organization role", b.text("#org-role"), "member")
	b.want("alice's stack roles", b.text("#stack-roles"), "blog: developer")
	b.do("log out",
		chromedp.Click(chromedp.CSS("#logout")),
		chromedp.WaitVisible(chromedp.CSS("#login-info")),
	)

	// bob: the same page, the chooser, then OIDC.
	b.fresh()
	loginViaSSO("")
	b.choose("workforce")
	b.do("OpenID provider form", chromedp.WaitVisible(chromedp.CSS("#op-form")))
	b.wantContains("OpenID provider URL", b.location(), u.IdP+oidcPath+"/authorize?")
	b.wantBinding("at the OpenID provider", u.App)
	b.shot("21-op-form")
	b.opSignIn("bob", "bob-idp-password")
	b.do("bob's dashboard", chromedp.WaitVisible(chromedp.CSS("#org-role")))
	b.wantNoBinding("after bob's OIDC sign-in", u.App)
	b.want("bob's email", b.text("#email"), "bob@acme.example")
	b.want("bob's organization role", b.text("#org-role"), "admin")
	b.want("bob's sign-in method", b.text("#method"), "single sign-on (SSO)")
	b.wantContains("bob lands at", b.location(), u.App+"/")
	b.shot("22-bob-oidc-dashboard")

	// grace: her email's domain is routed to the OIDC connection.
	b.fresh()
	loginViaSSO("grace@" + demoOIDCDomain)
	b.do("OpenID provider form for grace", chromedp.WaitVisible(chromedp.CSS("#op-form")))
	b.opSignIn("grace", "grace-idp-password")
	b.do("grace's dashboard", chromedp.WaitVisible(chromedp.CSS("#org-role")))
	b.want("grace's email", b.text("#email"), "grace@"+demoOIDCDomain)
	b.want("grace's organization role", b.text("#org-role"), "member")
	b.want("grace's stack roles", b.text("#stack-roles"), "blog: developer")

	// The owner: the Connections section, and Test SSO of the OIDC connection.
	b.fresh()
	b.passwordSignIn(u.App, "owner@acme.example", "owner-demo-password")
	b.do("the Connections section",
		chromedp.WaitVisible(chromedp.CSS("#org-role")),
		chromedp.Navigate(u.App+"/settings#connections"),
		chromedp.WaitVisible(chromedp.CSS("#connections-table")),
	)
	saml := b.text(`#connections-table tr[data-connection="primary"]`)
	b.wantContains("SAML row", saml, "SAML")
	b.wantContains("SAML row", saml, "enabled")
	b.wantContains("SAML row", saml, u.App+"/sso/acme/acs")
	oidcRow := b.text(`#connections-table tr[data-connection="workforce"]`)
	b.wantContains("OIDC row", oidcRow, demoOIDCConnName)
	b.wantContains("OIDC row", oidcRow, "OIDC")
	b.wantContains("OIDC row", oidcRow, "enabled")
	b.wantContains("OIDC row", oidcRow, u.App+"/sso/acme/workforce/callback")
	b.wantContains("OIDC row", oidcRow, "client secret set")
	b.shot("23-connections")
	b.do("Test SSO of the OIDC connection", chromedp.Click(chromedp.CSS(`#conn-test-workforce button`)))
	b.wantBinding("Test SSO at the OpenID provider", u.App)
	b.opSignIn("owner", "owner-idp-password")
	b.do("the OIDC Test SSO report", chromedp.WaitVisible(chromedp.CSS("#test-ok")))
	b.wantNoBinding("after the OIDC Test SSO report", u.App)
	b.want("connection tested", b.text("#test-connection"), demoOIDCConnName)
	b.want("IdP roles received", b.text("#idp-roles"), "Admins\nContentstack Developers")
	b.want("mapped organization role", b.text("#test-org-role"), "admin")
	b.want("mapped stack roles", b.text("#test-stack-roles"), "blog: developer")
	b.shot("24-oidc-test-report")
}

// TestBrowserCrossSiteBinding proves, in Chromium, the https story of the
// browser binding: an application at https://localhost and an IdP at
// https://127.0.0.1 are different sites, so the IdP's auto-submitted POST to
// the ACS is a cross-site top-level POST. The binding cookie
// (__Host-…; Secure; SameSite=None) must travel with it, and does: the sign-in
// succeeds. A SameSite=Lax control cookie set on the same redirect does not
// travel, showing the POST really was cross-site.
func TestBrowserCrossSiteBinding(t *testing.T) {
	b := newBrowser(t, chromedp.Flag("ignore-certificate-errors", true))

	idpSrv := httptest.NewUnstartedServer(nil)
	idpURL := "https://127.0.0.1:" + portOf(t, idpSrv)
	idp, err := ssotest.New(ssotest.Config{EntityID: idpURL + "/metadata", SSOURL: idpURL + "/sso",
		Login: func(*http.Request, *ssotest.AuthnRequest) (ssotest.User, error) {
			return ssotest.User{Email: "alice@acme.example", FirstName: "Alice", LastName: "L"}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	idpSrv.Config.Handler = idp
	idpSrv.StartTLS()
	t.Cleanup(idpSrv.Close)

	appSrv := httptest.NewUnstartedServer(nil)
	appURL := "https://localhost:" + portOf(t, appSrv)
	st := memory.New()
	svc, err := sso.New(sso.Config{BaseURL: appURL, Store: st, Sessions: session.NewManager(st)})
	if err != nil {
		t.Fatal(err)
	}
	org := &sso.Organization{ID: "org-1", SSOName: "acme", OwnerID: "u-1", Enabled: true, IdP: idp.IdPConfig(), JITProvisioning: true}
	if err := st.SaveOrganization(t.Context(), org); err != nil {
		t.Fatal(err)
	}
	const probe = "lax_probe"
	var mu sync.Mutex
	var atACS []string // cookie names the ACS POST carried
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		rd, ok, err := svc.StartLoginFromRequest(r.Context(), r)
		if !ok || err != nil {
			http.Error(w, "no SSO", http.StatusBadRequest)
			return
		}
		http.SetCookie(w, rd.Cookie)
		http.SetCookie(w, &http.Cookie{Name: probe, Value: "1", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, rd.URL, http.StatusFound)
	})
	mux.HandleFunc("POST /sso/{name}/acs", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		for _, c := range r.Cookies() {
			atACS = append(atACS, c.Name)
		}
		mu.Unlock()
		res, err := svc.HandleACS(r.Context(), r.PathValue("name"), r)
		if err != nil {
			for _, c := range svc.ClearBindingCookies(r) {
				http.SetCookie(w, c)
			}
			http.Error(w, "refused: "+sso.ErrorCode(err), http.StatusForbidden)
			return
		}
		for _, c := range res.ClearCookies {
			http.SetCookie(w, c)
		}
		fmt.Fprintf(w, "<p id=\"who\">signed in as %s</p>", html.EscapeString(res.Member.Email))
	})
	appSrv.Config.Handler = mux
	appSrv.StartTLS()
	t.Cleanup(appSrv.Close)

	b.do("cross-site SSO sign-in",
		chromedp.Navigate(appURL+"/login?trigger_sso_flow=acme"),
		chromedp.WaitVisible(chromedp.CSS("body")),
	)
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#who"))); err != nil {
		body, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("body")))
		b.shot("failed-cross-site-binding")
		t.Fatalf("no signed-in page after the IdP's cross-site POST: %v (at %s: %q)", err, b.location(), body)
	}
	b.want("signed in", b.text("#who"), "signed in as alice@acme.example")
	b.shot("09-cross-site-binding")

	mu.Lock()
	carried := slices.Clone(atACS)
	mu.Unlock()
	var binding bool
	for _, name := range carried {
		binding = binding || strings.HasPrefix(name, "__Host-"+sso.BindingCookiePrefix)
	}
	if !binding {
		t.Errorf("the ACS POST carried %q; want the __Host- binding cookie", carried)
	}
	if slices.Contains(carried, probe) {
		t.Errorf("the ACS POST carried the SameSite=Lax probe %q: the POST was not cross-site, the test proves nothing", carried)
	}
	b.do("read the app's cookies", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		res, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{appURL + "/"}})
		if err != nil {
			return err
		}
		for _, c := range res.Cookies {
			if strings.Contains(c.Name, sso.BindingCookiePrefix) {
				t.Errorf("binding cookie %s still in the browser after the ACS; want it cleared", c.Name)
			}
		}
		return nil
	}))
}

// portOf returns the port an unstarted httptest server listens on.
func portOf(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// TestBrowserMFA: two-step verification after SSO in Chromium. The owner
// turns on "Require MFA after SSO"; alice signs in through the IdP and
// lands on the enrollment page without a session; the test reads the key
// off the page, computes the authenticator app's code (the demo runs on the
// real clock), confirms, sees the recovery codes once and continues to the
// dashboard. Signed out and in again, she is challenged and uses a recovery
// code (no waiting for the next 30-second step); the same code is refused
// the next time. The owner's member list shows her enrollment and resets it.
func TestBrowserMFA(t *testing.T) {
	u, _ := startDemo(t, "") // before the browser: see TestBrowser
	b := newBrowser(t)

	b.passwordSignIn(u.App, "owner@acme.example", "owner-demo-password")
	b.do("require MFA",
		chromedp.WaitVisible(chromedp.CSS("#org-role")),
		chromedp.Navigate(u.App+"/settings#mfa-settings"),
		chromedp.WaitVisible(chromedp.CSS("#mfa-required")),
		chromedp.Click(chromedp.CSS("#mfa-required")),
		chromedp.Click(chromedp.CSS("#mfa-save")),
		chromedp.WaitVisible(chromedp.CSS("#settings-notice")),
	)
	b.want("notice", b.text("#settings-notice"), "Two-step verification settings saved.")
	b.wantContains("audit trail", b.text("#audit-table tr.admin"), "Olivia (owner) changed two-step verification")
	b.do("log out the owner", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login-info")))

	ssoSignIn := func(what string) {
		b.t.Helper()
		b.do(what+": SSO deep link", chromedp.Navigate(u.App+"/login?trigger_sso_flow=acme"))
		b.choose("primary")
		b.idpSignIn("alice", "alice-idp-password")
	}

	// First sign-in: enrollment.
	ssoSignIn("first sign-in")
	b.do("the enrollment page", chromedp.WaitVisible(chromedp.CSS("#totp-secret")))
	b.wantNoSession("on the enrollment page", u.App)
	b.wantContains("enrollment page URL", b.location(), u.App+"/sso/mfa")
	b.want("who", b.text("#mfa-email"), "alice@acme.example")
	href, err := chromedp.Run(b.ctx, chromedp.AttributeValue(chromedp.CSS("#totp-url"), "href"))
	if err != nil || !strings.HasPrefix(href.Value, "otpauth://totp/") {
		t.Errorf("otpauth link = %q, %v; want otpauth://totp/…", href.Value, err)
	}
	if qr, err := chromedp.Run(b.ctx, chromedp.AttributeValue(chromedp.CSS("#totp-qr"), "src")); err != nil || !strings.HasPrefix(qr.Value, "data:image/png;base64,") {
		t.Errorf("QR code src = %.40q, %v; want a PNG data: URL", qr.Value, err)
	}
	b.shot("30-mfa-enroll")
	secret := strings.ReplaceAll(b.text("#totp-secret"), " ", "")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatalf("TOTP code of the key on the page: %v", err)
	}
	b.do("confirm the code",
		chromedp.SendKeys(chromedp.CSS(`#mfa-form input[name="code"]`), code),
		chromedp.Click(chromedp.CSS("#mfa-submit")),
		chromedp.WaitVisible(chromedp.CSS("#recovery-codes")),
	)
	codes := strings.Fields(b.text("#recovery-codes"))
	if len(codes) != sso.RecoveryCodeCount {
		t.Fatalf("recovery codes shown = %q; want %d", codes, sso.RecoveryCodeCount)
	}
	b.shot("31-mfa-recovery-codes")
	b.do("continue to the dashboard",
		chromedp.Click(chromedp.CSS("#mfa-continue")),
		chromedp.WaitVisible(chromedp.CSS("#org-role")),
	)
	b.want("alice's email", b.text("#email"), "alice@acme.example")
	b.want("alice's sign-in method", b.text("#method"), "single sign-on (SSO)")
	b.do("log out", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login-info")))

	// Second sign-in: the challenge, answered with a recovery code.
	ssoSignIn("second sign-in")
	b.do("the challenge page", chromedp.WaitVisible(chromedp.CSS("#mfa-form")))
	b.wantNoSession("on the challenge page", u.App)
	if n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#totp-secret").length`)); err != nil || n != 0 {
		t.Errorf("the challenge page shows a key (%d, %v); want none", n, err)
	}
	b.shot("32-mfa-challenge")
	b.do("use a recovery code",
		chromedp.Click(chromedp.CSS("#recovery-open")),
		chromedp.WaitVisible(chromedp.CSS(`#recovery-form input[name="code"]`)),
		chromedp.SendKeys(chromedp.CSS(`#recovery-form input[name="code"]`), codes[0]),
		chromedp.Click(chromedp.CSS("#recovery-submit")),
		chromedp.WaitVisible(chromedp.CSS("#org-role")),
	)
	b.want("alice's email after the recovery code", b.text("#email"), "alice@acme.example")
	b.do("log out again", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login-info")))

	// Third sign-in: the used recovery code is refused.
	ssoSignIn("third sign-in")
	b.do("used recovery code",
		chromedp.WaitVisible(chromedp.CSS("#recovery-open")),
		chromedp.Click(chromedp.CSS("#recovery-open")),
		chromedp.WaitVisible(chromedp.CSS(`#recovery-form input[name="code"]`)),
		chromedp.SendKeys(chromedp.CSS(`#recovery-form input[name="code"]`), codes[0]),
		chromedp.Click(chromedp.CSS("#recovery-submit")),
		chromedp.WaitVisible(chromedp.CSS("#mfa-error")),
	)
	b.want("refusal", b.text("#mfa-error"), sso.UserMessage(sso.ErrMFACode)+" 4 attempts left.")
	b.wantNoSession("after the refused code", u.App)
	b.shot("33-mfa-refused")

	// The owner sees alice's enrollment and resets it.
	b.fresh()
	b.passwordSignIn(u.App, "owner@acme.example", "owner-demo-password")
	row := `tr[data-email="alice@acme.example"]`
	b.do("the member list",
		chromedp.WaitVisible(chromedp.CSS("#org-role")),
		chromedp.Navigate(u.App+"/settings#members"),
		chromedp.WaitVisible(chromedp.CSS(row)),
	)
	b.want("alice's two-step", b.text(row+" td.mfa-state"), "set up Reset")
	b.do("reset alice's two-step verification",
		chromedp.Click(chromedp.CSS(`form[id="mfa-reset-alice@acme.example"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#settings-notice")),
	)
	b.want("alice's two-step after the reset", b.text(row+" td.mfa-state"), "not set up")
	b.wantContains("audit trail after the reset", b.text("#audit-table tr.admin"), "Olivia (owner) reset the two-step verification of")
}

// wantNoSession checks that Chromium holds no session cookie for the app.
func (b *browser) wantNoSession(what, appURL string) {
	b.t.Helper()
	b.do("read the app's cookies", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{appURL + "/"}})
		if err != nil {
			return err
		}
		for _, c := range res.Cookies {
			if c.Name == sso.SessionCookieName {
				b.t.Errorf("%s: the browser holds a session cookie; want none before the second factor", what)
			}
		}
		return nil
	}))
}
