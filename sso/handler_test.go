package sso_test

import (
	"context"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/oidc"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
	"github.com/orgsso/orgsso/store/memory"
	"github.com/orgsso/orgsso/tests/faultstore"
)

// handler returns the Handler of e's Service with cfg.
func handler(t testing.TB, e *env, cfg sso.HandlerConfig) *sso.Handler {
	t.Helper()
	h, err := e.svc.Handler(cfg)
	require.NoError(t, err)
	return h
}

// serve runs req through h from the test's browser (its cookies) and
// applies the cookies the answer sets or deletes to the browser.
func serve(e *env, h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	for _, c := range e.cookies() {
		if _, err := req.Cookie(c.Name); err != nil {
			req.AddCookie(c)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	e.mu.Lock()
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(e.jar, c.Name)
		} else {
			e.jar[c.Name] = c
		}
	}
	e.mu.Unlock()
	return rec
}

// startThrough starts a sign-in with GET target through h and returns the
// AuthnRequest the browser is redirected to the IdP with.
func startThrough(t *testing.T, e *env, h http.Handler, target string) *ssotest.AuthnRequest {
	t.Helper()
	rec := serve(e, h, httptest.NewRequest(http.MethodGet, target, nil))
	require.Equal(t, http.StatusFound, rec.Code, rec.Body.String())
	loc, err := url.Parse(rec.Header().Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "idp.example.test", loc.Host)
	ar, err := ssotest.ParseAuthnRequest(loc.Query(), nil)
	require.NoError(t, err)
	return ar
}

// postThrough posts a response for user answering ar to the ACS through h.
func postThrough(t *testing.T, e *env, h http.Handler, ar *ssotest.AuthnRequest, u ssotest.User, mutate func(*ssotest.Response)) *httptest.ResponseRecorder {
	t.Helper()
	posted, err := e.idp.Response(e.resp(ar.ID, u, mutate))
	require.NoError(t, err)
	req, err := e.idp.PostRequest(e.sp.ACSURL, posted, ar.RelayState)
	require.NoError(t, err)
	return serve(e, h, req)
}

// hostSessionCookie is the session cookie's name on the https BaseURL of
// the test Services.
const hostSessionCookie = "__Host-" + sso.SessionCookieName

