package oidc_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/oidc"
)

// discover runs discovery against op with edit applied to the config.
func discover(t testing.TB, op *testOP, edit func(*oidc.Config)) (*oidc.RelyingParty, error) {
	t.Helper()
	cfg := op.config()
	if edit != nil {
		edit(&cfg)
	}
	return oidc.Discover(context.Background(), cfg)
}

func TestSignInRoundTrip(t *testing.T) {
	op := newTestOP()
	defer op.Close()
	rp, err := discover(t, op, nil)
	require.NoError(t, err)
	assert.Equal(t, op.issuer()+"/token", rp.Endpoints().TokenURL)

	req, err := rp.AuthRequest(oidc.AuthParams{LoginHint: "ada@example.com", Prompt: "login"})
	require.NoError(t, err)
	claims, err := rp.Finish(context.Background(), op.authorize(req.URL), req)
	require.NoError(t, err)
	email, err := claims.VerifiedEmail()
	require.NoError(t, err)
	assert.Equal(t, "ada@example.com", email)
	assert.Equal(t, "00u1ada", claims.Subject)
	assert.Equal(t, []string{"admins", "engineering"}, claims.Roles)
}

func TestAuthRequest(t *testing.T) {
	op := newTestOP()
	defer op.Close()
	// Randomness from Config.Rand: 96 known bytes make known values.
	seed := bytes.Repeat([]byte{7}, 32)
	seed = append(seed, bytes.Repeat([]byte{8}, 32)...)
	seed = append(seed, bytes.Repeat([]byte{9}, 32)...)
	rp := newRP(t, op, func(c *oidc.Config) { c.Rand = bytes.NewReader(seed) })
	req, err := rp.AuthRequest(oidc.AuthParams{LoginHint: "ada@example.com", Prompt: "select_account consent"})
	require.NoError(t, err)
	enc := base64.RawURLEncoding.EncodeToString
	assert.Equal(t, enc(seed[:32]), req.State)
	assert.Equal(t, enc(seed[32:64]), req.Nonce)
	assert.Equal(t, enc(seed[64:]), req.CodeVerifier)
	for _, v := range []string{req.State, req.Nonce, req.CodeVerifier} {
		assert.GreaterOrEqual(t, len(v), 43, "at least 256 bits, base64url")
		assert.Equal(t, url.QueryEscape(v), v, "URL-safe")
	}

	u, err := url.Parse(req.URL)
	require.NoError(t, err)
	q := u.Query()
	sum := sha256.Sum256([]byte(req.CodeVerifier))
	for k, want := range map[string]string{
		"response_type": "code", "client_id": testClientID, "redirect_uri": testRedirect,
		"scope": "openid email profile", "state": req.State, "nonce": req.Nonce,
		"code_challenge": enc(sum[:]), "code_challenge_method": "S256",
		"login_hint": "ada@example.com", "prompt": "select_account consent",
	} {
		assert.Equal(t, want, q.Get(k), k)
	}
	assert.Empty(t, q.Get("code_verifier"))

	// Exhausted randomness is an error, never a weak value.
	_, err = rp.AuthRequest(oidc.AuthParams{})
	assert.ErrorIs(t, err, io.EOF)

	for _, opt := range []oidc.AuthParams{
		{Prompt: "none login"}, {Prompt: "always"}, {Prompt: " "},
		{LoginHint: "ada\n@example.com"}, {LoginHint: strings.Repeat("a", 321)},
	} {
		_, err := newRP(t, op, nil).AuthRequest(opt)
		assert.ErrorIs(t, err, oidc.ErrInvalidConfig)
	}
}

