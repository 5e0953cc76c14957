package ssotest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// DefaultJKU is the jku header of a JWTForeignJKU token when
// IDTokenOptions.JKU is "".
const DefaultJKU = "https://attacker.example.test/jwks.json"

// JWTSigning says how an ID token is signed: by the provider, or in one of
// the ways a relying party must refuse.
type JWTSigning int

// The ways to sign. The zero value, JWTSigned, is the valid one.
const (
	// JWTSigned: the provider's current key and algorithm, its kid.
	JWTSigned JWTSigning = iota
	// JWTOtherKey: OtherKey, with its own kid, which the JWKS does not hold.
	JWTOtherKey
	// JWTEmbeddedJWK: OtherKey, with a jwk header embedding its public key
	// and the kid of the provider's current key.
	JWTEmbeddedJWK
	// JWTForeignJKU: OtherKey, its kid, and a jku header naming
	// IDTokenOptions.JKU (a key set elsewhere than the provider's jwks_uri).
	JWTForeignJKU
	// JWTAlgNone: alg "none", no signature (RFC 7519 6.1).
	JWTAlgNone
	// JWTHS256PublicKey: HS256 keyed with the provider's public key (its PEM
	// "PUBLIC KEY" block, as the JWKS would let anyone rebuild it) and the
	// provider's kid: the algorithm-confusion attack.
	JWTHS256PublicKey
	// JWTAlgMismatch: the other algorithm (ES256 for an RS256 provider, RS256
	// for an ES256 one) by a key of that kind, with the kid of the provider's
	// current key, so the header's alg disagrees with the JWKS key it names.
	JWTAlgMismatch
)

// String returns the name of the signing mode.
func (s JWTSigning) String() string {
	switch s {
	case JWTSigned:
		return "JWTSigned"
	case JWTOtherKey:
		return "JWTOtherKey"
	case JWTEmbeddedJWK:
		return "JWTEmbeddedJWK"
	case JWTForeignJKU:
		return "JWTForeignJKU"
	case JWTAlgNone:
		return "JWTAlgNone"
	case JWTHS256PublicKey:
		return "JWTHS256PublicKey"
	case JWTAlgMismatch:
		return "JWTAlgMismatch"
	}
	return fmt.Sprintf("JWTSigning(%d)", int(s))
}

// EmailVerified says what the email_verified claim holds.
type EmailVerified int

// The email_verified values. The zero value, EmailVerifiedTrue, is the valid
// one.
const (
	EmailVerifiedTrue   EmailVerified = iota // the JSON boolean true
	EmailVerifiedFalse                       // the JSON boolean false
	EmailVerifiedAbsent                      // no email_verified claim
	EmailVerifiedString                      // the JSON string "true", not a boolean
)

// IDTokenOptions are the knobs of an ID token: each non-zero field breaks one
// check a relying party must make. The zero value makes a valid token.
type IDTokenOptions struct {
	// Issuer is the iss claim. "" = the provider's issuer.
	Issuer string
	// Audience is the aud claim. nil = the client's ID alone. Another
	// client's ID, or the client's ID and another (without AuthorizedParty),
	// are what a relying party must refuse.
	Audience []string
	// AuthorizedParty is the azp claim. "" = no azp.
	AuthorizedParty string
	// IssuedAt is the iat claim. zero = Config.Now.
	IssuedAt time.Time
	// Expiry is the exp claim. zero = IssuedAt + Config.IDTokenLifetime.
	Expiry time.Time
	// NotBefore is the nbf claim. zero = no nbf.
	NotBefore time.Time
	// Nonce is the nonce claim. "" = the authorization request's nonce (none
	// when it had none).
	Nonce string
	// OmitNonce leaves the nonce claim out, whatever the request sent.
	OmitNonce bool
	// EmailVerified is the email_verified claim (sent with email).
	EmailVerified EmailVerified
	// Signing is how the token is signed. zero = JWTSigned.
	Signing JWTSigning
	// JKU is the jku header of a JWTForeignJKU token. "" = DefaultJKU.
	JKU string
	// Claims are set last, replacing claims of the same name; a nil value
	// removes the claim.
	Claims map[string]any
}

