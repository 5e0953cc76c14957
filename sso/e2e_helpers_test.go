package sso_test

// Helpers of the end-to-end tests (e2e_test.go): a host application written
// the way a real one would be (net/http only), a scripted browser that follows
// redirects and submits HTML forms, and a crewjam/saml samlidp identity
// provider on its own HTTP server.

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log"
	"log/slog"
	"maps"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crewjam/saml/samlidp"

	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/memory"
)

// e2eCookie is the host's session cookie.
const e2eCookie = "app_session"

// e2eHost is a tiny multi-tenant application that offers SSO through a
// Service, on its own HTTP server:
//
//	GET  /login?trigger_sso_flow=NAME[&return_to=PATH]  start SSO (302 to the IdP)
//	POST /sso/{name}/acs                                 the ACS (303 + cookie, or 403)
//	GET  /sso/{name}/metadata                            SP metadata
//	GET  /me                                             who the session cookie is
//	GET  /admin/sso/{name}/test                          Test SSO for the signed-in owner
type e2eHost struct {
	URL      string
	store    *memory.Store
	sessions *session.Manager
	svc      *sso.Service
	logs     *lockedBuffer

	mu      sync.Mutex
	acsErrs []error           // every error HandleACS returned, in order
	emails  map[string]string // user ID -> email, learned at sign-in
}

// newE2EHost starts the host application. Its Service's BaseURL is the
// server's own URL (known before the server starts). spKP, if not nil, is the
// SP key pair (signed AuthnRequests, encrypted assertions).
func newE2EHost(t *testing.T, spKP *tls.Certificate) *e2eHost {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	h := &e2eHost{
		URL:    "http://" + srv.Listener.Addr().String(),
		store:  memory.New(),
		logs:   &lockedBuffer{},
		emails: make(map[string]string),
	}
	h.sessions = session.NewManager(h.store)
	svc, err := sso.New(sso.Config{
		BaseURL:   h.URL,
		Store:     h.store,
		Sessions:  h.sessions,
		SPKeyPair: spKP,
		Logger:    slog.New(slog.NewTextHandler(h.logs, nil)),
	})
	if err != nil {
		t.Fatalf("sso.New() err = %v", err)
	}
	h.svc = svc

	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", h.login)
	mux.HandleFunc("POST /sso/{name}/acs", h.acs)
	mux.HandleFunc("GET /sso/{name}/metadata", h.metadata)
	mux.HandleFunc("GET /me", h.me)
	mux.HandleFunc("GET /admin/sso/{name}/test", h.testSSO)
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	if srv.URL != h.URL {
		t.Fatalf("host URL = %q; the Service was built with %q", srv.URL, h.URL)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("host logs:\n%s", h.logs.String())
		}
	})
	return h
}

func (h *e2eHost) login(w http.ResponseWriter, r *http.Request) {
	rd, ok, err := h.svc.StartLoginFromRequest(r.Context(), r)
	switch {
	case err != nil:
		http.Error(w, sso.UserMessage(err), http.StatusForbidden)
	case !ok:
		io.WriteString(w, "password login form\n")
	default:
		http.SetCookie(w, rd.Cookie)
		http.Redirect(w, r, rd.URL, http.StatusFound)
	}
}

func (h *e2eHost) acs(w http.ResponseWriter, r *http.Request) {
	res, err := h.svc.HandleACS(r.Context(), r.PathValue("name"), r)
	if err != nil {
		h.mu.Lock()
		h.acsErrs = append(h.acsErrs, err)
		h.mu.Unlock()
		for _, c := range h.svc.ClearBindingCookies(r) {
			http.SetCookie(w, c)
		}
		http.Error(w, sso.UserMessage(err), http.StatusForbidden)
		return
	}
	for _, c := range res.ClearCookies {
		http.SetCookie(w, c)
	}
	if res.Test != nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, e2eReport(res.Test))
		return
	}
	h.mu.Lock()
	h.emails[res.Member.UserID] = res.Member.Email
	h.mu.Unlock()
	http.SetCookie(w, &http.Cookie{
		Name:     e2eCookie,
		Value:    res.Token,
		Path:     "/",
		Expires:  res.Session.ExpiresAt,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, res.ReturnTo, http.StatusSeeOther)
}

