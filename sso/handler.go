package sso

import (
	"errors"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// ConnectionParam is the query parameter of a login URL that picks one of
// the organization's connections (a Choice's Connection; empty for its own
// IdP): {prefix}login?trigger_sso_flow=acme&connection=okta.
const ConnectionParam = "connection"

// EmailParam is the query parameter of a login URL carrying the email the
// user typed: the sign-in is routed by its domain (LoginOptions.Email), or,
// without an SSO name, the organization that verified that domain is found
// (StartLoginForEmail).
const EmailParam = "email"

// ErrorParam is the query parameter in which RequireSession tells the login
// page why it sent the browser there (an ErrorCode, e.g. session_ended);
// MessageFor turns it into a sentence.
const ErrorParam = "error"

// ErrCrossSite: a state-changing request (sign-out) came from another site.
// The Handler refuses it with 403.
var ErrCrossSite = errors.New("sso: cross-site request refused")

// HandlerConfig configures a Handler: where it is mounted and the few things
// a host decides. Zero fields mean the defaults documented on each.
type HandlerConfig struct {
	// Prefix is the path under which the Handler sees its requests, with a
	// leading and a trailing slash. "" = the path of Config.BaseURL plus
	// "/sso/" ("/sso/" for https://app.example.com), where the ACS URLs,
	// entity IDs and OIDC redirect URIs of every organization point. Set it
	// only when something strips part of the path before the Handler.
	Prefix string
	// LoginURL is where RequireSession sends a browser without a valid
	// session, with return_to (the page it asked for) and, for an ended
	// session, error=session_ended. A local path or an absolute http(s) URL.
	// "" = {Prefix}login, the Handler's own page: it asks for the
	// organization's SSO name. A host with a login page of its own (a
	// password form and "Login via SSO") sets it to that page, which links
	// to {Prefix}login?trigger_sso_flow=NAME.
	LoginURL string
	// SignedOutURL is where a sign-out lands. A local path or an absolute
	// http(s) URL. "" = "/".
	SignedOutURL string
	// Destination, when set, returns where to send the browser after a
	// successful sign-in. nil = res.ReturnTo, the safe local path the
	// sign-in started with. What it returns is used as is: never return a
	// URL taken from the request unchecked (SafeReturnTo checks a path).
	Destination func(r *http.Request, res *Result) string
	// RenderError, when set, writes the page of a failure with the given
	// status (StatusCode of err, 405 and 404 aside, which the Handler's
	// router answers). It must not show err's text: that is for the
	// operator (the Service already reported it as an event and a log);
	// UserMessage(err) and ErrorCode(err) are for the user. IsTestResponse
	// and ReportFailure help an owner's page explain a failed Test SSO. nil
	// = a small HTML page with UserMessage(err), ErrorCode(err) and a link
	// to LoginURL.
	RenderError func(w http.ResponseWriter, r *http.Request, status int, err error)
	// RenderTest, when set, writes the report of a Test SSO round trip
	// (res.Test). No session cookie is set for a test. nil = an HTML page
	// with the identity received, what the role mapping grants and the
	// problems found, every value escaped, status 200.
	RenderTest func(w http.ResponseWriter, r *http.Request, res *Result)
	// RenderChooser, when set, writes the page on which the user picks one
	// of the organization's connections; each LoginChoice's URL starts the
	// sign-in through it. nil = an HTML list of links.
	RenderChooser func(w http.ResponseWriter, r *http.Request, ssoName string, choices []LoginChoice)
	// RenderMFA, when set, writes the MFA page of a sign-in that needs the
	// second factor (Organization.MFA) with the given status: 200, 401
	// for a wrong code, 429 when the member is locked out, 409 after a
	// change in another tab. page.Kind says which page: the enrollment
	// (page.Enrollment: the secret and otpauth URL), the challenge, or the
	// recovery codes shown once after enrolling. The form posts
	// MFACodeField to page.Action. The Handler has set the cookies and
	// Cache-Control: no-store; the page must not load anything from
	// another site (it shows a secret). nil = small HTML pages with a QR
	// code, the secret in groups and the otpauth link.
	RenderMFA func(w http.ResponseWriter, r *http.Request, status int, page *MFAPage)
}

// LoginChoice is a connection a chooser page offers, with the URL (under
// the Handler's prefix) that starts the sign-in through it.
type LoginChoice struct {
	Choice
	URL string
}

// Handler serves the SSO endpoints of every organization under one prefix
// ("/sso/" by default), for a host to mount:
//
//	GET  {prefix}login?trigger_sso_flow=NAME[&connection=ID][&email=E][&return_to=/path]
//	GET  {prefix}{name}/login[?…]                   the same, the name in the path
//	POST {prefix}{name}/acs, {prefix}{name}/{id}/acs the SAML ACS
//	GET  {prefix}{name}/metadata, …/{id}/metadata    SP metadata
//	GET  {prefix}{name}/{id}/callback                the OIDC redirect URI
//	POST {prefix}logout                              sign-out (same-origin only)
//	GET  {prefix}mfa, POST {prefix}mfa               the second factor (same-origin POST only)
//
// Starting a sign-in sets the browser-binding cookie and redirects to the
// IdP (or shows a chooser when several connections are enabled); a sign-in
// that completes clears the binding cookie, sets the session cookie
// (SessionCookie) and redirects 303 to the destination; a Test SSO round
// trip shows its report instead. A sign-in that needs the second factor
// (Organization.MFA) sets the MFA cookie (MFACookie), no session cookie,
// and redirects 303 to {prefix}mfa: the enrollment page for a member
// without a second factor (the secret, its otpauth URL and QR code, then
// the recovery codes, once), else the challenge page (a TOTP code or a
// recovery code). A correct code clears the MFA cookie, sets the session
// cookie and goes to the destination; a wrong one shows the page again
// with the attempts left (401, or 429 when locked); a dead sign-in
// (expired, used, out of attempts) clears the MFA cookie and shows the
// error page. A failure clears the binding cookies and
// renders an error page with StatusCode's status: 503 when the store is
// unavailable, 4xx for refusals, 502 when an OpenID provider failed. Other
// paths under the prefix are 404, a wrong method 405 with Allow.
//
// RequireSession guards the host's own pages; PasswordSignIn signs in with
// a password under the organization's rules. Build a Handler with
// Service.Handler or NewHandler; it is safe for concurrent use.
type Handler struct {
	svc       *Service
	cfg       HandlerConfig
	prefix    string
	loginURL  *url.URL
	signedOut string
	mux       *http.ServeMux
	csrf      *http.CrossOriginProtection
}

// Handler returns the http.Handler of the Service's SSO endpoints, after
// checking cfg (a *ConfigError names the field in error).
func (s *Service) Handler(cfg HandlerConfig) (*Handler, error) {
	if s == nil {
		return nil, configErr("Service", "is nil")
	}
	h := &Handler{svc: s, cfg: cfg, csrf: http.NewCrossOriginProtection()}
	h.prefix = cfg.Prefix
	if h.prefix == "" {
		u, _ := url.Parse(s.baseURL) // checked by New
		h.prefix = strings.TrimRight(u.EscapedPath(), "/") + "/sso/"
	}
	if err := checkPrefix(h.prefix); err != nil {
		return nil, err
	}
	login := cfg.LoginURL
	if login == "" {
		login = h.prefix + "login"
	}
	u, err := checkPageURL("LoginURL", login)
	if err != nil {
		return nil, err
	}
	h.loginURL = u
	h.signedOut = cfg.SignedOutURL
	if h.signedOut == "" {
		h.signedOut = "/"
	}
	if _, err := checkPageURL("SignedOutURL", h.signedOut); err != nil {
		return nil, err
	}

	p := h.prefix
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+p+"login", h.login)
	mux.HandleFunc("GET "+p+"{name}/login", h.login)
	mux.HandleFunc("POST "+p+"logout", h.logout)
	mux.HandleFunc("POST "+p+"{name}/acs", h.acs)
	mux.HandleFunc("POST "+p+"{name}/{conn}/acs", h.acs)
	mux.HandleFunc("GET "+p+"{name}/metadata", h.metadata)
	mux.HandleFunc("GET "+p+"{name}/{conn}/metadata", h.metadata)
	mux.HandleFunc("GET "+p+"{name}/{conn}/callback", h.callback)
	mux.HandleFunc("GET "+p+"mfa", h.mfaGet)
	mux.HandleFunc("POST "+p+"mfa", h.mfaPost)
	h.mux = mux
	return h, nil
}

