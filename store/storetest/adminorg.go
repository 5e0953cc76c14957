package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

var createOrgTests = []test{
	{"Steps", testCreateOrganization},
	{"RoundTrip", testCreateOrganizationRoundTrip},
	{"Copies", testCreateOrganizationCopies},
}

var updateOrgTests = []test{
	{"Steps", testUpdateOrganization},
	{"FromSavedVersion", testUpdateOrganizationFromSaved},
	{"Copies", testUpdateOrganizationCopies},
}

// withVersion returns o with Version v.
func withVersion(o *sso.Organization, v int64) *sso.Organization {
	o.Version = v
	return o
}

// checkOrgs checks, by ID and by SSO name, what the store holds: want maps
// an organization ID to the organization it must hold (nil = none); names
// maps an SSO name to the ID of its organization ("" = none).
func checkOrgs(t *testing.T, ctx context.Context, st Store, step string, want map[string]*sso.Organization, names map[string]string) {
	t.Helper()
	for id, w := range want {
		got, err := st.Organization(ctx, id)
		switch {
		case w == nil && !errors.Is(err, sso.ErrNotFound):
			t.Errorf("%s: Organization(%q) = %+v, %v; want ErrNotFound", step, id, got, err)
		case w != nil && (err != nil || !reflect.DeepEqual(got, w)):
			t.Errorf("%s: Organization(%q) = %+v, %v; want %+v", step, id, got, err, w)
		}
	}
	for name, id := range names {
		got, err := st.OrganizationBySSOName(ctx, name)
		switch {
		case id == "" && !errors.Is(err, sso.ErrNotFound):
			t.Errorf("%s: OrganizationBySSOName(%q) = %+v, %v; want ErrNotFound", step, name, got, err)
		case id != "" && (err != nil || got.ID != id):
			t.Errorf("%s: OrganizationBySSOName(%q) = %+v, %v; want organization %q", step, name, got, err, id)
		}
	}
}

