package sso_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// contoso is the second IdP of the connection tests: another entity ID,
// SSO URL and key than the fixture's.
func contosoIdP(t testing.TB) *ssotest.IdP {
	t.Helper()
	idp, err := ssotest.New(ssotest.Config{
		EntityID: "https://login.contoso.example/metadata",
		SSOURL:   "https://login.contoso.example/sso",
		Now:      func() time.Time { return testNow },
		Rand:     mrand.NewChaCha8([32]byte{9}),
		Key:      loadKey(t, "attacker.key.pem"),
	})
	require.NoError(t, err)
	return idp
}

// withContoso adds the SAML connection "contoso" (JIT on, routed for
// contoso.example) to e's organization through the admin API, and enables it.
func withContoso(t testing.TB, e *env, idp *ssotest.IdP) {
	t.Helper()
	ctx := context.Background()
	_, err := e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error {
		o.Connections = append(o.Connections, sso.Connection{
			ID: "contoso", Name: "Contoso", Protocol: sso.ProtocolSAML, SAML: idp.IdPConfig(),
			JITProvisioning: true, Domains: []string{"contoso.example"},
		})
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, e.svc.EnableConnection(ctx, e.org.ID, "contoso", ownerID))
	org, err := e.svc.Organization(ctx, e.org.ID)
	require.NoError(t, err)
	e.org = org
}

// connSignIn starts a sign-in with opts, has idp answer for u, and posts
// the response to connection postTo's ACS.
func connSignIn(t *testing.T, e *env, idp *ssotest.IdP, opts sso.LoginOptions, postTo string, u ssotest.User) (*sso.Result, error) {
	t.Helper()
	ctx := context.Background()
	rd, err := e.svc.StartLoginWith(ctx, e.org.SSOName, opts)
	require.NoError(t, err)
	require.NotEmpty(t, rd.URL, "a chosen or routed connection redirects")
	e.keep(t, rd)
	sp, err := e.svc.ConnectionDetails(e.org, opts.Connection)
	require.NoError(t, err)
	posted, err := idp.Response(ssotest.Response{SP: sp, InResponseTo: rd.RequestID, User: u})
	require.NoError(t, err)
	target, err := e.svc.ConnectionDetails(e.org, postTo)
	require.NoError(t, err)
	req, err := idp.PostRequest(target.ACSURL, posted, relayOf(t, rd), e.cookies()...)
	require.NoError(t, err)
	return e.svc.HandleConnectionACS(ctx, e.org.SSOName, postTo, req)
}

func TestConnectionSecondSAMLIdPSignsIn(t *testing.T) {
	e := newEnv(t, nil)
	idp := contosoIdP(t)
	withContoso(t, e, idp)

	res, err := connSignIn(t, e, idp, sso.LoginOptions{Connection: "contoso", ReturnTo: "/x"}, "contoso", user("kim@contoso.example", "Contentstack Developers"))
	require.NoError(t, err)
	assert.Equal(t, "contoso", res.Connection)
	assert.Equal(t, "contoso", res.Session.Connection)
	assert.Equal(t, "/x", res.ReturnTo)
	assert.Equal(t, "kim@contoso.example", res.Member.Email, "JIT provisioning of the connection created the member")

	sp, err := e.svc.ConnectionDetails(e.org, "contoso")
	require.NoError(t, err)
	assert.Equal(t, "https://app.example.com/sso/acme/contoso/acs", sp.ACSURL)
	assert.Equal(t, "https://app.example.com/sso/acme/contoso/metadata", sp.EntityID)
	md, err := e.svc.ConnectionMetadataFor(context.Background(), "acme", "contoso")
	require.NoError(t, err)
	assert.Contains(t, string(md), `entityID="https://app.example.com/sso/acme/contoso/metadata"`)

	// The organization's own IdP keeps its URLs and still signs in.
	assert.Equal(t, "https://app.example.com/sso/acme/acs", e.svc.Details(e.org).ACSURL)
	res, err = connSignIn(t, e, e.idp, sso.LoginOptions{Choose: true}, sso.PrimaryConnection, user("ann@acme.example", "Admins"))
	require.NoError(t, err)
	assert.Equal(t, sso.PrimaryConnection, res.Connection)
}

