package sqlstore_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/sqlstore"
)

// member returns a member with every field set.
func member(orgID, email, userID string) *sso.Member {
	return &sso.Member{OrgID: orgID, Email: email, UserID: userID, FirstName: "Ada", LastName: "Lovelace",
		OrgRole: rolemap.RoleMember, StackRoles: map[string][]string{"stack1": {"developer"}}, AllowWithoutSSO: true}
}

func TestCreateMember(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func() *sqlstore.Store) {
		st, ctx := open(), t.Context()
		ada := member("org1", "Ada@Example.com", "u1")
		got, err := st.CreateMember(ctx, ada)
		if err != nil || !reflect.DeepEqual(got, ada) || got == ada {
			t.Fatalf("CreateMember(ada) = %+v, %v; want a copy of ada", got, err)
		}
		got.StackRoles["stack1"][0] = "changed" // the copy shares nothing
		if ada.StackRoles["stack1"][0] != "developer" {
			t.Error("the member CreateMember returned shares StackRoles with its argument")
		}
		tests := []struct {
			name    string
			m       *sso.Member
			wantErr error
			want    *sso.Member // returned
		}{
			{"same email", member("org1", "Ada@Example.com", "u2"), sso.ErrMemberExists, member("org1", "Ada@Example.com", "u1")},
			{"email in another case", member("org1", "ADA@example.COM", "u3"), sso.ErrMemberExists, member("org1", "Ada@Example.com", "u1")},
			{"other organization", member("org2", "ada@example.com", "u4"), nil, member("org2", "ada@example.com", "u4")},
			{"Kelvin sign is another email", member("org1", "\u212Ada@example.com", "u5"), nil, member("org1", "\u212Ada@example.com", "u5")},
			{"nil", nil, sqlstore.ErrInvalidArgument, nil},
			{"no email", &sso.Member{OrgID: "org1"}, sqlstore.ErrInvalidArgument, nil},
			{"NUL in email", member("org1", "a\x00@example.com", "u6"), sqlstore.ErrInvalidArgument, nil},
		}
		for _, tt := range tests {
			got, err := st.CreateMember(ctx, tt.m)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("%s: CreateMember() err = %v; want %v", tt.name, err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s: CreateMember() = %+v; want %+v", tt.name, got, tt.want)
			}
		}
		if m, err := st.Member(ctx, "org1", "ada@example.com"); err != nil || m.UserID != "u1" {
			t.Errorf("Member(ada) after the refused creates = %+v, %v; want u1's", m, err)
		}
	})
}

// TestCreateMemberRace: of concurrent creators of one email, on several
// handles of one database, exactly one creates it, and every other gets
// ErrMemberExists with the winner's member.
func TestCreateMemberRace(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func() *sqlstore.Store) {
		stores := []*sqlstore.Store{open(), open()}
		ctx := t.Context()
		const racers = 20
		for round := range 3 {
			email := fmt.Sprintf("user%d@example.com", round)
			errs := make([]error, racers)
			got := make([]*sso.Member, racers)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range racers {
				wg.Go(func() {
					<-start
					got[i], errs[i] = stores[i%len(stores)].CreateMember(ctx, member("org1", email, fmt.Sprintf("u%d-%d", round, i)))
				})
			}
			close(start)
			wg.Wait()
			winner := slices.IndexFunc(errs, func(err error) bool { return err == nil })
			if winner < 0 {
				t.Fatalf("round %d: no creator won: %v", round, errs)
			}
			for i, err := range errs {
				switch {
				case i == winner:
				case err == nil:
					t.Errorf("round %d: creators %d and %d both created %s", round, winner, i, email)
				case !errors.Is(err, sso.ErrMemberExists):
					t.Errorf("round %d: creator %d err = %v; want ErrMemberExists", round, i, err)
				case got[i] == nil || got[i].UserID != got[winner].UserID:
					t.Errorf("round %d: creator %d got %+v; want the winner's member %+v", round, i, got[i], got[winner])
				}
			}
		}
	})
}

