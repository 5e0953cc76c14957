package migrationtest

import (
	"database/sql"
	"strconv"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/sqlstore"
)

// ChangeCounterInsertsMigration is the file name suffix of the migration
// that makes inserts which concern stored sessions (and, on PostgreSQL,
// TRUNCATE) raise the change counter.
const ChangeCounterInsertsMigration = "_change_counter_inserts.sql"

// InsertPreChangeCounterInsertsRows writes, into a schema ApplyBefore made
// up to ChangeCounterInsertsMigration, what the code before it wrote: the
// rows of InsertPreMetadataRows (the migrations since added columns with
// defaults, which that code leaves as they are).
func InsertPreChangeCounterInsertsRows(t testing.TB, db *sql.DB, ph func(n int) string) {
	t.Helper()
	InsertPreMetadataRows(t, db, ph)
}

// ReadChangeSeq reads the change counter with plain SQL (before a store
// opens the database).
func ReadChangeSeq(t testing.TB, db *sql.DB) int64 {
	t.Helper()
	var seq int64
	if err := db.QueryRowContext(t.Context(), `SELECT seq FROM change_counter WHERE id = 1`).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	return seq
}

// CheckChangeCounterInserts checks a store opened (and so migrated) on a
// database that InsertPreChangeCounterInsertsRows filled, whose counter
// read want before: the migration is recorded once, no row is lost, and
// the counter is as it was. Then, in the migrated schema: a first sign-in
// (a new member, then its session, in one transaction) leaves the counter
// as it is, and so does a new member of a user with sessions in another
// organization only; a new member of a user who has sessions in the
// organization raises it (SaveMember, and plain SQL of a writer that is no
// store), and so does an organization inserted with the ID of stored
// sessions. On SQLite, REPLACE of a member or an organization (whose
// implicit delete fires no trigger) raises it; on PostgreSQL, TRUNCATE of
// sessions, organizations or members does. It returns the counter's last
// value, for CheckChangeCounterAgain.
func CheckChangeCounterInserts(t *testing.T, st *sqlstore.Store, version int, want int64) int64 {
	t.Helper()
	ctx := t.Context()
	db := st.DB()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = `+strconv.Itoa(version)).Scan(&n); err != nil || n != 1 {
		t.Errorf("schema_migrations has version %d %d times (%v); want once", version, n, err)
	}
	for table, want := range map[string]int{
		"organizations": len(oldOrgs()) + 2, "members": len(oldMembers()), "sessions": len(oldSessions()) + 1, "change_counter": 1,
	} {
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil || n != want {
			t.Errorf("%s has %d rows after the migration (%v); want %d", table, n, err, want)
		}
	}
	checkOldRows(t, st, nil)
	seq := checkSeq(t, st, "after the migration", want, want)

	// Quiet: a first sign-in, a new member of a user with sessions
	// elsewhere only.
	err := st.SignIn(ctx, func(tx sso.SignInTx) bool {
		if _, err := tx.CreateMember(ctx, &sso.Member{OrgID: "org1", Email: "new@acme.example", UserID: "u-new"}); err != nil {
			t.Errorf("first sign-in: CreateMember err = %v", err)
			return false
		}
		s := &session.Session{ID: "s-new", OrgID: "org1", UserID: "u-new", Method: session.MethodSSO,
			CreatedAt: connT, ExpiresAt: connT.Add(time.Hour)}
		if err := tx.CreateSession(ctx, s); err != nil {
			t.Errorf("first sign-in: CreateSession err = %v", err)
			return false
		}
		return true
	})
	if err != nil {
		t.Fatalf("first sign-in: %v", err)
	}
	seq = checkSeq(t, st, "after a first sign-in", seq, seq)
	if _, err := st.CreateMember(ctx, &sso.Member{OrgID: "org2", Email: "ada@acme.example", UserID: "u-ada"}); err != nil {
		t.Fatal(err)
	}
	seq = checkSeq(t, st, "after a new member of a user with sessions in another organization", seq, seq)

	// Raising: new rows that concern stored sessions.
	if err := st.SaveMember(ctx, &sso.Member{OrgID: "org1", Email: "aaa@acme.example", UserID: "u-ada"}); err != nil {
		t.Fatal(err)
	}
	seq = checkSeq(t, st, "after SaveMember of a new member of a user with sessions", seq+1, seq+1)
	ph := placeholders(st.Dialect())
	if _, err := db.ExecContext(ctx, `INSERT INTO members (org_id, email_key, email, user_id, first_name, last_name, org_role, stack_roles,
		allow_without_sso) SELECT org_id, `+ph(1)+`, `+ph(2)+`, user_id, first_name, last_name, org_role, stack_roles, allow_without_sso
		FROM members WHERE org_id = `+ph(3)+` AND email_key = `+ph(4), "aab@acme.example", "aab@acme.example", "org1", "aaa@acme.example"); err != nil {
		t.Fatalf("plain INSERT of a member: %v", err)
	}
	seq = checkSeq(t, st, "after a plain INSERT of a member of a user with sessions", seq+1, seq+1)
	if err := st.CreateSession(ctx, &session.Session{ID: "s-gone-org", OrgID: "org-gone", UserID: "u-x", Method: session.MethodSSO,
		CreatedAt: connT, ExpiresAt: connT.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	seq = checkSeq(t, st, "after CreateSession", seq, seq)
	org, _, _ := schema7Org()
	org.ID, org.SSOName, org.Domains = "org-gone", "gone", nil
	if err := st.SaveOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	seq = checkSeq(t, st, "after SaveOrganization of a new organization with sessions of its ID", seq+1, seq+1)

	// What fires no UPDATE or DELETE trigger.
	var writes []string
	switch st.Dialect() {
	case sqlstore.SQLite:
		writes = []string{
			`REPLACE INTO members SELECT * FROM members WHERE org_id = 'org1' AND email_key = 'ada@acme.example'`,
			`REPLACE INTO organizations SELECT * FROM organizations WHERE id = 'org1'`,
			`REPLACE INTO sessions SELECT * FROM sessions WHERE org_id = 'org1' LIMIT 1`,
		}
	case sqlstore.Postgres:
		writes = []string{`TRUNCATE members`, `TRUNCATE organizations`, `TRUNCATE sessions`}
	}
	for _, w := range writes {
		if _, err := db.ExecContext(ctx, w); err != nil {
			t.Fatalf("%s: %v", w, err)
		}
		// A REPLACE raises for the row in the way (BEFORE INSERT) and, on
		// members and organizations, for the row inserted (AFTER INSERT).
		seq = checkSeq(t, st, "after "+w, seq+1, seq+2)
	}
	return seq
}

// placeholders returns the dialect's placeholder for argument n.
func placeholders(d sqlstore.Dialect) func(n int) string {
	if d == sqlstore.Postgres {
		return func(n int) string { return "$" + strconv.Itoa(n) }
	}
	return func(int) string { return "?" }
}