// NewHandler builds a Service from cfg (New) and its Handler (Service.Handler)
// in one call; Handler.Service returns the Service for the rest of the API.
func NewHandler(cfg Config, hcfg HandlerConfig) (*Handler, error) {
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return s.Handler(hcfg)
}

// Service returns the Service the Handler serves.
func (h *Handler) Service() *Service { return h.svc }

// checkPrefix accepts "/", or "/a/b/" made of unreserved URL characters:
// nothing the router would read as a pattern, nothing path cleaning changes.
func checkPrefix(p string) error {
	if !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") || (p != "/" && path.Clean(p)+"/" != p) {
		return configErr("Prefix", "%q must be a clean path with a leading and a trailing slash, like /sso/", p)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("/-._~", c) >= 0) {
			return configErr("Prefix", "%q may hold only letters, digits and - . _ ~", p)
		}
	}
	return nil
}

// checkPageURL accepts a local path (as SafeReturnTo keeps it, with an
// optional query) or an absolute http(s) URL without user information.
func checkPageURL(field, v string) (*url.URL, error) {
	u, err := url.Parse(v)
	switch {
	case err != nil:
		return nil, &ConfigError{Field: field, Reason: "is not a URL", Err: err}
	case u.Scheme == "" && u.Host == "" && SafeReturnTo(v) == v && u.Fragment == "":
		return u, nil
	case (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil:
		return u, nil
	}
	return nil, configErr(field, "%q is neither a local path nor an absolute http(s) URL", v)
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Every answer but metadata is about one browser's sign-in: never cached.
	w.Header().Set("Cache-Control", "no-store")
	h.mux.ServeHTTP(w, r)
}

// login starts a sign-in: by SSO name (query or path), optionally with a
// chosen connection or an email to route by; by email alone; or, with
// neither, the login page.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name := r.PathValue("name")
	if name == "" {
		name = strings.ToLower(strings.TrimSpace(q.Get(TriggerParam)))
	}
	opts := LoginOptions{ReturnTo: q.Get(ReturnToParam), Email: strings.TrimSpace(q.Get(EmailParam))}
	if q.Has(ConnectionParam) {
		opts.Connection, opts.Choose = q.Get(ConnectionParam), true
	}
	var rd *Redirect
	var err error
	switch {
	case name != "":
		rd, err = h.svc.StartLoginWith(r.Context(), name, opts)
	case opts.Email != "":
		rd, err = h.svc.StartLoginForEmail(r.Context(), opts.Email, opts.ReturnTo)
	default:
		h.loginPage(w, r)
		return
	}
	switch {
	case err != nil:
		h.renderError(w, r, StatusCode(err), err)
	case rd.URL == "":
		h.chooser(w, r, name, rd.Choices, opts)
	default:
		http.SetCookie(w, rd.Cookie) // binds the sign-in to this browser
		http.Redirect(w, r, rd.URL, http.StatusFound)
	}
}

