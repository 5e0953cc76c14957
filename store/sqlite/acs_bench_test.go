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
	for _, tc := range []struct {
		name string
		open func(b *testing.B) storetest.Store
	}{
		{"memory", func(*testing.B) storetest.Store { return memory.New() }},
		{"sqlite", func(b *testing.B) storetest.Store {
			st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			return st
		}},
	} {
		b.Run(tc.name, func(b *testing.B) { benchACS(b, tc.open(b)) })
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
