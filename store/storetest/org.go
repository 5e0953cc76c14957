package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/sso"
)

var orgTests = []test{
	{"Lookup", testOrgLookup},
	{"Replace", testOrgReplace},
	{"SSONameUniqueness", testSSONameUniqueness},
	{"RoundTrip", testOrgRoundTrip},
	{"FixturesFullyPopulated", testFixturesFullyPopulated},
	{"Copies", testOrgCopies},
}

func testOrgLookup(t *testing.T, ctx context.Context, st Store) {
	acme := fullOrg("org1", "acme")
	draft := &sso.Organization{ID: "draft"} // no SSO name yet
	for _, o := range []*sso.Organization{acme, draft} {
		if err := st.SaveOrganization(ctx, o); err != nil {
			t.Fatalf("SaveOrganization(%q) err = %v; want nil", o.ID, err)
		}
	}
	tests := []struct {
		name    string
		byName  bool
		key     string
		want    *sso.Organization
		wantErr error
	}{
		{name: "by ID", key: "org1", want: acme},
		{name: "draft by ID", key: "draft", want: draft},
		{name: "unknown ID", key: "org2", wantErr: sso.ErrNotFound},
		{name: "empty ID", key: "", wantErr: sso.ErrNotFound},
		{name: "ID is case-sensitive", key: "ORG1", wantErr: sso.ErrNotFound},
		{name: "by SSO name", byName: true, key: "acme", want: acme},
		{name: "unknown SSO name", byName: true, key: "globex", wantErr: sso.ErrNotFound},
		{name: "SSO name is case-sensitive", byName: true, key: "ACME", wantErr: sso.ErrNotFound},
		{name: "SSO name is not trimmed", byName: true, key: "acme ", wantErr: sso.ErrNotFound},
		{name: "empty SSO name finds no draft", byName: true, key: "", wantErr: sso.ErrNotFound},
		{name: "ID is not an SSO name", byName: true, key: "org1", wantErr: sso.ErrNotFound},
		{name: "SSO name is not an ID", key: "acme", wantErr: sso.ErrNotFound},
		{name: "SQL-looking name", byName: true, key: "' OR '1'='1", wantErr: sso.ErrNotFound},
		{name: "SQL-looking ID", key: "x' OR 1=1 --", wantErr: sso.ErrNotFound},
	}
	for _, tt := range tests {
		var got *sso.Organization
		var err error
		if tt.byName {
			got, err = st.OrganizationBySSOName(ctx, tt.key)
		} else {
			got, err = st.Organization(ctx, tt.key)
		}
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: lookup(%q) err = %v; want %v", tt.name, tt.key, err, tt.wantErr)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: lookup(%q) = %+v; want %+v", tt.name, tt.key, got, tt.want)
		}
	}
}

func testOrgReplace(t *testing.T, ctx context.Context, st Store) {
	if err := st.SaveOrganization(ctx, fullOrg("org1", "acme")); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveOrganization(ctx, fullOrg("org2", "globex")); err != nil {
		t.Fatal(err)
	}
	updated := fullOrg("org1", "acme")
	updated.Enabled = false
	updated.IdP.Certificates = []string{"-----BEGIN CERTIFICATE-----\nC\n-----END CERTIFICATE-----\n"}
	updated.RoleMapping.Mappings = updated.RoleMapping.Mappings[1:]
	updated.Attributes.Roles = nil
	updated.SessionTimeout = 0
	if err := st.SaveOrganization(ctx, updated); err != nil {
		t.Fatalf("SaveOrganization(same ID, same name) err = %v; want nil", err)
	}
	for _, get := range []func() (*sso.Organization, error){
		func() (*sso.Organization, error) { return st.Organization(ctx, "org1") },
		func() (*sso.Organization, error) { return st.OrganizationBySSOName(ctx, "acme") },
	} {
		got, err := get()
		if err != nil {
			t.Fatalf("lookup after replace err = %v; want nil", err)
		}
		if !reflect.DeepEqual(got, updated) {
			t.Errorf("lookup after replace = %+v; want %+v", got, updated)
		}
	}
	// The other organization is untouched.
	if got, err := st.Organization(ctx, "org2"); err != nil || !reflect.DeepEqual(got, fullOrg("org2", "globex")) {
		t.Errorf("Organization(org2) = %+v, %v; want it unchanged", got, err)
	}
}

