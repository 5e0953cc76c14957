package sso_test

// Attack review 11d: the completion shared by SAML and OIDC after the last
// refactors (complete, remember, reported, connectionFor,
// samlTestProblems). Each test names what it attacks; a failing assertion
// is a finding, a passing one an attempt that held.

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/oidc"
	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// ar11dNoSSOSession asserts that nothing signed in through SSO.
func ar11dNoSSOSession(t *testing.T, e *env) {
	t.Helper()
	sessions, _, err := e.svc.Sessions(context.Background(), e.org.ID, ownerID, "", "", 0)
	require.NoError(t, err)
	for _, s := range sessions {
		assert.NotEqual(t, session.MethodSSO, s.Method, "an SSO session was made")
	}
	assert.Empty(t, e.eventsOf(sso.EventSignInSucceeded))
}

// ar11dNoMember asserts that email is not a member.
func ar11dNoMember(t *testing.T, e *env, email string) {
	t.Helper()
	_, err := e.store.Member(context.Background(), e.org.ID, email)
	assert.ErrorIs(t, err, sso.ErrNotFound, "a member was written for %s", email)
}

// lastFailure returns the last EventSignInFailed.
func ar11dLastFailure(t *testing.T, e *env) sso.Event {
	t.Helper()
	f := e.eventsOf(sso.EventSignInFailed)
	require.NotEmpty(t, f)
	return f[len(f)-1]
}

// A disabled SAML connection that allows IdP-initiated sign-in: an
// unsolicited response posted with the test RelayState passes the early
// check (relay == relayTest) and reaches complete with req == nil. It must
// still be refused, write nothing, and the failure event must name the
// verified identity.
func TestAttackReview11dIdPInitiatedAtDisabledConnectionWithTestRelay(t *testing.T) {
	e := newEnv(t, nil)
	idp := contosoIdP(t)
	ctx := context.Background()
	_, err := e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error {
		o.Connections = append(o.Connections, sso.Connection{
			ID: "contoso", Name: "Contoso", Protocol: sso.ProtocolSAML, SAML: idp.IdPConfig(),
			JITProvisioning: true, AllowIdPInitiated: true,
		})
		return nil
	})
	require.NoError(t, err)
	e.org, err = e.svc.Organization(ctx, e.org.ID)
	require.NoError(t, err)
	sp, err := e.svc.ConnectionDetails(e.org, "contoso")
	require.NoError(t, err)

	for _, relay := range []string{"orgsso-test", "", "/x"} {
		posted, err := idp.Response(ssotest.Response{SP: sp, User: user("kim@contoso.example", "Contentstack Developers")})
		require.NoError(t, err)
		req, err := idp.PostRequest(sp.ACSURL, posted, relay, e.cookies()...)
		require.NoError(t, err)
		res, err := e.svc.HandleConnectionACS(ctx, "acme", "contoso", req)
		require.ErrorIs(t, err, sso.ErrSSODisabled, "relay %q", relay)
		assert.Nil(t, res)
		if relay == "orgsso-test" {
			// It got past signature verification: the event names the signed identity.
			ev := ar11dLastFailure(t, e)
			assert.Equal(t, "kim@contoso.example", ev.Email)
			assert.Equal(t, e.org.ID, ev.OrgID)
		}
	}
	ar11dNoMember(t, e, "kim@contoso.example")
	ar11dNoSSOSession(t, e)

	// Enabled, the same IdP-initiated response with the test relay signs in
	// (a hint only), but it is a sign-in, not a test report.
	require.NoError(t, e.svc.EnableConnection(ctx, e.org.ID, "contoso", ownerID))
	posted, err := idp.Response(ssotest.Response{SP: sp, User: user("kim@contoso.example", "Contentstack Developers")})
	require.NoError(t, err)
	req, err := idp.PostRequest(sp.ACSURL, posted, "orgsso-test", e.cookies()...)
	require.NoError(t, err)
	res, err := e.svc.HandleConnectionACS(ctx, "acme", "contoso", req)
	require.NoError(t, err)
	assert.Nil(t, res.Test, "the test relay alone never makes a test")
	assert.Empty(t, res.ClearCookies, "an IdP-initiated sign-in consumed no request: no cookie to clear")
}

