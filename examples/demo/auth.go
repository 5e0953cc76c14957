package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

// viewer is the signed-in person: the orgsso session, the app's user and
// the orgsso membership.
type viewer struct {
	Session *session.Session
	User    User
	Member  *sso.Member
	Org     *sso.Organization
}

// IsOwner reports whether the viewer owns the organization.
func (v *viewer) IsOwner() bool {
	return v != nil && v.Member.UserID == v.Org.OwnerID && v.Org.OwnerID != ""
}

// viewer returns who is signed in, or nil. The member is found through the
// app's user (session UserID → user → email → orgsso member).
func (a *app) viewer(r *http.Request) (*viewer, error) {
	ctx := r.Context()
	sess, err := a.svc.SessionFromRequest(r)
	switch {
	case errors.Is(err, session.ErrUnknownSession), errors.Is(err, session.ErrExpired):
		return nil, nil
	case err != nil:
		return nil, err
	}
	u, err := a.users.ByID(ctx, sess.UserID)
	if errors.Is(err, errNoUser) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	m, err := a.store.Member(ctx, sess.OrgID, u.Email)
	if errors.Is(err, sso.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	org, err := a.store.Organization(ctx, sess.OrgID)
	if err != nil {
		return nil, err
	}
	return &viewer{Session: sess, User: u, Member: m, Org: org}, nil
}

// clearSessionCookie makes the browser forget its session cookie.
func clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// Login page messages travel as short codes in the URL (?error=denied, from
// sso.ErrorCode), never as text, so nobody can make the login page say
// something else: sso.MessageFor turns a code back into its fixed message.
var loginInfos = map[string]string{
	"signed_out": "You are signed out.",
	"expired":    "Your session has ended. Please sign in again.",
}

// loginPage is the password form, with the way to SSO.
type loginPage struct {
	base
	Email    string
	ReturnTo string
	Error    string
	Info     string
	SSOURL   string
}

// loginPageData is the login page before any input.
func (a *app) loginPageData(returnTo string) loginPage {
	p := loginPage{base: base{Title: "Sign in"}, ReturnTo: returnTo}
	q := url.Values{}
	if returnTo != "/" {
		q.Set(sso.ReturnToParam, returnTo)
	}
	p.SSOURL = "/login/sso"
	if len(q) > 0 {
		p.SSOURL += "?" + q.Encode()
	}
	return p
}

// handleLoginPage shows the login form, or with ?trigger_sso_flow=NAME goes
// straight to the organization's IdP.
func (a *app) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	returnTo := sso.SafeReturnTo(r.URL.Query().Get(sso.ReturnToParam))
	rd, ok, err := a.svc.StartLoginFromRequest(r.Context(), r)
	if ok {
		if err != nil {
			a.log.Info("SSO deep link refused", "sso_name", cut(r.URL.Query().Get(sso.TriggerParam), 64), "err", err)
			p := a.ssoLoginData(returnTo)
			p.SSOName = cut(strings.TrimSpace(r.URL.Query().Get(sso.TriggerParam)), 64)
			p.Error = sso.UserMessage(err)
			a.render(w, http.StatusOK, "sso_login", p)
			return
		}
		http.SetCookie(w, rd.Cookie) // binds the sign-in to this browser
		http.Redirect(w, r, rd.URL, http.StatusFound)
		return
	}
	p := a.loginPageData(returnTo)
	p.Error = sso.MessageFor(r.URL.Query().Get("error"))
	p.Info = loginInfos[r.URL.Query().Get("info")]
	if v, err := a.viewer(r); err == nil && v != nil {
		if p.Error == "" && p.Info == "" {
			http.Redirect(w, r, returnTo, http.StatusSeeOther)
			return
		}
		p.Viewer = v // e.g. the owner back from a failed Test SSO
	}
	a.render(w, http.StatusOK, "login", p)
}

// handlePasswordLogin checks the app password, then asks orgsso whether the
// organization lets this member use a password at all.
func (a *app) handlePasswordLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := parseForm(w, r, 64<<10); err != nil {
		a.badForm(w, r, err)
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	password := r.PostForm.Get("password")
	returnTo := sso.SafeReturnTo(r.PostForm.Get(sso.ReturnToParam))
	p := a.loginPageData(returnTo)
	p.Email = cut(email, 254)
	if email == "" || password == "" {
		p.Error = "Enter your email address and your password."
		a.render(w, http.StatusUnprocessableEntity, "login", p)
		return
	}
	u, err := a.users.ByEmail(ctx, email)
	if err != nil && !errors.Is(err, errNoUser) {
		a.internalError(w, r, err)
		return
	}
	if err != nil || u.PasswordHash == "" {
		checkPassword(dummyHash(a.pwIter), password) // same cost as a wrong password
		p.Error = "Incorrect email or password."
		a.render(w, http.StatusUnauthorized, "login", p)
		return
	}
	if !checkPassword(u.PasswordHash, password) {
		p.Error = "Incorrect email or password."
		a.render(w, http.StatusUnauthorized, "login", p)
		return
	}
	if err := a.svc.PasswordLoginAllowed(ctx, u.OrgID, u.Email); err != nil {
		a.log.Info("password sign-in refused by the organization", "email", u.Email, "err", err)
		p.Error = sso.UserMessage(err)
		a.render(w, http.StatusForbidden, "login", p)
		return
	}
	sess, token, err := a.sessions.Create(ctx, u.OrgID, u.ID, session.MethodPassword, passwordSessionTTL)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	http.SetCookie(w, a.svc.SessionCookie(&sso.Result{Session: sess, Token: token}))
	http.Redirect(w, r, returnTo, http.StatusSeeOther)
}

