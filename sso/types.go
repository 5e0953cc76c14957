package sso

import (
	"time"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/saml"
)

// DefaultSessionTimeout is the SSO session lifetime of an organization that has
// not set one.
const DefaultSessionTimeout = 12 * time.Hour

// Session timeout bounds an organization may choose.
const (
	MinSessionTimeout = 1 * time.Hour
	MaxSessionTimeout = 24 * time.Hour
)

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
	// IdPMetadataURL, when set, is where the organization's IdP publishes
	// its SAML metadata: the Service refreshes IdP from it on a schedule
	// (Run) and on demand (RefreshMetadata). https only (http for
	// localhost in development).
	IdPMetadataURL string
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
	// MFA is the organization's rule for a second factor after SSO (see
	// MFAPolicy): off by default.
	MFA MFAPolicy
	// SSOEpoch moves on each time SSO is disabled, and when
	// UpdateOrganization makes the MFA policy stricter. SSO sessions carry the
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

// Member is a user's membership of an organization.
type Member struct {
	OrgID, UserID, Email, FirstName, LastName string
	OrgRole                                   rolemap.OrgRole // RoleOwner for the member whose UserID is the org's OwnerID
	StackRoles                                map[string][]string
	// AllowWithoutSSO marks an external member: a password sign-in is allowed
	// while strict mode is off, and IdP roles never override theirs.
	AllowWithoutSSO bool
}

// The protocol types of the contract are package saml's, under their
// contract names: an IdPConfig or an Assertion of sso is one of saml.
type (
	// IdPConfig is what orgsso knows of an organization's identity
	// provider; see saml.IdPConfig.
	IdPConfig = saml.IdPConfig
	// SPDetails is what an organization's IdP needs to know about us; see
	// saml.SPDetails and NewSPDetails.
	SPDetails = saml.SPDetails
	// ValidatorConfig configures a Validator for one organization; see
	// saml.ValidatorConfig.
	ValidatorConfig = saml.ValidatorConfig
	// Assertion is what a validated SAML response says about its subject;
	// see saml.Assertion.
	Assertion = saml.Assertion
	// Validator checks SAML responses for one organization's IdP and SP
	// settings; build it with NewValidator. See saml.Validator.
	Validator = saml.Validator
)