// testCreateOrganization runs creations in order on one store: each step's
// error, the Version it leaves in the argument, and what the store then
// holds are checked. Nothing is written on error.
func testCreateOrganization(t *testing.T, ctx context.Context, st Store) {
	if err := st.SaveOrganization(ctx, fullOrg("saved", "saved-name")); err != nil {
		t.Fatal(err)
	}
	acme := withVersion(fullOrg("org1", "acme"), 1)
	steps := []struct {
		name        string
		org         *sso.Organization
		wantErr     error
		wantVersion int64 // of the argument after the call
		want        map[string]*sso.Organization
		names       map[string]string
	}{
		{name: "create, from Version 0", org: withVersion(fullOrg("org1", "acme"), 0), wantVersion: 1,
			want: map[string]*sso.Organization{"org1": acme}, names: map[string]string{"acme": "org1"}},
		{name: "same ID, other name", org: fullOrg("org1", "other"), wantErr: sso.ErrDuplicateID, wantVersion: 3,
			want: map[string]*sso.Organization{"org1": acme}, names: map[string]string{"other": "", "acme": "org1"}},
		{name: "same ID, same name", org: fullOrg("org1", "acme"), wantErr: sso.ErrDuplicateID, wantVersion: 3,
			want: map[string]*sso.Organization{"org1": acme}},
		{name: "same ID, a name another organization holds: ErrDuplicateID first", org: fullOrg("org1", "saved-name"),
			wantErr: sso.ErrDuplicateID, wantVersion: 3,
			want: map[string]*sso.Organization{"org1": acme}, names: map[string]string{"saved-name": "saved", "acme": "org1"}},
		{name: "same ID, a draft", org: &sso.Organization{ID: "org1"}, wantErr: sso.ErrDuplicateID,
			want: map[string]*sso.Organization{"org1": acme}},
		{name: "ID of an organization saved by SaveOrganization", org: fullOrg("saved", "fresh"), wantErr: sso.ErrDuplicateID, wantVersion: 3,
			want: map[string]*sso.Organization{"saved": fullOrg("saved", "saved-name")}, names: map[string]string{"fresh": ""}},
		{name: "taken name", org: fullOrg("org2", "acme"), wantErr: sso.ErrSSONameTaken, wantVersion: 3,
			want: map[string]*sso.Organization{"org2": nil, "org1": acme}, names: map[string]string{"acme": "org1"}},
		{name: "name taken by SaveOrganization", org: fullOrg("org2", "saved-name"), wantErr: sso.ErrSSONameTaken, wantVersion: 3,
			want: map[string]*sso.Organization{"org2": nil}, names: map[string]string{"saved-name": "saved"}},
		{name: "names differing in case are different", org: fullOrg("org2", "Acme"), wantVersion: 1,
			want: map[string]*sso.Organization{"org2": withVersion(fullOrg("org2", "Acme"), 1)}, names: map[string]string{"Acme": "org2", "acme": "org1"}},
		{name: "IDs differing in case are different", org: &sso.Organization{ID: "ORG1", Version: -5}, wantVersion: 1,
			want: map[string]*sso.Organization{"ORG1": {ID: "ORG1", Version: 1}, "org1": acme}},
		{name: "a draft", org: &sso.Organization{ID: "draft1"}, wantVersion: 1,
			want: map[string]*sso.Organization{"draft1": {ID: "draft1", Version: 1}}, names: map[string]string{"": ""}},
		{name: "another draft: an empty name is never taken", org: &sso.Organization{ID: "draft2", SSOEpoch: 4}, wantVersion: 1,
			want: map[string]*sso.Organization{"draft2": {ID: "draft2", Version: 1, SSOEpoch: 4}}},
		{name: "nil", wantErr: session.ErrInvalidArgument},
		{name: "no ID", org: &sso.Organization{SSOName: "no-id", Version: 2}, wantErr: session.ErrInvalidArgument, wantVersion: 2,
			want: map[string]*sso.Organization{"": nil}, names: map[string]string{"no-id": ""}},
	}
	for _, s := range steps {
		err := st.CreateOrganization(ctx, s.org)
		if !errors.Is(err, s.wantErr) {
			t.Errorf("%s: CreateOrganization() err = %v; want %v", s.name, err, s.wantErr)
		}
		if s.org != nil && s.org.Version != s.wantVersion {
			t.Errorf("%s: org.Version after CreateOrganization() = %d; want %d", s.name, s.org.Version, s.wantVersion)
		}
		checkOrgs(t, ctx, st, s.name, s.want, s.names)
	}
}

// testCreateOrganizationRoundTrip: every field is stored exactly, with
// Version 1 and SSOEpoch as given, whatever Version the argument had.
func testCreateOrganizationRoundTrip(t *testing.T, ctx context.Context, st Store) {
	orgs := []*sso.Organization{
		fullOrg("org-full", "full"),
		{ID: "org-zero"},
		{ID: "org-epoch", SSOEpoch: 1 << 40, Version: 1 << 40},
	}
	for _, o := range orgs {
		want := *o // shallow: only Version changes
		want.Version = 1
		if err := st.CreateOrganization(ctx, o); err != nil {
			t.Errorf("CreateOrganization(%q) err = %v; want nil", o.ID, err)
			continue
		}
		if !reflect.DeepEqual(o, &want) {
			t.Errorf("CreateOrganization(%q) left the argument %+v; want %+v", o.ID, o, &want)
		}
		checkOrgs(t, ctx, st, "round trip", map[string]*sso.Organization{o.ID: &want}, nil)
		if o.SSOName != "" {
			checkOrgs(t, ctx, st, "round trip", nil, map[string]string{o.SSOName: o.ID})
		}
	}
}

// testCreateOrganizationCopies: changing the argument after
// CreateOrganization does not change what the store holds.
func testCreateOrganizationCopies(t *testing.T, ctx context.Context, st Store) {
	o := fullOrg("org1", "acme")
	if err := st.CreateOrganization(ctx, o); err != nil {
		t.Fatal(err)
	}
	mutateOrg(o)
	checkOrgs(t, ctx, st, "after mutating the argument", map[string]*sso.Organization{"org1": withVersion(fullOrg("org1", "acme"), 1)},
		map[string]string{"acme": "org1", "changed": ""})
}

