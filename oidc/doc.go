// Package oidc is the OpenID Connect relying-party protocol (authorization
// code flow with PKCE) on github.com/coreos/go-oidc/v3 and
// golang.org/x/oauth2. It knows nothing of organizations, members, stores or
// sessions: the product package wraps it, keeps the pending request of each
// browser and decides what a verified identity may do.
//
// The flow:
//
//	rp, err := oidc.Discover(ctx, oidc.Config{Issuer: …, ClientID: …, ClientSecret: …, RedirectURL: …})
//	req, err := rp.AuthRequest(oidc.AuthParams{LoginHint: email}) // State, Nonce, CodeVerifier: keep them for this browser
//	// redirect the browser to req.URL; the provider redirects back to RedirectURL
//	claims, err := rp.Finish(ctx, r.URL.Query(), req) // state, code exchange with PKCE, ID token checks
//	email, err := claims.VerifiedEmail()              // only when email_verified is true
//
// Every failure is a *ValidationError naming its Check (errors.Is(err,
// oidc.CheckNonce)) and wrapping ErrInvalidToken, or ErrProvider when talking
// to the provider failed. Clock and randomness come from Config, never from
// package globals. See Example for a runnable sign-in against an in-process
// provider.
package oidc
