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

// viewer is the signed-in person: the orgsso session, the orgsso membership
// (found by the session's user ID), the organization, and the app's user.
type viewer struct {
	Session *session.Session
	User    User
	Member  *sso.Member
	Org     *sso.Organization
}

// IsOwner reports whether the viewer owns the organization.
func (v *viewer) IsOwner() bool {
	return v != nil && v.Org.OwnerID != "" && v.Member.UserID == v.Org.OwnerID
}

// viewer returns who is signed in, or nil when nobody is (no cookie, an
// unknown or expired session). An ended session is a *session.EndedError
// saying why; a store that cannot answer is sso.ErrUnavailable, which is
// not "signed out".
//
// The session carries only the user ID: the member is the organization's
// member with that user ID (Service.MemberByUserID), never someone found by
// email.
func (a *app) viewer(r *http.Request) (*viewer, error) {
	ctx := r.Context()
	sess, err := a.svc.SessionFromRequest(r)
	switch {
	case errors.Is(err, session.ErrUnknownSession), errors.Is(err, session.ErrExpired):
		return nil, nil
	case err != nil:
		return nil, err
	}
	m, err := a.svc.MemberByUserID(ctx, sess.OrgID, sess.UserID)
	switch {
	case errors.Is(err, sso.ErrNotFound):
		// Removed a moment ago: the session is over.
		return nil, &session.EndedError{Reason: session.EndMemberRemoved}
	case err != nil:
		return nil, err
	}
	org, err := a.svc.Organization(ctx, sess.OrgID)
	if err != nil {
		return nil, err
	}
	u, err := a.users.ByID(ctx, sess.UserID)
	switch {
	case errors.Is(err, errNoUser) || (err == nil && u.OrgID != sess.OrgID):
		// The member has no app user of this organization (yet): show the
		// member as orgsso knows them.
		u = User{ID: sess.UserID, OrgID: sess.OrgID, Email: m.Email, Name: strings.TrimSpace(m.FirstName + " " + m.LastName)}
	case err != nil:
		return nil, err
	}
	return &viewer{Session: sess, User: u, Member: m, Org: org}, nil
}

// signedIn returns who is signed in, or answers the request itself and
// returns nil: to the login page when nobody is (with why, when the session
// ended, clearing its cookie), to an error page when the store cannot
// answer (the cookie stays: the session may well be valid).
func (a *app) signedIn(w http.ResponseWriter, r *http.Request) *viewer {
	v, err := a.viewer(r)
	var ended *session.EndedError
	switch {
	case errors.As(err, &ended):
		a.clearSessionCookie(w)
		q := url.Values{"ended": {endedCode(ended.Reason)}}
		if r.Method == http.MethodGet && r.URL.Path != "/" {
			q.Set(sso.ReturnToParam, r.URL.RequestURI())
		}
		http.Redirect(w, r, "/login?"+q.Encode(), http.StatusSeeOther)
		return nil
	case err != nil:
		a.failure(w, r, err)
		return nil
	case v == nil:
		q := ""
		if r.Method == http.MethodGet && r.URL.Path != "/" {
			q = "?" + url.Values{sso.ReturnToParam: {r.URL.RequestURI()}}.Encode()
		}
		http.Redirect(w, r, "/login"+q, http.StatusSeeOther)
		return nil
	}
	return v
}

// clearSessionCookie makes the browser forget its session cookie (by the
// Service's name for it: "__Host-orgsso_session" on https).
func (a *app) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, a.svc.ClearSessionCookie())
}

// Login page messages travel as short codes in the URL (?error=denied, from
// sso.ErrorCode; ?ended=removed), never as text, so nobody can make the
// login page say something else: each code maps to a fixed message.
var loginInfos = map[string]string{
	"signed_out": "You are signed out.",
	"expired":    "Your session has ended. Please sign in again.",
}

// endedMessages say why a session ended, by endedCode.
var endedMessages = map[string]string{
	"sso_disabled":       "Single sign-on was turned off by your organization's owner, which ended your SSO session. Sign in with your password.",
	"removed":            "You were removed from the organization, which ended your session. Ask its owner if this is a mistake.",
	"sso_required":       "This organization now requires single sign-on, which ended your password session. Use “Login via SSO”.",
	"revoked":            "An administrator ended your session. Please sign in again.",
	"mfa_required":       "Your organization now requires two-step verification, which ended your session. Sign in again with “Login via SSO”.",
	"connection_off":     "The identity provider you signed in with was turned off by your organization's owner, which ended your session. Sign in again with “Login via SSO”.",
	sso.CodeSessionEnded: sso.MessageFor(sso.CodeSessionEnded),
}

