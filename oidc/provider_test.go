package oidc_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/orgsso/orgsso/oidc"
)

// This file is an in-process OpenID provider for the tests: discovery, JWKS,
// token and userinfo endpoints on httptest, signing real JWTs with go-jose.
// It never needs a *testing.T, so the Example can use it too.

const (
	testClientID = "orgsso-app"
	testSecret   = "s3cret-never-printed"
	testRedirect = "http://localhost:8080/sso/callback"
)

// testNow is the instant every test runs at, unless it says otherwise.
var testNow = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

var (
	keysOnce sync.Once
	rsaKeys  [3]*rsa.PrivateKey
	ecKey    *ecdsa.PrivateKey
)

// testKeys returns three RSA 2048 keys and a P-256 key, made once.
func testKeys() ([3]*rsa.PrivateKey, *ecdsa.PrivateKey) {
	keysOnce.Do(func() {
		for i := range rsaKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKeys[i] = k
		}
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		ecKey = k
	})
	return rsaKeys, ecKey
}

// signingKey is one key of the provider.
type signingKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

func (k signingKey) public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

// grant is an authorization the provider gave: what the code stands for.
type grant struct {
	nonce, challenge, redirect string
	used                       bool
}

// testOP is the in-process OpenID provider.
type testOP struct {
	srv    *httptest.Server
	now    func() time.Time
	mu     sync.Mutex
	signer signingKey   // signs new tokens
	jwks   []signingKey // published
	grants map[string]*grant
	seq    int

	jwksFetches atomic.Int32
	k           knobs // guarded by mu; set with set
}

// knobs break or change what the provider answers.
type knobs struct {
	discovery   func(map[string]any) // edits the discovery document
	tokenClaims func(map[string]any) // edits the claims of the token endpoint's ID token
	userinfo    func(map[string]any) // edits the userinfo response
	tokenDelay  time.Duration        // delays the token endpoint
	padJWKS     int                  // pads the JWKS response to that many bytes
}

// set replaces the knobs; the returned func restores the defaults:
//
//	defer op.set(knobs{tokenDelay: time.Second})()
func (op *testOP) set(k knobs) func() {
	op.mu.Lock()
	op.k = k
	op.mu.Unlock()
	return func() { op.set(knobs{}) }
}

func (op *testOP) knobs() knobs {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.k
}

// newTestOP starts a provider signing with RS256 key 0.
func newTestOP() *testOP {
	keys, _ := testKeys()
	op := &testOP{now: func() time.Time { return testNow }, grants: map[string]*grant{}}
	op.signer = signingKey{kid: "k0", alg: jose.RS256, priv: keys[0]}
	op.jwks = []signingKey{op.signer}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", op.serveDiscovery)
	mux.HandleFunc("GET /jwks", op.serveJWKS)
	mux.HandleFunc("POST /token", op.serveToken)
	mux.HandleFunc("GET /userinfo", op.serveUserInfo)
	op.srv = httptest.NewServer(mux)
	return op
}

func (op *testOP) Close()         { op.srv.Close() }
func (op *testOP) issuer() string { return op.srv.URL }

// config is a valid Config for this provider, at testNow.
func (op *testOP) config() oidc.Config {
	return oidc.Config{
		Issuer: op.issuer(), ClientID: testClientID, ClientSecret: testSecret,
		RedirectURL: testRedirect, RolesClaim: "groups",
		Now: func() time.Time { return testNow },
	}
}

func (op *testOP) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	doc := map[string]any{
		"issuer":                                op.issuer(),
		"authorization_endpoint":                op.issuer() + "/authorize",
		"token_endpoint":                        op.issuer() + "/token",
		"jwks_uri":                              op.issuer() + "/jwks",
		"userinfo_endpoint":                     op.issuer() + "/userinfo",
		"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic"},
	}
	if k := op.knobs(); k.discovery != nil {
		k.discovery(doc)
	}
	writeJSON(w, http.StatusOK, doc)
}

