package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/orgsso/orgsso/store/internal/migrationtest"
	"github.com/orgsso/orgsso/store/sqlite"
)

// TestMigrateEmailKeys: a SQLite file written by the migrations before the
// email-key one, with members keyed by strings.ToLower, is migrated by Open:
// keys become sso.MemberEmailKey, the Kelvin sign no longer stands for "k".
func TestMigrateEmailKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	ph := func(int) string { return "?" }
	version := migrationtest.ApplyBefore(t, db, filepath.Join("..", "sqlstore", "migrations", "sqlite"), migrationtest.EmailKeyMigration, ph)
	migrationtest.InsertOldRows(t, db, ph)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	st := open(t, path)
	migrationtest.CheckRekeyed(t, st, version)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopening applies nothing again and finds the same members.
	st, err = sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if m, err := st.Member(t.Context(), "org1", "\u212AELVIN@acme.example"); err != nil || m.UserID != "user-1" {
		t.Errorf("after reopening: Member(Kelvin-sign address) = %+v, %v; want user-1", m, err)
	}
}

// TestMigrateVersions: a SQLite file written by the migrations before the
// versions one, by the code of that schema, is migrated by Open:
// organizations get version 1 and SSO epoch 0, sessions epoch 0 and no end
// reason, and the (org_id, user_id) indexes exist.
func TestMigrateVersions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	ph := func(int) string { return "?" }
	version := migrationtest.ApplyBefore(t, db, filepath.Join("..", "sqlstore", "migrations", "sqlite"), migrationtest.VersionsMigration, ph)
	migrationtest.InsertPreVersionRows(t, db, ph)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	migrationtest.CheckVersioned(t, open(t, path), version)
}

// TestMigrateMemberUsers: a SQLite file whose members share user IDs, as
// SaveMember let hosts store them, is migrated by Open without error: the
// user ID registry names the member with the lowest email key, and
// CreateMember refuses a held user ID.
func TestMigrateMemberUsers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	ph := func(int) string { return "?" }
	version := migrationtest.ApplyBefore(t, db, filepath.Join("..", "sqlstore", "migrations", "sqlite"), migrationtest.MemberUsersMigration, ph)
	migrationtest.InsertDuplicateUserRows(t, db, ph)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	migrationtest.CheckMemberUsers(t, open(t, path), version)
}

// TestMigrateConnections: a SQLite file on disk written by the migrations
// before the connections one, by the code of that schema (organizations
// with full IdP configurations, role mappings, versions and epochs; members
// and their user ID registry; bound pending requests; sessions with epochs
// and end reasons; a used assertion), is migrated by Open with nothing
// lost: every value reads back as written, with no connections and "" for
// the new request and session fields. Connections stored after the
// migration round-trip, and are there after reopening the file.
func TestMigrateConnections(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	ph := func(int) string { return "?" }
	version := migrationtest.ApplyBefore(t, db, filepath.Join("..", "sqlstore", "migrations", "sqlite"), migrationtest.ConnectionsMigration, ph)
	migrationtest.InsertPreConnectionRows(t, db, ph)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	st, err := openNoCleanup(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(a schema %d file) err = %v", version-1, err)
	}
	migrationtest.CheckConnections(t, st, version)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopening applies nothing again and reads the same values.
	st = open(t, path)
	migrationtest.CheckConnectionsAgain(t, st)
	migrationtest.CheckEndByConnection(t, st)
}

// TestMigrateDomains: a SQLite file on disk written by the migrations
// before the domains one, by the code of that schema (the rows of
// TestMigrateConnections, and an organization with a connection, a pending
// request and a session through it), is migrated by Open with nothing lost:
// every value reads back as written, with no domains, and the verified
// domain registry is empty. Domains stored after the migration round-trip,
// a domain another organization verified is refused, and after reopening
// the file they read back alike, the registry in line with the
// organizations, and follows a further change.
func TestMigrateDomains(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	ph := func(int) string { return "?" }
	version := migrationtest.ApplyBefore(t, db, filepath.Join("..", "sqlstore", "migrations", "sqlite"), migrationtest.DomainsMigration, ph)
	migrationtest.InsertPreDomainRows(t, db, ph)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	st, err := openNoCleanup(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(a schema %d file) err = %v", version-1, err)
	}
	migrationtest.CheckDomains(t, st, version)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopening applies nothing again and reads the same values.
	migrationtest.CheckDomainsAgain(t, open(t, path))
}