func cookieNamed(rec *httptest.ResponseRecorder, name string) *http.Cookie {
	for _, c := range rec.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestHandlerSignIn(t *testing.T) {
	e := newEnv(t, nil)
	h := handler(t, e, sso.HandlerConfig{})

	ar := startThrough(t, e, h, "/sso/login?trigger_sso_flow=acme&return_to=/dashboard")
	bind := e.cookies()
	require.Len(t, bind, 1, "the binding cookie is set on the redirect")
	assert.True(t, bind[0].HttpOnly && bind[0].Secure, "binding cookie %+v", bind[0])

	rec := postThrough(t, e, h, ar, alice, nil)
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	assert.Equal(t, "/dashboard", rec.Header().Get("Location"))
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	c := cookieNamed(rec, hostSessionCookie)
	require.NotNil(t, c)
	assert.True(t, c.HttpOnly, "HttpOnly")
	assert.True(t, c.Secure, "Secure on an https BaseURL")
	assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
	assert.Equal(t, "/", c.Path)
	cleared := cookieNamed(rec, bind[0].Name)
	require.NotNil(t, cleared, "the used binding cookie is cleared")
	assert.Negative(t, cleared.MaxAge)

	s, err := e.svc.ValidateSession(context.Background(), c.Value)
	require.NoError(t, err)
	assert.Equal(t, e.member(t, alice.Email).UserID, s.UserID)

	// The pretty form of the login URL, and the SSO name in any case.
	ar = startThrough(t, e, h, "/sso/acme/login")
	assert.NotEmpty(t, ar.ID)
	ar = startThrough(t, e, h, "/sso/login?trigger_sso_flow=%20ACME%20")
	assert.NotEmpty(t, ar.ID)
}

// TestHandlerSessionCookieOnHTTP: on an http BaseURL (development) the
// cookies are not Secure, and still HttpOnly and SameSite=Lax.
func TestHandlerSessionCookieOnHTTP(t *testing.T) {
	e := newEnv(t, nil)
	svc, err := sso.New(sso.Config{BaseURL: "http://localhost:8080", Store: e.store, Now: e.clock.Now})
	require.NoError(t, err)
	e.svc = svc
	e.fixture.sp = svc.Details(e.org)
	h := handler(t, e, sso.HandlerConfig{})
	ar := startThrough(t, e, h, "/sso/login?trigger_sso_flow=acme")
	rec := postThrough(t, e, h, ar, alice, nil)
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	assert.Nil(t, cookieNamed(rec, hostSessionCookie), "no __Host- name on http")
	c := cookieNamed(rec, sso.SessionCookieName)
	require.NotNil(t, c)
	assert.False(t, c.Secure)
	assert.True(t, c.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
}

// TestHandlerFailureStatus: each kind of failure gets StatusCode's status,
// the user message and code and never the operator's detail; the binding
// cookies are cleared.
func TestHandlerFailureStatus(t *testing.T) {
	tests := []struct {
		name string
		// do runs the failing request through h and returns the answer.
		do         func(t *testing.T, e *env, h http.Handler) *httptest.ResponseRecorder
		wantStatus int
		wantCode   string
	}{
		{"unknown organization", func(t *testing.T, e *env, h http.Handler) *httptest.ResponseRecorder {
			return serve(e, h, postForm(t, "/sso/nobody/acs", url.Values{"SAMLResponse": {"x"}}))
		}, http.StatusNotFound, sso.CodeUnknownOrg},
		{"unknown organization at login", func(t *testing.T, e *env, h http.Handler) *httptest.ResponseRecorder {
			return serve(e, h, httptest.NewRequest(http.MethodGet, "/sso/login?trigger_sso_flow=nobody", nil))
		}, http.StatusNotFound, sso.CodeUnknownOrg},
		{"unknown connection", func(t *testing.T, e *env, h http.Handler) *httptest.ResponseRecorder {
			return serve(e, h, postForm(t, "/sso/acme/nope/acs", url.Values{"SAMLResponse": {"x"}}))
		}, http.StatusNotFound, sso.CodeFailed},
		{"SSO disabled", func(t *testing.T, e *env, h http.Handler) *httptest.ResponseRecorder {
			ar := startThrough(t, e, h, "/sso/login?trigger_sso_flow=acme")
			e.updateOrg(t, func(o *sso.Organization) { o.Enabled = false })
			return postThrough(t, e, h, ar, alice, nil)
		}, http.StatusForbidden, sso.CodeSSODisabled},
		{"SSO disabled at login", func(t *testing.T, e *env, h http.Handler) *httptest.ResponseRecorder {
			e.updateOrg(t, func(o *sso.Organization) { o.Enabled = false })
			return serve(e, h, httptest.NewRequest(http.MethodGet, "/sso/acme/login", nil))
		}, http.StatusForbidden, sso.CodeSSODisabled},
		{"unsigned response", func(t *testing.T, e *env, h http.Handler) *httptest.ResponseRecorder {
			ar := startThrough(t, e, h, "/sso/login?trigger_sso_flow=acme")
			return postThrough(t, e, h, ar, alice, func(r *ssotest.Response) { r.Sign = ssotest.SignNone })
		}, http.StatusBadRequest, sso.CodeInvalidResponse},
		{"no form", func(t *testing.T, e *env, h http.Handler) *httptest.ResponseRecorder {
			return serve(e, h, postForm(t, "/sso/acme/acs", url.Values{}))
		}, http.StatusBadRequest, sso.CodeInvalidResponse},
		{"replay", func(t *testing.T, e *env, h http.Handler) *httptest.ResponseRecorder {
			ar := startThrough(t, e, h, "/sso/login?trigger_sso_flow=acme")
			posted, err := e.idp.Response(e.resp(ar.ID, alice, nil))
			require.NoError(t, err)
			req, _ := e.idp.PostRequest(e.sp.ACSURL, posted, ar.RelayState)
			require.Equal(t, http.StatusSeeOther, serve(e, h, req).Code)
			req, _ = e.idp.PostRequest(e.sp.ACSURL, posted, ar.RelayState)
			return serve(e, h, req)
		}, http.StatusBadRequest, sso.CodeReplay},
		{"posted in another browser", func(t *testing.T, e *env, h http.Handler) *httptest.ResponseRecorder {
			ar := startThrough(t, e, h, "/sso/login?trigger_sso_flow=acme")
			e.forgetCookies()
			return postThrough(t, e, h, ar, alice, nil)
		}, http.StatusBadRequest, sso.CodeBinding},
		{"access denied", func(t *testing.T, e *env, h http.Handler) *httptest.ResponseRecorder {
			ar := startThrough(t, e, h, "/sso/login?trigger_sso_flow=acme")
			return postThrough(t, e, h, ar, user("eve@acme.example", "Nothing Mapped"), nil)
		}, http.StatusForbidden, sso.CodeAccessDenied},
		{"provider failure", func(t *testing.T, e *env, h http.Handler) *httptest.ResponseRecorder {
			op := withOIDC(t, e, true)
			op.NextToken(ssotest.TokenResponse{Error: "invalid_grant"})
			return oidcThrough(t, e, h, op, oidcUser("bob@acme.example", "Admins"))
		}, http.StatusBadGateway, sso.CodeInvalidResponse},
		{"provider refusal", func(t *testing.T, e *env, h http.Handler) *httptest.ResponseRecorder {
			withOIDC(t, e, true)
			rec := serve(e, h, httptest.NewRequest(http.MethodGet, "/sso/acme/login?connection=okta", nil))
			require.Equal(t, http.StatusFound, rec.Code)
			loc, _ := url.Parse(rec.Header().Get("Location"))
			cb := "/sso/acme/okta/callback?" + url.Values{"error": {"access_denied"}, "state": {loc.Query().Get("state")}}.Encode()
			return serve(e, h, httptest.NewRequest(http.MethodGet, cb, nil))
		}, http.StatusBadRequest, sso.CodeInvalidResponse},
		{"expired ID token", func(t *testing.T, e *env, h http.Handler) *httptest.ResponseRecorder {
			op := withOIDC(t, e, true)
			op.NextToken(ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Expiry: testNow.Add(-time.Hour)}})
			return oidcThrough(t, e, h, op, oidcUser("bob@acme.example", "Admins"))
		}, http.StatusBadRequest, sso.CodeExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			h := handler(t, e, sso.HandlerConfig{})
			rec := tt.do(t, e, h)
			body := rec.Body.String()
			assert.Equal(t, tt.wantStatus, rec.Code, body)
			assert.Contains(t, body, "<code>"+tt.wantCode+"</code>")
			assert.Contains(t, body, html.EscapeString(sso.MessageFor(tt.wantCode)))
			assert.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
			assert.Contains(t, rec.Header().Get("Content-Security-Policy"), "default-src 'none'")
			assert.Nil(t, cookieNamed(rec, hostSessionCookie), "no session on a failure")
			for _, leak := range []string{"sso:", "saml:", "oidc:", "check failed", "eve@", "bob@"} {
				assert.NotContains(t, body, leak, "the page shows operator detail")
			}
			for _, c := range e.cookies() {
				assert.False(t, strings.Contains(c.Name, sso.BindingCookiePrefix), "binding cookie %s left after a failed sign-in", c.Name)
			}
		})
	}
}

