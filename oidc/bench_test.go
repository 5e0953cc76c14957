package oidc_test

import (
	"context"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
)

// BenchmarkVerifyIDToken compares, on one RS256 2048 token and a warm cached
// JWKS, our VerifyIDToken (every check) with go-oidc's bare
// IDTokenVerifier.Verify (signature, issuer, audience, expiry).
func BenchmarkVerifyIDToken(b *testing.B) {
	op := newTestOP()
	defer op.Close()
	ctx := context.Background()
	tok := op.sign(op.claims(testNonce))

	b.Run("orgsso", func(b *testing.B) {
		rp := newRP(b, op, nil)
		if _, err := rp.VerifyIDToken(ctx, tok, testNonce); err != nil { // warm the key set
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := rp.VerifyIDToken(ctx, tok, testNonce); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("go-oidc", func(b *testing.B) {
		keys := gooidc.NewRemoteKeySet(gooidc.ClientContext(ctx, op.srv.Client()), op.issuer()+"/jwks")
		v := gooidc.NewVerifier(op.issuer(), keys, &gooidc.Config{ClientID: testClientID, Now: op.now})
		if _, err := v.Verify(ctx, tok); err != nil { // warm the key set
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}
