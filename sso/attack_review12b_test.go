package sso_test

// Attacker review 12b: the session-check cache across replicas (change
// counter, triggers, LISTEN, drops) and the one-transaction sign-in, on
// memory, SQLite and PostgreSQL (ORGSSO_POSTGRES_DSN).

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	msqlite "modernc.org/sqlite"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
	"github.com/orgsso/orgsso/store/memory"
	"github.com/orgsso/orgsso/store/postgres"
	"github.com/orgsso/orgsso/store/sqlite"
	"github.com/orgsso/orgsso/store/storetest"
)

// ar12bDB is one database seen by two replicas: a and b are separate
// handles (the same store for memory), raw a plain connection for writes
// that are no store method (nil for memory), path the SQLite file.
type ar12bDB struct {
	a, b storetest.Store
	raw  *sql.DB
	path string
}

// ar12bBackends opens one database per kind, two handles on it.
func ar12bBackends() map[string]func(t *testing.T) *ar12bDB {
	return map[string]func(t *testing.T) *ar12bDB{
		"memory":   func(*testing.T) *ar12bDB { st := memory.New(); return &ar12bDB{a: st, b: st} },
		"sqlite":   ar12bSQLite,
		"postgres": ar12bPostgres,
	}
}

func ar12bSQLite(t *testing.T) *ar12bDB {
	path := filepath.Join(t.TempDir(), "orgsso.db")
	openOne := func() storetest.Store {
		st, err := sqlite.Open(context.Background(), path)
		require.NoError(t, err)
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
	a, b := openOne(), openOne()
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	raw.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = raw.Close() })
	return &ar12bDB{a: a, b: b, raw: raw, path: path}
}

func ar12bPostgres(t *testing.T) *ar12bDB {
	dsn := os.Getenv("ORGSSO_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("ORGSSO_POSTGRES_DSN is not set")
	}
	cfg, err := pgx.ParseConfig(dsn)
	require.NoError(t, err)
	admin := stdlib.OpenDB(*cfg)
	var rb [8]byte
	_, _ = rand.Read(rb[:])
	schema := "orgsso_ar12b_" + hex.EncodeToString(rb[:])
	_, err = admin.Exec(`CREATE SCHEMA ` + schema)
	require.NoError(t, err)
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	openOne := func() storetest.Store {
		st, err := postgres.Open(context.Background(), u.String())
		require.NoError(t, err)
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
	a, b := openOne(), openOne()
	rcfg, err := pgx.ParseConfig(u.String())
	require.NoError(t, err)
	raw := stdlib.OpenDB(*rcfg)
	t.Cleanup(func() {
		_ = raw.Close()
		_, _ = admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		_ = admin.Close()
	})
	return &ar12bDB{a: a, b: b, raw: raw}
}

// ar12bReplica is a Service over st with its Run going and its cache
// fresh; sessions by a manager over st with clock.
func ar12bReplica(t *testing.T, st storetest.Store, clock func() time.Time, cfg sso.SessionCacheConfig) *sso.Service {
	t.Helper()
	svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: st,
		Sessions: session.NewManager(st, session.WithClock(clock)), Now: clock, SessionCache: cfg})
	require.NoError(t, err)
	ar12bRun(t, svc)
	return svc
}

// ar12bRun runs svc until the test ends and waits for its cache to be
// fresh.
func ar12bRun(t *testing.T, svc *sso.Service) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan struct{})
	go func() { defer close(done); _ = svc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	for deadline := time.Now().Add(10 * time.Second); !svc.SessionCacheStats().Fresh; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("session cache not fresh 10 s after Run started: %+v", svc.SessionCacheStats())
		}
	}
}

