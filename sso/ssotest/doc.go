// Package ssotest is a SAML 2.0 identity provider for tests, as net/http/httptest
// is an HTTP server for tests. Hosts use it to test their ACS handlers and an
// organization's role mappings offline; orgsso's own tests use it to build
// valid responses and responses that break exactly one validation check.
//
// New makes an IdP with a fresh RSA key and a self-signed certificate.
// IdPConfig (or Metadata) is what an organization configures to trust it.
// Response builds a signed SAMLResponse, base64 as posted, for an SP and a
// User; PostRequest wraps it in the request a browser would post to the ACS
// URL. As an http.Handler, the IdP answers AuthnRequests at its SSO URL with an
// auto-submitting form, signing in the user its LoginFunc chooses.
//
//	idp, _ := ssotest.New(ssotest.Config{Now: clock})
//	org.IdP = idp.IdPConfig()
//	resp, _ := idp.Response(ssotest.Response{
//		SP:           svc.Details(org),
//		InResponseTo: redirect.RequestID,
//		User:         ssotest.User{Email: "ada@example.com", Roles: []string{"eng"}},
//	})
//	req, _ := idp.PostRequest(svc.Details(org).ACSURL, resp, "", redirect.Cookie)
//	// serve req with the host's ACS handler
//
// Responses look like Okta's: one assertion, signed (RSA-SHA256, SHA-256
// digests, exclusive C14N) with the certificate in KeyInfo, a bearer subject
// confirmation, an audience restriction, emailAddress NameID, and the
// attributes email, first_name, last_name and roles.
//
// Each Response knob breaks one check of sso.Validator:
//
//	sso.CheckStatus         StatusCode: ssotest.StatusResponder
//	sso.CheckAssertionCount BeforeSign adds or removes an assertion
//	sso.CheckDecryption     EncryptFor another SP's certificate
//	sso.CheckAlgorithm      SignatureMethod: sso.AlgRSASHA1, or DigestMethod: sso.DigestSHA1
//	sso.CheckSignature      Sign: SignNone; SigningKey or SigningCert of another key; AfterSign tampers
//	sso.CheckCertificate    an IdP whose Config.Now is over ten years before the response's IssueInstant
//	sso.CheckIssuer         Issuer or AssertionIssuer
//	sso.CheckDestination    Destination (the Validator accepts an omitted one)
//	sso.CheckRecipient      Recipient or OmitRecipient
//	sso.CheckAudience       Audience or OmitAudience
//	sso.CheckNotYetValid    NotBefore after now
//	sso.CheckExpired        NotOnOrAfter or SubjectNotOnOrAfter at or before now
//	sso.CheckInResponseTo   InResponseTo (unknown, or "" for an unsolicited response)
//	sso.CheckSubject        OmitNameID, OmitSubjectConfirmation or SubjectConfirmationMethod
//
// The package imports neither testing nor any test framework, so production
// code may link it. It holds no global state: clock and randomness come from
// Config, and an IdP is safe for concurrent use.
//
// See the package example for a complete round trip.
package ssotest