func TestConnectionChooserAndRouting(t *testing.T) {
	e := newEnv(t, nil)
	withContoso(t, e, contosoIdP(t))
	ctx := context.Background()

	rd, err := e.svc.StartLogin(ctx, "acme", "/")
	require.NoError(t, err)
	assert.Empty(t, rd.URL)
	assert.Nil(t, rd.Cookie)
	assert.Equal(t, []sso.Choice{
		{Connection: sso.PrimaryConnection, Name: sso.PrimaryConnectionName, Protocol: sso.ProtocolSAML},
		{Connection: "contoso", Name: "Contoso", Protocol: sso.ProtocolSAML},
	}, rd.Choices)

	tests := []struct {
		name   string
		opts   sso.LoginOptions
		wantTo string // IdP SSO URL prefix
		want   error
	}{
		{"routed by email domain", sso.LoginOptions{Email: "Kim@Contoso.Example"}, "https://login.contoso.example/sso", nil},
		{"chosen", sso.LoginOptions{Connection: "contoso"}, "https://login.contoso.example/sso", nil},
		{"own IdP chosen", sso.LoginOptions{Choose: true}, "https://idp.example.test/sso", nil},
		{"unknown connection", sso.LoginOptions{Connection: "nope"}, "", sso.ErrUnknownConnection},
		{"email of no routed domain gives the chooser", sso.LoginOptions{Email: "a@other.example"}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, err := e.svc.StartLoginWith(ctx, "acme", tt.opts)
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want)
				return
			}
			require.NoError(t, err)
			if tt.wantTo == "" {
				assert.Len(t, rd.Choices, 2)
				return
			}
			assert.True(t, strings.HasPrefix(rd.URL, tt.wantTo+"?"), "URL %q; want to %s", rd.URL, tt.wantTo)
			assert.NotNil(t, rd.Cookie)
		})
	}
}

// A response to one connection's request, posted to another connection's
// ACS — signed by that other connection's IdP, which an attacker may run —
// matches nothing, and the genuine request stays usable.
func TestConnectionMixUpMatchesNothing(t *testing.T) {
	e := newEnv(t, nil)
	idp := contosoIdP(t)
	withContoso(t, e, idp)
	ctx := context.Background()

	rd, err := e.svc.StartLoginWith(ctx, "acme", sso.LoginOptions{Connection: "contoso"})
	require.NoError(t, err)
	e.keep(t, rd)
	// The organization's own IdP answers contoso's request, posted to its ACS.
	posted, err := e.idp.Response(ssotest.Response{SP: e.svc.Details(e.org), InResponseTo: rd.RequestID, User: user("eve@acme.example", "Admins")})
	require.NoError(t, err)
	req, err := e.idp.PostRequest(e.svc.Details(e.org).ACSURL, posted, "", e.cookies()...)
	require.NoError(t, err)
	_, err = e.svc.HandleACS(ctx, "acme", req)
	require.ErrorIs(t, err, saml.CheckInResponseTo)

	// The contoso response then completes.
	sp, _ := e.svc.ConnectionDetails(e.org, "contoso")
	posted, err = idp.Response(ssotest.Response{SP: sp, InResponseTo: rd.RequestID, User: user("kim@contoso.example", "Contentstack Developers")})
	require.NoError(t, err)
	req, err = idp.PostRequest(sp.ACSURL, posted, "", e.cookies()...)
	require.NoError(t, err)
	_, err = e.svc.HandleConnectionACS(ctx, "acme", "contoso", req)
	require.NoError(t, err)

	// Posting contoso's IdP response to the own IdP's ACS fails its
	// signature check (another IdP's key) before anything else.
	rd2, err := e.svc.StartLoginWith(ctx, "acme", sso.LoginOptions{Choose: true})
	require.NoError(t, err)
	e.keep(t, rd2)
	posted, err = idp.Response(ssotest.Response{SP: e.svc.Details(e.org), InResponseTo: rd2.RequestID, User: user("kim@contoso.example", "Contentstack Developers")})
	require.NoError(t, err)
	req, err = idp.PostRequest(e.svc.Details(e.org).ACSURL, posted, "", e.cookies()...)
	require.NoError(t, err)
	_, err = e.svc.HandleACS(ctx, "acme", req)
	require.ErrorIs(t, err, sso.ErrInvalidResponse)

	// An unknown connection, or an ACS post for an OIDC connection, is refused.
	_, err = e.svc.HandleConnectionACS(ctx, "acme", "nope", req)
	require.ErrorIs(t, err, sso.ErrUnknownConnection)
}

