package migrationtest

import (
	"database/sql"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/sqlstore"
)

// MFAMigration is the file name suffix of the migration that adds MFA
// after SSO: organizations' MFA policy and the MFA tables.
const MFAMigration = "_mfa.sql"

// InsertPreMFARows writes, into a schema ApplyBefore made up to
// MFAMigration, what the code before it wrote: the rows of
// InsertPreMetadataRows (the migrations since added columns with defaults,
// which that code leaves as they are).
func InsertPreMFARows(t testing.TB, db *sql.DB, ph func(n int) string) {
	t.Helper()
	InsertPreMetadataRows(t, db, ph)
}

// mfaPolicies are the policies CheckMFA stores: on an update (the default
// IdP values, nil), a replace (none trusted, []) and a create (its own).
var mfaPolicies = map[string]sso.MFAPolicy{
	"org1": {Required: true},
	"org7": {Required: true, TrustIdP: true, IdPValues: []string{}},
	"org9": {Required: true, TrustIdP: true, IdPValues: []string{"mfa", "https://refeds.org/profile/mfa"}},
}

// CheckMFA checks a store opened (and so migrated) on a database that
// InsertPreMFARows filled: the migration is recorded once, no row is lost,
// every organization reads back as written with MFA not required; then
// MFA policies stored in the migrated schema (UpdateOrganization,
// SaveOrganization, CreateOrganization) read back exactly, and the MFA
// tables work: a pending sign-in and an enrollment round-trip, attempts
// count. CheckMFAAgain reads them after a reopen.
func CheckMFA(t *testing.T, st *sqlstore.Store, version int) {
	t.Helper()
	ctx := t.Context()
	db := st.DB()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = `+strconv.Itoa(version)).Scan(&n); err != nil || n != 1 {
		t.Errorf("schema_migrations has version %d %d times (%v); want once", version, n, err)
	}
	for table, want := range map[string]int{
		"organizations": len(oldOrgs()) + 2, "members": len(oldMembers()), "sessions": len(oldSessions()) + 1,
		"mfa_pending": 0, "mfa_enrollments": 0, "mfa_recovery_codes": 0, "mfa_attempts": 0,
	} {
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil || n != want {
			t.Errorf("%s has %d rows after the migration (%v); want %d", table, n, err, want)
		}
	}
	// What the code before wrote reads back unchanged: MFA not required.
	checkOldRows(t, st, nil)
	org7, _, _ := schema7Org()
	checkOrgReads(t, st, "after the migration", org7)

	// Policies in the migrated schema.
	org1, err := st.Organization(ctx, "org1")
	if err != nil {
		t.Fatal(err)
	}
	org1.MFA = mfaPolicies["org1"]
	if err := st.UpdateOrganization(ctx, org1); err != nil {
		t.Fatalf("UpdateOrganization(org1 with an MFA policy) err = %v", err)
	}
	org7.MFA = mfaPolicies["org7"]
	if err := st.SaveOrganization(ctx, org7); err != nil {
		t.Fatalf("SaveOrganization(org7 with an MFA policy) err = %v", err)
	}
	org9, _, _ := schema7Org()
	org9.ID, org9.SSOName, org9.Domains, org9.MFA = "org9", "vandelay", nil, mfaPolicies["org9"]
	if err := st.CreateOrganization(ctx, org9); err != nil {
		t.Fatalf("CreateOrganization(org9 with an MFA policy) err = %v", err)
	}
	checkMFAPolicies(t, st, "after storing them")

	// The MFA tables.
	p := &sso.MFAPending{TokenHash: "hash-1", OrgID: "org1", UserID: "user-1", Email: "kate@acme.example",
		Connection: "", Epoch: 3, SessionTTL: time.Hour, ReturnTo: "/", ExpiresAt: mfaT}
	if err := st.CreateMFAPending(ctx, p); err != nil {
		t.Fatalf("CreateMFAPending() err = %v", err)
	}
	if got, err := st.AttemptMFAPending(ctx, "hash-1", 5); err != nil || got.Attempts != 1 || !got.ExpiresAt.Equal(mfaT) {
		t.Errorf("AttemptMFAPending() = %+v, %v; want 1 attempt", got, err)
	}
	if err := st.CreateMFAEnrollment(ctx, mfaEnrollment()); err != nil {
		t.Fatalf("CreateMFAEnrollment() err = %v", err)
	}
	if n, _, err := st.CountMFAAttempt(ctx, "org1", "user-1", mfaT, mfaT.Add(time.Minute)); err != nil || n != 1 {
		t.Errorf("CountMFAAttempt() = %d, %v; want 1", n, err)
	}
	checkMFAEnrollment(t, st, "after the migration")
}

// mfaT is when CheckMFA's pending sign-in expires.
var mfaT = time.Date(2026, 12, 2, 15, 4, 5, 123456789, time.UTC)

func mfaEnrollment() *sso.MFAEnrollment {
	return &sso.MFAEnrollment{OrgID: "org1", UserID: "user-1", Secret: "JBSWY3DPEHPK3PXP", LastStep: 42, RecoverySalt: "salt",
		RecoveryHashes: []string{"h2", "h1", "h3"}, CreatedAt: mfaT}
}

func checkMFAPolicies(t *testing.T, st *sqlstore.Store, step string) {
	t.Helper()
	for id, want := range mfaPolicies {
		got, err := st.Organization(t.Context(), id)
		if err != nil || !reflect.DeepEqual(got.MFA, want) {
			t.Errorf("%s: Organization(%q).MFA = %#v, %v; want %#v", step, id, got, err, want)
		}
	}
}

func checkMFAEnrollment(t *testing.T, st *sqlstore.Store, step string) {
	t.Helper()
	got, err := st.MFAEnrollment(t.Context(), "org1", "user-1")
	if want := mfaEnrollment(); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("%s: MFAEnrollment() = %#v, %v; want %#v", step, got, err, want)
	}
}

// CheckMFAAgain checks, after reopening (or on another replica), what
// CheckMFA left.
func CheckMFAAgain(t *testing.T, st *sqlstore.Store) {
	t.Helper()
	checkMFAPolicies(t, st, "after reopening")
	checkMFAEnrollment(t, st, "after reopening")
	if got, err := st.ConsumeMFAPending(t.Context(), "hash-1"); err != nil || got.Attempts != 1 || got.SessionTTL != time.Hour {
		t.Errorf("after reopening: ConsumeMFAPending() = %+v, %v; want the pending sign-in", got, err)
	}
}
