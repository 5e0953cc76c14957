package oidc_test

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/oidc"
)

const testNonce = "n-0S6_WzA2Mj"

// newRP returns a relying party for op built from pinned endpoints (no
// discovery), with edit applied to the config.
func newRP(t testing.TB, op *testOP, edit func(*oidc.Config)) *oidc.RelyingParty {
	t.Helper()
	cfg := op.config()
	if edit != nil {
		edit(&cfg)
	}
	rp, err := oidc.New(cfg, oidc.Endpoints{
		AuthURL: op.issuer() + "/authorize", TokenURL: op.issuer() + "/token",
		JWKSURL: op.issuer() + "/jwks", UserInfoURL: op.issuer() + "/userinfo",
	})
	require.NoError(t, err)
	return rp
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func b64JSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b64(b)
}

// rawJWT assembles header.payload.signature by hand.
func rawJWT(header map[string]any, payload string, sig []byte) string {
	return b64JSON(header) + "." + payload + "." + b64(sig)
}

// attacker is a server an attacker controls, serving a JWKS of the attacker's
// key; it counts every request.
type attacker struct {
	srv  *httptest.Server
	hits atomic.Int32
	key  signingKey
}

func newAttacker() *attacker {
	keys, _ := testKeys()
	a := &attacker{key: signingKey{kid: "k0", alg: jose.RS256, priv: keys[2]}}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		a.hits.Add(1)
		writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{a.key.public()}})
	}))
	return a
}

// selfSigned is a certificate for the attacker's key, for an x5c header.
func selfSigned(t testing.TB, k signingKey) []byte {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "attacker"},
		NotBefore: testNow.Add(-time.Hour), NotAfter: testNow.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.priv.Public(), k.priv)
	require.NoError(t, err)
	return der
}