// oidcThrough runs a sign-in through OIDC connection okta via h: the login
// link, the provider (without a browser), and the callback.
func oidcThrough(t *testing.T, e *env, h http.Handler, op *ssotest.OIDCProvider, u ssotest.User) *httptest.ResponseRecorder {
	t.Helper()
	rec := serve(e, h, httptest.NewRequest(http.MethodGet, "/sso/login?trigger_sso_flow=acme&connection=okta&return_to=/inbox", nil))
	require.Equal(t, http.StatusFound, rec.Code, rec.Body.String())
	cb, err := op.Login(rec.Header().Get("Location"), u)
	require.NoError(t, err)
	return serve(e, h, httptest.NewRequest(http.MethodGet, cb, nil))
}

func TestHandlerOIDCSignIn(t *testing.T) {
	e := newEnv(t, nil)
	op := withOIDC(t, e, true)
	h := handler(t, e, sso.HandlerConfig{})
	rec := oidcThrough(t, e, h, op, oidcUser("bob@acme.example", "Admins"))
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	assert.Equal(t, "/inbox", rec.Header().Get("Location"))
	c := cookieNamed(rec, hostSessionCookie)
	require.NotNil(t, c)
	s, err := e.svc.ValidateSession(context.Background(), c.Value)
	require.NoError(t, err)
	assert.Equal(t, "okta", s.Connection)
}

// TestHandlerStoreOutage: a store that does not answer is 503 at every
// endpoint, never a refusal.
func TestHandlerStoreOutage(t *testing.T) {
	fe := newFaultEnv(t)
	h := handler(t, fe.env, sso.HandlerConfig{})
	ar := startThrough(t, fe.env, h, "/sso/login?trigger_sso_flow=acme")
	posted, err := fe.idp.Response(fe.resp(ar.ID, alice, nil))
	require.NoError(t, err)
	fe.fail(faultstore.Fault{Method: faultstore.Any, Mode: faultstore.FailBefore})
	acs, err := fe.idp.PostRequest(fe.sp.ACSURL, posted, ar.RelayState)
	require.NoError(t, err)
	for _, req := range []*http.Request{
		acs,
		httptest.NewRequest(http.MethodGet, "/sso/login?trigger_sso_flow=acme", nil),
		httptest.NewRequest(http.MethodGet, "/sso/acme/metadata", nil),
		httptest.NewRequest(http.MethodGet, "/sso/acme/okta/metadata", nil),
		httptest.NewRequest(http.MethodGet, "/sso/acme/okta/callback?state=x&code=y", nil),
	} {
		rec := serve(fe.env, h, req)
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "%s %s: %s", req.Method, req.URL, rec.Body.String())
		assert.Contains(t, rec.Body.String(), sso.UserMessage(sso.ErrUnavailable))
	}
}

