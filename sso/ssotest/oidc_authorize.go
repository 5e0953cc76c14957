package ssotest

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orgsso/orgsso/internal/text"
)

// AuthorizationRequest is a validated authentication request to the
// authorization endpoint (OpenID Connect Core 3.1.2.1), as an OIDCLoginFunc
// sees it.
type AuthorizationRequest struct {
	ClientID    string
	RedirectURI string // equal to one of the client's RedirectURIs
	Scopes      []string
	State       string // "" when the request had none
	Nonce       string // "" when the request had none
	// CodeChallenge is the PKCE challenge; CodeChallengeMethod is always S256.
	CodeChallenge, CodeChallengeMethod string
	// Params are all the request's parameters, as sent.
	Params url.Values
}

// OIDCLoginFunc chooses the user an authorization request signs in, as the
// provider's login page would. r is the browser's request to the
// authorization endpoint. An error refuses the login: the browser is sent
// back to the redirect URI with error=access_denied.
type OIDCLoginFunc func(r *http.Request, req *AuthorizationRequest) (User, error)

// OAuthError is an OAuth 2.0 error the provider answers with (RFC 6749 4.1.2.1
// and 5.2): Code is the error parameter ("invalid_request", "invalid_grant",
// …), Description the error_description.
type OAuthError struct {
	Code        string
	Description string
}

// Error returns "ssotest: " + Code + ": " + Description.
func (e *OAuthError) Error() string { return "ssotest: " + e.Code + ": " + e.Description }

func oauthErr(code, desc string) *OAuthError { return &OAuthError{Code: code, Description: desc} }

// oidcCode is an issued authorization code and what it is bound to.
type oidcCode struct {
	clientID, redirectURI string
	challenge, nonce      string
	scopes                []string
	user                  User
	expires               time.Time
	used                  bool
	access                string // the access token issued for it, revoked on replay
}

// maxAuthorizeForm bounds the body of a POSTed authorization request.
const maxAuthorizeForm = 64 << 10

// serveAuthorize answers the authorization endpoint: GET (query) or POST
// (form). A request that names no registered client or redirect URI gets 400
// and is not redirected; every other answer is a 302 to the redirect URI,
// with code, state and iss, or error, error_description and state.
func (op *OIDCProvider) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	if !oidcAllow(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	params := r.URL.Query()
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxAuthorizeForm)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "ssotest: cannot read the form: "+err.Error(), http.StatusBadRequest)
			return
		}
		params = r.PostForm
	}
	loc, oerr := op.authorize(params, func(req *AuthorizationRequest) (User, error) {
		op.mu.Lock()
		login := op.login
		op.mu.Unlock()
		if login == nil {
			return DefaultOIDCUser(), nil
		}
		return login(r, req)
	})
	if loc == "" {
		http.Error(w, oerr.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, loc, http.StatusFound)
}

// Login performs the authorization step for authorizeURL (the URL a relying
// party redirects the browser to: AuthorizeURL with its query) as if user
// signed in, without a browser and without the LoginFunc, and returns the URL
// the browser would be redirected to: the redirect URI with code, state and
// iss. The caller then serves that URL with its callback handler, which
// exchanges the code at the token endpoint as usual.
//
// A request the provider refuses with a redirect (missing PKCE, a scope
// without openid, …) returns that redirect (error=…) and an *OAuthError; one
// it refuses without a redirect (an unknown client_id, an unregistered
// redirect_uri, a URL that is not the authorization endpoint) returns "" and
// an *OAuthError.
func (op *OIDCProvider) Login(authorizeURL string, user User) (callbackURL string, err error) {
	u, perr := url.Parse(authorizeURL)
	if perr != nil {
		return "", oauthErr("invalid_request", "cannot parse the authorization URL: "+perr.Error())
	}
	want, _ := url.Parse(op.AuthorizeURL())
	if u.Scheme != want.Scheme || u.Host != want.Host || u.EscapedPath() != want.EscapedPath() {
		return "", oauthErr("invalid_request", "not this provider's authorization endpoint: "+u.Scheme+"://"+u.Host+u.EscapedPath())
	}
	loc, oerr := op.authorize(u.Query(), func(*AuthorizationRequest) (User, error) { return user, nil })
	if oerr != nil {
		return loc, oerr
	}
	return loc, nil
}

