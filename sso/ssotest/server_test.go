package ssotest_test

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// autoPost is what the IdP's page posts.
type autoPost struct{ action, samlResponse, relayState string }

var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	hiddenRe   = regexp.MustCompile(`<input type="hidden" name="(\w+)" value="([^"]*)">`)
)

func parseAutoPost(t *testing.T, body string) autoPost {
	t.Helper()
	m := formAction.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no form in page:\n%s", body)
	}
	p := autoPost{action: html.UnescapeString(m[1])}
	for _, h := range hiddenRe.FindAllStringSubmatch(body, -1) {
		switch h[1] {
		case "SAMLResponse":
			p.samlResponse = html.UnescapeString(h[2])
		case "RelayState":
			p.relayState = html.UnescapeString(h[2])
		}
	}
	return p
}

func newRedirect(t *testing.T, idp *ssotest.IdP, relayState string) *saml.AuthnRequest {
	t.Helper()
	rd, err := saml.NewAuthnRequest(saml.AuthnRequestOptions{
		SP: testSP, IdPSSOURL: idp.SSOURL(), RelayState: relayState, Now: t0, Rand: seeded(3),
	})
	if err != nil {
		t.Fatalf("NewAuthnRequest() err = %v", err)
	}
	return rd
}

func TestServeHTTPRedirectBinding(t *testing.T) {
	idp := newIdP(t)
	var seen *ssotest.AuthnRequest
	idp.SetLogin(func(r *http.Request, req *ssotest.AuthnRequest) (ssotest.User, error) {
		seen = req
		return testUser, nil
	})
	rd := newRedirect(t, idp, "/dashboard?tab=1&x=<y>")

	rec := httptest.NewRecorder()
	idp.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, rd.URL, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d; want 200: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if seen == nil || seen.ID != rd.ID || seen.Issuer != testSP.EntityID {
		t.Fatalf("LoginFunc saw %+v; want the request %s from %s", seen, rd.ID, testSP.EntityID)
	}
	body := rec.Body.String()
	if strings.Contains(body, "<y>") {
		t.Error("RelayState is not HTML-escaped")
	}
	p := parseAutoPost(t, body)
	if p.action != testSP.ACSURL {
		t.Errorf("form action = %q; want %q", p.action, testSP.ACSURL)
	}
	if p.relayState != "/dashboard?tab=1&x=<y>" {
		t.Errorf("RelayState = %q; want the request's", p.relayState)
	}
	doc := decode(t, p.samlResponse)
	if got := doc.Root().SelectAttrValue("InResponseTo", ""); got != rd.ID {
		t.Errorf("InResponseTo = %q; want %q", got, rd.ID)
	}
	if got := audience(doc).Text(); got != testSP.EntityID {
		t.Errorf("Audience = %q; want %q", got, testSP.EntityID)
	}
	if got := nameIDOf(assertionOf(doc)); got != testUser.Email {
		t.Errorf("NameID = %q; want %q", got, testUser.Email)
	}
	if err := verify(assertionOf(doc), idp.Certificate()); err != nil {
		t.Errorf("assertion signature does not verify: %v", err)
	}
}