// ar12bWarm validates token on svc until a check is a cache hit.
func ar12bWarm(t *testing.T, svc *sso.Service, token string) {
	t.Helper()
	for range 200 {
		before := svc.SessionCacheStats().Hits
		_, err := svc.ValidateSession(t.Context(), token)
		require.NoError(t, err, "before the revocation")
		if svc.SessionCacheStats().Hits > before {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("no cache hit in 200 checks: %+v", svc.SessionCacheStats())
}

// ar12bRefusedWithin checks token on svc until refused; it fails if any
// check that started later than bound after written accepted it, or if any
// check after the first refusal accepted it. It gives up (failing) at
// bound + 2 s.
func ar12bRefusedWithin(t *testing.T, svc *sso.Service, token string, written time.Time, bound time.Duration) {
	t.Helper()
	var refusedAt time.Time
	var lastAccept time.Time
	stale := 0
	for {
		start := time.Now()
		_, err := svc.ValidateSession(t.Context(), token)
		switch {
		case err == nil && refusedAt.IsZero():
			lastAccept = start
		case err == nil:
			stale++
		case errors.Is(err, sso.ErrUnavailable):
			t.Fatalf("ValidateSession err = %v; want an answer", err)
		case refusedAt.IsZero():
			refusedAt = start
		}
		if !refusedAt.IsZero() && time.Since(refusedAt) > 300*time.Millisecond {
			break
		}
		if refusedAt.IsZero() && start.Sub(written) > bound+2*time.Second {
			t.Errorf("replica still accepts the session %v after the revoking write (stats %+v); want refused within %v",
				start.Sub(written).Round(time.Millisecond), svc.SessionCacheStats(), bound)
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	if !lastAccept.IsZero() && lastAccept.Sub(written) > bound {
		t.Errorf("replica accepted the session %v after the revoking write; want refused within %v", lastAccept.Sub(written), bound)
	}
	if stale > 0 {
		t.Errorf("replica accepted the session %d times after it first refused it", stale)
	}
}

// ar12bOrg stores organization id (SSO on, its own IdP, owner u-owner)
// with member alice@ar12b.example (u-alice, allowed without SSO) and the
// owner, through st.
func ar12bOrg(t *testing.T, st storetest.Store, id string) *sso.Organization {
	t.Helper()
	idp, err := ssotest.New(ssotest.Config{})
	require.NoError(t, err)
	org := &sso.Organization{ID: id, SSOName: id, OwnerID: "u-owner", Enabled: true, IdP: idp.IdPConfig()}
	require.NoError(t, st.CreateOrganization(context.Background(), org))
	for _, m := range []*sso.Member{
		{OrgID: id, Email: "owner@ar12b.example", UserID: "u-owner", OrgRole: rolemap.RoleOwner},
		{OrgID: id, Email: "zed-alice@ar12b.example", UserID: "u-alice", OrgRole: rolemap.RoleMember, AllowWithoutSSO: true},
	} {
		_, err := st.CreateMember(context.Background(), m)
		require.NoError(t, err)
	}
	return org
}

// ar12bSession starts a session of u-alice with method through st.
func ar12bSession(t *testing.T, st storetest.Store, clock func() time.Time, org *sso.Organization, method string) string {
	t.Helper()
	p := session.Params{OrgID: org.ID, UserID: "u-alice", Method: method, TTL: time.Hour}
	if method == session.MethodSSO {
		p.Epoch = org.SSOEpoch
	}
	_, token, err := session.NewManager(st, session.WithClock(clock)).Start(context.Background(), p)
	require.NoError(t, err)
	return token
}

// TestAttackReview12b_FindingSaveMemberSharedUserID: a member written with
// SaveMember (the port's plain upsert, which still lets a host store
// several members with one user ID) under an email key that sorts before
// the existing member's changes who MemberByUserID says the user is, and
// so whether the user's password session is valid (passwordAllowed reads
// that member's AllowWithoutSSO). The write is an INSERT, which raises no
// change counter (migration 0009: "Inserts do not raise it"; memory:
// "Creating one does not raise it"): replica B, which cached the password
// session, accepts it for as long as nothing else moves the counter, while
// an uncached check ends it (session.EndPasswordRevoked).
//
// Smallest input: member zed-alice@ (u-alice, AllowWithoutSSO) with a
// password session, cached on B; SaveMember{amy@, u-alice,
// AllowWithoutSSO false}. Fixed: the counter is raised for an inserted
// member whose user has sessions in the organization (migration 0011:
// AFTER INSERT ON members, when a session of the organization has the
// member's user ID, both dialects, PostgreSQL notifying; memory: the same
// test in putMemberLocked). A first sign-in inserts its member before its
// session, so it raises nothing
// (TestAttackReview12b_FirstSignInKeepsCachesHeld).
func TestAttackReview12b_FindingSaveMemberSharedUserID(t *testing.T) {
	for name, open := range ar12bBackends() {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			clock := time.Now
			svcB := ar12bReplica(t, db.b, clock, sso.SessionCacheConfig{})
			org := ar12bOrg(t, db.a, "org-ar12b-save")
			token := ar12bSession(t, db.a, clock, org, session.MethodPassword)
			ar12bWarm(t, svcB, token)

			require.NoError(t, db.a.SaveMember(context.Background(), &sso.Member{OrgID: org.ID, Email: "amy@ar12b.example",
				UserID: "u-alice", OrgRole: rolemap.RoleMember}))
			written := time.Now()
			m, err := db.a.MemberByUserID(context.Background(), org.ID, "u-alice")
			require.NoError(t, err)
			require.Equal(t, "amy@ar12b.example", m.Email, "the store now names amy as u-alice")

			ar12bRefusedWithin(t, svcB, token, written, sso.DefaultSessionCacheMaxStaleness)

			// The uncached verdict, for the record (it ends the session).
			svcC, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: db.a, SessionCache: sso.SessionCacheConfig{Disabled: true}})
			require.NoError(t, err)
			_, err = svcC.ValidateSession(context.Background(), token)
			var ended *session.EndedError
			require.ErrorAs(t, err, &ended)
			assert.Equal(t, session.EndPasswordRevoked, ended.Reason)
		})
	}
}

// TestAttackReview12b_FirstSignInKeepsCachesHeld: the fix of the finding
// above raises the counter for a member inserted for a user with sessions
// in the organization; a first sign-in inserts its member before its
// session, so on every backend it raises nothing, and another replica
// keeps its cache (no drop, the next check a hit).
func TestAttackReview12b_FirstSignInKeepsCachesHeld(t *testing.T) {
	for name, open := range ar12bBackends() {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			eA := newTxEnv(t, db.a, db.a, db.a, nil)
			svcB := ar12bReplica(t, db.b, time.Now, sso.SessionCacheConfig{})
			org := ar12bOrg(t, db.a, "org-ar12b-first")
			token := ar12bSession(t, db.a, time.Now, org, session.MethodPassword)
			ar12bWarm(t, svcB, token)
			// B has read the counter as it is now.
			seq, err := db.a.(sso.ChangeFeed).ChangeSeq(context.Background())
			require.NoError(t, err)
			for deadline := time.Now().Add(10 * time.Second); svcB.SessionCacheStats().ChangeSeq != seq; time.Sleep(time.Millisecond) {
				require.False(t, time.Now().After(deadline), "B did not read the counter: %+v", svcB.SessionCacheStats())
			}
			drops := svcB.SessionCacheStats().Drops

			id, relay, cookie := eA.start(t)
			res, err := eA.post(t, eA.response(t, id, "ada@acme.example", "Staff"), relay, cookie)
			require.NoError(t, err)
			m, err := db.a.Member(context.Background(), eA.org.ID, "ada@acme.example")
			require.NoError(t, err, "the first sign-in created its member")
			require.Equal(t, m.UserID, res.Session.UserID)

			time.Sleep(sso.DefaultSessionCacheMaxStaleness / 2) // two polls
			after, err := db.a.(sso.ChangeFeed).ChangeSeq(context.Background())
			require.NoError(t, err)
			assert.Equal(t, seq, after, "change counter after a first sign-in")
			hits := svcB.SessionCacheStats().Hits
			_, err = svcB.ValidateSession(context.Background(), token)
			require.NoError(t, err)
			stats := svcB.SessionCacheStats()
			assert.Equal(t, drops, stats.Drops, "B's cache drops after a first sign-in on A")
			assert.Greater(t, stats.Hits, hits, "B's next check is a hit")
		})
	}
}

