package ssotest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/orgsso/orgsso/sso"
)

// Defaults of OIDCConfig.
const (
	DefaultOIDCIssuer      = "https://op.example.test"
	DefaultClientID        = "orgsso-test-client"
	DefaultClientSecret    = "orgsso-test-secret"
	DefaultRedirectURI     = "https://app.example.test/oidc/callback"
	DefaultRolesClaim      = "groups" // Okta's name; Entra ID uses "roles"
	DefaultIDTokenLifetime = time.Hour
	DefaultCodeLifetime    = time.Minute
)

// The ID token signing algorithms the OpenID provider supports.
const (
	RS256 = "RS256"
	ES256 = "ES256"
)

// The paths of the OpenID provider's endpoints, under the issuer's path.
const (
	OIDCDiscoveryPath = "/.well-known/openid-configuration"
	OIDCJWKSPath      = "/jwks"
	OIDCAuthorizePath = "/authorize"
	OIDCTokenPath     = "/token"
	OIDCUserinfoPath  = "/userinfo"
)

// OIDCClient is a relying party registered at the OpenID provider.
type OIDCClient struct {
	// ID is the client_id. Required.
	ID string
	// Secret authenticates the client at the token endpoint, by
	// client_secret_basic or client_secret_post. Required. It never prints.
	Secret sso.Secret
	// RedirectURIs are the registered redirect URIs; a request's redirect_uri
	// must equal one of them exactly (no prefix or wildcard match). At least
	// one.
	RedirectURIs []string
}

// String returns the client's ID, never its secret.
func (c OIDCClient) String() string { return "OIDCClient{ID: " + c.ID + ", Secret: [REDACTED]}" }

// OIDCConfig configures a test OpenID provider. The zero value is usable: one
// client (DefaultClientID, DefaultClientSecret, DefaultRedirectURI), RS256, and
// every login signs in DefaultOIDCUser.
type OIDCConfig struct {
	// Issuer is the provider's issuer identifier, the iss of its ID tokens:
	// an absolute http or https URL without query or fragment. Its endpoints
	// are the Issuer followed by OIDCDiscoveryPath, OIDCJWKSPath, and so on,
	// and ServeHTTP answers on those paths. To serve on httptest.NewServer,
	// pass the server's URL (see the package documentation).
	// "" = DefaultOIDCIssuer.
	Issuer string
	// Clients are the registered relying parties. none = one client with
	// DefaultClientID, DefaultClientSecret and DefaultRedirectURI.
	Clients []OIDCClient
	// Algorithm signs ID tokens: RS256 or ES256. "" = the kind of Key, or
	// RS256 when Key is nil.
	Algorithm string
	// Key signs ID tokens: an *rsa.PrivateKey (RS256) or an *ecdsa.PrivateKey
	// on P-256 (ES256). nil = a fresh key for Algorithm (key generation always
	// uses crypto/rand, whatever Rand is).
	Key crypto.Signer
	// OtherKey signs the tokens that JWTOtherKey, JWTEmbeddedJWK and
	// JWTForeignJKU ask for: a key of the same kind as Key that the JWKS never
	// publishes. nil = a fresh key, made when first needed.
	OtherKey crypto.Signer
	// Now stamps iat and exp, and judges code, access token and retired key
	// expiry. nil = time.Now.
	Now func() time.Time
	// Rand supplies the randomness of authorization codes and access tokens.
	// nil = crypto/rand. The provider serializes its reads.
	Rand io.Reader
	// Login chooses the user an authorization request signs in, as the
	// provider's login page would; SetLogin replaces it later. nil = every
	// request signs in DefaultOIDCUser.
	Login OIDCLoginFunc
	// RolesClaim names the claim that carries User.Roles: "groups" (Okta),
	// "roles" (Entra ID). "" = DefaultRolesClaim.
	RolesClaim string
	// IDTokenLifetime is exp - iat of ID tokens, and the lifetime of access
	// tokens. 0 = DefaultIDTokenLifetime.
	IDTokenLifetime time.Duration
	// CodeLifetime is how long an authorization code can be exchanged.
	// 0 = DefaultCodeLifetime.
	CodeLifetime time.Duration
}

// DefaultOIDCUser returns the user a provider without a Login signs in.
func DefaultOIDCUser() User {
	return User{
		NameID:    "00u1ada",
		Email:     "ada@example.com",
		FirstName: "Ada",
		LastName:  "Lovelace",
		Roles:     []string{"engineering"},
	}
}

