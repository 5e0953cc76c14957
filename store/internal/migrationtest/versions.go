package migrationtest

import (
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/sqlstore"
)

// VersionsMigration is the file name suffix of the migration that adds
// organization versions and SSO epochs, session epochs and end reasons, and
// the (org_id, user_id) indexes of sessions and members.
const VersionsMigration = "_versions_epochs.sql"

// RequestBindingMigration is the file name suffix of the migration that adds
// the pending requests' binding_hash.
const RequestBindingMigration = "_request_binding.sql"

// preVersionT is the instant the rows InsertPreVersionRows writes expire
// around.
var preVersionT = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// storedTime is how sqlstore stores a time.
func storedTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

// InsertPreVersionRows writes, into a schema ApplyBefore made up to
// VersionsMigration, what the code of that schema wrote: two organizations
// (org1 enabled with the SSO name "acme", org2 a draft), two members of org1
// and four sessions of org1 (s1, s2 of user u1 by SSO and password, s3 of
// u2, s4 of u1 expired at preVersionT).
func InsertPreVersionRows(t testing.TB, db *sql.DB, ph func(n int) string) {
	t.Helper()
	ctx := t.Context()
	phs := func(n int) string {
		p := make([]string, n)
		for i := range p {
			p[i] = ph(i + 1)
		}
		return strings.Join(p, ", ")
	}
	orgQ := `INSERT INTO organizations (id, sso_name, owner_id, enabled, idp_entity_id, idp_sso_url,
		idp_certificates, idp_signature_algorithm, strict_mode, session_timeout_ns,
		role_mapping_enabled, role_delimiter, role_mappings, jit_provisioning, allow_idp_initiated, attributes)
		VALUES (` + phs(16) + `)`
	for _, o := range []struct {
		id, name string
		enabled  bool
	}{{"org1", "acme", true}, {"org2", "", false}} {
		if _, err := db.ExecContext(ctx, orgQ, o.id, o.name, "u1", o.enabled, "https://idp.example/"+o.id, "https://idp.example/sso",
			`["PEM"]`, "", true, int64(2*time.Hour), false, "", `null`, true, false,
			`{"email":["mail"],"first_name":null,"last_name":null,"roles":null}`); err != nil {
			t.Fatalf("insert organization %s: %v", o.id, err)
		}
	}
	memberQ := `INSERT INTO members (org_id, email_key, email, user_id, first_name, last_name, org_role, stack_roles, allow_without_sso)
		VALUES (` + phs(9) + `)`
	for _, m := range [][2]string{{"ada@acme.example", "u1"}, {"bob@acme.example", "u2"}} {
		if _, err := db.ExecContext(ctx, memberQ, "org1", m[0], m[0], m[1], "First", "Last", "member", `{}`, false); err != nil {
			t.Fatalf("insert member %s: %v", m[0], err)
		}
	}
	sessionQ := `INSERT INTO sessions (id, org_id, user_id, method, created_at, expires_at) VALUES (` + phs(6) + `)`
	for _, s := range [][3]string{{"s1", "u1", session.MethodSSO}, {"s2", "u1", session.MethodPassword}, {"s3", "u2", session.MethodSSO}, {"s4", "u1", session.MethodSSO}} {
		expires := preVersionT.Add(time.Hour)
		if s[0] == "s4" {
			expires = preVersionT
		}
		if _, err := db.ExecContext(ctx, sessionQ, s[0], "org1", s[1], s[2], storedTime(preVersionT.Add(-time.Hour)), storedTime(expires)); err != nil {
			t.Fatalf("insert session %s: %v", s[0], err)
		}
	}
}