// TestVerifyIDTokenAttacks: one row per attack, each naming the check it must
// hit. wantErr nil rows are the edges that must still pass.
func TestVerifyIDTokenAttacks(t *testing.T) {
	op := newTestOP()
	defer op.Close()
	atk := newAttacker()
	defer atk.srv.Close()
	keys, _ := testKeys()
	skew := oidc.DefaultClockSkew
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(keys[0].Public()))})
	attackerKey := signingKey{kid: "k0", alg: jose.RS256, priv: keys[2]} // claims the provider's kid
	cert := selfSigned(t, attackerKey)

	with := func(edit func(map[string]any)) string {
		c := op.claims(testNonce)
		edit(c)
		return op.sign(c)
	}
	valid := func() map[string]any { return op.claims(testNonce) }
	hmacToken := func(secret []byte) string {
		head := b64JSON(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "k0"})
		body := b64JSON(valid())
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(head + "." + body))
		return head + "." + body + "." + b64(m.Sum(nil))
	}
	signedPayload := func(payload string) string { // the provider signs raw payload bytes
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: keys[0], KeyID: "k0"}}, nil)
		require.NoError(t, err)
		jws, err := s.Sign([]byte(payload))
		require.NoError(t, err)
		return must(jws.CompactSerialize())
	}
	manyRoles := make([]string, oidc.MaxRoles+1)
	for i := range manyRoles {
		manyRoles[i] = "r"
	}

	tests := []struct {
		name      string
		token     string
		nonce     string // "" = testNonce
		edit      func(*oidc.Config)
		wantErr   error // a Check, or nil
		wantEmail error // for accepted tokens: what VerifiedEmail returns (nil = the email)
	}{
		{name: "valid", token: op.sign(valid())},
		{name: "alg none", token: rawJWT(map[string]any{"alg": "none", "typ": "JWT"}, b64JSON(valid()), nil), wantErr: oidc.CheckAlgorithm},
		{name: "alg none with a signature", token: rawJWT(map[string]any{"alg": "none"}, b64JSON(valid()), []byte("x")), wantErr: oidc.CheckAlgorithm},
		{name: "no alg", token: rawJWT(map[string]any{"kid": "k0"}, b64JSON(valid()), []byte("x")), wantErr: oidc.CheckAlgorithm},
		{name: "HS256 keyed with the RSA public key PEM (algorithm confusion)", token: hmacToken(pubPEM), wantErr: oidc.CheckAlgorithm},
		{name: "HS256 keyed with the RSA public key DER", token: hmacToken(must(x509.MarshalPKIXPublicKey(keys[0].Public()))), wantErr: oidc.CheckAlgorithm},
		{name: "alg outside the allow-list (RS256, only ES256 allowed)", token: op.sign(valid()),
			edit: func(c *oidc.Config) { c.Algorithms = []string{"ES256"} }, wantErr: oidc.CheckAlgorithm},
		{name: "header alg changed to RS384 over an RS256 signature", token: func() string {
			parts := strings.Split(op.sign(valid()), ".")
			return b64JSON(map[string]any{"alg": "RS384", "kid": "k0", "typ": "JWT"}) + "." + parts[1] + "." + parts[2]
		}(), wantErr: oidc.CheckSignature},
		{name: "another key, embedded as jwk header, provider's kid", token: signWith(attackerKey, valid(), &jose.SignerOptions{EmbedJWK: true}), wantErr: oidc.CheckSignature},
		{name: "another key, embedded as jwk header, no kid", token: signWith(signingKey{alg: jose.RS256, priv: keys[2]}, valid(), &jose.SignerOptions{EmbedJWK: true}), wantErr: oidc.CheckSignature},
		{name: "jku header to the attacker's JWKS", token: signWith(signingKey{kid: "atk", alg: jose.RS256, priv: keys[2]}, valid(),
			(&jose.SignerOptions{}).WithHeader("jku", atk.srv.URL)), wantErr: oidc.CheckSignature},
		{name: "x5u header to the attacker's server", token: signWith(attackerKey, valid(),
			(&jose.SignerOptions{}).WithHeader("x5u", atk.srv.URL)), wantErr: oidc.CheckSignature},
		{name: "x5c header with the attacker's certificate", token: signWith(attackerKey, valid(),
			(&jose.SignerOptions{}).WithHeader("x5c", []string{base64.StdEncoding.EncodeToString(cert)})), wantErr: oidc.CheckSignature},
		{name: "signature of another payload (spliced)", token: func() string {
			a, b := strings.Split(op.sign(valid()), "."), strings.Split(with(func(c map[string]any) { c["sub"] = "victim" }), ".")
			return a[0] + "." + b[1] + "." + a[2]
		}(), wantErr: oidc.CheckSignature},
		{name: "wrong issuer", token: with(func(c map[string]any) { c["iss"] = "https://evil.example.com" }), wantErr: oidc.CheckIssuer},
		{name: "issuer with a trailing slash", token: with(func(c map[string]any) { c["iss"] = op.issuer() + "/" }), wantErr: oidc.CheckIssuer},
		{name: "audience of another client", token: with(func(c map[string]any) { c["aud"] = "other-app" }), wantErr: oidc.CheckAudience},
		{name: "no audience", token: with(func(c map[string]any) { delete(c, "aud") }), wantErr: oidc.CheckAudience},
		{name: "several audiences, no azp", token: with(func(c map[string]any) { c["aud"] = []string{testClientID, "other-app"} }), wantErr: oidc.CheckAuthorizedParty},
		{name: "several audiences, azp ours", token: with(func(c map[string]any) {
			c["aud"] = []string{testClientID, "other-app"}
			c["azp"] = testClientID
		})},
		{name: "azp of another client", token: with(func(c map[string]any) { c["azp"] = "other-app" }), wantErr: oidc.CheckAuthorizedParty},
		{name: "expired at now - skew", token: with(func(c map[string]any) { c["exp"] = testNow.Add(-skew).Unix() }), wantErr: oidc.CheckExpiry},
		{name: "expired just past skew", token: with(func(c map[string]any) { c["exp"] = testNow.Add(-skew - time.Second).Unix() }), wantErr: oidc.CheckExpiry},
		{name: "expired, valid just within skew", token: with(func(c map[string]any) { c["exp"] = testNow.Add(-skew + time.Second).Unix() })},
		{name: "org skew 1 minute: expired 2 minutes ago", token: with(func(c map[string]any) { c["exp"] = testNow.Add(-2 * time.Minute).Unix() }),
			edit: func(c *oidc.Config) { c.ClockSkew = time.Minute }, wantErr: oidc.CheckExpiry},
		{name: "iat in the future beyond skew", token: with(func(c map[string]any) { c["iat"] = testNow.Add(skew + time.Second).Unix() }), wantErr: oidc.CheckIssuedAt},
		{name: "iat in the future within skew", token: with(func(c map[string]any) { c["iat"] = testNow.Add(skew).Unix() })},
		{name: "iat older than MaxTokenAge", token: with(func(c map[string]any) { c["iat"] = testNow.Add(-time.Hour).Unix() }),
			edit: func(c *oidc.Config) { c.MaxTokenAge = 10 * time.Minute }, wantErr: oidc.CheckIssuedAt},
		{name: "nbf in the future beyond skew", token: with(func(c map[string]any) { c["nbf"] = testNow.Add(skew + time.Second).Unix() }), wantErr: oidc.CheckNotBefore},
		{name: "missing exp", token: with(func(c map[string]any) { delete(c, "exp") }), wantErr: oidc.CheckExpiry},
		{name: "missing iat", token: with(func(c map[string]any) { delete(c, "iat") }), wantErr: oidc.CheckIssuedAt},
		{name: "missing sub", token: with(func(c map[string]any) { delete(c, "sub") }), wantErr: oidc.CheckSubject},
		{name: "sub over 255 bytes", token: with(func(c map[string]any) { c["sub"] = strings.Repeat("s", 256) }), wantErr: oidc.CheckSubject},
		{name: "missing nonce", token: with(func(c map[string]any) { delete(c, "nonce") }), wantErr: oidc.CheckNonce},
		{name: "nonce mismatch", token: op.sign(valid()), nonce: "another-nonce", wantErr: oidc.CheckNonce},
		{name: "nonce of the token as prefix", token: op.sign(valid()), nonce: testNonce[:5], wantErr: oidc.CheckNonce},
		{name: "email_verified false", token: with(func(c map[string]any) { c["email_verified"] = false }), wantEmail: oidc.CheckEmailVerified},
		{name: "email_verified missing", token: with(func(c map[string]any) { delete(c, "email_verified") }), wantEmail: oidc.CheckEmailVerified},
		{name: `email_verified "false"`, token: with(func(c map[string]any) { c["email_verified"] = "false" }), wantEmail: oidc.CheckEmailVerified},
		{name: `email_verified 1`, token: with(func(c map[string]any) { c["email_verified"] = 1 }), wantEmail: oidc.CheckEmailVerified},
		{name: `email_verified "true" (string, as some IdPs send)`, token: with(func(c map[string]any) { c["email_verified"] = "true" })},
		{name: "no email", token: with(func(c map[string]any) { delete(c, "email") }), wantEmail: oidc.CheckEmailVerified},
		{name: "roles claim an object", token: with(func(c map[string]any) { c["groups"] = map[string]any{"a": 1} }), wantErr: oidc.CheckRoles},
		{name: "roles claim an array of numbers", token: with(func(c map[string]any) { c["groups"] = []int{1, 2} }), wantErr: oidc.CheckRoles},
		{name: "too many roles", token: with(func(c map[string]any) { c["groups"] = manyRoles }), wantErr: oidc.CheckRoles},
		{name: "role too long", token: with(func(c map[string]any) { c["groups"] = []string{strings.Repeat("r", oidc.MaxRoleBytes+1)} }), wantErr: oidc.CheckRoles},
		{name: "oversized token", token: with(func(c map[string]any) { c["pad"] = strings.Repeat("p", oidc.DefaultMaxTokenBytes) }), wantErr: oidc.CheckSize},
		{name: "malformed: two parts", token: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0", wantErr: oidc.CheckMalformed},
		{name: "malformed: four parts", token: op.sign(valid()) + ".x", wantErr: oidc.CheckMalformed},
		{name: "malformed: header not base64url", token: "e!J." + b64JSON(valid()) + ".c2ln", wantErr: oidc.CheckMalformed},
		{name: "malformed: header not JSON", token: b64([]byte("{alg")) + "." + b64JSON(valid()) + ".c2ln", wantErr: oidc.CheckMalformed},
		{name: "malformed: payload not base64url", token: b64JSON(map[string]any{"alg": "RS256", "kid": "k0"}) + ".%%%." + "c2ln", wantErr: oidc.CheckMalformed},
		{name: "malformed: signed payload not JSON", token: signedPayload("not json"), wantErr: oidc.CheckMalformed},
		{name: "malformed: exp a string", token: with(func(c map[string]any) { c["exp"] = "tomorrow" }), wantErr: oidc.CheckMalformed},
		{name: "malformed: case-variant sub after sub (readers would disagree)", token: signedPayload(
			`{"iss":"` + op.issuer() + `","aud":"` + testClientID + `","sub":"victim","nonce":"` + testNonce +
				`","iat":` + itoa(testNow.Unix()) + `,"exp":` + itoa(testNow.Add(time.Hour).Unix()) + `,"SUB":"attacker"}`), wantErr: oidc.CheckMalformed},
		{name: "empty token", token: "", wantErr: oidc.CheckMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rp := newRP(t, op, tt.edit)
			nonce := tt.nonce
			if nonce == "" {
				nonce = testNonce
			}
			claims, err := rp.VerifyIDToken(context.Background(), tt.token, nonce)
			if tt.wantErr != nil {
				require.Error(t, err)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("VerifyIDToken() err = %v; want %v", err, tt.wantErr)
				}
				assert.ErrorIs(t, err, oidc.ErrInvalidToken)
				assert.Nil(t, claims)
				assert.LessOrEqual(t, len(err.Error()), 1500, "error text is bounded")
				return
			}
			require.NoError(t, err)
			email, err := claims.VerifiedEmail()
			if tt.wantEmail != nil {
				assert.ErrorIs(t, err, tt.wantEmail)
				assert.False(t, claims.EmailVerified)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "ada@example.com", email)
			assert.Equal(t, "00u1ada", claims.Subject)
			assert.Equal(t, []string{"admins", "engineering"}, claims.Roles)
		})
	}
	assert.Zero(t, atk.hits.Load(), "the attacker's jku/x5u server must never be fetched")
}