// TestHandlerRouting: what is not an endpoint is 404, a wrong method 405
// with Allow.
func TestHandlerRouting(t *testing.T) {
	e := newEnv(t, nil)
	withOIDC(t, e, true)
	h := handler(t, e, sso.HandlerConfig{})
	tests := []struct {
		method, target string
		want           int
		allow          string
	}{
		{http.MethodGet, "/sso/acme/acs", http.StatusMethodNotAllowed, "POST"},
		{http.MethodPut, "/sso/acme/okta2/acs", http.StatusMethodNotAllowed, "POST"},
		{http.MethodPost, "/sso/acme/metadata", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodPost, "/sso/acme/okta/callback", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodPost, "/sso/login", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodGet, "/sso/logout", http.StatusMethodNotAllowed, "POST"},
		{http.MethodGet, "/sso/", http.StatusNotFound, ""},
		{http.MethodGet, "/sso/acme", http.StatusNotFound, ""},
		{http.MethodGet, "/sso/acme/", http.StatusNotFound, ""},
		{http.MethodGet, "/sso/acme/settings", http.StatusNotFound, ""},
		{http.MethodGet, "/sso/acme/okta/acs/more", http.StatusNotFound, ""},
		{http.MethodGet, "/elsewhere", http.StatusNotFound, ""},
		{http.MethodGet, "/sso/nobody/metadata", http.StatusNotFound, ""},
		{http.MethodGet, "/sso/acme/nope/metadata", http.StatusNotFound, ""},
		{http.MethodGet, "/sso/acme/okta/metadata", http.StatusNotFound, ""}, // an OIDC connection has none
		{http.MethodGet, "/sso/acme/metadata", http.StatusOK, ""},
		{http.MethodHead, "/sso/acme/metadata", http.StatusOK, ""},
		{http.MethodGet, "/sso/Acme/metadata", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		rec := serve(e, h, httptest.NewRequest(tt.method, tt.target, nil))
		assert.Equal(t, tt.want, rec.Code, "%s %s", tt.method, tt.target)
		if tt.allow != "" {
			assert.Equal(t, tt.allow, rec.Header().Get("Allow"), "%s %s", tt.method, tt.target)
		}
		if tt.want == http.StatusOK {
			assert.Equal(t, "application/samlmetadata+xml", rec.Header().Get("Content-Type"))
			assert.Empty(t, rec.Header().Get("Cache-Control"), "metadata may be cached")
		}
	}
}

func TestHandlerChooser(t *testing.T) {
	e := newEnv(t, nil)
	op := withOIDC(t, e, true)
	_, err := e.svc.UpdateOrganization(context.Background(), e.org.ID, ownerID, func(o *sso.Organization) error {
		for i := range o.Connections {
			o.Connections[i].Name = `Okta "<b>"`
		}
		return nil
	})
	require.NoError(t, err)
	h := handler(t, e, sso.HandlerConfig{})

	rec := serve(e, h, httptest.NewRequest(http.MethodGet, "/sso/login?trigger_sso_flow=acme&return_to=/inbox", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	body := rec.Body.String()
	assert.Contains(t, body, html.EscapeString(sso.PrimaryConnectionName))
	assert.Contains(t, body, "Okta &#34;&lt;b&gt;&#34;", "the connection name is escaped")
	assert.NotContains(t, body, "<b>")
	assert.Empty(t, e.cookies(), "no binding cookie before a connection is chosen")
	link := `/sso/login?connection=okta&amp;return_to=%2Finbox&amp;trigger_sso_flow=acme`
	assert.Contains(t, body, `href="`+link+`"`)
	assert.Contains(t, body, `href="/sso/login?connection=&amp;return_to=%2Finbox&amp;trigger_sso_flow=acme"`)

	// Following the OIDC link goes to the provider.
	rec = serve(e, h, httptest.NewRequest(http.MethodGet, html.UnescapeString(link), nil))
	require.Equal(t, http.StatusFound, rec.Code)
	assert.True(t, strings.HasPrefix(rec.Header().Get("Location"), op.AuthorizeURL()), rec.Header().Get("Location"))
	// Following the primary link goes to the SAML IdP.
	startThrough(t, e, h, "/sso/login?connection=&trigger_sso_flow=acme")

	// The hook replaces the page.
	var got []sso.LoginChoice
	h = handler(t, e, sso.HandlerConfig{RenderChooser: func(w http.ResponseWriter, r *http.Request, name string, choices []sso.LoginChoice) {
		got = choices
		io.WriteString(w, "chooser of "+name)
	}})
	rec = serve(e, h, httptest.NewRequest(http.MethodGet, "/sso/acme/login", nil))
	assert.Equal(t, "chooser of acme", rec.Body.String())
	require.Len(t, got, 2)
	assert.Equal(t, "okta", got[1].Connection)
	assert.Equal(t, "/sso/login?connection=okta&trigger_sso_flow=acme", got[1].URL)
}

// TestHandlerTestReport: an owner's Test SSO through the Handler shows the
// report, escapes what the IdP asserted, and sets no session.
func TestHandlerTestReport(t *testing.T) {
	hostile := ssotest.User{Email: "alice@acme.example", FirstName: `<script>alert(1)</script>`, LastName: `"><img src=x onerror=alert(2)>`,
		Roles: []string{"Admins", "<i>x</i>"}}
	for _, hook := range []bool{false, true} {
		e := newEnv(t, nil)
		var got *sso.Result
		cfg := sso.HandlerConfig{}
		if hook {
			cfg.RenderTest = func(w http.ResponseWriter, r *http.Request, res *sso.Result) {
				got = res
				io.WriteString(w, "report")
			}
		}
		h := handler(t, e, cfg)
		rd := e.startTest(t)
		rec := postThrough(t, e, h, &ssotest.AuthnRequest{ID: rd.RequestID, RelayState: relayOf(t, rd)}, hostile, nil)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Nil(t, cookieNamed(rec, hostSessionCookie), "no session for a test")
		assert.Empty(t, e.cookies(), "the binding cookie is cleared")
		body := rec.Body.String()
		if hook {
			assert.Equal(t, "report", body)
			require.NotNil(t, got)
			require.NotNil(t, got.Test)
			continue
		}
		assert.Contains(t, body, "&lt;script&gt;alert(1)&lt;/script&gt;")
		assert.Contains(t, body, "&lt;i&gt;x&lt;/i&gt;")
		assert.Contains(t, body, "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;")
		for _, raw := range []string{"<script>", "<img", "<i>"} {
			assert.NotContains(t, body, raw)
		}
		assert.Contains(t, body, "alice@acme.example")
		assert.Contains(t, body, "admin", "what the mapping grants")
		assert.Contains(t, body, "<code>acme</code>")
		assert.Contains(t, rec.Header().Get("Content-Security-Policy"), "default-src 'none'")
		assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
	}
}

func TestHandlerHooks(t *testing.T) {
	e := newEnv(t, nil)
	var gotStatus int
	var gotErr error
	h := handler(t, e, sso.HandlerConfig{
		Destination: func(r *http.Request, res *sso.Result) string { return "/welcome?from=" + res.ReturnTo },
		RenderError: func(w http.ResponseWriter, r *http.Request, status int, err error) {
			gotStatus, gotErr = status, err
			w.WriteHeader(status)
			io.WriteString(w, "host error page: "+sso.ErrorCode(err))
		},
	})
	ar := startThrough(t, e, h, "/sso/login?trigger_sso_flow=acme&return_to=/x")
	rec := postThrough(t, e, h, ar, alice, nil)
	assert.Equal(t, http.StatusSeeOther, rec.Code)
	assert.Equal(t, "/welcome?from=/x", rec.Header().Get("Location"))

	rec = postThrough(t, e, h, ar, alice, nil) // its binding cookie is gone
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Equal(t, http.StatusBadRequest, gotStatus)
	assert.ErrorIs(t, gotErr, sso.ErrInvalidResponse)
	assert.Equal(t, "host error page: binding", rec.Body.String())
}

func TestHandlerLogout(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		headers map[string]string
		want    int
	}{
		{"same origin", http.MethodPost, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "https://app.example.com"}, http.StatusSeeOther},
		{"not a browser", http.MethodPost, nil, http.StatusSeeOther},
		{"origin only, same", http.MethodPost, map[string]string{"Origin": "https://app.example.com"}, http.StatusSeeOther},
		{"cross site", http.MethodPost, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, http.StatusForbidden},
		{"same site, other origin", http.MethodPost, map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "https://evil.app.example.com"}, http.StatusForbidden},
		{"origin only, other", http.MethodPost, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"GET", http.MethodGet, nil, http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			h := handler(t, e, sso.HandlerConfig{SignedOutURL: "/bye"})
			res, err := e.signIn(t, alice, nil)
			require.NoError(t, err)
			req := httptest.NewRequest(tt.method, "https://app.example.com/sso/logout", nil)
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			req.AddCookie(e.svc.SessionCookie(res))
			rec := serve(e, h, req)
			assert.Equal(t, tt.want, rec.Code, rec.Body.String())
			_, err = e.svc.ValidateSession(context.Background(), res.Token)
			c := cookieNamed(rec, hostSessionCookie)
			if tt.want != http.StatusSeeOther {
				assert.NoError(t, err, "the session survives a refused sign-out")
				assert.Nil(t, c)
				return
			}
			assert.Equal(t, "/bye", rec.Header().Get("Location"))
			assert.ErrorIs(t, err, session.ErrUnknownSession)
			require.NotNil(t, c)
			assert.Negative(t, c.MaxAge)
			assert.True(t, c.HttpOnly && c.Secure)
		})
	}
}

