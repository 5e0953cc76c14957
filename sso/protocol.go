package sso

import (
	"errors"
	"time"

	"github.com/orgsso/orgsso/saml"
)

// The contract's protocol functions: package saml does the work, and its
// configuration errors come back as this package's *ConfigError (wrapping
// ErrInvalidConfig and the *saml.ConfigError).

// NewValidator checks cfg and builds a Validator; see saml.NewValidator. The
// SP entity ID and ACS URL and at least one IdP certificate are required;
// certificates must parse (their validity period is judged at each Validate,
// at cfg.Now). An error is a *ConfigError.
func NewValidator(cfg ValidatorConfig) (*Validator, error) {
	v, err := saml.NewValidator(cfg)
	if err != nil {
		return nil, samlConfigErr(err)
	}
	return v, nil
}

// ParseIdPMetadata reads an identity provider's SAML 2.0 metadata document
// and returns the IdP configuration it describes; see saml.ParseIdPMetadata.
// Every error is a *ConfigError with Field "IdP metadata" and a Message a
// host can show to the person who pasted the document.
func ParseIdPMetadata(xml []byte) (IdPConfig, error) {
	c, err := saml.ParseIdPMetadata(xml)
	if err == nil {
		return c, nil
	}
	err = samlConfigErr(err)
	var ce *ConfigError
	if errors.As(err, &ce) && ce.Message == "" {
		ce.Message = "This is not IdP metadata orgsso can use: paste the SAML 2.0 metadata XML your IdP publishes " +
			"(it starts with <EntityDescriptor> and describes one identity provider), or enter the settings by hand."
	}
	return c, err
}

// checkIdP checks an IdP configuration with package saml: complete
// (IdPConfig.ValidateAt at now) or only the fields that are set
// (IdPConfig.ValidatePartial).
func checkIdP(c IdPConfig, now time.Time, complete bool) error {
	if complete {
		return samlConfigErr(c.ValidateAt(now))
	}
	return samlConfigErr(c.ValidatePartial())
}

// checkIdPSSOURL applies package saml's rule for an IdP single sign-on URL
// (absolute, https or http to a loopback host, a host, no user credentials)
// to another field, such as an OIDC issuer: one rule, not two.
func checkIdPSSOURL(field, raw string) error {
	err := samlConfigErr(saml.IdPConfig{SSOURL: raw}.ValidatePartial())
	if ce, ok := err.(*ConfigError); ok {
		ce.Field = field
	}
	return err
}