// TestVerifyIDTokenNoNonce: an empty expected nonce is refused, never skipped.
func TestVerifyIDTokenNoNonce(t *testing.T) {
	op := newTestOP()
	defer op.Close()
	_, err := newRP(t, op, nil).VerifyIDToken(context.Background(), op.sign(op.claims("")), "")
	assert.ErrorIs(t, err, oidc.CheckNonce)
}

// TestUnknownKidRefetchesOnce: a kid the cache does not hold costs one JWKS
// fetch, then fails the signature check.
func TestUnknownKidRefetchesOnce(t *testing.T) {
	op := newTestOP()
	defer op.Close()
	rp := newRP(t, op, nil)
	ctx := context.Background()
	_, err := rp.VerifyIDToken(ctx, op.sign(op.claims(testNonce)), testNonce)
	require.NoError(t, err)
	require.EqualValues(t, 1, op.jwksFetches.Load())
	_, err = rp.VerifyIDToken(ctx, op.sign(op.claims(testNonce)), testNonce)
	require.NoError(t, err)
	require.EqualValues(t, 1, op.jwksFetches.Load(), "cached")

	keys, _ := testKeys()
	tok := signWith(signingKey{kid: "unknown", alg: jose.RS256, priv: keys[1]}, op.claims(testNonce), nil)
	_, err = rp.VerifyIDToken(ctx, tok, testNonce)
	assert.ErrorIs(t, err, oidc.CheckSignature)
	assert.EqualValues(t, 2, op.jwksFetches.Load(), "one refetch")
}

