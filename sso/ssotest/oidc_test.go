package ssotest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// The happy path passes go-oidc's verification and the test RP's checks, for
// both algorithms, and the claims are the user's.
func TestOIDCSignIn(t *testing.T) {
	for _, tc := range []struct {
		name       string
		cfg        ssotest.OIDCConfig
		rolesClaim string
	}{
		{"RS256 groups", ssotest.OIDCConfig{}, "groups"},
		{"ES256 roles", ssotest.OIDCConfig{Algorithm: ssotest.ES256, RolesClaim: "roles"}, "roles"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newOIDCEnv(t, tc.cfg)
			tok, idt, err := env.signIn(t)
			if err != nil {
				t.Fatalf("signIn() err = %v; want nil", err)
			}
			var c map[string]any
			if err := idt.Claims(&c); err != nil {
				t.Fatal(err)
			}
			u := ssotest.DefaultOIDCUser()
			want := map[string]any{
				"iss": env.srv.URL, "sub": u.NameID, "email": u.Email, "email_verified": true,
				"name": "Ada Lovelace", "given_name": "Ada", "family_name": "Lovelace",
				"iat": float64(t0.Unix()), "exp": float64(t0.Add(ssotest.DefaultIDTokenLifetime).Unix()),
			}
			for k, v := range want {
				if c[k] != v {
					t.Errorf("claim %s = %v; want %v", k, c[k], v)
				}
			}
			if got := idt.Audience; !slices.Equal(got, []string{rpClientID}) {
				t.Errorf("aud = %v; want [%s]", got, rpClientID)
			}
			if roles, _ := json.Marshal(c[tc.rolesClaim]); string(roles) != `["engineering"]` {
				t.Errorf("claim %s = %s; want [\"engineering\"]", tc.rolesClaim, roles)
			}
			if _, ok := c["azp"]; ok {
				t.Errorf("azp present by default: %v", c["azp"])
			}
			if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
				t.Errorf("VerifyAccessToken() (at_hash) err = %v", err)
			}
			ui, err := env.provider.UserInfo(env.ctx, oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatalf("UserInfo() err = %v", err)
			}
			if ui.Subject != u.NameID || ui.Email != u.Email || !ui.EmailVerified {
				t.Errorf("UserInfo = %+v; want sub %s, email %s verified", ui, u.NameID, u.Email)
			}
			if tok.TokenType != "Bearer" || tok.Extra("scope") != "openid email profile" {
				t.Errorf("token type %q scope %v; want Bearer, openid email profile", tok.TokenType, tok.Extra("scope"))
			}
		})
	}
}

// The authorization response echoes state, carries iss (RFC 9207), and the
// nonce reaches the ID token; scopes decide the email and profile claims.
func TestOIDCAuthorizeResponse(t *testing.T) {
	env := newOIDCEnv(t, ssotest.OIDCConfig{})
	env.conf.Scopes = []string{oidc.ScopeOpenID}
	f := newFlow()
	cb := env.authorize(t, f)
	if got := cb.Scheme + "://" + cb.Host + cb.Path; got != rpRedirectURI {
		t.Errorf("redirect to %s; want %s", got, rpRedirectURI)
	}
	if q := cb.Query(); q.Get("iss") != env.srv.URL || q.Get("code") == "" {
		t.Errorf("callback query = %v; want iss %s and a code", q, env.srv.URL)
	}
	_, idt, err := env.callback(t, f, cb)
	if err != nil {
		t.Fatalf("callback() err = %v", err)
	}
	if idt.Nonce != f.nonce {
		t.Errorf("nonce = %q; want %q", idt.Nonce, f.nonce)
	}
	var c map[string]any
	_ = idt.Claims(&c)
	for _, k := range []string{"email", "email_verified", "name", "given_name"} {
		if _, ok := c[k]; ok {
			t.Errorf("claim %s present with scope openid alone", k)
		}
	}
	if c["sub"] == nil || c["groups"] == nil {
		t.Errorf("claims %v; want sub and groups", c)
	}
}