// TokenResponse are the knobs of the token endpoint's next answer
// (NextToken). The zero value is a valid answer.
type TokenResponse struct {
	// IDToken are the knobs of the id_token.
	IDToken IDTokenOptions
	// Error, when set, is the OAuth error code ("invalid_grant", …) the token
	// endpoint answers with (HTTP 400) instead of tokens. The code is used up.
	Error string
	// OmitIDToken leaves id_token out of the answer; access_token stays.
	OmitIDToken bool
}

// NextToken sets the knobs of the token endpoint's next answer to a valid
// authorization_code exchange (an invalid one is refused as usual, and leaves
// the knobs for the next). It replaces knobs set before and not yet used;
// the answer after that one is valid again.
func (op *OIDCProvider) NextToken(t TokenResponse) {
	t.IDToken.Audience = slices.Clone(t.IDToken.Audience)
	op.mu.Lock()
	defer op.mu.Unlock()
	op.next = &t
}

// takeNext returns and clears the knobs of the next answer.
func (op *OIDCProvider) takeNext() TokenResponse {
	op.mu.Lock()
	defer op.mu.Unlock()
	if op.next == nil {
		return TokenResponse{}
	}
	t := *op.next
	op.next = nil
	return t
}

// IDToken returns a signed ID token (compact JWS) for user, addressed to
// clientID, with nonce ("" = no nonce claim), as the token endpoint would
// issue it, with the knobs of opts. It carries every claim whatever the
// scopes: iss, sub, aud, exp, iat, nonce, email, email_verified, name,
// given_name, family_name and the roles claim (Config.RolesClaim). It is for
// tests that verify tokens without running the code flow.
func (op *OIDCProvider) IDToken(clientID, nonce string, user User, opts IDTokenOptions) (string, error) {
	return op.idToken(oidcGrant{clientID: clientID, nonce: nonce, user: user}, opts)
}

// oidcGrant is what an ID token is about: an exchanged code, or IDToken's
// arguments.
type oidcGrant struct {
	clientID, nonce string
	scopes          []string // nil = every claim
	user            User
	accessToken     string // "" = no at_hash
}

// idToken builds and signs the ID token of g with the knobs of o.
func (op *OIDCProvider) idToken(g oidcGrant, o IDTokenOptions) (string, error) {
	claims := op.claims(g, o)
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("ssotest: ID token claims: %w", err)
	}
	return op.sign(payload, o)
}