// TestKeyRotation: the provider rotates its key; tokens of the new key verify
// after one refetch; tokens of a withdrawn key fail.
func TestKeyRotation(t *testing.T) {
	op := newTestOP()
	defer op.Close()
	rp := newRP(t, op, nil)
	ctx := context.Background()
	old := op.sign(op.claims(testNonce))
	_, err := rp.VerifyIDToken(ctx, old, testNonce)
	require.NoError(t, err)

	op.rotate(1, true) // new key published next to the old one
	_, err = rp.VerifyIDToken(ctx, op.sign(op.claims(testNonce)), testNonce)
	require.NoError(t, err)
	assert.EqualValues(t, 2, op.jwksFetches.Load())
	_, err = rp.VerifyIDToken(ctx, old, testNonce)
	require.NoError(t, err, "the old key is still published")
	assert.EqualValues(t, 2, op.jwksFetches.Load())

	op.rotate(2, false) // old keys withdrawn
	_, err = rp.VerifyIDToken(ctx, op.sign(op.claims(testNonce)), testNonce)
	require.NoError(t, err)
	// go-oidc's RemoteKeySet hands the refetched keys to the waiting
	// verification before it replaces its cache, so for a moment the cache
	// still holds the withdrawn key: it stops verifying once the cache is
	// replaced.
	assert.Eventually(t, func() bool {
		_, err = rp.VerifyIDToken(ctx, old, testNonce)
		return errors.Is(err, oidc.CheckSignature)
	}, 5*time.Second, 5*time.Millisecond, "a withdrawn key no longer verifies")
}

