package oidc

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/orgsso/orgsso/internal/text"
)

// Defaults and bounds of Config.
const (
	// DefaultClockSkew is the skew allowed on exp, iat and nbf when
	// Config.ClockSkew is 0; the same as the SAML side.
	DefaultClockSkew = 3 * time.Minute
	// MaxClockSkew is the largest Config.ClockSkew accepted.
	MaxClockSkew = 10 * time.Minute
	// DefaultHTTPTimeout is the timeout of the default HTTP client, and of a
	// given client that has none.
	DefaultHTTPTimeout = 10 * time.Second
	// DefaultMaxResponseBytes bounds each discovery, JWKS, token and
	// userinfo response body when Config.MaxResponseBytes is 0.
	DefaultMaxResponseBytes = 1 << 20
	// DefaultMaxTokenBytes bounds the ID token when Config.MaxTokenBytes is 0.
	DefaultMaxTokenBytes = 64 << 10
)

// DefaultScopes are requested when Config.Scopes is empty.
var DefaultScopes = []string{"openid", "email", "profile"}

// DefaultAlgorithms are the ID token signature algorithms accepted when
// Config.Algorithms is empty: RSA PKCS#1 v1.5, RSA-PSS and ECDSA.
var DefaultAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}

// knownAlgorithms are the algorithms Config.Algorithms may name: the
// asymmetric JWS algorithms go-oidc verifies. "none" and HS* are never
// accepted: an HMAC "signature" keyed with the provider's public key proves
// nothing.
var knownAlgorithms = map[string]bool{
	"RS256": true, "RS384": true, "RS512": true,
	"PS256": true, "PS384": true, "PS512": true,
	"ES256": true, "ES384": true, "ES512": true,
	"EdDSA": true,
}

// Secret is a string that never prints: fmt (every verb, %#v included), slog
// and encoding/json show it as [REDACTED]. Convert it with string(s) where
// the value itself is needed.
type Secret string

const redacted = "[REDACTED]"

// String implements fmt.Stringer.
func (Secret) String() string { return redacted }

// GoString implements fmt.GoStringer.
func (Secret) GoString() string { return redacted }

// Format implements fmt.Formatter, so no verb (%s %v %q %x …) shows the value.
func (Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON implements json.Marshaler: the value is never serialized.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText implements encoding.TextMarshaler: the value is never serialized.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Config configures a RelyingParty for one provider and one client. Zero
// values mean safe defaults; New and Discover validate it.
type Config struct {
	// Issuer is the provider's issuer identifier, e.g.
	// "https://acme.okta.com". ID tokens must carry it exactly as iss (go-oidc's
	// allowance of "accounts.google.com" for Google is not kept), and
	// discovery must report it exactly. https only, except http for
	// localhost, 127.0.0.1 and [::1].
	Issuer string
	// ClientID is this application's client ID at the provider. Required.
	ClientID string
	// ClientSecret is the client secret; empty for a public client (PKCE
	// only). It never prints.
	ClientSecret Secret
	// RedirectURL is the callback URL registered at the provider. Required;
	// https only, except http for localhost.
	RedirectURL string
	// Scopes requested; empty = DefaultScopes. Must include "openid".
	Scopes []string
	// RolesClaim names the claim holding the user's roles or groups:
	// "groups" for Okta, "roles" or "groups" for Entra ID, "" for none
	// (e.g. Google). Its value may be a string or an array of strings.
	RolesClaim string
	// Algorithms is the allow-list of ID token signature algorithms; empty =
	// DefaultAlgorithms. "none" and HS256/HS384/HS512 are refused.
	Algorithms []string
	// ClockSkew allowed on exp, iat and nbf; 0 = DefaultClockSkew, at most
	// MaxClockSkew.
	ClockSkew time.Duration
	// MaxTokenAge, when set, refuses ID tokens issued (iat) longer ago.
	MaxTokenAge time.Duration
	// Now is the clock every time check uses; nil = time.Now.
	Now func() time.Time
	// Rand is the source of state, nonce and PKCE verifier; nil =
	// crypto/rand.Reader. It must be safe for concurrent use when
	// AuthRequest is called concurrently.
	Rand io.Reader
	// HTTPClient makes every request to the provider; nil = a client with
	// DefaultHTTPTimeout. A client without a timeout gets DefaultHTTPTimeout.
	// The client is copied; its transport is wrapped to bound bodies.
	HTTPClient *http.Client
	// UserInfo, when true, calls the userinfo endpoint after the token
	// exchange; its sub must equal the ID token's, and it fills the claims
	// the ID token lacks.
	UserInfo bool
	// MaxResponseBytes bounds each discovery, JWKS, token and userinfo
	// response body; 0 = DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// MaxTokenBytes bounds the ID token; 0 = DefaultMaxTokenBytes.
	MaxTokenBytes int
}

// String implements fmt.Stringer; the client secret is redacted.
func (c Config) String() string {
	return fmt.Sprintf("oidc.Config{Issuer: %q, ClientID: %q, ClientSecret: %s, RedirectURL: %q}",
		c.Issuer, c.ClientID, redacted, c.RedirectURL)
}

// GoString implements fmt.GoStringer; the client secret is redacted.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer: the fields safe to log.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("issuer", c.Issuer),
		slog.String("client_id", c.ClientID),
		slog.String("client_secret", redacted),
		slog.String("redirect_url", c.RedirectURL),
	)
}