func TestUpdateDeleteMember(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func() *sqlstore.Store) {
		st, ctx := open(), t.Context()
		if _, err := st.CreateMember(ctx, member("org1", "ada@example.com", "u1")); err != nil {
			t.Fatal(err)
		}
		upd := member("org1", "ADA@example.com", "u1")
		upd.OrgRole, upd.StackRoles, upd.AllowWithoutSSO = rolemap.RoleAdmin, nil, false
		if err := st.UpdateMember(ctx, upd); err != nil {
			t.Fatalf("UpdateMember(ada) err = %v", err)
		}
		if got, err := st.Member(ctx, "org1", "ada@example.com"); err != nil || !reflect.DeepEqual(got, upd) {
			t.Errorf("Member(ada) after UpdateMember = %+v, %v; want %+v (the email as updated)", got, err, upd)
		}
		tests := []struct {
			name    string
			call    func() error
			wantErr error
		}{
			{"update unknown", func() error { return st.UpdateMember(ctx, member("org1", "bob@example.com", "u2")) }, sso.ErrNotFound},
			{"update in other org", func() error { return st.UpdateMember(ctx, member("org2", "ada@example.com", "u1")) }, sso.ErrNotFound},
			{"update nil", func() error { return st.UpdateMember(ctx, nil) }, sqlstore.ErrInvalidArgument},
			{"delete unknown", func() error { return st.DeleteMember(ctx, "org1", "bob@example.com") }, sso.ErrNotFound},
			{"delete invalid email", func() error { return st.DeleteMember(ctx, "org1", "\xff") }, sqlstore.ErrInvalidArgument},
			{"delete", func() error { return st.DeleteMember(ctx, "org1", "Ada@Example.com") }, nil},
			{"delete again", func() error { return st.DeleteMember(ctx, "org1", "ada@example.com") }, sso.ErrNotFound},
			{"update removed", func() error { return st.UpdateMember(ctx, upd) }, sso.ErrNotFound},
		}
		for _, tt := range tests {
			if err := tt.call(); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("%s: err = %v; want %v", tt.name, err, tt.wantErr)
			}
		}
		// UpdateMember never creates.
		if _, err := st.Member(ctx, "org1", "bob@example.com"); !errors.Is(err, sso.ErrNotFound) {
			t.Errorf("Member(bob) err = %v; want ErrNotFound", err)
		}
		if _, err := st.Member(ctx, "org1", "ada@example.com"); !errors.Is(err, sso.ErrNotFound) {
			t.Errorf("Member(ada) after DeleteMember err = %v; want ErrNotFound", err)
		}
	})
}

func TestMemberByUserID(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func() *sqlstore.Store) {
		st, ctx := open(), t.Context()
		for _, m := range []*sso.Member{
			member("org1", "zed@example.com", "u1"),
			member("org1", "Bob@example.com", "u1"), // key bob@…: the lowest of u1's
			member("org1", "carl@example.com", "u1"),
			member("org1", "ada@example.com", "u2"),
			member("org2", "aaa@example.com", "u1"),
			member("org1", "nouser@example.com", ""),
		} {
			if err := st.SaveMember(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			org, user string
			wantEmail string
			wantErr   error
		}{
			{"org1", "u1", "Bob@example.com", nil},
			{"org1", "u2", "ada@example.com", nil},
			{"org2", "u1", "aaa@example.com", nil},
			{"org1", "u3", "", sso.ErrNotFound},
			{"org3", "u1", "", sso.ErrNotFound},
			{"org1", "U1", "", sso.ErrNotFound}, // user IDs match exactly
			{"org1", "u1\xff", "", sso.ErrNotFound},
			{"org1", "", "", sso.ErrNotFound}, // not the member saved without a user ID
		}
		for _, tt := range tests {
			m, err := st.MemberByUserID(ctx, tt.org, tt.user)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) || (err == nil && m.Email != tt.wantEmail) {
				t.Errorf("MemberByUserID(%s, %q) = %+v, %v; want %s, %v", tt.org, tt.user, m, err, tt.wantEmail, tt.wantErr)
			}
		}
	})
}

