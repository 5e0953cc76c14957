package sso_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/memory"
)

// ar11Domains is the memory store with a DomainStore (which the stores do
// not implement yet), counting its lookups.
type ar11Domains struct {
	*memory.Store
	mu      sync.Mutex
	orgIDs  []string
	lookups atomic.Int32
}

func (d *ar11Domains) OrganizationByDomain(ctx context.Context, domain string) (*sso.Organization, error) {
	d.lookups.Add(1)
	d.mu.Lock()
	ids := append([]string(nil), d.orgIDs...)
	d.mu.Unlock()
	for _, id := range ids {
		o, err := d.Store.Organization(ctx, id)
		if err != nil {
			continue
		}
		for _, dm := range o.Domains {
			if dm.Name == domain && dm.Verified() {
				return o, nil
			}
		}
	}
	return nil, sso.ErrNotFound
}

// ar11Resolver answers TXT lookups from a map.
type ar11Resolver struct {
	mu      sync.Mutex
	records map[string][]string
}

func (r *ar11Resolver) LookupTXT(_ context.Context, name string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.records[name], nil
}

func (r *ar11Resolver) set(name string, vals ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records[name] = vals
}

func ar11DomainEnv(t *testing.T) (*env, *ar11Domains, *ar11Resolver) {
	e := newEnv(t, nil)
	ds := &ar11Domains{Store: e.store, orgIDs: []string{e.org.ID}}
	res := &ar11Resolver{records: map[string][]string{}}
	e.svc = ar11Service(t, e, func(c *sso.Config) { c.Store = ds; c.Resolver = res })
	return e, ds, res
}

// Held: verification needs the token at _orgsso-challenge.{exact domain};
// a record on the parent, another organization's token, edits and
// CreateOrganization cannot verify; suffix tricks do not count as verified.
func TestAttackReview11DomainVerification(t *testing.T) {
	e, ds, res := ar11DomainEnv(t)
	ctx := context.Background()

	d, err := e.svc.AddDomain(ctx, e.org.ID, ownerID, "  ACME.Example. ")
	require.NoError(t, err)
	require.Equal(t, "acme.example", d.Name)
	_, want := d.Record()

	// Not the owner.
	_, err = e.svc.AddDomain(ctx, e.org.ID, "u-someone", "evil.example")
	require.ErrorIs(t, err, sso.ErrNotOwner)

	// Right value on the parent name, and a wildcard-ish sibling name.
	res.set("_orgsso-challenge.example", want)
	res.set("_orgsso-challenge.acme.example.evil", want)
	_, err = e.svc.VerifyDomain(ctx, e.org.ID, ownerID, "acme.example")
	require.ErrorIs(t, err, sso.ErrDomainNotVerified)
	// A prefix/suffix of the value, or the value inside a longer string.
	res.set("_orgsso-challenge.acme.example", want+"x", "x"+want, strings.TrimSuffix(want, want[len(want)-1:]))
	_, err = e.svc.VerifyDomain(ctx, e.org.ID, ownerID, "acme.example")
	require.ErrorIs(t, err, sso.ErrDomainNotVerified)

	// An edit cannot verify; CreateOrganization cannot claim.
	_, err = e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error {
		o.Domains[0].VerifiedAt = testNow
		return nil
	})
	require.Error(t, err)
	err = e.svc.CreateOrganization(ctx, &sso.Organization{ID: "org-evil", SSOName: "evil", OwnerID: "u-evil",
		Domains: []sso.Domain{{Name: "acme.example", Token: "t", VerifiedAt: testNow}}})
	require.Error(t, err)

	res.set("_orgsso-challenge.acme.example", " "+want+" ")
	d, err = e.svc.VerifyDomain(ctx, e.org.ID, ownerID, "acme.example")
	require.NoError(t, err)
	require.True(t, d.Verified())

	org, err := e.svc.Organization(ctx, e.org.ID)
	require.NoError(t, err)
	for email, verified := range map[string]bool{
		"a@acme.example": true, "a@ACME.EXAMPLE": true, "a@eu.acme.example": true,
		"a@evilacme.example": false, "a@acme.example.evil": false, "a@acme.example.": false,
		"a@xacme.example": false, "a@.acme.example": true, // checkIdentity refuses the empty label before this counts
		"acme.example": false, "": false,
	} {
		assert.Equal(t, verified, org.DomainVerified(email), email)
	}

	// Another organization cannot verify the same domain, even with the
	// TXT record holding its own token (a DomainStore says it is taken).
	err = e.svc.CreateOrganization(ctx, &sso.Organization{ID: "org-evil", SSOName: "evil", OwnerID: "u-evil"})
	require.NoError(t, err)
	ds.mu.Lock()
	ds.orgIDs = append(ds.orgIDs, "org-evil")
	ds.mu.Unlock()
	d2, err := e.svc.AddDomain(ctx, "org-evil", "u-evil", "acme.example")
	require.NoError(t, err)
	_, v2 := d2.Record()
	res.set("_orgsso-challenge.acme.example", want, v2)
	_, err = e.svc.VerifyDomain(ctx, "org-evil", "u-evil", "acme.example")
	require.ErrorIs(t, err, sso.ErrDomainTaken)

	// Home-realm discovery finds acme for its subdomain users only.
	rd, err := e.svc.StartLoginForEmail(ctx, "kim@eu.acme.example", "/")
	require.NoError(t, err)
	assert.True(t, rd.URL != "" || len(rd.Choices) > 0)
	_, err = e.svc.StartLoginForEmail(ctx, "kim@evilacme.example", "/")
	require.ErrorIs(t, err, sso.ErrUnknownOrganization)
}

