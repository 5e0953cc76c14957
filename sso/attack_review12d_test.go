package sso_test

// Attacker review 12d: a short re-attack of the 12c fixes (33bf423: a
// PostgreSQL notification only drops the session cache; SQLite BEFORE
// INSERT triggers for REPLACE) and of the SQLite schema cookie folded into
// ChangeSeq (99765d1). The test named ..._Finding... showed the finding
// (a backup of an older schema drops the later triggers) and passes since
// its fix (151bdca); every other test is an attempt that held. Store-level attempts (the schema cookie
// under DDL/VACUUM/ANALYZE, the MFA refactors of be855bf) are in
// store/sqlite/attack_review12d_test.go.

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/memory"
	"github.com/orgsso/orgsso/store/sqlstore"
)

// ar12dWatchStore is a memory store whose ChangeWatcher is the attacker:
// every value sent on forged reaches the Service as a notification.
type ar12dWatchStore struct {
	*memory.Store
	forged chan int64
}

// WatchChanges implements sso.ChangeWatcher with the forged values.
func (s *ar12dWatchStore) WatchChanges(ctx context.Context, changed func(seq int64)) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case seq := <-s.forged:
			changed(seq)
		}
	}
}

// TestAttackReview12d_ForgedNotificationsHeld: whatever a notification
// says (the next value, the largest int64, a burst of many, values lower
// than or equal to the counter, sent before and after the revocation, in
// any order), a replica refuses a revoked session within MaxStaleness: a
// notification drops the cache at most, and the counter a replica compares
// with is a poll's (sessionCache.advance/confirm). Deterministic: the
// watcher is the test's.
func TestAttackReview12d_ForgedNotificationsHeld(t *testing.T) {
	const maxStale = 400 * time.Millisecond
	for _, tt := range []struct {
		name          string
		before, after func(seq int64) []int64
	}{
		{"next value before", func(s int64) []int64 { return []int64{s + 1} }, nil},
		{"max int64 before", func(s int64) []int64 { return []int64{math.MaxInt64} }, nil},
		{"burst before", func(s int64) []int64 {
			out := make([]int64, 0, 1000)
			for i := range int64(1000) {
				out = append(out, s+1+i)
			}
			return out
		}, nil},
		{"stale values after", func(s int64) []int64 { return []int64{s + 1} },
			func(s int64) []int64 { return []int64{s, s - 1, 0, math.MinInt64, s + 1} }},
		{"reordered around", func(s int64) []int64 { return []int64{s + 3, s + 2, s + 1} },
			func(s int64) []int64 { return []int64{s + 1, s, s + 2} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := &ar12dWatchStore{Store: memory.New(), forged: make(chan int64)}
			svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: st,
				Sessions: session.NewManager(st), SessionCache: sso.SessionCacheConfig{MaxStaleness: maxStale}})
			require.NoError(t, err)
			ar12bRun(t, svc)
			org := ar12bOrg(t, st, "org-ar12d-forged")
			token := ar12bSession(t, st, time.Now, org, session.MethodSSO)
			ar12bWarm(t, svc, token)
			seq, err := st.ChangeSeq(context.Background())
			require.NoError(t, err)

			for _, v := range tt.before(seq) {
				st.forged <- v
			}
			assert.Equal(t, seq, svc.SessionCacheStats().ChangeSeq, "a notification is no counter value")
			ar12bWarm(t, svc, token) // cached again after the forged drops

			require.NoError(t, session.NewManager(st).Revoke(context.Background(), token))
			written := time.Now()
			if tt.after != nil {
				for _, v := range tt.after(seq) {
					st.forged <- v
				}
			}
			ar12bRefusedWithin(t, svc, token, written, maxStale)
		})
	}
}

