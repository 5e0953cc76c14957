// Package saml is the SAML 2.0 protocol of a service provider: what one SP
// says to and accepts from one identity provider. It knows nothing of
// organizations, members, stores or sessions; package sso builds the product
// on it.
//
// The flow, Web Browser SSO profile, SP-initiated:
//
//   - Configure: an IdPConfig (the IdP's entity ID, single sign-on URL and
//     signing certificates, and the weakest signature algorithm accepted),
//     entered by hand and checked with IdPConfig.ValidateAt, or read from the
//     IdP's metadata with ParseIdPMetadata. The SP's own SPDetails (entity
//     ID, ACS URL, NameID format, requested attributes) go to the IdP as XML
//     with SPMetadata.
//   - Request: NewAuthnRequest builds the HTTP-Redirect URL carrying a
//     deflated, optionally signed AuthnRequest, and the request ID to
//     remember.
//   - Validate: the IdP posts a SAMLResponse to the ACS URL; a Validator,
//     built once per configuration with NewValidator, checks it and returns
//     the Assertion. Every check is an error, never a warning: size, XML
//     safety (one strict, namespace-aware reader), status, exactly one
//     assertion, signature by a configured certificate covering what is read,
//     algorithm policy, certificate validity, issuer, destination, recipient,
//     audience, time window with skew, InResponseTo. What is read is what was
//     signed; the read==signed tests prove it by a fuzzed invariant.
//
// A failure is a *ValidationError naming its Check and wrapping
// ErrInvalidResponse:
//
//	a, err := v.Validate(r.PostFormValue("SAMLResponse"), pendingRequestID)
//	if errors.Is(err, saml.CheckAudience) { … }
//
// A configuration error is a *ConfigError wrapping ErrInvalidConfig.
//
// The Validator does no I/O and holds no globals; clock and limits come from
// ValidatorConfig, and it is safe for concurrent use. The IdP side of the
// protocol (decoding AuthnRequests, signing responses) is package
// sso/ssotest. See ExampleNewValidator.
package saml