// Each knob breaks one check of the ID token or the token response; the
// relying party (go-oidc, or the test RP's own check where go-oidc makes
// none) refuses it. The next sign-in is valid again.
func TestOIDCKnobs(t *testing.T) {
	later := t0.Add(time.Hour)
	for _, tc := range []struct {
		name  string
		knobs ssotest.TokenResponse
		algs  []string // the RP's accepted algorithms; nil = discovery's
		check string   // the check that refuses it
		// want: an error the RP's error wraps, or text go-oidc's contains.
		wantErr  error
		wantText string
		wantCode string // the token endpoint's OAuth error code
	}{
		{name: "wrong issuer", knobs: ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Issuer: "https://evil.example.test"}},
			check: "go-oidc iss", wantText: "id token issued by a different provider"},
		{name: "audience of another client", knobs: ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Audience: []string{rpOtherClient}}},
			check: "go-oidc aud", wantText: "expected audience"},
		{name: "extra audience without azp", knobs: ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Audience: []string{rpClientID, rpOtherClient}}},
			check: "RP azp (go-oidc accepts)", wantErr: errAZP},
		{name: "azp of another client", knobs: ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{AuthorizedParty: rpOtherClient}},
			check: "RP azp (go-oidc accepts)", wantErr: errAZP},
		{name: "expired", knobs: ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Expiry: t0.Add(-time.Second)}},
			check: "go-oidc exp", wantErr: new(oidc.TokenExpiredError)},
		{name: "iat in the future", knobs: ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{IssuedAt: later}},
			check: "RP iat (go-oidc accepts)", wantErr: errIssuedAt},
		{name: "nbf in the future", knobs: ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{NotBefore: later}},
			check: "go-oidc nbf", wantText: "before the nbf"},
		{name: "nonce missing", knobs: ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{OmitNonce: true}},
			check: "RP nonce", wantErr: errNonce},
		{name: "nonce wrong", knobs: ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Nonce: "not-the-nonce"}},
			check: "RP nonce", wantErr: errNonce},
		{name: "email_verified false", knobs: ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{EmailVerified: ssotest.EmailVerifiedFalse}},
			check: "RP email_verified", wantErr: errEmailVerified},
		{name: "email_verified absent", knobs: ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{EmailVerified: ssotest.EmailVerifiedAbsent}},
			check: "RP email_verified", wantErr: errEmailVerified},
		{name: "email_verified string", knobs: ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{EmailVerified: ssotest.EmailVerifiedString}},
			check: "RP email_verified", wantErr: errEmailVerified},
		{name: "signed by another key", knobs: ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Signing: ssotest.JWTOtherKey}},
			check: "go-oidc signature", wantText: "failed to verify signature"},
		{name: "embedded jwk", knobs: ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Signing: ssotest.JWTEmbeddedJWK}},
			check: "go-oidc signature (jwk header ignored)", wantText: "failed to verify signature"},
		{name: "foreign jku", knobs: ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Signing: ssotest.JWTForeignJKU}},
			check: "go-oidc signature (jku header ignored)", wantText: "failed to verify signature"},
		{name: "alg none", knobs: ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Signing: ssotest.JWTAlgNone}},
			check: "go-oidc alg allow-list", wantText: "malformed jwt"},
		{name: "HS256 with the public key", knobs: ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Signing: ssotest.JWTHS256PublicKey}},
			check: "go-oidc alg allow-list", wantText: "malformed jwt"},
		{name: "HS256 with the public key, RP allows HS256", knobs: ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Signing: ssotest.JWTHS256PublicKey}},
			algs: []string{"RS256", "HS256"}, check: "go-oidc key type (an RSA JWK cannot verify HMAC)", wantText: "failed to verify signature"},
		{name: "alg mismatch", knobs: ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Signing: ssotest.JWTAlgMismatch}},
			check: "go-oidc alg allow-list", wantText: "malformed jwt"},
		{name: "alg mismatch, RP allows both", knobs: ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Signing: ssotest.JWTAlgMismatch}},
			algs: []string{"RS256", "ES256"}, check: "go-oidc signature (ES256 against the RSA JWK)", wantText: "failed to verify signature"},
		{name: "token endpoint error", knobs: ssotest.TokenResponse{Error: "invalid_grant"},
			check: "Exchange", wantCode: "invalid_grant"},
		{name: "no id_token", knobs: ssotest.TokenResponse{OmitIDToken: true},
			check: "RP id_token presence", wantErr: errNoIDToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newOIDCEnv(t, ssotest.OIDCConfig{})
			if tc.algs != nil {
				env.verifier = env.provider.Verifier(&oidc.Config{ClientID: rpClientID, Now: env.clock.Now, SupportedSigningAlgs: tc.algs})
			}
			env.op.NextToken(tc.knobs)
			_, _, err := env.signIn(t)
			switch {
			case err == nil:
				t.Fatalf("signIn() err = nil; want refused by %s", tc.check)
			case tc.wantCode != "":
				if got := retrieveCode(err); got != tc.wantCode {
					t.Errorf("signIn() err = %v; want OAuth error %s (%s)", err, tc.wantCode, tc.check)
				}
			case tc.wantErr != nil:
				var expired *oidc.TokenExpiredError
				if errors.As(tc.wantErr, &expired) {
					if !errors.As(err, &expired) {
						t.Errorf("signIn() err = %v; want *oidc.TokenExpiredError (%s)", err, tc.check)
					}
				} else if !errors.Is(err, tc.wantErr) {
					t.Errorf("signIn() err = %v; want %v (%s)", err, tc.wantErr, tc.check)
				}
			default:
				if !strings.Contains(err.Error(), tc.wantText) {
					t.Errorf("signIn() err = %v; want one containing %q (%s)", err, tc.wantText, tc.check)
				}
			}
			if _, _, err := env.signIn(t); err != nil {
				t.Errorf("the sign-in after the knobs: err = %v; want nil (knobs are one-shot)", err)
			}
		})
	}
}

