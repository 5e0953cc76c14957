package sso

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/orgsso/orgsso/internal/text"
	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/session"
)

// Identity is who the IdP says signed in.
type Identity struct {
	NameID, Email, FirstName, LastName string
	IdPRoles                           []string
	Attributes                         map[string][]string
	// DomainVerified reports whether Email's domain is one of the
	// organization's verified domains (or under one). A host that links
	// accounts by email must require it: otherwise another organization's
	// IdP could assert any email.
	DomainVerified bool
	// AuthnMethods is how the IdP says the user authenticated, as signed:
	// the SAML assertion's AuthnContextClassRefs, or the OIDC ID token's
	// amr values. MFAPolicy reads MFA from it.
	AuthnMethods []string
}

// TestReport is what a Test SSO round trip found: the identity and IdP roles
// received, what the role mapping would grant, and any problems an owner
// should fix before enabling SSO.
type TestReport struct {
	Identity Identity
	Mapping  rolemap.Result
	Problems []string
	// MFA says, in a sentence, whether the IdP asserted multi-factor
	// authentication and what the organization's MFA policy makes of it.
	MFA string
	// ReadFrom names, per identity field ("email", "first_name",
	// "last_name", "roles"), the attributes its value was read from; a field
	// missing here was not found under any of the organization's attribute
	// names (Organization.Attributes, editable).
	ReadFrom map[string][]string
}

// Result is the outcome of a successful HandleACS: a session, a Test SSO
// report, or (MFA) a sign-in waiting for its second factor.
type Result struct {
	Org      *Organization
	Member   *Member // nil for a test
	Identity Identity
	Mapping  rolemap.Result
	Session  *session.Session // nil for a test
	Token    string           // session token for the host's cookie; never log it
	ReturnTo string           // safe relative path
	Test     *TestReport      // non-nil for a Test SSO round trip
	// Connection is the ID of the connection the sign-in came through
	// (PrimaryConnection for the organization's own IdP).
	Connection string
	// MFA, when set, is a sign-in that needs its second factor
	// (Organization.MFA): Session is nil and Token "". Set the cookie
	// Service.MFACookie makes and send the browser to the MFA page.
	MFA *MFAChallenge
	// ClearCookies delete the browser-binding cookie of the request the
	// response answered (none for an IdP-initiated sign-in). Set each with
	// http.SetCookie on the response to the ACS POST; after a failure, use
	// Service.ClearBindingCookies instead.
	ClearCookies []*http.Cookie

	// mfaFor, set by signIn when the organization's policy still needs a
	// second factor, names the member whose pending sign-in writeSignIn
	// makes once the sign-in's own writes are committed.
	mfaFor *mfaTodo
}

// mfaTodo is what a pending sign-in (Service.challenge) is made of.
type mfaTodo struct {
	org  *Organization
	conn *Connection
	m    *Member
}

// formOverhead bounds the form fields around SAMLResponse (RelayState, names).
const formOverhead = 16 << 10

// HandleACS consumes a SAMLResponse posted to the organization's ACS URL. In
// order: the organization must exist and (except for a Test SSO round trip)
// have SSO enabled; the response is validated by the organization's cached
// Validator; its assertion ID must be unused (a resubmitted response is
// ErrReplay); it must answer a pending request of this organization, posted by
// the browser that holds that request's binding cookie (Redirect.Cookie;
// otherwise saml.CheckBinding), or be unsolicited with IdP-initiated sign-in
// allowed. The request is consumed only by the response that matches it: a
// response naming another organization's request, or posted without the
// cookie, leaves the request usable. A test round trip returns Result.Test and
// writes nothing else. A sign-in applies the organization's membership and
// role-mapping rules and creates the session. Result.ClearCookies delete the
// used binding cookie. The writes after verification (replay record,
// request, member, session) commit in one transaction when the store
// implements SignInStore.
//
// Every failure is reported as an EventSignInFailed (and logged). Failures
// before the response's signature is verified are limited per organization
// and check: the first in each FailureEventWindow is reported, the rest are
// counted in the next one's Event.Suppressed.
func (s *Service) HandleACS(ctx context.Context, ssoName string, r *http.Request) (*Result, error) {
	return s.HandleConnectionACS(ctx, ssoName, PrimaryConnection, r)
}

