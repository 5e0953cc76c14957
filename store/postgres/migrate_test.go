package postgres_test

import (
	"path/filepath"
	"strconv"
	"testing"

	"github.com/orgsso/orgsso/store/internal/migrationtest"
)

// TestMigrateEmailKeys: a PostgreSQL schema written by the migrations before
// the email-key one, with members keyed by strings.ToLower, is migrated by
// Open: keys become sso.MemberEmailKey (translate, not the Unicode-aware
// lower()), the Kelvin sign no longer stands for "k".
func TestMigrateEmailKeys(t *testing.T) {
	dsn := schemaDSN(t)
	db := adminDB(t, dsn) // its search_path is the test's schema
	defer db.Close()
	ph := func(n int) string { return "$" + strconv.Itoa(n) }
	version := migrationtest.ApplyBefore(t, db, filepath.Join("..", "sqlstore", "migrations", "postgres"), migrationtest.EmailKeyMigration, ph)
	migrationtest.InsertOldRows(t, db, ph)

	migrationtest.CheckRekeyed(t, openDSN(t, dsn), version)
	// A second replica opening the migrated schema applies nothing again.
	if m, err := openDSN(t, dsn).Member(t.Context(), "org1", "\u212AELVIN@acme.example"); err != nil || m.UserID != "user-1" {
		t.Errorf("second Open: Member(Kelvin-sign address) = %+v, %v; want user-1", m, err)
	}
}

// TestMigrateVersions: a PostgreSQL schema written by the migrations before
// the versions one, by the code of that schema, is migrated by Open:
// organizations get version 1 and SSO epoch 0, sessions epoch 0 and no end
// reason, and the (org_id, user_id) indexes exist.
func TestMigrateVersions(t *testing.T) {
	dsn := schemaDSN(t)
	db := adminDB(t, dsn) // its search_path is the test's schema
	defer db.Close()
	ph := func(n int) string { return "$" + strconv.Itoa(n) }
	version := migrationtest.ApplyBefore(t, db, filepath.Join("..", "sqlstore", "migrations", "postgres"), migrationtest.VersionsMigration, ph)
	migrationtest.InsertPreVersionRows(t, db, ph)
	migrationtest.CheckVersioned(t, openDSN(t, dsn), version)
}

// TestMigrateMemberUsers: a PostgreSQL schema whose members share user IDs,
// as SaveMember let hosts store them, is migrated by Open without error:
// the user ID registry names the member with the lowest email key, and
// CreateMember refuses a held user ID.
func TestMigrateMemberUsers(t *testing.T) {
	dsn := schemaDSN(t)
	db := adminDB(t, dsn) // its search_path is the test's schema
	defer db.Close()
	ph := func(n int) string { return "$" + strconv.Itoa(n) }
	version := migrationtest.ApplyBefore(t, db, filepath.Join("..", "sqlstore", "migrations", "postgres"), migrationtest.MemberUsersMigration, ph)
	migrationtest.InsertDuplicateUserRows(t, db, ph)
	migrationtest.CheckMemberUsers(t, openDSN(t, dsn), version)
}

// TestMigrateConnections: a PostgreSQL schema written by the migrations
// before the connections one, by the code of that schema (organizations
// with full IdP configurations, role mappings, versions and epochs; members
// and their user ID registry; bound pending requests; sessions with epochs
// and end reasons; a used assertion), is migrated by Open with nothing
// lost: every value reads back as written, with no connections and "" for
// the new request and session fields. Connections stored after the
// migration round-trip, and a second replica reads them alike.
func TestMigrateConnections(t *testing.T) {
	dsn := schemaDSN(t)
	db := adminDB(t, dsn) // its search_path is the test's schema
	defer db.Close()
	ph := func(n int) string { return "$" + strconv.Itoa(n) }
	version := migrationtest.ApplyBefore(t, db, filepath.Join("..", "sqlstore", "migrations", "postgres"), migrationtest.ConnectionsMigration, ph)
	migrationtest.InsertPreConnectionRows(t, db, ph)

	migrationtest.CheckConnections(t, openDSN(t, dsn), version)
	// A second replica opening the migrated schema applies nothing again.
	st := openDSN(t, dsn)
	migrationtest.CheckConnectionsAgain(t, st)
	migrationtest.CheckEndByConnection(t, st)
}

// TestMigrateDomains: a PostgreSQL schema written by the migrations before
// the domains one, by the code of that schema (the rows of
// TestMigrateConnections, and an organization with a connection, a pending
// request and a session through it), is migrated by Open with nothing
// lost: every value reads back as written, with no domains, and the
// verified domain registry is empty. Domains stored after the migration
// round-trip, a domain another organization verified is refused, and a
// second replica reads them alike, the registry in line with the
// organizations, and follows a further change.
func TestMigrateDomains(t *testing.T) {
	dsn := schemaDSN(t)
	db := adminDB(t, dsn) // its search_path is the test's schema
	defer db.Close()
	ph := func(n int) string { return "$" + strconv.Itoa(n) }
	version := migrationtest.ApplyBefore(t, db, filepath.Join("..", "sqlstore", "migrations", "postgres"), migrationtest.DomainsMigration, ph)
	migrationtest.InsertPreDomainRows(t, db, ph)

	migrationtest.CheckDomains(t, openDSN(t, dsn), version)
	// A second replica opening the migrated schema applies nothing again.
	migrationtest.CheckDomainsAgain(t, openDSN(t, dsn))
}

