package sso

import (
	"net/http"
	"strings"

	"github.com/orgsso/orgsso/oidc"
	"github.com/orgsso/orgsso/saml"
)

// newTestReport is what a Test SSO round trip shows the owner: the identity
// as checked (values checkIdentity refuses are left out and listed under
// Problems, with what a sign-in would refuse), what the role mapping would
// grant, and what else to fix before enabling SSO.
func newTestReport(org *Organization, c *Connection, received Identity) *TestReport {
	id, problems := checkIdentity(received)
	m := org.RoleMapping.Map(id.IdPRoles)
	if received.Email == "" {
		problems = append(problems, "no email address: send an email attribute or an emailAddress NameID")
	}
	if received.FirstName == "" || received.LastName == "" {
		problems = append(problems, "first or last name missing: send first_name and last_name attributes")
	}
	if org.RoleMapping.Enabled || len(org.RoleMapping.Mappings) > 0 {
		switch {
		case len(received.IdPRoles) == 0:
			problems = append(problems, "no IdP roles received: send a roles attribute for role mapping")
		case len(id.IdPRoles) == 0:
			// All refused, and said so above.
		case m.OrgRole == "":
			problems = append(problems, "none of the IdP roles "+quoteRoles(id.IdPRoles)+" maps to a role: with role mapping enabled this user would be denied")
		}
	}
	if id.Email != "" && org.hasVerifiedDomain() && !id.DomainVerified {
		problems = append(problems, "the email's domain is not one of the organization's verified domains: this user would not be provisioned")
	}
	return &TestReport{Identity: id, Mapping: m, Problems: problems, MFA: mfaReport(org.MFA, id.AuthnMethods), ReadFrom: readFrom(c, received.Attributes)}
}

// readFrom names, per identity field ("email", "first_name", "last_name",
// "roles"), the assertion attributes the values were read from under the
// connection's attribute names: what a Test SSO report shows, so the owner
// sees which names matched and can edit them (Organization.Attributes, or
// Connection.Attributes).
func readFrom(c *Connection, attrs map[string][]string) map[string][]string {
	names := c.Attributes.withDefaults()
	out := map[string][]string{}
	first := func(key string, list []string) {
		for _, n := range list {
			for _, v := range attrs[n] {
				if strings.TrimSpace(v) != "" {
					out[key] = []string{n}
					return
				}
			}
		}
	}
	first("email", names.Email)
	first("first_name", names.FirstName)
	first("last_name", names.LastName)
	for _, n := range names.Roles {
		if len(attrs[n]) > 0 {
			out["roles"] = append(out["roles"], n)
		}
	}
	return out
}

// FailureReport explains a failed Test SSO round trip to the organization's
// owner: which check failed, what that means and what to change.
type FailureReport struct {
	// Check is the failed check: a saml.Check or an oidc.Check; nil when
	// the failure was not a check of the IdP's answer.
	Check   error
	Problem string // what went wrong, in plain language
	Fix     string // what to change, and where
}

// ReportFailure explains err, a HandleACS failure, for the owner's Test SSO
// page. Show it only to the organization's signed-in owner after a response
// IsTestResponse recognises: it names the failed check, which an anonymous
// poster must not learn (the login page shows UserMessage instead).
func ReportFailure(err error) *FailureReport {
	if err == nil {
		return nil
	}
	c := failedCheck(err)
	if c == nil {
		return &FailureReport{Problem: UserMessage(err), Fix: failureFixes[nil]}
	}
	problem, fix := DescribeCheck(c)
	return &FailureReport{Check: c, Problem: problem, Fix: fix}
}

// IsTestResponse reports whether a posted ACS form answers a Test SSO round
// trip, by its RelayState. It is a hint from unsigned input: use it only to
// choose how to present a failure to a signed-in owner, never to decide.
// Call it after HandleACS, which parses the form within its size limit; it
// never reads the body itself.
func IsTestResponse(r *http.Request) bool {
	return r != nil && r.PostForm.Get("RelayState") == relayTest
}