// TestAttackReview12b_FindingSQLiteReplaceNotSeen: on SQLite, a writer
// that is no Service (the StoreWrite case of RunSessionCache: an
// operator's script) replacing a row with REPLACE / INSERT OR REPLACE
// deletes the old row without firing its DELETE trigger (SQLite fires
// delete triggers of a REPLACE only with PRAGMA recursive_triggers, which
// the store does not set) and inserts the new one (no INSERT trigger): the
// counter does not move and replica B keeps accepting the session.
//
// Smallest input: `REPLACE INTO members SELECT … allow_without_sso = 0`
// for a member with a cached password session; `REPLACE INTO
// organizations … enabled = 0` for a cached SSO session. Fix: not the
// pragma recursive_triggers (it is per connection: the outside writer's
// connection does not have it; tried, still fails), but AFTER INSERT
// triggers that raise the counter when the inserted row can concern a
// session: `AFTER INSERT ON members WHEN EXISTS (SELECT 1 FROM sessions
// WHERE org_id = NEW.org_id AND user_id = NEW.user_id)` and `AFTER INSERT
// ON organizations WHEN EXISTS (SELECT 1 FROM sessions WHERE org_id =
// NEW.id)` (tried: this test then passes; a first sign-in inserts its
// member before its session, so it raises nothing). The same members
// trigger fixes TestAttackReview12b_FindingSaveMemberSharedUserID.
// Fixed so, by migration 0011.
func TestAttackReview12b_FindingSQLiteReplaceNotSeen(t *testing.T) {
	for _, tt := range []struct {
		name, method string
		sql          []string
	}{
		{"member", session.MethodPassword, []string{
			`CREATE TEMP TABLE ar12b AS SELECT * FROM members WHERE org_id = 'org-ar12b-replace-member'`,
			`UPDATE ar12b SET allow_without_sso = 0`,
			`REPLACE INTO members SELECT * FROM ar12b`,
			`DROP TABLE ar12b`,
		}},
		{"organization", session.MethodSSO, []string{
			`CREATE TEMP TABLE ar12b AS SELECT * FROM organizations WHERE id = 'org-ar12b-replace-organization'`,
			`UPDATE ar12b SET enabled = 0`,
			`REPLACE INTO organizations SELECT * FROM ar12b`,
			`DROP TABLE ar12b`,
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db := ar12bSQLite(t)
			clock := time.Now
			svcB := ar12bReplica(t, db.b, clock, sso.SessionCacheConfig{})
			org := ar12bOrg(t, db.a, "org-ar12b-replace-"+tt.name)
			token := ar12bSession(t, db.a, clock, org, tt.method)
			ar12bWarm(t, svcB, token)
			seq, err := db.a.(sso.ChangeFeed).ChangeSeq(context.Background())
			require.NoError(t, err)

			conn, err := db.raw.Conn(context.Background())
			require.NoError(t, err)
			for _, q := range tt.sql {
				_, err := conn.ExecContext(context.Background(), q)
				require.NoError(t, err, q)
			}
			require.NoError(t, conn.Close())
			written := time.Now()
			after, err := db.a.(sso.ChangeFeed).ChangeSeq(context.Background())
			require.NoError(t, err)
			t.Logf("change counter %d before the REPLACE, %d after", seq, after)
			m, err := db.a.MemberByUserID(context.Background(), org.ID, "u-alice")
			require.NoError(t, err)
			o, err := db.a.Organization(context.Background(), org.ID)
			require.NoError(t, err)
			require.True(t, !m.AllowWithoutSSO || !o.Enabled, "the REPLACE took effect")

			ar12bRefusedWithin(t, svcB, token, written, sso.DefaultSessionCacheMaxStaleness)
		})
	}
}

