package saml

import (
	"crypto/tls"
	"time"
)

// DefaultClockSkew is the clock difference tolerated between the IdP and us when
// judging NotBefore and NotOnOrAfter.
const DefaultClockSkew = 3 * time.Minute

// DefaultMaxResponseSize bounds the posted SAMLResponse value, in bytes.
const DefaultMaxResponseSize = 1 << 20

// NameIDFormatEmail is the emailAddress NameID format, the one an
// AuthnRequest asks for when its SP names none.
const NameIDFormatEmail = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"

// IdPConfig is what a service provider knows of an identity provider: the
// Issuer to expect, where to send AuthnRequests and the keys its responses
// are signed with.
type IdPConfig struct {
	EntityID     string   // expected Issuer; required in a complete configuration (ValidateAt)
	SSOURL       string   // where AuthnRequests go (HTTP-Redirect binding)
	Certificates []string // PEM X.509 signing certificates; several during rotation
	// SignatureAlgorithm is the XML-DSig URI of the weakest signature algorithm
	// accepted. "" means rsa-sha256, which also accepts SHA-384 and SHA-512 with
	// RSA or ECDSA. SHA-1 (AlgRSASHA1) must be chosen explicitly, and then SHA-1
	// digests are accepted too.
	SignatureAlgorithm string
}

// SPDetails is what an IdP needs to know about a service provider.
type SPDetails struct {
	EntityID, ACSURL, NameIDFormat string
	// Attributes are requested in the SP metadata; those also listed in
	// OptionalAttributes are requested with isRequired="false".
	Attributes, OptionalAttributes []string
}

// ValidatorConfig configures a Validator for one IdP and SP pair.
type ValidatorConfig struct {
	SP                SPDetails
	IdP               IdPConfig
	Now               func() time.Time // nil = time.Now
	ClockSkew         time.Duration    // 0 = DefaultClockSkew
	AllowIdPInitiated bool
	SPKeyPair         *tls.Certificate // optional: decrypts encrypted assertions
	MaxResponseSize   int64            // bytes of the posted value; 0 = DefaultMaxResponseSize
}

// Assertion is what a validated SAML response says about its subject.
type Assertion struct {
	ID, Issuer, NameID, NameIDFormat, SessionIndex, InResponseTo string
	Attributes                                                   map[string][]string
	// NotOnOrAfter is the earliest expiry the assertion carries; a replay cache
	// keeps its ID until then.
	NotOnOrAfter time.Time
	// EncryptionMethod is the XML-Enc data encryption URI of an encrypted
	// assertion ("" when it came in clear), so a Test SSO can warn about
	// AES-CBC.
	EncryptionMethod string
	// AuthnContextClassRefs are the AuthnContextClassRef URIs of the
	// assertion's AuthnStatements, in document order, each once (nil when
	// none): how the IdP says the subject authenticated, e.g.
	// urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport,
	// or a multi-factor class. Read from the signed assertion like every
	// other field; a class reference holding markup is not a URI and is
	// left out.
	AuthnContextClassRefs []string
}
