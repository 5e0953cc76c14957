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
	// Attributes names the assertion attributes identities are read from;
	// empty fields use the defaults (see AttributeNames).
	Attributes AttributeNames
	// Connections are the organization's further identity providers,
	// beside IdP (see Connection); at most MaxConnections.
	Connections []Connection
	// Domains are the email domains the organization claims, verified or
	// not (see Domain); changed only by AddDomain, VerifyDomain and
	// RemoveDomain.
	Domains []Domain
	// Version counts the organization's saves: 0 before it is first stored,
	// 1 after CreateOrganization, one more after each update. Stores update
	// an organization only from the Version they hold (ErrConflict
	// otherwise), so an edit made on a stale copy is never saved. The
	// Service manages it; an edit must not change it.
	Version int64
	// SSOEpoch moves on each time SSO is disabled. SSO sessions carry the
	// epoch they were made in (session.Session.Epoch), and only those of the
	// current epoch of an enabled organization are valid: a sign-in that was
	// in flight when Disable ran makes a session that is already over. The
	// Service manages it; an edit must not change it.
	SSOEpoch int64
}

// AttributeNames lists, per identity field, the assertion attribute names to
// read, first match wins. An empty list means the defaults, which cover what
// orgsso asks IdPs for (email, first_name, last_name, roles), the Azure AD /
// Entra ID claim URIs, the LDAP OIDs and common spellings (groups, memberOf).
type AttributeNames struct {
	Email, FirstName, LastName, Roles []string
}

// DefaultAttributeNames returns the default attribute names.
func DefaultAttributeNames() AttributeNames {
	return AttributeNames{
		Email: []string{AttrEmail, "mail", "Email", "emailaddress", "User.Email",
			"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
			"urn:oid:0.9.2342.19200300.100.1.3"},
		FirstName: []string{AttrFirstName, "firstName", "FirstName", "givenName", "givenname", "User.FirstName",
			"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname", "urn:oid:2.5.4.42"},
		LastName: []string{AttrLastName, "lastName", "LastName", "surname", "sn", "User.LastName",
			"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname", "urn:oid:2.5.4.4"},
		Roles: []string{AttrRoles, "Roles", "role", "groups", "Groups", "memberOf",
			"http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
			"http://schemas.microsoft.com/ws/2008/06/identity/claims/role"},
	}
}

// defaultAttributeNames is read, never written: withDefaults copies it.
var defaultAttributeNames = DefaultAttributeNames()

func (n AttributeNames) withDefaults() AttributeNames {
	d := defaultAttributeNames
	if len(n.Email) > 0 {
		d.Email = n.Email
	}
	if len(n.FirstName) > 0 {
		d.FirstName = n.FirstName
	}
	if len(n.LastName) > 0 {
		d.LastName = n.LastName
	}
	if len(n.Roles) > 0 {
		d.Roles = n.Roles
	}
	return d
}

// IdPConfig is what orgsso knows of an organization's identity provider.
type IdPConfig struct {
	EntityID     string   // expected Issuer; required once the organization is enabled
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
	// EncryptionMethod is the XML-Enc data encryption URI of an encrypted
	// assertion ("" when it came in clear), so a Test SSO can warn about
	// AES-CBC.
	EncryptionMethod string
}
