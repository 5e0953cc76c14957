package sso

import (
	"crypto/tls"
	"time"

	"github.com/orgsso/orgsso/rolemap"
)

// DefaultSessionTimeout is the SSO session lifetime of an organization that has
// not set one.
const DefaultSessionTimeout = 12 * time.Hour

// Session timeout bounds an organization may choose.
const (
	MinSessionTimeout = 1 * time.Hour
	MaxSessionTimeout = 24 * time.Hour
)

// DefaultClockSkew is the clock difference tolerated between the IdP and us when
// judging NotBefore and NotOnOrAfter.
const DefaultClockSkew = 3 * time.Minute

// DefaultMaxResponseSize bounds the posted SAMLResponse value, in bytes.
const DefaultMaxResponseSize = 1 << 20

// NameIDFormatEmail is the NameID format orgsso asks IdPs for.
const NameIDFormatEmail = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"

// Organization is one customer organization and its SSO settings.
type Organization struct {
	ID, SSOName, OwnerID string
	Enabled              bool
	IdP                  IdPConfig
	StrictMode           bool
	SessionTimeout       time.Duration // 0 = DefaultSessionTimeout; else 1h..24h
	RoleMapping          rolemap.Config
	JITProvisioning      bool
	AllowIdPInitiated    bool
}

// IdPConfig is what orgsso knows of an organization's identity provider.
type IdPConfig struct {
	EntityID     string   // expected Issuer; "" = not checked
	SSOURL       string   // where AuthnRequests go (HTTP-Redirect binding)
	Certificates []string // PEM X.509 signing certificates; several during rotation
	// SignatureAlgorithm is the XML-DSig URI of the weakest signature algorithm
	// accepted. "" means rsa-sha256, which also accepts SHA-384 and SHA-512 with
	// RSA or ECDSA. SHA-1 (AlgRSASHA1) must be chosen explicitly, and then SHA-1
	// digests are accepted too.
	SignatureAlgorithm string
}

// Member is a user's membership of an organization.
type Member struct {
	OrgID, UserID, Email, FirstName, LastName string
	OrgRole                                   rolemap.OrgRole // RoleOwner for the member whose UserID is the org's OwnerID
	StackRoles                                map[string][]string
	// AllowWithoutSSO marks an external member: a password sign-in is allowed
	// while strict mode is off, and IdP roles never override theirs.
	AllowWithoutSSO bool
}

// SPDetails is what an organization's IdP needs to know about us.
type SPDetails struct {
	EntityID, ACSURL, NameIDFormat string
	Attributes                     []string
}

// ValidatorConfig configures a Validator for one organization.
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
}
