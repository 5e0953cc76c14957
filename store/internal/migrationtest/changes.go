package migrationtest

import (
	"database/sql"
	"strconv"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/store/sqlstore"
)

// ChangeCounterMigration is the file name suffix of the migration that
// adds the change counter and the triggers that raise it.
const ChangeCounterMigration = "_change_counter.sql"

// InsertPreChangeCounterRows writes, into a schema ApplyBefore made up to
// ChangeCounterMigration (schema 8), what the code of that schema wrote:
// the rows of InsertPreMetadataRows.
func InsertPreChangeCounterRows(t testing.TB, db *sql.DB, ph func(n int) string) {
	t.Helper()
	InsertPreMetadataRows(t, db, ph)
}

// CheckChangeCounter checks a store opened (and so migrated) on a database
// that InsertPreChangeCounterRows filled: the migration is recorded once,
// no row is lost and every old row reads back as written, and the counter
// starts at 1. Then, in the migrated schema, creating leaves the counter
// as it is; the store's own revoking writes raise it, and so do those of a
// replica still running the code of schema 8 (plain SQL of that code:
// ending a session, updating an organization, deleting a member), which
// is why triggers raise it. It returns the counter's last value, for
// CheckChangeCounterAgain.
func CheckChangeCounter(t *testing.T, st *sqlstore.Store, version int, ph func(n int) string) int64 {
	t.Helper()
	ctx := t.Context()
	db := st.DB()

	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = `+strconv.Itoa(version)).Scan(&n); err != nil || n != 1 {
		t.Errorf("schema_migrations has version %d %d times (%v); want once", version, n, err)
	}
	for table, want := range map[string]int{
		"organizations": len(oldOrgs()) + 2, "members": len(oldMembers()), "member_users": 3,
		"pending_requests": len(oldRequests()) + 1, "sessions": len(oldSessions()) + 1, "used_assertions": 1,
		"verified_domains": 1, "change_counter": 1,
	} {
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil || n != want {
			t.Errorf("%s has %d rows after the migration (%v); want %d", table, n, err, want)
		}
	}
	checkOldRows(t, st, nil)
	seq := checkSeq(t, st, "after the migration", 1, 1)

	// Creating raises nothing.
	s := &session.Session{ID: "s-new", OrgID: "org1", UserID: "u-ada", Method: session.MethodSSO,
		CreatedAt: connT, ExpiresAt: connT.Add(time.Hour)}
	if err := st.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	seq = checkSeq(t, st, "after CreateSession", seq, seq)

	// The store's revoking writes raise it.
	if err := st.DeleteSession(ctx, "s-new"); err != nil {
		t.Fatal(err)
	}
	seq = checkSeq(t, st, "after DeleteSession", seq+1, seq+1)

	// So do those of a replica still on schema 8.
	for _, w := range []struct {
		step, sql string
		args      []any
	}{
		{"a schema 8 EndSessions", `UPDATE sessions SET end_reason = ` + ph(1) + ` WHERE org_id = ` + ph(2) + ` AND end_reason = ''`,
			[]any{session.EndRevoked, "org1"}},
		{"a schema 8 UpdateOrganization", `UPDATE organizations SET version = version + 1 WHERE id = ` + ph(1), []any{"org2"}},
		{"a schema 8 DeleteMember", `DELETE FROM members WHERE org_id = ` + ph(1) + ` AND email_key = ` + ph(2),
			[]any{"org1", "ada@acme.example"}},
	} {
		res, err := db.ExecContext(ctx, w.sql, w.args...)
		if err != nil {
			t.Fatalf("%s: %v", w.step, err)
		}
		if k, err := res.RowsAffected(); err != nil || k == 0 {
			t.Fatalf("%s changed %d rows (%v); want some", w.step, k, err)
		}
		seq = checkSeq(t, st, "after "+w.step, seq+1, -1)
	}
	return seq
}

// CheckChangeCounterAgain checks, after reopening (or on another replica),
// that the counter reads as CheckChangeCounter left it (want), and that
// the migration is not applied again.
func CheckChangeCounterAgain(t *testing.T, st *sqlstore.Store, version int, want int64) {
	t.Helper()
	var n int
	if err := st.DB().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM schema_migrations WHERE version = `+strconv.Itoa(version)).Scan(&n); err != nil || n != 1 {
		t.Errorf("schema_migrations has version %d %d times after reopening (%v); want once", version, n, err)
	}
	checkSeq(t, st, "after reopening", want, want)
}

// checkSeq checks that the store's change counter is within lo..hi (hi -1:
// no upper bound) and returns it. It reads the counter's row, which the
// migrations own: ChangeSeq's value carries the schema cookie on SQLite.
func checkSeq(t *testing.T, st *sqlstore.Store, step string, lo, hi int64) int64 {
	t.Helper()
	if _, err := st.ChangeSeq(t.Context()); err != nil {
		t.Errorf("%s: ChangeSeq() err = %v", step, err)
	}
	seq := ReadChangeSeq(t, st.DB())
	if seq < lo || (hi >= 0 && seq > hi) {
		t.Errorf("%s: change_counter.seq = %d; want %d..%d", step, seq, lo, hi)
	}
	return seq
}