// HandleConnectionACS is HandleACS for a SAML connection of the organization
// ({BaseURL}/sso/{name}/{id}/acs): the connection must exist and speak SAML
// (ErrUnknownConnection), and be enabled except for a Test SSO round trip
// (ErrSSODisabled). A response answers only a request started for this
// connection: one posted to another connection's ACS matches nothing.
func (s *Service) HandleConnectionACS(ctx context.Context, ssoName, connectionID string, r *http.Request) (*Result, error) {
	return s.reported(ctx, ssoName)(s.handleACS(ctx, ssoName, connectionID, r))
}

// reported passes a sign-in's outcome on, reporting a failure (event and
// log) with what the partial result knows: the organization and, once the
// answer was verified, the identity.
func (s *Service) reported(ctx context.Context, ssoName string) func(*Result, bool, error) (*Result, error) {
	return func(res *Result, verified bool, err error) (*Result, error) {
		if err == nil {
			return res, nil
		}
		var org *Organization
		email := ""
		if res != nil {
			org, email = res.Org, res.Identity.Email
		}
		return nil, s.failed(ctx, org, ssoName, email, verified, err)
	}
}

// connectionFor loads the organization with this SSO name and its
// connection connID, which must speak protocol (ErrUnknownConnection). The
// partial result names both for the failure report.
func (s *Service) connectionFor(ctx context.Context, ssoName, connID string, protocol Protocol) (*Result, Connection, error) {
	org, err := s.lookup(ctx, ssoName)
	if err != nil {
		return nil, Connection{}, err
	}
	part := &Result{Org: org, Connection: connID}
	conn, ok := org.connectionView(connID)
	if !ok || conn.Protocol != protocol {
		return part, conn, ErrUnknownConnection
	}
	return part, conn, nil
}

// handleACS returns, with an error, a partial Result for the failure event,
// and whether the failure came after the response was verified (its identity
// is then signed content).
func (s *Service) handleACS(ctx context.Context, ssoName, connID string, r *http.Request) (*Result, bool, error) {
	part, conn, err := s.connectionFor(ctx, ssoName, connID, ProtocolSAML)
	if err != nil {
		return part, false, err
	}
	org := part.Org
	if r == nil || r.Method != http.MethodPost {
		return part, false, fail(saml.CheckEncoding, "the ACS accepts only an HTTP POST form (HTTP-POST binding)")
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 3*s.maxSize+formOverhead)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return part, false, fail(saml.CheckSize, "posted form is larger than the limit")
		}
		return part, false, wrapFail(saml.CheckEncoding, "posted form does not parse", err)
	}
	relay := r.PostForm.Get("RelayState")
	if (!org.Enabled || !conn.Enabled) && relay != relayTest {
		return part, false, ErrSSODisabled
	}
	posted := r.PostForm.Get("SAMLResponse")
	if posted == "" {
		return part, false, fail(saml.CheckEncoding, "no SAMLResponse in the posted form")
	}

	v, err := s.validator(org, &conn)
	if err != nil {
		return part, false, err
	}
	// The request is consumed after full validation and the replay check, so
	// a resubmitted response is reported as a replay and only authentic
	// responses can use up a request.
	a, err := v.ValidateFunc(posted, func(string) error { return nil })
	if err != nil {
		return part, false, err
	}
	// The verified identity, checked once: the sign-in uses it, and a failure
	// event from here on (a replay included) names it.
	id := identityOf(org, &conn, a)
	checked, refused := checkIdentity(id)
	checked.DomainVerified = org.DomainVerified(checked.Email)
	id.DomainVerified = checked.DomainVerified
	part.Identity = checked
	until := a.NotOnOrAfter.Add(s.skew)
	if len(a.ID) > MaxKeyBytes {
		return part, true, fail(saml.CheckSchema, "the assertion ID is longer than 512 bytes")
	}
	// From here on the sign-in writes: the replay record, the request's
	// consumption, the member and the session, in one transaction where
	// the store allows (writeSignIn).
	res, err := s.writeSignIn(ctx, part, func(ops signInOps) (*Result, error) {
		if err := ops.useAssertion(ctx, org.ID, a.ID, until); err != nil {
			return part, err
		}
		var req *PendingRequest
		if a.InResponseTo != "" {
			var err error
			if req, err = s.consume(ctx, ops, org, conn.ID, a.InResponseTo, r); err != nil {
				return part, err
			}
		}
		var problems []string
		if req != nil && req.TesterUserID != "" {
			problems = samlTestProblems(s.now(), &conn, a)
		}
		return s.complete(ctx, ops, part, &conn, req, id, checked, refused, problems)
	})
	return res, true, err
}

