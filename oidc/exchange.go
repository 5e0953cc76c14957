package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"

	"golang.org/x/oauth2"

	"github.com/orgsso/orgsso/internal/text"
)

// Finish completes a sign-in from the query of the redirect back to
// RedirectURL and the pending AuthRequest the caller kept for this browser:
// it checks the callback (provider error, state, iss when present), exchanges
// the code with the PKCE verifier at the token endpoint, verifies the
// id_token of the response with VerifyIDToken and pending.Nonce, and, when
// Config.UserInfo is on, calls the userinfo endpoint.
//
// The caller must use pending once: delete it before or whatever Finish
// returns. Errors name the check; none carries the code, the verifier or
// the client secret.
func (rp *RelyingParty) Finish(ctx context.Context, callback url.Values, pending *AuthRequest) (*Claims, error) {
	code, err := rp.checkCallback(callback, pending)
	if err != nil {
		return nil, err
	}
	return rp.Exchange(ctx, code, pending.CodeVerifier, pending.Nonce)
}

// Exchange redeems an authorization code with its PKCE verifier at the token
// endpoint, verifies the id_token of the response with the nonce, and, when
// Config.UserInfo is on, calls the userinfo endpoint. Finish is Exchange after
// the callback checks; use Exchange when the host reads the callback itself.
func (rp *RelyingParty) Exchange(ctx context.Context, code, codeVerifier, nonce string) (*Claims, error) {
	if code == "" || codeVerifier == "" || nonce == "" {
		return nil, fail(CheckTokenExchange, "code, code verifier and nonce are required")
	}
	tok, err := rp.oauth.Exchange(rp.clientCtx(ctx), code, oauth2.VerifierOption(codeVerifier))
	if err != nil {
		return nil, tokenError(err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return nil, fail(CheckTokenExchange, "the token response has no id_token")
	}
	claims, err := rp.VerifyIDToken(ctx, raw, nonce)
	if err != nil {
		return nil, err
	}
	if rp.s.UserInfo {
		if err := rp.userInfo(ctx, tok, claims); err != nil {
			return nil, err
		}
	}
	return claims, nil
}

// clientCtx gives ctx the bounded HTTP client, for x/oauth2.
func (rp *RelyingParty) clientCtx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, rp.s.client)
}

// tokenError turns an x/oauth2 exchange error into a CheckTokenExchange error
// that quotes only the provider's error code and a cut of its description:
// never the response body, the code or the client secret.
func tokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := ""
		if re.Response != nil {
			status = re.Response.Status
		}
		if re.ErrorCode != "" {
			return &ValidationError{Check: CheckTokenExchange, Reason: "the provider refused the code (HTTP " + text.Truncate(status, 64) + ")",
				Got: text.Truncate(re.ErrorCode, 64) + describe(re.ErrorDescription)}
		}
		return &ValidationError{Check: CheckTokenExchange, Reason: "the token endpoint answered HTTP " + text.Truncate(status, 64)}
	}
	if isTimeout(err) {
		return &ValidationError{Check: CheckTokenExchange, Reason: "the token endpoint timed out", Err: context.DeadlineExceeded}
	}
	if errors.Is(err, errBodyTooLarge) {
		return wrapFail(CheckTokenExchange, "the token response is too large", errBodyTooLarge)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// The URL is the token endpoint; the code travels in the body.
		return wrapFail(CheckTokenExchange, "the token request failed", ue)
	}
	return fail(CheckTokenExchange, "the token response could not be read")
}

// userInfo calls the userinfo endpoint with the access token, requires its
// sub to equal the ID token's, and fills the claims the ID token lacks
// (email with its email_verified, names, roles).
func (rp *RelyingParty) userInfo(ctx context.Context, tok *oauth2.Token, c *Claims) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rp.endpoints.UserInfoURL, nil)
	if err != nil {
		return wrapFail(CheckUserInfo, "bad userinfo request", err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := rp.s.client.Do(req)
	if err != nil {
		if isTimeout(err) {
			return &ValidationError{Check: CheckUserInfo, Reason: "the userinfo endpoint timed out", Err: context.DeadlineExceeded}
		}
		return wrapFail(CheckUserInfo, "the userinfo request failed", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return wrapFail(CheckUserInfo, "the userinfo response could not be read", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fail(CheckUserInfo, "the userinfo endpoint answered HTTP "+text.Truncate(resp.Status, 64))
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		// A signed (application/jwt) userinfo response is not supported.
		return &ValidationError{Check: CheckUserInfo, Reason: "the userinfo response is not application/json", Got: text.Truncate(mt, 64)}
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return wrapFail(CheckUserInfo, "the userinfo response is not a JSON object", err)
	}
	u, err := parseClaims(raw, rp.s.RolesClaim, false)
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			return &ValidationError{Check: CheckUserInfo, Reason: "userinfo: " + ve.Reason, Want: ve.Want, Got: ve.Got}
		}
		return wrapFail(CheckUserInfo, "userinfo claims", err)
	}
	if u.Subject != c.Subject {
		return mismatch(CheckUserInfo, "userinfo sub", c.Subject, u.Subject)
	}
	if c.Email == "" && u.Email != "" {
		c.Email, c.EmailVerified = u.Email, u.EmailVerified
	}
	for _, f := range []struct{ dst, src *string }{{&c.Name, &u.Name}, {&c.GivenName, &u.GivenName}, {&c.FamilyName, &u.FamilyName}} {
		if *f.dst == "" {
			*f.dst = *f.src
		}
	}
	if c.Roles == nil {
		c.Roles = u.Roles
	}
	return nil
}
