package memory_test

import (
	"reflect"
	"testing"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/memory"
)

// TestFixturesFullyPopulated keeps the copy tests honest: when a field is
// added to Organization or Member, the fixtures must set it, so the copy
// tests below see it.
func TestFixturesFullyPopulated(t *testing.T) {
	for name, v := range map[string]any{
		"Organization": fullOrg("org1", "acme"),
		"Member":       fullMember("org1", "ada@example.com"),
		"Session":      newSession("s1", "org1", "sso", t0),
		"PendingRequest": &sso.PendingRequest{
			ID: "r", OrgID: "o", ReturnTo: "/", TesterUserID: "u", ExpiresAt: t0,
		},
	} {
		if zero := zeroFields(reflect.ValueOf(v), name); len(zero) > 0 {
			t.Errorf("fixture leaves %v zero; set every field so deep copies are tested", zero)
		}
	}
}

// mutateOrg changes every slice and map of o in place.
func mutateOrg(o *sso.Organization) {
	o.SSOName = "changed"
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
}

// mutateMember changes every map and slice of m in place.
func mutateMember(m *sso.Member) {
	m.FirstName = "changed"
	m.StackRoles["stack1"][0] = "changed"
	m.StackRoles["stack2"] = append(m.StackRoles["stack2"][:1], "changed")
	m.StackRoles["new-stack"] = []string{"x"}
}

func TestOrganizationCopies(t *testing.T) {
	ctx := t.Context()
	st := memory.New()
	saved := fullOrg("org1", "acme")
	want := fullOrg("org1", "acme")
	if err := st.SaveOrganization(ctx, saved); err != nil {
		t.Fatal(err)
	}
	mutateOrg(saved) // the caller's value after saving

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
		got2, _ := lookup.get()
		noSharing(t, lookup.name+" twice", got1, got2)
		noSharing(t, lookup.name+" vs saved", got1, saved)
		mutateOrg(got1) // the caller's value after a lookup
		if got3, _ := lookup.get(); !reflect.DeepEqual(got3, want) {
			t.Errorf("%s() after mutating a returned value = %+v; want %+v", lookup.name, got3, want)
		}
	}
}

func TestMemberCopies(t *testing.T) {
	ctx := t.Context()
	st := memory.New()
	saved := fullMember("org1", "ada@example.com")
	want := fullMember("org1", "ada@example.com")
	if err := st.SaveMember(ctx, saved); err != nil {
		t.Fatal(err)
	}
	mutateMember(saved)
	got1, err := st.Member(ctx, "org1", "ada@example.com")
	if err != nil {
		t.Fatalf("Member() err = %v; want nil", err)
	}
	if !reflect.DeepEqual(got1, want) {
		t.Fatalf("Member() after mutating the saved value = %+v; want %+v", got1, want)
	}
	got2, _ := st.Member(ctx, "org1", "ada@example.com")
	noSharing(t, "Member twice", got1, got2)
	noSharing(t, "Member vs saved", got1, saved)
	mutateMember(got1)
	if got3, _ := st.Member(ctx, "org1", "ada@example.com"); !reflect.DeepEqual(got3, want) {
		t.Errorf("Member() after mutating a returned value = %+v; want %+v", got3, want)
	}
}

func TestRequestAndSessionCopies(t *testing.T) {
	ctx := t.Context()
	st := memory.New()

	req := &sso.PendingRequest{ID: "r", OrgID: "org1", ReturnTo: "/a", ExpiresAt: t0}
	if err := st.SaveRequest(ctx, req); err != nil {
		t.Fatal(err)
	}
	req.ReturnTo = "//evil.example.com"
	if got, err := st.ConsumeRequest(ctx, "r"); err != nil || got.ReturnTo != "/a" || got == req {
		t.Errorf("ConsumeRequest() = %+v, %v; want a copy with ReturnTo /a", got, err)
	}

	sess := newSession("s", "org1", "sso", t0)
	if err := st.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	sess.ExpiresAt = t0.AddDate(1, 0, 0)
	sess.OrgID = "org2"
	got, err := st.Session(ctx, "s")
	if err != nil || !got.ExpiresAt.Equal(t0) || got.OrgID != "org1" || got == sess {
		t.Fatalf("Session() = %+v, %v; want a copy expiring at %v in org1", got, err, t0)
	}
	got.ExpiresAt = t0.AddDate(1, 0, 0)
	if again, _ := st.Session(ctx, "s"); !again.ExpiresAt.Equal(t0) {
		t.Errorf("Session() after mutating a returned value expires at %v; want %v", again.ExpiresAt, t0)
	}
	// The index follows the stored OrgID, not the caller's mutated one.
	if n, _ := st.DeleteOrgSessions(ctx, "org2", ""); n != 0 {
		t.Errorf("DeleteOrgSessions(org2) = %d; want 0", n)
	}
	if n, _ := st.DeleteOrgSessions(ctx, "org1", ""); n != 1 {
		t.Errorf("DeleteOrgSessions(org1) = %d; want 1", n)
	}
}

// TestNilAndEmptyKeptApart: a copy keeps nil slices and maps nil, and empty
// ones empty, so a value round-trips exactly.
func TestNilAndEmptyKeptApart(t *testing.T) {
	ctx := t.Context()
	st := memory.New()
	orgs := []*sso.Organization{
		{ID: "nil"},
		{ID: "empty", IdP: sso.IdPConfig{Certificates: []string{}},
			RoleMapping: rolemap.Config{Mappings: []rolemap.Mapping{{StackRoles: map[string][]string{}}, {StackRoles: map[string][]string{"s": {}}}}}},
	}
	for _, o := range orgs {
		if err := st.SaveOrganization(ctx, o); err != nil {
			t.Fatal(err)
		}
		if got, err := st.Organization(ctx, o.ID); err != nil || !reflect.DeepEqual(got, o) {
			t.Errorf("Organization(%q) = %#v, %v; want %#v", o.ID, got, err, o)
		}
	}
	members := []*sso.Member{
		{OrgID: "o", Email: "nil@x"},
		{OrgID: "o", Email: "empty@x", StackRoles: map[string][]string{}},
		{OrgID: "o", Email: "emptyslice@x", StackRoles: map[string][]string{"s": {}}},
	}
	for _, m := range members {
		if err := st.SaveMember(ctx, m); err != nil {
			t.Fatal(err)
		}
		if got, err := st.Member(ctx, m.OrgID, m.Email); err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("Member(%q) = %#v, %v; want %#v", m.Email, got, err, m)
		}
	}
}