// TestAttackReview12b_FindingRestoredBackupNotSeen: the change counter
// only tells "something changed" when its value differs; a database
// restored from a backup (here SQLite's online backup API, as the sqlite3
// shell's .restore) brings the counter back to the backup's value. A
// session created after the backup was an INSERT (no raise), so the
// counter a replica saw equals the restored one: replica B goes on
// accepting, for as long as nothing moves the counter, a session the
// restored database does not have (ErrUnknownSession on A). Restoring a
// backup is what an operator does after a break-in, to get rid of what the
// intruder made, sessions included.
//
// Smallest input: VACUUM INTO backup; start a session; B caches it;
// restore backup.
//
// Fixed on SQLite by detection, elsewhere by an explicit operator step.
// SQLite's backup API moves the live database's schema cookie at a
// restore, and sqlstore's ChangeSeq folds the cookie into the value it
// returns on SQLite: the restore changes that value, and replicas drop
// their caches within MaxStaleness, with no cost per sign-in. Where no such
// mark exists (PostgreSQL; any copy of rows back), raising the counter at
// every session insert would drop every replica's cache at every sign-in;
// sqlstore.Store.InvalidateCaches raises it by 1<<32 (and notifies on
// PostgreSQL), and SessionCacheConfig and package sqlstore document that
// it is to be called after such a restore (or every replica restarted).
//
// Cases: "sqlite/moved" (a sign-out between the backup and the restore)
// and "sqlite/unmoved" (none): B refuses within MaxStaleness by itself;
// "postgres/unmoved" (the limit, asserted so that it stays documented: B
// still serves the session from its cache after polls, the "restore"
// being a DELETE with the table's triggers disabled, which the counter
// does not see; after InvalidateCaches, whose notification reaches B, B
// refuses within MaxStaleness).
func TestAttackReview12b_FindingRestoredBackupNotSeen(t *testing.T) {
	type invalidator interface {
		InvalidateCaches(ctx context.Context) error
	}
	for _, tt := range []struct {
		name     string
		open     func(t *testing.T) *ar12bDB
		moved    bool // a revoking write between the backup and the restore
		detected bool // the restore moves what ChangeSeq returns
		restore  func(t *testing.T, db *ar12bDB, backup string)
	}{
		{"sqlite/moved", ar12bSQLite, true, true, ar12bRestoreSQLite},
		{"sqlite/unmoved", ar12bSQLite, false, true, ar12bRestoreSQLite},
		{"postgres/unmoved", ar12bPostgres, false, false, func(t *testing.T, db *ar12bDB, _ string) {
			conn, err := db.raw.Conn(context.Background())
			require.NoError(t, err)
			defer func() { require.NoError(t, conn.Close()) }()
			for _, q := range []string{
				`ALTER TABLE sessions DISABLE TRIGGER sessions_changed_delete`,
				`DELETE FROM sessions`,
				`ALTER TABLE sessions ENABLE TRIGGER sessions_changed_delete`,
			} {
				_, err := conn.ExecContext(context.Background(), q)
				require.NoError(t, err, q)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db := tt.open(t)
			clock := time.Now
			svcB := ar12bReplica(t, db.b, clock, sso.SessionCacheConfig{})
			org := ar12bOrg(t, db.a, "org-ar12b-restore")
			backup := filepath.Join(t.TempDir(), "backup.db")
			if db.path != "" {
				_, err := db.raw.Exec(`VACUUM INTO ?`, backup)
				require.NoError(t, err)
			}
			seqBackup, err := db.a.(sso.ChangeFeed).ChangeSeq(context.Background())
			require.NoError(t, err)

			token := ar12bSession(t, db.a, clock, org, session.MethodSSO)
			ar12bWarm(t, svcB, token)
			if tt.moved {
				other := ar12bSession(t, db.a, clock, org, session.MethodSSO)
				require.NoError(t, session.NewManager(db.a).Revoke(context.Background(), other))
				raised, err := db.a.(sso.ChangeFeed).ChangeSeq(context.Background())
				require.NoError(t, err)
				require.Greater(t, raised, seqBackup)
				for deadline := time.Now().Add(10 * time.Second); svcB.SessionCacheStats().ChangeSeq != raised; time.Sleep(time.Millisecond) {
					require.False(t, time.Now().After(deadline), "B did not read the raised counter: %+v", svcB.SessionCacheStats())
				}
				ar12bWarm(t, svcB, token) // B dropped its cache, and caches the session again
			}

			tt.restore(t, db, backup)
			written := time.Now()
			svcA, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: db.a, SessionCache: sso.SessionCacheConfig{Disabled: true}})
			require.NoError(t, err)
			_, err = svcA.ValidateSession(context.Background(), token)
			require.ErrorIs(t, err, session.ErrUnknownSession, "the restored database has no such session")
			seqRestored, err := db.a.(sso.ChangeFeed).ChangeSeq(context.Background())
			require.NoError(t, err)
			if tt.detected {
				require.NotEqual(t, seqBackup, seqRestored, "the restore shows in ChangeSeq")
				// Detected without help: the value B last read differs.
				ar12bRefusedWithin(t, svcB, token, written, sso.DefaultSessionCacheMaxStaleness)
				return
			}
			require.Equal(t, seqBackup, seqRestored, "the restore brought the counter back")
			// The limit (SessionCacheConfig's doc): after polls of the
			// restored counter, B still answers from its cache. If this
			// fails, the restore became visible: update the docs.
			time.Sleep(sso.DefaultSessionCacheMaxStaleness / 2) // two polls
			hits := svcB.SessionCacheStats().Hits
			_, err = svcB.ValidateSession(context.Background(), token)
			require.NoError(t, err, "the documented limit: a restore the counter does not show is not seen")
			require.Greater(t, svcB.SessionCacheStats().Hits, hits, "served from the cache")

			// The documented step.
			require.NoError(t, db.a.(invalidator).InvalidateCaches(context.Background()))
			written = time.Now()
			ar12bRefusedWithin(t, svcB, token, written, sso.DefaultSessionCacheMaxStaleness)
			seq, err := db.b.(sso.ChangeFeed).ChangeSeq(context.Background())
			require.NoError(t, err)
			assert.Equal(t, seqRestored+(1<<32), seq, "InvalidateCaches raised the counter by 1<<32")
		})
	}
}