// Each signing knob makes the header a relying party must distrust.
func TestOIDCKnobHeaders(t *testing.T) {
	env := newOIDCEnv(t, ssotest.OIDCConfig{})
	kid := env.op.KeyID()
	for _, tc := range []struct {
		signing ssotest.JWTSigning
		want    map[string]any // header members; "*" = present, nil = absent
	}{
		{ssotest.JWTSigned, map[string]any{"alg": "RS256", "kid": kid, "typ": "JWT", "jwk": nil, "jku": nil}},
		{ssotest.JWTOtherKey, map[string]any{"alg": "RS256", "kid": "*other", "jwk": nil}},
		{ssotest.JWTEmbeddedJWK, map[string]any{"alg": "RS256", "kid": kid, "jwk": "*"}},
		{ssotest.JWTForeignJKU, map[string]any{"alg": "RS256", "kid": "*other", "jku": ssotest.DefaultJKU}},
		{ssotest.JWTAlgNone, map[string]any{"alg": "none", "kid": kid}},
		{ssotest.JWTHS256PublicKey, map[string]any{"alg": "HS256", "kid": kid}},
		{ssotest.JWTAlgMismatch, map[string]any{"alg": "ES256", "kid": kid}},
	} {
		t.Run(tc.signing.String(), func(t *testing.T) {
			raw, err := env.op.IDToken(rpClientID, "n", ssotest.DefaultOIDCUser(), ssotest.IDTokenOptions{Signing: tc.signing})
			if err != nil {
				t.Fatalf("IDToken() err = %v", err)
			}
			parts := strings.Split(raw, ".")
			if len(parts) != 3 {
				t.Fatalf("%d parts; want 3", len(parts))
			}
			if tc.signing == ssotest.JWTAlgNone && parts[2] != "" {
				t.Errorf("alg none token has a signature %q", parts[2])
			}
			h := decodeSegment(t, parts[0])
			for k, v := range tc.want {
				switch {
				case v == nil:
					if _, ok := h[k]; ok {
						t.Errorf("header %s = %v; want absent", k, h[k])
					}
				case v == "*":
					if _, ok := h[k]; !ok {
						t.Errorf("header %s absent; want present", k)
					}
				case v == "*other":
					if h[k] == nil || h[k] == kid {
						t.Errorf("header %s = %v; want another key's kid", k, h[k])
					}
				case h[k] != v:
					t.Errorf("header %s = %v; want %v", k, h[k], v)
				}
			}
			for _, k := range env.op.JWKS().Keys {
				if k.KeyID == h["kid"] && tc.signing == ssotest.JWTOtherKey {
					t.Errorf("the JWKS holds the other key's kid %v", h["kid"])
				}
			}
		})
	}
}