// TestMigrateMetadataURLs: a PostgreSQL schema written by the migrations
// before the metadata URLs one, by the code of that schema (the rows of
// TestMigrateDomains, and an organization with a SAML connection and a
// verified domain), is migrated by Open with nothing lost: every value
// reads back as written, with no metadata URL, and none is listed.
// Metadata URLs stored after the migration (the organization's own, a
// connection's) round-trip and are listed in ID order; a second replica
// reads them alike, and once removed they are no longer listed.
func TestMigrateMetadataURLs(t *testing.T) {
	dsn := schemaDSN(t)
	db := adminDB(t, dsn) // its search_path is the test's schema
	defer db.Close()
	ph := func(n int) string { return "$" + strconv.Itoa(n) }
	version := migrationtest.ApplyBefore(t, db, filepath.Join("..", "sqlstore", "migrations", "postgres"), migrationtest.MetadataURLsMigration, ph)
	migrationtest.InsertPreMetadataRows(t, db, ph)

	migrationtest.CheckMetadataURLs(t, openDSN(t, dsn), version)
	// A second replica opening the migrated schema applies nothing again.
	migrationtest.CheckMetadataURLsAgain(t, openDSN(t, dsn))
}

// TestMigrateChangeCounter: a PostgreSQL schema written by the migrations
// before the change counter one, by the code of that schema (the rows of
// TestMigrateMetadataURLs), is migrated by Open with nothing lost; the
// counter starts at 1, creating leaves it, and revoking writes raise it,
// those of the store and those of a replica still on schema 8 (its plain
// SQL) alike. A second replica reads the counter as left.
func TestMigrateChangeCounter(t *testing.T) {
	dsn := schemaDSN(t)
	db := adminDB(t, dsn) // its search_path is the test's schema
	defer db.Close()
	ph := func(n int) string { return "$" + strconv.Itoa(n) }
	version := migrationtest.ApplyBefore(t, db, filepath.Join("..", "sqlstore", "migrations", "postgres"), migrationtest.ChangeCounterMigration, ph)
	migrationtest.InsertPreChangeCounterRows(t, db, ph)

	seq := migrationtest.CheckChangeCounter(t, openDSN(t, dsn), version, ph)
	migrationtest.CheckChangeCounterAgain(t, openDSN(t, dsn), version, seq)
}

// TestMigrateMFA: a schema written by the migrations before the MFA one,
// by the code of that schema, is migrated by Open with nothing lost and
// MFA not required anywhere; MFA policies and the MFA tables work in the
// migrated schema, and a second replica reads them alike.
func TestMigrateMFA(t *testing.T) {
	dsn := schemaDSN(t)
	db := adminDB(t, dsn) // its search_path is the test's schema
	defer db.Close()
	ph := func(n int) string { return "$" + strconv.Itoa(n) }
	version := migrationtest.ApplyBefore(t, db, filepath.Join("..", "sqlstore", "migrations", "postgres"), migrationtest.MFAMigration, ph)
	migrationtest.InsertPreMFARows(t, db, ph)

	migrationtest.CheckMFA(t, openDSN(t, dsn), version)
	migrationtest.CheckMFAAgain(t, openDSN(t, dsn))
}

// TestMigrateChangeCounterInserts: a PostgreSQL schema written by the
// migrations before the one that makes inserts concerning stored sessions,
// and TRUNCATE, raise the change counter, by the code of that schema, is
// migrated by Open with nothing lost and the counter kept; then a first
// sign-in raises nothing, a new member of a user with sessions, an
// organization inserted with the ID of sessions and a TRUNCATE of
// members, organizations or sessions raise it. A second replica reads the
// counter as left.
func TestMigrateChangeCounterInserts(t *testing.T) {
	dsn := schemaDSN(t)
	db := adminDB(t, dsn) // its search_path is the test's schema
	defer db.Close()
	ph := func(n int) string { return "$" + strconv.Itoa(n) }
	version := migrationtest.ApplyBefore(t, db, filepath.Join("..", "sqlstore", "migrations", "postgres"), migrationtest.ChangeCounterInsertsMigration, ph)
	migrationtest.InsertPreChangeCounterInsertsRows(t, db, ph)
	before := migrationtest.ReadChangeSeq(t, db)

	seq := migrationtest.CheckChangeCounterInserts(t, openDSN(t, dsn), version, before)
	migrationtest.CheckChangeCounterAgain(t, openDSN(t, dsn), version, seq)
}
