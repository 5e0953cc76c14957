package ssotest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/orgsso/orgsso/sso/ssotest"
)

// A host tests its OpenID Connect sign-in offline: the test provider runs on
// httptest, the relying party (here go-oidc and x/oauth2, as a host would use
// them) discovers it, Login stands in for the browser, and the callback
// exchanges the code with its PKCE verifier and verifies the ID token. Then a
// knob breaks one check, and the relying party refuses the token.
func Example_oidc() {
	now := func() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) }
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	op, err := ssotest.NewOIDC(ssotest.OIDCConfig{
		Issuer:  srv.URL,
		Now:     now,
		Clients: []ssotest.OIDCClient{{ID: "app", Secret: "app-secret", RedirectURIs: []string{"https://app.example.com/callback"}}},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux.Handle("/", op)

	// The relying party.
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, srv.URL)
	if err != nil {
		log.Fatal(err)
	}
	conf := oauth2.Config{
		ClientID: "app", ClientSecret: "app-secret", Endpoint: provider.Endpoint(),
		RedirectURL: "https://app.example.com/callback",
		Scopes:      []string{oidc.ScopeOpenID, "email", "profile"},
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: "app", Now: now})
	signIn := func(user ssotest.User) (*oidc.IDToken, error) {
		pkce := oauth2.GenerateVerifier()
		authURL := conf.AuthCodeURL("state-1", oidc.Nonce("nonce-1"), oauth2.S256ChallengeOption(pkce))
		callback, err := op.Login(authURL, user) // the browser's round trip
		if err != nil {
			return nil, err
		}
		cb, err := url.Parse(callback)
		if err != nil {
			return nil, err
		}
		tok, err := conf.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(pkce))
		if err != nil {
			return nil, err
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := verifier.Verify(ctx, raw)
		if err != nil {
			return nil, err
		}
		if idt.Nonce != "nonce-1" {
			return nil, errors.New("wrong nonce")
		}
		return idt, nil
	}

	idt, err := signIn(ssotest.User{NameID: "00u1", Email: "ada@example.com", FirstName: "Ada", Roles: []string{"engineering"}})
	if err != nil {
		log.Fatal(err)
	}
	var claims struct {
		Email         string   `json:"email"`
		EmailVerified bool     `json:"email_verified"`
		Groups        []string `json:"groups"`
	}
	if err := idt.Claims(&claims); err != nil {
		log.Fatal(err)
	}
	fmt.Println(idt.Subject, claims.Email, claims.EmailVerified, claims.Groups)

	op.NextToken(ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Expiry: now().Add(-time.Minute)}})
	_, err = signIn(ssotest.DefaultOIDCUser())
	var expired *oidc.TokenExpiredError
	fmt.Println("expired token refused:", errors.As(err, &expired))
	// Output:
	// 00u1 ada@example.com true [engineering]
	// expired token refused: true
}
