package sso

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/orgsso/orgsso/oidc"
)

// Protocol is the sign-in protocol of a connection.
type Protocol string

// The protocols a connection speaks.
const (
	ProtocolSAML Protocol = "saml"
	ProtocolOIDC Protocol = "oidc"
)

// PrimaryConnection is the ID of an organization's own SAML IdP
// (Organization.IdP): the connection every organization has, whose
// endpoints are /sso/{name}/acs and /sso/{name}/metadata.
const PrimaryConnection = ""

// Connection is one more identity provider an organization signs in with,
// beside its own SAML IdP (Organization.IdP, the primary connection): an
// acquired company's IdP, the next IdP during a migration, an OIDC provider.
// Each speaks SAML or OIDC, has its own endpoints under the organization's
// SSO name (/sso/{name}/{id}/acs and /metadata for SAML, /sso/{name}/{id}/callback
// for OIDC), its own just-in-time provisioning switch and attribute or claim
// names; the organization's role mapping applies to every connection.
//
// Connections are added, changed and removed with UpdateOrganization;
// Enabled changes only through EnableConnection and DisableConnection.
type Connection struct {
	// ID names the connection in its URLs and in sessions: 1 to 32
	// lowercase letters, digits and hyphens, unique in the organization,
	// never "acs", "metadata" or "callback". It never changes.
	ID string
	// Name is what the sign-in chooser shows ("Okta", "Contoso Entra ID"):
	// 1 to 100 characters.
	Name     string
	Protocol Protocol
	// Enabled: the connection is offered at sign-in while the organization
	// has SSO enabled. A disabled connection may be a draft.
	Enabled bool
	// SAML is the IdP of a ProtocolSAML connection.
	SAML IdPConfig
	// AllowIdPInitiated accepts unsolicited responses (SAML only).
	AllowIdPInitiated bool
	// MetadataURL, when set, is where a SAML connection's IdP publishes its
	// metadata (see Organization.IdPMetadataURL).
	MetadataURL string
	// OIDC is the provider of a ProtocolOIDC connection.
	OIDC OIDCConfig
	// JITProvisioning creates members on their first sign-in through this
	// connection when role mapping is off (see Organization.JITProvisioning).
	JITProvisioning bool
	// Attributes names the SAML attributes identities are read from; for
	// OIDC, Roles names the roles claim when OIDC.RolesClaim is empty.
	Attributes AttributeNames
	// Domains are the email domains whose users this connection signs in
	// ("contoso.com"): StartLoginWith routes an email under one of them here.
	// Lowercase, at most MaxConnectionDomains.
	Domains []string
	// Epoch is drawn at random each time the connection is enabled, and
	// again when the organization disables SSO or makes its MFA policy
	// stricter. Sessions signed in through
	// the connection carry it (session.Session.Epoch), and only those of
	// the current epoch of an enabled connection are valid: a session that
	// a sign-in in flight made after DisableConnection never comes back
	// when the connection is enabled again, or replaced under the same ID.
	// The Service manages it; an edit must not change it.
	Epoch int64
}

// OIDCConfig is what orgsso knows of an OpenID Connect provider.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL; discovery reads
	// {Issuer}/.well-known/openid-configuration and the ID token's iss must
	// equal it exactly.
	Issuer       string
	ClientID     string
	ClientSecret Secret
	// Scopes asked for besides openid; nil = email and profile.
	Scopes []string
	// RolesClaim names the ID token claim carrying the user's groups or
	// roles: "groups" (Okta, Entra ID groups), "roles" (Entra ID app
	// roles); "" reads no roles (Google).
	RolesClaim string
	// UserInfo also reads the userinfo endpoint after the ID token is
	// verified; its sub must equal the ID token's.
	UserInfo bool
}

// Secret is a value that must never print or be logged, such as an OIDC
// client secret: every fmt verb, log/slog, encoding/json and text marshalling
// show "[REDACTED]" (or "" when empty). It is oidc.Secret; stores keep it
// sealed when the Service has Config.SecretKey, and encode string(secret)
// themselves.
type Secret = oidc.Secret

// Connection bounds, checked by Organization.ValidateAt.
const (
	MaxConnections        = 20  // Organization.Connections
	MaxConnectionIDBytes  = 32  // Connection.ID
	MaxConnectionName     = 100 // Connection.Name, in characters
	MaxConnectionDomains  = 50  // Connection.Domains
	MaxOIDCScopes         = 20  // OIDCConfig.Scopes
	maxOIDCScopeBytes     = 100 // each scope
	maxDomainBytes        = 253
	maxClientSecretBytes  = 1024
	maxOIDCClientIDBytes  = 512
	maxOIDCRolesClaimSize = 256
)

// reservedConnectionIDs are path segments of the primary connection's
// endpoints: a connection ID never shadows them.
var reservedConnectionIDs = []string{"acs", "metadata", "callback"}