// ar12bRestoreSQLite restores the SQLite file backup into db's live file
// with SQLite's online backup API (as the sqlite3 shell's .restore).
func ar12bRestoreSQLite(t *testing.T, db *ar12bDB, backup string) {
	t.Helper()
	conn, err := db.raw.Conn(context.Background())
	require.NoError(t, err)
	err = conn.Raw(func(dc any) error {
		r, ok := dc.(interface {
			NewRestore(string) (*msqlite.Backup, error)
		})
		if !ok {
			return fmt.Errorf("%T has no NewRestore", dc)
		}
		b, err := r.NewRestore("file:" + backup)
		if err != nil {
			return err
		}
		for more := true; more; {
			if more, err = b.Step(-1); err != nil {
				_ = b.Finish()
				return err
			}
		}
		return b.Finish()
	})
	require.NoError(t, err)
	require.NoError(t, conn.Close())
}

// TestAttackReview12b_FindingManagerClockDiffers: a host's Config.Sessions
// is a session.Manager with a clock of its own (Config says "Set it to
// give the Manager options of its own"), which judges expiry in
// Manager.Validate. A cache hit judges it with the Service's clock instead
// (sessionCache.get: sess.Valid(s.now())). When the two differ, the
// cache keeps accepting a session its Manager calls expired; without the
// cache, ValidateSession says session.ErrExpired.
//
// Smallest input: Manager clock at ExpiresAt+1 s, Service clock (Now) an
// hour behind; one cached check before. Fixed: a hit is judged by the
// Manager's clock (session.Manager.Now). The test also checks the other
// way round: the Service's clock past the expiry, the Manager's not, the
// hit accepts as the Manager does.
func TestAttackReview12b_FindingManagerClockDiffers(t *testing.T) {
	st := memory.New()
	base := time.Now().UTC().Truncate(time.Second)
	var mgrNow, svcNow atomic.Int64
	mgrNow.Store(base.UnixNano())
	svcNow.Store(base.UnixNano())
	mclock := func() time.Time { return time.Unix(0, mgrNow.Load()).UTC() }
	sclock := func() time.Time { return time.Unix(0, svcNow.Load()).UTC() }
	mgr := session.NewManager(st, session.WithClock(mclock))
	svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: st, Sessions: mgr, Now: sclock})
	require.NoError(t, err)
	ar12bRun(t, svc)
	org := ar12bOrg(t, st, "org-ar12b-clock")
	token := ar12bSession(t, st, mclock, org, session.MethodSSO)
	ar12bWarm(t, svc, token)

	// The Service's clock past the expiry, the Manager's not: the
	// Manager's verdict (valid), from the cache.
	svcNow.Add(int64(time.Hour + time.Second))
	hits := svc.SessionCacheStats().Hits
	_, err = svc.ValidateSession(context.Background(), token)
	require.NoError(t, err, "the Service's clock is not the Manager's")
	require.Greater(t, svc.SessionCacheStats().Hits, hits, "served from the cache")
	svcNow.Store(base.UnixNano())

	mgrNow.Add(int64(time.Hour + time.Second)) // the Manager: expired
	_, err = mgr.Validate(context.Background(), token)
	require.ErrorIs(t, err, session.ErrExpired, "the Manager's own verdict")
	hits = svc.SessionCacheStats().Hits
	_, err = svc.ValidateSession(context.Background(), token)
	assert.ErrorIs(t, err, session.ErrExpired, "the Service with its cache: want the Manager's verdict")
	stats := svc.SessionCacheStats()
	assert.Equal(t, hits, stats.Hits, "an expired session is no hit")
	assert.Zero(t, stats.Entries, "the expired entry is gone")
}

// TestAttackReview12b_RacingValidatorsHeld: on SQLite and PostgreSQL,
// eight goroutines check a session on replica B as fast as they can while
// A revokes it (RevokeSessions); fills of the cache that read the session
// before the revocation committed (read-old-then-insert) must not keep it:
// no check that started later than the bound after the revocation
// returned accepts it, and once all have seen it refused, none accepts.
func TestAttackReview12b_RacingValidatorsHeld(t *testing.T) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			db := ar12bBackends()[name](t)
			clock := time.Now
			svcA := ar12bReplica(t, db.a, clock, sso.SessionCacheConfig{})
			svcB := ar12bReplica(t, db.b, clock, sso.SessionCacheConfig{})
			for round := range 3 {
				org := ar12bOrg(t, db.a, fmt.Sprintf("org-ar12b-race%d", round))
				token := ar12bSession(t, db.a, clock, org, session.MethodSSO)
				ar12bWarm(t, svcB, token)
				var written atomic.Int64 // unix ns when RevokeSessions returned
				var late atomic.Int64    // accepts that started later than bound after it
				stop := make(chan struct{})
				var wg sync.WaitGroup
				for range 8 {
					wg.Go(func() {
						for {
							select {
							case <-stop:
								return
							default:
							}
							start := time.Now()
							_, err := svcB.ValidateSession(context.Background(), token)
							if w := written.Load(); err == nil && w != 0 && start.Sub(time.Unix(0, w)) > sso.DefaultSessionCacheMaxStaleness {
								late.Add(1)
							}
						}
					})
				}
				time.Sleep(20 * time.Millisecond)
				_, err := svcA.RevokeSessions(context.Background(), org.ID, "u-owner", "u-alice")
				require.NoError(t, err)
				written.Store(time.Now().UnixNano())
				time.Sleep(sso.DefaultSessionCacheMaxStaleness + 300*time.Millisecond)
				close(stop)
				wg.Wait()
				assert.Zero(t, late.Load(), "round %d: accepts later than the bound", round)
				for range 20 {
					_, err := svcB.ValidateSession(context.Background(), token)
					require.Error(t, err, "round %d: accepted after the bound", round)
				}
			}
		})
	}
}