// endedCode is the login page's code of a session.EndedError reason.
func endedCode(reason string) string {
	switch reason {
	case session.EndSSODisabled:
		return "sso_disabled"
	case session.EndMemberRemoved:
		return "removed"
	case session.EndPasswordRevoked:
		return "sso_required"
	case session.EndRevoked:
		return "revoked"
	case session.EndConnectionOff:
		return "connection_off"
	case session.EndMFARequired:
		return "mfa_required"
	}
	return sso.CodeSessionEnded
}

// loginPage is the password form, with the way to SSO.
type loginPage struct {
	base
	Email    string
	ReturnTo string
	Error    string
	Info     string
	Ended    string // why the session ended
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
			a.render(w, sso.StatusCode(err), "sso_login", p)
			return
		}
		p := a.ssoLoginData(returnTo)
		p.SSOName = cut(strings.ToLower(strings.TrimSpace(r.URL.Query().Get(sso.TriggerParam))), 64)
		a.startRedirect(w, r, rd, p)
		return
	}
	p := a.loginPageData(returnTo)
	p.Error = sso.MessageFor(r.URL.Query().Get("error"))
	p.Info = loginInfos[r.URL.Query().Get("info")]
	if c := r.URL.Query().Get("ended"); c != "" {
		p.Ended = endedMessages[c]
		if p.Ended == "" {
			p.Ended = endedMessages[sso.CodeSessionEnded]
		}
	}
	v, err := a.viewer(r)
	var ended *session.EndedError
	switch {
	case errors.As(err, &ended):
		a.clearSessionCookie(w)
		if p.Ended == "" {
			p.Ended = endedMessages[endedCode(ended.Reason)]
		}
	case err != nil:
		a.failure(w, r, err)
		return
	case v != nil:
		if p.Error == "" && p.Info == "" && p.Ended == "" {
			http.Redirect(w, r, returnTo, http.StatusSeeOther)
			return
		}
		p.Viewer = v
	}
	a.render(w, http.StatusOK, "login", p)
}

// handlePasswordLogin checks the app password, then that the user is still
// a member of their organization, then asks orgsso whether the organization
// lets this member use a password at all.
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
	u, err := a.passwordUser(ctx, email, password)
	switch {
	case errors.Is(err, errNoUser):
		p.Error = "Incorrect email or password."
		a.render(w, http.StatusUnauthorized, "login", p)
		return
	case err != nil:
		a.failure(w, r, err)
		return
	}
	// The session is the member's of this organization, by user ID.
	m, err := a.svc.Member(ctx, u.OrgID, u.Email)
	switch {
	case errors.Is(err, sso.ErrNotFound) || (err == nil && m.UserID != u.ID):
		p.Error = "Your account is not a member of its organization any more. Ask the organization's owner to invite you again."
		a.render(w, http.StatusForbidden, "login", p)
		return
	case err != nil:
		a.failure(w, r, err)
		return
	}
	if err := a.svc.PasswordLoginAllowed(ctx, u.OrgID, u.Email); err != nil {
		if errors.Is(err, sso.ErrUnavailable) {
			a.failure(w, r, err)
			return
		}
		a.log.Info("password sign-in refused by the organization", "email", u.Email, "err", err)
		p.Error = sso.UserMessage(err)
		a.render(w, sso.StatusCode(err), "login", p)
		return
	}
	sess, token, err := a.sessions.Create(ctx, u.OrgID, u.ID, session.MethodPassword, passwordSessionTTL)
	if err != nil {
		a.failure(w, r, err)
		return
	}
	http.SetCookie(w, a.svc.SessionCookie(&sso.Result{Session: sess, Token: token}))
	http.Redirect(w, r, returnTo, http.StatusSeeOther)
}

// passwordUser returns the user, of any organization, with this email whose
// app password this is, or errNoUser. A miss costs about as much as a hit.
func (a *app) passwordUser(ctx context.Context, email, password string) (User, error) {
	users, err := a.users.WithPassword(ctx, email)
	if err != nil {
		return User{}, err
	}
	if len(users) == 0 {
		checkPassword(dummyHash(a.pwIter), password) // same cost as a wrong password
		return User{}, errNoUser
	}
	for _, u := range users {
		if checkPassword(u.PasswordHash, password) {
			return u, nil
		}
	}
	return User{}, errNoUser
}

// ssoLoginPage asks for the organization's SSO name and, optionally, the
// person's email (routed by its domain to a connection); with several
// connections to choose from, it shows them, one button each.
type ssoLoginPage struct {
	base
	SSOName  string
	Email    string
	ReturnTo string
	Error    string
	Choices  []choiceView // the chooser; none = the SSO name form
}