// TestJWKSBounds: a key set over MaxResponseBytes, or unreachable, is CheckKeys.
func TestJWKSBounds(t *testing.T) {
	op := newTestOP()
	defer op.Close()
	defer op.set(knobs{padJWKS: 4096})()
	rp := newRP(t, op, func(c *oidc.Config) { c.MaxResponseBytes = 2048 })
	_, err := rp.VerifyIDToken(context.Background(), op.sign(op.claims(testNonce)), testNonce)
	assert.ErrorIs(t, err, oidc.CheckKeys)
	assert.ErrorIs(t, err, oidc.ErrProvider)

	rp = newRP(t, op, func(c *oidc.Config) { c.MaxResponseBytes = 8192 })
	_, err = rp.VerifyIDToken(context.Background(), op.sign(op.claims(testNonce)), testNonce)
	assert.NoError(t, err, "the same key set within the limit")

	op.Close()
	rp = newRP(t, op, nil)
	_, err = rp.VerifyIDToken(context.Background(), op.sign(op.claims(testNonce)), testNonce)
	assert.ErrorIs(t, err, oidc.CheckKeys)
}

// TestClaims: what the token says is what Claims says.
func TestClaims(t *testing.T) {
	op := newTestOP()
	defer op.Close()
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		claim any
		roles string // RolesClaim
		want  []string
	}{
		{"array", []string{"a", "b"}, "groups", []string{"a", "b"}},
		{"one string", "a", "groups", []string{"a"}},
		{"absent", nil, "groups", nil},
		{"roles claim off", []string{"a"}, "", nil},
		{"entra roles", []string{"Admin"}, "roles", []string{"Admin"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := op.claims(testNonce)
			delete(c, "groups")
			if tt.claim != nil {
				c[map[bool]string{true: "roles", false: "groups"}[tt.roles == "roles"]] = tt.claim
			}
			rp := newRP(t, op, func(cfg *oidc.Config) { cfg.RolesClaim = tt.roles })
			got, err := rp.VerifyIDToken(ctx, op.sign(c), testNonce)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.Roles)
		})
	}
	rp := newRP(t, op, nil)
	got, err := rp.VerifyIDToken(ctx, op.sign(op.claims(testNonce)), testNonce)
	require.NoError(t, err)
	assert.Equal(t, op.issuer(), got.Issuer)
	assert.Equal(t, []string{testClientID}, got.Audience)
	assert.Equal(t, "Ada Lovelace", got.Name)
	assert.Equal(t, "Ada", got.GivenName)
	assert.Equal(t, "Lovelace", got.FamilyName)
	assert.True(t, got.IssuedAt.Equal(testNow))
	assert.True(t, got.Expiry.Equal(testNow.Add(time.Hour)))
	assert.JSONEq(t, `"00u1ada"`, string(got.Raw["sub"]))
}

