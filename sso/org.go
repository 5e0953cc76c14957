package sso

import (
	"strconv"
	"strings"
	"time"
)

// Validate checks o at the current time; see ValidateAt.
func (o *Organization) Validate() error { return o.ValidateAt(time.Now()) }

// ValidateAt checks o, judging certificate validity at now:
//
//   - the SSO name follows ValidateSSOName;
//   - SessionTimeout is 0 (DefaultSessionTimeout) or within
//     [MinSessionTimeout, MaxSessionTimeout];
//   - the role mapping is valid (the error then matches both ErrInvalidConfig
//     and rolemap.ErrInvalidConfig);
//   - the MFA policy's IdP values are within bounds;
//   - every connection is valid (unique ID, name, protocol, bounds), and an
//     enabled one of an enabled organization is complete;
//   - when Enabled, the IdP configuration is complete (IdPConfig.ValidateAt),
//     entity ID included — unless the IdP is left entirely empty and an
//     enabled connection signs the organization in. A draft (not Enabled) may lack any IdP field, but every field it does set
//     must be well-formed: certificates must parse, though their validity
//     period is only judged once the organization is enabled.
//
// The first problem found is returned as a *ConfigError wrapping
// ErrInvalidConfig. A nil o is an error, not a panic.
func (o *Organization) ValidateAt(now time.Time) error {
	if o == nil {
		return configErr("Organization", "is nil")
	}
	if err := ValidateSSOName(o.SSOName); err != nil {
		return err
	}
	if err := o.checkBounds(); err != nil {
		return err
	}
	if t := o.SessionTimeout; t != 0 && (t < MinSessionTimeout || t > MaxSessionTimeout) {
		e := configErr("SessionTimeout", "%s is outside %s to %s (0 means the default, %s)",
			t, MinSessionTimeout, MaxSessionTimeout, DefaultSessionTimeout)
		e.Message = "The session timeout must be between 1 and 24 hours."
		return e
	}
	if err := o.RoleMapping.Validate(); err != nil {
		return &ConfigError{Field: "RoleMapping", Reason: "role mapping rejected", Err: err}
	}
	if err := o.validateConnections(now); err != nil {
		return err
	}
	if err := o.validateDomains(); err != nil {
		return err
	}
	if err := o.MFA.validate(); err != nil {
		return err
	}
	if o.IdPMetadataURL != "" {
		if err := checkMetadataURL("IdPMetadataURL", o.IdPMetadataURL); err != nil {
			return err
		}
	}
	// An enabled organization signs in through its own IdP, which must then
	// be complete, unless it leaves that IdP empty and has an enabled
	// connection.
	if o.Enabled && !(idpConfigIsZero(o.IdP) && o.hasEnabledConnection()) {
		return samlConfigErr(o.IdP.ValidateAt(now))
	}
	return samlConfigErr(o.IdP.ValidatePartial())
}

// hasEnabledConnection reports whether one of o.Connections is enabled.
func (o *Organization) hasEnabledConnection() bool {
	for i := range o.Connections {
		if o.Connections[i].Enabled {
			return true
		}
	}
	return false
}

// Bounds on an organization's stored values, checked by ValidateAt so that
// nothing oversized reaches a store.
const (
	MaxURLBytes         = 2048     // IdP.SSOURL and IdP.EntityID
	MaxCertificates     = 10       // IdP.Certificates
	MaxCertificateBytes = 16 << 10 // each PEM certificate
	MaxRoleMappings     = 500      // RoleMapping.Mappings
	MaxAttributeNames   = 32       // names per field of Attributes
)

// checkBounds refuses values too large to store.
func (o *Organization) checkBounds() error {
	if len(o.ID) > MaxKeyBytes || len(o.OwnerID) > MaxKeyBytes {
		return &ConfigError{Field: "ID", Reason: "is too long", Message: "The organization or owner ID is longer than 512 bytes."}
	}
	if len(o.RoleMapping.Mappings) > MaxRoleMappings {
		return &ConfigError{Field: "RoleMapping", Reason: "more than 500 mappings", Message: "Keep at most 500 role mappings."}
	}
	if err := checkIdPBounds("IdP", o.IdP); err != nil {
		return err
	}
	return checkAttributeNames("Attributes", o.Attributes)
}

// checkIdPBounds refuses IdP settings too large to store; field is where
// c sits ("IdP", "Connections[0].SAML").
func checkIdPBounds(field string, c IdPConfig) error {
	tooLong := func(f, msg string) error {
		return &ConfigError{Field: field + "." + f, Reason: "is too long", Message: msg}
	}
	switch {
	case len(c.SSOURL) > MaxURLBytes:
		return tooLong("SSOURL", "The IdP single sign-on URL is longer than 2048 bytes.")
	case len(c.EntityID) > MaxURLBytes:
		return tooLong("EntityID", "The IdP entity ID is longer than 2048 bytes.")
	case len(c.SignatureAlgorithm) > MaxURLBytes:
		return tooLong("SignatureAlgorithm", "The signature algorithm is not one orgsso knows.")
	case len(c.Certificates) > MaxCertificates:
		return &ConfigError{Field: field + ".Certificates", Reason: "more than 10 certificates", Message: "Keep at most 10 IdP certificates."}
	}
	for i, cert := range c.Certificates {
		if len(cert) > MaxCertificateBytes {
			f := "IdP.Certificates[" + strconv.Itoa(i) + "]"
			return &ConfigError{Field: field + strings.TrimPrefix(f, "IdP"), Reason: "is too long",
				Message: fieldLabel(f) + " is larger than 16 KiB: paste one certificate."}
		}
	}
	return nil
}

// checkAttributeNames refuses attribute-name lists too long to store.
func checkAttributeNames(field string, a AttributeNames) error {
	for _, names := range [][]string{a.Email, a.FirstName, a.LastName, a.Roles} {
		if len(names) > MaxAttributeNames {
			return &ConfigError{Field: field, Reason: "more than 32 names for one field", Message: "Give at most 32 attribute names per field."}
		}
		for _, n := range names {
			if len(n) > MaxURLBytes || strings.TrimSpace(n) == "" {
				return &ConfigError{Field: field, Reason: "an attribute name is empty or longer than 2048 bytes",
					Message: "Attribute names must not be empty or longer than 2048 bytes."}
			}
		}
	}
	return nil
}

// EffectiveSessionTimeout returns the lifetime of the organization's SSO
// sessions: DefaultSessionTimeout when SessionTimeout is 0 (or o is nil), and
// otherwise SessionTimeout held within [MinSessionTimeout, MaxSessionTimeout]
// (a value ValidateAt refuses never lengthens or shortens a session past the
// bounds).
func (o *Organization) EffectiveSessionTimeout() time.Duration {
	if o == nil || o.SessionTimeout == 0 {
		return DefaultSessionTimeout
	}
	return min(max(o.SessionTimeout, MinSessionTimeout), MaxSessionTimeout)
}
