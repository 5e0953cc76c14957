package sqlstore_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/sqlstore"
)

// org returns an organization with an SSO name.
func org(id, name string) *sso.Organization {
	return &sso.Organization{ID: id, SSOName: name, OwnerID: "owner-" + id, StrictMode: true,
		IdP: sso.IdPConfig{EntityID: "https://idp.example/" + id, Certificates: []string{"PEM"}}}
}

// TestSaveOrganizationKeepsVersionAndEpoch: SaveOrganization stores Version
// and SSOEpoch as given, and replaces them as given.
func TestSaveOrganizationKeepsVersionAndEpoch(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func() *sqlstore.Store) {
		st, ctx := open(), t.Context()
		for _, v := range []struct{ version, epoch int64 }{{0, 0}, {7, 3}, {2, 0}} {
			o := org("org1", "acme")
			o.Version, o.SSOEpoch = v.version, v.epoch
			if err := st.SaveOrganization(ctx, o); err != nil {
				t.Fatal(err)
			}
			if got, err := st.Organization(ctx, "org1"); err != nil || got.Version != v.version || got.SSOEpoch != v.epoch {
				t.Errorf("Organization() after saving version %d epoch %d = %+v, %v", v.version, v.epoch, got, err)
			}
		}
	})
}

func TestCreateOrganization(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func() *sqlstore.Store) {
		st, ctx := open(), t.Context()
		first := org("org1", "acme")
		first.Version, first.SSOEpoch = 9, 4 // the version is the store's; the epoch is kept
		if err := st.CreateOrganization(ctx, first); err != nil || first.Version != 1 {
			t.Fatalf("CreateOrganization(org1) = %v, version %d; want nil, 1", err, first.Version)
		}
		if got, err := st.Organization(ctx, "org1"); err != nil || !reflect.DeepEqual(got, first) {
			t.Errorf("Organization(org1) = %+v, %v; want %+v", got, err, first)
		}
		if err := st.CreateOrganization(ctx, org("draft1", "")); err != nil {
			t.Errorf("CreateOrganization(draft1) err = %v", err)
		}
		tests := []struct {
			name    string
			org     *sso.Organization
			wantErr error
		}{
			{"ID taken", org("org1", "globex"), sso.ErrDuplicateID},
			{"ID and name taken", org("org1", "acme"), sso.ErrDuplicateID},
			{"name taken", org("org2", "acme"), sso.ErrSSONameTaken},
			{"second draft", org("draft2", ""), nil},
			{"nil", nil, sqlstore.ErrInvalidArgument},
			{"no ID", org("", "x"), sqlstore.ErrInvalidArgument},
			{"invalid UTF-8", org("org3", "\xff"), sqlstore.ErrInvalidArgument},
		}
		for _, tt := range tests {
			var before sso.Organization
			if tt.org != nil {
				before = *tt.org
			}
			err := st.CreateOrganization(ctx, tt.org)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("%s: CreateOrganization() err = %v; want %v", tt.name, err, tt.wantErr)
			}
			if err != nil && tt.org != nil && !reflect.DeepEqual(*tt.org, before) {
				t.Errorf("%s: a failed CreateOrganization changed its argument", tt.name)
			}
		}
		// Nothing was written by the failures.
		if got, err := st.Organization(ctx, "org1"); err != nil || got.SSOName != "acme" || got.Version != 1 {
			t.Errorf("Organization(org1) after failed creates = %+v, %v", got, err)
		}
		if _, err := st.Organization(ctx, "org2"); !errors.Is(err, sso.ErrNotFound) {
			t.Errorf("Organization(org2) err = %v; want ErrNotFound", err)
		}
	})
}