// A code is single-use: a replay gets invalid_grant and revokes the access
// token the code gave.
func TestOIDCCodeReplay(t *testing.T) {
	env := newOIDCEnv(t, ssotest.OIDCConfig{})
	f := newFlow()
	cb := env.authorize(t, f)
	tok, _, err := env.callback(t, f, cb)
	if err != nil {
		t.Fatalf("first exchange err = %v", err)
	}
	_, err = env.conf.Exchange(env.ctx, cb.Query().Get("code"), oauth2.VerifierOption(f.verifier))
	if got := retrieveCode(err); got != "invalid_grant" {
		t.Errorf("replayed code: err = %v; want invalid_grant", err)
	}
	if _, err := env.provider.UserInfo(env.ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Errorf("UserInfo with the access token of a replayed code: err = nil; want refused (revoked)")
	}
}

// The token endpoint binds the code to its client, redirect URI, PKCE
// verifier and lifetime.
func TestOIDCExchangeChecks(t *testing.T) {
	for _, tc := range []struct {
		name     string
		exchange func(e *oidcEnv, code string, f flow) error
		wantCode string
	}{
		{"valid", func(e *oidcEnv, code string, f flow) error {
			_, err := e.conf.Exchange(e.ctx, code, oauth2.VerifierOption(f.verifier))
			return err
		}, ""},
		{"wrong verifier", func(e *oidcEnv, code string, _ flow) error {
			_, err := e.conf.Exchange(e.ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
			return err
		}, "invalid_grant"},
		{"no verifier", func(e *oidcEnv, code string, _ flow) error {
			_, err := e.conf.Exchange(e.ctx, code)
			return err
		}, "invalid_grant"},
		{"verifier too short", func(e *oidcEnv, code string, _ flow) error {
			_, err := e.conf.Exchange(e.ctx, code, oauth2.VerifierOption("short"))
			return err
		}, "invalid_grant"},
		{"another client", func(e *oidcEnv, code string, f flow) error {
			c := e.conf
			c.ClientID, c.ClientSecret = rpOtherClient, "other-secret"
			_, err := c.Exchange(e.ctx, code, oauth2.VerifierOption(f.verifier))
			return err
		}, "invalid_grant"},
		{"another redirect_uri", func(e *oidcEnv, code string, f flow) error {
			c := e.conf
			c.RedirectURL = rpRedirectURI + "/x"
			_, err := c.Exchange(e.ctx, code, oauth2.VerifierOption(f.verifier))
			return err
		}, "invalid_grant"},
		{"expired code", func(e *oidcEnv, code string, f flow) error {
			e.clock.Advance(ssotest.DefaultCodeLifetime)
			_, err := e.conf.Exchange(e.ctx, code, oauth2.VerifierOption(f.verifier))
			return err
		}, "invalid_grant"},
		{"unknown code", func(e *oidcEnv, _ string, f flow) error {
			_, err := e.conf.Exchange(e.ctx, "not-a-code", oauth2.VerifierOption(f.verifier))
			return err
		}, "invalid_grant"},
		{"wrong secret", func(e *oidcEnv, code string, f flow) error {
			c := e.conf
			c.ClientSecret = "wrong"
			_, err := c.Exchange(e.ctx, code, oauth2.VerifierOption(f.verifier))
			return err
		}, "invalid_client"},
		{"client_secret_basic", func(e *oidcEnv, code string, f flow) error {
			c := e.conf
			c.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
			_, err := c.Exchange(e.ctx, code, oauth2.VerifierOption(f.verifier))
			return err
		}, ""},
		{"client_secret_post", func(e *oidcEnv, code string, f flow) error {
			c := e.conf
			c.Endpoint.AuthStyle = oauth2.AuthStyleInParams
			_, err := c.Exchange(e.ctx, code, oauth2.VerifierOption(f.verifier))
			return err
		}, ""},
		{"both methods", func(e *oidcEnv, code string, f flow) error {
			form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpRedirectURI},
				"code_verifier": {f.verifier}, "client_id": {rpClientID}, "client_secret": {rpSecret}}
			req, _ := http.NewRequest(http.MethodPost, e.op.TokenURL(), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(rpClientID, rpSecret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			var body struct{ Error string }
			_ = json.NewDecoder(resp.Body).Decode(&body)
			return &oauth2.RetrieveError{ErrorCode: body.Error}
		}, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newOIDCEnv(t, ssotest.OIDCConfig{})
			f := newFlow()
			code := env.authorize(t, f).Query().Get("code")
			err := tc.exchange(env, code, f)
			if got := retrieveCode(err); got != tc.wantCode || (tc.wantCode == "" && err != nil) {
				t.Errorf("Exchange() err = %v; want OAuth error %q", err, tc.wantCode)
			}
		})
	}
}

