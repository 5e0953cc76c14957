package sso_test

import (
	"bytes"
	"context"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/memory"
)

func newSealingService(t *testing.T, st *memory.Store, key []byte) *sso.Service {
	t.Helper()
	svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: st,
		Sessions: session.NewManager(st), Now: func() time.Time { return testNow },
		Rand: mrand.NewChaCha8([32]byte{4}), SecretKey: key})
	require.NoError(t, err)
	return svc
}

func TestClientSecretSealedAtRest(t *testing.T) {
	const secret = "client-secret-0123456789"
	ctx := context.Background()
	st := memory.New()
	key := bytes.Repeat([]byte{7}, sso.SecretKeySize)
	svc := newSealingService(t, st, key)
	org := &sso.Organization{ID: "o1", SSOName: "acme", OwnerID: "u1", Connections: []sso.Connection{
		{ID: "g", Name: "Google", Protocol: sso.ProtocolOIDC, OIDC: sso.OIDCConfig{Issuer: "https://accounts.google.com", ClientID: "app", ClientSecret: secret}},
		{ID: "h", Name: "Other", Protocol: sso.ProtocolOIDC, OIDC: sso.OIDCConfig{Issuer: "https://id.example.com", ClientID: "app2", ClientSecret: secret}},
	}}
	require.NoError(t, svc.CreateOrganization(ctx, org))

	stored, err := st.Organization(ctx, "o1")
	require.NoError(t, err)
	for _, c := range stored.Connections {
		assert.NotContains(t, string(c.OIDC.ClientSecret), secret, "the store holds ciphertext only")
		assert.True(t, strings.HasPrefix(string(c.OIDC.ClientSecret), "orgsso-sealed:v1:"))
	}
	assert.NotEqual(t, stored.Connections[0].OIDC.ClientSecret, stored.Connections[1].OIDC.ClientSecret, "fresh nonce per seal")

	got, err := svc.Organization(ctx, "o1")
	require.NoError(t, err)
	assert.Equal(t, sso.Secret(secret), got.Connections[0].OIDC.ClientSecret)

	// An edit keeps the secret sealed; the value the Service returns is open.
	got, err = svc.UpdateOrganization(ctx, "o1", "u1", func(o *sso.Organization) error { o.Connections[0].Name = "Google Workspace"; return nil })
	require.NoError(t, err)
	assert.Equal(t, sso.Secret(secret), got.Connections[0].OIDC.ClientSecret)
	stored, _ = st.Organization(ctx, "o1")
	assert.NotContains(t, string(stored.Connections[0].OIDC.ClientSecret), secret)

	// Another key, no key, or a sealed value moved to another connection:
	// the organization is unavailable, never read with a wrong secret.
	_, err = newSealingService(t, st, bytes.Repeat([]byte{8}, sso.SecretKeySize)).Organization(ctx, "o1")
	require.ErrorIs(t, err, sso.ErrUnavailable)
	_, err = newSealingService(t, st, nil).Organization(ctx, "o1")
	require.ErrorIs(t, err, sso.ErrUnavailable)
	stored.Connections[1].OIDC.ClientSecret = stored.Connections[0].OIDC.ClientSecret
	require.NoError(t, st.SaveOrganization(ctx, stored))
	_, err = svc.Organization(ctx, "o1")
	require.ErrorIs(t, err, sso.ErrUnavailable)
}

func TestClientSecretStoredBeforeKeyIsReadThenSealed(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	require.NoError(t, newSealingService(t, st, nil).CreateOrganization(ctx, &sso.Organization{ID: "o1", SSOName: "acme", OwnerID: "u1",
		Connections: []sso.Connection{{ID: "g", Name: "G", Protocol: sso.ProtocolOIDC, OIDC: sso.OIDCConfig{ClientSecret: "plain"}}}}))
	svc := newSealingService(t, st, bytes.Repeat([]byte{7}, sso.SecretKeySize))
	got, err := svc.Organization(ctx, "o1")
	require.NoError(t, err)
	assert.Equal(t, sso.Secret("plain"), got.Connections[0].OIDC.ClientSecret)
	_, err = svc.UpdateOrganization(ctx, "o1", "u1", func(o *sso.Organization) error { o.Connections[0].Name = "G2"; return nil })
	require.NoError(t, err)
	stored, _ := st.Organization(ctx, "o1")
	assert.True(t, strings.HasPrefix(string(stored.Connections[0].OIDC.ClientSecret), "orgsso-sealed:v1:"))
}

func TestSecretKeyMustBe32Bytes(t *testing.T) {
	st := memory.New()
	_, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: st, Sessions: session.NewManager(st), SecretKey: []byte("short")})
	require.ErrorIs(t, err, sso.ErrInvalidConfig)
	cfg := sso.Config{BaseURL: "https://app.example.com", SecretKey: bytes.Repeat([]byte{'k'}, 32)}
	assert.NotContains(t, cfg.String(), "kkkk")
}
