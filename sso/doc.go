// Package sso gives a multi-tenant Go application SAML 2.0 single sign-on for
// its customer organizations.
//
// An organization picks an SSO name ("acme"); NewSPDetails derives what its
// identity provider needs (ACS URL {BaseURL}/sso/acme/acs, entity ID
// {BaseURL}/sso/acme/metadata, NameID format, attributes) and saml.SPMetadata
// serves it as XML. The owner configures the IdP by hand (IdPConfig) or from
// the IdP's metadata (ParseIdPMetadata).
//
// Sign-in is SP-initiated: saml.NewAuthnRequest builds the HTTP-Redirect URL and
// the request ID to remember; the IdP posts a SAMLResponse to the ACS URL; a
// Validator, built once per organization configuration with NewValidator,
// checks it and returns the Assertion. Every check is an error, never a
// warning: status, signature (by a configured certificate, covering the
// assertion), algorithm policy, exactly one assertion, issuer, audience,
// destination, recipient, time window with skew, InResponseTo, XML safety and
// size. A failure is a *saml.ValidationError naming its saml.Check and wrapping
// ErrInvalidResponse:
//
//	a, err := v.Validate(r.PostFormValue("SAMLResponse"), pendingRequestID)
//	if errors.Is(err, saml.CheckAudience) { … }
//
// A Service runs this for every organization of an application. StartLogin
// and StartTest return, with the redirect, a browser-binding cookie
// (Redirect.Cookie) the host sets; HandleACS accepts a response to that
// request only from the browser that holds it (saml.CheckBinding otherwise), so a
// response cannot sign another person's browser in (login CSRF), and it
// consumes the pending request only when organization and binding match.
//
// The Validator does no I/O and holds no globals; clock and limits come from
// ValidatorConfig. Package sso/ssotest is an IdP for tests. See ExampleNewValidator.
package sso