func (op *testOP) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	op.jwksFetches.Add(1)
	op.mu.Lock()
	set := jose.JSONWebKeySet{}
	for _, k := range op.jwks {
		set.Keys = append(set.Keys, k.public())
	}
	pad := op.k.padJWKS
	op.mu.Unlock()
	b, err := json.Marshal(set)
	if err != nil {
		panic(err)
	}
	if pad > len(b) { // valid JSON, padded with white space
		b = append(b, bytes.Repeat([]byte(" "), pad-len(b))...)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// rotate makes key i (an RSA key) the signer with a new kid; the old keys
// stay published when keepOld, else they are withdrawn.
func (op *testOP) rotate(i int, keepOld bool) {
	keys, _ := testKeys()
	op.mu.Lock()
	defer op.mu.Unlock()
	op.seq++
	k := signingKey{kid: "k" + strconv.Itoa(i) + "-" + strconv.Itoa(op.seq), alg: jose.RS256, priv: keys[i]}
	op.signer = k
	if keepOld {
		op.jwks = append(op.jwks, k)
	} else {
		op.jwks = []signingKey{k}
	}
}

// claims are valid claims for the test client at the provider's now.
func (op *testOP) claims(nonce string) map[string]any {
	now := op.now()
	return map[string]any{
		"iss": op.issuer(), "sub": "00u1ada", "aud": testClientID,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"nonce": nonce, "email": "ada@example.com", "email_verified": true,
		"name": "Ada Lovelace", "given_name": "Ada", "family_name": "Lovelace",
		"groups": []string{"admins", "engineering"},
	}
}

// sign signs claims with the current key, as a compact JWS.
func (op *testOP) sign(claims map[string]any) string {
	op.mu.Lock()
	k := op.signer
	op.mu.Unlock()
	return signWith(k, claims, nil)
}

// signWith signs claims with k, adding extra header fields.
func signWith(k signingKey, claims map[string]any, opts *jose.SignerOptions) string {
	if opts == nil {
		opts = &jose.SignerOptions{}
	}
	opts = opts.WithType("JWT")
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}}, opts)
	if err != nil {
		panic(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		panic(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		panic(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		panic(err)
	}
	return out
}

// authorize plays the provider's authorization endpoint and the browser: it
// reads the authorization URL the relying party built and returns the query
// of the redirect back to the client (code and state), for sub's claims.
func (op *testOP) authorize(authURL string) url.Values {
	u, err := url.Parse(authURL)
	if err != nil {
		panic(err)
	}
	q := u.Query()
	if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("client_id") != testClientID {
		panic("bad authorization request: " + authURL)
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	op.seq++
	code := "code-" + strconv.Itoa(op.seq)
	op.grants[code] = &grant{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
	return url.Values{"code": {code}, "state": {q.Get("state")}}
}

func (op *testOP) serveToken(w http.ResponseWriter, r *http.Request) {
	k := op.knobs()
	if k.tokenDelay > 0 {
		select {
		case <-time.After(k.tokenDelay):
		case <-r.Context().Done():
			return
		}
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	if id != testClientID || secret != testSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	if r.PostFormValue("grant_type") != "authorization_code" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	op.mu.Lock()
	g := op.grants[r.PostFormValue("code")]
	replay := g != nil && g.used
	if g != nil {
		g.used = true
	}
	op.mu.Unlock()
	switch {
	case g == nil || replay:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "the code is invalid or was already used"})
		return
	case g.redirect != r.PostFormValue("redirect_uri"):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "redirect_uri mismatch"})
		return
	}
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "PKCE verification failed"})
		return
	}
	claims := op.claims(g.nonce)
	if k.tokenClaims != nil {
		k.tokenClaims(claims)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": "at-" + r.PostFormValue("code"), "token_type": "Bearer", "expires_in": 3600,
		"id_token": op.sign(claims),
	})
}

func (op *testOP) serveUserInfo(w http.ResponseWriter, r *http.Request) {
	if len(r.Header.Get("Authorization")) < len("Bearer at-") {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	info := map[string]any{"sub": "00u1ada", "email": "ada@example.com", "email_verified": true, "name": "Ada Lovelace"}
	if k := op.knobs(); k.userinfo != nil {
		k.userinfo(info)
	}
	writeJSON(w, http.StatusOK, info)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		panic(fmt.Sprint("encoding test response: ", err))
	}
}