func TestDisableConnectionEndsItsSessions(t *testing.T) {
	e := newEnv(t, nil)
	idp := contosoIdP(t)
	withContoso(t, e, idp)
	ctx := context.Background()

	viaContoso, err := connSignIn(t, e, idp, sso.LoginOptions{Connection: "contoso"}, "contoso", user("kim@contoso.example", "Contentstack Developers"))
	require.NoError(t, err)
	viaOwn, err := connSignIn(t, e, e.idp, sso.LoginOptions{Choose: true}, sso.PrimaryConnection, user("ann@acme.example", "Admins"))
	require.NoError(t, err)

	require.ErrorIs(t, e.svc.DisableConnection(ctx, e.org.ID, "contoso", "u-someone"), sso.ErrNotOwner)
	require.NoError(t, e.svc.DisableConnection(ctx, e.org.ID, "contoso", ownerID))

	_, err = e.svc.ValidateSession(ctx, viaContoso.Token)
	var ended *session.EndedError
	require.ErrorAs(t, err, &ended)
	assert.Equal(t, session.EndConnectionOff, ended.Reason)
	_, err = e.svc.ValidateSession(ctx, viaOwn.Token)
	require.NoError(t, err, "the own IdP's sessions stay")

	// A disabled connection signs nobody in, but its Test SSO still runs.
	_, err = e.svc.StartLoginWith(ctx, "acme", sso.LoginOptions{Connection: "contoso"})
	require.ErrorIs(t, err, sso.ErrUnknownConnection)
	rd, err := e.svc.StartConnectionTest(ctx, e.org.ID, "contoso", ownerID)
	require.NoError(t, err)
	e.keep(t, rd)
	sp, _ := e.svc.ConnectionDetails(e.org, "contoso")
	posted, err := idp.Response(ssotest.Response{SP: sp, InResponseTo: rd.RequestID, User: user("kim@contoso.example", "Contentstack Developers")})
	require.NoError(t, err)
	req, err := idp.PostRequest(sp.ACSURL, posted, relayOf(t, rd), e.cookies()...)
	require.NoError(t, err)
	res, err := e.svc.HandleConnectionACS(ctx, "acme", "contoso", req)
	require.NoError(t, err)
	require.NotNil(t, res.Test)
	assert.Equal(t, "contoso", res.Connection)

	assert.Len(t, e.eventsOf(sso.EventConnectionEnabled), 1)
	assert.Len(t, e.eventsOf(sso.EventConnectionDisabled), 1)
}

