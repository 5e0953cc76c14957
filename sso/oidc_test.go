package sso_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/oidc"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
)

const oktaRedirect = "https://app.example.com/sso/acme/okta/callback"

// withOIDC adds the OIDC connection "okta" to e's organization, served by a
// ssotest provider on httptest, and enables it (unless disabled).
func withOIDC(t testing.TB, e *env, enable bool) *ssotest.OIDCProvider {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	op, err := ssotest.NewOIDC(ssotest.OIDCConfig{
		Issuer: srv.URL, Now: e.clock.Now, Key: loadKey(t, "idp.key.pem"), OtherKey: loadKey(t, "attacker.key.pem"),
		Clients: []ssotest.OIDCClient{{ID: "orgsso-app", Secret: "app-secret", RedirectURIs: []string{oktaRedirect, "https://app.example.com/sso/acme/okta2/callback"}}},
	})
	require.NoError(t, err)
	mux.Handle("/", op)
	ctx := context.Background()
	_, err = e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error {
		o.Connections = append(o.Connections, sso.Connection{ID: "okta", Name: "Okta", Protocol: sso.ProtocolOIDC,
			OIDC: sso.OIDCConfig{Issuer: srv.URL, ClientID: "orgsso-app", ClientSecret: "app-secret", RolesClaim: "groups"}})
		return nil
	})
	require.NoError(t, err)
	if enable {
		require.NoError(t, e.svc.EnableConnection(ctx, e.org.ID, "okta", ownerID))
	}
	org, err := e.svc.Organization(ctx, e.org.ID)
	require.NoError(t, err)
	e.org = org
	return op
}

// oidcStart starts a sign-in through connection conn in the test's browser.
func oidcStart(t testing.TB, e *env, conn string) *sso.Redirect {
	t.Helper()
	rd, err := e.svc.StartLoginWith(context.Background(), "acme", sso.LoginOptions{Connection: conn})
	require.NoError(t, err)
	e.keep(t, rd)
	return rd
}

// callback serves the provider's redirect back to the app, from the
// test's browser (its cookies), at connection conn's callback.
func callback(t testing.TB, e *env, conn, callbackURL string) (*sso.Result, error) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, callbackURL, nil)
	for _, c := range e.cookies() {
		req.AddCookie(c)
	}
	res, err := e.svc.HandleCallback(context.Background(), "acme", conn, req)
	if res != nil {
		e.mu.Lock()
		for _, c := range res.ClearCookies {
			delete(e.jar, c.Name)
		}
		e.mu.Unlock()
	}
	return res, err
}

func oidcUser(email string, roles ...string) ssotest.User {
	u := user(email, roles...)
	u.NameID = "sub-" + email
	return u
}

func TestOIDCSignIn(t *testing.T) {
	e := newEnv(t, nil)
	op := withOIDC(t, e, true)

	rd := oidcStart(t, e, "okta")
	cb, err := op.Login(rd.URL, oidcUser("ada@acme.example", "Admins"))
	require.NoError(t, err)
	res, err := callback(t, e, "okta", cb)
	require.NoError(t, err)
	assert.Equal(t, "okta", res.Connection)
	assert.Equal(t, "ada@acme.example", res.Member.Email)
	assert.Equal(t, "admin", string(res.Member.OrgRole), "the organization's role mapping applies to OIDC groups")
	assert.Equal(t, "sub-ada@acme.example", res.Identity.NameID)
	assert.Equal(t, "okta", res.Session.Connection)
	assert.Len(t, res.ClearCookies, 1)
	s, err := e.svc.ValidateSession(context.Background(), res.Token)
	require.NoError(t, err)
	assert.Equal(t, "okta", s.Connection)

	// The same callback again: its request is used up.
	_, err = callback(t, e, "okta", cb)
	require.ErrorIs(t, err, oidc.CheckState)
}

