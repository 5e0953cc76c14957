package ssotest_test

// Attack review 11d of the test OpenID provider: ways it could make an
// insecure relying party pass. A failing assertion is a finding.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/orgsso/orgsso/sso/ssotest"
)

// FINDING (low): the userinfo endpoint always says email_verified true,
// whatever the token's knobs said. A token answered with
// EmailVerifiedFalse (or without email, Claims{"email": nil}) has its
// access token's userinfo claim the same email as verified, so a relying
// party that completes or overrides claims from userinfo (Config.UserInfo)
// cannot be shown to refuse an unverified email with this double, and an
// RP that trusts only userinfo's email_verified passes the "unverified
// email" test.
func TestAttackReview11dUserinfoIgnoresEmailVerifiedKnob(t *testing.T) {
	for _, tc := range []struct {
		name string
		knob ssotest.IDTokenOptions
	}{
		{"EmailVerifiedFalse", ssotest.IDTokenOptions{EmailVerified: ssotest.EmailVerifiedFalse}},
		{"EmailVerifiedAbsent", ssotest.IDTokenOptions{EmailVerified: ssotest.EmailVerifiedAbsent}},
		{"email left out of the ID token, false", ssotest.IDTokenOptions{EmailVerified: ssotest.EmailVerifiedFalse, Claims: map[string]any{"email": nil}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newOIDCEnv(t, ssotest.OIDCConfig{})
			env.op.NextToken(ssotest.TokenResponse{IDToken: tc.knob})
			tok, idt, err := env.signIn(t)
			if err != errEmailVerified {
				t.Fatalf("signIn err = %v; want the RP's email_verified refusal from the ID token", err)
			}
			var idc struct {
				EmailVerified *bool `json:"email_verified"`
			}
			_ = idt.Claims(&idc)
			ui, err := env.provider.UserInfo(env.ctx, oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatalf("UserInfo err = %v", err)
			}
			if ui.EmailVerified && (idc.EmailVerified == nil || !*idc.EmailVerified) {
				said := "nothing"
				if idc.EmailVerified != nil {
					said = "false"
				}
				t.Errorf("userinfo says email_verified true for %s; the ID token said %s: the provider contradicts its own knob", ui.Email, said)
			}
		})
	}
}

// The state comes back exactly as sent, whatever its characters; a
// registered redirect URI's own query is kept.
func TestAttackReview11dStateEchoedExactly(t *testing.T) {
	for _, state := range []string{"a b+c&d=e%zz;f", "é\u2028\x7f", strings.Repeat("s", 2000), "code=x&iss=https://evil"} {
		env := newOIDCEnv(t, ssotest.OIDCConfig{})
		f := newFlow()
		f.state = state
		cb := env.authorize(t, f)
		q := cb.Query()
		if q.Get("state") != state || len(q["state"]) != 1 || len(q["code"]) != 1 || len(q["iss"]) != 1 || q.Get("iss") != env.op.Issuer() {
			t.Errorf("state %q came back as %q (callback %s)", state, q["state"], cb)
		}
	}
}

// FINDING (low): a registered redirect URI whose query holds a ';' (or a
// bad escape) loses that query on the way back: oidcWithQuery re-encodes
// u.Query(), which drops what url.ParseQuery refuses, so the browser is
// sent to a URI that is not the registered one (RFC 6749 3.1.2: the query
// component must be retained).
func TestAttackReview11dRedirectURIQueryKept(t *testing.T) {
	for _, ru := range []string{"https://app.example.com/cb?tenant=a", "https://app.example.com/cb?tenant=a;b", "https://app.example.com/cb?t=%zz"} {
		t.Run(ru, func(t *testing.T) {
			env := newOIDCEnv(t, ssotest.OIDCConfig{Clients: []ssotest.OIDCClient{{ID: rpClientID, Secret: rpSecret, RedirectURIs: []string{ru}}}})
			env.conf.RedirectURL = ru
			f := newFlow()
			cb := env.authorize(t, f)
			base, _ := url.Parse(ru)
			if !strings.Contains(cb.RawQuery, base.RawQuery) {
				t.Errorf("redirected to %s; the registered URI's query %q is gone", cb, base.RawQuery)
			}
		})
	}
}

// A knob applies to exactly one token, under concurrent exchanges too, and
// nothing races (run with -race).
func TestAttackReview11dKnobOneTokenConcurrent(t *testing.T) {
	env := newOIDCEnv(t, ssotest.OIDCConfig{})
	env.op.NextToken(ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{EmailVerified: ssotest.EmailVerifiedFalse}})
	var wg sync.WaitGroup
	var mu sync.Mutex
	refused, ok := 0, 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := newFlow()
			c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := c.Get(env.authCodeURL(f))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			loc, _ := resp.Location()
			tok, err := env.conf.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(f.verifier))
			if err != nil {
				t.Error(err)
				return
			}
			idt, err := env.verifier.Verify(context.Background(), tok.Extra("id_token").(string))
			if err != nil {
				t.Error(err)
				return
			}
			var c2 struct {
				EV bool `json:"email_verified"`
			}
			_ = idt.Claims(&c2)
			mu.Lock()
			if c2.EV {
				ok++
			} else {
				refused++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if refused != 1 || ok != 7 {
		t.Errorf("knob applied to %d tokens (valid: %d); want exactly 1", refused, ok)
	}
}

