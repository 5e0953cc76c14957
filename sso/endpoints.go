package sso

import (
	"context"
	"net/url"

	"github.com/orgsso/orgsso/saml"
)

// connectionDetails returns what the IdP of connection connID needs to know
// about us. The organization's own IdP keeps {BaseURL}/sso/{name}/acs and
// /metadata; another SAML connection has {BaseURL}/sso/{name}/{id}/acs and
// /metadata, so each IdP sees its own SP entity ID.
func (s *Service) connectionDetails(org *Organization, connID string) (SPDetails, error) {
	if err := ValidateSSOName(org.SSOName); err != nil {
		return SPDetails{}, err
	}
	if connID == PrimaryConnection {
		return spDetailsAt(s.baseURL + "/sso/" + org.SSOName), nil
	}
	c := org.Connection(connID)
	if c == nil || c.Protocol != ProtocolSAML {
		return SPDetails{}, ErrUnknownConnection
	}
	return spDetailsAt(s.connectionBase(org, connID)), nil
}

// connectionBase is {BaseURL}/sso/{name}/{id}: names and IDs are URL-safe
// by their rules.
func (s *Service) connectionBase(org *Organization, connID string) string {
	return s.baseURL + "/sso/" + url.PathEscape(org.SSOName) + "/" + url.PathEscape(connID)
}

// ConnectionDetails returns what the IdP of a SAML connection needs to know
// about us (Details for PrimaryConnection). An unknown connection, or an
// OIDC one, is ErrUnknownConnection.
func (s *Service) ConnectionDetails(org *Organization, connectionID string) (SPDetails, error) {
	if org == nil {
		return SPDetails{}, configErr("Organization", "is nil")
	}
	return s.connectionDetails(org, connectionID)
}

// RedirectURL returns the redirect URI to register at the provider of an
// OIDC connection: {BaseURL}/sso/{name}/{id}/callback, where the host calls
// HandleCallback. An unknown connection, or a SAML one, is
// ErrUnknownConnection.
func (s *Service) RedirectURL(org *Organization, connectionID string) (string, error) {
	if org == nil {
		return "", configErr("Organization", "is nil")
	}
	if err := ValidateSSOName(org.SSOName); err != nil {
		return "", err
	}
	c := org.Connection(connectionID)
	if c == nil || c.Protocol != ProtocolOIDC {
		return "", ErrUnknownConnection
	}
	return s.connectionBase(org, connectionID) + "/callback", nil
}

// ConnectionMetadataFor returns the SP metadata XML of a SAML connection of
// the organization with this SSO name, for the host's GET
// {BaseURL}/sso/{name}/{id}/metadata handler (MetadataFor for
// PrimaryConnection).
func (s *Service) ConnectionMetadataFor(ctx context.Context, ssoName, connectionID string) ([]byte, error) {
	org, err := s.lookup(ctx, ssoName)
	if err != nil {
		return nil, err
	}
	d, err := s.connectionDetails(org, connectionID)
	if err != nil {
		return nil, err
	}
	md, err := saml.SPMetadata(d, s.spCert)
	return md, samlConfigErr(err)
}
