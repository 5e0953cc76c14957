package sso_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mrand "math/rand/v2"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// metadataServer serves whatever body it holds, with a status.
type metadataServer struct {
	mu     sync.Mutex
	status int
	body   []byte
	*httptest.Server
}

func newMetadataServer(t testing.TB, body []byte) *metadataServer {
	m := &metadataServer{status: http.StatusOK, body: body}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		m.mu.Lock()
		defer m.mu.Unlock()
		w.WriteHeader(m.status)
		_, _ = w.Write(m.body)
	}))
	t.Cleanup(m.Close)
	return m
}

func (m *metadataServer) serve(status int, body []byte) {
	m.mu.Lock()
	m.status, m.body = status, body
	m.mu.Unlock()
}

// rotatedIdP is the fixture IdP after a key rotation: same entity ID and
// SSO URL, another key.
func rotatedIdP(t testing.TB) *ssotest.IdP {
	idp, err := ssotest.New(ssotest.Config{EntityID: "https://idp.example.test/metadata", SSOURL: "https://idp.example.test/sso",
		Now: func() time.Time { return testNow }, Rand: mrand.NewChaCha8([32]byte{8}), Key: loadKey(t, "attacker.key.pem")})
	require.NoError(t, err)
	return idp
}

func mustMetadata(t testing.TB, idp *ssotest.IdP) []byte {
	md, err := idp.Metadata()
	require.NoError(t, err)
	return md
}

func TestRefreshMetadataAppliesRotation(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	srv := newMetadataServer(t, mustMetadata(t, e.idp))
	_, err := e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error { o.IdPMetadataURL = srv.URL; return nil })
	require.NoError(t, err)

	changed, err := e.svc.RefreshMetadata(ctx, e.org.ID, sso.PrimaryConnection, ownerID)
	require.NoError(t, err)
	assert.Empty(t, changed, "the IdP published nothing new")

	// The IdP rotates its key: the refresh swaps the certificate, the new
	// key signs users in, the withdrawn one no longer does.
	next := rotatedIdP(t)
	srv.serve(http.StatusOK, mustMetadata(t, next))
	changed, err = e.svc.RefreshMetadata(ctx, e.org.ID, sso.PrimaryConnection, ownerID)
	require.NoError(t, err)
	assert.Equal(t, []string{"IdP.Certificates"}, changed)
	org, err := e.svc.Organization(ctx, e.org.ID)
	require.NoError(t, err)
	assert.Equal(t, next.IdPConfig().Certificates, org.IdP.Certificates)
	ev := e.eventsOf(sso.EventIdPMetadataUpdated)
	require.Len(t, ev, 1)
	assert.Equal(t, ownerID, ev[0].Actor)

	e.idp = next
	_, err = e.signIn(t, user("ann@acme.example", "Admins"), nil)
	require.NoError(t, err, "the new key signs in")
	e.idp = newFixture(t).idp
	_, err = e.signIn(t, user("ann@acme.example", "Admins"), nil)
	require.ErrorIs(t, err, saml.CheckSignature, "the withdrawn key does not")
}

