package oidc_test

import (
	"context"
	"fmt"
	"time"

	"github.com/orgsso/orgsso/oidc"
)

// Example signs a user in against an in-process OpenID provider: discovery,
// the authorization request, the callback, and the verified claims.
func Example() {
	op := newTestOP() // an httptest OpenID provider (see provider_test.go)
	defer op.Close()
	ctx := context.Background()

	rp, err := oidc.Discover(ctx, oidc.Config{
		Issuer:       op.issuer(),
		ClientID:     "orgsso-app",
		ClientSecret: "s3cret-never-printed",
		RedirectURL:  "http://localhost:8080/sso/callback",
		RolesClaim:   "groups",
		Now:          func() time.Time { return testNow },
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// Start: keep req's State, Nonce and CodeVerifier for this browser, and
	// redirect it to req.URL.
	req, err := rp.AuthRequest(oidc.AuthParams{LoginHint: "ada@example.com"})
	if err != nil {
		fmt.Println(err)
		return
	}

	// The provider signs the user in and redirects back with code and state.
	callback := op.authorize(req.URL)

	// Finish: check the callback, exchange the code, verify the ID token.
	claims, err := rp.Finish(ctx, callback, req)
	if err != nil {
		fmt.Println(err)
		return
	}
	email, err := claims.VerifiedEmail()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(claims.Subject, email, claims.Roles)

	// The same code again: the provider refuses it.
	_, err = rp.Finish(ctx, callback, req)
	fmt.Println(err)
	// Output:
	// 00u1ada ada@example.com [admins engineering]
	// oidc: provider: token_exchange check failed: the provider refused the code (HTTP 400 Bad Request) (got "invalid_grant: the code is invalid or was already used")
}
