package oidc

import (
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"net/url"
	"strings"
	"unicode"

	"golang.org/x/oauth2"

	"github.com/orgsso/orgsso/internal/text"
)

// randomBytes is the entropy of each State, Nonce and CodeVerifier: 256 bits.
const randomBytes = 32

// AuthRequest is the start of a sign-in: redirect the browser to URL, and keep
// State, Nonce and CodeVerifier server-side, bound to that browser, until the
// callback. Storing them, binding them to the browser and using them once is
// the caller's job; Finish checks them.
type AuthRequest struct {
	URL          string // authorization endpoint URL with every parameter
	State        string // CSRF token echoed by the callback; 256 random bits, base64url
	Nonce        string // bound into the ID token; 256 random bits, base64url
	CodeVerifier string // PKCE verifier; its S256 challenge is in URL; 256 random bits, base64url
}

// AuthParams are the optional parameters of an authorization request; the
// zero value asks for none.
type AuthParams struct {
	// LoginHint asks the provider to pre-fill the sign-in with this email or
	// user name (login_hint). At most 320 bytes, no control characters.
	LoginHint string
	// Prompt sets the prompt parameter: space-separated values among
	// "none", "login", "consent" and "select_account" ("none" alone).
	Prompt string
}

// maxLoginHint bounds the login_hint parameter (an email is at most 320 bytes).
const maxLoginHint = 320

// check validates p and returns its prompt normalized.
func (p AuthParams) check() (prompt string, err error) {
	if len(p.LoginHint) > maxLoginHint || strings.IndexFunc(p.LoginHint, unicode.IsControl) >= 0 {
		return "", configErr("LoginHint", "must be at most %d bytes without control characters", maxLoginHint)
	}
	if p.Prompt == "" {
		return "", nil
	}
	vals := strings.Fields(p.Prompt)
	if len(vals) == 0 {
		return "", configErr("Prompt", "is blank")
	}
	for _, v := range vals {
		switch v {
		case "login", "consent", "select_account":
		case "none":
			if len(vals) > 1 {
				return "", configErr("Prompt", "none must be the only value")
			}
		default:
			return "", configErr("Prompt", "%q is not one of none, login, consent, select_account", text.Truncate(v, 32))
		}
	}
	return strings.Join(vals, " "), nil
}

// AuthRequest starts a sign-in: it draws State, Nonce and CodeVerifier from
// Config.Rand and builds the authorization URL (response_type=code, the
// scopes, nonce, and always the S256 PKCE challenge).
func (rp *RelyingParty) AuthRequest(p AuthParams) (*AuthRequest, error) {
	prompt, err := p.check()
	if err != nil {
		return nil, err
	}
	var vals [3]string
	for i := range vals {
		v, err := randomString(rp.s.rand)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	req := &AuthRequest{State: vals[0], Nonce: vals[1], CodeVerifier: vals[2]}
	params := []oauth2.AuthCodeOption{
		oauth2.SetAuthURLParam("nonce", req.Nonce),
		oauth2.S256ChallengeOption(req.CodeVerifier),
	}
	if p.LoginHint != "" {
		params = append(params, oauth2.SetAuthURLParam("login_hint", p.LoginHint))
	}
	if prompt != "" {
		params = append(params, oauth2.SetAuthURLParam("prompt", prompt))
	}
	req.URL = rp.oauth.AuthCodeURL(req.State, params...)
	return req, nil
}

func randomString(r io.Reader) (string, error) {
	var b [randomBytes]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("oidc: reading randomness: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// checkCallback checks the query of the redirect back from the provider
// against the pending request: an error the provider sent, the state
// (constant-time), the issuer when the provider names it (RFC 9207), and a
// code. It returns the code.
func (rp *RelyingParty) checkCallback(q url.Values, pending *AuthRequest) (string, error) {
	if code := q.Get("error"); code != "" {
		return "", &ValidationError{Check: CheckAuthorization, Reason: "the provider refused the sign-in",
			Got: text.Truncate(code, 64) + describe(q.Get("error_description"))}
	}
	if pending == nil || pending.State == "" || pending.Nonce == "" || pending.CodeVerifier == "" {
		return "", fail(CheckState, "no pending request (state, nonce and code verifier are required)")
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(pending.State)) != 1 {
		return "", fail(CheckState, "state is missing or not the one issued")
	}
	if iss, ok := q["iss"]; ok && (len(iss) != 1 || iss[0] != rp.s.Issuer) {
		return "", mismatch(CheckIssuer, "callback iss", rp.s.Issuer, strings.Join(iss, ","))
	}
	code := q.Get("code")
	if code == "" || len(q["code"]) != 1 {
		return "", fail(CheckAuthorization, "the callback has no code, or several")
	}
	return code, nil
}

func describe(desc string) string {
	if desc == "" {
		return ""
	}
	return ": " + text.Truncate(desc, 128)
}