func (h *e2eHost) metadata(w http.ResponseWriter, r *http.Request) {
	org, err := h.store.OrganizationBySSOName(r.Context(), r.PathValue("name"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	md, err := h.svc.Metadata(org)
	if err != nil {
		http.Error(w, "metadata unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Write(md)
}

// me prints the signed-in user: the session, and the member's role and stack
// roles as stored.
func (h *e2eHost) me(w http.ResponseWriter, r *http.Request) {
	sess, ok := h.session(r)
	if !ok {
		http.Error(w, "not signed in", http.StatusUnauthorized)
		return
	}
	h.mu.Lock()
	email := h.emails[sess.UserID]
	h.mu.Unlock()
	m, err := h.store.Member(r.Context(), sess.OrgID, email)
	if err != nil {
		http.Error(w, "no membership", http.StatusForbidden)
		return
	}
	fmt.Fprintf(w, "user: %s\nemail: %s\norg: %s\nmethod: %s\nrole: %s\nstack roles: %s\n",
		sess.UserID, m.Email, sess.OrgID, sess.Method, m.OrgRole, e2eStacks(m.StackRoles))
}

// testSSO starts a Test SSO round trip for the signed-in user (the owner
// signed in with a password: the IdP is not trusted yet).
func (h *e2eHost) testSSO(w http.ResponseWriter, r *http.Request) {
	sess, ok := h.session(r)
	if !ok {
		http.Error(w, "not signed in", http.StatusUnauthorized)
		return
	}
	rd, err := h.svc.StartTest(r.Context(), sess.OrgID, sess.UserID)
	if err != nil {
		http.Error(w, sso.UserMessage(err), http.StatusForbidden)
		return
	}
	http.SetCookie(w, rd.Cookie)
	http.Redirect(w, r, rd.URL, http.StatusFound)
}

func (h *e2eHost) session(r *http.Request) (*session.Session, bool) {
	c, err := r.Cookie(e2eCookie)
	if err != nil {
		return nil, false
	}
	sess, err := h.sessions.Validate(r.Context(), c.Value)
	return sess, err == nil
}

// passwordSignIn stands for the host's password login (not under test): it
// makes a password session for the user and puts its cookie in the browser.
func (h *e2eHost) passwordSignIn(t *testing.T, b *e2eBrowser, orgID, userID, email string) {
	t.Helper()
	_, token, err := h.sessions.Create(t.Context(), orgID, userID, session.MethodPassword, time.Hour)
	if err != nil {
		t.Fatalf("sessions.Create() err = %v", err)
	}
	h.mu.Lock()
	h.emails[userID] = email
	h.mu.Unlock()
	b.setCookie(h.URL, &http.Cookie{Name: e2eCookie, Value: token, Path: "/", HttpOnly: true})
}

// acsErrors returns a copy of the errors HandleACS returned, in order.
func (h *e2eHost) acsErrors() []error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.acsErrs)
}

// e2eReport is how the host shows a Test SSO report to the owner.
func e2eReport(r *sso.TestReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Test SSO report\nemail: %s\nname: %s %s\nidp roles: %s\norg role: %s\nstack roles: %s\nunmatched: %s\n",
		r.Identity.Email, r.Identity.FirstName, r.Identity.LastName, strings.Join(r.Identity.IdPRoles, ", "),
		r.Mapping.OrgRole, e2eStacks(r.Mapping.StackRoles), strings.Join(r.Mapping.Unmatched, ", "))
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "problem: %s\n", p)
	}
	return b.String()
}

// e2eStacks prints stack roles as "stack=role,role; stack=role", stacks sorted.
func e2eStacks(m map[string][]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+strings.Join(m[k], ","))
	}
	return strings.Join(parts, "; ")
}

// e2eBrowser is a scripted browser: a cookie jar, redirects followed by hand
// (each hop recorded), HTML forms read and submitted as a user would.
type e2eBrowser struct {
	t      *testing.T
	jar    *cookiejar.Jar
	client *http.Client
	labels map[string]string // host:port -> label in hops ("app", "idp")
	hops   []string          // "GET app/login 302", …
	// setCookies are the Set-Cookie headers received since takeHops, by label.
	setCookies map[string][]string
}

// e2ePage is a response the browser landed on (after redirects).
type e2ePage struct {
	URL    *url.URL
	Status int
	Body   string
}

func newE2EBrowser(t *testing.T, labels map[string]string) *e2eBrowser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	l := make(map[string]string)
	for raw, name := range labels {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		l[u.Host] = name
	}
	return &e2eBrowser{
		t:   t,
		jar: jar,
		client: &http.Client{
			Jar:     jar,
			Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
		labels:     l,
		setCookies: make(map[string][]string),
	}
}