// CheckVersioned checks a store opened (and so migrated) on a database that
// InsertPreVersionRows filled: the migration is recorded once; organizations
// are at version 1 and SSO epoch 0, their other fields intact, and take
// compare-and-swap updates from version 1; sessions have epoch 0 and no end
// reason, are listed and ended by user; members are found by user ID; and
// the new indexes exist.
func CheckVersioned(t *testing.T, st *sqlstore.Store, version int) {
	t.Helper()
	ctx := t.Context()
	db := st.DB()

	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = `+strconv.Itoa(version)).Scan(&n); err != nil || n != 1 {
		t.Errorf("schema_migrations has version %d %d times (%v); want once", version, n, err)
	}

	for _, id := range []string{"org1", "org2"} {
		o, err := st.Organization(ctx, id)
		if err != nil {
			t.Fatalf("Organization(%s) err = %v", id, err)
		}
		if o.Version != 1 || o.SSOEpoch != 0 || o.OwnerID != "u1" || o.SessionTimeout != 2*time.Hour ||
			!slices.Equal(o.IdP.Certificates, []string{"PEM"}) || !slices.Equal(o.Attributes.Email, []string{"mail"}) {
			t.Errorf("Organization(%s) after the migration = %+v; want version 1, epoch 0, fields as written", id, o)
		}
	}
	o, err := st.OrganizationBySSOName(ctx, "acme")
	if err != nil || o.ID != "org1" || !o.Enabled {
		t.Fatalf("OrganizationBySSOName(acme) = %+v, %v; want org1, enabled", o, err)
	}
	o.SSOEpoch = 1
	o.Enabled = false
	if err := st.UpdateOrganization(ctx, o); err != nil || o.Version != 2 {
		t.Errorf("UpdateOrganization(org1 from version 1) = %v, version %d; want nil, 2", err, o.Version)
	}
	stale := *o
	stale.Version = 1
	if err := st.UpdateOrganization(ctx, &stale); !errors.Is(err, sso.ErrConflict) {
		t.Errorf("UpdateOrganization(org1 from stale version 1) err = %v; want ErrConflict", err)
	}
	if got, err := st.Organization(ctx, "org1"); err != nil || got.Version != 2 || got.SSOEpoch != 1 || got.Enabled {
		t.Errorf("Organization(org1) after the update = %+v, %v; want version 2, epoch 1, disabled", got, err)
	}
	created := &sso.Organization{ID: "org3", SSOName: "globex"}
	if err := st.CreateOrganization(ctx, created); err != nil || created.Version != 1 {
		t.Errorf("CreateOrganization(org3) = %v, version %d; want nil, 1", err, created.Version)
	}

	for _, id := range []string{"s1", "s2", "s3", "s4"} {
		s, err := st.Session(ctx, id)
		if err != nil || s.Epoch != 0 || s.EndReason != "" || !s.CreatedAt.Equal(preVersionT.Add(-time.Hour)) {
			t.Errorf("Session(%s) after the migration = %+v, %v; want epoch 0, not ended", id, s, err)
		}
	}
	list, err := st.ListSessions(ctx, session.Query{OrgID: "org1", UserID: "u1"}, preVersionT)
	if ids := sessionIDs(list); err != nil || !slices.Equal(ids, []string{"s1", "s2"}) {
		t.Errorf("ListSessions(org1, u1) = %v, %v; want [s1 s2] (s4 expired)", ids, err)
	}
	if n, err := st.EndSessions(ctx, session.Query{OrgID: "org1", UserID: "u1", Method: session.MethodSSO}, session.EndSSODisabled); err != nil || n != 2 {
		t.Errorf("EndSessions(org1, u1, sso) = %d, %v; want 2 (s1, s4)", n, err)
	}
	if s, err := st.Session(ctx, "s1"); err != nil || s.EndReason != session.EndSSODisabled {
		t.Errorf("Session(s1) after EndSessions = %+v, %v; want ended, %s", s, err, session.EndSSODisabled)
	}
	if m, err := st.MemberByUserID(ctx, "org1", "u2"); err != nil || m.Email != "bob@acme.example" {
		t.Errorf("MemberByUserID(org1, u2) = %+v, %v; want bob", m, err)
	}

	var q string
	switch st.Dialect() {
	case sqlstore.SQLite:
		q = `SELECT name FROM sqlite_master WHERE type = 'index'`
	case sqlstore.Postgres:
		q = `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()`
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var indexes []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		indexes = append(indexes, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"sessions_org_id_user_id", "members_org_id_user_id"} {
		if !slices.Contains(indexes, want) {
			t.Errorf("index %s missing after the migration; indexes: %v", want, indexes)
		}
	}
}

// sessionIDs returns the IDs of list.
func sessionIDs(list []*session.Session) []string {
	ids := make([]string, len(list))
	for i, s := range list {
		ids[i] = s.ID
	}
	return ids
}