// testUpdateOrganization runs updates in order on one store holding org1
// (acme) and org2 (globex), both at Version 1: each step's error, the
// Version it leaves in the argument, and what the store then holds are
// checked. Nothing is written on error.
func testUpdateOrganization(t *testing.T, ctx context.Context, st Store) {
	for _, o := range []*sso.Organization{fullOrg("org1", "acme"), fullOrg("org2", "globex")} {
		if err := st.CreateOrganization(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	globex := withVersion(fullOrg("org2", "globex"), 1)
	v2 := withVersion(fullOrg("org1", "acme"), 1)
	v2.Enabled = false
	v2.SSOEpoch = 3
	v2.IdP.Certificates = []string{"-----BEGIN CERTIFICATE-----\nC\n-----END CERTIFICATE-----\n"}
	v2.RoleMapping.Mappings = nil
	want2 := *v2
	want2.Version = 2
	// edit returns a copy of want2's organization at Version v, with the SSO
	// name name.
	edit := func(v int64, name string) *sso.Organization {
		c := fullOrg("org1", name)
		c.Enabled, c.SSOEpoch, c.IdP.Certificates, c.RoleMapping.Mappings = want2.Enabled, want2.SSOEpoch, want2.IdP.Certificates, nil
		c.Version = v
		return c
	}
	steps := []struct {
		name        string
		org         *sso.Organization
		wantErr     error
		wantVersion int64
		want        map[string]*sso.Organization
		names       map[string]string
	}{
		{name: "update from Version 1", org: v2, wantVersion: 2,
			want: map[string]*sso.Organization{"org1": &want2, "org2": globex}, names: map[string]string{"acme": "org1"}},
		{name: "stale Version", org: withVersion(fullOrg("org1", "acme"), 1), wantErr: sso.ErrConflict, wantVersion: 1,
			want: map[string]*sso.Organization{"org1": &want2}},
		{name: "stale Version and a new name", org: withVersion(fullOrg("org1", "acme-new"), 1), wantErr: sso.ErrConflict, wantVersion: 1,
			want: map[string]*sso.Organization{"org1": &want2}, names: map[string]string{"acme": "org1", "acme-new": ""}},
		{name: "stale Version and a taken name: ErrConflict first", org: withVersion(fullOrg("org1", "globex"), 1), wantErr: sso.ErrConflict, wantVersion: 1,
			want: map[string]*sso.Organization{"org1": &want2}, names: map[string]string{"globex": "org2"}},
		{name: "Version from the future", org: withVersion(fullOrg("org1", "acme"), 3), wantErr: sso.ErrConflict, wantVersion: 3,
			want: map[string]*sso.Organization{"org1": &want2}},
		{name: "Version 0", org: withVersion(fullOrg("org1", "acme"), 0), wantErr: sso.ErrConflict,
			want: map[string]*sso.Organization{"org1": &want2}},
		{name: "unknown ID", org: withVersion(fullOrg("org9", "initech"), 1), wantErr: sso.ErrNotFound, wantVersion: 1,
			want: map[string]*sso.Organization{"org9": nil}, names: map[string]string{"initech": ""}},
		{name: "unknown ID is case-sensitive", org: withVersion(fullOrg("ORG1", "acme"), 2), wantErr: sso.ErrNotFound, wantVersion: 2,
			want: map[string]*sso.Organization{"ORG1": nil, "org1": &want2}},
		{name: "taken name", org: edit(2, "globex"), wantErr: sso.ErrSSONameTaken, wantVersion: 2,
			want: map[string]*sso.Organization{"org1": &want2, "org2": globex}, names: map[string]string{"globex": "org2", "acme": "org1"}},
		{name: "same edit, retried", org: edit(2, "acme"), wantVersion: 3,
			want: map[string]*sso.Organization{"org1": edit(3, "acme")}},
		{name: "rename", org: edit(3, "acme-corp"), wantVersion: 4,
			want: map[string]*sso.Organization{"org1": edit(4, "acme-corp")}, names: map[string]string{"acme": "", "acme-corp": "org1"}},
		{name: "clear the name", org: edit(4, ""), wantVersion: 5,
			want: map[string]*sso.Organization{"org1": edit(5, "")}, names: map[string]string{"acme-corp": ""}},
		{name: "the other organization takes the freed name", org: withVersion(fullOrg("org2", "acme-corp"), 1), wantVersion: 2,
			want: map[string]*sso.Organization{"org2": withVersion(fullOrg("org2", "acme-corp"), 2)}, names: map[string]string{"globex": "", "acme-corp": "org2"}},
		{name: "nil", wantErr: session.ErrInvalidArgument},
		{name: "no ID", org: withVersion(fullOrg("", "acme"), 5), wantErr: session.ErrInvalidArgument, wantVersion: 5,
			want: map[string]*sso.Organization{"org1": edit(5, "")}, names: map[string]string{"acme": ""}},
	}
	for _, s := range steps {
		err := st.UpdateOrganization(ctx, s.org)
		if !errors.Is(err, s.wantErr) {
			t.Errorf("%s: UpdateOrganization() err = %v; want %v", s.name, err, s.wantErr)
		}
		if s.org != nil && s.org.Version != s.wantVersion {
			t.Errorf("%s: org.Version after UpdateOrganization() = %d; want %d", s.name, s.org.Version, s.wantVersion)
		}
		checkOrgs(t, ctx, st, s.name, s.want, s.names)
	}
}

// testUpdateOrganizationFromSaved: SaveOrganization stores Version as given,
// and UpdateOrganization goes on from it.
func testUpdateOrganizationFromSaved(t *testing.T, ctx context.Context, st Store) {
	if err := st.SaveOrganization(ctx, withVersion(fullOrg("org1", "acme"), 41)); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveOrganization(ctx, &sso.Organization{ID: "draft"}); err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateOrganization(ctx, withVersion(fullOrg("org1", "acme"), 1)); !errors.Is(err, sso.ErrConflict) {
		t.Errorf("UpdateOrganization(Version 1 of a saved Version 41) err = %v; want ErrConflict", err)
	}
	o := withVersion(fullOrg("org1", "acme"), 41)
	if err := st.UpdateOrganization(ctx, o); err != nil || o.Version != 42 {
		t.Errorf("UpdateOrganization(Version 41) = %v, Version %d; want nil, 42", err, o.Version)
	}
	d := &sso.Organization{ID: "draft", SSOName: "drafted"}
	if err := st.UpdateOrganization(ctx, d); err != nil || d.Version != 1 {
		t.Errorf("UpdateOrganization(a draft saved at Version 0) = %v, Version %d; want nil, 1", err, d.Version)
	}
	checkOrgs(t, ctx, st, "after the updates", map[string]*sso.Organization{
		"org1":  withVersion(fullOrg("org1", "acme"), 42),
		"draft": {ID: "draft", SSOName: "drafted", Version: 1},
	}, map[string]string{"drafted": "draft"})
	// SaveOrganization still replaces whatever the Version.
	if err := st.SaveOrganization(ctx, withVersion(fullOrg("org1", "acme"), 7)); err != nil {
		t.Fatal(err)
	}
	checkOrgs(t, ctx, st, "after SaveOrganization", map[string]*sso.Organization{"org1": withVersion(fullOrg("org1", "acme"), 7)}, nil)
}

// testUpdateOrganizationCopies: changing the argument after
// UpdateOrganization does not change what the store holds.
func testUpdateOrganizationCopies(t *testing.T, ctx context.Context, st Store) {
	if err := st.CreateOrganization(ctx, fullOrg("org1", "acme")); err != nil {
		t.Fatal(err)
	}
	o := withVersion(fullOrg("org1", "acme"), 1)
	if err := st.UpdateOrganization(ctx, o); err != nil {
		t.Fatal(err)
	}
	mutateOrg(o)
	checkOrgs(t, ctx, st, "after mutating the argument", map[string]*sso.Organization{"org1": withVersion(fullOrg("org1", "acme"), 2)},
		map[string]string{"acme": "org1", "changed": ""})
}