// FINDING (low): StartLoginForEmail, unauthenticated, walks every parent of
// the email's domain with one store query each: a 253-byte domain of
// one-letter labels costs ~126 OrganizationByDomain queries per request.
func TestAttackReview11HomeRealmDiscoveryQueriesPerRequest(t *testing.T) {
	e, ds, _ := ar11DomainEnv(t)
	ctx := context.Background()
	domain := strings.Repeat("a.", 125) + "example" // 257 > 253: trim
	domain = domain[len(domain)-253:]
	domain = strings.TrimLeft(domain, ".")
	_, err := e.svc.StartLoginForEmail(ctx, "x@"+domain, "/")
	require.ErrorIs(t, err, sso.ErrUnknownOrganization)
	n := ds.lookups.Load()
	t.Logf("one unauthenticated StartLoginForEmail with a %d-byte domain made %d store lookups", len(domain), n)
	assert.LessOrEqual(t, n, int32(10), "store queries per unauthenticated request are bounded by the domain's label count (up to 127), not a small constant")
}

// FINDING (low): a failed OIDC discovery is not remembered: every
// unauthenticated StartLoginWith for the connection fetches the discovery
// document again (each up to the HTTP timeout, 10 s by default), so anyone
// can make the host open one outbound request per request it sends, to a
// provider an organization owner chose (slow on purpose, or an outage).
func TestAttackReview11DiscoveryFailureRefetchedPerRequest(t *testing.T) {
	e := newEnv(t, nil)
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	_, err := e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error {
		o.Connections = append(o.Connections, sso.Connection{ID: "slow", Name: "Slow", Protocol: sso.ProtocolOIDC,
			OIDC: sso.OIDCConfig{Issuer: srv.URL, ClientID: "c", ClientSecret: "s"}})
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, e.svc.EnableConnection(ctx, e.org.ID, "slow", ownerID), "enabling does not run discovery")
	const n = 20
	for range n {
		_, err := e.svc.StartLoginWith(ctx, "acme", sso.LoginOptions{Connection: "slow"})
		require.Error(t, err)
		var ve interface{ Error() string }
		require.True(t, errors.As(err, &ve))
	}
	t.Logf("%d unauthenticated starts made %d discovery fetches", n, fetches.Load())
	assert.Less(t, fetches.Load(), int32(n), "every unauthenticated start re-runs the failed discovery")
}

// Held: a sealed client secret copied in the store to another organization's
// or another connection's row does not open there (AAD binds both); the
// stored form is never the secret itself.
func TestAttackReview11SealedSecretMovedBetweenRows(t *testing.T) {
	e := newEnv(t, nil)
	key := make([]byte, sso.SecretKeySize)
	key[0] = 7
	e.svc = ar11Service(t, e, func(c *sso.Config) { c.SecretKey = key })
	ctx := context.Background()
	conn := sso.Connection{ID: "okta", Name: "Okta", Protocol: sso.ProtocolOIDC,
		OIDC: sso.OIDCConfig{Issuer: "https://op.example", ClientID: "c", ClientSecret: "TOP-SECRET-A"}}
	_, err := e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error {
		o.Connections = append(o.Connections, conn)
		return nil
	})
	require.NoError(t, err)
	raw, err := e.store.Organization(ctx, e.org.ID)
	require.NoError(t, err)
	sealed := raw.Connections[0].OIDC.ClientSecret
	require.NotContains(t, string(sealed), "TOP-SECRET-A")

	b := e.addOrg(t, "org-b", "beta")
	c2 := conn
	c2.OIDC.ClientSecret = sealed
	b.Connections = []sso.Connection{c2}
	require.NoError(t, e.store.SaveOrganization(ctx, b))
	_, err = e.svc.Organization(ctx, "org-b")
	require.Error(t, err, "another organization's sealed secret does not open")

	raw.Connections = append(raw.Connections, c2)
	raw.Connections[1].ID = "okta2"
	require.NoError(t, e.store.SaveOrganization(ctx, raw))
	_, err = e.svc.Organization(ctx, e.org.ID)
	require.Error(t, err, "another connection's sealed secret does not open")
}
