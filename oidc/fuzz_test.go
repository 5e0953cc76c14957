package oidc_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/orgsso/orgsso/oidc"
)

// FuzzVerifyIDToken signs the fuzzed payload with a key of the provider (so
// the claim checks and the claim reading are reached), and also verifies the
// fuzzed raw string as a token. Invariants: nothing panics; every failure is a
// *ValidationError naming a Check; an accepted token's claims are what its
// signed payload says. "$ISS" in the payload stands for the provider's issuer
// (the test server's port changes every run).
func FuzzVerifyIDToken(f *testing.F) {
	op := newTestOP()
	f.Cleanup(op.Close)
	_, ec := testKeys()
	key := signingKey{kid: "ec", alg: jose.ES256, priv: ec} // ECDSA: fast to sign per input
	op.mu.Lock()
	op.jwks = append(op.jwks, key)
	op.mu.Unlock()
	rp := newRP(f, op, nil)

	valid := op.claims(testNonce)
	valid["iss"] = "$ISS"
	f.Add(must(json.Marshal(valid)), "")
	f.Add(must(json.Marshal(valid)), signWith(key, op.claims(testNonce), nil))
	withAMR := op.claims(testNonce)
	withAMR["iss"], withAMR["amr"] = "$ISS", []string{"pwd", "mfa"}
	f.Add(must(json.Marshal(withAMR)), "")

	f.Fuzz(func(t *testing.T, payload []byte, raw string) {
		payload = bytes.ReplaceAll(payload, []byte("$ISS"), []byte(op.issuer()))
		signed := must(must(jose.NewSigner(jose.SigningKey{Algorithm: key.alg, Key: jose.JSONWebKey{Key: key.priv, KeyID: key.kid}}, nil)).Sign(payload))
		for _, tok := range []string{must(signed.CompactSerialize()), raw} {
			claims, err := rp.VerifyIDToken(context.Background(), tok, testNonce)
			if err != nil {
				var ve *oidc.ValidationError
				if !errors.As(err, &ve) || ve.Check == "" || !errors.Is(err, oidc.ErrInvalidToken) && !errors.Is(err, oidc.ErrProvider) {
					t.Fatalf("VerifyIDToken() err = %v; want a *ValidationError naming a check", err)
				}
				continue
			}
			parts := strings.Split(tok, ".")
			body, derr := base64.RawURLEncoding.DecodeString(parts[1])
			if derr != nil {
				t.Fatalf("accepted a token whose payload is not base64url: %v", derr)
			}
			assertClaimsMatch(t, body, claims)
		}
	})
}

// assertClaimsMatch checks claims against an independent reading of the
// signed payload.
func assertClaimsMatch(t *testing.T, payload []byte, c *oidc.Claims) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatalf("accepted a payload that is not a JSON object: %v", err)
	}
	if !reflect.DeepEqual(m, c.Raw) {
		t.Fatalf("Raw = %v; want %v", c.Raw, m)
	}
	str := func(name string) string {
		var s string
		_ = json.Unmarshal(m[name], &s)
		return s
	}
	for _, f := range []struct{ name, got string }{
		{"iss", c.Issuer}, {"sub", c.Subject}, {"email", c.Email},
		{"name", c.Name}, {"given_name", c.GivenName}, {"family_name", c.FamilyName},
	} {
		if want := str(f.name); f.got != want {
			t.Fatalf("claim %s = %q; signed %q", f.name, f.got, want)
		}
	}
	if c.Issuer == "" || c.Subject == "" || str("nonce") != testNonce {
		t.Fatalf("accepted without iss, sub or the nonce: %s", payload)
	}
	var aud []string
	if json.Unmarshal(m["aud"], &aud) != nil {
		aud = []string{str("aud")}
	}
	if !reflect.DeepEqual(aud, c.Audience) {
		t.Fatalf("Audience = %q; signed %q", c.Audience, aud)
	}
	ev := strings.TrimSpace(string(m["email_verified"]))
	want := c.Email != "" && (ev == "true" || ev == `"true"`)
	if c.EmailVerified != want {
		t.Fatalf("EmailVerified = %v; signed email %q, email_verified %s", c.EmailVerified, c.Email, ev)
	}
	var roles []string
	if json.Unmarshal(m["groups"], &roles) != nil {
		if s := str("groups"); s != "" || string(m["groups"]) == `""` {
			roles = []string{s}
		}
	}
	if len(roles) != len(c.Roles) || (len(roles) > 0 && !reflect.DeepEqual(roles, c.Roles)) {
		t.Fatalf("Roles = %q; signed %s", c.Roles, m["groups"])
	}
	var amr []string
	if v, ok := m["amr"]; ok && json.Unmarshal(v, &amr) != nil {
		t.Fatalf("accepted an amr that is not an array of strings: %s", v)
	}
	if !reflect.DeepEqual(amr, c.AuthMethods) {
		t.Fatalf("AuthMethods = %q; signed %s", c.AuthMethods, m["amr"])
	}
}