// A code is bound to the authorization request's client, redirect URI
// and verifier even when a second client shares the redirect URI; a
// wrong verifier burns it for the right one too.
func TestAttackReview11dCodeBindingSharedRedirect(t *testing.T) {
	env := newOIDCEnv(t, ssotest.OIDCConfig{Clients: []ssotest.OIDCClient{
		{ID: rpClientID, Secret: rpSecret, RedirectURIs: []string{rpRedirectURI}},
		{ID: rpOtherClient, Secret: "other-secret", RedirectURIs: []string{rpRedirectURI}},
	}})
	f := newFlow()
	code := env.authorize(t, f).Query().Get("code")
	other := env.conf
	other.ClientID, other.ClientSecret = rpOtherClient, "other-secret"
	if _, err := other.Exchange(env.ctx, code, oauth2.VerifierOption(f.verifier)); retrieveCode(err) != "invalid_grant" {
		t.Errorf("another client with the right verifier: err = %v; want invalid_grant", err)
	}
	f2 := newFlow()
	code2 := env.authorize(t, f2).Query().Get("code")
	if _, err := env.conf.Exchange(env.ctx, code2, oauth2.VerifierOption(f.verifier)); retrieveCode(err) != "invalid_grant" {
		t.Errorf("verifier of another flow: err = %v; want invalid_grant", err)
	}
	if _, err := env.conf.Exchange(env.ctx, code2, oauth2.VerifierOption(f2.verifier)); retrieveCode(err) != "invalid_grant" {
		t.Errorf("the right verifier after a wrong one: err = %v; want invalid_grant (the code is used up)", err)
	}
	// The PKCE challenge of a plain verifier (challenge == verifier, 43
	// characters) is taken as S256 and never matches the verifier itself.
	f3 := newFlow()
	plain := strings.Repeat("A", 43)
	resp := env.get(t, withParam(withParam(env.authCodeURL(f3), "code_challenge", plain), "code_challenge_method", "S256"))
	loc, _ := resp.Location()
	if _, err := env.conf.Exchange(env.ctx, loc.Query().Get("code"), oauth2.VerifierOption(plain)); retrieveCode(err) != "invalid_grant" {
		t.Errorf("plain PKCE (verifier == challenge) accepted: err = %v", err)
	}
}

// Without the email scope the code flow gives no email and no
// email_verified (a real provider's default), in the ID token and at
// userinfo.
func TestAttackReview11dNoEmailWithoutScope(t *testing.T) {
	env := newOIDCEnv(t, ssotest.OIDCConfig{})
	env.conf.Scopes = []string{oidc.ScopeOpenID}
	f := newFlow()
	tok, idt, err := env.callback(t, f, env.authorize(t, f))
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	_ = idt.Claims(&c)
	if _, has := c["email"]; has {
		t.Errorf("ID token has email without the email scope: %v", c)
	}
	if _, has := c["email_verified"]; has {
		t.Errorf("ID token has email_verified without the email scope: %v", c)
	}
	ui, err := env.provider.UserInfo(env.ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	if ui.Email != "" || ui.EmailVerified {
		t.Errorf("userinfo gives email %q verified=%v without the email scope", ui.Email, ui.EmailVerified)
	}
}

// Odd requests to every endpoint: no panic, no 5xx, no token.
func TestAttackReview11dOddRequestsNoPanic(t *testing.T) {
	op, err := ssotest.NewOIDC(ssotest.OIDCConfig{Issuer: "https://op.example.test/tenant%2Fx/"})
	if err != nil {
		t.Fatal(err)
	}
	base := "/tenant%2Fx"
	reqs := []*http.Request{
		httptest.NewRequest(http.MethodGet, "/", nil),
		httptest.NewRequest(http.MethodGet, base, nil),
		httptest.NewRequest(http.MethodGet, base+"/authorize?client_id=%00&redirect_uri=%00", nil),
		httptest.NewRequest(http.MethodGet, base+"/authorize?client_id="+ssotest.DefaultClientID+"&redirect_uri="+url.QueryEscape(ssotest.DefaultRedirectURI)+"&state=%ff%fe", nil),
		httptest.NewRequest(http.MethodPost, base+"/authorize", strings.NewReader("client_id=a&client_id=b")),
		httptest.NewRequest(http.MethodPost, base+"/authorize", strings.NewReader(strings.Repeat("a", 70<<10))),
		httptest.NewRequest(http.MethodPost, base+"/token", nil),
		httptest.NewRequest(http.MethodPost, base+"/token", strings.NewReader("grant_type=authorization_code&code=&client_id="+ssotest.DefaultClientID+"&client_secret="+ssotest.DefaultClientSecret)),
		httptest.NewRequest(http.MethodPost, base+"/token", strings.NewReader("%zz")),
		httptest.NewRequest(http.MethodGet, base+"/userinfo", nil),
		httptest.NewRequest(http.MethodDelete, base+"/jwks", nil),
	}
	for _, r := range reqs[4:9] {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	basic := httptest.NewRequest(http.MethodPost, base+"/token", strings.NewReader("grant_type=authorization_code&code=x"))
	basic.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	basic.Header.Set("Authorization", "Basic %%%")
	reqs = append(reqs, basic)
	bearer := httptest.NewRequest(http.MethodGet, base+"/userinfo", nil)
	bearer.Header.Set("Authorization", "bearer ")
	reqs = append(reqs, bearer)
	for i, r := range reqs {
		rec := httptest.NewRecorder()
		op.ServeHTTP(rec, r)
		if rec.Code >= 500 || strings.Contains(rec.Body.String(), "access_token") {
			t.Errorf("request %d (%s %s): %d %s", i, r.Method, r.URL, rec.Code, rec.Body)
		}
	}
}