// OIDCProvider is an OpenID Connect provider for tests, the way IdP is a SAML
// identity provider for tests: an http.Handler serving discovery, JWKS, the
// authorization endpoint (code flow with PKCE S256), the token endpoint and
// userinfo. Build it with NewOIDC. It is safe for concurrent use.
type OIDCProvider struct {
	issuer     string
	basePath   string // the issuer's path without a trailing slash
	alg        jose.SignatureAlgorithm
	clients    map[string]OIDCClient
	now        func() time.Time
	rolesClaim string
	idLifetime time.Duration
	codeLife   time.Duration

	randMu sync.Mutex
	rand   io.Reader

	mu       sync.Mutex
	current  oidcKey
	retired  []oidcKey // published until their until
	other    *oidcKey  // JWTOtherKey and friends; made when first needed
	mismatch *oidcKey  // JWTAlgMismatch; made when first needed
	login    OIDCLoginFunc
	codes    map[string]*oidcCode
	tokens   map[string]*oidcAccess
	next     *TokenResponse
}

// oidcKey is a signing key with its JWK key ID.
type oidcKey struct {
	kid   string
	alg   jose.SignatureAlgorithm
	priv  crypto.Signer // *rsa.PrivateKey or *ecdsa.PrivateKey
	until time.Time     // a retired key is published while now < until
}

// NewOIDC checks cfg, fills in the defaults and makes the provider's signing
// key when cfg.Key is nil. Errors wrap sso.ErrInvalidConfig (as
// *sso.ConfigError) when cfg is invalid.
func NewOIDC(cfg OIDCConfig) (*OIDCProvider, error) {
	op := &OIDCProvider{
		issuer:     cfg.Issuer,
		now:        cfg.Now,
		rand:       cfg.Rand,
		login:      cfg.Login,
		rolesClaim: cfg.RolesClaim,
		idLifetime: cfg.IDTokenLifetime,
		codeLife:   cfg.CodeLifetime,
		clients:    map[string]OIDCClient{},
		codes:      map[string]*oidcCode{},
		tokens:     map[string]*oidcAccess{},
	}
	if op.issuer == "" {
		op.issuer = DefaultOIDCIssuer
	}
	u, err := url.Parse(op.issuer)
	if err != nil {
		return nil, &sso.ConfigError{Field: "Issuer", Reason: "not a URL", Err: err}
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, &sso.ConfigError{Field: "Issuer", Reason: "must be an absolute http or https URL without query or fragment"}
	}
	op.basePath = strings.TrimSuffix(u.EscapedPath(), "/")
	if op.now == nil {
		op.now = time.Now
	}
	if op.rand == nil {
		op.rand = rand.Reader
	}
	if op.rolesClaim == "" {
		op.rolesClaim = DefaultRolesClaim
	}
	if op.idLifetime == 0 {
		op.idLifetime = DefaultIDTokenLifetime
	}
	if op.idLifetime < 0 {
		return nil, &sso.ConfigError{Field: "IDTokenLifetime", Reason: "must not be negative"}
	}
	if op.codeLife == 0 {
		op.codeLife = DefaultCodeLifetime
	}
	if op.codeLife < 0 {
		return nil, &sso.ConfigError{Field: "CodeLifetime", Reason: "must not be negative"}
	}
	clients := cfg.Clients
	if len(clients) == 0 {
		clients = []OIDCClient{{ID: DefaultClientID, Secret: DefaultClientSecret, RedirectURIs: []string{DefaultRedirectURI}}}
	}
	for i, c := range clients {
		field := "Clients[" + strconv.Itoa(i) + "]"
		switch {
		case c.ID == "":
			return nil, &sso.ConfigError{Field: field + ".ID", Reason: "is required"}
		case c.Secret == "":
			return nil, &sso.ConfigError{Field: field + ".Secret", Reason: "is required"}
		case len(c.RedirectURIs) == 0:
			return nil, &sso.ConfigError{Field: field + ".RedirectURIs", Reason: "needs at least one URI"}
		}
		if _, dup := op.clients[c.ID]; dup {
			return nil, &sso.ConfigError{Field: field + ".ID", Reason: "is registered twice"}
		}
		for j, r := range c.RedirectURIs {
			ru, err := url.Parse(r)
			if err != nil || !ru.IsAbs() || ru.Fragment != "" {
				return nil, &sso.ConfigError{Field: field + ".RedirectURIs[" + strconv.Itoa(j) + "]", Reason: "must be an absolute URL without fragment"}
			}
		}
		c.RedirectURIs = append([]string(nil), c.RedirectURIs...)
		op.clients[c.ID] = c
	}

	switch cfg.Algorithm {
	case "":
		op.alg = jose.RS256
		if _, ok := cfg.Key.(*ecdsa.PrivateKey); ok {
			op.alg = jose.ES256
		}
	case RS256, ES256:
		op.alg = jose.SignatureAlgorithm(cfg.Algorithm)
	default:
		return nil, &sso.ConfigError{Field: "Algorithm", Reason: "must be RS256 or ES256"}
	}
	op.current, err = oidcNewKey(op.alg, cfg.Key)
	if err != nil {
		return nil, &sso.ConfigError{Field: "Key", Reason: err.Error()}
	}
	if cfg.OtherKey != nil {
		k, err := oidcNewKey(op.alg, cfg.OtherKey)
		if err != nil {
			return nil, &sso.ConfigError{Field: "OtherKey", Reason: err.Error()}
		}
		op.other = &k
	}
	return op, nil
}

