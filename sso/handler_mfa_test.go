package sso_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
	"github.com/orgsso/orgsso/store/memory"
	"github.com/orgsso/orgsso/store/sqlite"
)

// The Handler's MFA pages, over HTTP: the Handler on an httptest TLS
// server, a client with a cookie jar as the browser, the ssotest IdP, on the
// memory store and on SQLite (where the pending sign-in is written after the
// sign-in's transaction commits). Every response is checked for the
// session cookie: none before the second factor.

// mfaStore is what a store must be for these tests.
type mfaStore interface {
	sso.Store
	session.Store
}

// mfaStores are the stores the handler tests run on.
func mfaStores() []struct {
	name string
	open func(t *testing.T) mfaStore
} {
	return []struct {
		name string
		open func(t *testing.T) mfaStore
	}{
		{"memory", func(*testing.T) mfaStore { return memory.New() }},
		{"sqlite", func(t *testing.T) mfaStore {
			st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "orgsso.db"))
			require.NoError(t, err)
			t.Cleanup(func() { st.Close() })
			return st
		}},
	}
}

// mfaSite is a host with the Handler mounted at /sso/ and a browser.
type mfaSite struct {
	t     *testing.T
	clock *testClock
	idp   *ssotest.IdP
	svc   *sso.Service
	srv   *httptest.Server
	org   *sso.Organization
	sp    sso.SPDetails
	jar   http.CookieJar
	hc    *http.Client
	// pages are the MFA pages RenderMFA was asked for, when the test set
	// hook.
	pages []*sso.MFAPage
}

const mfaMember = "mia@acme.example"

// newMFASite runs a Handler over st for organization acme (members by role
// mapping: Staff), with policy p. hook, when set, is the RenderMFA hook
// (recorded in pages, then rendered as a small page).
func newMFASite(t *testing.T, st mfaStore, p sso.MFAPolicy, hook bool) *mfaSite {
	t.Helper()
	s := &mfaSite{t: t, clock: &testClock{now: time.Now().UTC().Truncate(time.Second)}}
	var err error
	s.idp, err = ssotest.New(ssotest.Config{EntityID: "https://idp.example.test/metadata", SSOURL: "https://idp.example.test/sso", Now: s.clock.Now})
	require.NoError(t, err)
	s.srv = httptest.NewUnstartedServer(nil)
	s.srv.StartTLS()
	t.Cleanup(s.srv.Close)
	s.svc, err = sso.New(sso.Config{BaseURL: s.srv.URL, Store: st, Sessions: session.NewManager(st, session.WithClock(s.clock.Now)),
		Now: s.clock.Now})
	require.NoError(t, err)
	s.org = &sso.Organization{ID: "org-1", SSOName: "acme", OwnerID: "u-owner", Enabled: true, IdP: s.idp.IdPConfig(), MFA: p,
		RoleMapping: rolemap.Config{Enabled: true, Mappings: []rolemap.Mapping{{IdPRole: "Staff", OrgRole: rolemap.RoleMember}}}}
	ctx := context.Background()
	require.NoError(t, st.SaveOrganization(ctx, s.org))
	require.NoError(t, st.SaveMember(ctx, &sso.Member{OrgID: s.org.ID, UserID: "u-owner", Email: "owner@acme.example", OrgRole: rolemap.RoleOwner}))
	s.sp = s.svc.Details(s.org)
	cfg := sso.HandlerConfig{}
	if hook {
		cfg.RenderMFA = func(w http.ResponseWriter, r *http.Request, status int, page *sso.MFAPage) {
			s.pages = append(s.pages, page)
			w.WriteHeader(status)
			io.WriteString(w, "<p id=kind>"+string(page.Kind)+"</p>")
		}
	}
	h, err := s.svc.Handler(cfg)
	require.NoError(t, err)
	s.srv.Config.Handler = h
	s.newBrowser()
	return s
}

// newBrowser gives the site a new browser: an empty cookie jar.
func (s *mfaSite) newBrowser() {
	jar, err := cookiejar.New(nil)
	require.NoError(s.t, err)
	s.jar = jar
	s.hc = s.client(jar)
}