// TestAttackReview12b_RunStoppedHeld: once Run returns the cache serves
// nothing; a store write that moves no counter... is then seen at once,
// as every check reads the store again.
func TestAttackReview12b_RunStoppedHeld(t *testing.T) {
	st := memory.New()
	svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: st})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = svc.Run(ctx) }()
	for deadline := time.Now().Add(10 * time.Second); !svc.SessionCacheStats().Fresh; time.Sleep(time.Millisecond) {
		require.False(t, time.Now().After(deadline))
	}
	org := ar12bOrg(t, st, "org-ar12b-run")
	token := ar12bSession(t, st, time.Now, org, session.MethodPassword)
	ar12bWarm(t, svc, token)
	cancel()
	<-done
	// Run returns without waiting for its cache goroutine (Service.Run
	// starts it with go and does not join it), so for a moment after Run
	// returned the cache may still be Fresh (at most MaxStaleness after its
	// last poll: within the bound). Wait for it to go stale.
	for deadline := time.Now().Add(sso.DefaultSessionCacheMaxStaleness + time.Second); svc.SessionCacheStats().Fresh; time.Sleep(time.Millisecond) {
		require.False(t, time.Now().After(deadline), "still Fresh %v after Run returned", sso.DefaultSessionCacheMaxStaleness+time.Second)
	}
	// The SaveMember of the finding above: invisible to the counter, but
	// with Run stopped every check reads the store.
	require.NoError(t, st.SaveMember(context.Background(), &sso.Member{OrgID: org.ID, Email: "amy@ar12b.example", UserID: "u-alice"}))
	_, err = svc.ValidateSession(context.Background(), token)
	require.ErrorIs(t, err, session.ErrEnded)
	stats := svc.SessionCacheStats()
	assert.False(t, stats.Fresh)
	assert.Zero(t, stats.Entries)
}

// TestAttackReview12b_MaxEntriesAndCopiesHeld: MaxEntries bounds the cache
// whatever the number of valid sessions checked; a caller that changes
// every field of the session it got (EndReason, ExpiresAt, UserID, OrgID)
// changes nothing the next hit returns.
func TestAttackReview12b_MaxEntriesAndCopiesHeld(t *testing.T) {
	st := memory.New()
	svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: st, SessionCache: sso.SessionCacheConfig{MaxEntries: 5}})
	require.NoError(t, err)
	ar12bRun(t, svc)
	org := ar12bOrg(t, st, "org-ar12b-max")
	var toks []string
	for range 40 {
		toks = append(toks, ar12bSession(t, st, time.Now, org, session.MethodSSO))
	}
	for _, tok := range toks {
		_, err := svc.ValidateSession(context.Background(), tok)
		require.NoError(t, err)
		assert.LessOrEqual(t, svc.SessionCacheStats().Entries, 5)
	}
	ar12bWarm(t, svc, toks[0])
	got, err := svc.ValidateSession(context.Background(), toks[0])
	require.NoError(t, err)
	want := *got
	got.EndReason, got.ExpiresAt, got.UserID, got.OrgID = "x", time.Now().Add(100*time.Hour), "u-owner", "org-other"
	again, err := svc.ValidateSession(context.Background(), toks[0])
	require.NoError(t, err)
	assert.Equal(t, want, *again)
	// A token that differs from a cached one is never a hit for it.
	for _, bad := range []string{toks[0] + " ", toks[0][:42], toks[0] + toks[0]} {
		_, err := svc.ValidateSession(context.Background(), bad)
		require.ErrorIs(t, err, session.ErrUnknownSession, "%q", bad)
	}
}

// ar12bFailTx wraps a store's SignIn: inside the transaction, after the
// named method ran (and wrote), it answers a failure that is no answer, so
// the sign-in must roll back what the method wrote.
type ar12bFailTx struct {
	storetest.Store
	fail  atomic.Value // string
	calls atomic.Int64
}

func (p *ar12bFailTx) SignIn(ctx context.Context, f func(sso.SignInTx) bool) error {
	p.calls.Add(1)
	return p.Store.(sso.SignInStore).SignIn(ctx, func(tx sso.SignInTx) bool {
		name, _ := p.fail.Load().(string)
		return f(&ar12bTx{SignInTx: tx, fail: name})
	})
}

type ar12bTx struct {
	sso.SignInTx
	fail string
}

var errAR12b = errors.New("ar12b: disk on fire after the write")

func (t *ar12bTx) after(name string, err error) error {
	if err == nil && t.fail == name {
		return errAR12b
	}
	return err
}

func (t *ar12bTx) UseAssertion(ctx context.Context, orgID, id string, until time.Time) error {
	return t.after("UseAssertion", t.SignInTx.UseAssertion(ctx, orgID, id, until))
}

func (t *ar12bTx) ConsumeMatchingRequest(ctx context.Context, id, orgID, hash string) (*sso.PendingRequest, error) {
	r, err := t.SignInTx.ConsumeMatchingRequest(ctx, id, orgID, hash)
	if err = t.after("ConsumeMatchingRequest", err); err != nil {
		return nil, err
	}
	return r, nil
}

func (t *ar12bTx) CreateMember(ctx context.Context, m *sso.Member) (*sso.Member, error) {
	c, err := t.SignInTx.CreateMember(ctx, m)
	if err = t.after("CreateMember", err); err != nil {
		return nil, err
	}
	return c, nil
}

