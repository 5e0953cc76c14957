package sso_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/sso"
)

// zone is an in-memory DNS for domain verification: TXT records by name.
// A name it does not hold is NXDOMAIN, as from a real resolver.
type zone struct {
	mu  sync.Mutex
	txt map[string][]string
	err error // returned for every lookup when set (a DNS outage)
}

func (z *zone) LookupTXT(_ context.Context, name string) ([]string, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.err != nil {
		return nil, z.err
	}
	r, ok := z.txt[name]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	return r, nil
}

func (z *zone) publish(name, value string) {
	z.mu.Lock()
	z.txt[name] = append(z.txt[name], value)
	z.mu.Unlock()
}

// withZone rebuilds e's Service over the same store with z as its resolver.
func withZone(t testing.TB, e *env) *zone {
	t.Helper()
	z := &zone{txt: map[string][]string{}}
	svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: e.store, Sessions: e.sessions,
		Now: e.clock.Now, Resolver: z, OnEvent: func(_ context.Context, ev sso.Event) {
			e.mu.Lock()
			e.events = append(e.events, ev)
			e.mu.Unlock()
		}})
	require.NoError(t, err)
	e.svc = svc
	return z
}

// verify claims and verifies domain for e's organization.
func verify(t testing.TB, e *env, z *zone, domain string) sso.Domain {
	t.Helper()
	ctx := context.Background()
	d, err := e.svc.AddDomain(ctx, e.org.ID, ownerID, domain)
	require.NoError(t, err)
	z.publish(d.Record())
	d, err = e.svc.VerifyDomain(ctx, e.org.ID, ownerID, domain)
	require.NoError(t, err)
	require.True(t, d.Verified())
	return d
}

func TestDomainVerification(t *testing.T) {
	e := newEnv(t, nil)
	z := withZone(t, e)
	ctx := context.Background()

	d, err := e.svc.AddDomain(ctx, e.org.ID, ownerID, " Acme.Example. ")
	require.NoError(t, err)
	assert.Equal(t, "acme.example", d.Name)
	assert.False(t, d.Verified())
	name, value := d.Record()
	assert.Equal(t, "_orgsso-challenge.acme.example", name)
	assert.Equal(t, "orgsso-domain-verification="+d.Token, value)
	assert.GreaterOrEqual(t, len(d.Token), 32, "at least 192 random bits")
	again, err := e.svc.AddDomain(ctx, e.org.ID, ownerID, "acme.example")
	require.NoError(t, err)
	assert.Equal(t, d.Token, again.Token, "adding twice keeps the token")

	_, err = e.svc.VerifyDomain(ctx, e.org.ID, ownerID, "acme.example")
	require.ErrorIs(t, err, sso.ErrDomainNotVerified, "nothing published")
	z.publish(name, "orgsso-domain-verification=someone-elses-token")
	_, err = e.svc.VerifyDomain(ctx, e.org.ID, ownerID, "acme.example")
	require.ErrorIs(t, err, sso.ErrDomainNotVerified, "another token")
	z.publish(name, value)
	_, err = e.svc.VerifyDomain(ctx, e.org.ID, "u-admin", "acme.example")
	require.ErrorIs(t, err, sso.ErrNotOwner)
	d, err = e.svc.VerifyDomain(ctx, e.org.ID, ownerID, "acme.example")
	require.NoError(t, err)
	assert.Equal(t, testNow, d.VerifiedAt)

	_, err = e.svc.VerifyDomain(ctx, e.org.ID, ownerID, "other.example")
	require.ErrorIs(t, err, sso.ErrNotFound)
	_, err = e.svc.AddDomain(ctx, e.org.ID, ownerID, "not a domain")
	require.ErrorIs(t, err, sso.ErrInvalidConfig)

	// An edit can neither verify nor drop a domain.
	_, err = e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error {
		o.Domains = append(o.Domains, sso.Domain{Name: "evil.example", Token: "t", VerifiedAt: testNow})
		return nil
	})
	require.ErrorIs(t, err, sso.ErrNotAllowed)
	err = e.svc.CreateOrganization(ctx, &sso.Organization{ID: "o2", SSOName: "beta", OwnerID: "u2",
		Domains: []sso.Domain{{Name: "evil.example", Token: "t", VerifiedAt: testNow}}})
	require.ErrorIs(t, err, sso.ErrNotAllowed)

	// A DNS outage is unavailable, not "not verified".
	require.NoError(t, e.svc.RemoveDomain(ctx, e.org.ID, ownerID, "acme.example"))
	_, err = e.svc.AddDomain(ctx, e.org.ID, ownerID, "acme.example")
	require.NoError(t, err)
	z.err = errors.New("i/o timeout")
	_, err = e.svc.VerifyDomain(ctx, e.org.ID, ownerID, "acme.example")
	require.ErrorIs(t, err, sso.ErrUnavailable)
	require.ErrorIs(t, e.svc.RemoveDomain(ctx, e.org.ID, ownerID, "zzz.example"), sso.ErrNotFound)
}