// ssoLoginPage asks for the organization's SSO name.
type ssoLoginPage struct {
	base
	SSOName  string
	ReturnTo string
	Error    string
}

// ssoLoginData is the SSO name page before any input.
func (a *app) ssoLoginData(returnTo string) ssoLoginPage {
	return ssoLoginPage{base: base{Title: "Login via SSO"}, ReturnTo: returnTo}
}

// handleSSOLoginPage shows the SSO name form.
func (a *app) handleSSOLoginPage(w http.ResponseWriter, r *http.Request) {
	p := a.ssoLoginData(sso.SafeReturnTo(r.URL.Query().Get(sso.ReturnToParam)))
	p.SSOName = cut(r.URL.Query().Get("sso_name"), 64)
	a.render(w, http.StatusOK, "sso_login", p)
}

// handleSSOLogin starts an SP-initiated sign-in for the SSO name typed in.
func (a *app) handleSSOLogin(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 64<<10); err != nil {
		a.badForm(w, r, err)
		return
	}
	p := a.ssoLoginData(sso.SafeReturnTo(r.PostForm.Get(sso.ReturnToParam)))
	name := strings.ToLower(strings.TrimSpace(r.PostForm.Get("sso_name")))
	p.SSOName = cut(name, 64)
	if name == "" {
		p.Error = "Enter your organization's SSO name."
		a.render(w, http.StatusUnprocessableEntity, "sso_login", p)
		return
	}
	rd, err := a.svc.StartLogin(r.Context(), name, p.ReturnTo)
	if err != nil {
		a.log.Info("SSO start refused", "sso_name", p.SSOName, "err", err)
		p.Error = sso.UserMessage(err)
		a.render(w, http.StatusUnprocessableEntity, "sso_login", p)
		return
	}
	http.SetCookie(w, rd.Cookie) // binds the sign-in to this browser
	http.Redirect(w, r, rd.URL, http.StatusFound)
}

// handleLogout ends the session (sign-out revokes it in the store).
func (a *app) handleLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := a.sessions.Revoke(r.Context(), c.Value); err != nil && !errors.Is(err, session.ErrUnknownSession) {
			a.internalError(w, r, err)
			return
		}
	}
	clearSessionCookie(w)
	http.Redirect(w, r, "/login?info=signed_out", http.StatusSeeOther)
}

// handleACS is the Assertion Consumer Service: orgsso validates the IdP's
// response and applies the organization's rules; the app sets its cookie.
func (a *app) handleACS(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	res, err := a.svc.HandleACS(ctx, r.PathValue("name"), r)
	if err != nil {
		// orgsso has logged the detail (Config.Logger) and sent the event
		// (Config.OnEvent): the browser gets a safe message on the login page,
		// and forgets its browser-binding cookie.
		for _, c := range a.svc.ClearBindingCookies(r) {
			http.SetCookie(w, c)
		}
		http.Redirect(w, r, "/login?error="+sso.ErrorCode(err), http.StatusSeeOther)
		return
	}
	for _, c := range res.ClearCookies { // the sign-in's binding cookie is used up
		http.SetCookie(w, c)
	}
	if res.Test != nil {
		v, _ := a.viewer(r) // the owner's session, for the page header
		a.render(w, http.StatusOK, "test_report", testReportPage{
			base:           base{Title: "Test SSO", Viewer: v},
			Report:         res.Test,
			Org:            res.Org,
			MappingEnabled: res.Org.RoleMapping.Enabled,
		})
		return
	}
	if err := a.rememberMember(ctx, res.Member); err != nil {
		a.internalError(w, r, err)
		return
	}
	http.SetCookie(w, a.svc.SessionCookie(res))
	http.Redirect(w, r, res.ReturnTo, http.StatusSeeOther)
}

// rememberMember keeps the app's user in step with the member orgsso
// signed in: same ID, current email and name. The password stays.
func (a *app) rememberMember(ctx context.Context, m *sso.Member) error {
	u, err := a.users.ByID(ctx, m.UserID)
	if errors.Is(err, errNoUser) {
		u = User{ID: m.UserID, OrgID: m.OrgID}
	} else if err != nil {
		return err
	}
	u.Email = m.Email
	if name := strings.TrimSpace(m.FirstName + " " + m.LastName); name != "" {
		u.Name = name
	}
	return a.users.Save(ctx, u)
}

// handleMetadata serves the organization's SP metadata at its entity ID.
func (a *app) handleMetadata(w http.ResponseWriter, r *http.Request) {
	md, err := a.svc.MetadataFor(r.Context(), r.PathValue("name"))
	switch {
	case errors.Is(err, sso.ErrUnknownOrganization):
		a.renderError(w, r, http.StatusNotFound, "Not found", "No organization uses that SSO name.")
		return
	case err != nil:
		a.internalError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Write(md)
}

// testReportPage is the Test SSO report.
type testReportPage struct {
	base
	Report         *sso.TestReport
	Org            *sso.Organization
	MappingEnabled bool
}

// dashboardPage is the signed-in home page.
type dashboardPage struct {
	base
	OrgName    string
	Role       rolemap.OrgRole
	Stacks     map[string][]string
	SSOEnabled bool
}

// handleDashboard shows the signed-in person their roles and session.
func (a *app) handleDashboard(w http.ResponseWriter, r *http.Request) {
	v, err := a.viewer(r)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	if v == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	a.render(w, http.StatusOK, "dashboard", dashboardPage{
		base:       base{Title: "Dashboard", Viewer: v},
		OrgName:    demoOrgName,
		Role:       v.Member.OrgRole,
		Stacks:     v.Member.StackRoles,
		SSOEnabled: v.Org.Enabled,
	})
}