// TestFinishAttacks: one row per attack on the callback and the code.
func TestFinishAttacks(t *testing.T) {
	op := newTestOP()
	defer op.Close()
	ctx := context.Background()
	tests := []struct {
		name    string
		run     func(rp *oidc.RelyingParty) error
		wantErr error
	}{
		{"replayed code: the provider refuses it", func(rp *oidc.RelyingParty) error {
			req := must(rp.AuthRequest(oidc.AuthParams{}))
			cb := op.authorize(req.URL)
			if _, err := rp.Finish(ctx, cb, req); err != nil {
				return errors.New("first use failed: " + err.Error())
			}
			_, err := rp.Finish(ctx, cb, req)
			return err
		}, oidc.CheckTokenExchange},
		{"state of another sign-in", func(rp *oidc.RelyingParty) error {
			req, other := must(rp.AuthRequest(oidc.AuthParams{})), must(rp.AuthRequest(oidc.AuthParams{}))
			_, err := rp.Finish(ctx, op.authorize(other.URL), req)
			return err
		}, oidc.CheckState},
		{"no state", func(rp *oidc.RelyingParty) error {
			req := must(rp.AuthRequest(oidc.AuthParams{}))
			cb := op.authorize(req.URL)
			cb.Del("state")
			_, err := rp.Finish(ctx, cb, req)
			return err
		}, oidc.CheckState},
		{"no pending request", func(rp *oidc.RelyingParty) error {
			_, err := rp.Finish(ctx, url.Values{"code": {"c"}, "state": {""}}, &oidc.AuthRequest{})
			return err
		}, oidc.CheckState},
		{"code of another sign-in (its verifier and nonce)", func(rp *oidc.RelyingParty) error {
			req, other := must(rp.AuthRequest(oidc.AuthParams{})), must(rp.AuthRequest(oidc.AuthParams{}))
			cb := op.authorize(other.URL)
			cb.Set("state", req.State)
			_, err := rp.Finish(ctx, cb, req)
			return err
		}, oidc.CheckTokenExchange},
		{"provider error in the callback", func(rp *oidc.RelyingParty) error {
			req := must(rp.AuthRequest(oidc.AuthParams{}))
			_, err := rp.Finish(ctx, url.Values{"error": {"access_denied"}, "state": {req.State}}, req)
			return err
		}, oidc.CheckAuthorization},
		{"callback iss of another provider (mix-up)", func(rp *oidc.RelyingParty) error {
			req := must(rp.AuthRequest(oidc.AuthParams{}))
			cb := op.authorize(req.URL)
			cb.Set("iss", "https://evil.example.com")
			_, err := rp.Finish(ctx, cb, req)
			return err
		}, oidc.CheckIssuer},
		{"two codes", func(rp *oidc.RelyingParty) error {
			req := must(rp.AuthRequest(oidc.AuthParams{}))
			cb := op.authorize(req.URL)
			cb.Add("code", "another")
			_, err := rp.Finish(ctx, cb, req)
			return err
		}, oidc.CheckAuthorization},
		{"ID token of the token response with another nonce", func(rp *oidc.RelyingParty) error {
			defer op.set(knobs{tokenClaims: func(c map[string]any) { c["nonce"] = "stolen" }})()
			req := must(rp.AuthRequest(oidc.AuthParams{}))
			_, err := rp.Finish(ctx, op.authorize(req.URL), req)
			return err
		}, oidc.CheckNonce},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run(newRP(t, op, nil))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Finish() err = %v; want %v", err, tt.wantErr)
			}
		})
	}
}