// choiceView is one button of the chooser.
type choiceView struct {
	Key        string // the connection ID, "primary" for the organization's own IdP (element IDs)
	Connection string // sso.Choice.Connection
	Name       string
	Protocol   string // "SAML" or "OIDC"
}

// choiceViews lists the choices of a Redirect.
func choiceViews(cs []sso.Choice) []choiceView {
	out := make([]choiceView, len(cs))
	for i, c := range cs {
		out[i] = choiceView{Key: c.Connection, Connection: c.Connection, Name: c.Name, Protocol: protocolLabel(c.Protocol)}
		if c.Connection == sso.PrimaryConnection {
			out[i].Key = "primary"
		}
	}
	return out
}

// protocolLabel names a protocol for people.
func protocolLabel(p sso.Protocol) string {
	if p == sso.ProtocolOIDC {
		return "OIDC"
	}
	return "SAML"
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

// handleSSOLogin starts an SP-initiated sign-in for the SSO name typed in
// (Service.StartLoginWith): through the connection picked on the chooser
// (connection, choose=1), or the one the email's domain is routed to, or
// the only one; with several and nothing to choose by, it shows the
// chooser. An email without an SSO name finds the organization that
// verified its domain (Service.StartLoginForEmail).
func (a *app) handleSSOLogin(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 64<<10); err != nil {
		a.badForm(w, r, err)
		return
	}
	p := a.ssoLoginData(sso.SafeReturnTo(r.PostForm.Get(sso.ReturnToParam)))
	name := strings.ToLower(strings.TrimSpace(r.PostForm.Get("sso_name")))
	email := strings.TrimSpace(r.PostForm.Get("email"))
	p.SSOName, p.Email = cut(name, 64), cut(email, sso.MaxEmailBytes)
	if name == "" && email == "" {
		p.Error = "Enter your organization's SSO name, or your work email."
		a.render(w, http.StatusUnprocessableEntity, "sso_login", p)
		return
	}
	var rd *sso.Redirect
	var err error
	if name == "" {
		rd, err = a.svc.StartLoginForEmail(r.Context(), email, p.ReturnTo)
	} else {
		rd, err = a.svc.StartLoginWith(r.Context(), name, sso.LoginOptions{
			Connection: cut(r.PostForm.Get("connection"), 64),
			Choose:     r.PostForm.Get("choose") == "1",
			Email:      email,
			ReturnTo:   p.ReturnTo,
		})
	}
	if err != nil {
		a.log.Info("SSO start refused", "sso_name", p.SSOName, "err", err)
		p.Error = sso.UserMessage(err)
		status := sso.StatusCode(err)
		if status < 500 {
			status = http.StatusUnprocessableEntity
		}
		a.render(w, status, "sso_login", p)
		return
	}
	a.startRedirect(w, r, rd, p)
}

// startRedirect follows a started sign-in: to the IdP, with the cookie that
// binds the sign-in to this browser, or, when the organization offers
// several connections, to the chooser (p with the choices).
func (a *app) startRedirect(w http.ResponseWriter, r *http.Request, rd *sso.Redirect, p ssoLoginPage) {
	if len(rd.Choices) > 0 {
		p.Choices = choiceViews(rd.Choices)
		p.Title = "Choose how to sign in"
		a.render(w, http.StatusOK, "sso_login", p)
		return
	}
	http.SetCookie(w, rd.Cookie) // binds the sign-in to this browser
	http.Redirect(w, r, rd.URL, http.StatusFound)
}

// handleLogout ends the session (Service.SignOut) and clears its cookie. A
// store that cannot answer leaves the person signed in, and says so.
func (a *app) handleLogout(w http.ResponseWriter, r *http.Request) {
	clear, err := a.svc.SignOut(r.Context(), r)
	if err != nil {
		a.failure(w, r, err)
		return
	}
	http.SetCookie(w, clear)
	http.Redirect(w, r, "/login?info=signed_out", http.StatusSeeOther)
}

// handleACS is the Assertion Consumer Service of the organization's own
// IdP: orgsso validates the IdP's response and applies the organization's
// rules; the app sets its cookie.
func (a *app) handleACS(w http.ResponseWriter, r *http.Request) {
	res, err := a.svc.HandleACS(r.Context(), r.PathValue("name"), r)
	a.finishSignIn(w, r, sso.PrimaryConnection, res, err)
}