// TestAuthMethods: the amr claim is read as signed, an array of strings;
// any other shape, or one past the bounds, refuses the token
// (CheckMalformed) rather than being guessed at.
func TestAuthMethods(t *testing.T) {
	op := newTestOP()
	defer op.Close()
	rp := newRP(t, op, nil)
	long := strings.Repeat("x", oidc.MaxAuthMethodBytes)
	many := make([]string, oidc.MaxAuthMethods)
	for i := range many {
		many[i] = "m" + itoa(int64(i))
	}
	for _, tt := range []struct {
		name    string
		amr     any // nil: no amr claim
		raw     bool
		want    []string
		wantErr error
	}{
		{name: "absent"},
		{name: "null", amr: json.RawMessage("null"), raw: true},
		{name: "Okta password and OTP", amr: []string{"pwd", "mfa", "otp"}, want: []string{"pwd", "mfa", "otp"}},
		{name: "Entra ID", amr: []string{"pwd", "mfa"}, want: []string{"pwd", "mfa"}},
		{name: "empty array", amr: []string{}, want: []string{}},
		{name: "at the bounds", amr: append(many[:len(many)-1:len(many)-1], long), want: append(many[:len(many)-1:len(many)-1], long)},
		{name: "a string", amr: "mfa", wantErr: oidc.CheckMalformed},
		{name: "an object", amr: map[string]any{"mfa": true}, wantErr: oidc.CheckMalformed},
		{name: "numbers", amr: []int{1, 2}, wantErr: oidc.CheckMalformed},
		{name: "too many", amr: append(many, "mfa"), wantErr: oidc.CheckMalformed},
		{name: "too long", amr: []string{long + "x"}, wantErr: oidc.CheckMalformed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := op.claims(testNonce)
			if tt.amr != nil {
				c["amr"] = tt.amr
			}
			got, err := rp.VerifyIDToken(context.Background(), op.sign(c), testNonce)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.AuthMethods)
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func itoa(n int64) string { return big.NewInt(n).String() }

// TestGoogleIssuerAliasRefused: go-oidc accepts iss "accounts.google.com"
// for the issuer https://accounts.google.com; the issuer check here is exact.
func TestGoogleIssuerAliasRefused(t *testing.T) {
	op := newTestOP()
	defer op.Close()
	cfg := op.config()
	cfg.Issuer = "https://accounts.google.com"
	rp, err := oidc.New(cfg, oidc.Endpoints{AuthURL: op.issuer() + "/authorize", TokenURL: op.issuer() + "/token", JWKSURL: op.issuer() + "/jwks"})
	require.NoError(t, err)
	c := op.claims(testNonce)
	c["iss"] = "accounts.google.com"
	_, err = rp.VerifyIDToken(context.Background(), op.sign(c), testNonce)
	assert.ErrorIs(t, err, oidc.CheckIssuer)
	c["iss"] = "https://accounts.google.com"
	_, err = rp.VerifyIDToken(context.Background(), op.sign(c), testNonce)
	assert.NoError(t, err)
}

// TestRedirectToInsecureURLRefused: the HTTP client follows no redirect to
// plain http (other than localhost).
func TestRedirectToInsecureURLRefused(t *testing.T) {
	op := newTestOP()
	defer op.Close()
	redirector := httptest.NewServer(http.RedirectHandler("http://idp.example.com/jwks", http.StatusFound))
	defer redirector.Close()
	cfg := op.config()
	rp, err := oidc.New(cfg, oidc.Endpoints{AuthURL: op.issuer() + "/authorize", TokenURL: op.issuer() + "/token", JWKSURL: redirector.URL})
	require.NoError(t, err)
	_, err = rp.VerifyIDToken(context.Background(), op.sign(op.claims(testNonce)), testNonce)
	assert.ErrorIs(t, err, oidc.CheckKeys)
	assert.Contains(t, err.Error(), "redirect refused")
}