// get loads a URL and follows its redirects.
func (b *e2eBrowser) get(raw string) *e2ePage {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, raw, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// submit fills in the page's only form (fill: field -> value; every field
// named must exist) and submits it as the browser would, following
// redirects.
func (b *e2eBrowser) submit(p *e2ePage, fill map[string]string) *e2ePage {
	b.t.Helper()
	f, err := e2eParseForm(p.Body)
	if err != nil {
		b.t.Fatalf("page %s (status %d): %v\n%s", p.URL, p.Status, err, e2eCut(p.Body, 2000))
	}
	for k, v := range fill {
		if _, ok := f.fields[k]; !ok {
			b.t.Fatalf("page %s: the form has no field %q (fields %v)", p.URL, k, slices.Sorted(maps.Keys(f.fields)))
		}
		f.fields.Set(k, v)
	}
	action, err := p.URL.Parse(f.action)
	if err != nil {
		b.t.Fatalf("page %s: form action %q: %v", p.URL, f.action, err)
	}
	req, err := http.NewRequest(http.MethodPost, action.String(), strings.NewReader(f.fields.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *e2eBrowser) do(req *http.Request) *e2ePage {
	b.t.Helper()
	for range 10 {
		resp, err := b.client.Do(req)
		if err != nil {
			b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		resp.Body.Close()
		if err != nil {
			b.t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
		}
		b.hops = append(b.hops, fmt.Sprintf("%s %s%s %d", req.Method, b.label(req.URL), req.URL.Path, resp.StatusCode))
		if sc := resp.Header.Values("Set-Cookie"); len(sc) > 0 {
			b.setCookies[b.label(req.URL)] = append(b.setCookies[b.label(req.URL)], sc...)
		}
		loc := resp.Header.Get("Location")
		if resp.StatusCode/100 != 3 || loc == "" {
			return &e2ePage{URL: req.URL, Status: resp.StatusCode, Body: string(body)}
		}
		next, err := req.URL.Parse(loc)
		if err != nil {
			b.t.Fatalf("%s %s: bad Location %q: %v", req.Method, req.URL, loc, err)
		}
		if req, err = http.NewRequest(http.MethodGet, next.String(), nil); err != nil {
			b.t.Fatal(err)
		}
	}
	b.t.Fatalf("more than 10 redirects; hops %q", b.hops)
	return nil
}

func (b *e2eBrowser) label(u *url.URL) string {
	if l, ok := b.labels[u.Host]; ok {
		return l
	}
	return u.Host
}

// takeHops returns the hops and the Set-Cookie headers (by label) since the
// last call.
func (b *e2eBrowser) takeHops() ([]string, map[string][]string) {
	h, c := b.hops, b.setCookies
	b.hops, b.setCookies = nil, make(map[string][]string)
	return h, c
}

// setCookie puts a cookie for raw in the jar, as a response from raw would.
func (b *e2eBrowser) setCookie(raw string, c *http.Cookie) {
	b.t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		b.t.Fatal(err)
	}
	b.jar.SetCookies(u, []*http.Cookie{c})
}

// cookie returns the value of the named cookie the browser would send to raw.
func (b *e2eBrowser) cookie(raw, name string) string {
	b.t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		b.t.Fatal(err)
	}
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// e2eForm is an HTML form as a browser would submit it.
type e2eForm struct {
	action string
	fields url.Values
}

var (
	e2eFormRE  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	e2eInputRE = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	e2eAttrRE  = regexp.MustCompile(`(?s)([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*"([^"]*)"`)
)

// e2eParseForm reads the page's only form: its action and the name/value of
// every named input (html/template escapes '"' in attribute values, so a
// quoted value never contains one). A form that is not POST is an error.
func e2eParseForm(page string) (*e2eForm, error) {
	forms := e2eFormRE.FindAllStringSubmatch(page, -1)
	if len(forms) != 1 {
		return nil, fmt.Errorf("want exactly one form, found %d", len(forms))
	}
	attrs := e2eAttrs(forms[0][1])
	if !strings.EqualFold(attrs["method"], "post") {
		return nil, fmt.Errorf("form method %q, want post", attrs["method"])
	}
	f := &e2eForm{action: attrs["action"], fields: url.Values{}}
	for _, in := range e2eInputRE.FindAllStringSubmatch(forms[0][2], -1) {
		a := e2eAttrs(in[1])
		if name, ok := a["name"]; ok && name != "" {
			f.fields.Add(name, a["value"])
		}
	}
	return f, nil
}

func e2eAttrs(tag string) map[string]string {
	out := make(map[string]string)
	for _, m := range e2eAttrRE.FindAllStringSubmatch(tag, -1) {
		out[strings.ToLower(m[1])] = html.UnescapeString(m[2])
	}
	return out
}

func e2eCut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// e2eKeyPair makes an RSA key and a self-signed certificate valid around the
// wall clock (the certificates of these tests meet real clocks).
func e2eKeyPair(t *testing.T, cn string) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

// e2eCrewjam is a github.com/crewjam/saml samlidp identity provider on its
// own HTTP server, administered through its REST API.
type e2eCrewjam struct {
	t    *testing.T
	URL  string
	idp  *samlidp.Server
	logs *lockedBuffer
}

// newE2ECrewjam starts a crewjam IdP that signs with signatureMethod ("" =
// crewjam's default, which is RSA-SHA1).
func newE2ECrewjam(t *testing.T, signatureMethod string) *e2eCrewjam {
	t.Helper()
	key, cert := e2eKeyPair(t, "crewjam samlidp")
	srv := httptest.NewUnstartedServer(nil)
	c := &e2eCrewjam{t: t, URL: "http://" + srv.Listener.Addr().String(), logs: &lockedBuffer{}}
	base, err := url.Parse(c.URL)
	if err != nil {
		t.Fatal(err)
	}
	c.idp, err = samlidp.New(samlidp.Options{
		URL:         *base,
		Key:         key,
		Certificate: cert,
		Logger:      log.New(c.logs, "samlidp: ", log.Lmicroseconds),
		Store:       &samlidp.MemoryStore{},
	})
	if err != nil {
		t.Fatalf("samlidp.New() err = %v", err)
	}
	c.idp.IDP.SignatureMethod = signatureMethod
	// crewjam/saml 0.5.x: the default login form posts the credentials to
	// /login, which only answers the IdP session as JSON, so the SAML flow
	// stops there (crewjam/saml#613). Pointing the form back at the SSO URL,
	// as 0.4.x did, completes it: /sso takes the credentials with the
	// SAMLRequest and answers with the auto-post form.
	c.idp.IDP.LoginURL = c.idp.IDP.SSOURL
	srv.Config.Handler = c.idp
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("crewjam logs:\n%s", c.logs.String())
		}
	})
	return c
}