// settings is a validated Config with its defaults applied.
type settings struct {
	Config
	now      func() time.Time
	rand     io.Reader
	client   *http.Client
	algs     []string
	algSet   map[string]bool
	skew     time.Duration
	maxBody  int64
	maxToken int
}

func (c Config) validate() (*settings, error) {
	s := &settings{Config: c}
	if err := checkURL(c.Issuer); err != nil {
		return nil, &ConfigError{Field: "Issuer", Reason: "must be an absolute https URL without query or fragment (http only for localhost)", Err: err}
	}
	if u, _ := url.Parse(c.Issuer); u.RawQuery != "" || u.Fragment != "" {
		return nil, configErr("Issuer", "must not have a query or fragment")
	}
	if c.ClientID == "" {
		return nil, configErr("ClientID", "is required")
	}
	if err := checkURL(c.RedirectURL); err != nil {
		return nil, &ConfigError{Field: "RedirectURL", Reason: "must be an absolute https URL (http only for localhost)", Err: err}
	}
	s.Scopes = slices.Clone(c.Scopes)
	if len(s.Scopes) == 0 {
		s.Scopes = slices.Clone(DefaultScopes)
	}
	if !slices.Contains(s.Scopes, "openid") {
		return nil, configErr("Scopes", "must include openid")
	}
	for i, sc := range s.Scopes {
		if sc == "" || strings.ContainsAny(sc, " \t\r\n\"\\") {
			return nil, configErr(indexed("Scopes", i), "is empty or contains white space or quotes")
		}
	}
	s.algs = slices.Clone(c.Algorithms)
	if len(s.algs) == 0 {
		s.algs = slices.Clone(DefaultAlgorithms)
	}
	s.algSet = make(map[string]bool, len(s.algs))
	for i, a := range s.algs {
		switch {
		case strings.EqualFold(a, "none"):
			return nil, configErr(indexed("Algorithms", i), "%q is refused: an unsigned ID token proves nothing", a)
		case strings.HasPrefix(strings.ToUpper(a), "HS"):
			return nil, configErr(indexed("Algorithms", i), "%q is refused: HMAC algorithms are never accepted (an HMAC keyed with the provider's public key proves nothing)", a)
		case !knownAlgorithms[a]:
			return nil, configErr(indexed("Algorithms", i), "%q is not a supported asymmetric JWS algorithm", text.Truncate(a, 32))
		}
		s.algSet[a] = true
	}
	switch {
	case c.ClockSkew < 0:
		return nil, configErr("ClockSkew", "must not be negative")
	case c.ClockSkew > MaxClockSkew:
		return nil, configErr("ClockSkew", "must be at most %s", MaxClockSkew)
	case c.ClockSkew == 0:
		s.skew = DefaultClockSkew
	default:
		s.skew = c.ClockSkew
	}
	if c.MaxTokenAge < 0 {
		return nil, configErr("MaxTokenAge", "must not be negative")
	}
	s.now = c.Now
	if s.now == nil {
		s.now = time.Now
	}
	s.rand = c.Rand
	if s.rand == nil {
		s.rand = rand.Reader
	}
	switch {
	case c.MaxResponseBytes < 0:
		return nil, configErr("MaxResponseBytes", "must not be negative")
	case c.MaxResponseBytes == 0:
		s.maxBody = DefaultMaxResponseBytes
	default:
		s.maxBody = c.MaxResponseBytes
	}
	switch {
	case c.MaxTokenBytes < 0:
		return nil, configErr("MaxTokenBytes", "must not be negative")
	case c.MaxTokenBytes == 0:
		s.maxToken = DefaultMaxTokenBytes
	default:
		s.maxToken = c.MaxTokenBytes
	}
	s.client = boundedClient(c.HTTPClient, s.maxBody)
	return s, nil
}

// checkURL accepts an absolute https URL, or http for a loopback host
// (localhost, 127.0.0.1, [::1]).
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL")
	}
	if u.Host == "" || u.User != nil {
		return fmt.Errorf("not an absolute URL with a host and no user info")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		switch u.Hostname() {
		case "localhost", "127.0.0.1", "::1":
			return nil
		}
		return fmt.Errorf("http is only allowed for localhost, 127.0.0.1 and [::1]")
	}
	return fmt.Errorf("scheme must be https")
}
