package sso

import (
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"strings"
)

// The Handler's MFA pages: a sign-in that needs the second factor
// (Result.MFA) gets the MFA cookie and no session, and goes to {prefix}mfa,
// where the member enrolls an authenticator app or gives a code.

// MFAPageKind names the page RenderMFA writes.
type MFAPageKind string

// The MFA pages.
const (
	// MFAPageEnroll: the member has no second factor yet. Show the
	// enrollment's secret and otpauth URL (a QR code of it, the secret as
	// text) and a form posting the app's first code as "code".
	MFAPageEnroll MFAPageKind = "enroll"
	// MFAPageVerify: the member has enrolled. A form posting "code", a
	// TOTP code or a recovery code.
	MFAPageVerify MFAPageKind = "verify"
	// MFAPageRecoveryCodes: the enrollment is confirmed and the session
	// cookie set. Show the recovery codes, this once, and a link to
	// Continue.
	MFAPageRecoveryCodes MFAPageKind = "recovery_codes"
)

// MFACodeField is the form field the MFA page posts the code in.
const MFACodeField = "code"

// maxMFAForm bounds the body of the MFA page's POST.
const maxMFAForm = 4 << 10

// MFAPage is what RenderMFA shows.
type MFAPage struct {
	Kind MFAPageKind
	// Action is where the form posts (method POST, field MFACodeField):
	// {prefix}mfa.
	Action string
	// Email and SSOName say who is signing in to which organization.
	Email, SSOName string
	// Enrollment is the authenticator app's secret and otpauth URL
	// (MFAPageEnroll only). Show it on the page and nowhere else.
	Enrollment *TOTPEnrollment
	// AttemptsLeft is how many more codes this sign-in may try.
	AttemptsLeft int
	// Err is the code just refused (nil on a first view): show
	// UserMessage(Err), never its text.
	Err error
	// RecoveryCodes are shown once (MFAPageRecoveryCodes only), Continue
	// is where the member goes next: the sign-in's destination.
	RecoveryCodes []string
	Continue      string
}

// errNoMFACookie is the ErrMFAToken of a request without the MFA cookie.
var errNoMFACookie = mfaErr(ErrMFAToken, "no MFA cookie")

// mfaGet shows the page the pending sign-in needs: enrollment or challenge.
func (h *Handler) mfaGet(w http.ResponseWriter, r *http.Request) {
	token := h.svc.MFAToken(r)
	if token == "" {
		h.renderError(w, r, http.StatusUnauthorized, errNoMFACookie)
		return
	}
	h.mfaPage(w, r, token, http.StatusOK, nil)
}

// mfaPost checks the posted code: it confirms the enrollment begun on the
// page, or verifies the enrolled member's code.
//
// Only same-origin posts are taken (the check logout uses). The MFA cookie
// is SameSite=Lax, so a browser does not send it with another site's POST
// anyway: such a post finds no pending sign-in. The check is the second
// wall, for browsers that ignore SameSite and for a sibling subdomain (same
// site, another origin) on http, where the cookie has no __Host- prefix.
func (h *Handler) mfaPost(w http.ResponseWriter, r *http.Request) {
	if err := h.csrf.Check(r); err != nil {
		h.renderError(w, r, http.StatusForbidden, ErrCrossSite)
		return
	}
	token := h.svc.MFAToken(r)
	if token == "" {
		h.renderError(w, r, http.StatusUnauthorized, errNoMFACookie)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxMFAForm)
	if err := r.ParseForm(); err != nil {
		h.mfaPage(w, r, token, http.StatusBadRequest, mfaErr(ErrMFACode, "the form could not be read"))
		return
	}
	code := r.PostForm.Get(MFACodeField)
	st, err := h.svc.MFAState(r.Context(), token)
	if err != nil {
		h.mfaFailed(w, r, token, err)
		return
	}
	if st.Enrolled {
		res, err := h.svc.VerifyMFA(r.Context(), token, code)
		if err != nil {
			h.mfaFailed(w, r, token, err)
			return
		}
		h.signedIn(w, r, res, nil)
		return
	}
	res, codes, err := h.svc.ConfirmTOTPEnrollment(r.Context(), token, code)
	if err != nil {
		h.mfaFailed(w, r, token, err)
		return
	}
	h.signedIn(w, r, res, codes)
}

// mfaFailed answers a refused or failed MFA step: a dead token clears the
// cookie and shows the error page (sign in again); a wrong code, a lock or
// a change made in another tab shows the page again with the message; any
// other failure (the store) shows the error page and keeps the cookie, to
// try again.
func (h *Handler) mfaFailed(w http.ResponseWriter, r *http.Request, token string, err error) {
	switch {
	case errors.Is(err, ErrMFAToken):
		http.SetCookie(w, h.svc.ClearMFACookie())
		h.renderError(w, r, StatusCode(err), err)
	case errors.Is(err, ErrMFACode), errors.Is(err, ErrMFALocked), errors.Is(err, ErrMFAEnrolled), errors.Is(err, ErrMFANotEnrolled):
		h.mfaPage(w, r, token, StatusCode(err), err)
	default:
		h.renderError(w, r, StatusCode(err), err)
	}
}