// testSSONameUniqueness runs a sequence of saves; each step's error and the
// resulting name -> ID index are checked.
func testSSONameUniqueness(t *testing.T, ctx context.Context, st Store) {
	steps := []struct {
		name    string
		id, sso string
		wantErr error
		names   map[string]string // SSO name -> wanted org ID ("" = not found)
	}{
		{name: "create acme", id: "org1", sso: "acme", names: map[string]string{"acme": "org1"}},
		{name: "other org takes acme", id: "org2", sso: "acme", wantErr: sso.ErrSSONameTaken,
			names: map[string]string{"acme": "org1"}},
		{name: "refused org was not created", id: "org2", sso: "globex", names: map[string]string{"acme": "org1", "globex": "org2"}},
		{name: "save again under its own name", id: "org1", sso: "acme", names: map[string]string{"acme": "org1"}},
		{name: "rename acme to acme-corp", id: "org1", sso: "acme-corp",
			names: map[string]string{"acme": "", "acme-corp": "org1", "globex": "org2"}},
		{name: "freed name is free", id: "org3", sso: "acme",
			names: map[string]string{"acme": "org3", "acme-corp": "org1"}},
		{name: "rename onto a taken name", id: "org1", sso: "globex", wantErr: sso.ErrSSONameTaken,
			names: map[string]string{"globex": "org2", "acme-corp": "org1"}},
		{name: "names differing in case are different", id: "org6", sso: "Globex", names: map[string]string{"Globex": "org6", "globex": "org2"}},
		{name: "clear the name", id: "org2", sso: "", names: map[string]string{"globex": "", "": ""}},
		{name: "two drafts without a name", id: "org4", sso: "", names: map[string]string{"": ""}},
		{name: "cleared name is free", id: "org5", sso: "globex", names: map[string]string{"globex": "org5"}},
	}
	for _, s := range steps {
		err := st.SaveOrganization(ctx, &sso.Organization{ID: s.id, SSOName: s.sso})
		if !errors.Is(err, s.wantErr) {
			t.Fatalf("%s: SaveOrganization(%q, %q) err = %v; want %v", s.name, s.id, s.sso, err, s.wantErr)
		}
		for name, wantID := range s.names {
			got, err := st.OrganizationBySSOName(ctx, name)
			switch {
			case wantID == "" && !errors.Is(err, sso.ErrNotFound):
				t.Errorf("%s: OrganizationBySSOName(%q) = %+v, %v; want ErrNotFound", s.name, name, got, err)
			case wantID != "" && (err != nil || got.ID != wantID):
				t.Errorf("%s: OrganizationBySSOName(%q) = %+v, %v; want ID %q", s.name, name, got, err, wantID)
			}
		}
	}
	// A refused rename left org1 unchanged; the drafts are there.
	if got, err := st.Organization(ctx, "org1"); err != nil || got.SSOName != "acme-corp" {
		t.Errorf("Organization(org1) = %+v, %v; want SSO name acme-corp", got, err)
	}
	for _, id := range []string{"org2", "org4"} {
		if got, err := st.Organization(ctx, id); err != nil || got.SSOName != "" {
			t.Errorf("Organization(%s) = %+v, %v; want a draft", id, got, err)
		}
	}
}