// TestHandlerLogoutOutage: a sign-out the store cannot record is 503 and
// keeps the cookie, so that signing out again ends the session.
func TestHandlerLogoutOutage(t *testing.T) {
	fe := newFaultEnv(t)
	h := handler(t, fe.env, sso.HandlerConfig{})
	res := fe.signedIn(t)
	fe.fail(faultstore.Fault{Method: faultstore.MethodDeleteSession, Mode: faultstore.FailBefore})
	req := httptest.NewRequest(http.MethodPost, "/sso/logout", nil)
	req.AddCookie(fe.svc.SessionCookie(res))
	rec := serve(fe.env, h, req)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Nil(t, cookieNamed(rec, hostSessionCookie))
}

func TestRequireSession(t *testing.T) {
	type want struct {
		status   int
		location string
		cleared  bool
	}
	tests := []struct {
		name   string
		method string
		target string
		cookie func(t *testing.T, e *env) *http.Cookie
		want   want
	}{
		{"no cookie", http.MethodGet, "/reports?q=1", nil,
			want{http.StatusSeeOther, "/sso/login?return_to=%2Freports%3Fq%3D1", false}},
		{"no cookie, root", http.MethodGet, "/", nil, want{http.StatusSeeOther, "/sso/login", false}},
		{"no cookie, HEAD", http.MethodHead, "/x", nil, want{http.StatusSeeOther, "/sso/login?return_to=%2Fx", false}},
		{"no cookie, POST", http.MethodPost, "/x", nil, want{http.StatusUnauthorized, "", false}},
		{"unknown token", http.MethodGet, "/x", func(t *testing.T, e *env) *http.Cookie {
			return &http.Cookie{Name: hostSessionCookie, Value: "forged"}
		}, want{http.StatusSeeOther, "/sso/login?return_to=%2Fx", true}},
		{"expired", http.MethodGet, "/x", func(t *testing.T, e *env) *http.Cookie {
			res, err := e.signIn(t, alice, nil)
			require.NoError(t, err)
			e.clock.Advance(sso.DefaultSessionTimeout)
			return e.svc.SessionCookie(res)
		}, want{http.StatusSeeOther, "/sso/login?return_to=%2Fx", true}},
		{"ended", http.MethodGet, "/x", func(t *testing.T, e *env) *http.Cookie {
			res, err := e.signIn(t, alice, nil)
			require.NoError(t, err)
			require.NoError(t, e.svc.Disable(context.Background(), e.org.ID, ownerID))
			return e.svc.SessionCookie(res)
		}, want{http.StatusSeeOther, "/sso/login?error=session_ended&return_to=%2Fx", true}},
		{"scheme-relative path is not a return path", http.MethodGet, "//evil.example/x", nil,
			want{http.StatusSeeOther, "/sso/login", false}},
		{"valid", http.MethodPost, "/x", func(t *testing.T, e *env) *http.Cookie {
			res, err := e.signIn(t, alice, nil)
			require.NoError(t, err)
			return e.svc.SessionCookie(res)
		}, want{http.StatusOK, "", false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			h := handler(t, e, sso.HandlerConfig{})
			var seen *session.Session
			app := h.RequireSession(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s, ok := sso.SessionFromContext(r.Context())
				require.True(t, ok)
				seen = s
			}))
			req := httptest.NewRequest(tt.method, "https://app.example.com/", nil)
			req.URL.Path, req.URL.RawQuery, _ = strings.Cut(tt.target, "?")
			req.RequestURI = tt.target
			if tt.cookie != nil {
				req.AddCookie(tt.cookie(t, e))
			}
			rec := httptest.NewRecorder()
			app.ServeHTTP(rec, req)
			assert.Equal(t, tt.want.status, rec.Code, rec.Body.String())
			assert.Equal(t, tt.want.location, rec.Header().Get("Location"))
			c := cookieNamed(rec, hostSessionCookie)
			assert.Equal(t, tt.want.cleared, c != nil && c.MaxAge < 0, "dead cookie cleared")
			if tt.want.status == http.StatusOK {
				require.NotNil(t, seen)
				assert.Equal(t, e.member(t, alice.Email).UserID, seen.UserID)
			} else {
				assert.Nil(t, seen)
			}
		})
	}
}