// Connection returns the connection with this ID, or nil. The primary
// connection (ID "") is not in Connections: see Organization.IdP.
func (o *Organization) Connection(id string) *Connection {
	if o == nil || id == PrimaryConnection {
		return nil
	}
	for i := range o.Connections {
		if o.Connections[i].ID == id {
			return &o.Connections[i]
		}
	}
	return nil
}

// ValidateConnectionID reports whether id can name a connection: 1 to 32
// lowercase ASCII letters, digits and hyphens, not starting or ending with a
// hyphen, and not a reserved path segment (acs, metadata, callback).
func ValidateConnectionID(id string) error {
	bad := func(reason string) error {
		return &ConfigError{Field: "Connections.ID", Reason: reason,
			Message: "A connection ID is 1 to 32 lowercase letters, digits and hyphens (not at either end), other than acs, metadata and callback."}
	}
	if id == "" || len(id) > MaxConnectionIDBytes {
		return bad("must be 1 to 32 characters long")
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '-') {
			return bad("may contain only lowercase letters a-z, digits and hyphens")
		}
	}
	if id[0] == '-' || id[len(id)-1] == '-' {
		return bad("must not start or end with a hyphen")
	}
	if slices.Contains(reservedConnectionIDs, id) {
		return bad(strconv.Quote(id) + " is reserved")
	}
	return nil
}

// validateConnections checks every connection of o: IDs unique and valid,
// names, protocol, bounds; an enabled connection of an enabled organization
// must be complete, others need only be well-formed.
func (o *Organization) validateConnections(now time.Time) error {
	if len(o.Connections) > MaxConnections {
		return &ConfigError{Field: "Connections", Reason: "more than 20 connections", Message: "Keep at most 20 connections."}
	}
	seen := make(map[string]bool, len(o.Connections))
	for i := range o.Connections {
		c := &o.Connections[i]
		field := "Connections[" + strconv.Itoa(i) + "]"
		if err := ValidateConnectionID(c.ID); err != nil {
			ce := err.(*ConfigError)
			ce.Field = field + ".ID"
			return ce
		}
		if seen[c.ID] {
			return &ConfigError{Field: field + ".ID", Reason: "duplicate connection ID",
				Message: "Another connection already has the ID " + strconv.Quote(c.ID) + "."}
		}
		seen[c.ID] = true
		if err := c.validate(field, now, o.Enabled && c.Enabled); err != nil {
			return err
		}
	}
	return nil
}

// validate checks one connection; complete requires a usable IdP
// configuration.
func (c *Connection) validate(field string, now time.Time, complete bool) error {
	if n := utf8.RuneCountInString(c.Name); strings.TrimSpace(c.Name) == "" || n > MaxConnectionName || !utf8.ValidString(c.Name) {
		return &ConfigError{Field: field + ".Name", Reason: "must be 1 to 100 characters",
			Message: "Give the connection a name of 1 to 100 characters; the sign-in page shows it."}
	}
	for _, r := range c.Name {
		if r < 0x20 || r == 0x7f {
			return &ConfigError{Field: field + ".Name", Reason: "has a control character",
				Message: "The connection name must not contain control characters."}
		}
	}
	if len(c.Domains) > MaxConnectionDomains {
		return &ConfigError{Field: field + ".Domains", Reason: "more than 50 domains", Message: "Route at most 50 email domains to one connection."}
	}
	for j, d := range c.Domains {
		if err := checkDomainName(d); err != nil {
			return &ConfigError{Field: field + ".Domains[" + strconv.Itoa(j) + "]", Reason: err.Error(),
				Message: "Email domain " + strconv.Itoa(j+1) + " is not a domain name such as example.com (lowercase)."}
		}
	}
	if err := checkAttributeNames(field+".Attributes", c.Attributes); err != nil {
		return err
	}
	switch c.Protocol {
	case ProtocolSAML:
		if c.MetadataURL != "" {
			if err := checkMetadataURL(field+".MetadataURL", c.MetadataURL); err != nil {
				return err
			}
		}
		if !c.OIDC.isZero() {
			return &ConfigError{Field: field + ".OIDC", Reason: "is set on a SAML connection", Message: "A SAML connection has no OIDC settings."}
		}
		if err := checkIdPBounds(field+".SAML", c.SAML); err != nil {
			return err
		}
		return prefixConfigErr(field+".SAML", checkIdP(c.SAML, now, complete))
	case ProtocolOIDC:
		if !idpConfigIsZero(c.SAML) || c.AllowIdPInitiated || c.MetadataURL != "" {
			return &ConfigError{Field: field + ".SAML", Reason: "is set on an OIDC connection", Message: "An OIDC connection has no SAML settings."}
		}
		return c.OIDC.check(field+".OIDC", complete)
	default:
		return &ConfigError{Field: field + ".Protocol", Reason: "must be saml or oidc",
			Message: "Choose SAML or OIDC for the connection."}
	}
}

