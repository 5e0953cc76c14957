package oidcop_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/oidc"
	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/memory"
	"github.com/orgsso/orgsso/tests/oidcop"
)

// app is an orgsso Service whose organization "acme" signs in through an
// OIDC connection to an independent provider (zitadel's op), end to end:
// discovery, the provider's login page, the code exchange with PKCE, the
// provider's own signed ID token.
type app struct {
	svc *sso.Service
	org *sso.Organization
	op  *oidcop.Provider
}

const appBase = "http://127.0.0.1:8080"

func newApp(t *testing.T, users ...oidcop.User) *app {
	t.Helper()
	ctx := context.Background()
	st := memory.New()
	svc, err := sso.New(sso.Config{BaseURL: appBase, Store: st, Sessions: session.NewManager(st),
		InsecureAllowPrivateNetworks: true}) // the provider runs on 127.0.0.1
	require.NoError(t, err)
	op := start(t, func(c *oidcop.Config) {
		c.Clients = nil
		c.Users = append(c.Users, users...)
	})
	org := &sso.Organization{ID: "org-acme", SSOName: "acme", OwnerID: "u-owner",
		RoleMapping: rolemap.Config{Enabled: true, Mappings: []rolemap.Mapping{{IdPRole: "admins", OrgRole: rolemap.RoleAdmin}, {IdPRole: "engineering", OrgRole: rolemap.RoleMember}}},
	}
	for _, id := range []string{"zitadel", "zitadel2"} {
		org.Connections = append(org.Connections, sso.Connection{ID: id, Name: "Zitadel " + id, Protocol: sso.ProtocolOIDC,
			OIDC: sso.OIDCConfig{Issuer: op.Issuer(), ClientID: clientID + "-" + id, ClientSecret: clientSecret, RolesClaim: "groups"}})
	}
	require.NoError(t, svc.CreateOrganization(ctx, org))
	for _, id := range []string{"zitadel", "zitadel2"} {
		redirect, err := svc.RedirectURL(org, id)
		require.NoError(t, err)
		require.NoError(t, op.AddClient(oidcop.Client{ID: clientID + "-" + id, Secret: clientSecret, RedirectURIs: []string{redirect}}))
		require.NoError(t, svc.EnableConnection(ctx, org.ID, id, "u-owner"))
	}
	require.NoError(t, svc.Enable(ctx, org.ID, "u-owner"))
	return &app{svc: svc, org: org, op: op}
}

// signIn runs a sign-in of username through connection conn in one browser,
// and serves the provider's redirect at callbackConn's callback.
func (a *app) signIn(t *testing.T, conn, callbackConn, username, password string) (*sso.Result, string, *http.Cookie, error) {
	t.Helper()
	ctx := context.Background()
	rd, err := a.svc.StartLoginWith(ctx, "acme", sso.LoginOptions{Connection: conn})
	require.NoError(t, err)
	cb, err := a.op.Login(ctx, rd.URL, username, password)
	require.NoError(t, err)
	res, err := a.callback(callbackConn, cb.String(), rd.Cookie)
	return res, cb.String(), rd.Cookie, err
}

func (a *app) callback(conn, cb string, cookie *http.Cookie) (*sso.Result, error) {
	req := httptest.NewRequest(http.MethodGet, cb, nil)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	return a.svc.HandleCallback(context.Background(), "acme", conn, req)
}

func TestSSOEndToEndAgainstZitadel(t *testing.T) {
	unverified := oidcop.User{ID: "00u-bob", Email: "bob@example.com", Password: "pw-bob", GivenName: "Bob", FamilyName: "B", Roles: []string{"admins"}}
	a := newApp(t, unverified)
	ctx := context.Background()

	// A sign-in: the provider's own ID token, verified; ada's groups map to admin.
	res, cb, cookie, err := a.signIn(t, "zitadel", "zitadel", ada.Email, ada.Password)
	require.NoError(t, err)
	assert.Equal(t, ada.Email, res.Member.Email)
	assert.Equal(t, rolemap.RoleAdmin, res.Member.OrgRole)
	assert.Equal(t, "Ada", res.Member.FirstName)
	assert.Equal(t, ada.ID, res.Identity.NameID)
	assert.Equal(t, "zitadel", res.Session.Connection)
	_, err = a.svc.ValidateSession(ctx, res.Token)
	require.NoError(t, err)

	// The same callback again: the request is used up (and zitadel would
	// refuse the code).
	_, err = a.callback("zitadel", cb, cookie)
	require.ErrorIs(t, err, oidc.CheckState)

	// The callback of a sign-in started with one connection, delivered to
	// another connection of the organization (same provider): refused.
	_, _, _, err = a.signIn(t, "zitadel", "zitadel2", ada.Email, ada.Password)
	require.ErrorIs(t, err, oidc.CheckState)

	// The callback in another browser (no binding cookie): refused.
	rd, err := a.svc.StartLoginWith(ctx, "acme", sso.LoginOptions{Connection: "zitadel"})
	require.NoError(t, err)
	cbURL, err := a.op.Login(ctx, rd.URL, ada.Email, ada.Password)
	require.NoError(t, err)
	_, err = a.callback("zitadel", cbURL.String(), nil)
	require.ErrorIs(t, err, oidc.CheckState)

	// The provider refuses the sign-in: a typed provider error, no session.
	require.NoError(t, a.op.RefuseNext("access_denied", "no"))
	_, _, _, err = a.signIn(t, "zitadel", "zitadel", ada.Email, ada.Password)
	require.ErrorIs(t, err, oidc.CheckAuthorization)
	require.ErrorIs(t, err, oidc.ErrProvider)

	// An email the provider did not verify is not trusted.
	_, _, _, err = a.signIn(t, "zitadel", "zitadel", unverified.Email, unverified.Password)
	require.ErrorIs(t, err, sso.ErrAccessDenied)

	// The owner's Test SSO through the provider reports and writes nothing.
	rd, err = a.svc.StartConnectionTest(ctx, a.org.ID, "zitadel2", "u-owner")
	require.NoError(t, err)
	cbURL, err = a.op.Login(ctx, rd.URL, ada.Email, ada.Password)
	require.NoError(t, err)
	res, err = a.callback("zitadel2", cbURL.String(), rd.Cookie)
	require.NoError(t, err)
	require.NotNil(t, res.Test)
	assert.Equal(t, rolemap.RoleAdmin, res.Test.Mapping.OrgRole)
	assert.Nil(t, res.Session)
}