// handleConnectionACS is the ACS of one of the organization's further SAML
// connections (/sso/{name}/{id}/acs).
func (a *app) handleConnectionACS(w http.ResponseWriter, r *http.Request) {
	res, err := a.svc.HandleConnectionACS(r.Context(), r.PathValue("name"), r.PathValue("id"), r)
	a.finishSignIn(w, r, r.PathValue("id"), res, err)
}

// handleCallback is the redirect URI of an OIDC connection
// (/sso/{name}/{id}/callback): the provider sends the browser back here
// with the code and state, and orgsso exchanges and verifies them.
func (a *app) handleCallback(w http.ResponseWriter, r *http.Request) {
	res, err := a.svc.HandleCallback(r.Context(), r.PathValue("name"), r.PathValue("id"), r)
	a.finishSignIn(w, r, r.PathValue("id"), res, err)
}

// finishSignIn answers the end of a sign-in or Test SSO through connection
// connID, whatever its protocol: the session cookie and the return path (or,
// when the organization requires MFA, the MFA cookie and the MFA page), the
// test report, or the failure.
func (a *app) finishSignIn(w http.ResponseWriter, r *http.Request, connID string, res *sso.Result, err error) {
	ctx := r.Context()
	testHint := hasTestHint(r, connID)
	if testHint {
		clearTestHint(w)
	}
	if err != nil {
		// orgsso has logged the detail (Config.Logger) and sent the event
		// (Config.OnEvent). The browser forgets its browser-binding cookie.
		for _, c := range a.svc.ClearBindingCookies(r) {
			http.SetCookie(w, c)
		}
		a.acsFailed(w, r, connID, testHint, err)
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
			ReadFrom:       readFromRows(res.Test.ReadFrom),
			Org:            res.Org,
			MappingEnabled: res.Org.RoleMapping.Enabled,
			Connection:     connectionName(res.Org, res.Connection),
		})
		return
	}
	if err := a.linkMember(ctx, res.Member); err != nil {
		if errors.Is(err, errOtherOrganization) {
			// Data of an earlier demo: a member bound to another
			// organization's user. Refuse rather than sign them in as that user.
			a.log.Error("SSO sign-in refused: the member's user belongs to another organization",
				"org", res.Member.OrgID, "user", res.Member.UserID)
			if res.Token != "" {
				a.sessions.Revoke(ctx, res.Token)
			}
			a.renderError(w, r, http.StatusForbidden, "Sign-in refused",
				"This account is linked to a user of another organization. Ask the organization's owner to remove and invite it again.")
			return
		}
		a.failure(w, r, err)
		return
	}
	if res.MFA != nil {
		// The organization wants a second factor: no session yet, the MFA
		// cookie, and the MFA page (served by orgsso's Handler, mfa.go).
		http.SetCookie(w, a.svc.MFACookie(res))
		http.Redirect(w, r, mfaPath, http.StatusSeeOther)
		return
	}
	http.SetCookie(w, a.svc.SessionCookie(res))
	http.Redirect(w, r, res.ReturnTo, http.StatusSeeOther)
}

// acsFailed answers a failed sign-in. The organization's signed-in owner
// finishing a Test SSO gets a report naming the failed check and its fix;
// anyone else the login page's safe message (sso.UserMessage, by code),
// which never says which check failed. A SAML test is recognised by its
// RelayState (sso.IsTestResponse), an OIDC one by the hint cookie the
// settings page set when it started it; both are hints that only choose
// how to present the failure to the signed-in owner.
func (a *app) acsFailed(w http.ResponseWriter, r *http.Request, connID string, testHint bool, err error) {
	if errors.Is(err, sso.ErrUnavailable) {
		a.failure(w, r, err)
		return
	}
	if sso.IsTestResponse(r) || testHint {
		if v, verr := a.viewer(r); verr == nil && v != nil && v.IsOwner() && v.Org.SSOName == r.PathValue("name") {
			p := testFailedPage{
				base:   base{Title: "Test SSO failed", Viewer: v},
				Report: sso.ReportFailure(err),
				Org:    v.Org,
				SP:     a.svc.Details(v.Org),
				Certs:  certificateRows(v.Org.IdP, a.now()),
			}
			if connID != sso.PrimaryConnection {
				if c := v.Org.Connection(connID); c != nil {
					row := a.connectionRow(v.Org, *c)
					p.Conn = &row
				}
			}
			a.render(w, http.StatusOK, "test_failed", p)
			return
		}
	}
	http.Redirect(w, r, "/login?error="+sso.ErrorCode(err), http.StatusSeeOther)
}