// loginPage asks for the organization's SSO name, or sends the browser to
// the host's own login page when LoginURL is one.
func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	if own := h.prefix + "login"; h.loginURL.Host != "" || h.loginURL.Path != own {
		u := *h.loginURL
		q := u.Query()
		in := r.URL.Query()
		if v := in.Get(ReturnToParam); v != "" {
			q.Set(ReturnToParam, SafeReturnTo(v))
		}
		if v := in.Get(ErrorParam); messages[v] != "" { // only codes of ours
			q.Set(ErrorParam, v)
		}
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
		return
	}
	q := r.URL.Query()
	writePage(w, http.StatusOK, loginTemplate, loginData{
		Action:   h.prefix + "login",
		ReturnTo: SafeReturnTo(q.Get(ReturnToParam)),
		Message:  MessageFor(q.Get(ErrorParam)),
	})
}

// chooser shows the connections to pick from, each a link back to login.
func (h *Handler) chooser(w http.ResponseWriter, r *http.Request, name string, choices []Choice, opts LoginOptions) {
	links := make([]LoginChoice, len(choices))
	for i, c := range choices {
		q := url.Values{TriggerParam: {name}, ConnectionParam: {c.Connection}}
		if opts.ReturnTo != "" {
			q.Set(ReturnToParam, SafeReturnTo(opts.ReturnTo))
		}
		links[i] = LoginChoice{Choice: c, URL: h.prefix + "login?" + q.Encode()}
	}
	if h.cfg.RenderChooser != nil {
		h.cfg.RenderChooser(w, r, name, links)
		return
	}
	writePage(w, http.StatusOK, chooserTemplate, chooserData{Name: name, Choices: links})
}

// acs serves a SAML connection's ACS.
func (h *Handler) acs(w http.ResponseWriter, r *http.Request) {
	res, err := h.svc.HandleConnectionACS(r.Context(), r.PathValue("name"), r.PathValue("conn"), r)
	h.finish(w, r, res, err)
}