// DescribeCheck returns the plain-language problem and fix of a failed
// check, as ReportFailure gives them: for an audit trail or an owner's page.
// c is a saml.Check or an oidc.Check.
func DescribeCheck(c error) (problem, fix string) {
	fix, ok := failureFixes[c]
	if !ok {
		fix = failureFixes[nil]
	}
	return checkProblems[c], fix
}

var checkProblems = map[error]string{
	saml.CheckSize:           "The identity provider's response was larger than allowed.",
	saml.CheckEncoding:       "The identity provider's answer was not a SAML response posted to this page.",
	saml.CheckXML:            "The identity provider's response was not well-formed XML, or used XML features that are refused.",
	saml.CheckSchema:         "The identity provider's response was not a complete SAML 2.0 response.",
	saml.CheckStatus:         "The identity provider answered with an error instead of a sign-in.",
	saml.CheckAssertionCount: "The identity provider's response did not hold exactly one assertion.",
	saml.CheckDecryption:     "The encrypted assertion could not be decrypted.",
	saml.CheckAlgorithm:      "The identity provider signed with an algorithm that is too weak (SHA-1) or unknown.",
	saml.CheckSignature:      "The response's signature did not verify with the saved IdP certificates.",
	saml.CheckCertificate:    "The IdP certificate that signed the response is expired or not valid yet.",
	saml.CheckIssuer:         "The response came from a different IdP entity ID than the one saved.",
	saml.CheckDestination:    "The response was addressed to a different ACS URL.",
	saml.CheckRecipient:      "The response's recipient is a different ACS URL.",
	saml.CheckAudience:       "The response was meant for a different service provider (audience).",
	saml.CheckNotYetValid:    "The response is not valid yet: the IdP's clock is ahead of ours.",
	saml.CheckExpired:        "The response had expired when it arrived, or the IdP's clock is behind ours.",
	saml.CheckInResponseTo:   "The response does not answer the test this browser started, or the test took too long.",
	saml.CheckSubject:        "The response named no user (NameID) or had no bearer confirmation.",
	saml.CheckUnsolicited:    "The response was not started from this app, and IdP-initiated sign-in is off.",
	saml.CheckBinding:        "The test was finished in a different browser from the one that started it.",
	saml.CheckIdentity:       "The identity provider sent an email address or name that cannot be accepted.",

	oidc.CheckAuthorization:   "The OpenID provider answered with an error instead of a sign-in.",
	oidc.CheckState:           "The answer does not belong to the test this browser started, or the test took too long.",
	oidc.CheckDiscovery:       "The provider's discovery document could not be read at the issuer URL, or names another issuer.",
	oidc.CheckTokenExchange:   "The provider refused to exchange the sign-in code for tokens.",
	oidc.CheckKeys:            "The provider's signing keys could not be fetched.",
	oidc.CheckUserInfo:        "The provider's userinfo endpoint failed, or named another user.",
	oidc.CheckSize:            "The provider's ID token was larger than allowed.",
	oidc.CheckMalformed:       "The provider's ID token was not a well-formed JWT.",
	oidc.CheckAlgorithm:       "The provider signed the ID token with an algorithm that is refused (none, HMAC or not allowed).",
	oidc.CheckSignature:       "The ID token's signature did not verify with the provider's published keys.",
	oidc.CheckIssuer:          "The ID token came from another issuer than the one saved.",
	oidc.CheckAudience:        "The ID token was issued to another client ID.",
	oidc.CheckAuthorizedParty: "The ID token was issued to several clients, or authorized another one (azp).",
	oidc.CheckExpiry:          "The ID token had expired, or the provider's clock is behind ours.",
	oidc.CheckIssuedAt:        "The ID token was issued in the future: the provider's clock is ahead of ours.",
	oidc.CheckNotBefore:       "The ID token is not valid yet: the provider's clock is ahead of ours.",
	oidc.CheckNonce:           "The ID token does not carry the nonce of this sign-in.",
	oidc.CheckSubject:         "The ID token named no user (sub).",
	oidc.CheckRoles:           "The roles claim was not a list of names, or held too many.",
	oidc.CheckEmailVerified:   "The provider did not mark the email as verified.",
}