// TestAttackReview12d_PostgresNotificationFloodHeld: a connection that
// touches no table floods orgsso_changes with forged payloads for the
// store's schema (the next values, the largest int64, malformed ones:
// "+n", "0x..", extra fields, no seq, 2^63) before and while a session is
// revoked. Replica B's listener keeps running (a later real revocation
// still drops B's cache at once), its counter stays a poll's value, and
// the revoked session is refused within MaxStaleness.
func TestAttackReview12d_PostgresNotificationFloodHeld(t *testing.T) {
	db := ar12bPostgres(t)
	const maxStale = 2 * time.Second
	svcB := ar12bReplica(t, db.b, time.Now, sso.SessionCacheConfig{MaxStaleness: maxStale})
	org := ar12bOrg(t, db.a, "org-ar12d-flood")
	token := ar12bSession(t, db.a, time.Now, org, session.MethodSSO)
	ar12bWarm(t, svcB, token)

	var schema string
	require.NoError(t, db.raw.QueryRow(`SELECT current_schema()`).Scan(&schema))
	seq, err := db.a.(sso.ChangeFeed).ChangeSeq(context.Background())
	require.NoError(t, err)
	payloads := []string{
		fmt.Sprintf("%s %d", schema, int64(math.MaxInt64)),
		fmt.Sprintf("%s +%d", schema, seq+1),
		fmt.Sprintf("%s 0x%x", schema, seq+1),
		fmt.Sprintf("%s %d %d", schema, seq+1, seq+2),
		schema, schema + " ", schema + " 9223372036854775808",
		fmt.Sprintf(" %s %d", schema, seq+1),
	}
	for i := range int64(500) {
		payloads = append(payloads, fmt.Sprintf("%s %d", schema, seq+1+i))
	}
	flood := func() {
		tx, err := db.raw.Begin()
		require.NoError(t, err)
		for _, p := range payloads {
			_, err := tx.Exec(`SELECT pg_notify('orgsso_changes', $1)`, p)
			require.NoError(t, err)
		}
		require.NoError(t, tx.Commit())
	}
	flood()
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, seq, svcB.SessionCacheStats().ChangeSeq, "a notification is no counter value")
	ar12bWarm(t, svcB, token)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); flood() }()
	require.NoError(t, session.NewManager(db.a).Revoke(context.Background(), token))
	written := time.Now()
	ar12bRefusedWithin(t, svcB, token, written, maxStale)
	wg.Wait()

	// The listener survived the malformed payloads: a real revocation
	// drops B's cache well before the next polls could.
	token2 := ar12bSession(t, db.a, time.Now, org, session.MethodSSO)
	ar12bWarm(t, svcB, token2)
	drops := svcB.SessionCacheStats().Drops
	require.NoError(t, session.NewManager(db.a).Revoke(context.Background(), token2))
	for deadline := time.Now().Add(maxStale); svcB.SessionCacheStats().Drops == drops; time.Sleep(time.Millisecond) {
		require.False(t, time.Now().After(deadline), "B's listener heard nothing after the flood: %+v", svcB.SessionCacheStats())
	}
}