// mfaPage shows the page of the pending sign-in as it is now, with status
// and the refused code's error, if any.
func (h *Handler) mfaPage(w http.ResponseWriter, r *http.Request, token string, status int, refused error) {
	ctx := r.Context()
	st, err := h.svc.MFAState(ctx, token)
	if err != nil {
		if errors.Is(err, ErrMFAToken) {
			http.SetCookie(w, h.svc.ClearMFACookie())
		}
		h.renderError(w, r, StatusCode(err), err)
		return
	}
	p := &MFAPage{Kind: MFAPageVerify, Action: h.prefix + "mfa", Email: st.Email, SSOName: st.SSOName,
		AttemptsLeft: st.AttemptsLeft, Err: refused}
	if !st.Enrolled {
		p.Kind = MFAPageEnroll
		// The secret begun with this sign-in, when there is one: a reload
		// or a wrong code keeps the entry the app has already.
		var en *TOTPEnrollment
		if st.EnrollmentBegun {
			en, err = h.svc.PendingTOTPEnrollment(ctx, token)
		} else {
			en, err = h.svc.BeginTOTPEnrollment(ctx, token)
		}
		if err != nil {
			if errors.Is(err, ErrMFAToken) {
				http.SetCookie(w, h.svc.ClearMFACookie())
			}
			h.renderError(w, r, StatusCode(err), err)
			return
		}
		p.Enrollment = en
	}
	h.renderMFA(w, r, status, p)
}

// renderMFA writes an MFA page through the hook or the default.
func (h *Handler) renderMFA(w http.ResponseWriter, r *http.Request, status int, p *MFAPage) {
	if h.cfg.RenderMFA != nil {
		h.cfg.RenderMFA(w, r, status, p)
		return
	}
	writePageCSP(w, status, mfaPageCSP, mfaTemplate, newMFAData(p))
}

// mfaPageCSP is pageCSP with the QR code's data: image allowed.
const mfaPageCSP = pageCSP + "; img-src data:"

var mfaTemplate = template.Must(template.New("mfa").Parse(pageHead + `{{template "head" .Title}}
<h1>{{.Title}}</h1>
{{if eq .Kind "recovery_codes"}}
<p>You are signed in. If you lose your device, each of these codes signs you in once instead of the app's code. Save them now: they are not shown again.</p>
<ul id="recovery-codes">{{range .RecoveryCodes}}<li><code>{{.}}</code></li>{{end}}</ul>
<p><a href="{{.Continue}}" id="mfa-continue">Continue</a></p>
{{else}}
<p>{{with .SSOName}}<code>{{.}}</code> asks{{else}}Your organization asks{{end}} for a second factor from {{.Email}}.</p>
{{if eq .Kind "enroll"}}
<p>Add this account to your authenticator app: scan the QR code, or open the link on the device that has the app, or type the key.</p>
{{with .QR}}<p><img src="{{.}}" width="200" height="200" alt="QR code of the otpauth URL below"></p>{{end}}
<p>Key: <code id="totp-secret">{{.SecretGroups}}</code></p>
<p><a href="{{.URL}}" id="totp-url">{{.URLText}}</a></p>
{{end}}
{{with .Message}}<p role="alert" id="mfa-error"><strong>{{.}}</strong>{{if $.ShowLeft}} {{$.AttemptsLeft}} {{if eq $.AttemptsLeft 1}}attempt{{else}}attempts{{end}} left.{{end}}</p>{{end}}
<form method="post" action="{{.Action}}" id="mfa-form">
<label>{{if eq .Kind "enroll"}}The code the app shows now{{else}}The code from your authenticator app{{end}}
<input name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="64" required autofocus></label>
<button>{{if eq .Kind "enroll"}}Confirm and sign in{{else}}Verify{{end}}</button>
</form>
{{if eq .Kind "verify"}}
<details><summary>Use a recovery code</summary>
<form method="post" action="{{.Action}}" id="mfa-recovery-form">
<label>Recovery code <input name="code" autocomplete="off" maxlength="64" required></label>
<button>Sign in with the recovery code</button>
</form></details>
{{end}}
{{end}}
</body></html>`))

// mfaData is an MFAPage laid out for the default template.
type mfaData struct {
	*MFAPage
	Title        string
	QR           template.URL // a data:image/png URL, "" when it could not be made
	SecretGroups string
	URL          template.URL // the otpauth URL, which html/template would refuse
	URLText      string
	Message      string
	ShowLeft     bool
}

func newMFAData(p *MFAPage) mfaData {
	d := mfaData{MFAPage: p, Message: UserMessage(p.Err)}
	d.ShowLeft = p.Err != nil && errors.Is(p.Err, ErrMFACode) && p.AttemptsLeft > 0
	switch p.Kind {
	case MFAPageEnroll:
		d.Title = "Set up two-step verification"
	case MFAPageRecoveryCodes:
		d.Title = "Save your recovery codes"
	default:
		d.Title = "Two-step verification"
	}
	if en := p.Enrollment; en != nil {
		d.SecretGroups = groups(en.Secret, 4)
		d.URLText = en.URL
		// Ours, from the otp package: otpauth://totp/… with every part
		// escaped. The scheme is checked all the same.
		if strings.HasPrefix(en.URL, "otpauth://totp/") {
			d.URL = template.URL(en.URL)
			d.QR = qrDataURL(en)
		}
	}
	return d
}

// groups writes s in groups of n characters, for reading and typing.
func groups(s string, n int) string {
	var b strings.Builder
	for i := 0; i < len(s); i += n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+n, len(s))])
	}
	return b.String()
}

// qrDataURL is the enrollment's QR code as a data: URL, "" when it cannot
// be made (the page still has the link and the key).
func qrDataURL(en *TOTPEnrollment) template.URL {
	png, err := en.QRCode(200)
	if err != nil {
		return ""
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
}
