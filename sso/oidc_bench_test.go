package sso_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/orgsso/orgsso/oidc"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/memory"
)

// benchOP is an OpenID provider answered in process (an http.RoundTripper,
// no sockets): discovery, the key set, and a token endpoint that returns
// the ID token the benchmark signed beforehand, so the provider's own work
// (signing) stays outside the measured sign-in.
type benchOP struct {
	issuer string
	key    *rsa.PrivateKey
	signer jose.Signer
	mu     sync.Mutex
	token  string // the next token endpoint answer's id_token
}

func newBenchOP(b *testing.B, key *rsa.PrivateKey) *benchOP {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	return &benchOP{issuer: "https://op.bench.example", key: key, signer: signer}
}

// sign makes the ID token of a sign-in with this nonce.
func (op *benchOP) sign(b *testing.B, nonce string, now time.Time) string {
	claims, _ := json.Marshal(map[string]any{
		"iss": op.issuer, "sub": "sub-ada", "aud": "app", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(),
		"nonce": nonce, "email": "ada@acme.example", "email_verified": true, "given_name": "Ada", "family_name": "Example",
		"groups": []string{"Admins"},
	})
	jws, err := op.signer.Sign(claims)
	if err != nil {
		b.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

func (op *benchOP) RoundTrip(r *http.Request) (*http.Response, error) {
	var body any
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		body = map[string]any{"issuer": op.issuer, "authorization_endpoint": op.issuer + "/authorize",
			"token_endpoint": op.issuer + "/token", "jwks_uri": op.issuer + "/jwks",
			"code_challenge_methods_supported": []string{"S256"}, "id_token_signing_alg_values_supported": []string{"RS256"}}
	case "/jwks":
		body = jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &op.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}}
	case "/token":
		op.mu.Lock()
		body = map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 3600, "id_token": op.token}
		op.mu.Unlock()
	default:
		return &http.Response{StatusCode: http.StatusNotFound, Body: io.NopCloser(strings.NewReader("")), Header: http.Header{}, Request: r}, nil
	}
	b, _ := json.Marshal(body)
	return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader(string(b))),
		Header: http.Header{"Content-Type": {"application/json"}}, Request: r}, nil
}

// zeros is a constant randomness stream, for the benchmark only.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// BenchmarkOIDCSignIn compares, in one run, orgsso's ID token verification
// (oidc.RelyingParty.VerifyIDToken: every check) and its whole OIDC sign-in —
// StartLoginWith (pending request, state, nonce, PKCE), then HandleCallback
// (binding, request consumed, code exchange, every ID token check with the
// cached key set, identity, role mapping, member, session) over the memory
// store — with go-oidc's bare IDTokenVerifier.Verify of the same kind of
// token (RS256 2048, cached keys). The provider signs outside the loop.
func BenchmarkOIDCSignIn(b *testing.B) {
	now := testNow
	key := loadKey(b, "idp.key.pem")
	op := newBenchOP(b, key)
	ctx := context.Background()

	b.Run("go-oidc-Verify", func(b *testing.B) {
		keys := &gooidc.StaticKeySet{PublicKeys: []crypto.PublicKey{&key.PublicKey}}
		v := gooidc.NewVerifier(op.issuer, keys, &gooidc.Config{ClientID: "app", Now: func() time.Time { return now }})
		tok := op.sign(b, "n", now)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("orgsso-VerifyIDToken", func(b *testing.B) {
		rp, err := oidc.New(oidc.Config{Issuer: op.issuer, ClientID: "app", RedirectURL: "https://app.example.com/cb",
			RolesClaim: "groups", Now: func() time.Time { return now }, HTTPClient: &http.Client{Transport: op}},
			oidc.Endpoints{AuthURL: op.issuer + "/authorize", TokenURL: op.issuer + "/token", JWKSURL: op.issuer + "/jwks"})
		if err != nil {
			b.Fatal(err)
		}
		tok := op.sign(b, "n", now)
		if _, err := rp.VerifyIDToken(ctx, tok, "n"); err != nil { // the key set, once
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := rp.VerifyIDToken(ctx, tok, "n"); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("orgsso-SignIn", func(b *testing.B) {
		store := memory.New()
		clock := func() time.Time { return now }
		svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: store,
			Sessions: session.NewManager(store, session.WithClock(clock)), Now: clock, Rand: zeros{},
			HTTPClient: &http.Client{Transport: op}})
		if err != nil {
			b.Fatal(err)
		}
		org := &sso.Organization{ID: "org-acme", SSOName: "acme", OwnerID: ownerID, RoleMapping: acmeMapping(),
			Connections: []sso.Connection{{ID: "okta", Name: "Okta", Protocol: sso.ProtocolOIDC,
				OIDC: sso.OIDCConfig{Issuer: op.issuer, ClientID: "app", ClientSecret: "s", RolesClaim: "groups"}}}}
		if err := svc.CreateOrganization(ctx, org); err != nil {
			b.Fatal(err)
		}
		if err := svc.EnableConnection(ctx, org.ID, "okta", ownerID); err != nil {
			b.Fatal(err)
		}
		if err := svc.Enable(ctx, org.ID, ownerID); err != nil {
			b.Fatal(err)
		}
		// The Service's randomness is a constant stream, so every sign-in
		// draws the same state, nonce and verifier (each request is used up
		// before the next starts): the provider's token for that nonce is
		// signed once, outside the loop, and the timer never stops.
		signIn := func(b *testing.B) {
			rd, err := svc.StartLoginWith(ctx, "acme", sso.LoginOptions{Connection: "okta"})
			if err != nil {
				b.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodGet, "https://app.example.com/sso/acme/okta/callback?code=c&state="+url.QueryEscape(rd.RequestID), nil)
			req.AddCookie(rd.Cookie)
			if _, err := svc.HandleCallback(ctx, "acme", "okta", req); err != nil {
				b.Fatal(err)
			}
		}
		rd, err := svc.StartLoginWith(ctx, "acme", sso.LoginOptions{Connection: "okta"}) // discovery, once
		if err != nil {
			b.Fatal(err)
		}
		u, _ := url.Parse(rd.URL)
		op.mu.Lock()
		op.token = op.sign(b, u.Query().Get("nonce"), now)
		op.mu.Unlock()
		if _, err := store.ConsumeRequest(ctx, rd.RequestID); err != nil { // the next start draws the same ID
			b.Fatal(err)
		}
		signIn(b) // the key set, once
		b.ReportAllocs()
		for b.Loop() {
			signIn(b)
		}
	})
}