// testHintCookie marks a browser whose owner started a Test SSO of an OIDC
// connection (its value is the connection ID), so that a failed callback
// shows the owner the failure report. Its path is the SSO endpoints'.
const testHintCookie = "democms_test"

// setTestHint sets the hint cookie for connection connID.
func setTestHint(w http.ResponseWriter, connID string) {
	http.SetCookie(w, &http.Cookie{Name: testHintCookie, Value: connID, Path: "/sso/", MaxAge: int(sso.DefaultRequestTTL.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// hasTestHint reports whether r carries the hint cookie of connID.
func hasTestHint(r *http.Request, connID string) bool {
	c, err := r.Cookie(testHintCookie)
	return err == nil && connID != sso.PrimaryConnection && c.Value == connID
}

// clearTestHint deletes the hint cookie.
func clearTestHint(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: testHintCookie, Value: "", Path: "/sso/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// linkMember keeps the app's user of the member orgsso signed in in step
// with it: same ID and organization, current email and name; the password
// stays. It creates the user on a first sign-in. A user of another
// organization is never touched (errOtherOrganization).
func (a *app) linkMember(ctx context.Context, m *sso.Member) error {
	u, err := a.users.ByID(ctx, m.UserID)
	known := err == nil
	switch {
	case errors.Is(err, errNoUser):
		u = User{ID: m.UserID, OrgID: m.OrgID}
	case err != nil:
		return err
	case u.OrgID != m.OrgID:
		return errOtherOrganization
	}
	name := strings.TrimSpace(m.FirstName + " " + m.LastName)
	if known && u.Email == m.Email && (name == "" || u.Name == name) {
		return nil
	}
	u.Email = m.Email
	if name != "" {
		u.Name = name
	}
	return a.users.Save(ctx, u)
}

// handleMetadata serves the organization's SP metadata at its entity ID.
func (a *app) handleMetadata(w http.ResponseWriter, r *http.Request) {
	md, err := a.svc.MetadataFor(r.Context(), r.PathValue("name"))
	a.serveMetadata(w, r, md, err)
}

// handleConnectionMetadata serves the SP metadata of a SAML connection.
func (a *app) handleConnectionMetadata(w http.ResponseWriter, r *http.Request) {
	md, err := a.svc.ConnectionMetadataFor(r.Context(), r.PathValue("name"), r.PathValue("id"))
	a.serveMetadata(w, r, md, err)
}

// serveMetadata answers a metadata request.
func (a *app) serveMetadata(w http.ResponseWriter, r *http.Request, md []byte, err error) {
	switch {
	case errors.Is(err, sso.ErrUnknownOrganization):
		a.renderError(w, r, http.StatusNotFound, "Not found", "No organization uses that SSO name.")
		return
	case errors.Is(err, sso.ErrUnknownConnection):
		a.renderError(w, r, http.StatusNotFound, "Not found", "The organization has no SAML connection with that ID.")
		return
	case err != nil:
		a.failure(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Write(md)
}

// testReportPage is the Test SSO report.
type testReportPage struct {
	base
	Report         *sso.TestReport
	ReadFrom       []readFromRow
	Org            *sso.Organization
	MappingEnabled bool
	Connection     string // the connection tested, by name
}

// readFromRow is one identity field of a Test SSO report and the
// attributes its value was read from.
type readFromRow struct {
	Field string   // for people: "Email"
	Names []string // attribute names; none = not found
}

// readFromRows lists TestReport.ReadFrom in a fixed order.
func readFromRows(m map[string][]string) []readFromRow {
	return []readFromRow{
		{"Email", m["email"]}, {"First name", m["first_name"]}, {"Last name", m["last_name"]}, {"Roles", m["roles"]},
	}
}

// testFailedPage is the owner's report of a failed Test SSO.
type testFailedPage struct {
	base
	Report *sso.FailureReport
	Org    *sso.Organization
	SP     sso.SPDetails
	Certs  []certificateRow
	Conn   *connectionRow // the connection tested; nil = the organization's own IdP
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
	v := a.signedIn(w, r)
	if v == nil {
		return
	}
	a.render(w, http.StatusOK, "dashboard", dashboardPage{
		base:       base{Title: "Dashboard", Viewer: v},
		OrgName:    orgDisplayName(v.Org),
		Role:       v.Member.OrgRole,
		Stacks:     v.Member.StackRoles,
		SSOEnabled: v.Org.Enabled,
	})
}

// orgDisplayName names an organization for people: the seeded one by its
// name, others by their SSO name.
func orgDisplayName(org *sso.Organization) string {
	if org.ID == demoOrgID {
		return demoOrgName
	}
	return org.SSOName
}
