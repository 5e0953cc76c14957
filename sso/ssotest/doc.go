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
// ParseAuthnRequest is the IdP side of the HTTP-Redirect binding: it decodes,
// bounds and optionally verifies an SP's AuthnRequest (the IdP's handler
// uses it; an SP's tests can too).
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
// Each Response knob breaks one check of saml.Validator (sso.Validator):
//
//	saml.CheckStatus         StatusCode: ssotest.StatusResponder
//	saml.CheckAssertionCount BeforeSign adds or removes an assertion
//	saml.CheckDecryption     EncryptFor another SP's certificate
//	saml.CheckAlgorithm      SignatureMethod: saml.AlgRSASHA1, or DigestMethod: saml.DigestSHA1
//	saml.CheckSignature      Sign: SignNone; SigningKey or SigningCert of another key; AfterSign tampers
//	saml.CheckCertificate    an IdP whose Config.Now is over ten years before the response's IssueInstant
//	saml.CheckIssuer         Issuer or AssertionIssuer
//	saml.CheckDestination    Destination (the Validator accepts an omitted one)
//	saml.CheckRecipient      Recipient or OmitRecipient
//	saml.CheckAudience       Audience or OmitAudience
//	saml.CheckNotYetValid    NotBefore after now
//	saml.CheckExpired        NotOnOrAfter or SubjectNotOnOrAfter at or before now
//	saml.CheckInResponseTo   InResponseTo (unknown, or "" for an unsolicited response)
//	saml.CheckSubject        OmitNameID, OmitSubjectConfirmation or SubjectConfirmationMethod
//
// The package imports neither testing nor any test framework, so production
// code may link it. It holds no global state: clock and randomness come from
// Config, and an IdP is safe for concurrent use.
//
// See the package example for a complete round trip.
//
// # OpenID Connect
//
// NewOIDC makes an OpenID provider for tests: an http.Handler serving
// discovery, JWKS, the authorization endpoint (code flow only; client_id and
// an exactly registered redirect_uri, scope openid, PKCE S256 required,
// state echoed, nonce carried into the ID token), the token endpoint
// (client_secret_basic or client_secret_post; codes single-use, bound to
// client, redirect_uri and verifier, expiring) and userinfo. ID tokens are
// signed RS256 (or ES256) with a kid; RotateKey publishes a new key. Login
// does the authorization step without a browser; OIDCConfig(clientID) is
// what an organization's OIDC connection configures to trust it. Its Issuer
// is the URL it is served at:
//
//	mux := http.NewServeMux()
//	srv := httptest.NewServer(mux)
//	op, _ := ssotest.NewOIDC(ssotest.OIDCConfig{Issuer: srv.URL, Clients: clients})
//	mux.Handle("/", op)
//	// the relying party discovers srv.URL; op.Login(authURL, user) returns the callback URL
//
// Claims: iss, sub (User.NameID, "" = Email), aud, exp, iat, nonce, at_hash;
// email and email_verified with scope email; name, given_name, family_name
// with scope profile; User.Roles under OIDCConfig.RolesClaim ("groups", or
// "roles" as Entra ID) always. NextToken sets the knobs of the next token
// answer; IDToken signs a token directly. Each knob breaks one check a
// relying party must make:
//
//	iss                IDTokenOptions.Issuer
//	aud                Audience of another client
//	azp                Audience with a second client and no AuthorizedParty, or AuthorizedParty of another client
//	exp                Expiry in the past
//	iat                IssuedAt in the future
//	nbf                NotBefore in the future
//	nonce              OmitNonce, or Nonce not the request's
//	email_verified     EmailVerified: EmailVerifiedFalse, EmailVerifiedAbsent or EmailVerifiedString ("true")
//	signature          Signing: JWTOtherKey (kid not in the JWKS), JWTEmbeddedJWK, JWTForeignJKU (JKU)
//	alg                Signing: JWTAlgNone, JWTHS256PublicKey (key confusion), JWTAlgMismatch (ES256 vs RS256 JWK)
//	token response     TokenResponse.Error ("invalid_grant"), OmitIDToken
//
// go-oidc (v3.21) checks iss, aud, exp, nbf, alg and the signature; azp, iat,
// nonce and email_verified are the relying party's to check. See the example
// named oidc for a complete sign-in.
package ssotest