// oidcNewKey returns priv (or, when nil, a fresh key) as a signing key for alg,
// with its RFC 7638 thumbprint as key ID.
func oidcNewKey(alg jose.SignatureAlgorithm, priv crypto.Signer) (oidcKey, error) {
	if priv == nil {
		var err error
		switch alg {
		case jose.ES256:
			priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		default:
			priv, err = rsa.GenerateKey(rand.Reader, 2048)
		}
		if err != nil {
			return oidcKey{}, err
		}
	}
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		if alg != jose.RS256 {
			return oidcKey{}, fmt.Errorf("an RSA key signs RS256, not %s", alg)
		}
	case *ecdsa.PrivateKey:
		if alg != jose.ES256 || k.Curve != elliptic.P256() {
			return oidcKey{}, fmt.Errorf("an ECDSA key must be on P-256 and sign ES256, not %s", alg)
		}
	default:
		return oidcKey{}, fmt.Errorf("must be an *rsa.PrivateKey or an *ecdsa.PrivateKey, not %T", priv)
	}
	jwk := jose.JSONWebKey{Key: priv.Public()}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return oidcKey{}, err
	}
	return oidcKey{kid: base64.RawURLEncoding.EncodeToString(tp), alg: alg, priv: priv}, nil
}

// Issuer returns the issuer identifier, the iss of the provider's ID tokens.
func (op *OIDCProvider) Issuer() string { return op.issuer }

// endpoint returns the URL of the endpoint at path (one of the OIDC…Path).
func (op *OIDCProvider) endpoint(path string) string {
	return strings.TrimSuffix(op.issuer, "/") + path
}

// DiscoveryURL returns the URL of the provider's OpenID configuration.
func (op *OIDCProvider) DiscoveryURL() string { return op.endpoint(OIDCDiscoveryPath) }

// JWKSURL returns the URL of the provider's JSON Web Key Set.
func (op *OIDCProvider) JWKSURL() string { return op.endpoint(OIDCJWKSPath) }

// AuthorizeURL returns the URL of the authorization endpoint.
func (op *OIDCProvider) AuthorizeURL() string { return op.endpoint(OIDCAuthorizePath) }

// TokenURL returns the URL of the token endpoint.
func (op *OIDCProvider) TokenURL() string { return op.endpoint(OIDCTokenPath) }

// UserinfoURL returns the URL of the userinfo endpoint.
func (op *OIDCProvider) UserinfoURL() string { return op.endpoint(OIDCUserinfoPath) }

// OIDCConfig returns what an organization's OIDC connection configures to
// trust this provider as the registered client clientID: issuer, client ID and
// secret, and the roles claim. ok is false for an unregistered client.
func (op *OIDCProvider) OIDCConfig(clientID string) (cfg sso.OIDCConfig, ok bool) {
	c, ok := op.clients[clientID]
	if !ok {
		return sso.OIDCConfig{}, false
	}
	return sso.OIDCConfig{Issuer: op.issuer, ClientID: c.ID, ClientSecret: c.Secret, RolesClaim: op.rolesClaim}, true
}

// Algorithm returns the algorithm that signs ID tokens: RS256 or ES256.
func (op *OIDCProvider) Algorithm() string { return string(op.alg) }

// KeyID returns the kid of the current signing key.
func (op *OIDCProvider) KeyID() string {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.current.kid
}

// PublicKey returns the public half of the current signing key.
func (op *OIDCProvider) PublicKey() crypto.PublicKey {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.current.priv.Public()
}