func TestConnectionRules(t *testing.T) {
	ctx := context.Background()
	saml := func(idp *ssotest.IdP, id string) sso.Connection {
		return sso.Connection{ID: id, Name: "C " + id, Protocol: sso.ProtocolSAML, SAML: idp.IdPConfig()}
	}
	tests := []struct {
		name    string
		edit    func(o *sso.Organization, idp *ssotest.IdP)
		wantErr error
		field   string
	}{
		{"new connection enabled", func(o *sso.Organization, idp *ssotest.IdP) {
			c := saml(idp, "two")
			c.Enabled = true
			o.Connections = append(o.Connections, c)
		}, sso.ErrNotAllowed, ""},
		{"enabled by edit", func(o *sso.Organization, _ *ssotest.IdP) { o.Connections[0].Enabled = false }, sso.ErrNotAllowed, ""},
		{"protocol changed", func(o *sso.Organization, _ *ssotest.IdP) {
			o.Connections[0].Protocol = sso.ProtocolOIDC
			o.Connections[0].SAML = sso.IdPConfig{}
		}, sso.ErrNotAllowed, ""},
		{"enabled connection removed", func(o *sso.Organization, _ *ssotest.IdP) { o.Connections = nil }, sso.ErrNotAllowed, ""},
		{"duplicate ID", func(o *sso.Organization, idp *ssotest.IdP) {
			o.Connections = append(o.Connections, saml(idp, "contoso"))
		}, sso.ErrInvalidConfig, "Connections[1].ID"},
		{"reserved ID", func(o *sso.Organization, idp *ssotest.IdP) {
			o.Connections = append(o.Connections, saml(idp, "metadata"))
		}, sso.ErrInvalidConfig, "Connections[1].ID"},
		{"upper-case ID", func(o *sso.Organization, idp *ssotest.IdP) {
			o.Connections = append(o.Connections, saml(idp, "Two"))
		}, sso.ErrInvalidConfig, "Connections[1].ID"},
		{"no name", func(o *sso.Organization, idp *ssotest.IdP) {
			c := saml(idp, "two")
			c.Name = " "
			o.Connections = append(o.Connections, c)
		}, sso.ErrInvalidConfig, "Connections[1].Name"},
		{"no protocol", func(o *sso.Organization, idp *ssotest.IdP) {
			c := saml(idp, "two")
			c.Protocol = ""
			o.Connections = append(o.Connections, c)
		}, sso.ErrInvalidConfig, "Connections[1].Protocol"},
		{"OIDC settings on a SAML connection", func(o *sso.Organization, idp *ssotest.IdP) {
			c := saml(idp, "two")
			c.OIDC.ClientID = "x"
			o.Connections = append(o.Connections, c)
		}, sso.ErrInvalidConfig, "Connections[1].OIDC"},
		{"OIDC issuer over http", func(o *sso.Organization, _ *ssotest.IdP) {
			o.Connections = append(o.Connections, sso.Connection{ID: "g", Name: "G", Protocol: sso.ProtocolOIDC,
				OIDC: sso.OIDCConfig{Issuer: "http://accounts.example.com"}})
		}, sso.ErrInvalidConfig, "Connections[1].OIDC.Issuer"},
		{"bad routed domain", func(o *sso.Organization, idp *ssotest.IdP) {
			c := saml(idp, "two")
			c.Domains = []string{"Contoso.example"}
			o.Connections = append(o.Connections, c)
		}, sso.ErrInvalidConfig, "Connections[1].Domains[0]"},
		{"draft OIDC connection without secret is fine", func(o *sso.Organization, _ *ssotest.IdP) {
			o.Connections = append(o.Connections, sso.Connection{ID: "g", Name: "G", Protocol: sso.ProtocolOIDC,
				OIDC: sso.OIDCConfig{Issuer: "https://accounts.example.com", ClientID: "app"}})
		}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			idp := contosoIdP(t)
			withContoso(t, e, idp)
			_, err := e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error {
				tt.edit(o, idp)
				return nil
			})
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			if tt.field != "" {
				var ce *sso.ConfigError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, tt.field, ce.Field)
				assert.NotEmpty(t, ce.UserMessage())
				assert.NotContains(t, ce.UserMessage(), "Connections[", "the sentence counts from 1 in words")
			}
		})
	}
}

