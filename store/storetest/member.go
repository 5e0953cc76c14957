package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

var memberTests = []test{
	{"Lookup", testMemberLookup},
	{"ReplaceCaseInsensitively", testMemberReplace},
	{"RoundTrip", testMemberRoundTrip},
	{"Copies", testMemberCopies},
	{"DistinctAddressesNeverMerge", testMemberDistinctAddresses},
	{"InvalidEmailRefused", testMemberInvalidEmail},
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
		{name: "ASCII case of a non-ASCII address", orgID: "org1", email: "ÅSA@EXAMPLE.com", want: asa},
		{name: "non-ASCII letters are not case-folded", orgID: "org1", email: "åsa@example.COM", wantErr: sso.ErrNotFound},
		{name: "ß is not SS (no case folding beyond ASCII)", orgID: "org1", email: "STRASSE@example.com", wantErr: sso.ErrNotFound},
		{name: "ß matches itself", orgID: "org1", email: "STRAßE@EXAMPLE.COM", want: strasse},
		{name: "Kelvin sign is not k", orgID: "org1", email: "\u212Aelvin@example.com", wantErr: sso.ErrNotFound},
		{name: "k is k", orgID: "org1", email: "Kelvin@Example.com", want: kelvin},
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

// testMemberDistinctAddresses: emails key by sso.MemberEmailKey, ASCII case
// folding only. Addresses that Unicode lowercasing, case folding or
// normalization would merge are different members; ASCII case differences
// are the same member.
func testMemberDistinctAddresses(t *testing.T, ctx context.Context, st Store) {
	groups := [][]string{
		{"kate@acme.example", "\u212Aate@acme.example"},                                            // k, Kelvin sign
		{"strasse@acme.example", "straße@acme.example", "STRAẞE@acme.example"},                     // ss, ß, capital ẞ
		{"ivan@acme.example", "ıvan@acme.example", "İvan@acme.example", "i\u0307van@acme.example"}, // i, dotless ı, dotted İ, i + combining dot
		{"οδυσσευσ@acme.example", "οδυσσευς@acme.example", "ΟΔΥΣΣΕΥΣ@acme.example"},                // σ, final ς, Σ
		{"jos\u00e9@acme.example", "jose\u0301@acme.example", "JOS\u00c9@acme.example"},            // NFC é, NFD e + acute, É
		{"\u00e5sa@acme.example", "\u00c5sa@acme.example", "\u212Bsa@acme.example"},                // å, Å, Ångström sign
		{"ﬁle@acme.example", "file@acme.example"},                                                  // ligature ﬁ, f + i
	}
	for _, g := range groups {
		for _, email := range g {
			m := fullMember("org1", email)
			if err := st.SaveMember(ctx, m); err != nil {
				t.Fatalf("SaveMember(%q) err = %v; want nil", email, err)
			}
		}
	}
	for _, g := range groups {
		for _, email := range g {
			got, err := st.Member(ctx, "org1", email)
			if err != nil || !reflect.DeepEqual(got, fullMember("org1", email)) {
				t.Errorf("Member(%q) = %+v, %v; want the member saved with that email, no other", email, got, err)
			}
		}
	}
	// ASCII case still does not matter, in any part of the address, and
	// only ASCII letters change.
	for lookup, want := range map[string]string{
		"KATE@ACME.EXAMPLE":       "kate@acme.example",
		"\u212AATE@Acme.Example":  "\u212Aate@acme.example",
		"STRAßE@ACME.EXAMPLE":     "straße@acme.example",
		"straẞe@ACME.example":     "STRAẞE@acme.example",
		"IVAN@acme.example":       "ivan@acme.example",
		"İVAN@acme.example":       "İvan@acme.example",
		"JOSE\u0301@acme.example": "jose\u0301@acme.example",
		"ΟΔΥΣΣΕΥΣ@ACME.EXAMPLE":   "ΟΔΥΣΣΕΥΣ@acme.example",
		"FILE@acme.example":       "file@acme.example",
		"ﬁLE@acme.example":        "ﬁle@acme.example",
	} {
		got, err := st.Member(ctx, "org1", lookup)
		if err != nil || got.Email != want {
			t.Errorf("Member(%q) = %+v, %v; want the member %q", lookup, got, err, want)
		}
	}
	for _, lookup := range []string{"Ivan@acme.example\u0307", "ΟΔΥΣΣΕΥς@acme.example", "kate@acme.example "} {
		if got, err := st.Member(ctx, "org1", lookup); !errors.Is(err, sso.ErrNotFound) {
			t.Errorf("Member(%q) = %+v, %v; want ErrNotFound", lookup, got, err)
		}
	}
	// Saving under one spelling replaces only that member.
	repl := fullMember("org1", "KATE@acme.example")
	repl.FirstName = "Kate"
	if err := st.SaveMember(ctx, repl); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Member(ctx, "org1", "\u212Aate@acme.example"); err != nil || got.FirstName != "Ada" {
		t.Errorf("Member(Kelvin-sign address) after saving KATE@ = %+v, %v; want it unchanged", got, err)
	}
	if got, err := st.Member(ctx, "org1", "kate@acme.example"); err != nil || got.FirstName != "Kate" {
		t.Errorf("Member(kate@) after saving KATE@ = %+v, %v; want the replacement", got, err)
	}
}

// testMemberInvalidEmail: an email sso.ValidateMemberEmail refuses (not valid
// UTF-8, or holding NUL) is refused with session.ErrInvalidArgument by
// SaveMember and by Member, in every store, and nothing is stored. Invalid
// bytes never match a valid address (strings.ToLower would have made every
// one of them U+FFFD).
func testMemberInvalidEmail(t *testing.T, ctx context.Context, st Store) {
	replacement := fullMember("org1", "a\uFFFD@acme.example")
	if err := st.SaveMember(ctx, replacement); err != nil {
		t.Fatal(err)
	}
	bad := []string{
		"a\xff@acme.example",         // not UTF-8 at all
		"a\xfe@acme.example",         //
		"a\xc3@acme.example",         // truncated sequence
		"a\xc0\xaf@acme.example",     // overlong "/"
		"a\xed\xa0\x80@acme.example", // UTF-16 surrogate
		"A\xff@ACME.EXAMPLE",         //
		"a\x00@acme.example",         // NUL
		"\x00",                       //
	}
	for _, email := range bad {
		if err := st.SaveMember(ctx, fullMember("org1", email)); !errors.Is(err, session.ErrInvalidArgument) {
			t.Errorf("SaveMember(%q) err = %v; want ErrInvalidArgument", email, err)
		}
		if got, err := st.Member(ctx, "org1", email); !errors.Is(err, session.ErrInvalidArgument) || got != nil {
			t.Errorf("Member(%q) = %+v, %v; want nil, ErrInvalidArgument", email, got, err)
		}
		if err := sso.ValidateMemberEmail(email); !errors.Is(err, session.ErrInvalidArgument) {
			t.Errorf("sso.ValidateMemberEmail(%q) err = %v; want ErrInvalidArgument", email, err)
		}
	}
	// Nothing refused was stored, and the valid U+FFFD address is intact.
	if got, err := st.Member(ctx, "org1", "a\uFFFD@ACME.example"); err != nil || !reflect.DeepEqual(got, replacement) {
		t.Errorf("Member(U+FFFD address) = %+v, %v; want %+v", got, err, replacement)
	}
}