// claims returns the ID token's claims for g, with the knobs of o.
func (op *OIDCProvider) claims(g oidcGrant, o IDTokenOptions) map[string]any {
	iat := o.IssuedAt
	if iat.IsZero() {
		iat = op.now()
	}
	exp := o.Expiry
	if exp.IsZero() {
		exp = iat.Add(op.idLifetime)
	}
	c := map[string]any{
		"iss": op.issuer,
		"aud": []string{g.clientID},
		"iat": iat.Unix(),
		"exp": exp.Unix(),
	}
	if o.Issuer != "" {
		c["iss"] = o.Issuer
	}
	if o.Audience != nil {
		c["aud"] = o.Audience
	}
	if o.AuthorizedParty != "" {
		c["azp"] = o.AuthorizedParty
	}
	if !o.NotBefore.IsZero() {
		c["nbf"] = o.NotBefore.Unix()
	}
	nonce := g.nonce
	if o.Nonce != "" {
		nonce = o.Nonce
	}
	if nonce != "" && !o.OmitNonce {
		c["nonce"] = nonce
	}
	if g.accessToken != "" {
		sum := sha256.Sum256([]byte(g.accessToken)) // RS256 and ES256 both hash with SHA-256
		c["at_hash"] = base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
	}
	for k, v := range op.userClaims(g.user, g.scopes, o.EmailVerified) {
		c[k] = v
	}
	for k, v := range o.Claims {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// userClaims returns the claims about u that scopes grant (nil = all): sub
// always; email and email_verified with "email"; name, given_name and
// family_name with "profile"; the roles claim always, when u has roles.
// User.Attributes are added last (one value as a string, several as an
// array), replacing claims of the same name.
func (op *OIDCProvider) userClaims(u User, scopes []string, ev EmailVerified) map[string]any {
	has := func(s string) bool { return scopes == nil || slices.Contains(scopes, s) }
	sub := u.NameID
	if sub == "" {
		sub = u.Email
	}
	c := map[string]any{"sub": sub}
	if has("email") && u.Email != "" {
		c["email"] = u.Email
		switch ev {
		case EmailVerifiedTrue:
			c["email_verified"] = true
		case EmailVerifiedFalse:
			c["email_verified"] = false
		case EmailVerifiedString:
			c["email_verified"] = "true"
		}
	}
	if has("profile") {
		if name := strings.TrimSpace(u.FirstName + " " + u.LastName); name != "" {
			c["name"] = name
		}
		if u.FirstName != "" {
			c["given_name"] = u.FirstName
		}
		if u.LastName != "" {
			c["family_name"] = u.LastName
		}
	}
	if len(u.Roles) > 0 {
		c[op.rolesClaim] = slices.Clone(u.Roles)
	}
	for k, vs := range u.Attributes {
		switch len(vs) {
		case 0:
			c[k] = []string{}
		case 1:
			c[k] = vs[0]
		default:
			c[k] = slices.Clone(vs)
		}
	}
	return c
}

// sign signs payload as o.Signing says.
func (op *OIDCProvider) sign(payload []byte, o IDTokenOptions) (string, error) {
	op.mu.Lock()
	cur := op.current
	op.mu.Unlock()

	var (
		key  oidcKey
		kid  string
		opts = (&jose.SignerOptions{}).WithType("JWT")
	)
	switch o.Signing {
	case JWTSigned:
		key, kid = cur, cur.kid
	case JWTOtherKey, JWTEmbeddedJWK, JWTForeignJKU:
		other, err := op.otherKey()
		if err != nil {
			return "", err
		}
		key, kid = other, other.kid
		if o.Signing == JWTEmbeddedJWK {
			opts.EmbedJWK = true
			kid = cur.kid
		}
		if o.Signing == JWTForeignJKU {
			jku := o.JKU
			if jku == "" {
				jku = DefaultJKU
			}
			opts.WithHeader("jku", jku)
		}
	case JWTAlgNone:
		h, err := json.Marshal(map[string]string{"alg": "none", "typ": "JWT", "kid": cur.kid})
		if err != nil {
			return "", err
		}
		return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(payload) + ".", nil
	case JWTHS256PublicKey:
		der, err := x509.MarshalPKIXPublicKey(cur.priv.Public())
		if err != nil {
			return "", err
		}
		secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		return oidcSign(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, opts.WithHeader("kid", cur.kid), payload)
	case JWTAlgMismatch:
		k, err := op.mismatchKey()
		if err != nil {
			return "", err
		}
		key, kid = k, cur.kid
	default:
		return "", fmt.Errorf("ssotest: unknown %v", o.Signing)
	}
	return oidcSign(jose.SigningKey{Algorithm: key.alg, Key: key.priv}, opts.WithHeader("kid", kid), payload)
}

// oidcSign signs payload with key and returns the compact serialization.
func oidcSign(key jose.SigningKey, opts *jose.SignerOptions, payload []byte) (string, error) {
	signer, err := jose.NewSigner(key, opts)
	if err != nil {
		return "", fmt.Errorf("ssotest: signer: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("ssotest: signing the ID token: %w", err)
	}
	return jws.CompactSerialize()
}

// otherKey returns Config.OtherKey, made at first use when it was nil.
func (op *OIDCProvider) otherKey() (oidcKey, error) {
	op.mu.Lock()
	defer op.mu.Unlock()
	if op.other == nil {
		k, err := oidcNewKey(op.alg, nil)
		if err != nil {
			return oidcKey{}, err
		}
		op.other = &k
	}
	return *op.other, nil
}

// mismatchKey returns a key of the other kind than the provider's, made at
// first use.
func (op *OIDCProvider) mismatchKey() (oidcKey, error) {
	op.mu.Lock()
	defer op.mu.Unlock()
	if op.mismatch == nil {
		var (
			priv crypto.Signer
			alg  = jose.ES256
			err  error
		)
		if op.alg == jose.ES256 {
			alg = jose.RS256
			priv, err = rsa.GenerateKey(rand.Reader, 2048)
		} else {
			priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		}
		if err != nil {
			return oidcKey{}, err
		}
		k, err := oidcNewKey(alg, priv)
		if err != nil {
			return oidcKey{}, err
		}
		op.mismatch = &k
	}
	return *op.mismatch, nil
}