// authorize validates an authorization request and, when it is valid, signs
// in the user login chooses and issues a code. It returns the redirect
// location (code or error) and the error, if any; "" means the request must
// not be redirected.
func (op *OIDCProvider) authorize(q url.Values, login func(*AuthorizationRequest) (User, error)) (string, *OAuthError) {
	// Without a registered client and redirect URI, nothing is redirected
	// (RFC 6749 4.1.2.1).
	for _, name := range []string{"client_id", "redirect_uri"} {
		if len(q[name]) > 1 {
			return "", oauthErr("invalid_request", name+" is repeated")
		}
	}
	clientID, redirectURI := q.Get("client_id"), q.Get("redirect_uri")
	if clientID == "" {
		return "", oauthErr("invalid_request", "client_id is missing")
	}
	client, ok := op.clients[clientID]
	if !ok {
		return "", oauthErr("invalid_request", "client_id "+oidcQuote(clientID)+" is not registered")
	}
	if redirectURI == "" {
		return "", oauthErr("invalid_request", "redirect_uri is missing")
	}
	if !slices.Contains(client.RedirectURIs, redirectURI) {
		return "", oauthErr("invalid_request", "redirect_uri "+oidcQuote(redirectURI)+" is not registered for client "+oidcQuote(clientID))
	}

	state := q.Get("state")
	fail := func(code, desc string) (string, *OAuthError) {
		e := oauthErr(code, desc)
		return oidcWithQuery(redirectURI, "error", e.Code, "error_description", e.Description, "state", state, "iss", op.issuer), e
	}
	for name, vs := range q {
		if len(vs) > 1 {
			return fail("invalid_request", name+" is repeated")
		}
	}
	if rt := q.Get("response_type"); rt != "code" {
		return fail("unsupported_response_type", "response_type must be code, not "+oidcQuote(rt))
	}
	if rm := q.Get("response_mode"); rm != "" && rm != "query" {
		return fail("invalid_request", "response_mode must be query, not "+oidcQuote(rm))
	}
	scopes := strings.Fields(q.Get("scope"))
	if !slices.Contains(scopes, "openid") {
		return fail("invalid_scope", "scope must contain openid")
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	if challenge == "" {
		return fail("invalid_request", "code_challenge is required (PKCE)")
	}
	if method != "S256" {
		if method == "" {
			method = "plain (by default)"
		}
		return fail("invalid_request", "code_challenge_method must be S256, not "+oidcQuote(method))
	}
	if !oidcIsChallenge(challenge) {
		return fail("invalid_request", "code_challenge is not a base64url SHA-256 hash")
	}

	req := &AuthorizationRequest{
		ClientID:            clientID,
		RedirectURI:         redirectURI,
		Scopes:              scopes,
		State:               state,
		Nonce:               q.Get("nonce"),
		CodeChallenge:       challenge,
		CodeChallengeMethod: method,
		Params:              q,
	}
	user, err := login(req)
	if err != nil {
		return fail("access_denied", "login refused: "+err.Error())
	}
	code, err := op.randToken()
	if err != nil {
		return fail("server_error", "cannot make a code: "+err.Error())
	}
	user.Roles = slices.Clone(user.Roles)
	op.mu.Lock()
	now := op.now()
	for c, v := range op.codes { // forget expired codes
		if !now.Before(v.expires) {
			delete(op.codes, c)
		}
	}
	op.codes[code] = &oidcCode{
		clientID: clientID, redirectURI: redirectURI,
		challenge: challenge, nonce: req.Nonce, scopes: scopes,
		user: user, expires: now.Add(op.codeLife),
	}
	op.mu.Unlock()
	return oidcWithQuery(redirectURI, "code", code, "state", state, "iss", op.issuer), nil
}

// oidcIsChallenge reports whether s looks like an S256 code challenge: 43
// base64url characters without padding.
func oidcIsChallenge(s string) bool {
	if len(s) != 43 {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// oidcWithQuery returns base (a registered, parsable redirect URI) with the
// name/value pairs added to its query; pairs with an empty value are left
// out.
func oidcWithQuery(base string, kv ...string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	// The registered URI's own query is kept byte for byte (RFC 6749
	// 3.1.2); the parameters are appended.
	add := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			add.Set(kv[i], kv[i+1])
		}
	}
	if u.RawQuery != "" {
		u.RawQuery += "&" + add.Encode()
	} else {
		u.RawQuery = add.Encode()
	}
	return u.String()
}

// oidcQuote quotes s for an error description, cut to 100 bytes.
func oidcQuote(s string) string {
	return strconv.Quote(text.Truncate(s, 100))
}