func TestUpdateOrganization(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func() *sqlstore.Store) {
		st, ctx := open(), t.Context()
		for _, o := range []*sso.Organization{org("org1", "acme"), org("org2", "globex")} {
			if err := st.CreateOrganization(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		edit := func(version int64, name string) *sso.Organization {
			o := org("org1", name)
			o.Version = version
			o.SSOEpoch = version * 10
			o.RoleMapping = rolemap.Config{Enabled: true, Mappings: []rolemap.Mapping{{IdPRole: fmt.Sprint(version), OrgRole: rolemap.RoleAdmin}}}
			return o
		}
		tests := []struct {
			name        string
			org         *sso.Organization
			wantErr     error
			wantVersion int64 // stored afterwards
		}{
			{"from the stored version", edit(1, "acme"), nil, 2},
			{"stale version", edit(1, "acme-stale"), sso.ErrConflict, 2},
			{"future version", edit(5, "acme-future"), sso.ErrConflict, 2},
			{"rename", edit(2, "acme2"), nil, 3},
			{"name another holds", edit(3, "globex"), sso.ErrSSONameTaken, 3},
			{"name another holds, stale", edit(1, "globex"), sso.ErrConflict, 3},
			{"to a draft", edit(3, ""), nil, 4},
			{"unknown ID", &sso.Organization{ID: "org9", Version: 1}, sso.ErrNotFound, 4},
			{"nil", nil, sqlstore.ErrInvalidArgument, 4},
			{"no ID", &sso.Organization{Version: 1}, sqlstore.ErrInvalidArgument, 4},
		}
		for _, tt := range tests {
			var before sso.Organization
			if tt.org != nil {
				before = *tt.org
			}
			stored, err := st.Organization(ctx, "org1")
			if err != nil {
				t.Fatal(err)
			}
			err = st.UpdateOrganization(ctx, tt.org)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("%s: UpdateOrganization() err = %v; want %v", tt.name, err, tt.wantErr)
			}
			got, gerr := st.Organization(ctx, "org1")
			if gerr != nil || got.Version != tt.wantVersion {
				t.Errorf("%s: stored version %v, %v; want %d", tt.name, got, gerr, tt.wantVersion)
			}
			switch {
			case err == nil && !reflect.DeepEqual(got, tt.org):
				t.Errorf("%s: stored %+v; want %+v", tt.name, got, tt.org)
			case err == nil && tt.org.Version != before.Version+1:
				t.Errorf("%s: org.Version = %d after the update; want %d", tt.name, tt.org.Version, before.Version+1)
			case err != nil && !reflect.DeepEqual(got, stored):
				t.Errorf("%s: a failed update wrote %+v; had %+v", tt.name, got, stored)
			case err != nil && tt.org != nil && !reflect.DeepEqual(*tt.org, before):
				t.Errorf("%s: a failed update changed its argument", tt.name)
			}
		}
		// The name the rename freed is free.
		if err := st.CreateOrganization(ctx, org("org3", "acme")); err != nil {
			t.Errorf("CreateOrganization(org3, acme) after org1 renamed err = %v", err)
		}
	})
}

// TestUpdateOrganizationRace: of concurrent updates from one version, on
// several handles (replicas) of one database, exactly one succeeds and the
// others get ErrConflict; the stored organization is the winner's.
func TestUpdateOrganizationRace(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func() *sqlstore.Store) {
		stores := []*sqlstore.Store{open(), open()}
		ctx := t.Context()
		o := org("org1", "acme")
		if err := stores[0].CreateOrganization(ctx, o); err != nil {
			t.Fatal(err)
		}
		const racers = 20
		for round := range 3 {
			version := int64(round + 1)
			errs := make([]error, racers)
			edits := make([]*sso.Organization, racers)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range racers {
				edits[i] = org("org1", "acme")
				edits[i].OwnerID = fmt.Sprintf("owner-%d-%d", round, i)
				edits[i].Version = version
				wg.Go(func() {
					<-start
					errs[i] = stores[i%len(stores)].UpdateOrganization(ctx, edits[i])
				})
			}
			close(start)
			wg.Wait()
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil && winner >= 0:
					t.Errorf("round %d: updates %d and %d both succeeded", round, winner, i)
				case err == nil:
					winner = i
				case !errors.Is(err, sso.ErrConflict):
					t.Errorf("round %d: update %d err = %v; want nil or ErrConflict", round, i, err)
				}
			}
			if winner < 0 {
				t.Fatalf("round %d: no update succeeded", round)
			}
			got, err := stores[1].Organization(ctx, "org1")
			if err != nil || got.Version != version+1 || got.OwnerID != edits[winner].OwnerID {
				t.Errorf("round %d: stored %+v, %v; want version %d by update %d", round, got, err, version+1, winner)
			}
		}
	})
}

