package sso

import (
	"net/url"
	"strings"

	"github.com/orgsso/orgsso/internal/text"
	"github.com/orgsso/orgsso/saml"
)

// The SAML attribute names orgsso asks an organization's IdP to send, in
// SPDetails.Attributes and the SP metadata. AttrRoles is optional: it carries
// the IdP roles (groups) the role mapping reads.
const (
	AttrEmail     = "email"
	AttrFirstName = "first_name"
	AttrLastName  = "last_name"
	AttrRoles     = "roles"
)

// NewSPDetails derives what an organization's IdP needs to know about us from
// the application's base URL and the organization's SSO name:
//
//	ACSURL       {baseURL}/sso/{ssoName}/acs
//	EntityID     {baseURL}/sso/{ssoName}/metadata (where the SP metadata is served)
//	NameIDFormat saml.NameIDFormatEmail
//	Attributes   email, first_name, last_name, roles (roles optional)
//
// baseURL is an absolute http or https URL with a host and optionally a path,
// without user credentials, query or fragment; trailing slashes are dropped.
// ssoName must pass ValidateSSOName. Errors wrap ErrInvalidConfig.
func NewSPDetails(baseURL, ssoName string) (SPDetails, error) {
	base, err := spCheckBaseURL(baseURL)
	if err != nil {
		return SPDetails{}, err
	}
	if err := ValidateSSOName(ssoName); err != nil {
		return SPDetails{}, err
	}
	return spDetailsAt(base + "/sso/" + ssoName), nil
}

// spDetailsAt is the SP of the endpoints under prefix ({BaseURL}/sso/{name},
// or a connection's {BaseURL}/sso/{name}/{id}): entity ID prefix/metadata,
// ACS URL prefix/acs.
func spDetailsAt(prefix string) SPDetails {
	return SPDetails{
		EntityID:           prefix + "/metadata",
		ACSURL:             prefix + "/acs",
		NameIDFormat:       saml.NameIDFormatEmail,
		Attributes:         []string{AttrEmail, AttrFirstName, AttrLastName, AttrRoles},
		OptionalAttributes: []string{AttrRoles},
	}
}

// spCheckBaseURL validates an application base URL and returns it without
// trailing slashes: the one BaseURL check (New uses it too).
func spCheckBaseURL(raw string) (string, error) {
	const field = "BaseURL"
	base := strings.TrimRight(raw, "/")
	if base == "" {
		return "", configErr(field, "is empty")
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", &ConfigError{Field: field, Reason: "is not a URL", Err: err}
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", configErr(field, "%q is not an absolute http or https URL", text.Truncate(raw, 200))
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return "", configErr(field, "%q has no host", text.Truncate(raw, 200))
	}
	if u.User != nil {
		return "", configErr(field, "must not contain user credentials")
	}
	if u.RawQuery != "" || u.ForceQuery || strings.Contains(base, "#") {
		return "", configErr(field, "%q must not have a query or fragment", text.Truncate(raw, 200))
	}
	return base, nil
}