func TestRefreshMetadataFailureKeepsLastGood(t *testing.T) {
	other, err := ssotest.New(ssotest.Config{EntityID: "https://evil.example/metadata", SSOURL: "https://evil.example/sso",
		Now: func() time.Time { return testNow }, Key: loadKey(t, "attacker.key.pem")})
	require.NoError(t, err)
	tests := []struct {
		name   string
		status int
		body   []byte
		want   error
	}{
		{"server error", http.StatusInternalServerError, []byte("oops"), sso.ErrInvalidConfig},
		{"not metadata", http.StatusOK, []byte("<html>login</html>"), sso.ErrInvalidConfig},
		{"oversized", http.StatusOK, []byte("<x>" + strings.Repeat("a", saml.MaxIdPMetadataSize) + "</x>"), sso.ErrInvalidConfig},
		{"another IdP", http.StatusOK, mustMetadata(t, other), sso.ErrMetadataEntityChanged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			ctx := context.Background()
			srv := newMetadataServer(t, nil)
			_, err := e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error { o.IdPMetadataURL = srv.URL; return nil })
			require.NoError(t, err)
			before, _ := e.svc.Organization(ctx, e.org.ID)
			srv.serve(tt.status, tt.body)
			_, err = e.svc.RefreshMetadata(ctx, e.org.ID, sso.PrimaryConnection, ownerID)
			require.ErrorIs(t, err, tt.want)
			after, _ := e.svc.Organization(ctx, e.org.ID)
			assert.Equal(t, before.IdP, after.IdP, "the last good configuration stays")
			ev := e.eventsOf(sso.EventIdPMetadataFailed)
			require.Len(t, ev, 1)
			assert.Less(t, len(ev[0].Detail), 500)
			_, err = e.signIn(t, user("ann@acme.example", "Admins"), nil)
			require.NoError(t, err, "sign-in goes on")
		})
	}
}

func TestRefreshMetadataRules(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	_, err := e.svc.RefreshMetadata(ctx, e.org.ID, sso.PrimaryConnection, ownerID)
	require.ErrorIs(t, err, sso.ErrInvalidConfig, "no URL set")
	_, err = e.svc.RefreshMetadata(ctx, e.org.ID, sso.PrimaryConnection, "u-admin")
	require.ErrorIs(t, err, sso.ErrNotOwner)
	_, err = e.svc.RefreshMetadata(ctx, e.org.ID, "nope", ownerID)
	require.ErrorIs(t, err, sso.ErrUnknownConnection)
	for _, u := range []string{"ftp://idp.example/md", "http://idp.example/md", "https://u:p@idp.example/md", "https://" + strings.Repeat("a", 2100)} {
		_, err = e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error { o.IdPMetadataURL = u; return nil })
		require.ErrorIs(t, err, sso.ErrInvalidConfig, u)
	}

	// A SAML connection refreshes from its own URL.
	idp := contosoIdP(t)
	srv := newMetadataServer(t, mustMetadata(t, idp))
	_, err = e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error {
		o.Connections = append(o.Connections, sso.Connection{ID: "contoso", Name: "Contoso", Protocol: sso.ProtocolSAML, MetadataURL: srv.URL})
		return nil
	})
	require.NoError(t, err)
	changed, err := e.svc.RefreshMetadata(ctx, e.org.ID, "contoso", ownerID)
	require.NoError(t, err)
	assert.Equal(t, []string{"Connections.contoso.SAML.EntityID", "Connections.contoso.SAML.SSOURL", "Connections.contoso.SAML.Certificates"}, changed)
	org, _ := e.svc.Organization(ctx, e.org.ID)
	assert.Equal(t, idp.IdPConfig().EntityID, org.Connection("contoso").SAML.EntityID)
}

// Run refreshes every organization that names a metadata URL, on its own
// schedule, through the store's MetadataLister.
func TestRunRefreshesMetadata(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	next := rotatedIdP(t)
	srv := newMetadataServer(t, mustMetadata(t, next))
	_, err := e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error { o.IdPMetadataURL = srv.URL; return nil })
	require.NoError(t, err)
	svc := ar11Service(t, e, func(c *sso.Config) {
		c.MetadataRefreshInterval = 20 * time.Millisecond
		c.InsecureAllowPrivateNetworks = true
	})
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = svc.Run(runCtx) }()
	assert.Eventually(t, func() bool {
		org, err := svc.Organization(ctx, e.org.ID)
		return err == nil && slices.Equal(org.IdP.Certificates, next.IdPConfig().Certificates)
	}, 5*time.Second, 10*time.Millisecond, "the scheduled refresh applied the rotated certificate")
	ev := e.eventsOf(sso.EventIdPMetadataUpdated)
	require.NotEmpty(t, ev)
	assert.Empty(t, ev[0].Actor, "scheduled: no actor")
}