// TestAttackReview12d_SQLiteReplaceShapesHeld: shapes of REPLACE / INSERT
// OR REPLACE / upsert that 12c did not try, each against a session cached
// on replica B, each raising the counter (migration 0011's BEFORE INSERT
// triggers see the rows in the way): a multi-row REPLACE of members; an
// organization REPLACE that conflicts on id and on sso_name at once (both
// rows deleted), in both directions; INSERT OR REPLACE … ON CONFLICT (id)
// DO UPDATE whose sso_name conflicts with the organization with sessions
// (the OR REPLACE part deletes it); the organization's ID written as an
// integer (STRICT coerces it, the trigger still matches); a member
// replaced by itself with AllowWithoutSSO off (password session); a
// multi-row REPLACE of sessions; REPLACE through a sub-select with ORDER
// BY that inserts the row with sessions last.
func TestAttackReview12d_SQLiteReplaceShapesHeld(t *testing.T) {
	const cols = `id, sso_name, owner_id, enabled, idp_entity_id, idp_sso_url, idp_certificates, idp_signature_algorithm,
		strict_mode, session_timeout_ns, role_mapping_enabled, role_delimiter, role_mappings, jit_provisioning,
		allow_idp_initiated, attributes, version, sso_epoch, connections, mfa_policy`
	for _, tt := range []struct {
		name, orgID, method string
		sql                 func(o string) []string
	}{
		{"multi-row REPLACE members", "org-ar12d-mr", session.MethodSSO, func(o string) []string {
			return []string{
				`CREATE TEMP TABLE ar12d AS SELECT * FROM members WHERE org_id = '` + o + `' ORDER BY email_key`,
				`UPDATE ar12d SET user_id = 'u-bob' WHERE user_id = 'u-alice'`,
				`REPLACE INTO members SELECT * FROM ar12d`,
			}
		}},
		{"organization REPLACE on id and sso_name (other's id, our name)", "org-ar12d-two2", session.MethodSSO, func(o string) []string {
			return []string{
				`CREATE TEMP TABLE ar12d AS SELECT ` + cols + ` FROM organizations WHERE id = '` + o + `'`,
				`UPDATE ar12d SET id = 'org-ar12d-other'`,
				`REPLACE INTO organizations (` + cols + `) SELECT ` + cols + ` FROM ar12d`,
			}
		}},
		{"organization REPLACE on id and sso_name (our id, other's name)", "org-ar12d-two3", session.MethodSSO, func(o string) []string {
			return []string{
				`CREATE TEMP TABLE ar12d AS SELECT ` + cols + ` FROM organizations WHERE id = '` + o + `'`,
				`UPDATE ar12d SET sso_name = 'org-ar12d-other', enabled = 0`,
				`REPLACE INTO organizations (` + cols + `) SELECT ` + cols + ` FROM ar12d`,
			}
		}},
		{"INSERT OR REPLACE … ON CONFLICT (id) DO UPDATE, conflict on sso_name", "org-ar12d-orup", session.MethodSSO, func(o string) []string {
			return []string{
				`CREATE TEMP TABLE ar12d AS SELECT ` + cols + ` FROM organizations WHERE id = '` + o + `'`,
				`UPDATE ar12d SET id = 'org-ar12d-new'`,
				`INSERT OR REPLACE INTO organizations (` + cols + `) SELECT ` + cols + ` FROM ar12d WHERE true
					ON CONFLICT (id) DO UPDATE SET sso_name = excluded.sso_name`,
			}
		}},
		{"organization ID as an integer", "4711", session.MethodSSO, func(o string) []string {
			return []string{
				`CREATE TEMP TABLE ar12d AS SELECT ` + cols + ` FROM organizations WHERE id = '` + o + `'`,
				`UPDATE ar12d SET enabled = 0`,
				`REPLACE INTO organizations (` + cols + `) SELECT 4711, sso_name, owner_id, enabled, idp_entity_id, idp_sso_url,
					idp_certificates, idp_signature_algorithm, strict_mode, session_timeout_ns, role_mapping_enabled,
					role_delimiter, role_mappings, jit_provisioning, allow_idp_initiated, attributes, version, sso_epoch,
					connections, mfa_policy FROM ar12d`,
			}
		}},
		{"member replaced by itself, password off", "org-ar12d-self", session.MethodPassword, func(o string) []string {
			return []string{
				`CREATE TEMP TABLE ar12d AS SELECT * FROM members WHERE org_id = '` + o + `' AND user_id = 'u-alice'`,
				`UPDATE ar12d SET allow_without_sso = 0`,
				`INSERT OR REPLACE INTO members SELECT * FROM ar12d`,
			}
		}},
		{"multi-row REPLACE sessions", "org-ar12d-sess", session.MethodSSO, func(o string) []string {
			return []string{
				`CREATE TEMP TABLE ar12d AS SELECT * FROM sessions WHERE org_id = '` + o + `'`,
				`INSERT INTO ar12d SELECT * FROM ar12d`, // the same row twice
				`UPDATE ar12d SET end_reason = 'revoked'`,
				`REPLACE INTO sessions SELECT * FROM ar12d`,
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stmts := tt.sql(tt.orgID)
			db := ar12bSQLite(t)
			svcB := ar12bReplica(t, db.b, time.Now, sso.SessionCacheConfig{})
			org := ar12bOrg(t, db.a, tt.orgID)
			other := &sso.Organization{ID: "org-ar12d-other", SSOName: "org-ar12d-other", OwnerID: "u-x", Enabled: true, IdP: org.IdP}
			require.NoError(t, db.a.CreateOrganization(context.Background(), other))
			token := ar12bSession(t, db.a, time.Now, org, tt.method)
			ar12bWarm(t, svcB, token)
			before, err := db.a.(sso.ChangeFeed).ChangeSeq(context.Background())
			require.NoError(t, err)

			ar12cRawSQL(t, db, append(stmts, `DROP TABLE ar12d`)...)
			written := time.Now()
			after, err := db.a.(sso.ChangeFeed).ChangeSeq(context.Background())
			require.NoError(t, err)
			assert.NotEqual(t, before, after, "the write moved the counter")

			ar12bRefusedWithin(t, svcB, token, written, sso.DefaultSessionCacheMaxStaleness)
			require.Error(t, ar12cUncached(t, db.a, token), "the write took effect")
		})
	}
}

// TestAttackReview12d_VerdictTablesHaveTriggersHeld: sessionEnd reads the
// session (sessions), its organization (organizations: enabled, epochs,
// connections) and MemberByUserID (members only; member_users is
// CreateMember's registry and no part of the verdict). Each of the three
// has a trigger raising the counter for INSERT, UPDATE and DELETE; REPLACE
// into member_users, mfa_enrollments, mfa_recovery_codes and
// verified_domains does not change the uncached verdict of a session.
func TestAttackReview12d_VerdictTablesHaveTriggersHeld(t *testing.T) {
	db := ar12bSQLite(t)
	org := ar12bOrg(t, db.a, "org-ar12d-tables")
	token := ar12bSession(t, db.a, time.Now, org, session.MethodPassword)
	rows, err := db.raw.Query(`SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger'`)
	require.NoError(t, err)
	have := map[string]map[string]bool{}
	for rows.Next() {
		var tbl, text string
		require.NoError(t, rows.Scan(&tbl, &text))
		if have[tbl] == nil {
			have[tbl] = map[string]bool{}
		}
		for _, ev := range []string{"INSERT", "UPDATE", "DELETE"} {
			if containsFold(text, " "+ev+" ON ") {
				have[tbl][ev] = true
			}
		}
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	for _, tbl := range []string{"sessions", "organizations", "members"} {
		for _, ev := range []string{"UPDATE", "DELETE", "INSERT"} {
			assert.True(t, have[tbl][ev], "%s has a %s trigger", tbl, ev)
		}
	}

	require.NoError(t, ar12cUncached(t, db.a, token))
	ar12cRawSQL(t, db,
		`REPLACE INTO member_users (org_id, user_id, email_key) VALUES ('`+org.ID+`', 'u-alice', 'nobody@ar12b.example')`,
		`DELETE FROM member_users WHERE org_id = '`+org.ID+`'`,
	)
	require.NoError(t, ar12cUncached(t, db.a, token), "member_users decides no verdict")
}

// containsFold reports whether s contains sub, ASCII case-insensitively.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		match := true
		for j := 0; j < len(sub); j++ {
			a, b := s[i+j], sub[j]
			if 'a' <= a && a <= 'z' {
				a -= 'a' - 'A'
			}
			if 'a' <= b && b <= 'z' {
				b -= 'a' - 'A'
			}
			if a != b {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// TestAttackReview12d_FindingOldBackupDropsTriggers: ChangeSeq folds the
// schema cookie in, so a restore through the backup API is seen. But the
// restored database is the backup's, schema and all: a backup taken before
// migration 0011 (schema 10: the same tables and columns, so every
// statement of the running code still works) brings back a database
// without 0011's triggers. The running replicas drop their caches once (the
// cookie moved) and go on, never migrating (only Open does), and from then
// on a write 0011 exists for (SaveMember under a lower email key with the
// same user ID, the 12b finding; a REPLACE of the 12c finding) moves no
// counter: replica B accepts the session from its cache, with no bound,
// while an uncached check refuses it. The doc of InvalidateCaches and
// sso.SessionCacheConfig tells operators that such a restore "is seen
// without" further steps.
//
// Smallest input: a backup of schema 10 (here: a copy of the live database
// with 0011's five triggers dropped and its schema_migrations row removed),
// restored with the backup API into the live database; B caches u-alice's
// password session; SaveMember{amy@, u-alice, AllowWithoutSSO false}.
// Suggested fix: qChangeSeqSQLite also reads (SELECT MAX(version) FROM
// schema_migrations) and ChangeSeq fails (the cache fails closed, and the
// error says "schema version N, want M: reopen the store") when it is below
// the version the store migrated to at Open; the same check for PostgreSQL
// (pg_restore of an older dump). Or document that a restore of an older
// schema needs every replica restarted.
func TestAttackReview12d_FindingOldBackupDropsTriggers(t *testing.T) {
	db := ar12bSQLite(t)
	svcB := ar12bReplica(t, db.b, time.Now, sso.SessionCacheConfig{})
	org := ar12bOrg(t, db.a, "org-ar12d-oldbackup")
	token := ar12bSession(t, db.a, time.Now, org, session.MethodPassword)

	backup := filepath.Join(t.TempDir(), "schema10.db")
	_, err := db.raw.Exec(`VACUUM INTO '` + backup + `'`)
	require.NoError(t, err)
	old, err := sql.Open("sqlite", "file:"+backup)
	require.NoError(t, err)
	for _, q := range []string{
		`DROP TRIGGER members_changed_insert`, `DROP TRIGGER organizations_changed_insert`,
		`DROP TRIGGER members_changed_replace`, `DROP TRIGGER organizations_changed_replace`,
		`DROP TRIGGER sessions_changed_replace`, `DELETE FROM schema_migrations WHERE version = 11`,
	} {
		_, err := old.Exec(q)
		require.NoError(t, err, q)
	}
	require.NoError(t, old.Close())

	ar12bRestoreSQLite(t, db, backup)
	// Fixed: ChangeSeq refuses a schema below the one the store migrated
	// to, so B's cache goes stale and every check reads the store (fails
	// closed) until the store is opened again.
	_, err = db.a.(sso.ChangeFeed).ChangeSeq(context.Background())
	require.ErrorIs(t, err, sqlstore.ErrMigration, "a schema older than the store's")
	for deadline := time.Now().Add(5 * time.Second); svcB.SessionCacheStats().Fresh; time.Sleep(time.Millisecond) {
		require.False(t, time.Now().After(deadline), "B's cache stayed fresh over an older schema: %+v", svcB.SessionCacheStats())
	}
	require.NoError(t, db.a.SaveMember(context.Background(), &sso.Member{OrgID: org.ID, Email: "amy@ar12b.example",
		UserID: "u-alice", OrgRole: rolemap.RoleMember}))
	written := time.Now()
	ar12bRefusedWithin(t, svcB, token, written, sso.DefaultSessionCacheMaxStaleness)
	require.Error(t, ar12cUncached(t, db.a, token), "the store refuses the session")
	hits := svcB.SessionCacheStats().Hits
	_, _ = svcB.ValidateSession(context.Background(), token)
	assert.Equal(t, hits, svcB.SessionCacheStats().Hits, "no check is answered from the cache")
	_ = os.Remove(backup)
}