// TestOIDCAdversarial is the OIDC attack table at the product level: each
// row breaks one thing the provider sends (or the browser does) and names
// the check or error that refuses it. An attacker holds a valid account at
// the provider and can run its own sign-ins.
func TestOIDCAdversarial(t *testing.T) {
	future := testNow.Add(time.Hour)
	tests := []struct {
		name  string
		token *ssotest.TokenResponse
		// browser changes what the browser does: returns the callback URL to
		// serve and the connection to serve it at.
		browser func(t *testing.T, e *env, op *ssotest.OIDCProvider, cb string) (string, string)
		want    error
	}{
		{name: "valid", want: nil},
		{name: "wrong issuer", token: &ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Issuer: "https://evil.example"}}, want: oidc.CheckIssuer},
		{name: "token for another client", token: &ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Audience: []string{"other-client"}}}, want: oidc.CheckAudience},
		{name: "extra audience without azp", token: &ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Audience: []string{"orgsso-app", "other-client"}}}, want: oidc.CheckAuthorizedParty},
		{name: "azp of another client", token: &ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{AuthorizedParty: "other-client"}}, want: oidc.CheckAuthorizedParty},
		{name: "expired", token: &ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{IssuedAt: testNow.Add(-2 * time.Hour), Expiry: testNow.Add(-4 * time.Minute)}}, want: oidc.CheckExpiry},
		{name: "expired within skew is accepted", token: &ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{IssuedAt: testNow.Add(-time.Hour), Expiry: testNow.Add(-2 * time.Minute)}}, want: nil},
		{name: "issued in the future", token: &ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{IssuedAt: future, Expiry: future.Add(time.Hour)}}, want: oidc.CheckIssuedAt},
		{name: "not yet valid", token: &ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{NotBefore: future}}, want: oidc.CheckNotBefore},
		{name: "nonce missing", token: &ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{OmitNonce: true}}, want: oidc.CheckNonce},
		{name: "nonce of another sign-in", token: &ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Nonce: "a-nonce-the-attacker-saw"}}, want: oidc.CheckNonce},
		{name: "email not verified", token: &ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{EmailVerified: ssotest.EmailVerifiedFalse}}, want: sso.ErrAccessDenied},
		{name: "email_verified absent", token: &ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{EmailVerified: ssotest.EmailVerifiedAbsent}}, want: sso.ErrAccessDenied},
		{name: `email_verified "true" (a string) is accepted`, token: &ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{EmailVerified: ssotest.EmailVerifiedString}}, want: nil},
		{name: "signed by another key", token: &ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Signing: ssotest.JWTOtherKey}}, want: oidc.CheckSignature},
		{name: "key injected in a jwk header", token: &ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Signing: ssotest.JWTEmbeddedJWK}}, want: oidc.CheckSignature},
		{name: "key set named by a jku header", token: &ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Signing: ssotest.JWTForeignJKU}}, want: oidc.CheckSignature},
		{name: "alg none", token: &ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Signing: ssotest.JWTAlgNone}}, want: oidc.CheckAlgorithm},
		{name: "HS256 keyed with the public key", token: &ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Signing: ssotest.JWTHS256PublicKey}}, want: oidc.CheckAlgorithm},
		{name: "alg changed to ES256", token: &ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{Signing: ssotest.JWTAlgMismatch}}, want: oidc.CheckSignature},
		{name: "code refused by the provider", token: &ssotest.TokenResponse{Error: "invalid_grant"}, want: oidc.CheckTokenExchange},
		{name: "no id_token", token: &ssotest.TokenResponse{OmitIDToken: true}, want: oidc.CheckTokenExchange},
		{name: "callback in another browser", browser: func(t *testing.T, e *env, _ *ssotest.OIDCProvider, cb string) (string, string) {
			e.jar = map[string]*http.Cookie{}
			return cb, "okta"
		}, want: oidc.CheckState},
		{name: "state of another sign-in", browser: func(t *testing.T, e *env, op *ssotest.OIDCProvider, cb string) (string, string) {
			other := oidcStart(t, e, "okta")
			cb2, err := op.Login(other.URL, oidcUser("eve@acme.example", "Admins"))
			require.NoError(t, err)
			return replaceParam(t, cb, "state", paramOf(t, cb2, "state")), "okta"
		}, want: oidc.CheckTokenExchange},
		{name: "mix-up: callback delivered to another connection", browser: func(t *testing.T, e *env, _ *ssotest.OIDCProvider, cb string) (string, string) {
			addOIDCConnection(t, e, "okta2")
			return cb, "okta2"
		}, want: oidc.CheckState},
		{name: "provider error", browser: func(t *testing.T, e *env, _ *ssotest.OIDCProvider, cb string) (string, string) {
			return replaceParam(t, replaceParam(t, cb, "code", ""), "error", "access_denied"), "okta"
		}, want: oidc.CheckAuthorization},
		{name: "SAML ACS of an OIDC connection", browser: func(t *testing.T, e *env, _ *ssotest.OIDCProvider, cb string) (string, string) {
			return cb, "saml-at-oidc"
		}, want: sso.ErrUnknownConnection},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			op := withOIDC(t, e, true)
			rd := oidcStart(t, e, "okta")
			if tt.token != nil {
				op.NextToken(*tt.token)
			}
			cb, err := op.Login(rd.URL, oidcUser("ada@acme.example", "Admins"))
			require.NoError(t, err)
			conn := "okta"
			if tt.browser != nil {
				cb, conn = tt.browser(t, e, op, cb)
			}
			var res *sso.Result
			if conn == "saml-at-oidc" {
				_, err = e.svc.HandleConnectionACS(context.Background(), "acme", "okta", postForm(t, "https://app.example.com/sso/acme/okta/acs", nil))
			} else {
				res, err = callback(t, e, conn, cb)
			}
			if tt.want == nil {
				require.NoError(t, err)
				assert.Equal(t, "ada@acme.example", res.Member.Email)
				return
			}
			require.ErrorIs(t, err, tt.want)
			assert.NotEqual(t, "", sso.UserMessage(err))
			if c, ok := tt.want.(oidc.Check); ok {
				// The owner's report and the audit event name the check.
				rep := sso.ReportFailure(err)
				assert.Equal(t, c, rep.Check)
				assert.NotEmpty(t, rep.Problem, "a plain sentence for %s", c)
				assert.NotEmpty(t, rep.Fix)
				failed := e.eventsOf(sso.EventSignInFailed)
				require.NotEmpty(t, failed)
				assert.Equal(t, error(c), failed[len(failed)-1].Check)
			}
			assert.NotContains(t, err.Error(), "app-secret")
			// Nothing was signed in.
			sessions, _, _ := e.svc.Sessions(context.Background(), e.org.ID, ownerID, "", "", 0)
			for _, s := range sessions {
				assert.NotEqual(t, session.MethodSSO, s.Method, "no SSO session after a refused sign-in")
			}
		})
	}
}