// A sign-in request started while the connection was enabled, answered
// after it was disabled, posted with the test RelayState: the request is
// not a test (no TesterUserID), so complete must refuse it.
func TestAttackReview11dLoginRequestAtDisabledConnectionWithTestRelay(t *testing.T) {
	e := newEnv(t, nil)
	idp := contosoIdP(t)
	withContoso(t, e, idp)
	ctx := context.Background()
	rd, err := e.svc.StartLoginWith(ctx, "acme", sso.LoginOptions{Connection: "contoso"})
	require.NoError(t, err)
	e.keep(t, rd)
	require.NoError(t, e.svc.DisableConnection(ctx, e.org.ID, "contoso", ownerID))

	sp, _ := e.svc.ConnectionDetails(e.org, "contoso")
	posted, err := idp.Response(ssotest.Response{SP: sp, InResponseTo: rd.RequestID, User: user("kim@contoso.example", "Contentstack Developers")})
	require.NoError(t, err)
	req, err := idp.PostRequest(sp.ACSURL, posted, "orgsso-test", e.cookies()...)
	require.NoError(t, err)
	res, err := e.svc.HandleConnectionACS(ctx, "acme", "contoso", req)
	require.ErrorIs(t, err, sso.ErrSSODisabled)
	assert.Nil(t, res)
	ar11dNoMember(t, e, "kim@contoso.example")
	ar11dNoSSOSession(t, e)
	assert.Equal(t, "kim@contoso.example", ar11dLastFailure(t, e).Email)
}

// Test SSO at a disabled connection and a disabled organization, with an
// identity checkIdentity refuses (an email with a display name, an
// overlong first name): a report, never a session or a member, and the
// cookie cleared is the test request's own, not another pending one's.
func TestAttackReview11dRefusedIdentityInTestAtDisabledConnection(t *testing.T) {
	e := newEnv(t, nil)
	idp := contosoIdP(t)
	withContoso(t, e, idp)
	ctx := context.Background()
	// Another sign-in pending in the same browser, through the own IdP.
	other, err := e.svc.StartLoginWith(ctx, "acme", sso.LoginOptions{Choose: true, ReturnTo: "/other"})
	require.NoError(t, err)
	e.keep(t, other)
	require.NoError(t, e.svc.DisableConnection(ctx, e.org.ID, "contoso", ownerID))
	e.updateOrg(t, func(o *sso.Organization) { o.Enabled = false })

	rd, err := e.svc.StartConnectionTest(ctx, e.org.ID, "contoso", ownerID)
	require.NoError(t, err)
	e.keep(t, rd)
	sp, _ := e.svc.ConnectionDetails(e.org, "contoso")
	u := user("kim@contoso.example", "Contentstack Developers")
	u.Email = `"Kim" <kim@contoso.example>`
	u.FirstName = strings.Repeat("K", 4096)
	posted, err := idp.Response(ssotest.Response{SP: sp, InResponseTo: rd.RequestID, User: u})
	require.NoError(t, err)
	req, err := idp.PostRequest(sp.ACSURL, posted, relayOf(t, rd), e.cookies()...)
	require.NoError(t, err)
	res, err := e.svc.HandleConnectionACS(ctx, "acme", "contoso", req)
	require.NoError(t, err)
	require.NotNil(t, res.Test)
	assert.Nil(t, res.Session)
	assert.Nil(t, res.Member)
	assert.Empty(t, res.Token)
	assert.Empty(t, res.Identity.Email, "the refused email is not in the report's identity")
	assert.NotEmpty(t, res.Test.Problems)
	require.Len(t, res.ClearCookies, 1)
	assert.Equal(t, rd.Cookie.Name, res.ClearCookies[0].Name)
	if rd.Cookie.Name != other.Cookie.Name {
		// The other pending sign-in still works once SSO is back on.
		e.updateOrg(t, func(o *sso.Organization) { o.Enabled = true })
		posted, err := e.idp.Response(e.resp(other.RequestID, user("ann@acme.example", "Admins"), nil))
		require.NoError(t, err)
		r2, err := e.post(t, posted, relayOf(t, other))
		require.NoError(t, err)
		assert.Equal(t, "/other", r2.ReturnTo)
		require.Len(t, r2.ClearCookies, 1)
		assert.Equal(t, other.Cookie.Name, r2.ClearCookies[0].Name)
	}
	ar11dNoMember(t, e, "kim@contoso.example")
	for _, ev := range e.eventsOf(sso.EventSignInSucceeded) {
		assert.NotEqual(t, "contoso", ev.Email)
	}
}

