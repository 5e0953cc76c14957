package main

// A real browser against the whole demo: Debian's Chromium, headless, driven
// over the DevTools protocol by chromedp. It clicks through the pages a
// person would and saves screenshots of the key ones.

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/orgsso/orgsso/sso"
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

func newBrowser(t *testing.T) *browser {
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
	cs := b.bindingCookies(appURL)
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
// owner's Test SSO, strict mode switched on in the settings form (dave's
// password refused, the owner's accepted), and the SSO deep link.
func TestBrowser(t *testing.T) {
	b := newBrowser(t)
	u, _ := startDemo(t, "")

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
		chromedp.WaitVisible(chromedp.CSS("#idp-form")),
	)
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
	b.do("SSO deep link for carol",
		chromedp.Navigate(u.App+"/login?trigger_sso_flow=acme"),
		chromedp.WaitVisible(chromedp.CSS("#idp-form")),
	)
	b.idpSignIn("carol", "carol-idp-password")
	b.do("carol's login page", chromedp.WaitVisible(chromedp.CSS("#login-error")))
	b.want("carol's message", b.text("#login-error"), sso.UserMessage(sso.ErrAccessDenied))
	b.shot("04-carol-denied")

	// bob: admin.
	b.fresh()
	b.do("SSO deep link for bob", chromedp.Navigate(u.App+"/login?trigger_sso_flow=acme"))
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

	b.fresh()
	b.passwordSignIn(u.App, "dave@acme.example", "dave-demo-password")
	b.do("dave refused", chromedp.WaitVisible(chromedp.CSS("#login-error")))
	b.want("dave's message", b.text("#login-error"), sso.UserMessage(sso.ErrSSORequired))
	b.shot("08-dave-strict-mode")
	b.passwordSignIn(u.App, "owner@acme.example", "owner-demo-password")
	b.do("owner still signs in", chromedp.WaitVisible(chromedp.CSS("#org-role")))
	b.want("owner's organization role under strict mode", b.text("#org-role"), "owner")

	// The deep link skips the login page.
	b.fresh()
	b.do("SSO deep link",
		chromedp.Navigate(u.App+"/login?trigger_sso_flow=acme"),
		chromedp.WaitVisible(chromedp.CSS("#idp-form")),
	)
	b.wantContains("deep link lands on", b.location(), u.IdP+"/sso")
	b.idpSignIn("alice", "alice-idp-password")
	b.do("alice's dashboard again", chromedp.WaitVisible(chromedp.CSS("#org-role")))
	b.want("alice's organization role", b.text("#org-role"), "member")
}
