package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
	"github.com/orgsso/orgsso/store/memory"
	"github.com/orgsso/orgsso/store/sqlite"
	"github.com/orgsso/orgsso/store/storetest"
)

// BenchmarkHandleACS is a whole sign-in of a returning member at the ACS
// (validation, replay record, request consumption, session insert; on
// SQLite one transaction, one fsync) on the SQLite file store beside the
// memory store, in one run. Responses are signed before the timer starts.
func BenchmarkHandleACS(b *testing.B) {
	for _, tc := range benchStores() {
		b.Run(tc.name, func(b *testing.B) { storetest.BenchHandleACS(b, tc.open(b), false) })
	}
}

// BenchmarkHandleACSFirstSignIn is BenchmarkHandleACS for first sign-ins:
// each provisions its member (role mapping) in the same transaction.
func BenchmarkHandleACSFirstSignIn(b *testing.B) {
	for _, tc := range benchStores() {
		b.Run(tc.name, func(b *testing.B) { storetest.BenchHandleACS(b, tc.open(b), true) })
	}
}

// BenchmarkUpdateOrganization is one settings save through the admin API on
// the SQLite file store beside the memory store: load, edit, rules,
// validation, versioned save, audited event.
func BenchmarkUpdateOrganization(b *testing.B) {
	for _, tc := range benchStores() {
		b.Run(tc.name, func(b *testing.B) {
			st := tc.open(b)
			ctx := context.Background()
			idp, err := ssotest.New(ssotest.Config{})
			if err != nil {
				b.Fatal(err)
			}
			svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: st, Sessions: session.NewManager(st)})
			if err != nil {
				b.Fatal(err)
			}
			org := &sso.Organization{ID: "org-1", SSOName: "acme", OwnerID: "u-owner", IdP: idp.IdPConfig()}
			if err := svc.CreateOrganization(ctx, org); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := svc.UpdateOrganization(ctx, "org-1", "u-owner", func(o *sso.Organization) error {
					o.SessionTimeout = time.Duration(1+i%23) * time.Hour
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type benchStore struct {
	name string
	open func(b *testing.B) storetest.Store
}

// benchStores are the stores the benchmarks compare in one run.
func benchStores() []benchStore {
	return []benchStore{
		{"memory", func(*testing.B) storetest.Store { return memory.New() }},
		{"sqlite", func(b *testing.B) storetest.Store {
			st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			return st
		}},
	}
}

// BenchmarkValidateSession is the per-request session check of the Service
// (the session, then the organization's state: the organization and the
// member by user ID) on the SQLite file store beside the memory store;
// compare BenchmarkSessionValidate, the session lookup alone.
func BenchmarkValidateSession(b *testing.B) {
	for _, tc := range benchStores() {
		b.Run(tc.name, func(b *testing.B) {
			st := tc.open(b)
			ctx := context.Background()
			sessions := session.NewManager(st)
			svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: st, Sessions: sessions})
			if err != nil {
				b.Fatal(err)
			}
			if err := svc.CreateOrganization(ctx, &sso.Organization{ID: "org-1", SSOName: "acme", OwnerID: "u-owner"}); err != nil {
				b.Fatal(err)
			}
			if _, err := svc.AddMember(ctx, "org-1", "u-owner", sso.Member{UserID: "u-1", Email: "a@acme.example"}); err != nil {
				b.Fatal(err)
			}
			_, token, err := sessions.Create(ctx, "org-1", "u-1", session.MethodPassword, time.Hour)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := svc.ValidateSession(ctx, token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