// client is an HTTP client of the site's TLS server with jar (nil: no
// cookies), following no redirect.
func (s *mfaSite) client(jar http.CookieJar) *http.Client {
	return &http.Client{Transport: s.srv.Client().Transport, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// answer is a response with its body read.
type answer struct {
	*http.Response
	Body string
}

// send runs req from the browser and checks that the answer sets the
// session cookie exactly when session says so.
func (s *mfaSite) send(req *http.Request, session bool) answer {
	s.t.Helper()
	resp, err := s.hc.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	sets := false
	for _, c := range resp.Cookies() {
		if c.Name == hostSessionCookie && c.MaxAge >= 0 && c.Value != "" {
			sets = true
		}
	}
	if sets != session {
		s.t.Fatalf("%s %s: sets the session cookie = %t; want %t (status %d)", req.Method, req.URL.Path, sets, session, resp.StatusCode)
	}
	return answer{resp, string(b)}
}

// get sends a GET of path (under the site) from the browser.
func (s *mfaSite) get(path string) answer {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.srv.URL+path, nil)
	require.NoError(s.t, err)
	return s.send(req, false)
}

// postCode posts code to the MFA page as the page's own form would
// (same origin), expecting a session cookie when session is set.
func (s *mfaSite) postCode(code string, session bool) answer {
	s.t.Helper()
	return s.postCodeWith(code, session, map[string]string{"Origin": s.srv.URL, "Sec-Fetch-Site": "same-origin"})
}

func (s *mfaSite) postCodeWith(code string, session bool, headers map[string]string) answer {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.srv.URL+"/sso/mfa", strings.NewReader(url.Values{sso.MFACodeField: {code}}.Encode()))
	require.NoError(s.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return s.send(req, session)
}

// signIn runs a sign-in of the member through the login URL and the IdP,
// the IdP asserting class ("" = a password), and returns the ACS's answer,
// which sets the session cookie when session says so.
func (s *mfaSite) signIn(class string, session bool) answer {
	s.t.Helper()
	a := s.get("/sso/login?trigger_sso_flow=acme&return_to=/dashboard")
	require.Equal(s.t, http.StatusFound, a.StatusCode, a.Body)
	loc, err := url.Parse(a.Header.Get("Location"))
	require.NoError(s.t, err)
	ar, err := ssotest.ParseAuthnRequest(loc.Query(), nil)
	require.NoError(s.t, err)
	posted, err := s.idp.Response(ssotest.Response{SP: s.sp, InResponseTo: ar.ID, AuthnContextClassRef: class,
		User: ssotest.User{Email: mfaMember, FirstName: "Mia", LastName: "Example", Roles: []string{"Staff"}}})
	require.NoError(s.t, err)
	req, err := http.NewRequest(http.MethodPost, s.sp.ACSURL, strings.NewReader(url.Values{"SAMLResponse": {posted}, "RelayState": {ar.RelayState}}.Encode()))
	require.NoError(s.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return s.send(req, session)
}

// challenged signs in and checks the answer: the MFA cookie, no session,
// 303 to the MFA page.
func (s *mfaSite) challenged() {
	s.t.Helper()
	a := s.signIn("", false)
	require.Equal(s.t, http.StatusSeeOther, a.StatusCode, a.Body)
	require.Equal(s.t, "/sso/mfa", a.Header.Get("Location"))
	c := setCookie(a, "__Host-"+sso.MFACookieName)
	require.NotNil(s.t, c, "the MFA cookie is set")
	assert.True(s.t, c.HttpOnly && c.Secure, "MFA cookie %+v", c)
	assert.Equal(s.t, http.SameSiteLaxMode, c.SameSite)
	assert.Equal(s.t, "/", c.Path)
}

// setCookie returns the cookie named name that a sets, or nil.
func setCookie(a answer, name string) *http.Cookie {
	for _, c := range a.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// sessionToken returns the session cookie the browser holds, or "".
func (s *mfaSite) sessionToken() string {
	u, _ := url.Parse(s.srv.URL)
	for _, c := range s.jar.Cookies(u) {
		if c.Name == hostSessionCookie {
			return c.Value
		}
	}
	return ""
}

// hasMFACookie reports whether the browser holds the MFA cookie.
func (s *mfaSite) hasMFACookie() bool {
	u, _ := url.Parse(s.srv.URL)
	for _, c := range s.jar.Cookies(u) {
		if c.Name == "__Host-"+sso.MFACookieName {
			return true
		}
	}
	return false
}

var (
	secretRE   = regexp.MustCompile(`<code id="totp-secret">([^<]*)</code>`)
	otpauthRE  = regexp.MustCompile(`<a href="(otpauth://[^"]*)" id="totp-url">`)
	recoveryRE = regexp.MustCompile(`<li><code>([A-Z2-7-]+)</code></li>`)
	continueRE = regexp.MustCompile(`<a href="([^"]*)" id="mfa-continue">`)
	alertRE    = regexp.MustCompile(`(?s)<p role="alert" id="mfa-error">(.*?)</p>`)
)

// secretOn reads the secret the enrollment page shows, without its spaces.
func secretOn(t *testing.T, body string) string {
	t.Helper()
	m := secretRE.FindStringSubmatch(body)
	require.NotNil(t, m, "the enrollment page shows the secret: %s", body)
	return strings.ReplaceAll(html.UnescapeString(m[1]), " ", "")
}

// alertOn returns the page's error message as text.
func alertOn(body string) string {
	m := alertRE.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(m[1], ""))
}

// wrongCode is a six-digit code that is none of the app's codes within
// the accepted drift of at.
func wrongCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	for i := 0; ; i++ {
		c := fmt.Sprintf("%06d", i)
		if c != codeAt(t, secret, at.Add(-30*time.Second)) && c != codeAt(t, secret, at) && c != codeAt(t, secret, at.Add(30*time.Second)) {
			return c
		}
	}
}

// enroll runs a first sign-in through enrollment and returns the secret
// and the recovery codes shown.
func (s *mfaSite) enroll() (string, []string) {
	s.t.Helper()
	t := s.t
	s.challenged()
	a := s.get("/sso/mfa")
	require.Equal(t, http.StatusOK, a.StatusCode, a.Body)
	assert.Equal(t, "no-store", a.Header.Get("Cache-Control"))
	assert.Equal(t, "nosniff", a.Header.Get("X-Content-Type-Options"))
	assert.Contains(t, a.Header.Get("Content-Security-Policy"), "default-src 'none'")
	assert.Contains(t, a.Header.Get("Content-Security-Policy"), "img-src data:")
	secret := secretOn(t, a.Body)
	link := otpauthRE.FindStringSubmatch(a.Body)
	require.NotNil(t, link, "the otpauth URL as a link")
	u, err := url.Parse(html.UnescapeString(link[1]))
	require.NoError(t, err)
	assert.Equal(t, secret, u.Query().Get("secret"), "the link carries the secret shown")
	assert.Contains(t, a.Body, `<img src="data:image/png;base64,`, "a QR code")

	// A reload shows the same secret: the app's entry stays good.
	again := s.get("/sso/mfa")
	assert.Equal(t, secret, secretOn(t, again.Body))

	a = s.postCode(codeAt(t, secret, s.clock.Now()), true)
	require.Equal(t, http.StatusOK, a.StatusCode, a.Body)
	assert.Equal(t, "no-store", a.Header.Get("Cache-Control"))
	var codes []string
	for _, m := range recoveryRE.FindAllStringSubmatch(a.Body, -1) {
		codes = append(codes, m[1])
	}
	require.Len(t, codes, sso.RecoveryCodeCount, "the recovery codes are shown")
	cont := continueRE.FindStringSubmatch(a.Body)
	require.NotNil(t, cont)
	assert.Equal(t, "/dashboard", cont[1], "continue to the sign-in's destination")
	assert.False(t, s.hasMFACookie(), "the MFA cookie is cleared")
	_, err = s.svc.ValidateSession(context.Background(), s.sessionToken())
	require.NoError(t, err, "the session is set with the recovery codes")
	return secret, codes
}

// TestHandlerMFAEnrollThenSignIn: the first sign-in enrolls (the secret
// and otpauth URL shown, the app's code confirms, the recovery codes shown
// once), a later one is challenged and signs in with the app's next code; a
// replayed code is refused, a recovery code works once.
func TestHandlerMFAEnrollThenSignIn(t *testing.T) {
	for _, tc := range mfaStores() {
		t.Run(tc.name, func(t *testing.T) {
			s := newMFASite(t, tc.open(t), sso.MFAPolicy{Required: true}, false)
			secret, codes := s.enroll()

			// The codes are shown once: the page is gone with the token.
			a := s.get("/sso/mfa")
			assert.Equal(t, http.StatusUnauthorized, a.StatusCode)
			assert.NotContains(t, a.Body, codes[0])

			// A later sign-in, in another browser: the challenge page.
			s.newBrowser()
			s.challenged()
			a = s.get("/sso/mfa")
			require.Equal(t, http.StatusOK, a.StatusCode, a.Body)
			assert.Contains(t, a.Body, `id="mfa-form"`)
			assert.Contains(t, a.Body, `id="mfa-recovery-form"`)
			assert.NotContains(t, a.Body, "totp-secret", "no secret on the challenge page")
			assert.NotContains(t, a.Body, secret)

			// The code of the step the enrollment used is a replay.
			a = s.postCode(codeAt(t, secret, s.clock.Now()), false)
			assert.Equal(t, http.StatusUnauthorized, a.StatusCode)
			assert.Equal(t, sso.UserMessage(sso.ErrMFACode)+" 4 attempts left.", alertOn(a.Body))
			assert.True(t, s.hasMFACookie(), "a wrong code keeps the sign-in")

			// The next step's code signs in, to the destination.
			s.clock.Advance(30 * time.Second)
			code := codeAt(t, secret, s.clock.Now())
			a = s.postCode(code, true)
			require.Equal(t, http.StatusSeeOther, a.StatusCode, a.Body)
			assert.Equal(t, "/dashboard", a.Header.Get("Location"))
			assert.False(t, s.hasMFACookie())
			sess, err := s.svc.ValidateSession(context.Background(), s.sessionToken())
			require.NoError(t, err)
			assert.Equal(t, session.MethodSSO, sess.Method)

			// The same code again, in a new sign-in: refused.
			s.newBrowser()
			s.challenged()
			a = s.postCode(code, false)
			assert.Equal(t, http.StatusUnauthorized, a.StatusCode)
			assert.Contains(t, alertOn(a.Body), sso.UserMessage(sso.ErrMFAReplay))

			// A recovery code (as typed: lower case, no dashes) signs in once.
			a = s.postCode(strings.ToLower(strings.ReplaceAll(codes[3], "-", "")), true)
			require.Equal(t, http.StatusSeeOther, a.StatusCode, a.Body)
			s.newBrowser()
			s.challenged()
			a = s.postCode(codes[3], false)
			assert.Equal(t, http.StatusUnauthorized, a.StatusCode, "a used recovery code")
			a = s.postCode(codes[4], true)
			assert.Equal(t, http.StatusSeeOther, a.StatusCode, "another recovery code")
		})
	}
}

// TestHandlerMFAWrongCodes: each wrong code shows the page again with the
// attempts left, 401; the fifth ends the sign-in (the MFA cookie cleared,
// the error page); a wrong code while enrolling keeps the secret shown.
func TestHandlerMFAWrongCodes(t *testing.T) {
	for _, tc := range mfaStores() {
		t.Run(tc.name, func(t *testing.T) {
			s := newMFASite(t, tc.open(t), sso.MFAPolicy{Required: true}, false)
			s.challenged()
			secret := secretOn(t, s.get("/sso/mfa").Body)
			for left := sso.MFACodeAttempts - 1; left > 0; left-- {
				a := s.postCode(wrongCode(t, secret, s.clock.Now()), false)
				require.Equal(t, http.StatusUnauthorized, a.StatusCode)
				want := "attempts"
				if left == 1 {
					want = "attempt"
				}
				assert.Equal(t, sso.UserMessage(sso.ErrMFACode)+" "+strconv.Itoa(left)+" "+want+" left.", alertOn(a.Body))
				assert.Equal(t, secret, secretOn(t, a.Body), "the enrollment page keeps its secret")
			}
			a := s.postCode(wrongCode(t, secret, s.clock.Now()), false)
			assert.Equal(t, http.StatusUnauthorized, a.StatusCode)
			assert.Contains(t, a.Body, html.EscapeString(sso.UserMessage(sso.ErrMFAToken)))
			assert.Contains(t, a.Body, `href="/sso/login"`, "a link to sign in again")
			assert.False(t, s.hasMFACookie(), "the dead sign-in's cookie is cleared")
			// The right code now is too late.
			req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/sso/mfa", strings.NewReader("code="+codeAt(t, secret, s.clock.Now())))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(&http.Cookie{Name: "__Host-" + sso.MFACookieName, Value: "x"})
			assert.Equal(t, http.StatusUnauthorized, s.send(req, false).StatusCode)
		})
	}
}

// TestHandlerMFALocked: wrong codes count per member across sign-ins;
// past MFAMemberAttempts the page says so with 429, even for the right
// code.
func TestHandlerMFALocked(t *testing.T) {
	s := newMFASite(t, memory.New(), sso.MFAPolicy{Required: true}, false)
	secret, _ := s.enroll()
	s.clock.Advance(30 * time.Second)
	for range sso.MFAMemberAttempts / sso.MFACodeAttempts {
		s.newBrowser()
		s.challenged()
		for range sso.MFACodeAttempts {
			s.postCode(wrongCode(t, secret, s.clock.Now()), false)
		}
	}
	s.newBrowser()
	s.challenged()
	a := s.postCode(codeAt(t, secret, s.clock.Now()), false)
	assert.Equal(t, http.StatusTooManyRequests, a.StatusCode)
	assert.Equal(t, sso.UserMessage(sso.ErrMFALocked), alertOn(a.Body))
}

// TestHandlerMFAExpired: a sign-in that waited past MFATokenTTL is over: the
// MFA page is the error page, 401, and clears the cookie.
func TestHandlerMFAExpired(t *testing.T) {
	for _, tc := range mfaStores() {
		t.Run(tc.name, func(t *testing.T) {
			s := newMFASite(t, tc.open(t), sso.MFAPolicy{Required: true}, false)
			s.challenged()
			secret := secretOn(t, s.get("/sso/mfa").Body)
			s.clock.Advance(sso.DefaultMFATokenTTL)
			a := s.postCode(codeAt(t, secret, s.clock.Now()), false)
			assert.Equal(t, http.StatusUnauthorized, a.StatusCode)
			assert.Contains(t, a.Body, html.EscapeString(sso.UserMessage(sso.ErrMFAToken)))
			assert.False(t, s.hasMFACookie())
			a = s.get("/sso/mfa")
			assert.Equal(t, http.StatusUnauthorized, a.StatusCode)
		})
	}
}

// TestHandlerMFANoToken: the MFA page without the cookie, or with one that
// is no pending sign-in's, is the error page, 401; a bad cookie is cleared.
func TestHandlerMFANoToken(t *testing.T) {
	s := newMFASite(t, memory.New(), sso.MFAPolicy{Required: true}, false)
	for _, tt := range []struct {
		name   string
		cookie string
	}{
		{"no cookie", ""},
		{"unknown token", "dGhpcyBpcyBub3QgYSB0b2tlbiBvZiBvdXJzLCBub3QgYXQgYWxs"},
		{"oversized token", strings.Repeat("A", 4000)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				req, err := http.NewRequest(method, s.srv.URL+"/sso/mfa", strings.NewReader("code=123456"))
				require.NoError(t, err)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if tt.cookie != "" {
					req.AddCookie(&http.Cookie{Name: "__Host-" + sso.MFACookieName, Value: tt.cookie})
				}
				a := s.send(req, false)
				assert.Equal(t, http.StatusUnauthorized, a.StatusCode, method)
				assert.Contains(t, a.Body, html.EscapeString(sso.UserMessage(sso.ErrMFAToken)), method)
				if tt.cookie == "dGhpcyBpcyBub3QgYSB0b2tlbiBvZiBvdXJzLCBub3QgYXQgYWxs" {
					c := setCookie(a, "__Host-"+sso.MFACookieName)
					require.NotNil(t, c, "%s: the unknown token's cookie is cleared", method)
					assert.Negative(t, c.MaxAge)
				}
			}
		})
	}
}