func TestMembers(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func() *sqlstore.Store) {
		st, ctx := open(), t.Context()
		// Bytewise key order: "a-" < "a." < "a@" < "b" < "z" < "é".
		emails := []string{"b@x", "Z@x", "a.b@x", "A@x", "\u00e9@x", "a-c@x", "C@x"}
		for i, e := range emails {
			if err := st.SaveMember(ctx, member("org1", e, fmt.Sprint("u", i))); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.SaveMember(ctx, member("org2", "a@x", "other")); err != nil {
			t.Fatal(err)
		}
		all := []string{"a-c@x", "a.b@x", "A@x", "b@x", "C@x", "Z@x", "\u00e9@x"}
		tests := []struct {
			after   string
			limit   int
			want    []string
			wantErr error
		}{
			{"", 0, nil, sqlstore.ErrInvalidArgument}, // the Service maps 0 to sso.DefaultListLimit
			{"", 100, all, nil},
			{"", 3, all[:3], nil},
			{"a@x", 3, all[3:6], nil},
			{"A@X", 3, all[3:6], nil}, // an email works as the cursor: it is taken by its key
			{"b", 10, all[3:], nil},   // a key no member has
			{"z@x", 10, all[6:], nil},
			{"\u00e9@x", 10, nil, nil},
			{"", sso.MaxListLimit, all, nil},
			{"", -1, nil, sqlstore.ErrInvalidArgument},
			{"", sso.MaxListLimit + 1, nil, sqlstore.ErrInvalidArgument},
			{"\xff", 1, nil, sqlstore.ErrInvalidArgument},
		}
		for _, tt := range tests {
			list, err := st.Members(ctx, "org1", tt.after, tt.limit)
			var got []string
			for _, m := range list {
				got = append(got, m.Email)
			}
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) || !slices.Equal(got, tt.want) {
				t.Errorf("Members(org1, %q, %d) = %q, %v; want %q, %v", tt.after, tt.limit, got, err, tt.want, tt.wantErr)
			}
		}
		// Paging by the last email visits every member once.
		var paged []string
		for after := ""; ; {
			page, err := st.Members(ctx, "org1", after, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range page {
				paged = append(paged, m.Email)
			}
			if len(page) < 2 {
				break
			}
			after = page[len(page)-1].Email
		}
		if !slices.Equal(paged, all) {
			t.Errorf("paging by 2 = %q; want %q", paged, all)
		}
		if list, err := st.Members(ctx, "", "", 10); !errors.Is(err, sqlstore.ErrInvalidArgument) {
			t.Errorf("Members(\"\") = %v, %v; want ErrInvalidArgument", list, err)
		}
		if list, err := st.Members(ctx, "org3", "", 10); err != nil || len(list) != 0 {
			t.Errorf("Members(org3) = %v, %v; want none", list, err)
		}
		if list, err := st.Members(ctx, "org2", "", 10); err != nil || len(list) != 1 || !reflect.DeepEqual(list[0], member("org2", "a@x", "other")) {
			t.Errorf("Members(org2) = %+v, %v; want the one member, every field", list, err)
		}
	})
}

// TestCreateMemberStaleRegistry: rows a replica of schema 4 writes during a
// rolling upgrade, bypassing the user ID registry: a member it stores
// unregistered still holds its user ID against CreateMember, and a
// registered member it removes does not hold it any more.
func TestCreateMemberStaleRegistry(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func() *sqlstore.Store) {
		st, ctx := open(), t.Context()
		db := st.DB()
		q := func(query string) string {
			if st.Dialect() == sqlstore.Postgres {
				for i := 1; strings.Contains(query, "?"); i++ {
					query = strings.Replace(query, "?", "$"+strconv.Itoa(i), 1)
				}
			}
			return query
		}
		if _, err := db.ExecContext(ctx, q(`INSERT INTO members (org_id, email_key, email, user_id, first_name, last_name, org_role, stack_roles, allow_without_sso)
			VALUES (?, ?, ?, ?, '', '', 'member', '{}', `+map[bool]string{true: "false", false: "0"}[st.Dialect() == sqlstore.Postgres]+`)`),
			"org1", "old@example.com", "old@example.com", "u-old"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateMember(ctx, member("org1", "new@example.com", "u-old")); !errors.Is(err, sso.ErrUserIDTaken) {
			t.Errorf("CreateMember(u-old) beside an unregistered holder err = %v; want ErrUserIDTaken", err)
		}
		if _, err := st.CreateMember(ctx, member("org1", "ada@example.com", "u1")); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, q(`DELETE FROM members WHERE org_id = ? AND email_key = ?`), "org1", "ada@example.com"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateMember(ctx, member("org1", "bob@example.com", "u1")); err != nil {
			t.Errorf("CreateMember(u1) after its holder was removed behind the registry's back err = %v; want nil", err)
		}
		if _, err := st.CreateMember(ctx, member("org1", "cy@example.com", "u1")); !errors.Is(err, sso.ErrUserIDTaken) {
			t.Errorf("CreateMember(u1) once bob took it over err = %v; want ErrUserIDTaken", err)
		}
	})
}
