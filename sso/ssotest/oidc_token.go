package ssotest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// oidcAccess is an issued access token.
type oidcAccess struct {
	clientID string
	scopes   []string
	user     User
	expires  time.Time
	// emailVerified is the ID token's email_verified knob: userinfo says
	// the same as the ID token it came with.
	emailVerified EmailVerified
}

// maxTokenForm bounds the body of a token request.
const maxTokenForm = 64 << 10

// oidcTokenJSON is the token endpoint's successful answer.
type oidcTokenJSON struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
	IDToken     string `json:"id_token,omitempty"`
}

// oidcErrorJSON is an OAuth error answer (RFC 6749 5.2).
type oidcErrorJSON struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// serveToken answers the token endpoint: the authorization_code grant, with
// client_secret_basic or client_secret_post. The checks, in order: one
// authentication method, a registered client and its secret (invalid_client,
// 401), grant_type (unsupported_grant_type), then the code: known, not used
// before (a replay revokes the access token the code gave), not expired,
// issued to this client, for this redirect_uri, and the PKCE code_verifier
// (each invalid_grant). Any exchange by an authenticated client uses the code
// up, so a wrong verifier cannot be retried.
func (op *OIDCProvider) serveToken(w http.ResponseWriter, r *http.Request) {
	if !oidcAllow(w, r, http.MethodPost) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenForm)
	if err := r.ParseForm(); err != nil {
		oidcTokenError(w, oauthErr("invalid_request", "cannot read the form: "+err.Error()), false)
		return
	}
	form := r.PostForm
	for name, vs := range form {
		if len(vs) > 1 {
			oidcTokenError(w, oauthErr("invalid_request", name+" is repeated"), false)
			return
		}
	}
	client, basic, oerr := op.authenticate(r, form)
	if oerr != nil {
		oidcTokenError(w, oerr, basic)
		return
	}
	if gt := form.Get("grant_type"); gt != "authorization_code" {
		oidcTokenError(w, oauthErr("unsupported_grant_type", "grant_type must be authorization_code, not "+oidcQuote(gt)), false)
		return
	}
	access, err := op.randToken()
	if err != nil {
		oidcTokenError(w, oauthErr("server_error", "cannot make an access token: "+err.Error()), false)
		return
	}
	code, oerr := op.redeem(client.ID, form, access)
	if oerr != nil {
		oidcTokenError(w, oerr, false)
		return
	}

	knobs := op.takeNext()
	if knobs.Error != "" {
		op.mu.Lock()
		delete(op.tokens, access)
		op.mu.Unlock()
		oidcTokenError(w, oauthErr(knobs.Error, "refused on demand (ssotest NextToken)"), false)
		return
	}
	op.mu.Lock()
	if at := op.tokens[access]; at != nil {
		// Userinfo answers as the ID token does: the email knobs apply to
		// both, so a relying party that reads userinfo is tested too.
		at.emailVerified = knobs.IDToken.EmailVerified
		if v, ok := knobs.IDToken.Claims["email"]; ok {
			at.user.Email, _ = v.(string)
		}
	}
	op.mu.Unlock()

	resp := oidcTokenJSON{
		AccessToken: access,
		TokenType:   "Bearer",
		ExpiresIn:   int64(op.idLifetime / time.Second),
		Scope:       strings.Join(code.scopes, " "),
	}
	if !knobs.OmitIDToken {
		grant := oidcGrant{clientID: client.ID, nonce: code.nonce, scopes: code.scopes, user: code.user, accessToken: access}
		if resp.IDToken, err = op.idToken(grant, knobs.IDToken); err != nil {
			oidcTokenError(w, oauthErr("server_error", err.Error()), false)
			return
		}
	}
	w.Header().Set("Pragma", "no-cache")
	oidcJSON(w, http.StatusOK, resp)
}