// TestHandlerMFACrossSite: another site cannot post a code into the
// member's pending sign-in. Browsers keep the SameSite=Lax MFA cookie off
// its POST (the post finds no sign-in: 401); a browser that sent it anyway
// is refused by the same-origin check (403) before the code is looked at:
// the sign-in keeps all its attempts.
func TestHandlerMFACrossSite(t *testing.T) {
	for _, tc := range mfaStores() {
		t.Run(tc.name, func(t *testing.T) {
			s := newMFASite(t, tc.open(t), sso.MFAPolicy{Required: true}, false)
			secret, _ := s.enroll()
			s.clock.Advance(30 * time.Second)
			s.newBrowser()
			s.challenged()
			code := codeAt(t, secret, s.clock.Now())
			for _, h := range []map[string]string{
				{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
				{"Sec-Fetch-Site": "same-site", "Origin": "https://evil.127.0.0.1.example"},
				{"Origin": "https://evil.example"},
			} {
				a := s.postCodeWith(code, false, h)
				assert.Equal(t, http.StatusForbidden, a.StatusCode, "%v", h)
			}
			// The cross-site POST as browsers send it: without the Lax cookie.
			req, err := http.NewRequest(http.MethodPost, s.srv.URL+"/sso/mfa", strings.NewReader("code="+code))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			plain := s.client(nil)
			resp, err := plain.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusForbidden, resp.StatusCode)
			req.Header.Del("Sec-Fetch-Site") // and a non-browser client: no sign-in without the cookie
			req.Body = io.NopCloser(strings.NewReader("code=" + code))
			resp, err = plain.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

			a := s.get("/sso/mfa")
			require.Equal(t, http.StatusOK, a.StatusCode)
			st, err := s.svc.MFAState(context.Background(), s.mfaToken())
			require.NoError(t, err)
			assert.Equal(t, sso.MFACodeAttempts, st.AttemptsLeft, "refused posts tried no code")
			a = s.postCode(code, true)
			assert.Equal(t, http.StatusSeeOther, a.StatusCode, "the member's own post still works")
		})
	}
}

