package memory_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/memory"
)

func TestOrganization(t *testing.T) {
	ctx := t.Context()
	st := memory.New()
	acme := fullOrg("org1", "acme")
	if err := st.SaveOrganization(ctx, acme); err != nil {
		t.Fatalf("SaveOrganization() err = %v; want nil", err)
	}
	draft := &sso.Organization{ID: "draft"} // no SSO name yet
	if err := st.SaveOrganization(ctx, draft); err != nil {
		t.Fatalf("SaveOrganization(draft) err = %v; want nil", err)
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
		{name: "by SSO name", byName: true, key: "acme", want: acme},
		{name: "unknown SSO name", byName: true, key: "globex", wantErr: sso.ErrNotFound},
		{name: "SSO name is case-sensitive", byName: true, key: "ACME", wantErr: sso.ErrNotFound},
		{name: "empty SSO name", byName: true, key: "", wantErr: sso.ErrNotFound},
		{name: "ID is not an SSO name", byName: true, key: "org1", wantErr: sso.ErrNotFound},
		{name: "SSO name is not an ID", key: "acme", wantErr: sso.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *sso.Organization
			var err error
			if tt.byName {
				got, err = st.OrganizationBySSOName(ctx, tt.key)
			} else {
				got, err = st.Organization(ctx, tt.key)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("lookup(%q) err = %v; want %v", tt.key, err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("lookup(%q) = %+v; want %+v", tt.key, got, tt.want)
			}
		})
	}
}

func TestSaveOrganizationReplaces(t *testing.T) {
	ctx := t.Context()
	st := memory.New()
	if err := st.SaveOrganization(ctx, fullOrg("org1", "acme")); err != nil {
		t.Fatal(err)
	}
	updated := fullOrg("org1", "acme")
	updated.Enabled = false
	updated.IdP.Certificates = nil
	if err := st.SaveOrganization(ctx, updated); err != nil {
		t.Fatalf("SaveOrganization(same ID, same name) err = %v; want nil", err)
	}
	got, err := st.Organization(ctx, "org1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, updated) {
		t.Errorf("Organization() = %+v; want %+v", got, updated)
	}
}

// TestSSONameUniqueness runs a sequence of saves; each step's error and the
// resulting name -> ID index are checked.
func TestSSONameUniqueness(t *testing.T) {
	ctx := t.Context()
	st := memory.New()
	steps := []struct {
		name    string
		id, sso string
		wantErr error
		names   map[string]string // SSO name -> wanted org ID ("" = not found)
	}{
		{name: "create acme", id: "org1", sso: "acme", names: map[string]string{"acme": "org1"}},
		{name: "other org takes acme", id: "org2", sso: "acme", wantErr: sso.ErrSSONameTaken,
			names: map[string]string{"acme": "org1"}},
		{name: "create globex", id: "org2", sso: "globex", names: map[string]string{"acme": "org1", "globex": "org2"}},
		{name: "rename acme to acme-corp", id: "org1", sso: "acme-corp",
			names: map[string]string{"acme": "", "acme-corp": "org1", "globex": "org2"}},
		{name: "freed name is free", id: "org3", sso: "acme",
			names: map[string]string{"acme": "org3", "acme-corp": "org1"}},
		{name: "rename onto a taken name", id: "org1", sso: "globex", wantErr: sso.ErrSSONameTaken,
			names: map[string]string{"globex": "org2", "acme-corp": "org1"}},
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
	// A refused rename left org1 unchanged.
	if got, err := st.Organization(ctx, "org1"); err != nil || got.SSOName != "acme-corp" {
		t.Errorf("Organization(org1) = %+v, %v; want SSO name acme-corp", got, err)
	}
}

func TestMember(t *testing.T) {
	ctx := t.Context()
	st := memory.New()
	ada1 := fullMember("org1", "Ada@Example.com")
	ada2 := fullMember("org2", "ada@example.com")
	ada2.FirstName = "Other Ada"
	ada2.AllowWithoutSSO = false
	for _, m := range []*sso.Member{ada1, ada2} {
		if err := st.SaveMember(ctx, m); err != nil {
			t.Fatalf("SaveMember(%s, %s) err = %v; want nil", m.OrgID, m.Email, err)
		}
	}

	tests := []struct {
		name         string
		orgID, email string
		want         *sso.Member
		wantErr      error
	}{
		{name: "exact email", orgID: "org1", email: "Ada@Example.com", want: ada1},
		{name: "lowercase email", orgID: "org1", email: "ada@example.com", want: ada1},
		{name: "uppercase email", orgID: "org1", email: "ADA@EXAMPLE.COM", want: ada1},
		{name: "same email, other org", orgID: "org2", email: "ADA@example.com", want: ada2},
		{name: "unknown org", orgID: "org3", email: "ada@example.com", wantErr: sso.ErrNotFound},
		{name: "unknown email", orgID: "org1", email: "bob@example.com", wantErr: sso.ErrNotFound},
		{name: "empty", wantErr: sso.ErrNotFound},
		{name: "email is not trimmed", orgID: "org1", email: " ada@example.com", wantErr: sso.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := st.Member(ctx, tt.orgID, tt.email)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Member(%q, %q) err = %v; want %v", tt.orgID, tt.email, err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Member(%q, %q) = %+v; want %+v", tt.orgID, tt.email, got, tt.want)
			}
		})
	}
}

func TestSaveMemberReplacesCaseInsensitively(t *testing.T) {
	ctx := t.Context()
	st := memory.New()
	if err := st.SaveMember(ctx, fullMember("org1", "ada@example.com")); err != nil {
		t.Fatal(err)
	}
	replacement := fullMember("org1", "ADA@example.com")
	replacement.LastName = "Byron"
	if err := st.SaveMember(ctx, replacement); err != nil {
		t.Fatalf("SaveMember(replacement) err = %v; want nil", err)
	}
	got, err := st.Member(ctx, "org1", "ada@EXAMPLE.com")
	if err != nil {
		t.Fatalf("Member() err = %v; want nil", err)
	}
	if !reflect.DeepEqual(got, replacement) {
		t.Errorf("Member() = %+v; want the replacement %+v (email kept as given)", got, replacement)
	}
}