// addOIDCConnection adds and enables a second OIDC connection on the same
// provider (another client registration in real life).
func addOIDCConnection(t testing.TB, e *env, id string) {
	t.Helper()
	ctx := context.Background()
	okta := e.org.Connection("okta")
	_, err := e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error {
		c := *okta
		c.ID, c.Name, c.Enabled, c.Epoch = id, "Okta 2", false, 0
		o.Connections = append(o.Connections, c)
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, e.svc.EnableConnection(ctx, e.org.ID, id, ownerID))
}

func TestOIDCTestSSOAndDisabledConnection(t *testing.T) {
	e := newEnv(t, nil)
	op := withOIDC(t, e, false)
	ctx := context.Background()

	// Not enabled: no sign-in, but the owner's Test SSO runs and reports.
	_, err := e.svc.StartLoginWith(ctx, "acme", sso.LoginOptions{Connection: "okta"})
	require.ErrorIs(t, err, sso.ErrUnknownConnection)
	rd, err := e.svc.StartConnectionTest(ctx, e.org.ID, "okta", ownerID)
	require.NoError(t, err)
	e.keep(t, rd)
	op.NextToken(ssotest.TokenResponse{IDToken: ssotest.IDTokenOptions{EmailVerified: ssotest.EmailVerifiedFalse}})
	cb, err := op.Login(rd.URL, oidcUser("kim@acme.example", "Nobody"))
	require.NoError(t, err)
	res, err := callback(t, e, "okta", cb)
	require.NoError(t, err)
	require.NotNil(t, res.Test)
	assert.Nil(t, res.Session)
	assert.Contains(t, res.Test.Problems, "the provider did not mark the email as verified (email_verified): sign-ins would be refused; verify the user's email at the provider")
	assert.Equal(t, []string{"Nobody"}, res.Test.Identity.IdPRoles)

	// Someone else's test or sign-in cannot start it.
	_, err = e.svc.StartConnectionTest(ctx, e.org.ID, "okta", "u-other")
	require.ErrorIs(t, err, sso.ErrNotOwner)
}

func TestOIDCDisableConnectionEndsSessions(t *testing.T) {
	e := newEnv(t, nil)
	op := withOIDC(t, e, true)
	ctx := context.Background()
	rd := oidcStart(t, e, "okta")
	cb, err := op.Login(rd.URL, oidcUser("ada@acme.example", "Admins"))
	require.NoError(t, err)
	res, err := callback(t, e, "okta", cb)
	require.NoError(t, err)

	// A sign-in in flight when the connection is disabled fails.
	rd2 := oidcStart(t, e, "okta")
	cb2, err := op.Login(rd2.URL, oidcUser("bob@acme.example", "Admins"))
	require.NoError(t, err)
	require.NoError(t, e.svc.DisableConnection(ctx, e.org.ID, "okta", ownerID))
	_, err = callback(t, e, "okta", cb2)
	require.ErrorIs(t, err, sso.ErrSSODisabled)

	_, err = e.svc.ValidateSession(ctx, res.Token)
	var ended *session.EndedError
	require.ErrorAs(t, err, &ended)
	assert.Equal(t, session.EndConnectionOff, ended.Reason)
}

func paramOf(t testing.TB, u, name string) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, u, nil)
	return req.URL.Query().Get(name)
}

func replaceParam(t testing.TB, u, name, value string) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, u, nil)
	q := req.URL.Query()
	if value == "" {
		q.Del(name)
	} else {
		q.Set(name, value)
	}
	req.URL.RawQuery = q.Encode()
	return req.URL.String()
}
