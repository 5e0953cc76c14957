package sso_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/sso"
)

// An organization's owner chooses the issuer the Service fetches; neither
// the default client nor a host's own client reaches loopback, private or
// link-local addresses unless the host opts in.
func TestOutgoingRequestsRefusePrivateAddresses(t *testing.T) {
	var hits atomic.Int32
	local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	t.Cleanup(local.Close)
	issuers := []string{
		local.URL,                         // loopback, http
		"http://localhost:9/x",            // a loopback name
		"https://10.1.2.3",                // private
		"https://169.254.169.254",         // link-local: cloud metadata
		"https://100.64.0.1",              // carrier-grade NAT
		"https://[fd00::1]",               // unique local IPv6
		"https://[::ffff:127.0.0.1]:8443", // IPv4-mapped loopback
	}
	for _, client := range []struct {
		name string
		c    *http.Client
	}{{"default client", nil}, {"host's client", &http.Client{}}} {
		for _, issuer := range issuers {
			t.Run(client.name+"/"+issuer, func(t *testing.T) {
				e := newEnv(t, nil)
				e.svc = ar11Service(t, e, func(c *sso.Config) { c.HTTPClient = client.c })
				ctx := context.Background()
				_, err := e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error {
					o.Connections = append(o.Connections, sso.Connection{ID: "x", Name: "X", Protocol: sso.ProtocolOIDC,
						OIDC: sso.OIDCConfig{Issuer: issuer, ClientID: "c", ClientSecret: "s"}})
					return nil
				})
				if err != nil {
					require.ErrorIs(t, err, sso.ErrInvalidConfig) // refused when saved: fine too
					return
				}
				_, err = e.svc.StartConnectionTest(ctx, e.org.ID, "x", ownerID)
				require.ErrorIs(t, err, sso.ErrPrivateAddress)
			})
		}
	}
	assert.Zero(t, hits.Load())

	// Opted in (development), the same loopback provider is reached.
	e := newEnv(t, nil)
	e.svc = ar11Service(t, e, func(c *sso.Config) { c.InsecureAllowPrivateNetworks = true })
	ctx := context.Background()
	_, err := e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error {
		o.Connections = append(o.Connections, sso.Connection{ID: "x", Name: "X", Protocol: sso.ProtocolOIDC,
			OIDC: sso.OIDCConfig{Issuer: local.URL, ClientID: "c", ClientSecret: "s"}})
		return nil
	})
	require.NoError(t, err)
	_, err = e.svc.StartConnectionTest(ctx, e.org.ID, "x", ownerID)
	require.Error(t, err) // not a provider, but it was asked
	assert.NotZero(t, hits.Load())
}