// The authorization endpoint refuses, with a redirect carrying the error and
// the state, a request it can answer; and without a redirect one whose client
// or redirect URI is not registered.
func TestOIDCAuthorizeRefusals(t *testing.T) {
	for _, tc := range []struct {
		name      string
		edit      func(u string) string
		login     ssotest.OIDCLoginFunc
		wantError string // the error parameter; "" = 400 without redirect
	}{
		{name: "PKCE plain", edit: func(u string) string { return withParam(u, "code_challenge_method", "plain") }, wantError: "invalid_request"},
		{name: "PKCE method missing (plain by default)", edit: func(u string) string { return withoutParam(u, "code_challenge_method") }, wantError: "invalid_request"},
		{name: "PKCE missing", edit: func(u string) string { return withoutParam(withoutParam(u, "code_challenge"), "code_challenge_method") }, wantError: "invalid_request"},
		{name: "challenge malformed", edit: func(u string) string { return withParam(u, "code_challenge", "abc") }, wantError: "invalid_request"},
		{name: "no openid scope", edit: func(u string) string { return withParam(u, "scope", "email profile") }, wantError: "invalid_scope"},
		{name: "response_type token", edit: func(u string) string { return withParam(u, "response_type", "token") }, wantError: "unsupported_response_type"},
		{name: "response_mode fragment", edit: func(u string) string { return withParam(u, "response_mode", "fragment") }, wantError: "invalid_request"},
		{name: "parameter repeated", edit: func(u string) string { return u + "&scope=openid" }, wantError: "invalid_request"},
		{name: "login refused", edit: func(u string) string { return u }, wantError: "access_denied",
			login: func(*http.Request, *ssotest.AuthorizationRequest) (ssotest.User, error) {
				return ssotest.User{}, errors.New("no")
			}},
		{name: "unregistered redirect_uri", edit: func(u string) string { return withParam(u, "redirect_uri", "https://evil.example.test/cb") }},
		{name: "redirect_uri prefix of a registered one", edit: func(u string) string { return withParam(u, "redirect_uri", "https://app.example.com/oidc") }},
		{name: "redirect_uri of another client", edit: func(u string) string { return withParam(u, "redirect_uri", "https://other.example.com/cb") }},
		{name: "redirect_uri missing", edit: func(u string) string { return withoutParam(u, "redirect_uri") }},
		{name: "unknown client", edit: func(u string) string { return withParam(u, "client_id", "nobody") }},
		{name: "client_id repeated", edit: func(u string) string { return u + "&client_id=" + rpOtherClient }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newOIDCEnv(t, ssotest.OIDCConfig{Login: tc.login})
			f := newFlow()
			resp := env.get(t, tc.edit(env.authCodeURL(f)))
			if tc.wantError == "" {
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
					t.Errorf("status %d, Location %q; want 400 and no redirect", resp.StatusCode, resp.Header.Get("Location"))
				}
				return
			}
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("status %d; want 302 to the redirect URI", resp.StatusCode)
			}
			loc, _ := resp.Location()
			q := loc.Query()
			if !strings.HasPrefix(loc.String(), rpRedirectURI+"?") || q.Get("error") != tc.wantError || q.Get("state") != f.state || q.Has("code") {
				t.Errorf("redirect to %s; want %s?error=%s&state=%s and no code", loc, rpRedirectURI, tc.wantError, f.state)
			}
		})
	}
}