// OIDC: the failure event of a sign-in whose email the provider did not
// verify must not name that email (it is not verified content), and one
// whose verified email checkIdentity refuses names none either; neither
// signs in. The same identities in a Test SSO give a report.
func TestAttackReview11dOIDCFailureEventsNameOnlyVerifiedIdentity(t *testing.T) {
	tests := []struct {
		name  string
		email string
		token ssotest.TokenResponse
		want  error
	}{
		{name: "unverified", email: "ada@acme.example", token: ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{EmailVerified: ssotest.EmailVerifiedFalse}}, want: sso.ErrAccessDenied},
		{name: "verified but refused", email: `"Ada" <ada@acme.example>`, want: saml.CheckIdentity},
		{name: "verified, with a newline", email: "ada@acme.example\nowner@acme.example", want: saml.CheckIdentity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			op := withOIDC(t, e, true)
			rd := oidcStart(t, e, "okta")
			op.NextToken(tt.token)
			cb, err := op.Login(rd.URL, oidcUser(tt.email, "Admins"))
			require.NoError(t, err)
			res, err := callback(t, e, "okta", cb)
			require.ErrorIs(t, err, tt.want)
			assert.Nil(t, res)
			ev := ar11dLastFailure(t, e)
			assert.Empty(t, ev.Email, "the failure event names an email that is not verified content")
			assert.Equal(t, e.org.ID, ev.OrgID)
			ar11dNoSSOSession(t, e)
			ar11dNoMember(t, e, "ada@acme.example")

			// The owner's test of the same identity reports, signs nobody in.
			trd, err := e.svc.StartConnectionTest(context.Background(), e.org.ID, "okta", ownerID)
			require.NoError(t, err)
			e.keep(t, trd)
			op.NextToken(tt.token)
			cb, err = op.Login(trd.URL, oidcUser(tt.email, "Admins"))
			require.NoError(t, err)
			res, err = callback(t, e, "okta", cb)
			require.NoError(t, err)
			require.NotNil(t, res.Test)
			assert.Nil(t, res.Session)
			assert.Empty(t, res.Token)
			assert.NotEmpty(t, res.Test.Problems)
			assert.Empty(t, res.Test.Identity.Email)
			ar11dNoSSOSession(t, e)
		})
	}
}

// OIDC: a Test SSO whose request was started for the owner, while the
// organization is disabled and the connection too; and a sign-in whose
// request is consumed at a disabled connection is not retried with the
// same callback after re-enabling (the state is used up).
func TestAttackReview11dOIDCDisabledAndStateUsedUp(t *testing.T) {
	e := newEnv(t, nil)
	op := withOIDC(t, e, true)
	ctx := context.Background()
	rd := oidcStart(t, e, "okta")
	cb, err := op.Login(rd.URL, oidcUser("ada@acme.example", "Admins"))
	require.NoError(t, err)
	require.NoError(t, e.svc.DisableConnection(ctx, e.org.ID, "okta", ownerID))
	_, err = callback(t, e, "okta", cb)
	require.ErrorIs(t, err, sso.ErrSSODisabled)
	require.NoError(t, e.svc.EnableConnection(ctx, e.org.ID, "okta", ownerID))
	_, err = callback(t, e, "okta", cb)
	require.ErrorIs(t, err, oidc.CheckState, "the refused callback used its state up")
	ar11dNoSSOSession(t, e)

	// Disabled organization: the owner's test still reports.
	e.updateOrg(t, func(o *sso.Organization) { o.Enabled = false })
	trd, err := e.svc.StartConnectionTest(ctx, e.org.ID, "okta", ownerID)
	require.NoError(t, err)
	e.keep(t, trd)
	cb, err = op.Login(trd.URL, oidcUser("ada@acme.example", "Admins"))
	require.NoError(t, err)
	res, err := callback(t, e, "okta", cb)
	require.NoError(t, err)
	require.NotNil(t, res.Test)
	assert.Nil(t, res.Session)
	require.Len(t, res.ClearCookies, 1)
	assert.Equal(t, trd.Cookie.Name, res.ClearCookies[0].Name)
	ar11dNoSSOSession(t, e)

	// A HEAD callback is accepted like GET (the provider redirects with
	// GET): it must not complete a sign-in twice either.
	_, err = callback(t, e, "okta", cb)
	require.Error(t, err)
}

// The OIDC callback with a SAML *test* request's ID as state at the
// organization's OIDC connection, in the owner's browser: the SAML request
// carries no nonce or verifier and its binding is of another connection.
func TestAttackReview11dSAMLTestRequestAsOIDCState(t *testing.T) {
	e := newEnv(t, nil)
	op := withOIDC(t, e, false)
	e.updateOrg(t, func(o *sso.Organization) { o.Enabled = false })
	trd := e.startTest(t)
	ord, err := e.svc.StartConnectionTest(context.Background(), e.org.ID, "okta", ownerID)
	require.NoError(t, err)
	e.keep(t, ord)
	cb, err := op.Login(ord.URL, oidcUser("ada@acme.example", "Admins"))
	require.NoError(t, err)
	forged := replaceParam(t, cb, "state", trd.RequestID)
	// The SAML test's binding cookie, renamed to the slot of the state (it is
	// the same name: the slot depends only on the ID).
	res, err := callback(t, e, "okta", forged)
	require.ErrorIs(t, err, oidc.CheckState)
	assert.Nil(t, res)
	// The SAML test request is left usable (the binding did not match).
	posted, err := e.idp.Response(e.resp(trd.RequestID, user("ada@acme.example", "Admins"), nil))
	require.NoError(t, err)
	res, err = e.post(t, posted, relayOf(t, trd))
	require.NoError(t, err)
	require.NotNil(t, res.Test)
	_ = http.MethodHead
}