// complete finishes a verified sign-in of either protocol: a Test SSO
// round trip gets its report (with the protocol's extra problems), anything
// else needs SSO on for the organization and the connection, then the
// organization's rules apply and the session is made. req is the consumed
// pending request (nil for an IdP-initiated response); its binding cookie
// is cleared. On failure the partial result part comes back for the event.
//
// received is the identity as read (a test reports what checkIdentity
// refuses in it), checked what the sign-in may use. Its store calls and
// events go through ops.
func (s *Service) complete(ctx context.Context, ops signInOps, part *Result, conn *Connection, req *PendingRequest,
	received, checked Identity, refused, testProblems []string) (*Result, error) {
	org := part.Org
	var res *Result
	var err error
	switch {
	case req != nil && req.TesterUserID != "":
		var e Event
		res, e = testOutcome(org, conn, received, testProblems)
		ops.emit(ctx, e)
	case !org.Enabled || !conn.Enabled:
		err = ErrSSODisabled
	default:
		returnTo := "/"
		if req != nil {
			returnTo = SafeReturnTo(req.ReturnTo)
		}
		res, err = s.signIn(ctx, ops, org, conn, checked, refused, returnTo)
	}
	if err != nil {
		if res == nil {
			res = part
		}
		return res, err
	}
	if req != nil {
		res.ClearCookies = []*http.Cookie{s.clearCookie(s.bindingCookieName(req.ID))}
	}
	return res, nil
}

// consume takes the pending request of org a verified response answers, if
// the posting browser holds its binding cookie; otherwise the request stays.
func (s *Service) consume(ctx context.Context, ops signInOps, org *Organization, connID, id string, r *http.Request) (*PendingRequest, error) {
	hash, ok := s.bindingOf(r, id, connID)
	if !ok {
		return nil, errNoBinding()
	}
	req, err := ops.consumeMatching(ctx, id, org.ID, hash)
	switch {
	case isNotFound(err):
		return nil, &saml.ValidationError{Check: saml.CheckInResponseTo, Reason: "response answers no pending request of this organization bound to this browser: unknown, expired, already used, another organization's, or bound to another browser", Got: text.Truncate(id, 100)}
	case err != nil:
		return nil, err
	case !s.now().Before(req.ExpiresAt):
		return nil, &saml.ValidationError{Check: saml.CheckInResponseTo, Reason: "the request this response answers has expired", Got: text.Truncate(id, 100)}
	}
	return req, nil
}

// testResult reports a Test SSO round trip without acting on it.
func (s *Service) testResult(ctx context.Context, org *Organization, c *Connection, id Identity, problems []string) *Result {
	res, e := testOutcome(org, c, id, problems)
	s.emit(ctx, e)
	return res
}

// testOutcome is a Test SSO round trip's result and the event that reports
// it.
func testOutcome(org *Organization, c *Connection, id Identity, problems []string) (*Result, Event) {
	rep := newTestReport(org, c, id)
	rep.Problems = append(rep.Problems, problems...)
	e := Event{Type: EventTestCompleted, OrgID: org.ID, SSOName: org.SSOName, Email: rep.Identity.Email, UserID: org.OwnerID}
	return &Result{Org: org, Connection: c.ID, Identity: rep.Identity, Mapping: rep.Mapping, Test: rep, ReturnTo: "/"}, e
}

// samlTestProblems are what a SAML Test SSO reports beyond the identity:
// certificates about to expire, AES-CBC encryption.
func samlTestProblems(now time.Time, c *Connection, a *Assertion) []string {
	problems := c.SAML.Warnings(now)
	if isAESCBC(a.EncryptionMethod) {
		problems = append(problems, "the IdP encrypts assertions with AES-CBC, which is open to padding-oracle attacks: choose AES-256-GCM (aes256-gcm) as the assertion encryption algorithm in the IdP")
	}
	return problems
}

// isAESCBC reports whether an XML-Enc data encryption URI names AES in CBC
// mode (xmlenc#aes128-cbc, aes192-cbc, aes256-cbc).
func isAESCBC(uri string) bool {
	_, frag, ok := strings.Cut(uri, "#")
	return ok && strings.HasPrefix(frag, "aes") && strings.HasSuffix(frag, "-cbc")
}

// newUserID returns a random user ID for a provisioned member.
func (s *Service) newUserID() (string, error) {
	var b [16]byte
	if err := s.readRand(b[:]); err != nil {
		return "", err
	}
	return "user_" + hex.EncodeToString(b[:]), nil
}