// idpConfigIsZero reports whether c has no field set. (IdPConfig is
// saml.IdPConfig: this package cannot give it methods.)
func idpConfigIsZero(c IdPConfig) bool {
	return c.EntityID == "" && c.SSOURL == "" && len(c.Certificates) == 0 && c.SignatureAlgorithm == ""
}

func (c OIDCConfig) isZero() bool {
	return c.Issuer == "" && c.ClientID == "" && c.ClientSecret == "" && len(c.Scopes) == 0 && c.RolesClaim == "" && !c.UserInfo
}

// check validates an OIDC provider configuration; complete requires the
// issuer, client ID and client secret.
func (c OIDCConfig) check(field string, complete bool) error {
	if c.Issuer != "" {
		if len(c.Issuer) > MaxURLBytes {
			return &ConfigError{Field: field + ".Issuer", Reason: "is too long", Message: "The issuer URL is longer than 2048 bytes."}
		}
		if err := checkIdPSSOURL(field+".Issuer", c.Issuer); err != nil {
			ce := err.(*ConfigError)
			ce.Message = "The issuer must be an https URL (http only for localhost), without user name or password."
			return ce
		}
		if strings.ContainsAny(c.Issuer, "?#") {
			return &ConfigError{Field: field + ".Issuer", Reason: "has a query or fragment", Message: "The issuer URL has no query or fragment."}
		}
	} else if complete {
		return &ConfigError{Field: field + ".Issuer", Reason: "is empty", Message: "Enter the provider's issuer URL."}
	}
	switch {
	case len(c.ClientID) > maxOIDCClientIDBytes:
		return &ConfigError{Field: field + ".ClientID", Reason: "is too long", Message: "The client ID is longer than 512 bytes."}
	case complete && strings.TrimSpace(c.ClientID) == "":
		return &ConfigError{Field: field + ".ClientID", Reason: "is empty", Message: "Enter the client ID the provider gave the application."}
	case len(c.ClientSecret) > maxClientSecretBytes:
		return &ConfigError{Field: field + ".ClientSecret", Reason: "is too long", Message: "The client secret is longer than 1024 bytes."}
	case complete && c.ClientSecret == "":
		return &ConfigError{Field: field + ".ClientSecret", Reason: "is empty", Message: "Enter the client secret the provider gave the application."}
	case strings.HasPrefix(string(c.ClientSecret), sealedPrefix):
		// A value in the sealed form would be taken for one at every load.
		return &ConfigError{Field: field + ".ClientSecret", Reason: "has the form of a sealed secret",
			Message: "Enter the client secret the provider gave the application, not a stored (sealed) value."}
	case len(c.Scopes) > MaxOIDCScopes:
		return &ConfigError{Field: field + ".Scopes", Reason: "more than 20 scopes", Message: "Ask for at most 20 scopes."}
	case len(c.RolesClaim) > maxOIDCRolesClaimSize:
		return &ConfigError{Field: field + ".RolesClaim", Reason: "is too long", Message: "The roles claim name is longer than 256 bytes."}
	}
	for _, sc := range c.Scopes {
		if sc == "" || len(sc) > maxOIDCScopeBytes || strings.ContainsAny(sc, " \t\r\n\"\\") {
			return &ConfigError{Field: field + ".Scopes", Reason: "a scope is empty, too long or has a space or quote",
				Message: "Each scope is one word of at most 100 characters."}
		}
	}
	return nil
}

// checkDomainName reports whether d is a lowercase DNS name with at least
// two labels (example.com).
func checkDomainName(d string) error {
	if d == "" || len(d) > maxDomainBytes {
		return fmt.Errorf("must be 1 to %d bytes", maxDomainBytes)
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return fmt.Errorf("needs at least two labels")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("has an empty, long or hyphen-edged label")
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '-') {
				return fmt.Errorf("may contain only lowercase letters, digits, hyphens and dots")
			}
		}
	}
	return nil
}

// prefixConfigErr re-roots the Field of a *ConfigError from "IdP.…" to
// prefix ("Connections[1].SAML.…").
func prefixConfigErr(prefix string, err error) error {
	ce, ok := err.(*ConfigError)
	if !ok || ce == nil {
		return err
	}
	ce.Field = prefix + strings.TrimPrefix(ce.Field, "IdP")
	return ce
}

// cloneConnections deep-copies connections.
func cloneConnections(in []Connection) []Connection {
	if in == nil {
		return nil
	}
	out := slices.Clone(in)
	for i := range out {
		out[i].SAML.Certificates = slices.Clone(in[i].SAML.Certificates)
		out[i].OIDC.Scopes = slices.Clone(in[i].OIDC.Scopes)
		out[i].Attributes = in[i].Attributes.clone()
		out[i].Domains = slices.Clone(in[i].Domains)
	}
	return out
}

func (n AttributeNames) clone() AttributeNames {
	return AttributeNames{Email: slices.Clone(n.Email), FirstName: slices.Clone(n.FirstName),
		LastName: slices.Clone(n.LastName), Roles: slices.Clone(n.Roles)}
}
