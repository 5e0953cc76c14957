// Package sso gives a multi-tenant Go application single sign-on for its
// customer organizations, through SAML 2.0 and OpenID Connect.
//
// A host builds one Service with New (its BaseURL, a Store from store/memory,
// store/sqlite or store/postgres, and a session.Manager) and calls it from
// its own handlers:
//
//   - the admin API: CreateOrganization, UpdateOrganization (the SSO name,
//     the IdP configuration by hand or from ParseIdPMetadata, strict mode,
//     session timeout, role mapping, just-in-time provisioning), members
//     (AddMember, RemoveMember, …), StartTest for the owner's round trip,
//     Enable and Disable. Each verb enforces the organization's rules,
//     validates, detects concurrent edits (ErrConflict) and emits an event.
//   - the public endpoints, addressed by SSO name ("acme"): Details and
//     Metadata at the entity ID {BaseURL}/sso/acme/metadata; StartLogin (or
//     StartLoginFromRequest for /login?trigger_sso_flow=acme) returns the
//     IdP redirect and a browser-binding cookie (Redirect.Cookie) the host
//     sets; HandleACS at {BaseURL}/sso/acme/acs validates the posted
//     response, provisions or updates the member, applies the role mapping
//     and creates the session whose Token the host puts in its cookie.
//   - PasswordLoginAllowed, for the host's own password form.
//
// HandleACS accepts a response to a request only from the browser that holds
// its binding cookie (saml.CheckBinding otherwise), consumes the pending
// request and the assertion ID once (ErrReplay), and refuses an unknown
// organization or one with SSO disabled before the response is parsed.
// Errors are typed: errors.Is with the Err* sentinels, ErrorCode and
// UserMessage for the end user, ReportFailure for the owner.
//
// An organization signs in through its own IdP and through further
// Connections (SAML or OpenID Connect): StartLoginWith chooses one, routes by
// the email's domain, or returns Redirect.Choices for a chooser;
// HandleConnectionACS and HandleCallback (OIDC) finish them; the owner tests,
// enables and disables each (StartConnectionTest, EnableConnection,
// DisableConnection). Verified email domains (AddDomain, VerifyDomain) limit
// provisioning and find the organization from an email (StartLoginForEmail).
// IdP metadata URLs are refreshed by Run and RefreshMetadata. OpenID Connect
// itself is package oidc.
//
// An organization may require MFA after SSO (Organization.MFA, MFAPolicy),
// optionally satisfied by MFA its IdP asserts (signed SAML
// AuthnContextClassRef, OIDC amr: Identity.AuthnMethods). Such a sign-in
// returns Result.MFA instead of a session: the host sets MFACookie and shows
// its MFA page, which calls MFAState, BeginTOTPEnrollment and
// ConfirmTOTPEnrollment (an authenticator app and recovery codes) or
// VerifyMFA; those make the session. The Handler does all of this at
// {prefix}mfa (HandlerConfig.RenderMFA draws the pages in the host's look).
// ResetMFA clears a lost device. The Store must implement MFAStore (every
// store in orgsso/store does).
//
// The SAML protocol itself (response validation, certificates, IdP and SP
// metadata, AuthnRequests) is package saml; the contract's protocol names
// here (IdPConfig, SPDetails, ValidatorConfig, Assertion, Validator,
// NewValidator, ParseIdPMetadata, ErrInvalidResponse) are its types and thin
// wrappers. Package sso/ssotest is an IdP for tests: it signs responses for
// given users, with a knob to break each check. See Example for a whole
// host.
package sso
