package rolemap

import (
	"reflect"
	"testing"
	"time"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
)

func TestAcmeMappingIsValid(t *testing.T) {
	if err := AcmeMapping().Validate(); err != nil {
		t.Fatalf("Validate() err = %v", err)
	}
}

// TestAcmeMapping is the table the team grows: the groups a user has in the
// IdP, and what they must get.
func TestAcmeMapping(t *testing.T) {
	tests := []struct {
		name      string
		roles     string // one value, as Okta sends it
		wantRole  rolemap.OrgRole
		wantStack map[string][]string
	}{
		{"developer", "Contentstack Developers", rolemap.RoleMember, map[string][]string{"blog": {"developer"}}},
		{"developer and editor", "Contentstack Developers; Content Editors", rolemap.RoleMember,
			map[string][]string{"blog": {"developer", "editor"}, "docs": {"editor"}}},
		{"admin wins over member", "Content Editors;Admins", rolemap.RoleAdmin,
			map[string][]string{"blog": {"editor"}, "docs": {"editor"}}},
		{"unmapped group is denied", "Marketing", "", nil},
		{"case matters", "contentstack developers", "", nil},
	}
	cfg := AcmeMapping()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cfg.Map(rolemap.ParseRoles([]string{tt.roles}, cfg.Delimiter))
			if got.OrgRole != tt.wantRole || !reflect.DeepEqual(got.StackRoles, tt.wantStack) {
				t.Errorf("Map(%q) = %v %v; want %v %v", tt.roles, got.OrgRole, got.StackRoles, tt.wantRole, tt.wantStack)
			}
		})
	}
}

// TestAcmeMappingThroughSignedResponse goes through the real parsing path: a
// response signed by the test IdP, validated like production, its roles
// attribute split with the organization's delimiter and mapped.
func TestAcmeMappingThroughSignedResponse(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	idp, err := ssotest.New(ssotest.Config{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := sso.NewSPDetails("https://app.example.com", "acme")
	if err != nil {
		t.Fatal(err)
	}
	v, err := sso.NewValidator(sso.ValidatorConfig{SP: sp, IdP: idp.IdPConfig(), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	posted, err := idp.Response(ssotest.Response{SP: sp, InResponseTo: "id-1", User: ssotest.User{
		Email: "erin@acme.example", Roles: []string{"Content Editors;Everyone"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := v.Validate(posted, "id-1")
	if err != nil {
		t.Fatal(err)
	}
	cfg := AcmeMapping()
	got := cfg.Map(rolemap.ParseRoles(a.Attributes[sso.AttrRoles], cfg.Delimiter))
	if got.OrgRole != rolemap.RoleMember || !reflect.DeepEqual(got.Unmatched, []string{"Everyone"}) {
		t.Errorf("Map = %+v; want member with Everyone unmatched", got)
	}
}