// RotateKey publishes a new key: the RP meets an unknown kid, refetches the
// JWKS and verifies; a kept old key still verifies the tokens it signed
// until it is dropped.
func TestOIDCRotateKey(t *testing.T) {
	env := newOIDCEnv(t, ssotest.OIDCConfig{Algorithm: ssotest.ES256})
	_, before, err := env.signIn(t)
	if err != nil {
		t.Fatalf("signIn() before rotation err = %v", err)
	}
	oldKID := env.op.KeyID()
	oldRaw, err := env.op.IDToken(rpClientID, "", ssotest.DefaultOIDCUser(), ssotest.IDTokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hits := env.jwksHits.Load()

	newKID, err := env.op.RotateKey(10 * time.Minute)
	if err != nil {
		t.Fatalf("RotateKey() err = %v", err)
	}
	if newKID == oldKID || env.op.KeyID() != newKID {
		t.Fatalf("KeyID() = %s after rotation from %s to %s", env.op.KeyID(), oldKID, newKID)
	}
	_, after, err := env.signIn(t)
	if err != nil {
		t.Fatalf("signIn() after rotation err = %v; want nil (JWKS refetched)", err)
	}
	if got := env.jwksHits.Load(); got != hits+1 {
		t.Errorf("JWKS fetched %d times after rotation; want 1", got-hits)
	}
	if before.Subject != after.Subject {
		t.Errorf("subject changed across rotation")
	}
	if _, err := env.verifier.Verify(env.ctx, oldRaw); err != nil {
		t.Errorf("token of the kept old key: err = %v; want nil", err)
	}
	if n := len(env.op.JWKS().Keys); n != 2 {
		t.Errorf("JWKS has %d keys while the old one is kept; want 2", n)
	}

	env.clock.Advance(10 * time.Minute)
	if n := len(env.op.JWKS().Keys); n != 1 {
		t.Errorf("JWKS has %d keys after the old key's time; want 1", n)
	}
	fresh := env.provider.VerifierContext(env.ctx, &oidc.Config{ClientID: rpClientID, Now: env.clock.Now}) // a new key cache
	if _, err := fresh.Verify(env.ctx, oldRaw); err == nil || !strings.Contains(err.Error(), "failed to verify signature") {
		t.Errorf("token of a dropped key: err = %v; want signature failure", err)
	}

	if _, err := env.op.RotateKey(0); err != nil {
		t.Fatal(err)
	}
	if keys := env.op.JWKS().Keys; len(keys) != 1 || keys[0].KeyID == newKID {
		t.Errorf("after RotateKey(0) the JWKS holds %d keys; want only the newest", len(keys))
	}
}

// Login runs the authorization step without a browser.
func TestOIDCLogin(t *testing.T) {
	env := newOIDCEnv(t, ssotest.OIDCConfig{})
	user := ssotest.User{NameID: "u-42", Email: "grace@example.com", FirstName: "Grace", LastName: "Hopper", Roles: []string{"admins", "navy"}}
	f := newFlow()
	cb, err := env.op.Login(env.authCodeURL(f), user)
	if err != nil {
		t.Fatalf("Login() err = %v", err)
	}
	cbURL, _ := url.Parse(cb)
	_, idt, err := env.callback(t, f, cbURL)
	if err != nil {
		t.Fatalf("callback() err = %v", err)
	}
	var c struct {
		Email  string   `json:"email"`
		Groups []string `json:"groups"`
	}
	_ = idt.Claims(&c)
	if idt.Subject != "u-42" || c.Email != user.Email || !slices.Equal(c.Groups, user.Roles) {
		t.Errorf("ID token sub %s email %s groups %v; want the user's", idt.Subject, c.Email, c.Groups)
	}

	// Refused with a redirect: the error redirect and an *OAuthError.
	cb, err = env.op.Login(withParam(env.authCodeURL(f), "code_challenge_method", "plain"), user)
	var oe *ssotest.OAuthError
	if !errors.As(err, &oe) || oe.Code != "invalid_request" || oidcParams(t, cb).Get("error") != "invalid_request" {
		t.Errorf("Login(plain PKCE) = %q, %v; want an error redirect and invalid_request", cb, err)
	}
	// Refused without a redirect.
	for _, u := range []string{
		withParam(env.authCodeURL(f), "redirect_uri", "https://evil.example.test/cb"),
		"https://elsewhere.example.test/authorize?" + oidcParams(t, env.authCodeURL(f)).Encode(),
		"%zz",
	} {
		cb, err := env.op.Login(u, user)
		if cb != "" || !errors.As(err, &oe) {
			t.Errorf("Login(%.60s…) = %q, %v; want \"\" and an *OAuthError", u, cb, err)
		}
	}
}

// Discovery names the endpoints under the issuer and says what is supported.
func TestOIDCDiscovery(t *testing.T) {
	env := newOIDCEnv(t, ssotest.OIDCConfig{})
	var d struct {
		Issuer            string   `json:"issuer"`
		JWKSURI           string   `json:"jwks_uri"`
		UserinfoEndpoint  string   `json:"userinfo_endpoint"`
		Algs              []string `json:"id_token_signing_alg_values_supported"`
		PKCE              []string `json:"code_challenge_methods_supported"`
		AuthMethods       []string `json:"token_endpoint_auth_methods_supported"`
		ISSParamSupported bool     `json:"authorization_response_iss_parameter_supported"`
	}
	if err := env.provider.Claims(&d); err != nil {
		t.Fatal(err)
	}
	if d.Issuer != env.srv.URL || d.JWKSURI != env.srv.URL+"/jwks" || d.UserinfoEndpoint != env.srv.URL+"/userinfo" ||
		!slices.Equal(d.Algs, []string{"RS256"}) || !slices.Equal(d.PKCE, []string{"S256"}) ||
		!slices.Equal(d.AuthMethods, []string{"client_secret_basic", "client_secret_post"}) || !d.ISSParamSupported {
		t.Errorf("discovery = %+v", d)
	}
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/nope", http.StatusNotFound},
		{http.MethodPost, "/jwks", http.StatusMethodNotAllowed},
		{http.MethodGet, "/token", http.StatusMethodNotAllowed},
		{http.MethodGet, "/userinfo", http.StatusUnauthorized},
	} {
		req, _ := http.NewRequest(tc.method, env.srv.URL+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s: status %d; want %d", tc.method, tc.path, resp.StatusCode, tc.want)
		}
	}
}