// mfaToken returns the browser's MFA cookie value.
func (s *mfaSite) mfaToken() string {
	u, _ := url.Parse(s.srv.URL)
	for _, c := range s.jar.Cookies(u) {
		if c.Name == "__Host-"+sso.MFACookieName {
			return c.Value
		}
	}
	return ""
}

// TestHandlerMFATrustIdP: with TrustIdP, a SAML sign-in whose IdP asserted
// an MFA class goes straight to a session; one that asserted a password
// goes to the MFA page.
func TestHandlerMFATrustIdP(t *testing.T) {
	for _, tc := range mfaStores() {
		t.Run(tc.name, func(t *testing.T) {
			s := newMFASite(t, tc.open(t), sso.MFAPolicy{Required: true, TrustIdP: true}, false)
			a := s.signIn("urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract", true)
			require.Equal(t, http.StatusSeeOther, a.StatusCode, a.Body)
			assert.Equal(t, "/dashboard", a.Header.Get("Location"))
			assert.Nil(t, setCookie(a, "__Host-"+sso.MFACookieName))
			s.newBrowser()
			s.challenged()
		})
	}
}

// TestHandlerMFARenderHook: RenderMFA gets each page with its data: the
// enrollment, a refused code with the attempts left, the recovery codes
// with the destination; the Handler has set the cookies.
func TestHandlerMFARenderHook(t *testing.T) {
	s := newMFASite(t, memory.New(), sso.MFAPolicy{Required: true}, true)
	s.challenged()
	a := s.get("/sso/mfa")
	require.Equal(t, http.StatusOK, a.StatusCode)
	require.Len(t, s.pages, 1)
	p := s.pages[0]
	assert.Equal(t, sso.MFAPageEnroll, p.Kind)
	assert.Equal(t, "/sso/mfa", p.Action)
	assert.Equal(t, mfaMember, p.Email)
	assert.Equal(t, "acme", p.SSOName)
	require.NotNil(t, p.Enrollment)
	assert.True(t, strings.HasPrefix(p.Enrollment.URL, "otpauth://totp/"))
	assert.Equal(t, sso.MFACodeAttempts, p.AttemptsLeft)
	assert.NoError(t, p.Err)

	a = s.postCode("12345x", false)
	assert.Equal(t, http.StatusUnauthorized, a.StatusCode)
	p = s.pages[1]
	assert.ErrorIs(t, p.Err, sso.ErrMFACode)
	assert.Equal(t, sso.MFACodeAttempts-1, p.AttemptsLeft)
	assert.Equal(t, s.pages[0].Enrollment.Secret, p.Enrollment.Secret)

	a = s.postCode(codeAt(t, p.Enrollment.Secret, s.clock.Now()), true)
	assert.Equal(t, http.StatusOK, a.StatusCode)
	p = s.pages[2]
	assert.Equal(t, sso.MFAPageRecoveryCodes, p.Kind)
	assert.Len(t, p.RecoveryCodes, sso.RecoveryCodeCount)
	assert.Equal(t, "/dashboard", p.Continue)
	assert.Nil(t, p.Enrollment)
}