// call makes an admin API request and checks its status.
func (c *e2eCrewjam) call(method, path, contentType string, body []byte, want int) []byte {
	c.t.Helper()
	req, err := http.NewRequest(method, c.URL+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("crewjam %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if resp.StatusCode != want {
		c.t.Fatalf("crewjam %s %s: status %d; want %d\n%s", method, path, resp.StatusCode, want, out)
	}
	return out
}

// addUser creates a user through PUT /users/{name}; the IdP hashes the
// password with bcrypt.
func (c *e2eCrewjam) addUser(name, password, email, given, surname string, groups ...string) {
	c.t.Helper()
	body, err := json.Marshal(samlidp.User{
		Name:              name,
		PlaintextPassword: &password,
		Email:             email,
		GivenName:         given,
		Surname:           surname,
		Groups:            groups,
	})
	if err != nil {
		c.t.Fatal(err)
	}
	c.call(http.MethodPut, "/users/"+url.PathEscape(name), "application/json", body, http.StatusNoContent)
}

// addService registers a service provider from its metadata XML through
// PUT /services/{id}; the IdP indexes it by entity ID.
func (c *e2eCrewjam) addService(id string, metadata []byte) {
	c.t.Helper()
	c.call(http.MethodPut, "/services/"+url.PathEscape(id), "application/samlmetadata+xml", metadata, http.StatusNoContent)
}

// metadata fetches the IdP's metadata XML.
func (c *e2eCrewjam) metadata() []byte {
	c.t.Helper()
	return c.call(http.MethodGet, "/metadata", "", nil, http.StatusOK)
}

// e2eFetch GETs a URL with a plain client and returns the body of a 200.
func e2eFetch(t *testing.T, raw string) []byte {
	t.Helper()
	resp, err := http.Get(raw)
	if err != nil {
		t.Fatalf("GET %s: %v", raw, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d\n%s", raw, resp.StatusCode, body)
	}
	return body
}

// e2eSAMLResponseXML decodes the SAMLResponse of an auto-post page.
func e2eSAMLResponseXML(t *testing.T, p *e2ePage) string {
	t.Helper()
	f, err := e2eParseForm(p.Body)
	if err != nil {
		t.Fatalf("auto-post page: %v", err)
	}
	raw, err := base64.StdEncoding.DecodeString(f.fields.Get("SAMLResponse"))
	if err != nil {
		t.Fatalf("SAMLResponse is not base64: %v", err)
	}
	return string(raw)
}

// e2eCheck reports the Check of a *saml.ValidationError, if err holds one.
func e2eCheck(err error) saml.Check {
	var ve *saml.ValidationError
	if errors.As(err, &ve) {
		return ve.Check
	}
	return ""
}
