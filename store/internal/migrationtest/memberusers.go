package migrationtest

import (
	"database/sql"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/sqlstore"
)

// MemberUsersMigration is the file name suffix of the migration that adds
// the user ID registry, member_users.
const MemberUsersMigration = "_member_users.sql"

// duplicateRows are members as SaveMember could store them before the
// registry: org ID, email (its own key), user ID. Several share a user ID.
var duplicateRows = [][3]string{
	{"org1", "cat@acme.example", "u1"},
	{"org1", "ann@acme.example", "u1"},
	{"org1", "bea@acme.example", "u1"},
	{"org1", "dan@acme.example", "u2"},
	{"org1", "inv1@acme.example", ""}, // invited: no user ID
	{"org1", "inv2@acme.example", ""},
	{"org2", "zed@acme.example", "u1"}, // the same user in another organization
	{"org2", "amy@acme.example", "U1"}, // another user: IDs are case-sensitive
}

// InsertDuplicateUserRows writes duplicateRows into the members table of a
// schema ApplyBefore made up to MemberUsersMigration.
func InsertDuplicateUserRows(t testing.TB, db *sql.DB, ph func(n int) string) {
	t.Helper()
	p := make([]string, 4)
	for i := range p {
		p[i] = ph(i + 1)
	}
	q := `INSERT INTO members (org_id, email_key, email, user_id, first_name, last_name, org_role, stack_roles, allow_without_sso)
		VALUES (` + strings.Join(p, ", ") + `, 'First', 'Last', 'member', '{}', ` + falseLiteral(ph) + `)`
	for _, r := range duplicateRows {
		if _, err := db.ExecContext(t.Context(), q, r[0], r[1], r[1], r[2]); err != nil {
			t.Fatalf("insert %s/%s: %v", r[0], r[1], err)
		}
	}
}

// falseLiteral is false in the dialect whose placeholders ph makes.
func falseLiteral(ph func(n int) string) string {
	if strings.HasPrefix(ph(1), "$") {
		return "false"
	}
	return "0"
}

// CheckMemberUsers checks a store opened (and so migrated) on a database
// that InsertDuplicateUserRows filled: the migration did not fail on the
// duplicates and is recorded once, every member is kept, the registry names
// one holder per (organization, user ID), the lowest email key, and
// CreateMember refuses a held user ID until its last holder is gone.
func CheckMemberUsers(t *testing.T, st *sqlstore.Store, version int) {
	t.Helper()
	ctx := t.Context()
	db := st.DB()

	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = `+strconv.Itoa(version)).Scan(&n); err != nil || n != 1 {
		t.Errorf("schema_migrations has version %d %d times (%v); want once", version, n, err)
	}
	for _, r := range duplicateRows {
		if m, err := st.Member(ctx, r[0], r[1]); err != nil || m.UserID != r[2] {
			t.Errorf("Member(%s, %s) = %+v, %v; want user %q", r[0], r[1], m, err, r[2])
		}
	}
	rows, err := db.QueryContext(ctx, `SELECT org_id, user_id, email_key FROM member_users ORDER BY org_id, user_id`)
	if err != nil {
		t.Fatal(err)
	}
	var got [][3]string
	for rows.Next() {
		var r [3]string
		if err := rows.Scan(&r[0], &r[1], &r[2]); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		t.Fatal(err)
	}
	want := [][3]string{
		{"org1", "u1", "ann@acme.example"},
		{"org1", "u2", "dan@acme.example"},
		{"org2", "U1", "amy@acme.example"},
		{"org2", "u1", "zed@acme.example"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("member_users = %v; want %v", got, want)
	}

	create := func(step, orgID, email, userID string, wantErr error) {
		t.Helper()
		_, err := st.CreateMember(ctx, &sso.Member{OrgID: orgID, Email: email, UserID: userID})
		if !errors.Is(err, wantErr) || (wantErr == nil) != (err == nil) {
			t.Errorf("%s: CreateMember(%s, %s, %q) err = %v; want %v", step, orgID, email, userID, err, wantErr)
		}
	}
	create("u1 held three times", "org1", "new@acme.example", "u1", sso.ErrUserIDTaken)
	create("u2 held", "org1", "new@acme.example", "u2", sso.ErrUserIDTaken)
	create("no user ID", "org1", "inv3@acme.example", "", nil)
	create("a free user ID", "org1", "u3@acme.example", "u3", nil)
	create("u1 of org2 held", "org2", "new@acme.example", "u1", sso.ErrUserIDTaken)
	// Removing the holders one by one: the user ID passes to the next.
	for _, email := range []string{"ann@acme.example", "cat@acme.example", "bea@acme.example"} {
		create("before removing "+email, "org1", "new@acme.example", "u1", sso.ErrUserIDTaken)
		if err := st.DeleteMember(ctx, "org1", email); err != nil {
			t.Fatalf("DeleteMember(%s) err = %v", email, err)
		}
	}
	create("u1 once its holders are gone", "org1", "new@acme.example", "u1", nil)
	if m, err := st.MemberByUserID(ctx, "org1", "u1"); err != nil || m.Email != "new@acme.example" {
		t.Errorf("MemberByUserID(org1, u1) = %+v, %v; want new@", m, err)
	}
}
