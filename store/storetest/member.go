package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/orgsso/orgsso/sso"
)

var memberTests = []test{
	{"Lookup", testMemberLookup},
	{"ReplaceCaseInsensitively", testMemberReplace},
	{"RoundTrip", testMemberRoundTrip},
	{"Copies", testMemberCopies},
}

func testMemberLookup(t *testing.T, ctx context.Context, st Store) {
	ada1 := fullMember("org1", "Ada@Example.com")
	ada2 := fullMember("org2", "ada@example.com")
	ada2.FirstName = "Other Ada"
	ada2.AllowWithoutSSO = false
	asa := fullMember("org1", "ÅSA@Example.com")
	strasse := fullMember("org1", "straße@example.com")
	kelvin := fullMember("org1", "KELVIN@example.com")
	for _, m := range []*sso.Member{ada1, ada2, asa, strasse, kelvin} {
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
		{name: "non-ASCII lowercased", orgID: "org1", email: "åsa@example.COM", want: asa},
		{name: "ß is not SS (no full case folding)", orgID: "org1", email: "STRASSE@example.com", wantErr: sso.ErrNotFound},
		{name: "ß matches itself", orgID: "org1", email: "STRAßE@EXAMPLE.COM", want: strasse},
		{name: "Kelvin sign lowercases to k, as strings.ToLower", orgID: "org1", email: "\u212Aelvin@example.com", want: kelvin},
		{name: "unknown org", orgID: "org3", email: "ada@example.com", wantErr: sso.ErrNotFound},
		{name: "org ID is case-sensitive", orgID: "ORG1", email: "ada@example.com", wantErr: sso.ErrNotFound},
		{name: "unknown email", orgID: "org1", email: "bob@example.com", wantErr: sso.ErrNotFound},
		{name: "empty", wantErr: sso.ErrNotFound},
		{name: "email without org", email: "ada@example.com", wantErr: sso.ErrNotFound},
		{name: "email is not trimmed", orgID: "org1", email: " ada@example.com", wantErr: sso.ErrNotFound},
		{name: "SQL-looking email", orgID: "org1", email: "' OR ''='", wantErr: sso.ErrNotFound},
		{name: "LIKE pattern is literal", orgID: "org1", email: "%@example.com", wantErr: sso.ErrNotFound},
	}
	for _, tt := range tests {
		got, err := st.Member(ctx, tt.orgID, tt.email)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: Member(%q, %q) err = %v; want %v", tt.name, tt.orgID, tt.email, err, tt.wantErr)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Member(%q, %q) = %+v; want %+v", tt.name, tt.orgID, tt.email, got, tt.want)
		}
	}
}

func testMemberReplace(t *testing.T, ctx context.Context, st Store) {
	if err := st.SaveMember(ctx, fullMember("org1", "ada@example.com")); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveMember(ctx, fullMember("org2", "ada@example.com")); err != nil {
		t.Fatal(err)
	}
	replacement := fullMember("org1", "ADA@example.com")
	replacement.LastName = "Byron"
	replacement.StackRoles = map[string][]string{"stack9": {"owner"}}
	replacement.AllowWithoutSSO = false
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
	// The same email in the other organization is untouched.
	if got, err := st.Member(ctx, "org2", "ada@example.com"); err != nil || !reflect.DeepEqual(got, fullMember("org2", "ada@example.com")) {
		t.Errorf("Member(org2) = %+v, %v; want it unchanged", got, err)
	}
}

func testMemberRoundTrip(t *testing.T, ctx context.Context, st Store) {
	members := []*sso.Member{
		fullMember("org1", "full@example.com"),
		{OrgID: "org1", Email: "nil@x"},
		{OrgID: "org1", Email: "empty@x", StackRoles: map[string][]string{}},
		{OrgID: "org1", Email: "emptyslice@x", StackRoles: map[string][]string{"s": {}, "t": nil}},
		{OrgID: "org1", Email: "owner@x", UserID: "u1", OrgRole: "owner",
			FirstName: "Zoë", LastName: "O'Brien-\"Ñ\"", StackRoles: map[string][]string{"stack with spaces": {"rôle", ""}}},
		{OrgID: "org 2 ✓", Email: "Ünïcödé@Exämple.com", UserID: "用户"},
	}
	for _, m := range members {
		if err := st.SaveMember(ctx, m); err != nil {
			t.Errorf("SaveMember(%q) err = %v; want nil", m.Email, err)
			continue
		}
		if got, err := st.Member(ctx, m.OrgID, m.Email); err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("Member(%q, %q) = %#v, %v; want %#v", m.OrgID, m.Email, got, err, m)
		}
	}
}

// mutateMember changes every map and slice of m in place.
func mutateMember(m *sso.Member) {
	m.FirstName = "changed"
	m.StackRoles["stack1"][0] = "changed"
	m.StackRoles["stack2"] = append(m.StackRoles["stack2"][:1], "changed")
	m.StackRoles["new-stack"] = []string{"x"}
}

func testMemberCopies(t *testing.T, ctx context.Context, st Store) {
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
	mutateMember(got1)
	if got2, err := st.Member(ctx, "org1", "ada@example.com"); err != nil || !reflect.DeepEqual(got2, want) {
		t.Errorf("Member() after mutating a returned value = %+v, %v; want %+v", got2, err, want)
	}
}
