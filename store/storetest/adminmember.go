package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

var createMemberTests = []test{
	{"Steps", testCreateMember},
	{"Copies", testCreateMemberCopies},
	{"UserIDTaken", testCreateMemberUserIDTaken},
	{"UserIDLegacyRows", testCreateMemberUserIDLegacy},
}

var updateMemberTests = []test{
	{"Steps", testUpdateMember},
}

var deleteMemberTests = []test{
	{"Steps", testDeleteMember},
}

var memberByUserIDTests = []test{
	{"Lookup", testMemberByUserID},
}

var membersTests = []test{
	{"Order", testMembersOrder},
	{"Pages", testMembersPages},
	{"Arguments", testMembersArguments},
	{"Copies", testMembersCopies},
}

// withUser returns m with UserID and FirstName set, so members of one email
// differ.
func withUser(m *sso.Member, userID string) *sso.Member {
	m.UserID, m.FirstName = userID, "First "+userID
	return m
}

// checkMember checks what Member(orgID, email) gives: want, or ErrNotFound
// when want is nil.
func checkMember(t *testing.T, ctx context.Context, st Store, step, orgID, email string, want *sso.Member) {
	t.Helper()
	got, err := st.Member(ctx, orgID, email)
	switch {
	case want == nil && !errors.Is(err, sso.ErrNotFound):
		t.Errorf("%s: Member(%q, %q) = %+v, %v; want ErrNotFound", step, orgID, email, got, err)
	case want != nil && (err != nil || !reflect.DeepEqual(got, want)):
		t.Errorf("%s: Member(%q, %q) = %+v, %v; want %+v", step, orgID, email, got, err, want)
	}
}

// testCreateMember runs creations in order on one store: each step's result
// and what the store then holds are checked. Nothing is written on error.
func testCreateMember(t *testing.T, ctx context.Context, st Store) {
	ada := fullMember("org1", "Ada@Example.com")
	kate := fullMember("org1", "Kate@example.com")
	kelvin := fullMember("org1", "\u212Aate@example.com") // Kelvin sign K: another key than k
	steps := []struct {
		name    string
		m       *sso.Member
		want    *sso.Member // returned
		wantErr error
		stored  *sso.Member // then held for (m's org, m's email); nil = none
	}{
		{name: "create", m: fullMember("org1", "Ada@Example.com"), want: ada, stored: ada},
		{name: "same email", m: withUser(fullMember("org1", "Ada@Example.com"), "u2"), want: ada, wantErr: sso.ErrMemberExists, stored: ada},
		{name: "same email in other ASCII case", m: withUser(fullMember("org1", "aDA@eXAMPLE.COM"), "u3"), want: ada, wantErr: sso.ErrMemberExists, stored: ada},
		{name: "member saved by SaveMember exists too", m: withUser(fullMember("org1", "saved@example.com"), "u4"),
			want: fullMember("org1", "SAVED@example.com"), wantErr: sso.ErrMemberExists, stored: fullMember("org1", "SAVED@example.com")},
		{name: "same email, other org", m: fullMember("org2", "ada@example.com"), want: fullMember("org2", "ada@example.com"),
			stored: fullMember("org2", "ada@example.com")},
		{name: "create Kate", m: fullMember("org1", "Kate@example.com"), want: kate, stored: kate},
		{name: "Kelvin sign is not K", m: fullMember("org1", "\u212Aate@example.com"), want: kelvin, stored: kelvin},
		{name: "but K is", m: fullMember("org1", "kATE@example.com"), want: kate, wantErr: sso.ErrMemberExists, stored: kate},
		{name: "minimal member", m: &sso.Member{OrgID: "org1", Email: "min@x"}, want: &sso.Member{OrgID: "org1", Email: "min@x"},
			stored: &sso.Member{OrgID: "org1", Email: "min@x"}},
		{name: "nil", wantErr: session.ErrInvalidArgument},
		{name: "no org", m: &sso.Member{Email: "noorg@x"}, wantErr: session.ErrInvalidArgument},
		{name: "no email", m: &sso.Member{OrgID: "org1", UserID: "u5"}, wantErr: session.ErrInvalidArgument},
		{name: "invalid email", m: fullMember("org1", "bad\xff@example.com"), wantErr: session.ErrInvalidArgument},
		{name: "NUL in email", m: fullMember("org1", "nul\x00@example.com"), wantErr: session.ErrInvalidArgument},
	}
	if err := st.SaveMember(ctx, fullMember("org1", "SAVED@example.com")); err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		got, err := st.CreateMember(ctx, s.m)
		if !errors.Is(err, s.wantErr) {
			t.Errorf("%s: CreateMember() err = %v; want %v", s.name, err, s.wantErr)
		}
		if !reflect.DeepEqual(got, s.want) {
			t.Errorf("%s: CreateMember() = %+v; want %+v", s.name, got, s.want)
		}
		if s.m != nil && s.m.OrgID != "" && s.m.Email != "" && sso.ValidateMemberEmail(s.m.Email) == nil {
			checkMember(t, ctx, st, s.name, s.m.OrgID, s.m.Email, s.stored)
		}
	}
	// Nothing refused was stored.
	if page, err := st.Members(ctx, "org1", "", sso.MaxListLimit); err != nil || len(page) != 5 {
		t.Errorf("Members(org1) = %d members, %v; want 5 (Ada, Kate, Kelvin-sign Kate, min, SAVED)", len(page), err)
	}
}

