package main

import (
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/orgsso/orgsso/sso"
)

// Two-step verification after SSO (Organization.MFA). A sign-in that needs
// the second factor ends at the ACS or callback with the MFA cookie and no
// session (finishSignIn), then goes to /sso/mfa: orgsso's sso.Handler
// serves that page, in the demo's look (HandlerConfig.RenderMFA and
// RenderError): enrollment of an authenticator app the first time, the
// challenge after. The owner turns the policy on in step 3 of the settings
// and sees, and resets, each member's enrollment in the member list.

// mfaPath is where the MFA pages are: the Handler's {prefix}mfa.
const mfaPath = "/sso/mfa"

// newMFAHandler is the sso.Handler that serves the MFA pages.
func (a *app) newMFAHandler() (*sso.Handler, error) {
	return a.svc.Handler(sso.HandlerConfig{
		Prefix:       "/sso/",
		LoginURL:     "/login",
		SignedOutURL: "/login?info=signed_out",
		RenderMFA:    a.renderMFA,
		RenderError: func(w http.ResponseWriter, r *http.Request, status int, err error) {
			if errors.Is(err, sso.ErrUnavailable) {
				a.failure(w, r, err)
				return
			}
			a.renderError(w, r, status, "Sign-in problem", sso.UserMessage(err))
		},
	})
}

// mfaPage is an MFA page in the demo's look.
type mfaPage struct {
	base
	Page   *sso.MFAPage
	QR     template.URL // the otpauth URL as a PNG data: URL
	Secret string       // in groups of four
	URL    template.URL // otpauth://totp/…, which html/template would refuse as is
	Error  string
}

// renderMFA is HandlerConfig.RenderMFA.
func (a *app) renderMFA(w http.ResponseWriter, r *http.Request, status int, page *sso.MFAPage) {
	p := mfaPage{base: base{Title: "Two-step verification"}, Page: page}
	switch page.Kind {
	case sso.MFAPageEnroll:
		p.Title = "Set up two-step verification"
	case sso.MFAPageRecoveryCodes:
		p.Title = "Save your recovery codes"
	}
	if en := page.Enrollment; en != nil && strings.HasPrefix(en.URL, "otpauth://totp/") {
		p.URL = template.URL(en.URL) // made by orgsso, every part escaped
		p.Secret = groupsOf4(en.Secret)
		if png, err := en.QRCode(200); err == nil {
			p.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
		}
	}
	if page.Err != nil {
		p.Error = sso.UserMessage(page.Err)
		if errors.Is(page.Err, sso.ErrMFACode) && page.AttemptsLeft > 0 {
			p.Error += " " + plural(page.AttemptsLeft, "attempt") + " left."
		}
	}
	a.render(w, status, "mfa", p)
}

// groupsOf4 writes a key in groups of four characters.
func groupsOf4(s string) string {
	var parts []string
	for len(s) > 4 {
		parts = append(parts, s[:4])
		s = s[4:]
	}
	return strings.Join(append(parts, s), " ")
}

// handleSaveMFA saves the organization's MFA policy: whether members
// signing in through SSO need a second factor here, and whether the IdP's
// own MFA counts.
func (a *app) handleSaveMFA(w http.ResponseWriter, r *http.Request) {
	v := a.ownerForm(w, r, 16<<10)
	if v == nil {
		return
	}
	required := r.PostForm.Get("mfa_required") == "on"
	trust := r.PostForm.Get("mfa_trust_idp") == "on"
	if _, err := a.update(r.Context(), v, func(o *sso.Organization) error {
		o.MFA.Required, o.MFA.TrustIdP = required, trust
		return nil
	}); err != nil {
		a.formFailed(w, r, v, err, func(p *settingsPage, msg string) { p.MFAError = msg })
		return
	}
	saved(w, r, "mfa")
}

// handleResetMFA removes a member's second factor (a lost phone): their
// next SSO sign-in enrolls again.
func (a *app) handleResetMFA(w http.ResponseWriter, r *http.Request) {
	v := a.ownerForm(w, r, 16<<10)
	if v == nil {
		return
	}
	ctx := r.Context()
	m, err := a.svc.Member(ctx, v.Org.ID, r.PostForm.Get("email"))
	if err == nil {
		err = a.svc.ResetMFA(ctx, v.Org.ID, v.actor(), m.UserID)
	}
	if err != nil {
		a.memberFailed(w, r, v, err)
		return
	}
	saved(w, r, "mfa_reset")
}
