package ssotest

import (
	"bytes"
	"compress/flate"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/orgsso/orgsso/sso"
)

// maxPostBody bounds the body of an HTTP-POST binding AuthnRequest.
const maxPostBody = 1 << 20

// LoginFunc chooses the user an AuthnRequest signs in, as the IdP's login page
// would. r is the browser's request to the SSO URL; req the decoded
// AuthnRequest. An error refuses the login: ServeHTTP answers 403 with it.
type LoginFunc func(r *http.Request, req *AuthnRequest) (User, error)

// SetLogin replaces the function that chooses who signs in (Config.Login). It
// is safe to call while ServeHTTP runs; nil refuses every login.
func (idp *IdP) SetLogin(f LoginFunc) {
	idp.loginMu.Lock()
	defer idp.loginMu.Unlock()
	idp.login = f
}

func (idp *IdP) currentLogin() LoginFunc {
	idp.loginMu.Lock()
	defer idp.loginMu.Unlock()
	return idp.login
}

// autoPost is the page that posts the response to the ACS URL, as an IdP's
// HTTP-POST binding does. html/template escapes every value.
const autoPost = `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>Signing in</title></head>
<body onload="document.forms[0].submit()">
<form method="post" action="{{.ACSURL}}">
<input type="hidden" name="SAMLResponse" value="{{.SAMLResponse}}">
{{- if .RelayState}}
<input type="hidden" name="RelayState" value="{{.RelayState}}">
{{- end}}
<noscript><button type="submit">Continue</button></noscript>
</form>
</body>
</html>
`

type autoPostData struct{ ACSURL, SAMLResponse, RelayState string }

// ServeHTTP makes the IdP an http.Handler for its SSO URL path (other paths
// get 404). It decodes an AuthnRequest sent with the HTTP-Redirect binding
// (GET) or the HTTP-POST binding (POST) with ParseAuthnRequest (request
// signatures are not checked), asks the LoginFunc who signs in, and answers
// with an HTML page whose form posts the signed SAMLResponse and the
// RelayState to the request's AssertionConsumerServiceURL, submitted by script
// on load. The response is the default Response for that SP (Audience = the
// request's Issuer), answering the request's ID.
//
// A bad request gets 400, a refused or unconfigured login 403, each with the
// reason in plain text. ssotest knows no SP metadata: it trusts the ACS URL
// the request names, as only a test IdP may.
func (idp *IdP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.EscapedPath() != idp.ssoPath {
		http.NotFound(w, r)
		return
	}
	var query url.Values
	switch r.Method {
	case http.MethodGet:
		query = r.URL.Query()
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, maxPostBody)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "ssotest: cannot read the form: "+err.Error(), http.StatusBadRequest)
			return
		}
		q, err := postToRedirect(r.PostForm)
		if err != nil {
			http.Error(w, "ssotest: "+err.Error(), http.StatusBadRequest)
			return
		}
		query = q
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "ssotest: method not allowed", http.StatusMethodNotAllowed)
		return
	}

	req, err := ParseAuthnRequest(query, nil)
	if err != nil {
		http.Error(w, "ssotest: "+err.Error(), http.StatusBadRequest)
		return
	}
	if req.ACSURL == "" {
		http.Error(w, "ssotest: the AuthnRequest names no AssertionConsumerServiceURL", http.StatusBadRequest)
		return
	}
	if req.ProtocolBinding != "" && req.ProtocolBinding != bindingPOST {
		http.Error(w, "ssotest: unsupported ProtocolBinding "+req.ProtocolBinding+"; only HTTP-POST", http.StatusBadRequest)
		return
	}

	login := idp.currentLogin()
	if login == nil {
		http.Error(w, "ssotest: no LoginFunc is set (Config.Login or SetLogin)", http.StatusForbidden)
		return
	}
	user, err := login(r, req)
	if err != nil {
		http.Error(w, "ssotest: login refused: "+err.Error(), http.StatusForbidden)
		return
	}

	samlResponse, err := idp.Response(Response{
		SP:           sso.SPDetails{EntityID: req.Issuer, ACSURL: req.ACSURL, NameIDFormat: req.NameIDFormat},
		InResponseTo: req.ID,
		User:         user,
	})
	if err != nil {
		http.Error(w, "ssotest: cannot build the response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	var page bytes.Buffer
	if err := idp.page.Execute(&page, autoPostData{ACSURL: req.ACSURL, SAMLResponse: samlResponse, RelayState: req.RelayState}); err != nil {
		http.Error(w, "ssotest: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(page.Bytes())
}

// postToRedirect turns the form of an HTTP-POST binding AuthnRequest (plain
// base64) into the query of the HTTP-Redirect binding (deflated base64), so
// ParseAuthnRequest decodes both. Repeated parameters stay repeated, for
// the parser to refuse.
func postToRedirect(form url.Values) (url.Values, error) {
	q := url.Values{}
	if vs, ok := form["RelayState"]; ok {
		q["RelayState"] = vs
	}
	for _, v := range form["SAMLRequest"] {
		raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(v), ""))
		if err != nil {
			return nil, fmt.Errorf("SAMLRequest is not base64: %w", err)
		}
		var buf bytes.Buffer
		zw, err := flate.NewWriter(&buf, flate.DefaultCompression)
		if err != nil {
			return nil, err
		}
		if _, err := zw.Write(raw); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		q.Add("SAMLRequest", base64.StdEncoding.EncodeToString(buf.Bytes()))
	}
	return q, nil
}

// ErrBadRequestURL is wrapped by the error PostRequest returns for an ACS URL
// it cannot parse.
var ErrBadRequestURL = errors.New("ssotest: invalid ACS URL")

// PostRequest returns the request a browser sends to an ACS URL when an IdP's
// auto-post form submits: POST, Content-Type
// application/x-www-form-urlencoded, fields SAMLResponse and (when not empty)
// RelayState. Like httptest.NewRequest, it is an incoming server request, for
// calling a handler directly: RequestURI and RemoteAddr (192.0.2.1:1234) are
// set, Host defaults to example.com for a relative URL, and an https URL gets a
// TLS connection state. cookies are what the browser sends with the POST: the
// sign-in's browser-binding cookie (sso.Redirect.Cookie), without which
// HandleACS refuses an SP-initiated response; nil ones are skipped.
func (idp *IdP) PostRequest(acsURL, samlResponse, relayState string, cookies ...*http.Cookie) (*http.Request, error) {
	form := url.Values{"SAMLResponse": {samlResponse}}
	if relayState != "" {
		form.Set("RelayState", relayState)
	}
	req, err := http.NewRequest(http.MethodPost, acsURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrBadRequestURL, acsURL, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RequestURI = req.URL.RequestURI()
	req.RemoteAddr = "192.0.2.1:1234"
	for _, c := range cookies {
		if c != nil {
			req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	if req.Host == "" {
		req.Host = "example.com"
	}
	if req.URL.Scheme == "https" {
		req.TLS = &tls.ConnectionState{Version: tls.VersionTLS12, HandshakeComplete: true, ServerName: req.URL.Hostname()}
	}
	return req, nil
}