// testCreateMemberCopies: the member CreateMember returns, in either case,
// shares nothing with its argument or with the store.
func testCreateMemberCopies(t *testing.T, ctx context.Context, st Store) {
	m := fullMember("org1", "ada@example.com")
	got, err := st.CreateMember(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	mutateMember(m)
	if !reflect.DeepEqual(got, fullMember("org1", "ada@example.com")) {
		t.Errorf("CreateMember() result after mutating its argument = %+v; want it unchanged", got)
	}
	mutateMember(got)
	checkMember(t, ctx, st, "after mutating", "org1", "ada@example.com", fullMember("org1", "ada@example.com"))
	existing, err := st.CreateMember(ctx, fullMember("org1", "ADA@example.com"))
	if !errors.Is(err, sso.ErrMemberExists) {
		t.Fatalf("CreateMember() again err = %v; want ErrMemberExists", err)
	}
	mutateMember(existing)
	checkMember(t, ctx, st, "after mutating the existing member returned", "org1", "ada@example.com", fullMember("org1", "ada@example.com"))
}

// testUpdateMember runs updates in order on one store: each step's error and
// what the store then holds are checked. UpdateMember never creates.
func testUpdateMember(t *testing.T, ctx context.Context, st Store) {
	if err := st.SaveMember(ctx, fullMember("org1", "ada@example.com")); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveMember(ctx, fullMember("org2", "ada@example.com")); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveMember(ctx, fullMember("org1", "kate@example.com")); err != nil {
		t.Fatal(err)
	}
	renamed := withUser(fullMember("org1", "ADA@Example.com"), "u2")
	renamed.StackRoles = nil
	renamed.AllowWithoutSSO = false
	steps := []struct {
		name    string
		m       *sso.Member
		wantErr error
		lookup  string      // email to look m's organization up by; "" = m.Email
		stored  *sso.Member // then held; nil = none
	}{
		{name: "missing member", m: fullMember("org1", "bob@example.com"), wantErr: sso.ErrNotFound},
		{name: "missing in this org", m: fullMember("org3", "ada@example.com"), wantErr: sso.ErrNotFound},
		{name: "Kelvin sign is not k", m: fullMember("org1", "\u212Aate@example.com"), wantErr: sso.ErrNotFound},
		{name: "update, in other ASCII case", m: renamed, lookup: "ada@example.com", stored: renamed},
		{name: "the other org's member is untouched", m: fullMember("org2", "ada@example.com"), stored: fullMember("org2", "ada@example.com")},
		{name: "nil", wantErr: session.ErrInvalidArgument},
		{name: "no org", m: &sso.Member{Email: "ada@example.com"}, wantErr: session.ErrInvalidArgument},
		{name: "no email", m: &sso.Member{OrgID: "org1", UserID: "u3"}, wantErr: session.ErrInvalidArgument},
		{name: "invalid email", m: fullMember("org1", "ada@example.com\xff"), wantErr: session.ErrInvalidArgument,
			lookup: "ada@example.com", stored: renamed},
	}
	for _, s := range steps {
		err := st.UpdateMember(ctx, s.m)
		if !errors.Is(err, s.wantErr) {
			t.Errorf("%s: UpdateMember() err = %v; want %v", s.name, err, s.wantErr)
		}
		if s.m == nil || s.m.OrgID == "" || s.m.Email == "" {
			continue
		}
		email := s.lookup
		if email == "" {
			email = s.m.Email
		}
		checkMember(t, ctx, st, s.name, s.m.OrgID, email, s.stored)
	}
	// Not even a removed member is recreated.
	if err := st.DeleteMember(ctx, "org2", "ada@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateMember(ctx, fullMember("org2", "ada@example.com")); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("UpdateMember(a removed member) err = %v; want ErrNotFound", err)
	}
	checkMember(t, ctx, st, "after updating a removed member", "org2", "ada@example.com", nil)
	// The argument is copied.
	m := fullMember("org2", "bob@example.com")
	if err := st.SaveMember(ctx, fullMember("org2", "bob@example.com")); err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateMember(ctx, m); err != nil {
		t.Fatal(err)
	}
	mutateMember(m)
	checkMember(t, ctx, st, "after mutating the argument", "org2", "bob@example.com", fullMember("org2", "bob@example.com"))
}

// testDeleteMember runs deletions in order on one store: each step's error
// and which members are then left are checked.
func testDeleteMember(t *testing.T, ctx context.Context, st Store) {
	type key struct{ org, email string }
	all := []key{{"org1", "Kate@example.com"}, {"org1", "bob@example.com"}, {"org1", "\u212Aate@example.com"}, {"org2", "kate@example.com"}}
	for _, k := range all {
		if err := st.SaveMember(ctx, fullMember(k.org, k.email)); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name       string
		org, email string
		wantErr    error
		left       []key
	}{
		{name: "unknown email", org: "org1", email: "carol@example.com", wantErr: sso.ErrNotFound, left: all},
		{name: "unknown org", org: "org3", email: "kate@example.com", wantErr: sso.ErrNotFound, left: all},
		{name: "org ID is case-sensitive", org: "ORG1", email: "kate@example.com", wantErr: sso.ErrNotFound, left: all},
		{name: "empty", wantErr: sso.ErrNotFound, left: all},
		{name: "email is not trimmed", org: "org1", email: " kate@example.com", wantErr: sso.ErrNotFound, left: all},
		{name: "invalid email", org: "org1", email: "kate@example.com\xff", wantErr: session.ErrInvalidArgument, left: all},
		{name: "NUL in email", org: "org1", email: "kate@example.com\x00", wantErr: session.ErrInvalidArgument, left: all},
		{name: "delete, in other ASCII case: the Kelvin-sign address stays", org: "org1", email: "KATE@EXAMPLE.COM", left: all[1:]},
		{name: "delete again", org: "org1", email: "kate@example.com", wantErr: sso.ErrNotFound, left: all[1:]},
		{name: "delete the Kelvin-sign address", org: "org1", email: "\u212AATE@example.com", left: []key{all[1], all[3]}},
		{name: "delete in org2", org: "org2", email: "kate@example.com", left: []key{all[1]}},
	}
	for _, s := range steps {
		if err := st.DeleteMember(ctx, s.org, s.email); !errors.Is(err, s.wantErr) {
			t.Errorf("%s: DeleteMember(%q, %q) err = %v; want %v", s.name, s.org, s.email, err, s.wantErr)
		}
		for _, k := range all {
			var want *sso.Member
			for _, l := range s.left {
				if l == k {
					want = fullMember(k.org, k.email)
				}
			}
			checkMember(t, ctx, st, s.name, k.org, k.email, want)
		}
	}
	// A deleted member can be created again, and is not listed.
	if page, err := st.Members(ctx, "org1", "", 10); err != nil || len(page) != 1 || page[0].Email != "bob@example.com" {
		t.Errorf("Members(org1) after the deletions = %+v, %v; want only bob", page, err)
	}
	if _, err := st.CreateMember(ctx, fullMember("org1", "kate@example.com")); err != nil {
		t.Errorf("CreateMember(a deleted member) err = %v; want nil", err)
	}
}

// testMemberByUserID: the organization's member with a user ID, the one with
// the lowest email key (in byte order) when several have it; an empty user
// ID matches no member.
func testMemberByUserID(t *testing.T, ctx context.Context, st Store) {
	members := []*sso.Member{
		withUser(fullMember("org1", "ada@x.example"), "u1"),
		withUser(fullMember("org1", "C@x.example"), "u2"),
		withUser(fullMember("org1", "B@x.example"), "u2"), // key b@… < c@…
		withUser(fullMember("org1", "ärger@x.example"), "u3"),
		withUser(fullMember("org1", "Zed@x.example"), "u3"), // key z… (0x7a) < ä… (0xc3) in byte order
		withUser(fullMember("org2", "dan@x.example"), "u1"),
		{OrgID: "org1", Email: "no-user@x.example"},
	}
	for _, m := range members {
		if err := st.SaveMember(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name          string
		orgID, userID string
		want          *sso.Member
	}{
		{name: "one member", orgID: "org1", userID: "u1", want: members[0]},
		{name: "same user in other org", orgID: "org2", userID: "u1", want: members[5]},
		{name: "lowest email key, not first saved", orgID: "org1", userID: "u2", want: members[2]},
		{name: "lowest email key in byte order", orgID: "org1", userID: "u3", want: members[4]},
		{name: "user ID is case-sensitive", orgID: "org1", userID: "U1"},
		{name: "user ID is not trimmed", orgID: "org1", userID: "u1 "},
		{name: "unknown user", orgID: "org1", userID: "u9"},
		{name: "unknown org", orgID: "org3", userID: "u1"},
		{name: "empty user ID matches no member", orgID: "org1", userID: ""},
		{name: "empty", orgID: "", userID: ""},
		{name: "SQL-looking user ID", orgID: "org1", userID: "' OR '1'='1"},
		{name: "LIKE pattern is literal", orgID: "org1", userID: "u%"},
	}
	for _, tt := range tests {
		got, err := st.MemberByUserID(ctx, tt.orgID, tt.userID)
		switch {
		case tt.want == nil && !errors.Is(err, sso.ErrNotFound):
			t.Errorf("%s: MemberByUserID(%q, %q) = %+v, %v; want ErrNotFound", tt.name, tt.orgID, tt.userID, got, err)
		case tt.want != nil && (err != nil || !reflect.DeepEqual(got, tt.want)):
			t.Errorf("%s: MemberByUserID(%q, %q) = %+v, %v; want %+v", tt.name, tt.orgID, tt.userID, got, err, tt.want)
		}
	}
	// It follows updates and deletions, and returns a copy.
	moved := withUser(fullMember("org1", "ada@x.example"), "u9")
	if err := st.UpdateMember(ctx, moved); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteMember(ctx, "org1", "b@x.example"); err != nil {
		t.Fatal(err)
	}
	for userID, want := range map[string]*sso.Member{"u1": nil, "u9": moved, "u2": members[1]} {
		got, err := st.MemberByUserID(ctx, "org1", userID)
		if (want == nil && !errors.Is(err, sso.ErrNotFound)) || (want != nil && (err != nil || !reflect.DeepEqual(got, want))) {
			t.Errorf("after the changes: MemberByUserID(org1, %q) = %+v, %v; want %+v", userID, got, err, want)
		}
		if got != nil {
			mutateMember(got)
		}
	}
	checkMember(t, ctx, st, "after mutating a result", "org1", "ada@x.example", moved)
}

// memberOrder is saved into org1 by the listing tests; in ascending
// MemberEmailKey byte order, and not in the order of the emails themselves
// ("C" < "_" < "b" as given, "_" < "b" < "c" as keys), of a case-insensitive
// or locale collation ("ä" after "z"), or of Unicode case folding.
var memberOrder = []string{
	"_u@x.example",
	"a-b@x.example", // '-' (0x2d) < '@' (0x40)
	"A@x.example",
	"a@x.example.org",
	"b@x.example",
	"C@x.example",
	"ZED@x.example",
	"zoe@x.example",
	"\u00c5sa@x.example", // Å: 0xc3 0x85
	"\u00e4rger@x.example",
	"\u212Ate@x.example", // Kelvin sign: 0xe2 …
}

// saveMemberOrder saves memberOrder into org1 (out of order), and members of
// org0 and org2 that sort before and after them, and returns org1's members
// in order.
func saveMemberOrder(t *testing.T, ctx context.Context, st Store) []*sso.Member {
	t.Helper()
	want := make([]*sso.Member, len(memberOrder))
	for i, email := range memberOrder {
		want[i] = withUser(fullMember("org1", email), orgName(i))
	}
	for i := range want {
		if err := st.SaveMember(ctx, want[(i*7)%len(want)]); err != nil { // 7 is prime to 11: every member, mixed up
			t.Fatal(err)
		}
	}
	for _, m := range []*sso.Member{fullMember("org0", "a@x.example"), fullMember("org0", "zz@x.example"), fullMember("org2", "0@x.example"),
		fullMember("org2", "b@x.example"), fullMember("org2", "\U0010ffff@x.example"), fullMember("org10", "a@x.example")} {
		if err := st.SaveMember(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	return want
}

// emails returns the emails of ms, to compare listings legibly.
func emails(ms []*sso.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Email
	}
	return out
}

// testMembersOrder: a listing is in ascending email key order, in bytes,
// and holds the organization's members only, exactly.
func testMembersOrder(t *testing.T, ctx context.Context, st Store) {
	want := saveMemberOrder(t, ctx, st)
	for _, limit := range []int{len(want), len(want) + 1, sso.MaxListLimit} {
		got, err := st.Members(ctx, "org1", "", limit)
		if err != nil {
			t.Fatalf("Members(org1, limit %d) err = %v; want nil", limit, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Members(org1, limit %d) = %q; want %q (full members)", limit, emails(got), emails(want))
		}
	}
	if got, err := st.Members(ctx, "org1", "", 3); err != nil || !reflect.DeepEqual(got, want[:3]) {
		t.Errorf("Members(org1, limit 3) = %q, %v; want %q", emails(got), err, emails(want[:3]))
	}
	if got, err := st.Members(ctx, "org1", "", 1); err != nil || !reflect.DeepEqual(got, want[:1]) {
		t.Errorf("Members(org1, limit 1) = %q, %v; want %q", emails(got), err, emails(want[:1]))
	}
	// Keys are unique: a member saved again under another ASCII case is
	// listed once, with the email it was saved with last.
	again := withUser(fullMember("org1", "b@X.EXAMPLE"), "again")
	if err := st.SaveMember(ctx, again); err != nil {
		t.Fatal(err)
	}
	want[4] = again
	if got, err := st.Members(ctx, "org1", "", sso.MaxListLimit); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Members(org1) after saving b@X.EXAMPLE = %q, %v; want %q", emails(got), err, emails(want))
	}
}

// testMembersPages walks a listing page by page, with a member's email or
// its key as the cursor, and starts from cursors no member has.
func testMembersPages(t *testing.T, ctx context.Context, st Store) {
	want := saveMemberOrder(t, ctx, st)
	for _, limit := range []int{1, 2, 3, 5, 11} {
		for _, byKey := range []bool{false, true} {
			var got []*sso.Member
			after := ""
			for pages := 0; ; pages++ {
				page, err := st.Members(ctx, "org1", after, limit)
				if err != nil {
					t.Fatalf("Members(org1, %q, %d) err = %v; want nil", after, limit, err)
				}
				if len(page) > limit || pages > len(want) {
					t.Fatalf("Members(org1, %q, %d) = %d members, page %d; want at most %d", after, limit, len(page), pages, limit)
				}
				got = append(got, page...)
				if len(page) < limit {
					break
				}
				after = page[len(page)-1].Email
				if byKey {
					after = sso.MemberEmailKey(after)
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("walking Members(org1) by %d (cursor is a key: %t) = %q; want %q", limit, byKey, emails(got), emails(want))
			}
		}
	}
	tests := []struct {
		after string
		want  []*sso.Member
	}{
		{after: "", want: want},
		{after: "_", want: want}, // before every key
		{after: "_u@x.example", want: want[1:]},
		{after: "a", want: want[1:]}, // a prefix sorts first
		{after: "A", want: want[1:]}, // cursors fold as keys do
		{after: "a-b@x.example", want: want[2:]},
		{after: "a@x.example", want: want[3:]},
		{after: "A@X.EXAMPLE", want: want[3:]},
		{after: "a@x.example.org", want: want[4:]},
		{after: "b", want: want[4:]},
		{after: "z", want: want[6:]},
		{after: "ZED@X.EXAMPLE", want: want[7:]},
		{after: "zzz", want: want[8:]},    // past every ASCII key, before every other
		{after: "\u00c5", want: want[8:]}, // Å is a prefix of Åsa
		{after: "\u00c5sa@x.example", want: want[9:]},
		{after: "\u00e5sa@x.example", want: want[10:]}, // å is not folded to Å: 0xc3 0xa5 > ä's 0xc3 0xa4
		{after: "\u212A", want: want[10:]},
		{after: "\u212Ate@x.example", want: nil},
		{after: "\U0010ffff", want: nil},
	}
	for _, tt := range tests {
		got, err := st.Members(ctx, "org1", tt.after, sso.MaxListLimit)
		if err != nil || len(got) != len(tt.want) || (len(got) > 0 && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("Members(org1, after %q) = %q, %v; want %q", tt.after, emails(got), err, emails(tt.want))
		}
	}
}

// testMembersArguments: limits outside 1..MaxListLimit, an empty
// organization ID and a cursor ValidateMemberEmail refuses are
// ErrInvalidArgument; an organization without members lists none.
func testMembersArguments(t *testing.T, ctx context.Context, st Store) {
	saveMemberOrder(t, ctx, st)
	tests := []struct {
		name         string
		orgID, after string
		limit        int
		wantErr      error
		wantN        int
	}{
		{name: "limit 0", orgID: "org1", limit: 0, wantErr: session.ErrInvalidArgument},
		{name: "negative limit", orgID: "org1", limit: -1, wantErr: session.ErrInvalidArgument},
		{name: "limit above MaxListLimit", orgID: "org1", limit: sso.MaxListLimit + 1, wantErr: session.ErrInvalidArgument},
		{name: "huge limit", orgID: "org1", limit: int(^uint(0) >> 1), wantErr: session.ErrInvalidArgument},
		{name: "empty org ID", orgID: "", limit: 10, wantErr: session.ErrInvalidArgument},
		{name: "cursor not UTF-8", orgID: "org1", after: "a\xff", limit: 10, wantErr: session.ErrInvalidArgument},
		{name: "cursor with NUL", orgID: "org1", after: "a\x00", limit: 10, wantErr: session.ErrInvalidArgument},
		{name: "limit 1", orgID: "org1", limit: 1, wantN: 1},
		{name: "limit MaxListLimit", orgID: "org1", limit: sso.MaxListLimit, wantN: len(memberOrder)},
		{name: "unknown org", orgID: "org3", limit: 10},
		{name: "org ID is case-sensitive", orgID: "ORG1", limit: 10},
		{name: "org ID is not a prefix", orgID: "org", limit: 10},
		{name: "SQL-looking org ID", orgID: "' OR '1'='1", limit: 10},
		{name: "LIKE pattern is literal", orgID: "org%", limit: 10},
	}
	for _, tt := range tests {
		got, err := st.Members(ctx, tt.orgID, tt.after, tt.limit)
		if !errors.Is(err, tt.wantErr) || len(got) != tt.wantN {
			t.Errorf("%s: Members(%q, %q, %d) = %d members, %v; want %d, %v", tt.name, tt.orgID, tt.after, tt.limit, len(got), err, tt.wantN, tt.wantErr)
		}
	}
}

// testMembersCopies: changing a listed member does not change what the
// store holds.
func testMembersCopies(t *testing.T, ctx context.Context, st Store) {
	if err := st.SaveMember(ctx, fullMember("org1", "ada@example.com")); err != nil {
		t.Fatal(err)
	}
	page, err := st.Members(ctx, "org1", "", 10)
	if err != nil || len(page) != 1 {
		t.Fatalf("Members(org1) = %+v, %v; want one member", page, err)
	}
	mutateMember(page[0])
	page[0] = nil
	checkMember(t, ctx, st, "after mutating a listed member", "org1", "ada@example.com", fullMember("org1", "ada@example.com"))
	if page, err := st.Members(ctx, "org1", "", 10); err != nil || len(page) != 1 || !reflect.DeepEqual(page[0], fullMember("org1", "ada@example.com")) {
		t.Errorf("Members(org1) after mutating a listing = %+v, %v; want it unchanged", page, err)
	}
}

// userMember returns a member of org1 with this email and user ID.
func userMember(email, userID string) *sso.Member {
	return withUser(fullMember("org1", email), userID)
}

// createStep is one CreateMember call of a user ID test: the error it must
// give (nil, sso.ErrUserIDTaken or sso.ErrMemberExists) and, for
// ErrMemberExists, the member it must return.
type createStep struct {
	name    string
	m       *sso.Member
	wantErr error
	want    *sso.Member // with ErrMemberExists
}

// runCreateSteps runs steps in order on st. A creation that succeeds stores
// the member; one refused with ErrUserIDTaken stores nothing.
func runCreateSteps(t *testing.T, ctx context.Context, st Store, steps []createStep) {
	t.Helper()
	for _, s := range steps {
		before, _ := st.Member(ctx, s.m.OrgID, s.m.Email)
		got, err := st.CreateMember(ctx, s.m)
		switch {
		case s.wantErr == nil && (err != nil || !reflect.DeepEqual(got, s.m)):
			t.Errorf("%s: CreateMember(%q, %q) = %+v, %v; want it created", s.name, s.m.Email, s.m.UserID, got, err)
		case s.wantErr == nil:
			checkMember(t, ctx, st, s.name, s.m.OrgID, s.m.Email, s.m)
		case !errors.Is(err, s.wantErr):
			t.Errorf("%s: CreateMember(%q, %q) err = %v; want %v", s.name, s.m.Email, s.m.UserID, err, s.wantErr)
		case s.wantErr == sso.ErrMemberExists && !reflect.DeepEqual(got, s.want):
			t.Errorf("%s: CreateMember(%q, %q) = %+v; want the member there, %+v", s.name, s.m.Email, s.m.UserID, got, s.want)
		default:
			// Refused: what the store held for the email is unchanged.
			checkMember(t, ctx, st, s.name+" (refused)", s.m.OrgID, s.m.Email, before)
		}
	}
}

// testCreateMemberUserIDTaken: CreateMember refuses a user ID another member
// of the organization holds under another email key (sso.ErrUserIDTaken,
// nothing written); the email is checked first (sso.ErrMemberExists wins);
// the user ID is free again once its member is deleted or updated to
// another user ID, and members without a user ID never clash.
func testCreateMemberUserIDTaken(t *testing.T, ctx context.Context, st Store) {
	ada, carol := userMember("ada@example.com", "u-x"), userMember("carol@example.com", "u-c")
	runCreateSteps(t, ctx, st, []createStep{
		{name: "create ada", m: ada},
		{name: "same user, other email", m: userMember("bob@example.com", "u-x"), wantErr: sso.ErrUserIDTaken},
		{name: "same user, email with the same letters in another script", m: userMember("Kate@example.com", "u-x"), wantErr: sso.ErrUserIDTaken},
		{name: "same user, same email in another case", m: userMember("ADA@example.com", "u-x"), wantErr: sso.ErrMemberExists, want: ada},
		{name: "other user, same email", m: userMember("Ada@example.com", "u-y"), wantErr: sso.ErrMemberExists, want: ada},
		{name: "create carol", m: carol},
		// carol's email exists and ada's user ID is taken: the email answers.
		{name: "existing email with a taken user ID", m: userMember("carol@example.com", "u-x"), wantErr: sso.ErrMemberExists, want: carol},
		{name: "same user, other organization", m: withUser(fullMember("org2", "bob@example.com"), "u-x")},
		{name: "user ID is case-sensitive", m: userMember("bob@example.com", "U-X")},
		{name: "no user ID", m: userMember("inv1@example.com", "")},
		{name: "no user ID again", m: userMember("inv2@example.com", "")},
	})
	if page, err := st.Members(ctx, "org1", "", sso.MaxListLimit); err != nil || len(page) != 5 {
		t.Errorf("Members(org1) = %v, %v; want ada, bob, carol, inv1, inv2", emails(page), err)
	}
	if m, err := st.MemberByUserID(ctx, "org1", "u-x"); err != nil || m.Email != "ada@example.com" {
		t.Errorf("MemberByUserID(u-x) = %+v, %v; want ada", m, err)
	}

	// Deleting ada frees u-x.
	if err := st.DeleteMember(ctx, "org1", "ADA@example.com"); err != nil {
		t.Fatal(err)
	}
	dave := userMember("dave@example.com", "u-x")
	runCreateSteps(t, ctx, st, []createStep{
		{name: "u-x after ada's removal", m: dave},
		{name: "u-x taken by dave", m: userMember("ada@example.com", "u-x"), wantErr: sso.ErrUserIDTaken},
	})

	// UpdateMember moving dave to u-z frees u-x and takes u-z.
	if err := st.UpdateMember(ctx, userMember("Dave@example.com", "u-z")); err != nil {
		t.Fatal(err)
	}
	runCreateSteps(t, ctx, st, []createStep{
		{name: "u-z taken by the update", m: userMember("erin@example.com", "u-z"), wantErr: sso.ErrUserIDTaken},
		{name: "u-x freed by the update", m: userMember("ada@example.com", "u-x")},
	})
	// So does SaveMember of an existing member (inv1 gets u-w), and a
	// member given an empty user ID frees the one it had (carol).
	if err := st.SaveMember(ctx, userMember("inv1@example.com", "u-w")); err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateMember(ctx, userMember("carol@example.com", "")); err != nil {
		t.Fatal(err)
	}
	runCreateSteps(t, ctx, st, []createStep{
		{name: "u-w taken by SaveMember", m: userMember("erin@example.com", "u-w"), wantErr: sso.ErrUserIDTaken},
		{name: "u-c freed by the update", m: userMember("erin@example.com", "u-c")},
	})
}

// testCreateMemberUserIDLegacy: SaveMember, the plain upsert, stores a
// member whatever user ID it has (hosts have stored several members with
// one), and CreateMember refuses that user ID as long as any of them holds
// it.
func testCreateMemberUserIDLegacy(t *testing.T, ctx context.Context, st Store) {
	for _, email := range []string{"frank@example.com", "gina@example.com", "hank@example.com"} {
		if err := st.SaveMember(ctx, userMember(email, "u-legacy")); err != nil {
			t.Fatalf("SaveMember(%s) err = %v", email, err)
		}
	}
	ivy := userMember("ivy@example.com", "u-legacy")
	for _, del := range []string{"frank@example.com", "hank@example.com", "gina@example.com"} {
		runCreateSteps(t, ctx, st, []createStep{{name: "before removing " + del, m: ivy, wantErr: sso.ErrUserIDTaken}})
		if err := st.DeleteMember(ctx, "org1", del); err != nil {
			t.Fatal(err)
		}
	}
	runCreateSteps(t, ctx, st, []createStep{{name: "every holder removed", m: ivy}})

	// Members that SaveMember moves off a user ID, one by one.
	for _, email := range []string{"jo@example.com", "kim@example.com"} {
		if err := st.SaveMember(ctx, userMember(email, "u-moved")); err != nil {
			t.Fatal(err)
		}
	}
	lee := userMember("lee@example.com", "u-moved")
	for _, email := range []string{"jo@example.com", "kim@example.com"} {
		runCreateSteps(t, ctx, st, []createStep{{name: "before moving " + email, m: lee, wantErr: sso.ErrUserIDTaken}})
		if err := st.SaveMember(ctx, userMember(email, "u-other-"+email)); err != nil {
			t.Fatal(err)
		}
	}
	runCreateSteps(t, ctx, st, []createStep{
		{name: "every holder moved", m: lee},
		{name: "a moved member's new user ID", m: userMember("max@example.com", "u-other-kim@example.com"), wantErr: sso.ErrUserIDTaken},
	})
}