// With a verified domain, provisioning creates only members under it; an
// existing member from elsewhere still signs in, and Identity says whether
// the email's domain is verified.
func TestVerifiedDomainsLimitProvisioning(t *testing.T) {
	e := newEnv(t, nil)
	z := withZone(t, e)
	verify(t, e, z, "acme.example")
	e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-ext", Email: "pat@partner.example", OrgRole: "member"})

	tests := []struct {
		email        string
		wantErr      error
		wantVerified bool
	}{
		{"new@acme.example", nil, true},
		{"new@eu.acme.example", nil, true},
		{"new@evil.example", sso.ErrAccessDenied, false},
		{"new@acme.example.evil", sso.ErrAccessDenied, false},
		{"new@notacme.example", sso.ErrAccessDenied, false},
		{"pat@partner.example", nil, false}, // already a member: signs in
	}
	for _, tt := range tests {
		t.Run(tt.email, func(t *testing.T) {
			res, err := e.signIn(t, user(tt.email, "Contentstack Developers"), nil)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantVerified, res.Identity.DomainVerified)
		})
	}
}

func TestDomainVerifiedByOneOrganizationAndDiscovery(t *testing.T) {
	e := newEnv(t, nil)
	z := withZone(t, e)
	ctx := context.Background()
	verify(t, e, z, "acme.example")
	beta := e.addOrg(t, "org-beta", "beta")

	// Another organization claims the domain and even publishes its own
	// token: verification is refused, atomically in the store.
	d, err := e.svc.AddDomain(ctx, beta.ID, beta.OwnerID, "acme.example")
	require.NoError(t, err)
	z.publish(d.Record())
	_, err = e.svc.VerifyDomain(ctx, beta.ID, beta.OwnerID, "acme.example")
	require.ErrorIs(t, err, sso.ErrDomainTaken)
	assert.NotErrorIs(t, err, sso.ErrUnavailable)

	// Home-realm discovery: the email's domain (or its parent) finds acme.
	rd, err := e.svc.StartLoginForEmail(ctx, "kim@eu.acme.example", "/x")
	require.NoError(t, err)
	assert.Contains(t, rd.URL, "https://idp.example.test/sso?")
	for _, email := range []string{"kim@beta.example", "kim@acme.example.evil", "no-at-sign", "kim@", ""} {
		_, err = e.svc.StartLoginForEmail(ctx, email, "/")
		require.ErrorIs(t, err, sso.ErrUnknownOrganization, email)
	}
	// After the domain is removed, discovery no longer finds acme, and beta
	// may verify it.
	require.NoError(t, e.svc.RemoveDomain(ctx, e.org.ID, ownerID, "acme.example"))
	_, err = e.svc.StartLoginForEmail(ctx, "kim@acme.example", "/")
	require.ErrorIs(t, err, sso.ErrUnknownOrganization)
	_, err = e.svc.VerifyDomain(ctx, beta.ID, beta.OwnerID, "acme.example")
	require.NoError(t, err)
}