func (t *ar12bTx) UpdateMember(ctx context.Context, m *sso.Member) error {
	return t.after("UpdateMember", t.SignInTx.UpdateMember(ctx, m))
}

func (t *ar12bTx) CreateSession(ctx context.Context, s *session.Session) error {
	return t.after("CreateSession", t.SignInTx.CreateSession(ctx, s))
}

// TestAttackReview12b_TxFailureAfterWriteHeld: on SQLite and PostgreSQL
// (and memory), a failure after each write of the sign-in transaction
// (the write done) leaves nothing: no session, no member, the assertion
// unused and the request pending, no success event; the same response
// then signs in exactly once, and a third post is a replay.
func TestAttackReview12b_TxFailureAfterWriteHeld(t *testing.T) {
	for name, open := range ar12bBackends() {
		for _, op := range []string{"UseAssertion", "ConsumeMatchingRequest", "CreateMember", "CreateSession"} {
			t.Run(name+"/"+op, func(t *testing.T) {
				db := open(t)
				p := &ar12bFailTx{Store: db.a}
				p.fail.Store(op)
				e := newTxEnv(t, db.a, p, p, nil)
				id, relay, cookie := e.start(t)
				posted := e.response(t, id, "ada@acme.example", "Staff")
				_, err := e.post(t, posted, relay, cookie)
				require.ErrorIs(t, err, sso.ErrUnavailable)
				require.Equal(t, int64(1), p.calls.Load(), "the sign-in used the store's transaction")
				assert.Equal(t, []sso.EventType{sso.EventSignInFailed}, e.takeEvents())
				assert.True(t, e.requestThere(t, id), "request consumed by a rolled-back sign-in")
				_, err = db.a.Member(context.Background(), e.org.ID, "ada@acme.example")
				require.ErrorIs(t, err, sso.ErrNotFound)
				assert.Equal(t, 0, e.liveSessions(t, db.a))

				p.fail.Store("")
				res, err := e.post(t, posted, relay, cookie)
				require.NoError(t, err)
				_, err = e.svc.ValidateSession(context.Background(), res.Token)
				require.NoError(t, err)
				_, err = e.post(t, posted, relay, cookie)
				require.ErrorIs(t, err, sso.ErrReplay)
				assert.Equal(t, 1, e.liveSessions(t, db.a))
			})
		}
	}
}

// TestAttackReview12b_SameResponseTwoReplicasHeld: one response (one
// request, one binding cookie) posted 16 times at once, half to each of
// two Services with their own handles on one database, with and without
// ProvisionUser (whose first sign-in rolls the transaction back and goes
// again call by call): exactly one sign-in succeeds, one session and one
// member exist, ProvisionUser ran at most once per success, and every
// other post is a replay or finds its request used.
func TestAttackReview12b_SameResponseTwoReplicasHeld(t *testing.T) {
	for name, open := range ar12bBackends() {
		for _, provision := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/provision=%v", name, provision), func(t *testing.T) {
				db := open(t)
				var provisions atomic.Int64
				cfg := func(c *sso.Config, _ *txEnv) {
					if provision {
						c.ProvisionUser = func(context.Context, *sso.Organization, sso.Identity) (string, error) {
							provisions.Add(1)
							return "host-ada", nil
						}
					}
				}
				eA := newTxEnv(t, db.a, db.a, db.a, cfg)
				// B: a second Service over the other handle, same IdP,
				// clock and organization.
				svcB, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: db.b,
					Sessions: session.NewManager(db.b, session.WithClock(func() time.Time { return eA.now })),
					Now:      func() time.Time { return eA.now }, ProvisionUser: func() func(context.Context, *sso.Organization, sso.Identity) (string, error) {
						if !provision {
							return nil
						}
						return func(context.Context, *sso.Organization, sso.Identity) (string, error) {
							provisions.Add(1)
							return "host-ada", nil
						}
					}()})
				require.NoError(t, err)
				id, relay, cookie := eA.start(t)
				posted := eA.response(t, id, "ada@acme.example", "Staff")
				const n = 16
				var ok, refused atomic.Int64
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range n {
					wg.Go(func() {
						req, err := eA.idp.PostRequest(eA.sp.ACSURL, posted, relay, cookie)
						if err != nil {
							t.Error(err)
							return
						}
						svc := eA.svc
						if i%2 == 1 {
							svc = svcB
						}
						<-start
						res, err := svc.HandleACS(context.Background(), "acme", req)
						switch {
						case err == nil && res.Token != "":
							ok.Add(1)
						case errors.Is(err, sso.ErrReplay), errors.Is(err, saml.CheckInResponseTo):
							refused.Add(1)
						default:
							t.Errorf("post %d: %v", i, err)
						}
					})
				}
				close(start)
				wg.Wait()
				assert.Equal(t, int64(1), ok.Load(), "successful sign-ins with one response")
				assert.Equal(t, int64(n-1), refused.Load())
				assert.Equal(t, 1, eA.liveSessions(t, db.a))
				if provision {
					assert.Equal(t, int64(1), provisions.Load(), "ProvisionUser calls")
				}
				list, err := db.a.Members(context.Background(), eA.org.ID, "", 100)
				require.NoError(t, err)
				assert.Len(t, list, 1, "members")
			})
		}
	}
}