// An issuer with a path serves its endpoints under that path.
func TestOIDCIssuerPath(t *testing.T) {
	op, err := ssotest.NewOIDC(ssotest.OIDCConfig{Issuer: "https://login.example.test/tenant-1/", Key: idpKey()})
	if err != nil {
		t.Fatal(err)
	}
	if got := op.TokenURL(); got != "https://login.example.test/tenant-1/token" {
		t.Errorf("TokenURL() = %s", got)
	}
	for path, want := range map[string]int{"/tenant-1/.well-known/openid-configuration": 200, "/tenant-1/jwks": 200, "/jwks": 404} {
		rec := newRecorder(op, path)
		if rec != want {
			t.Errorf("GET %s: %d; want %d", path, rec, want)
		}
	}
}

// NewOIDC refuses a bad configuration with a *sso.ConfigError.
func TestNewOIDCConfigErrors(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	client := ssotest.OIDCClient{ID: "a", Secret: "s", RedirectURIs: []string{"https://a.example/cb"}}
	for _, tc := range []struct {
		name  string
		cfg   ssotest.OIDCConfig
		field string
	}{
		{"relative issuer", ssotest.OIDCConfig{Issuer: "/op"}, "Issuer"},
		{"issuer with query", ssotest.OIDCConfig{Issuer: "https://op.example/?x=1"}, "Issuer"},
		{"unknown algorithm", ssotest.OIDCConfig{Algorithm: "HS256"}, "Algorithm"},
		{"RSA key for ES256", ssotest.OIDCConfig{Algorithm: ssotest.ES256, Key: idpKey()}, "Key"},
		{"P-384 key", ssotest.OIDCConfig{Key: ec}, "Key"},
		{"client without ID", ssotest.OIDCConfig{Key: idpKey(), Clients: []ssotest.OIDCClient{{Secret: "s", RedirectURIs: client.RedirectURIs}}}, "Clients[0].ID"},
		{"client without secret", ssotest.OIDCConfig{Key: idpKey(), Clients: []ssotest.OIDCClient{{ID: "a", RedirectURIs: client.RedirectURIs}}}, "Clients[0].Secret"},
		{"client without redirect", ssotest.OIDCConfig{Key: idpKey(), Clients: []ssotest.OIDCClient{{ID: "a", Secret: "s"}}}, "Clients[0].RedirectURIs"},
		{"relative redirect", ssotest.OIDCConfig{Key: idpKey(), Clients: []ssotest.OIDCClient{{ID: "a", Secret: "s", RedirectURIs: []string{"/cb"}}}}, "Clients[0].RedirectURIs[0]"},
		{"duplicate client", ssotest.OIDCConfig{Key: idpKey(), Clients: []ssotest.OIDCClient{client, client}}, "Clients[1].ID"},
		{"negative code lifetime", ssotest.OIDCConfig{CodeLifetime: -time.Second}, "CodeLifetime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ssotest.NewOIDC(tc.cfg)
			var ce *sso.ConfigError
			if !errors.Is(err, sso.ErrInvalidConfig) || !errors.As(err, &ce) || ce.Field != tc.field {
				t.Errorf("NewOIDC() err = %v; want a ConfigError on %s", err, tc.field)
			}
		})
	}
}

// A client's secret never prints.
func TestOIDCClientString(t *testing.T) {
	c := ssotest.OIDCClient{ID: "app", Secret: "hunter2"}
	for _, s := range []string{c.String(), fmt.Sprintf("%+v", ssotest.OIDCConfig{Clients: []ssotest.OIDCClient{c}})} {
		if strings.Contains(s, "hunter2") || !strings.Contains(s, "REDACTED") {
			t.Errorf("printed %s; want the secret redacted", s)
		}
	}
}

// OIDCConfig is what an organization's OIDC connection needs to trust the
// provider.
func TestOIDCProviderConfig(t *testing.T) {
	env := newOIDCEnv(t, ssotest.OIDCConfig{RolesClaim: "roles"})
	cfg, ok := env.op.OIDCConfig(rpClientID)
	if !ok || cfg.Issuer != env.srv.URL || cfg.ClientID != rpClientID || string(cfg.ClientSecret) != rpSecret || cfg.RolesClaim != "roles" {
		t.Errorf("OIDCConfig(%q) = %+v, %v", rpClientID, cfg, ok)
	}
	if _, ok := env.op.OIDCConfig("nobody"); ok {
		t.Errorf("OIDCConfig(unregistered) ok = true")
	}
}
