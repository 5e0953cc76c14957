// Package migrationtest tests sqlstore's data migrations on a real database
// written by an earlier migration set, for store/sqlite and store/postgres
// alike. Like storetest, it is for tests only.
package migrationtest

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/sqlstore"
)

// EmailKeyMigration is the file name suffix of the migration that rewrites
// member email keys from strings.ToLower to sso.MemberEmailKey. Its number
// may change when migrations are merged; the tests find it by name.
const EmailKeyMigration = "_email_key_ascii.sql"

// ApplyBefore brings the empty database db to the schema the migrations of
// dir (the dialect's directory of store/sqlstore/migrations, on disk) made
// before the first one whose name ends in suffix, as sqlstore itself would:
// each file applied and recorded in schema_migrations. It returns the version
// of that migration.
func ApplyBefore(t testing.TB, db *sql.DB, dir, suffix string, ph func(n int) string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), `CREATE TABLE schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL
	)`); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries { // sorted by name
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		prefix, _, _ := strings.Cut(name, "_")
		v, err := strconv.Atoi(prefix)
		if err != nil {
			t.Fatalf("migration %s: %v", name, err)
		}
		if strings.HasSuffix(name, suffix) {
			return v
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(t.Context(), string(b)); err != nil {
			t.Fatalf("migration %s: %v", name, err)
		}
		if _, err := db.ExecContext(t.Context(),
			`INSERT INTO schema_migrations (version, name, applied_at) VALUES (`+ph(1)+`, `+ph(2)+`, '')`, v, name); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatalf("no migration *%s in %s", suffix, dir)
	return 0
}

// oldRows are the members written under the old key rule, strings.ToLower:
// org ID and email. None shares an old key with another of its organization,
// as the old primary key required.
var oldRows = [][2]string{
	{"org1", "Kate@Acme.Example"},           // ASCII: key unchanged
	{"org1", "\u212Aelvin@acme.example"},    // Kelvin sign: was keyed "kelvin@…", the merge
	{"org1", "ÅSA@Acme.Example"},            // was "åsa@…"
	{"org1", "İVAN@acme.example"},           // dotted capital I: was "ivan@…"
	{"org1", "STRAẞE@acme.example"},         // capital sharp s: was "straße@…"
	{"org1", "ΟΔΥΣΣΕΥΣ@acme.example"},       // Greek capitals: were "οδυσσευσ@…"
	{"org1", "jose\u0301@ACME.example"},     // NFD: only ASCII changes
	{"org2", "kelvin@acme.example"},         // the old key of org1's Kelvin row, in another org
	{"org2", "\u00c5sa@acme.example"},       // was "åsa@…"
	{"org2", "plain@acme.example"},          // unchanged
	{"org2", "\u0130@acme.example"},         // a one-letter local part
	{"org3", "x\u212A\u212A\u212A@ACME.EX"}, // several Kelvin signs
}

// InsertOldRows writes oldRows into the members table of a schema made by
// ApplyBefore, keyed as the old code did.
func InsertOldRows(t testing.TB, db *sql.DB, ph func(n int) string) {
	t.Helper()
	q := `INSERT INTO members (org_id, email_key, email, user_id, first_name, last_name, org_role, stack_roles, allow_without_sso)
		VALUES (` + ph(1) + `, ` + ph(2) + `, ` + ph(3) + `, ` + ph(4) + `, 'First', 'Last', 'member', '{}', ` + ph(5) + `)`
	for i, r := range oldRows {
		if _, err := db.ExecContext(t.Context(), q, r[0], strings.ToLower(r[1]), r[1], "user-"+strconv.Itoa(i), false); err != nil {
			t.Fatalf("insert %q: %v", r[1], err)
		}
	}
}

// CheckRekeyed checks a store opened (and so migrated) on a database that
// InsertOldRows filled: every key is sso.MemberEmailKey of its email, every
// member is found by its email in any ASCII case and by nothing else, the
// migration is recorded once, and the store works on.
func CheckRekeyed(t *testing.T, st *sqlstore.Store, version int) {
	t.Helper()
	ctx := t.Context()
	db := st.DB()

	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = `+strconv.Itoa(version)).Scan(&n); err != nil || n != 1 {
		t.Errorf("schema_migrations has version %d %d times (%v); want once", version, n, err)
	}
	rows, err := db.QueryContext(ctx, `SELECT org_id, email, email_key FROM members`)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for rows.Next() {
		var org, email, key string
		if err := rows.Scan(&org, &email, &key); err != nil {
			t.Fatal(err)
		}
		seen++
		if want := sso.MemberEmailKey(email); key != want {
			t.Errorf("member %s/%q has email_key %q; want %q", org, email, key, want)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if seen != len(oldRows) {
		t.Errorf("members has %d rows after the migration; want %d", seen, len(oldRows))
	}

	for i, r := range oldRows {
		for _, lookup := range []string{r[1], asciiUpper(r[1]), sso.MemberEmailKey(r[1])} {
			m, err := st.Member(ctx, r[0], lookup)
			if err != nil || m.Email != r[1] || m.UserID != "user-"+strconv.Itoa(i) {
				t.Errorf("Member(%s, %q) = %+v, %v; want the member %q", r[0], lookup, m, err, r[1])
			}
		}
	}
	// Spellings that matched before the migration through Unicode
	// lowercasing no longer do.
	for _, l := range [][2]string{
		{"org1", "kelvin@acme.example"}, {"org1", "åsa@acme.example"}, {"org1", "ivan@acme.example"},
		{"org1", "straße@acme.example"}, {"org1", "οδυσσευσ@acme.example"}, {"org2", "åsa@acme.example"},
		{"org2", "i@acme.example"}, {"org3", "xkkk@acme.ex"},
	} {
		if m, err := st.Member(ctx, l[0], l[1]); !errors.Is(err, sso.ErrNotFound) {
			t.Errorf("Member(%s, %q) = %+v, %v; want ErrNotFound: it belongs to another address", l[0], l[1], m, err)
		}
	}
	// The address the Kelvin sign used to stand for is a member of its own
	// now, and the Kelvin-sign member is untouched.
	if err := st.SaveMember(ctx, &sso.Member{OrgID: "org1", Email: "kelvin@acme.example", UserID: "user-new"}); err != nil {
		t.Fatalf("SaveMember(kelvin@) err = %v", err)
	}
	if m, err := st.Member(ctx, "org1", "\u212Aelvin@acme.example"); err != nil || m.UserID != "user-1" {
		t.Errorf("Member(Kelvin-sign address) after saving kelvin@ = %+v, %v; want user-1", m, err)
	}
	if m, err := st.Member(ctx, "org1", "KELVIN@acme.example"); err != nil || m.UserID != "user-new" {
		t.Errorf("Member(KELVIN@) = %+v, %v; want user-new", m, err)
	}
	if _, err := st.Member(ctx, "org1", "kelvin\xff@acme.example"); !errors.Is(err, session.ErrInvalidArgument) {
		t.Errorf("Member(invalid UTF-8) err = %v; want ErrInvalidArgument", err)
	}
}

// asciiUpper upper-cases ASCII letters only: the spellings a member is
// still found by.
func asciiUpper(s string) string {
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' {
			return r - ('a' - 'A')
		}
		return r
	}, s)
}
