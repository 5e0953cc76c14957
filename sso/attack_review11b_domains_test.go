package sso_test

// Attacker review 11b (second pass): verified domains in the stores. A
// failing assertion is a finding (see the report), a passing one an attempt
// that held.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/sqlite"
)

// Held: two organizations verify the same domain concurrently through the
// Service (both TXT records published), over the memory store, SQLite, and
// SQLite behind the legacy Store port: exactly one wins each round, the
// other gets ErrDomainTaken, and discovery finds the winner.
func TestAttackReview11bVerifyDomainRace(t *testing.T) {
	for _, kind := range []string{"memory", "sqlite", "sqlite-legacy"} {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, nil)
			var st sso.Store = e.store
			if kind != "memory" {
				db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
				require.NoError(t, err)
				t.Cleanup(func() { _ = db.Close() })
				st = db
				e.sessions = session.NewManager(db)
				if kind == "sqlite-legacy" {
					st = ar11bLegacyStore{db}
				}
			}
			res := &ar11Resolver{records: map[string][]string{}}
			svc := ar11Service(t, e, func(c *sso.Config) { c.Store = st; c.Resolver = res; c.Sessions = e.sessions })
			ctx := context.Background()
			for _, id := range []string{"org-a", "org-b"} {
				require.NoError(t, svc.CreateOrganization(ctx, &sso.Organization{ID: id, SSOName: id, OwnerID: ownerID}))
			}
			for round := range 8 {
				dom := fmt.Sprintf("race%d.example.com", round)
				var vals []string
				for _, id := range []string{"org-a", "org-b"} {
					d, err := svc.AddDomain(ctx, id, ownerID, dom)
					require.NoError(t, err)
					_, v := d.Record()
					vals = append(vals, v)
				}
				name, _ := (sso.Domain{Name: dom}).Record()
				res.set(name, vals...)
				var wg sync.WaitGroup
				errs := make([]error, 2)
				for i, id := range []string{"org-a", "org-b"} {
					wg.Add(1)
					go func() { defer wg.Done(); _, errs[i] = svc.VerifyDomain(ctx, id, ownerID, dom) }()
				}
				wg.Wait()
				wins := 0
				for _, err := range errs {
					switch {
					case err == nil:
						wins++
					case errors.Is(err, sso.ErrDomainTaken), errors.Is(err, sso.ErrConflict):
					default:
						t.Errorf("round %d: %v", round, err)
					}
				}
				verified := 0
				for _, id := range []string{"org-a", "org-b"} {
					o, err := svc.Organization(ctx, id)
					require.NoError(t, err)
					if o.DomainVerified("x@" + dom) {
						verified++
					}
				}
				assert.Equal(t, 1, wins, "round %d: %v", round, errs)
				assert.Equal(t, 1, verified, "round %d: both organizations verified %s", round, dom)
			}
		})
	}
}

// Held: renaming the organization (SSO name) moves discovery with it;
// removing the domain frees it for another organization, and discovery
// stops at once; case and trailing-dot spellings are normalized before the
// store sees them.
func TestAttackReview11bDomainRenameRemoveSpellings(t *testing.T) {
	e := newEnv(t, nil)
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	res := &ar11Resolver{records: map[string][]string{}}
	sess := session.NewManager(db)
	svc := ar11Service(t, e, func(c *sso.Config) { c.Store = db; c.Resolver = res; c.Sessions = sess })
	ctx := context.Background()
	org := &sso.Organization{ID: "org-a", SSOName: "alpha", OwnerID: ownerID, IdP: e.idp.IdPConfig()}
	require.NoError(t, svc.CreateOrganization(ctx, org))
	d, err := svc.AddDomain(ctx, "org-a", ownerID, " Acme.EXAMPLE. ")
	require.NoError(t, err)
	assert.Equal(t, "acme.example", d.Name)
	n, v := d.Record()
	res.set(n, v)
	_, err = svc.VerifyDomain(ctx, "org-a", ownerID, "ACME.example.")
	require.NoError(t, err)
	got, err := db.OrganizationByDomain(ctx, "acme.example")
	require.NoError(t, err)
	assert.Equal(t, "org-a", got.ID)
	for _, variant := range []string{"ACME.example", "acme.example.", " acme.example"} {
		_, err := db.OrganizationByDomain(ctx, variant)
		assert.ErrorIs(t, err, sso.ErrNotFound, variant)
	}

	_, err = svc.UpdateOrganization(ctx, "org-a", ownerID, func(o *sso.Organization) error { o.SSOName = "beta"; return nil })
	require.NoError(t, err)
	require.NoError(t, svc.Enable(ctx, "org-a", ownerID))
	rd, err := svc.StartLoginForEmail(ctx, "kim@acme.example", "")
	require.NoError(t, err)
	assert.NotEmpty(t, rd.URL, "discovery after the rename")
	org2, err := svc.Organization(ctx, "org-a")
	require.NoError(t, err)
	assert.Equal(t, "beta", org2.SSOName)

	require.NoError(t, svc.RemoveDomain(ctx, "org-a", ownerID, "acme.example"))
	_, err = svc.StartLoginForEmail(ctx, "kim@acme.example", "")
	assert.ErrorIs(t, err, sso.ErrUnknownOrganization)
	require.NoError(t, svc.CreateOrganization(ctx, &sso.Organization{ID: "org-b", SSOName: "bravo", OwnerID: ownerID}))
	d, err = svc.AddDomain(ctx, "org-b", ownerID, "acme.example")
	require.NoError(t, err)
	n, v = d.Record()
	res.set(n, v)
	_, err = svc.VerifyDomain(ctx, "org-b", ownerID, "acme.example")
	assert.NoError(t, err, "a removed domain is free for another organization")
}

// Held (inert): a host writing through the Store port directly (bypassing
// the Service's normalization) can store a case or trailing-dot variant of
// a domain another organization verified: the stores compare bytes. The
// variant never matches a (lowercased) email domain, so discovery and
// DomainVerified stay with the organization that verified the real name.
func TestAttackReview11bStoreDomainVariants(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	at := testNow
	require.NoError(t, db.SaveOrganization(ctx, &sso.Organization{ID: "org-a", SSOName: "alpha", OwnerID: ownerID,
		Domains: []sso.Domain{{Name: "acme.example", Token: "t", VerifiedAt: at}}}))
	for i, variant := range []string{"ACME.example", "acme.example.", "acme.example ", "acme.example\x00"} {
		id := fmt.Sprintf("org-v%d", i)
		err := db.SaveOrganization(ctx, &sso.Organization{ID: id, SSOName: id, OwnerID: ownerID,
			Domains: []sso.Domain{{Name: variant, Token: "t", VerifiedAt: at}}})
		t.Logf("%q: %v", variant, err)
		if err != nil {
			continue
		}
		got, err := db.OrganizationByDomain(ctx, "acme.example")
		require.NoError(t, err)
		assert.Equal(t, "org-a", got.ID)
		o, err := db.Organization(ctx, id)
		require.NoError(t, err)
		assert.False(t, o.DomainVerified("kim@acme.example"), variant)
	}
}