// authenticate returns the client a token request authenticates as, and
// whether it used HTTP Basic (client_secret_basic).
func (op *OIDCProvider) authenticate(r *http.Request, form url.Values) (OIDCClient, bool, *OAuthError) {
	id, secret, basic := r.BasicAuth()
	if basic {
		if form.Has("client_secret") {
			return OIDCClient{}, true, oauthErr("invalid_request", "more than one client authentication method")
		}
		// RFC 6749 2.3.1: both are form-urlencoded before Basic encoding.
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return OIDCClient{}, true, oauthErr("invalid_client", "Basic credentials are not form-urlencoded")
		}
		if fid := form.Get("client_id"); fid != "" && fid != id {
			return OIDCClient{}, true, oauthErr("invalid_client", "client_id differs from the Basic credentials")
		}
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
		if id == "" || secret == "" {
			return OIDCClient{}, false, oauthErr("invalid_client", "no client authentication (client_secret_basic or client_secret_post)")
		}
	}
	c, ok := op.clients[id]
	if !ok || subtle.ConstantTimeCompare([]byte(secret), []byte(string(c.Secret))) != 1 {
		return OIDCClient{}, basic, oauthErr("invalid_client", "unknown client or wrong secret")
	}
	return c, basic, nil
}

// redeem uses up the code of form for clientID and, when the exchange is
// valid, issues the access token access for it (revoked if the code is
// replayed) and returns the code.
func (op *OIDCProvider) redeem(clientID string, form url.Values, access string) (oidcCode, *OAuthError) {
	op.mu.Lock()
	defer op.mu.Unlock()
	c, ok := op.codes[form.Get("code")]
	if !ok || form.Get("code") == "" {
		return oidcCode{}, oauthErr("invalid_grant", "unknown authorization code")
	}
	if c.used {
		delete(op.tokens, c.access) // RFC 6749 4.1.2: revoke what the code gave
		return oidcCode{}, oauthErr("invalid_grant", "authorization code already used")
	}
	c.used = true
	switch {
	case !op.now().Before(c.expires):
		return oidcCode{}, oauthErr("invalid_grant", "authorization code expired")
	case c.clientID != clientID:
		return oidcCode{}, oauthErr("invalid_grant", "authorization code was issued to another client")
	case form.Get("redirect_uri") != c.redirectURI:
		return oidcCode{}, oauthErr("invalid_grant", "redirect_uri differs from the authorization request's")
	}
	verifier := form.Get("code_verifier")
	if verifier == "" {
		return oidcCode{}, oauthErr("invalid_grant", "code_verifier is missing (PKCE)")
	}
	if !oidcIsVerifier(verifier) {
		return oidcCode{}, oauthErr("invalid_grant", "code_verifier is not 43-128 unreserved characters")
	}
	sum := sha256.Sum256([]byte(verifier))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(c.challenge)) != 1 {
		return oidcCode{}, oauthErr("invalid_grant", "code_verifier does not match the code_challenge")
	}
	c.access = access
	op.tokens[access] = &oidcAccess{clientID: clientID, scopes: c.scopes, user: c.user, expires: op.now().Add(op.idLifetime)}
	return *c, nil
}

// oidcIsVerifier reports whether s is a valid PKCE code verifier (RFC 7636
// 4.1).
func oidcIsVerifier(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~", c)) {
			return false
		}
	}
	return true
}

// oidcTokenError writes an OAuth error answer: 401 for invalid_client (with a
// Basic challenge when the client used Basic), else 400.
func oidcTokenError(w http.ResponseWriter, e *OAuthError, basic bool) {
	status := http.StatusBadRequest
	if e.Code == "invalid_client" {
		status = http.StatusUnauthorized
		if basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="ssotest"`)
		}
	}
	w.Header().Set("Pragma", "no-cache")
	oidcJSON(w, status, oidcErrorJSON{Error: e.Code, Description: e.Description})
}

// serveUserinfo answers the userinfo endpoint (GET or POST) for a bearer
// access token in the Authorization header: the claims the token's scopes
// grant (sub always), as JSON. A missing, unknown, expired or revoked token
// gets 401 with a Bearer challenge.
func (op *OIDCProvider) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	if !oidcAllow(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ssotest"`)
		oidcJSON(w, http.StatusUnauthorized, oidcErrorJSON{Error: "invalid_request", Description: "no bearer access token"})
		return
	}
	op.mu.Lock()
	at, ok := op.tokens[token]
	if ok && !op.now().Before(at.expires) {
		delete(op.tokens, token)
		ok = false
	}
	op.mu.Unlock()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ssotest", error="invalid_token"`)
		oidcJSON(w, http.StatusUnauthorized, oidcErrorJSON{Error: "invalid_token", Description: "unknown, expired or revoked access token"})
		return
	}
	oidcJSON(w, http.StatusOK, op.userClaims(at.user, at.scopes, at.emailVerified))
}