// testOrgRoundTrip saves organizations of every shape and reads each back,
// by ID and by SSO name, exactly.
func testOrgRoundTrip(t *testing.T, ctx context.Context, st Store) {
	unusual := fullOrg("org-unusual", "unusual")
	unusual.OwnerID = "Ωmega 👩‍💻 \"quoted\" 'single' \\ back\nslash\ttab"
	unusual.IdP.Certificates = []string{strings.Repeat("MIIC"+strings.Repeat("A", 60)+"\n", 200)} // ~13 KB
	unusual.IdP.EntityID = "urn:example:idp?x=1&y=%20"
	unusual.SessionTimeout = time.Hour + time.Nanosecond
	unusual.RoleMapping.Delimiter = "||"
	unusual.RoleMapping.Mappings = []rolemap.Mapping{
		{IdPRole: "Ünïcödé Group", OrgRole: rolemap.RoleMember, StackRoles: map[string][]string{"": {""}, "null": {"null", "[]"}}},
		{IdPRole: "", OrgRole: ""},
	}
	unusual.Attributes = sso.AttributeNames{Email: []string{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"}}

	orgs := []*sso.Organization{
		fullOrg("org-full", "full"),
		{ID: "org-zero"},
		{ID: "org-empty", IdP: sso.IdPConfig{Certificates: []string{}},
			RoleMapping: rolemap.Config{Mappings: []rolemap.Mapping{
				{StackRoles: map[string][]string{}},
				{StackRoles: map[string][]string{"s": {}}},
				{StackRoles: map[string][]string{"s": nil}},
			}},
			Attributes: sso.AttributeNames{Email: []string{}, Roles: []string{""}}},
		{ID: "org-no-mappings", RoleMapping: rolemap.Config{Enabled: true, Mappings: []rolemap.Mapping{}}},
		unusual,
		{ID: "org-max-timeout", SSOName: "max", SessionTimeout: math.MaxInt64, Version: math.MaxInt64, SSOEpoch: math.MaxInt64},
		{ID: "org-negative-timeout", SessionTimeout: -time.Second, Version: math.MinInt64, SSOEpoch: -1},
	}
	for _, o := range orgs {
		if err := st.SaveOrganization(ctx, o); err != nil {
			t.Errorf("SaveOrganization(%q) err = %v; want nil", o.ID, err)
			continue
		}
		got, err := st.Organization(ctx, o.ID)
		if err != nil || !reflect.DeepEqual(got, o) {
			t.Errorf("Organization(%q) = %#v, %v; want %#v", o.ID, got, err, o)
		}
		if o.SSOName == "" {
			continue
		}
		got, err = st.OrganizationBySSOName(ctx, o.SSOName)
		if err != nil || !reflect.DeepEqual(got, o) {
			t.Errorf("OrganizationBySSOName(%q) = %#v, %v; want %#v", o.SSOName, got, err, o)
		}
	}
}

// testFixturesFullyPopulated keeps the suite honest: when a field is added
// to a stored type, the fixtures must set it, so the round trips see it.
func testFixturesFullyPopulated(t *testing.T, _ context.Context, _ Store) {
	for name, v := range map[string]any{
		"Organization":   fullOrg("org1", "acme"),
		"Member":         fullMember("org1", "ada@example.com"),
		"Session":        fullSession("s1", "org1", "sso", t0),
		"PendingRequest": fullRequest("r", "o"),
	} {
		if zero := zeroFields(reflect.ValueOf(v), name); len(zero) > 0 {
			t.Errorf("storetest fixture leaves %v zero; set every field so round trips test it", zero)
		}
	}
}

// mutateOrg changes every slice and map of o in place.
func mutateOrg(o *sso.Organization) {
	o.SSOName = "changed"
	o.IdPMetadataURL = "https://changed.example/metadata"
	o.IdP.Certificates[0] = "changed"
	o.IdP.Certificates = append(o.IdP.Certificates, "appended")
	o.RoleMapping.Mappings[0].IdPRole = "changed"
	o.RoleMapping.Mappings[0].StackRoles["stack1"][0] = "changed"
	o.RoleMapping.Mappings[0].StackRoles["new-stack"] = []string{"x"}
	o.RoleMapping.Mappings[1].StackRoles["stack2"] = nil
	o.RoleMapping.Mappings = append(o.RoleMapping.Mappings, rolemap.Mapping{IdPRole: "appended"})
	o.Attributes.Email[0] = "changed"
	o.Attributes.FirstName[0] = "changed"
	o.Attributes.LastName[0] = "changed"
	o.Attributes.Roles[1] = "changed"
	o.MFA.IdPValues[0] = "changed"
	mutateConnections(o)
}

// mutateConnections changes every slice of o's connections in place, and
// the list itself. o has fullOrg's connections.
func mutateConnections(o *sso.Organization) {
	for i := range o.Connections {
		c := &o.Connections[i]
		c.ID, c.Name, c.Enabled, c.Epoch = "changed", "changed", !c.Enabled, c.Epoch+1
		c.MetadataURL = "https://changed.example/" + c.MetadataURL
		if len(c.SAML.Certificates) > 0 {
			c.SAML.Certificates[0] = "changed"
		}
		c.SAML.Certificates = append(c.SAML.Certificates, "appended")
		if len(c.OIDC.Scopes) > 0 {
			c.OIDC.Scopes[0] = "changed"
		}
		c.OIDC.Scopes = append(c.OIDC.Scopes, "appended")
		c.OIDC.ClientSecret = "changed"
		c.Attributes.Email[0] = "changed"
		c.Attributes.FirstName[0] = "changed"
		c.Attributes.LastName[0] = "changed"
		c.Attributes.Roles[0] = "changed"
		c.Domains[0] = "changed.example"
		c.Domains = append(c.Domains, "appended.example")
	}
	o.Connections = append(o.Connections, sso.Connection{ID: "appended"})
}

// testOrgCopies: changing a value after saving it, or one a lookup
// returned, does not change what the store holds.
func testOrgCopies(t *testing.T, ctx context.Context, st Store) {
	saved := fullOrg("org1", "acme")
	want := fullOrg("org1", "acme")
	if err := st.SaveOrganization(ctx, saved); err != nil {
		t.Fatal(err)
	}
	mutateOrg(saved)
	for _, lookup := range []struct {
		name string
		get  func() (*sso.Organization, error)
	}{
		{"Organization", func() (*sso.Organization, error) { return st.Organization(ctx, "org1") }},
		{"OrganizationBySSOName", func() (*sso.Organization, error) { return st.OrganizationBySSOName(ctx, "acme") }},
	} {
		got1, err := lookup.get()
		if err != nil {
			t.Fatalf("%s() err = %v; want nil", lookup.name, err)
		}
		if !reflect.DeepEqual(got1, want) {
			t.Fatalf("%s() after mutating the saved value = %+v; want %+v", lookup.name, got1, want)
		}
		mutateOrg(got1)
		if got2, err := lookup.get(); err != nil || !reflect.DeepEqual(got2, want) {
			t.Errorf("%s() after mutating a returned value = %+v, %v; want %+v", lookup.name, got2, err, want)
		}
	}
}

// orgName returns a distinct SSO name for i.
func orgName(i int) string { return fmt.Sprintf("org-%03d", i) }