// TestMigrateMetadataURLs: a SQLite file on disk written by the migrations
// before the metadata URLs one, by the code of that schema (the rows of
// TestMigrateDomains, and an organization with a SAML connection and a
// verified domain), is migrated by Open with nothing lost: every value
// reads back as written, with no metadata URL, and none is listed.
// Metadata URLs stored after the migration (the organization's own, a
// connection's) round-trip and are listed in ID order; after reopening the
// file they read back alike, and once removed are no longer listed.
func TestMigrateMetadataURLs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	ph := func(int) string { return "?" }
	version := migrationtest.ApplyBefore(t, db, filepath.Join("..", "sqlstore", "migrations", "sqlite"), migrationtest.MetadataURLsMigration, ph)
	migrationtest.InsertPreMetadataRows(t, db, ph)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	st, err := openNoCleanup(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(a schema %d file) err = %v", version-1, err)
	}
	migrationtest.CheckMetadataURLs(t, st, version)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopening applies nothing again and reads the same values.
	migrationtest.CheckMetadataURLsAgain(t, open(t, path))
}

// TestMigrateChangeCounter: a SQLite file on disk written by the
// migrations before the change counter one, by the code of that schema
// (the rows of TestMigrateMetadataURLs), is migrated by Open with nothing
// lost; the counter starts at 1, creating leaves it, and revoking writes
// raise it, those of the store and those of a replica still on schema 8
// (its plain SQL) alike. Reopening the file reads the counter as left.
func TestMigrateChangeCounter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	ph := func(int) string { return "?" }
	version := migrationtest.ApplyBefore(t, db, filepath.Join("..", "sqlstore", "migrations", "sqlite"), migrationtest.ChangeCounterMigration, ph)
	migrationtest.InsertPreChangeCounterRows(t, db, ph)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	st, err := openNoCleanup(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(a schema %d file) err = %v", version-1, err)
	}
	seq := migrationtest.CheckChangeCounter(t, st, version, ph)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	migrationtest.CheckChangeCounterAgain(t, open(t, path), version, seq)
}

// TestMigrateMFA: a SQLite file written by the migrations before the MFA
// one, by the code of that schema, is migrated by Open with nothing lost
// and MFA not required anywhere; MFA policies and the MFA tables work in
// the migrated schema and read back alike after reopening the file.
func TestMigrateMFA(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	ph := func(int) string { return "?" }
	version := migrationtest.ApplyBefore(t, db, filepath.Join("..", "sqlstore", "migrations", "sqlite"), migrationtest.MFAMigration, ph)
	migrationtest.InsertPreMFARows(t, db, ph)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := openNoCleanup(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(a schema %d file) err = %v", version-1, err)
	}
	migrationtest.CheckMFA(t, st, version)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	migrationtest.CheckMFAAgain(t, open(t, path))
}

// TestMigrateChangeCounterInserts: a SQLite file written by the migrations
// before the one that makes inserts concerning stored sessions raise the
// change counter, by the code of that schema, is migrated by Open with
// nothing lost and the counter kept; then a first sign-in raises nothing,
// a new member of a user with sessions, an organization inserted with the
// ID of sessions and a REPLACE of either (no DELETE trigger fires) raise
// it. Reopening the file reads the counter as left.
func TestMigrateChangeCounterInserts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	ph := func(int) string { return "?" }
	version := migrationtest.ApplyBefore(t, db, filepath.Join("..", "sqlstore", "migrations", "sqlite"), migrationtest.ChangeCounterInsertsMigration, ph)
	migrationtest.InsertPreChangeCounterInsertsRows(t, db, ph)
	before := migrationtest.ReadChangeSeq(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := openNoCleanup(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(a schema %d file) err = %v", version-1, err)
	}
	seq := migrationtest.CheckChangeCounterInserts(t, st, version, before)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	migrationtest.CheckChangeCounterAgain(t, open(t, path), version, seq)
}