// TestHandlerMFADefaultPagesEscape: what the pages show of the IdP's
// assertion (the member's email) is escaped, and the otpauth link is kept
// (html/template would otherwise replace the scheme it does not know).
func TestHandlerMFADefaultPagesEscape(t *testing.T) {
	s := newMFASite(t, memory.New(), sso.MFAPolicy{Required: true}, false)
	s.challenged()
	a := s.get("/sso/mfa")
	assert.NotContains(t, a.Body, "ZgotmplZ")
	assert.Contains(t, a.Body, `href="otpauth://totp/`)
	assert.Contains(t, a.Body, html.EscapeString(mfaMember))
	assert.NotContains(t, a.Body, "<script")
}

// TestPendingTOTPEnrollment: the enrollment begun with a token, again; none
// before BeginTOTPEnrollment; an unknown token is ErrMFAToken.
func TestPendingTOTPEnrollment(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	ch := e.challenged(t)
	_, err := e.svc.PendingTOTPEnrollment(ctx, ch.Token)
	assert.ErrorIs(t, err, sso.ErrMFANotEnrolled)
	en, err := e.svc.BeginTOTPEnrollment(ctx, ch.Token)
	require.NoError(t, err)
	again, err := e.svc.PendingTOTPEnrollment(ctx, ch.Token)
	require.NoError(t, err)
	assert.Equal(t, en.Secret, again.Secret)
	assert.Equal(t, en.URL, again.URL)
	assert.Equal(t, en.Account, again.Account)
	assert.NotContains(t, again.String(), en.Secret)
	_, err = e.svc.PendingTOTPEnrollment(ctx, "nope")
	assert.ErrorIs(t, err, sso.ErrMFAToken)
	_, _, err = e.svc.ConfirmTOTPEnrollment(ctx, ch.Token, codeAt(t, en.Secret, e.clock.Now()))
	require.NoError(t, err)
	_, err = e.svc.PendingTOTPEnrollment(ctx, ch.Token)
	assert.ErrorIs(t, err, sso.ErrMFAToken, "used")
}

// TestTOTPEnrollmentQRCode: the QR code is a PNG of the otpauth URL, for
// sizes 64 to 1024; anything else, or no otpauth URL, is an error.
func TestTOTPEnrollmentQRCode(t *testing.T) {
	en := &sso.TOTPEnrollment{URL: "otpauth://totp/app.example.com:kate@acme.example?algorithm=SHA1&digits=6&issuer=app.example.com&period=30&secret=JBSWY3DPEHPK3PXP"}
	for _, tt := range []struct {
		name    string
		en      *sso.TOTPEnrollment
		size    int
		wantErr bool
	}{
		{"200", en, 200, false},
		{"smallest", en, 64, false},
		{"too small", en, 63, true},
		{"too large", en, 1025, true},
		{"nil", nil, 200, true},
		{"not otpauth", &sso.TOTPEnrollment{URL: "https://evil.example/"}, 200, true},
		{"hotp", &sso.TOTPEnrollment{URL: "otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP"}, 200, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			png, err := tt.en.QRCode(tt.size)
			if tt.wantErr {
				assert.Error(t, err)
				assert.Nil(t, png)
				return
			}
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(string(png), "\x89PNG\r\n\x1a\n"), "a PNG")
		})
	}
}
