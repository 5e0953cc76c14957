package sqlite_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
	"github.com/orgsso/orgsso/store/memory"
	"github.com/orgsso/orgsso/store/sqlite"
	"github.com/orgsso/orgsso/store/storetest"
)

// BenchmarkHandleACS is a whole sign-in at the ACS (validation, replay
// record, request consumption, member upsert, session insert) on the SQLite
// file store beside the memory store, in one run. Responses are signed before
// the timer starts.
func BenchmarkHandleACS(b *testing.B) {
	for _, tc := range benchStores() {
		b.Run(tc.name, func(b *testing.B) { benchACS(b, tc.open(b)) })
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

func benchACS(b *testing.B, st storetest.Store) {
	ctx := context.Background()
	now := time.Now().UTC()
	clock := func() time.Time { return now }
	idp, err := ssotest.New(ssotest.Config{Now: clock})
	if err != nil {
		b.Fatal(err)
	}
	svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: st, Sessions: session.NewManager(st, session.WithClock(clock)), Now: clock})
	if err != nil {
		b.Fatal(err)
	}
	org := &sso.Organization{ID: "org-1", SSOName: "acme", OwnerID: "u-owner", Enabled: true, IdP: idp.IdPConfig(),
		RoleMapping: rolemap.Config{Enabled: true, Mappings: []rolemap.Mapping{{IdPRole: "Staff", OrgRole: rolemap.RoleMember}}}}
	if err := st.SaveOrganization(ctx, org); err != nil {
		b.Fatal(err)
	}
	sp := svc.Details(org)
	reqs := make([]*http.Request, b.N)
	for i := range b.N {
		rd, err := svc.StartLogin(ctx, "acme", "/")
		if err != nil {
			b.Fatal(err)
		}
		u, _ := url.Parse(rd.URL)
		posted, err := idp.Response(ssotest.Response{SP: sp, InResponseTo: rd.RequestID, User: ssotest.User{
			Email: fmt.Sprintf("user%d@acme.example", i%500), FirstName: "Alice", LastName: "Liddell",
			Roles: []string{"Staff", "Everyone", "Blog Editors", "Admins-EU", "Support"}}})
		if err != nil {
			b.Fatal(err)
		}
		if reqs[i], err = idp.PostRequest(sp.ACSURL, posted, u.Query().Get("RelayState"), rd.Cookie); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := svc.HandleACS(ctx, "acme", reqs[i]); err != nil {
			b.Fatal(err)
		}
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