// callback serves an OIDC connection's redirect URI.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	res, err := h.svc.HandleCallback(r.Context(), r.PathValue("name"), r.PathValue("conn"), r)
	h.finish(w, r, res, err)
}

// finish answers the end of a sign-in of either protocol.
func (h *Handler) finish(w http.ResponseWriter, r *http.Request, res *Result, err error) {
	if err != nil {
		// The Service has reported the failure (event and log): not again.
		for _, c := range h.svc.ClearBindingCookies(r) {
			http.SetCookie(w, c)
		}
		h.renderError(w, r, StatusCode(err), err)
		return
	}
	h.signedIn(w, r, res, nil)
}

// signedIn answers every successful sign-in, Test SSO round trip and
// second factor: the one place that turns a Result into cookies and a page.
// A sign-in that still needs its second factor gets the MFA cookie and no
// session; one that just enrolled shows its recovery codes (codes) once.
func (h *Handler) signedIn(w http.ResponseWriter, r *http.Request, res *Result, codes []string) {
	for _, c := range res.ClearCookies {
		http.SetCookie(w, c)
	}
	switch {
	case res.Test != nil:
		if h.cfg.RenderTest != nil {
			h.cfg.RenderTest(w, r, res)
			return
		}
		writePage(w, http.StatusOK, testTemplate, newTestData(res))
		return
	case res.MFA != nil:
		http.SetCookie(w, h.svc.MFACookie(res))
		http.Redirect(w, r, h.prefix+"mfa", http.StatusSeeOther)
		return
	case res.Session == nil || res.Token == "":
		// Never "signed in" without a session: a Result of neither kind
		// is a bug, not a sign-in.
		h.renderError(w, r, http.StatusInternalServerError, errNoSession)
		return
	}
	http.SetCookie(w, h.svc.SessionCookie(res))
	dest := res.ReturnTo
	if h.cfg.Destination != nil {
		dest = h.cfg.Destination(r, res)
	}
	if dest == "" {
		dest = "/"
	}
	if codes != nil {
		h.renderMFA(w, r, http.StatusOK, &MFAPage{Kind: MFAPageRecoveryCodes, Action: h.prefix + "mfa",
			Email: res.Member.Email, SSOName: res.Org.SSOName, RecoveryCodes: codes, Continue: dest})
		return
	}
	http.Redirect(w, r, dest, http.StatusSeeOther)
}

// metadata serves a SAML connection's SP metadata.
func (h *Handler) metadata(w http.ResponseWriter, r *http.Request) {
	md, err := h.svc.ConnectionMetadataFor(r.Context(), r.PathValue("name"), r.PathValue("conn"))
	if err != nil {
		http.Error(w, UserMessage(err), StatusCode(err))
		return
	}
	w.Header().Del("Cache-Control")
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Write(md) // a failed write is a client that went away
}

// logout ends the session of the request's cookie. It is POST only and
// same-origin only: a GET would let any page, prefetcher or link scanner
// sign a user out, and a cross-site POST would let another site do it with
// a hidden form (logout CSRF, also a step of login-CSRF chains). The check
// is net/http's CrossOriginProtection: Sec-Fetch-Site, or Origin against
// Host in browsers that do not send it; requests with neither header are
// not from a browser and pass.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if err := h.csrf.Check(r); err != nil {
		h.renderError(w, r, http.StatusForbidden, ErrCrossSite)
		return
	}
	clear, err := h.svc.SignOut(r.Context(), r)
	if err != nil {
		// The cookie stays, so that signing out again can end the session
		// once the store answers: clearing it now would leave the session
		// valid for whoever else holds the token.
		h.renderError(w, r, StatusCode(err), err)
		return
	}
	http.SetCookie(w, clear)
	http.Redirect(w, r, h.signedOut, http.StatusSeeOther)
}

// renderError writes the failure page through the hook or the default.
func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, status int, err error) {
	if h.cfg.RenderError != nil {
		h.cfg.RenderError(w, r, status, err)
		return
	}
	writePage(w, status, errorTemplate, errorData{
		Status:   status,
		Message:  UserMessage(err),
		Code:     ErrorCode(err),
		LoginURL: h.loginURL.String(),
	})
}

// errNoSession is signedIn's answer to a Result that is neither a test, a
// challenge nor a session: a bug, never a sign-in.
var errNoSession = errors.New("sso: a sign-in result without a session")