// TestAttackReview12b_FindingPostgresTruncateNotSeen: on PostgreSQL,
// TRUNCATE fires no row or statement DELETE trigger, only TRUNCATE
// triggers, and migration 0009 declares none: an operator's "sign
// everyone out" (TRUNCATE sessions), a writer that is no Service, moves
// no counter and notifies nobody; replica B keeps accepting the sessions
// it cached, for as long as nothing else moves the counter. (SQLite has no
// TRUNCATE; its DELETE without WHERE fires the triggers.)
//
// Smallest input: a cached session on B; `TRUNCATE sessions`. Fix: in a
// migration, `CREATE TRIGGER …_changed_truncate AFTER TRUNCATE ON
// sessions|organizations|members FOR EACH STATEMENT EXECUTE FUNCTION
// orgsso_changed_always()`, a variant of orgsso_changed without the
// transition table (TRUNCATE triggers cannot have one) that always
// raises and notifies. Fixed so, by migration 0011.
func TestAttackReview12b_FindingPostgresTruncateNotSeen(t *testing.T) {
	// Each table: what an uncached check says after its TRUNCATE.
	for _, tt := range []struct {
		table string
		want  error
	}{
		{"sessions", session.ErrUnknownSession},
		{"members", session.ErrEnded},       // the member is gone
		{"organizations", session.ErrEnded}, // the organization is gone
	} {
		t.Run(tt.table, func(t *testing.T) {
			db := ar12bPostgres(t)
			clock := time.Now
			svcB := ar12bReplica(t, db.b, clock, sso.SessionCacheConfig{})
			org := ar12bOrg(t, db.a, "org-ar12b-truncate")
			token := ar12bSession(t, db.a, clock, org, session.MethodSSO)
			ar12bWarm(t, svcB, token)
			_, err := db.raw.Exec(`TRUNCATE ` + tt.table)
			require.NoError(t, err)
			written := time.Now()
			svcA, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: db.a, SessionCache: sso.SessionCacheConfig{Disabled: true}})
			require.NoError(t, err)
			_, err = svcA.ValidateSession(context.Background(), token)
			require.ErrorIs(t, err, tt.want, "the uncached verdict after TRUNCATE %s", tt.table)
			ar12bRefusedWithin(t, svcB, token, written, sso.DefaultSessionCacheMaxStaleness)
		})
	}
}

// TestAttackReview12b_OneRequestManyResponsesHeld: eight different signed
// responses (distinct assertion IDs) to one request, posted at once to two
// replicas (own handles on one database): the request is used up once,
// one sign-in succeeds, one session exists.
func TestAttackReview12b_OneRequestManyResponsesHeld(t *testing.T) {
	for name, open := range ar12bBackends() {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			eA := newTxEnv(t, db.a, db.a, db.a, nil)
			clock := func() time.Time { return eA.now }
			svcB, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: db.b,
				Sessions: session.NewManager(db.b, session.WithClock(clock)), Now: clock})
			require.NoError(t, err)
			id, relay, cookie := eA.start(t)
			const n = 8
			posts := make([]string, n)
			for i := range posts {
				posts[i] = eA.response(t, id, "ada@acme.example", "Staff")
			}
			var ok atomic.Int64
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					req, err := eA.idp.PostRequest(eA.sp.ACSURL, posts[i], relay, cookie)
					if err != nil {
						t.Error(err)
						return
					}
					svc := eA.svc
					if i%2 == 1 {
						svc = svcB
					}
					<-start
					res, err := svc.HandleACS(context.Background(), "acme", req)
					switch {
					case err == nil && res.Token != "":
						ok.Add(1)
					case errors.Is(err, saml.CheckInResponseTo):
					default:
						t.Errorf("post %d: %v", i, err)
					}
				})
			}
			close(start)
			wg.Wait()
			assert.Equal(t, int64(1), ok.Load(), "sign-ins with one request")
			assert.Equal(t, 1, eA.liveSessions(t, db.a))
		})
	}
}

// TestAttackReview12b_PostgresConcurrentFirstSignInsHeld: the
// TestSignInTxConcurrentFirstSignIns race (one email, eight requests, all
// first sign-ins) on PostgreSQL, over two replicas: one member, every
// session that member's.
func TestAttackReview12b_PostgresConcurrentFirstSignInsHeld(t *testing.T) {
	db := ar12bPostgres(t)
	eA := newTxEnv(t, db.a, db.a, db.a, nil)
	clock := func() time.Time { return eA.now }
	svcB, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: db.b,
		Sessions: session.NewManager(db.b, session.WithClock(clock)), Now: clock})
	require.NoError(t, err)
	const n = 8
	type in struct {
		posted, relay string
		cookie        *http.Cookie
	}
	ins := make([]in, n)
	for i := range ins {
		id, relay, cookie := eA.start(t)
		ins[i] = in{eA.response(t, id, "ada@acme.example", "Staff"), relay, cookie}
	}
	users := make([]string, n)
	var wg sync.WaitGroup
	for i := range ins {
		wg.Go(func() {
			req, err := eA.idp.PostRequest(eA.sp.ACSURL, ins[i].posted, ins[i].relay, ins[i].cookie)
			if err != nil {
				t.Error(err)
				return
			}
			svc := eA.svc
			if i%2 == 1 {
				svc = svcB
			}
			res, err := svc.HandleACS(context.Background(), "acme", req)
			if err != nil {
				t.Errorf("sign-in %d: %v", i, err)
				return
			}
			users[i] = res.Session.UserID
		})
	}
	wg.Wait()
	m, err := db.a.Member(context.Background(), eA.org.ID, "ada@acme.example")
	require.NoError(t, err)
	for i, u := range users {
		assert.Equal(t, m.UserID, u, "sign-in %d", i)
	}
	list, err := db.a.Members(context.Background(), eA.org.ID, "", 100)
	require.NoError(t, err)
	assert.Len(t, list, 1)
	assert.Equal(t, n, eA.liveSessions(t, db.a))
}