// TestCorruptConnectionsColumn: a connections column the store did not write
// (edited by hand, or damaged) makes the organization's lookups fail with an
// error naming the column, never panic or return part of it; the other
// organizations read on, and saving the organization again repairs it.
func TestCorruptConnectionsColumn(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func() *sqlstore.Store) {
		st, ctx := open(), t.Context()
		for _, o := range []*sso.Organization{org("org1", "acme"), org("org2", "globex")} {
			if err := st.SaveOrganization(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		set := `UPDATE organizations SET connections = ? WHERE id = 'org1'`
		if st.Dialect() == sqlstore.Postgres {
			set = `UPDATE organizations SET connections = $1::jsonb WHERE id = 'org1'` // jsonb holds only valid JSON
		}
		corrupt := []string{`{"id":"x"}`, `[1]`, `[{"id":1}]`, `[{"saml":{"certificates":"pem"}}]`, `"[]"`}
		if st.Dialect() == sqlstore.SQLite {
			corrupt = append(corrupt, ``, `not json`, `[{"id":`)
		}
		for _, c := range corrupt {
			if _, err := st.DB().ExecContext(ctx, set, c); err != nil {
				t.Fatalf("set connections %q: %v", c, err)
			}
			for name, get := range map[string]func() (*sso.Organization, error){
				"Organization":          func() (*sso.Organization, error) { return st.Organization(ctx, "org1") },
				"OrganizationBySSOName": func() (*sso.Organization, error) { return st.OrganizationBySSOName(ctx, "acme") },
			} {
				if o, err := get(); err == nil || o != nil || errors.Is(err, sso.ErrNotFound) || !strings.Contains(err.Error(), "connections") {
					t.Errorf("%s(connections %q) = %+v, %v; want an error naming the column", name, c, o, err)
				}
			}
		}
		if o, err := st.Organization(ctx, "org2"); err != nil || !reflect.DeepEqual(o, org("org2", "globex")) {
			t.Errorf("Organization(org2) beside a corrupt row = %+v, %v; want it", o, err)
		}
		if err := st.SaveOrganization(ctx, org("org1", "acme")); err != nil {
			t.Fatal(err)
		}
		if o, err := st.Organization(ctx, "org1"); err != nil || !reflect.DeepEqual(o, org("org1", "acme")) {
			t.Errorf("Organization(org1) saved again = %+v, %v; want it", o, err)
		}
	})
}

// TestCorruptDomainsColumn: a domains column the store did not write
// (edited by hand, or damaged) makes the organization's lookups fail with an
// error naming the column, never panic or return part of it; the other
// organizations read on, and saving the organization again repairs it.
func TestCorruptDomainsColumn(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func() *sqlstore.Store) {
		st, ctx := open(), t.Context()
		acme := org("org1", "acme")
		acme.Domains = []sso.Domain{{Name: "acme.example", Token: "t", VerifiedAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}}
		for _, o := range []*sso.Organization{acme, org("org2", "globex")} {
			if err := st.SaveOrganization(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		set := `UPDATE organizations SET domains = ? WHERE id = 'org1'`
		if st.Dialect() == sqlstore.Postgres {
			set = `UPDATE organizations SET domains = $1::jsonb WHERE id = 'org1'` // jsonb holds only valid JSON
		}
		corrupt := []string{`{"name":"x"}`, `[1]`, `[{"name":1}]`, `[{"verified_at":"yesterday"}]`, `"[]"`}
		if st.Dialect() == sqlstore.SQLite {
			corrupt = append(corrupt, ``, `not json`, `[{"name":`)
		}
		for _, c := range corrupt {
			if _, err := st.DB().ExecContext(ctx, set, c); err != nil {
				t.Fatalf("set domains %q: %v", c, err)
			}
			for name, get := range map[string]func() (*sso.Organization, error){
				"Organization":          func() (*sso.Organization, error) { return st.Organization(ctx, "org1") },
				"OrganizationBySSOName": func() (*sso.Organization, error) { return st.OrganizationBySSOName(ctx, "acme") },
				"OrganizationByDomain":  func() (*sso.Organization, error) { return st.OrganizationByDomain(ctx, "acme.example") },
			} {
				if o, err := get(); err == nil || o != nil || errors.Is(err, sso.ErrNotFound) || !strings.Contains(err.Error(), "domains") {
					t.Errorf("%s(domains %q) = %+v, %v; want an error naming the column", name, c, o, err)
				}
			}
		}
		if o, err := st.Organization(ctx, "org2"); err != nil || !reflect.DeepEqual(o, org("org2", "globex")) {
			t.Errorf("Organization(org2) beside a corrupt row = %+v, %v; want it", o, err)
		}
		if err := st.SaveOrganization(ctx, acme); err != nil {
			t.Fatal(err)
		}
		if o, err := st.OrganizationByDomain(ctx, "acme.example"); err != nil || !reflect.DeepEqual(o, acme) {
			t.Errorf("OrganizationByDomain(acme.example) saved again = %+v, %v; want it", o, err)
		}
	})
}