// TestRequireSessionOutage: a store that cannot answer is 503, not
// "signed out": no redirect, the cookie is kept.
func TestRequireSessionOutage(t *testing.T) {
	fe := newFaultEnv(t)
	h := handler(t, fe.env, sso.HandlerConfig{})
	res := fe.signedIn(t)
	for _, m := range []faultstore.Method{faultstore.MethodSession, faultstore.MethodOrganization, faultstore.MethodMemberByUserID} {
		fe.fail(faultstore.Fault{Method: m, Mode: faultstore.FailBefore})
		called := false
		app := h.RequireSession(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
		req := httptest.NewRequest(http.MethodGet, "/x", nil)
		req.AddCookie(fe.svc.SessionCookie(res))
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "%s fails", m)
		assert.False(t, called)
		assert.Empty(t, rec.Header().Get("Location"))
		assert.Nil(t, cookieNamed(rec, hostSessionCookie), "the cookie is kept")
	}
}

func TestSessionFromContext(t *testing.T) {
	s, ok := sso.SessionFromContext(context.Background())
	assert.False(t, ok)
	assert.Nil(t, s)
	//lint:ignore SA1012 a nil context must not panic
	s, ok = sso.SessionFromContext(nil)
	assert.False(t, ok)
	assert.Nil(t, s)
}