// RotateKey makes a fresh signing key of the provider's algorithm and signs
// with it from now on; the JWKS publishes it at once, so a relying party that
// meets its kid must refetch the JWKS. The previous key stays in the JWKS for
// keepOld (judged at Config.Now), so tokens it signed still verify; 0 removes
// it at once. It returns the new key's kid.
func (op *OIDCProvider) RotateKey(keepOld time.Duration) (kid string, err error) {
	k, err := oidcNewKey(op.alg, nil)
	if err != nil {
		return "", err
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	old := op.current
	old.until = op.now().Add(keepOld)
	if keepOld > 0 {
		op.retired = append(op.retired, old)
	}
	op.current = k
	return k.kid, nil
}

// SetLogin replaces the function that chooses who signs in (Config.Login). It
// is safe to call while ServeHTTP runs; nil signs in DefaultOIDCUser.
func (op *OIDCProvider) SetLogin(f OIDCLoginFunc) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.login = f
}

// ServeHTTP makes the provider an http.Handler for its endpoints (other paths
// get 404): discovery, JWKS, authorize, token and userinfo, each described
// in the package documentation.
func (op *OIDCProvider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.EscapedPath(), op.basePath)
	if !ok {
		http.NotFound(w, r)
		return
	}
	switch path {
	case OIDCDiscoveryPath:
		op.serveDiscovery(w, r)
	case OIDCJWKSPath:
		op.serveJWKS(w, r)
	case OIDCAuthorizePath:
		op.serveAuthorize(w, r)
	case OIDCTokenPath:
		op.serveToken(w, r)
	case OIDCUserinfoPath:
		op.serveUserinfo(w, r)
	default:
		http.NotFound(w, r)
	}
}

// oidcDiscovery is the OpenID Provider Metadata document.
type oidcDiscovery struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	AuthorizationResponseIssParameter bool     `json:"authorization_response_iss_parameter_supported"`
}

func (op *OIDCProvider) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	if !oidcAllow(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	oidcJSON(w, http.StatusOK, oidcDiscovery{
		Issuer:                            op.issuer,
		AuthorizationEndpoint:             op.AuthorizeURL(),
		TokenEndpoint:                     op.TokenURL(),
		UserinfoEndpoint:                  op.UserinfoURL(),
		JWKSURI:                           op.JWKSURL(),
		ResponseTypesSupported:            []string{"code"},
		ResponseModesSupported:            []string{"query"},
		GrantTypesSupported:               []string{"authorization_code"},
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  []string{string(op.alg)},
		ScopesSupported:                   []string{"openid", "email", "profile"},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post"},
		ClaimsSupported: []string{"iss", "sub", "aud", "exp", "iat", "nonce", "azp", "at_hash",
			"email", "email_verified", "name", "given_name", "family_name", op.rolesClaim},
		CodeChallengeMethodsSupported:     []string{"S256"},
		AuthorizationResponseIssParameter: true,
	})
}

// JWKS returns the JSON Web Key Set the provider publishes: the current key
// and the retired keys still kept (RotateKey), each with kid, alg and use
// "sig".
func (op *OIDCProvider) JWKS() jose.JSONWebKeySet {
	op.mu.Lock()
	defer op.mu.Unlock()
	now := op.now()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{op.current.public()}}
	kept := op.retired[:0]
	for _, k := range op.retired {
		if now.Before(k.until) {
			kept = append(kept, k)
			set.Keys = append(set.Keys, k.public())
		}
	}
	op.retired = kept
	return set
}

// public returns the key's public JWK.
func (k oidcKey) public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

func (op *OIDCProvider) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if !oidcAllow(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	oidcJSON(w, http.StatusOK, op.JWKS())
}

// oidcAllow answers 405 unless r's method is one of methods.
func oidcAllow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	http.Error(w, "ssotest: method not allowed", http.StatusMethodNotAllowed)
	return false
}

// oidcJSON writes v as a JSON response that no cache keeps.
func oidcJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "ssotest: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// readRand fills b from the configured randomness, one reader at a time.
func (op *OIDCProvider) readRand(b []byte) error {
	op.randMu.Lock()
	defer op.randMu.Unlock()
	_, err := io.ReadFull(op.rand, b)
	return err
}

// randToken returns 32 random bytes, base64url: a code or an access token.
func (op *OIDCProvider) randToken() (string, error) {
	b := make([]byte, 32)
	if err := op.readRand(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