// TestTokenEndpointErrors: refusals, failures and timeouts of the token
// endpoint are CheckTokenExchange, and no error text carries the code, the
// verifier or the client secret.
func TestTokenEndpointErrors(t *testing.T) {
	op := newTestOP()
	defer op.Close()
	ctx := context.Background()
	check := func(t *testing.T, err error, req *oidc.AuthRequest, code string) {
		t.Helper()
		require.ErrorIs(t, err, oidc.CheckTokenExchange)
		require.ErrorIs(t, err, oidc.ErrProvider)
		for _, secret := range []string{testSecret, code, req.CodeVerifier} {
			assert.NotContains(t, err.Error(), secret)
		}
	}
	t.Run("replayed code", func(t *testing.T) {
		rp := newRP(t, op, nil)
		req := must(rp.AuthRequest(oidc.AuthParams{}))
		cb := op.authorize(req.URL)
		_, err := rp.Finish(ctx, cb, req)
		require.NoError(t, err)
		_, err = rp.Finish(ctx, cb, req)
		check(t, err, req, cb.Get("code"))
		assert.Contains(t, err.Error(), "invalid_grant")
	})
	t.Run("wrong client secret", func(t *testing.T) {
		rp := newRP(t, op, func(c *oidc.Config) { c.ClientSecret = "wrong-secret" })
		req := must(rp.AuthRequest(oidc.AuthParams{}))
		cb := op.authorize(req.URL)
		_, err := rp.Finish(ctx, cb, req)
		check(t, err, req, cb.Get("code"))
		assert.NotContains(t, err.Error(), "wrong-secret")
		assert.Contains(t, err.Error(), "invalid_client")
	})
	t.Run("timeout", func(t *testing.T) {
		defer op.set(knobs{tokenDelay: 2 * time.Second})()
		rp := newRP(t, op, func(c *oidc.Config) { c.HTTPClient = &http.Client{Timeout: 100 * time.Millisecond} })
		req := must(rp.AuthRequest(oidc.AuthParams{}))
		cb := op.authorize(req.URL)
		_, err := rp.Finish(ctx, cb, req)
		check(t, err, req, cb.Get("code"))
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("response over MaxResponseBytes", func(t *testing.T) {
		defer op.set(knobs{tokenClaims: func(c map[string]any) { c["pad"] = strings.Repeat("p", 8192) }})()
		rp := newRP(t, op, func(c *oidc.Config) { c.MaxResponseBytes = 4096 })
		req := must(rp.AuthRequest(oidc.AuthParams{}))
		cb := op.authorize(req.URL)
		_, err := rp.Finish(ctx, cb, req)
		check(t, err, req, cb.Get("code"))
	})
	t.Run("unreachable", func(t *testing.T) {
		rp, err := oidc.New(op.config(), oidc.Endpoints{AuthURL: op.issuer() + "/authorize",
			TokenURL: "http://127.0.0.1:1/token", JWKSURL: op.issuer() + "/jwks"})
		require.NoError(t, err)
		req := must(rp.AuthRequest(oidc.AuthParams{}))
		_, err = rp.Exchange(ctx, "the-code", req.CodeVerifier, req.Nonce)
		check(t, err, req, "the-code")
	})
}

func TestUserInfo(t *testing.T) {
	op := newTestOP()
	defer op.Close()
	ctx := context.Background()
	run := func(t *testing.T) (*oidc.Claims, error) {
		rp := newRP(t, op, func(c *oidc.Config) { c.UserInfo = true })
		req := must(rp.AuthRequest(oidc.AuthParams{}))
		return rp.Finish(ctx, op.authorize(req.URL), req)
	}
	t.Run("fills what the ID token lacks", func(t *testing.T) {
		defer op.set(knobs{tokenClaims: func(c map[string]any) { delete(c, "email"); delete(c, "email_verified"); delete(c, "name") }})()
		claims, err := run(t)
		require.NoError(t, err)
		assert.Equal(t, "ada@example.com", must(claims.VerifiedEmail()))
		assert.Equal(t, "Ada Lovelace", claims.Name)
	})
	t.Run("the ID token wins", func(t *testing.T) {
		defer op.set(knobs{userinfo: func(u map[string]any) { u["email"] = "other@example.com" }})()
		claims, err := run(t)
		require.NoError(t, err)
		assert.Equal(t, "ada@example.com", claims.Email)
	})
	t.Run("amr only from the ID token", func(t *testing.T) {
		// amr reports the authentication the ID token describes; userinfo
		// neither adds one nor, malformed, fails the sign-in.
		defer op.set(knobs{userinfo: func(u map[string]any) { u["amr"] = []string{"mfa"} }})()
		claims, err := run(t)
		require.NoError(t, err)
		assert.Nil(t, claims.AuthMethods)
	})
	t.Run("malformed amr in userinfo is not read", func(t *testing.T) {
		defer op.set(knobs{
			tokenClaims: func(c map[string]any) { c["amr"] = []string{"pwd"} },
			userinfo:    func(u map[string]any) { u["amr"] = "mfa" },
		})()
		claims, err := run(t)
		require.NoError(t, err)
		assert.Equal(t, []string{"pwd"}, claims.AuthMethods)
	})
	t.Run("sub of another user", func(t *testing.T) {
		defer op.set(knobs{userinfo: func(u map[string]any) { u["sub"] = "00u2eve" }})()
		_, err := run(t)
		assert.ErrorIs(t, err, oidc.CheckUserInfo)
	})
	t.Run("no sub", func(t *testing.T) {
		defer op.set(knobs{userinfo: func(u map[string]any) { delete(u, "sub") }})()
		_, err := run(t)
		assert.ErrorIs(t, err, oidc.CheckUserInfo)
	})
}

func TestDiscovery(t *testing.T) {
	op := newTestOP()
	defer op.Close()
	tests := []struct {
		name    string
		doc     func(map[string]any)
		edit    func(*oidc.Config)
		wantErr error
	}{
		{"issuer mismatch", func(d map[string]any) { d["issuer"] = "https://evil.example.com" }, nil, oidc.CheckDiscovery},
		{"issuer with a trailing slash", func(d map[string]any) { d["issuer"] = op.issuer() + "/" }, nil, oidc.CheckDiscovery},
		{"jwks_uri over http, not localhost", func(d map[string]any) { d["jwks_uri"] = "http://idp.example.com/jwks" }, nil, oidc.CheckDiscovery},
		{"token_endpoint missing", func(d map[string]any) { delete(d, "token_endpoint") }, nil, oidc.CheckDiscovery},
		{"no S256 PKCE", func(d map[string]any) { d["code_challenge_methods_supported"] = []string{"plain"} }, nil, oidc.CheckDiscovery},
		{"document over MaxResponseBytes", func(d map[string]any) { d["pad"] = strings.Repeat("p", 4096) },
			func(c *oidc.Config) { c.MaxResponseBytes = 2048 }, oidc.CheckDiscovery},
		{"userinfo required but not offered", func(d map[string]any) { delete(d, "userinfo_endpoint") },
			func(c *oidc.Config) { c.UserInfo = true }, oidc.CheckDiscovery},
		{"no userinfo, not required", func(d map[string]any) { delete(d, "userinfo_endpoint") }, nil, nil},
		{"client_secret_post only", func(d map[string]any) { d["token_endpoint_auth_methods_supported"] = []string{"client_secret_post"} }, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer op.set(knobs{discovery: tt.doc})()
			rp, err := discover(t, op, tt.edit)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Discover() err = %v; want %v", err, tt.wantErr)
				}
				assert.ErrorIs(t, err, oidc.ErrProvider)
				assert.LessOrEqual(t, len(err.Error()), 1500)
				return
			}
			require.NoError(t, err)
			req := must(rp.AuthRequest(oidc.AuthParams{}))
			_, err = rp.Finish(context.Background(), op.authorize(req.URL), req)
			require.NoError(t, err, "a sign-in works")
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		_, err := oidc.Discover(context.Background(), oidc.Config{Issuer: "http://127.0.0.1:1", ClientID: "a", RedirectURL: testRedirect})
		assert.ErrorIs(t, err, oidc.CheckDiscovery)
	})
	t.Run("http issuer refused before any request", func(t *testing.T) {
		_, err := oidc.Discover(context.Background(), oidc.Config{Issuer: "http://idp.example.com", ClientID: "a", RedirectURL: testRedirect})
		assert.ErrorIs(t, err, oidc.ErrInvalidConfig)
	})
}