func TestHandlerLoginPage(t *testing.T) {
	e := newEnv(t, nil)
	h := handler(t, e, sso.HandlerConfig{})
	rec := serve(e, h, httptest.NewRequest(http.MethodGet, `/sso/login?return_to=/a"><script>&error=session_ended`, nil))
	require.Equal(t, http.StatusOK, rec.Code)
	body := rec.Body.String()
	assert.Contains(t, body, `name="trigger_sso_flow"`)
	assert.Contains(t, body, html.EscapeString(sso.MessageFor(sso.CodeSessionEnded)))
	assert.NotContains(t, body, "<script>")

	// A host with its own login page gets the browser sent there.
	h = handler(t, e, sso.HandlerConfig{LoginURL: "/signin?tab=sso"})
	rec = serve(e, h, httptest.NewRequest(http.MethodGet, "/sso/login?return_to=/a&error=session_ended", nil))
	assert.Equal(t, http.StatusFound, rec.Code)
	assert.Equal(t, "/signin?error=session_ended&return_to=%2Fa&tab=sso", rec.Header().Get("Location"))
	// What it passes on is safe: a local path, a code of ours.
	rec = serve(e, h, httptest.NewRequest(http.MethodGet, "/sso/login?return_to=//evil.example&error=%3Cb%3E", nil))
	assert.Equal(t, "/signin?return_to=%2F&tab=sso", rec.Header().Get("Location"))
}

// TestHandlerLoginByEmail: an email alone finds the organization that
// verified its domain; an unknown one is 404.
func TestHandlerLoginByEmail(t *testing.T) {
	e := newEnv(t, nil)
	h := handler(t, e, sso.HandlerConfig{})
	rec := serve(e, h, httptest.NewRequest(http.MethodGet, "/sso/login?email=ann@unknown.example", nil))
	assert.Equal(t, http.StatusNotFound, rec.Code)
}