func TestServeHTTPPostBinding(t *testing.T) {
	idp, err := ssotest.New(ssotest.Config{
		Now: fixedNow, Key: idpKey(),
		Login: func(*http.Request, *ssotest.AuthnRequest) (ssotest.User, error) { return testUser, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	// Re-encode the redirect's SAMLRequest for the POST binding: inflated.
	u, err := url.Parse(newRedirect(t, idp, "rs").URL)
	if err != nil {
		t.Fatal(err)
	}
	deflated, err := base64.StdEncoding.DecodeString(u.Query().Get("SAMLRequest"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(deflated)))
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(raw)}, "RelayState": {"rs"}}
	req := httptest.NewRequest(http.MethodPost, idp.SSOURL(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	idp.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d; want 200: %s", rec.Code, rec.Body)
	}
	if p := parseAutoPost(t, rec.Body.String()); p.relayState != "rs" || p.samlResponse == "" {
		t.Errorf("posted RelayState %q, SAMLResponse %d bytes; want rs and a response", p.relayState, len(p.samlResponse))
	}
}

func TestServeHTTPErrors(t *testing.T) {
	idp := newIdP(t)
	rd := newRedirect(t, idp, "")
	ok := func(*http.Request, *ssotest.AuthnRequest) (ssotest.User, error) { return testUser, nil }
	refuse := func(*http.Request, *ssotest.AuthnRequest) (ssotest.User, error) {
		return ssotest.User{}, errors.New("wrong password")
	}
	noUser := func(*http.Request, *ssotest.AuthnRequest) (ssotest.User, error) { return ssotest.User{}, nil }
	tests := []struct {
		name     string
		method   string
		target   string
		body     string
		login    ssotest.LoginFunc
		wantCode int
		wantBody string
	}{
		{"other path", http.MethodGet, "https://idp.example.test/other", "", ok, http.StatusNotFound, ""},
		{"method", http.MethodPut, rd.URL, "", ok, http.StatusMethodNotAllowed, ""},
		{"no SAMLRequest", http.MethodGet, idp.SSOURL(), "", ok, http.StatusBadRequest, "SAMLRequest"},
		{"garbage SAMLRequest", http.MethodGet, idp.SSOURL() + "?SAMLRequest=%%%", "", ok, http.StatusBadRequest, ""},
		{"not deflated", http.MethodGet, idp.SSOURL() + "?SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte("<x/>"))), "", ok, http.StatusBadRequest, "SAMLRequest"},
		{"POST not base64", http.MethodPost, idp.SSOURL(), "SAMLRequest=%21%21", ok, http.StatusBadRequest, "base64"},
		{"no login", http.MethodGet, rd.URL, "", nil, http.StatusForbidden, "LoginFunc"},
		{"login refused", http.MethodGet, rd.URL, "", refuse, http.StatusForbidden, "wrong password"},
		{"login gives no user", http.MethodGet, rd.URL, "", noUser, http.StatusInternalServerError, "NameID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idp.SetLogin(tt.login)
			req := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			rec := httptest.NewRecorder()
			idp.ServeHTTP(rec, req)
			if rec.Code != tt.wantCode {
				t.Errorf("status = %d; want %d (%s)", rec.Code, tt.wantCode, rec.Body)
			}
			if !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("body %q does not mention %q", rec.Body, tt.wantBody)
			}
			if rec.Code != http.StatusOK && strings.Contains(rec.Header().Get("Content-Type"), "html") {
				t.Errorf("error page is HTML: %q", rec.Header().Get("Content-Type"))
			}
		})
	}
}

func TestPostRequest(t *testing.T) {
	idp := newIdP(t)
	tests := []struct {
		name, acsURL, relayState string
		wantHost                 string
		wantTLS                  bool
	}{
		{"https with relay state", testSP.ACSURL, "/home?a=b", "app.example.com", true},
		{"http without relay state", "http://localhost:8080/sso/acme/acs", "", "localhost:8080", false},
		{"relative", "/sso/acme/acs", "x", "example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := idp.PostRequest(tt.acsURL, "PHNhbWxwOlJlc3BvbnNlLz4=", tt.relayState)
			if err != nil {
				t.Fatalf("PostRequest() err = %v", err)
			}
			if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
				t.Errorf("method %s, Content-Type %q", req.Method, req.Header.Get("Content-Type"))
			}
			if req.Host != tt.wantHost || (req.TLS != nil) != tt.wantTLS {
				t.Errorf("Host %q, TLS %t; want %q, %t", req.Host, req.TLS != nil, tt.wantHost, tt.wantTLS)
			}
			if req.RequestURI != "/sso/acme/acs" {
				t.Errorf("RequestURI = %q", req.RequestURI)
			}
			if err := req.ParseForm(); err != nil {
				t.Fatal(err)
			}
			if got := req.PostForm.Get("SAMLResponse"); got != "PHNhbWxwOlJlc3BvbnNlLz4=" {
				t.Errorf("SAMLResponse = %q", got)
			}
			_, has := req.PostForm["RelayState"]
			if has != (tt.relayState != "") || req.PostForm.Get("RelayState") != tt.relayState {
				t.Errorf("RelayState = %q (present %t); want %q", req.PostForm.Get("RelayState"), has, tt.relayState)
			}
		})
	}
	if _, err := idp.PostRequest("http://[::1", "x", ""); !errors.Is(err, ssotest.ErrBadRequestURL) {
		t.Errorf("PostRequest(bad URL) err = %v; want %v", err, ssotest.ErrBadRequestURL)
	}
}

func TestMetadata(t *testing.T) {
	idp := newIdP(t)
	md, err := idp.Metadata()
	if err != nil {
		t.Fatalf("Metadata() err = %v", err)
	}
	cfg, err := sso.ParseIdPMetadata(md)
	if err != nil {
		t.Fatalf("ParseIdPMetadata(Metadata()) err = %v\n%s", err, md)
	}
	want := idp.IdPConfig()
	if cfg.EntityID != want.EntityID || cfg.SSOURL != want.SSOURL {
		t.Errorf("parsed %q, %q; want %q, %q", cfg.EntityID, cfg.SSOURL, want.EntityID, want.SSOURL)
	}
	if len(cfg.Certificates) != 1 || strings.TrimSpace(cfg.Certificates[0]) != strings.TrimSpace(want.Certificates[0]) {
		t.Errorf("parsed certificates %q; want %q", cfg.Certificates, want.Certificates)
	}
}

// TestServeHTTPSignedRequest: a signed AuthnRequest is answered too (ssotest
// does not check request signatures).
func TestServeHTTPSignedRequest(t *testing.T) {
	idp := newIdP(t)
	idp.SetLogin(func(*http.Request, *ssotest.AuthnRequest) (ssotest.User, error) { return testUser, nil })
	rd, err := saml.NewAuthnRequest(saml.AuthnRequestOptions{
		SP: testSP, IdPSSOURL: idp.SSOURL(), RelayState: "rs", Now: t0, Rand: seeded(4),
		SigningKey: spPair(), ForceAuthn: true,
	})
	if err != nil {
		t.Fatalf("NewAuthnRequest() err = %v", err)
	}
	rec := httptest.NewRecorder()
	idp.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, rd.URL, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d; want 200: %s", rec.Code, rec.Body)
	}
	p := parseAutoPost(t, rec.Body.String())
	if got := decode(t, p.samlResponse).Root().SelectAttrValue("InResponseTo", ""); got != rd.ID || p.relayState != "rs" {
		t.Errorf("InResponseTo %q, RelayState %q; want %q, rs", got, p.relayState, rd.ID)
	}
}