func TestConnectionEnableNeedsCompleteConfigAndOwner(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	_, err := e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error {
		o.Connections = []sso.Connection{{ID: "g", Name: "Google", Protocol: sso.ProtocolOIDC,
			OIDC: sso.OIDCConfig{Issuer: "https://accounts.google.com", ClientID: "app"}}}
		return nil
	})
	require.NoError(t, err)
	require.ErrorIs(t, e.svc.EnableConnection(ctx, e.org.ID, "g", "u-nobody"), sso.ErrNotOwner)
	err = e.svc.EnableConnection(ctx, e.org.ID, "g", ownerID)
	var ce *sso.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "Connections[0].OIDC.ClientSecret", ce.Field)
	assert.Equal(t, "Connection 1: Enter the client secret the provider gave the application.", "Connection 1: "+ce.UserMessage())
	require.ErrorIs(t, e.svc.EnableConnection(ctx, e.org.ID, "nope", ownerID), sso.ErrNotFound)
}

// An organization that signs in only through a connection (its own IdP left
// empty) cannot lose that last connection while SSO is on.
func TestLastConnectionOfEnabledOrganizationStays(t *testing.T) {
	e := newEnv(t, func(o *sso.Organization) { o.Enabled = false; o.IdP = sso.IdPConfig{} })
	idp := contosoIdP(t)
	withContoso(t, e, idp)
	ctx := context.Background()
	require.NoError(t, e.svc.Enable(ctx, e.org.ID, ownerID))

	err := e.svc.DisableConnection(ctx, e.org.ID, "contoso", ownerID)
	require.ErrorIs(t, err, sso.ErrInvalidConfig)
	rd, err := e.svc.StartLogin(ctx, "acme", "/")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(rd.URL, "https://login.contoso.example/sso?"), "the only connection is started directly: %s", rd.URL)
	u, _ := url.Parse(rd.URL)
	assert.NotEmpty(t, u.Query().Get("SAMLRequest"))
}

func TestSecretNeverPrints(t *testing.T) {
	const secret = "s3cr3t-value-xyz"
	c := sso.Connection{ID: "g", Name: "G", Protocol: sso.ProtocolOIDC,
		OIDC: sso.OIDCConfig{Issuer: "https://accounts.example.com", ClientID: "app", ClientSecret: secret}}
	org := &sso.Organization{ID: "o", Connections: []sso.Connection{c}}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "conn", c, "secret", c.OIDC.ClientSecret, "org", org)
	for _, out := range []string{
		fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s %q", c, c, c, c.OIDC.ClientSecret, c.OIDC.ClientSecret),
		fmt.Sprintf("%+v %#v", org, org), logged.String(),
	} {
		assert.NotContains(t, out, secret)
	}
	assert.Equal(t, "[REDACTED]", c.OIDC.ClientSecret.String())
	assert.NotContains(t, fmt.Sprintf("%v", sso.Secret("")), "xyz")
}

func TestValidateConnectionID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"a", true}, {"okta-eu", true}, {"c0ntoso", true}, {strings.Repeat("a", 32), true},
		{"", false}, {strings.Repeat("a", 33), false}, {"-a", false}, {"a-", false}, {"A", false},
		{"a_b", false}, {"a/b", false}, {"acs", false}, {"metadata", false}, {"callback", false}, {"é", false},
	}
	for _, tt := range tests {
		err := sso.ValidateConnectionID(tt.id)
		if tt.ok != (err == nil) {
			t.Errorf("ValidateConnectionID(%q) err = %v; want ok %t", tt.id, err, tt.ok)
		}
		if err != nil && !errors.Is(err, sso.ErrInvalidConfig) {
			t.Errorf("ValidateConnectionID(%q) err = %v; want ErrInvalidConfig", tt.id, err)
		}
	}
}