var failureFixes = map[error]string{
	nil:                      "Try the test again. If it keeps failing, check the IdP settings below against the IdP's own configuration.",
	saml.CheckSize:           "Send fewer attributes or groups from the IdP.",
	saml.CheckEncoding:       "In the IdP, set the ACS URL shown below and the HTTP-POST binding.",
	saml.CheckXML:            "Check that the IdP sends a standard SAML 2.0 response.",
	saml.CheckSchema:         "Check that the IdP sends a SAML 2.0 response with an AuthnStatement.",
	saml.CheckStatus:         "Check that the user is assigned to this application in the IdP.",
	saml.CheckAssertionCount: "Configure the IdP to send one assertion per response.",
	saml.CheckDecryption:     "Upload this app's SP certificate (from the SP metadata) to the IdP, or turn assertion encryption off there.",
	saml.CheckAlgorithm:      "In the IdP, choose RSA-SHA256 as signature algorithm and SHA-256 as digest.",
	saml.CheckSignature:      "Paste the IdP's current signing certificate, or import its metadata again, and make sure the IdP signs the assertion.",
	saml.CheckCertificate:    "Add the IdP's current signing certificate.",
	saml.CheckIssuer:         "Copy the IdP's entity ID (issuer) from its metadata into the settings.",
	saml.CheckDestination:    "In the IdP, set the ACS URL exactly as shown below.",
	saml.CheckRecipient:      "In the IdP, set the ACS URL exactly as shown below.",
	saml.CheckAudience:       "In the IdP, set the entity ID (audience) exactly as shown below.",
	saml.CheckNotYetValid:    "Check the IdP server's clock.",
	saml.CheckExpired:        "Start the test again and finish it within ten minutes; check the IdP server's clock.",
	saml.CheckInResponseTo:   "Start the test again from this page and finish it in this browser.",
	saml.CheckSubject:        "Configure the IdP to send the user's email as NameID.",
	saml.CheckUnsolicited:    "Start the test from this page, not from the IdP's dashboard.",
	saml.CheckBinding:        "Start the test again and finish it in the same browser.",
	saml.CheckIdentity:       "Check the user's email and names in the IdP.",

	oidc.CheckAuthorization:   "Check that the user is assigned to this application at the provider.",
	oidc.CheckState:           "Start the test again from this page and finish it in this browser.",
	oidc.CheckDiscovery:       "Enter the provider's issuer URL exactly as its discovery document states it (https).",
	oidc.CheckTokenExchange:   "Check the client ID and client secret, and register the redirect URI shown below at the provider.",
	oidc.CheckKeys:            "Check that the provider's jwks_uri is reachable.",
	oidc.CheckUserInfo:        "Turn userinfo off, or check the provider's userinfo endpoint.",
	oidc.CheckSize:            "Send fewer claims or groups in the ID token.",
	oidc.CheckMalformed:       "Check that the provider issues standard ID tokens.",
	oidc.CheckAlgorithm:       "At the provider, sign ID tokens with RS256 or ES256.",
	oidc.CheckSignature:       "Check the issuer URL: the keys come from its discovery document.",
	oidc.CheckIssuer:          "Copy the issuer from the provider's discovery document into the settings.",
	oidc.CheckAudience:        "Copy the client ID the provider gave this application into the settings.",
	oidc.CheckAuthorizedParty: "Issue the ID token to this application's client ID alone.",
	oidc.CheckExpiry:          "Start the test again; check the provider server's clock.",
	oidc.CheckIssuedAt:        "Check the provider server's clock.",
	oidc.CheckNotBefore:       "Check the provider server's clock.",
	oidc.CheckNonce:           "Start the test again from this page.",
	oidc.CheckSubject:         "Check that the provider issues standard ID tokens.",
	oidc.CheckRoles:           "Name the groups or roles claim in the settings, and send it as a list of names.",
	oidc.CheckEmailVerified:   "Verify the user's email at the provider.",
}
