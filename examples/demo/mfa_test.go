package main

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/orgsso/orgsso/sso"
)

var (
	demoSecretRE   = regexp.MustCompile(`<code id="totp-secret">([^<]*)</code>`)
	demoRecoveryRE = regexp.MustCompile(`<li><code>([A-Z2-7-]+)</code></li>`)
)

// noSessionCookie fails when any Set-Cookie since the last takeHops set
// the session cookie.
func noSessionCookie(t *testing.T, c *client, what string) {
	t.Helper()
	_, cookies := c.takeHops()
	for _, sc := range cookies {
		if strings.HasPrefix(sc, sessionCookie+"=") && !strings.HasPrefix(sc, sessionCookie+"=;") {
			t.Errorf("%s: Set-Cookie %q; want no session before the second factor", what, sc)
		}
	}
}

// wrongDemoCode is a six-digit code that is none of the app's codes now.
func wrongDemoCode(t *testing.T, secret string) string {
	t.Helper()
	now := time.Now()
	for i := 0; ; i++ {
		c := fmt.Sprintf("%06d", i)
		ok := true
		for _, d := range []time.Duration{-time.Minute, -30 * time.Second, 0, 30 * time.Second, time.Minute} {
			if v, err := totp.GenerateCode(secret, now.Add(d)); err != nil || v == c {
				ok = false
			}
		}
		if ok {
			return c
		}
	}
}

// TestMFAPages: the owner requires MFA in the settings (audited); alice's
// SSO sign-in ends on the enrollment page without a session; a wrong code
// shows the attempts left; the app's code shows the recovery codes once and
// leads to the dashboard. The owner's member list shows her enrollment and
// resets it; resetting a member without one says so; "Accept the IdP's
// MFA" is saved.
func TestMFAPages(t *testing.T) {
	a, u, _ := startApp(t, "", nil)
	owner := newClient(t)
	passwordSignIn(t, owner, u, "owner@acme.example", "owner-demo-password")
	p := owner.submit(owner.get(u.App+"/settings"), "mfa-settings-form", map[string]string{"mfa_required": "on"})
	wantText(t, "settings after saving MFA", p.Body, "Two-step verification settings saved.")
	wantAudit(t, "audit after saving MFA", p.Body, "Olivia (owner) changed two-step verification.")
	wantIn(t, "the MFA checkbox", p.Body, `id="mfa-required" checked`)

	alice := newClient(t)
	alice.takeHops()
	p = ssoSignIn(t, alice, u, alice.get(u.App+"/login?trigger_sso_flow=acme"), "alice", "alice-idp-password")
	noSessionCookie(t, alice, "SSO sign-in")
	if p.URL.Path != mfaPath || p.Status != http.StatusOK {
		t.Fatalf("alice's SSO sign-in landed on %s (status %d); want the MFA page", p.URL.Path, p.Status)
	}
	wantIn(t, "enrollment page", p.Body, `href="otpauth://totp/`, `src="data:image/png;base64,`, "alice@acme.example")
	m := demoSecretRE.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no key on the enrollment page:\n%s", cutStr(p.Body, 3000))
	}
	secret := strings.ReplaceAll(html.UnescapeString(m[1]), " ", "")

	p = alice.submit(p, "mfa-form", map[string]string{"code": wrongDemoCode(t, secret)})
	noSessionCookie(t, alice, "wrong code")
	if p.Status != http.StatusUnauthorized {
		t.Errorf("wrong code: status %d; want 401", p.Status)
	}
	wantText(t, "wrong code", p.Body, sso.UserMessage(sso.ErrMFACode)+" 4 attempts left.")
	if again := demoSecretRE.FindStringSubmatch(p.Body); again == nil || again[1] != m[1] {
		t.Errorf("the page after a wrong code shows another key; want the same")
	}

	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	p = alice.submit(p, "mfa-form", map[string]string{"code": code})
	codes := demoRecoveryRE.FindAllStringSubmatch(p.Body, -1)
	if p.Status != http.StatusOK || len(codes) != sso.RecoveryCodeCount {
		t.Fatalf("after the right code: status %d, %d recovery codes; want 200 and %d\n%s", p.Status, len(codes), sso.RecoveryCodeCount, cutStr(p.Body, 3000))
	}
	if p = alice.get(u.App + "/"); !strings.Contains(p.Body, `<dd id="email">alice@acme.example</dd>`) {
		t.Errorf("alice's dashboard after enrolling: %s (status %d)", p.URL.Path, p.Status)
	}
	if p = alice.get(u.App + mfaPath); p.Status != http.StatusUnauthorized || strings.Contains(p.Body, codes[0][1]) {
		t.Errorf("the MFA page after enrolling: status %d; want 401 without the codes", p.Status)
	}

	p = owner.get(u.App + "/settings")
	wantIn(t, "alice's row", p.Body, `id="mfa-reset-alice@acme.example"`)
	p = owner.submit(p, "mfa-reset-alice@acme.example", nil)
	wantText(t, "after the reset", p.Body, "Two-step verification reset.")
	if strings.Contains(p.Body, `id="mfa-reset-alice@acme.example"`) {
		t.Errorf("alice's row still offers a reset")
	}
	wantAudit(t, "audit after the reset", p.Body, "Olivia (owner) reset the two-step verification of")
	enrolled, err := a.svc.MFAEnrolled(t.Context(), demoOrgID, demoOwnerID, a.mustMember(t, "alice@acme.example"))
	if err != nil || enrolled {
		t.Errorf("MFAEnrolled(alice) after the reset = %t, %v; want false", enrolled, err)
	}

	req, err := http.NewRequest(http.MethodPost, u.App+"/settings/members/mfa-reset", strings.NewReader("email=dave%40acme.example"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if p = owner.do(req); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="member-error"`) {
		t.Errorf("resetting dave, who has no second factor: status %d; want 422 with the member list's error", p.Status)
	}

	p = owner.submit(owner.get(u.App+"/settings"), "mfa-settings-form", map[string]string{"mfa_required": "on", "mfa_trust_idp": "on"})
	wantText(t, "settings after trusting the IdP", p.Body, "Two-step verification settings saved.")
	org, err := a.svc.Organization(t.Context(), demoOrgID)
	if err != nil || !org.MFA.Required || !org.MFA.TrustIdP {
		t.Errorf("MFA policy = %+v, %v; want required, trusting the IdP", org.MFA, err)
	}
}

// mustMember returns the user ID of the member with email.
func (a *app) mustMember(t *testing.T, email string) string {
	t.Helper()
	m, err := a.svc.Member(t.Context(), demoOrgID, email)
	if err != nil {
		t.Fatal(err)
	}
	return m.UserID
}