func TestHandlerConfig(t *testing.T) {
	e := newEnv(t, nil)
	bad := []sso.HandlerConfig{
		{Prefix: "sso"},
		{Prefix: "/sso"},
		{Prefix: "sso/"},
		{Prefix: "/a/../sso/"},
		{Prefix: "//sso/"},
		{Prefix: "/{name}/"},
		{Prefix: "/s so/"},
		{LoginURL: "//evil.example/login"},
		{LoginURL: "javascript:alert(1)"},
		{LoginURL: "login"},
		{LoginURL: "https://user:pw@app.example.com/login"},
		{SignedOutURL: `/\evil.example`},
		{SignedOutURL: "ftp://x.example/"},
	}
	for _, cfg := range bad {
		_, err := e.svc.Handler(cfg)
		assert.ErrorIs(t, err, sso.ErrInvalidConfig, "%+v", cfg)
	}
	for _, cfg := range []sso.HandlerConfig{
		{Prefix: "/auth/sso/"},
		{Prefix: "/"},
		{LoginURL: "https://accounts.example.com/login?next=app", SignedOutURL: "/goodbye"},
	} {
		_, err := e.svc.Handler(cfg)
		assert.NoError(t, err, "%+v", cfg)
	}
	var nilSvc *sso.Service
	_, err := nilSvc.Handler(sso.HandlerConfig{})
	assert.ErrorIs(t, err, sso.ErrInvalidConfig)
	_, err = sso.NewHandler(sso.Config{}, sso.HandlerConfig{})
	assert.ErrorIs(t, err, sso.ErrInvalidConfig)

	// The default prefix follows the path of BaseURL, where the ACS URLs point.
	svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com/app/", Store: memory.New()})
	require.NoError(t, err)
	h, err := svc.Handler(sso.HandlerConfig{})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/app/sso/login", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), `action="/app/sso/login"`)
	assert.Same(t, svc, h.Service())
}

// TestNewSessionsDefault: without Config.Sessions the Service makes a
// Manager over its Store, on its clock; a Store that cannot keep sessions
// is a configuration error naming Sessions.
func TestNewSessionsDefault(t *testing.T) {
	e := newEnv(t, nil)
	svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: e.store, Now: e.clock.Now})
	require.NoError(t, err)
	e.svc = svc
	res, err := e.signIn(t, alice, nil)
	require.NoError(t, err)
	assert.Equal(t, testNow, res.Session.CreatedAt, "the Service's clock")
	_, err = svc.ValidateSession(context.Background(), res.Token)
	require.NoError(t, err)
	e.clock.Advance(sso.DefaultSessionTimeout)
	_, err = svc.ValidateSession(context.Background(), res.Token)
	assert.ErrorIs(t, err, session.ErrExpired)

	_, err = sso.New(sso.Config{BaseURL: "https://app.example.com", Store: struct{ sso.Store }{e.store}})
	var ce *sso.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "Sessions", ce.Field)
}

func TestStatusCodeOfHandlerErrors(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{sso.ErrUnavailable, http.StatusServiceUnavailable},
		{&sso.StoreError{Op: "Session", Err: errors.New("down")}, http.StatusServiceUnavailable},
		{sso.ErrSSORequired, http.StatusForbidden},
		{sso.ErrSSODisabled, http.StatusForbidden},
		{sso.ErrAccessDenied, http.StatusForbidden},
		{sso.ErrNotMember, http.StatusForbidden},
		{sso.ErrCrossSite, http.StatusForbidden},
		{sso.ErrUnknownOrganization, http.StatusNotFound},
		{sso.ErrUnknownConnection, http.StatusNotFound},
		{sso.ErrReplay, http.StatusBadRequest},
		{session.ErrInvalidArgument, http.StatusBadRequest},
		{&oidc.ValidationError{Check: oidc.CheckAuthorization}, http.StatusBadRequest},
		{&oidc.ValidationError{Check: oidc.CheckNonce}, http.StatusBadRequest},
		{&oidc.ValidationError{Check: oidc.CheckTokenExchange}, http.StatusBadGateway},
		{&oidc.ValidationError{Check: oidc.CheckDiscovery}, http.StatusBadGateway},
		{&oidc.ValidationError{Check: oidc.CheckKeys}, http.StatusBadGateway},
		{sso.ErrPrivateAddress, http.StatusBadGateway},
		{session.ErrExpired, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, sso.StatusCode(tt.err), "StatusCode(%v)", tt.err)
	}
}

// failingReader is a Config.Rand that cannot give randomness.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("entropy source failed") }

// TestHandlerRandFailureIs500: when the Service cannot draw a secret (its
// Config.Rand fails), starting a sign-in is the server's failure (500),
// not a bad request, and sets no binding cookie.
func TestHandlerRandFailureIs500(t *testing.T) {
	e := newEnv(t, nil)
	svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: e.store, Sessions: e.sessions, Now: e.clock.Now, Rand: failingReader{}})
	require.NoError(t, err)
	h, err := svc.Handler(sso.HandlerConfig{})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://app.example.com/sso/login?trigger_sso_flow="+e.org.SSOName, nil))
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Empty(t, rec.Result().Cookies())
}
