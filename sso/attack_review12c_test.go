package sso_test

// Attacker review 12c: a re-attack of the fixes to reviews 12a and 12b:
// the __Host- session cookie, VerifyMFA's new order (check, consume, spend,
// give back), MFA policy tightening ending SSO sessions, and the session
// cache's change counter (migration 0011, TRUNCATE, restores, the
// Manager's clock, PostgreSQL notifications). Tests named ..._Finding...
// showed the two findings (a forged notification, SQLite REPLACE deleting
// rows in the way) and pass since their fixes; every other test is an
// attempt that held.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/memory"
	"github.com/orgsso/orgsso/store/storetest"
)

// ---------------------------------------------------------------------------
// Findings: the session cache
// ---------------------------------------------------------------------------

// ar12cRawSQL runs stmts on one connection of db.raw (one connection, so
// that TEMP tables last across the statements).
func ar12cRawSQL(t *testing.T, db *ar12bDB, stmts ...string) {
	t.Helper()
	conn, err := db.raw.Conn(context.Background())
	require.NoError(t, err)
	defer func() { require.NoError(t, conn.Close()) }()
	for _, q := range stmts {
		_, err := conn.ExecContext(context.Background(), q)
		require.NoError(t, err, q)
	}
}

// ar12cUncached is the verdict of a Service over st without a cache.
func ar12cUncached(t *testing.T, st storetest.Store, token string) error {
	t.Helper()
	svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: st, SessionCache: sso.SessionCacheConfig{Disabled: true}})
	require.NoError(t, err)
	_, err = svc.ValidateSession(context.Background(), token)
	return err
}

// TestAttackReview12c_FindingSQLiteReplaceNotSeen: migration 0011 answers
// 12b's REPLACE finding with AFTER INSERT triggers that raise the counter
// when the NEW row concerns stored sessions: members WHEN a session has
// NEW.user_id, organizations WHEN a session has NEW.id. But SQLite's
// REPLACE deletes the row(s) it conflicts with, without DELETE triggers,
// and those rows are not NEW: whatever sessions the deleted row decided
// are not looked at. And sessions get no INSERT trigger at all. Three
// shapes of one operator's script (a writer that is no Service), each
// leaves replica B accepting, from its cache, a session the store ends:
//
//   - "member moved to another user": REPLACE INTO members a row with the
//     same (org_id, email_key) and user_id u-bob (who has no session): the
//     implicit delete removes u-alice's only membership, the insert
//     trigger looks for sessions of u-bob. Uncached: EndMemberRemoved.
//   - "organization replaced by SSO name": REPLACE INTO organizations a
//     row with another id and the same sso_name: the unique index
//     organizations_sso_name makes REPLACE delete the organization that
//     has the sessions; the trigger looks for sessions of the new id.
//     Uncached: EndMemberRemoved (the organization is gone).
//   - "session replaced": REPLACE INTO sessions the session's own row with
//     end_reason 'revoked' (or expires_at in the past): no trigger on
//     sessions inserts. Uncached: ErrEnded.
//
// Smallest input: the three REPLACE statements below, each against a
// session cached on B. Suggested fix (migration 0012, SQLite only): BEFORE
// INSERT triggers that raise the counter when the insert is about to
// replace rows, whose conditions see those rows (an AFTER trigger no
// longer does): sessions WHEN EXISTS (SELECT 1 FROM sessions WHERE id =
// NEW.id); members WHEN EXISTS (SELECT 1 FROM members WHERE org_id =
// NEW.org_id AND email_key = NEW.email_key); organizations WHEN EXISTS
// (SELECT 1 FROM organizations WHERE id = NEW.id OR (sso_name =
// NEW.sso_name AND length(NEW.sso_name) > 0)). A plain INSERT that
// conflicts fails and rolls its raise back; an ON CONFLICT DO NOTHING that
// skips (CreateMember losing a race) costs one needless raise; a first
// sign-in raises nothing. (Tried on a scratch SQLite database: REPLACE of
// an organization by SSO name raises, a conflicting INSERT does not.)
func TestAttackReview12c_FindingSQLiteReplaceNotSeen(t *testing.T) {
	// Fixed: migration 0011 has BEFORE INSERT triggers that see the rows in the way.
	for _, tt := range []struct {
		name, method string
		sql          func(orgID string) []string
		want         error // the uncached verdict
	}{
		{"member moved to another user", session.MethodSSO, func(orgID string) []string {
			return []string{
				`CREATE TEMP TABLE ar12c AS SELECT * FROM members WHERE org_id = '` + orgID + `' AND user_id = 'u-alice'`,
				`UPDATE ar12c SET user_id = 'u-bob'`,
				`REPLACE INTO members SELECT * FROM ar12c`,
				`DROP TABLE ar12c`,
			}
		}, session.ErrEnded},
		{"organization replaced by SSO name", session.MethodSSO, func(orgID string) []string {
			return []string{
				`CREATE TEMP TABLE ar12c AS SELECT * FROM organizations WHERE id = '` + orgID + `'`,
				`UPDATE ar12c SET id = 'org-ar12c-usurper'`,
				`REPLACE INTO organizations SELECT * FROM ar12c`,
				`DROP TABLE ar12c`,
			}
		}, session.ErrEnded},
		{"session replaced", session.MethodSSO, func(orgID string) []string {
			return []string{
				`CREATE TEMP TABLE ar12c AS SELECT * FROM sessions WHERE org_id = '` + orgID + `'`,
				`UPDATE ar12c SET end_reason = 'revoked'`,
				`REPLACE INTO sessions SELECT * FROM ar12c`,
				`DROP TABLE ar12c`,
			}
		}, session.ErrEnded},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db := ar12bSQLite(t)
			clock := time.Now
			svcB := ar12bReplica(t, db.b, clock, sso.SessionCacheConfig{})
			org := ar12bOrg(t, db.a, "org-ar12c-replace")
			token := ar12bSession(t, db.a, clock, org, tt.method)
			ar12bWarm(t, svcB, token)
			seq, err := db.a.(sso.ChangeFeed).ChangeSeq(context.Background())
			require.NoError(t, err)

			ar12cRawSQL(t, db, tt.sql(org.ID)...)
			written := time.Now()
			after, err := db.a.(sso.ChangeFeed).ChangeSeq(context.Background())
			require.NoError(t, err)
			t.Logf("change counter %d before the REPLACE, %d after", seq, after)

			ar12bRefusedWithin(t, svcB, token, written, sso.DefaultSessionCacheMaxStaleness)
			// The uncached verdict, for the record, after B's (it ends the
			// session in the store, a write the triggers see).
			require.ErrorIs(t, ar12cUncached(t, db.a, token), tt.want, "the REPLACE took effect")
		})
	}
}

// TestAttackReview12c_FindingPostgresForgedNotification: the PostgreSQL
// listener (store/postgres listener) hands the seq of every notification
// on channel orgsso_changes naming its schema to sessionCache.advance,
// which drops the cache and then RECORDS that seq as the counter's value
// (c.seq = seq). A poll that reads the same value later confirms the cache
// without a drop. NOTIFY needs no privilege at all, and LISTEN neither: any
// role that can connect to the database (another application's, a
// read-only reporting role, an SQL injection anywhere in an app sharing
// the database) can read the schema and the current seq Y from the
// triggers' own notifications and send "<schema> Y+1" ahead of a
// revocation. The replica drops its cache once, takes Y+1 as the counter,
// caches the session again, and when the real revocation moves the
// counter to Y+1, neither its notification (not greater) nor the next poll
// (equal) drops anything: the revoked session is accepted from the cache
// with no bound, until some other write moves the counter. An attacker
// about to be removed (or whose session an admin revokes after a theft)
// keeps the session on that replica.
//
// Smallest input: B caches the session; SELECT pg_notify('orgsso_changes',
// '<schema> '||(seq+1)) from any connection; B checks the session again
// (a miss, cached); the session is revoked. Suggested fix: a notification
// only drops the cache and never sets c.seq (or wakes an immediate poll);
// only a poll's value is compared with the last poll's. A forged
// notification then costs a needless drop, nothing more.
func TestAttackReview12c_FindingPostgresForgedNotification(t *testing.T) {
	// Fixed: a notification drops the cache at most; only polls record the counter.
	db := ar12bPostgres(t)
	clock := time.Now
	const maxStale = 4 * time.Second // a poll every second: the forgery lives between two polls
	svcB := ar12bReplica(t, db.b, clock, sso.SessionCacheConfig{MaxStaleness: maxStale})
	org := ar12bOrg(t, db.a, "org-ar12c-notify")
	token := ar12bSession(t, db.a, clock, org, session.MethodSSO)
	ar12bWarm(t, svcB, token)

	var schema string
	require.NoError(t, db.raw.QueryRow(`SELECT current_schema()`).Scan(&schema))
	seq, err := db.a.(sso.ChangeFeed).ChangeSeq(context.Background())
	require.NoError(t, err)
	forged := fmt.Sprintf("%s %d", schema, seq+1)

	// The forger: a connection that touches no table of the store. Its
	// notification costs B a drop, and is not taken as the counter.
	drops := svcB.SessionCacheStats().Drops
	_, err = db.raw.Exec(`SELECT pg_notify('orgsso_changes', $1)`, forged)
	require.NoError(t, err)
	for deadline := time.Now().Add(5 * time.Second); svcB.SessionCacheStats().Drops == drops; time.Sleep(time.Millisecond) {
		require.False(t, time.Now().After(deadline), "B did not hear the forged notification: %+v", svcB.SessionCacheStats())
	}
	assert.Equal(t, seq, svcB.SessionCacheStats().ChangeSeq, "a notification is no counter value")
	ar12bWarm(t, svcB, token) // cached again after the forged drop

	require.NoError(t, session.NewManager(db.a).Revoke(context.Background(), token))
	written := time.Now()
	after, err := db.a.(sso.ChangeFeed).ChangeSeq(context.Background())
	require.NoError(t, err)
	require.Equal(t, seq+1, after, "the real revocation moved the counter to the forged value")

	ar12bRefusedWithin(t, svcB, token, written, maxStale)
	require.ErrorIs(t, ar12cUncached(t, db.a, token), session.ErrUnknownSession)
}

// ---------------------------------------------------------------------------
// Session cache attempts that held
// ---------------------------------------------------------------------------

// TestAttackReview12c_RawWritersHeld: writers that are no Service, in the
// shapes the 12b fixes did not list: PostgreSQL MERGE (DELETE and UPDATE
// actions) and INSERT … ON CONFLICT DO UPDATE on each table, SQLite's
// UPSERT, UPDATE OR REPLACE and DELETE through a temp table's IN list; and
// on both a member's user ID moved by UPDATE. Each reaches replica B
// within MaxStaleness.
func TestAttackReview12c_RawWritersHeld(t *testing.T) {
	type raw struct {
		name, method string
		sql          func(orgID string) []string
	}
	pg := []raw{
		{"MERGE DELETE session", session.MethodSSO, func(o string) []string {
			return []string{`MERGE INTO sessions s USING (SELECT id FROM sessions WHERE org_id = '` + o + `') x ON s.id = x.id WHEN MATCHED THEN DELETE`}
		}},
		{"MERGE UPDATE session", session.MethodSSO, func(o string) []string {
			return []string{`MERGE INTO sessions s USING (SELECT id FROM sessions WHERE org_id = '` + o + `') x ON s.id = x.id WHEN MATCHED THEN UPDATE SET end_reason = 'revoked'`}
		}},
		{"MERGE UPDATE member", session.MethodPassword, func(o string) []string {
			return []string{`MERGE INTO members m USING (SELECT '` + o + `' AS org_id) x ON m.org_id = x.org_id AND m.user_id = 'u-alice' WHEN MATCHED THEN UPDATE SET allow_without_sso = false`}
		}},
		{"MERGE UPDATE organization", session.MethodSSO, func(o string) []string {
			return []string{`MERGE INTO organizations g USING (SELECT '` + o + `' AS id) x ON g.id = x.id WHEN MATCHED THEN UPDATE SET enabled = false`}
		}},
		{"upsert session", session.MethodSSO, func(o string) []string {
			return []string{`INSERT INTO sessions SELECT * FROM sessions WHERE org_id = '` + o + `' ON CONFLICT (id) DO UPDATE SET end_reason = 'revoked'`}
		}},
		{"upsert member", session.MethodSSO, func(o string) []string {
			return []string{`INSERT INTO members SELECT * FROM members WHERE org_id = '` + o + `' AND user_id = 'u-alice' ON CONFLICT (org_id, email_key) DO UPDATE SET user_id = 'u-bob'`}
		}},
	}
	lite := []raw{
		{"upsert session", session.MethodSSO, func(o string) []string {
			return []string{`INSERT INTO sessions SELECT * FROM sessions WHERE org_id = '` + o + `' AND true ON CONFLICT (id) DO UPDATE SET end_reason = 'revoked'`}
		}},
		{"UPDATE OR REPLACE member", session.MethodSSO, func(o string) []string {
			return []string{`UPDATE OR REPLACE members SET user_id = 'u-bob' WHERE org_id = '` + o + `' AND user_id = 'u-alice'`}
		}},
		{"DELETE through a temp table", session.MethodSSO, func(o string) []string {
			return []string{
				`CREATE TEMP TABLE ar12c AS SELECT id FROM sessions WHERE org_id = '` + o + `'`,
				`DELETE FROM sessions WHERE id IN (SELECT id FROM ar12c)`,
				`DROP TABLE ar12c`,
			}
		}},
	}
	for backend, cases := range map[string][]raw{"postgres": pg, "sqlite": lite} {
		for _, tt := range cases {
			t.Run(backend+"/"+tt.name, func(t *testing.T) {
				db := ar12bBackends()[backend](t)
				clock := time.Now
				svcB := ar12bReplica(t, db.b, clock, sso.SessionCacheConfig{})
				org := ar12bOrg(t, db.a, "org-ar12c-raw")
				token := ar12bSession(t, db.a, clock, org, tt.method)
				ar12bWarm(t, svcB, token)
				ar12cRawSQL(t, db, tt.sql(org.ID)...)
				written := time.Now()
				ar12bRefusedWithin(t, svcB, token, written, sso.DefaultSessionCacheMaxStaleness)
				require.Error(t, ar12cUncached(t, db.a, token), "the write took effect") // after B's: it writes
			})
		}
	}
}

// TestAttackReview12c_MFATighteningReachesReplicasHeld: the MFA policy made
// stricter through replica A (UpdateOrganization) signs out, on replica B
// and from B's cache, an SSO session B cached, within MaxStaleness, on
// every backend; B's own clock and Manager play no part.
func TestAttackReview12c_MFATighteningReachesReplicasHeld(t *testing.T) {
	for name, open := range ar12bBackends() {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			clock := time.Now
			svcA, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: db.a, SessionCache: sso.SessionCacheConfig{Disabled: true}})
			require.NoError(t, err)
			svcB := ar12bReplica(t, db.b, clock, sso.SessionCacheConfig{})
			org := ar12bOrg(t, db.a, "org-ar12c-tighten")
			token := ar12bSession(t, db.a, clock, org, session.MethodSSO)
			pw := ar12bSession(t, db.a, clock, org, session.MethodPassword)
			ar12bWarm(t, svcB, token)
			ar12bWarm(t, svcB, pw)
			_, err = svcA.UpdateOrganization(context.Background(), org.ID, "u-owner", func(o *sso.Organization) error {
				o.MFA = sso.MFAPolicy{Required: true}
				return nil
			})
			require.NoError(t, err)
			written := time.Now()
			ar12bRefusedWithin(t, svcB, token, written, sso.DefaultSessionCacheMaxStaleness)
			_, err = svcB.ValidateSession(context.Background(), pw)
			assert.NoError(t, err, "a password session stays")
		})
	}
}

// ---------------------------------------------------------------------------
// MFA policy tightening: sign-ins in flight
// ---------------------------------------------------------------------------

// ar12cHookStore is the memory store with a hook that runs once, after
// the first OrganizationBySSOName or Organization read once armed: the
// moment a sign-in (or a verification) has read the organization and not
// yet written anything.
type ar12cHookStore struct {
	*memory.Store
	armed atomic.Bool
	hook  func()
}

func (s *ar12cHookStore) fire() {
	if s.armed.CompareAndSwap(true, false) {
		s.hook()
	}
}

func (s *ar12cHookStore) OrganizationBySSOName(ctx context.Context, name string) (*sso.Organization, error) {
	o, err := s.Store.OrganizationBySSOName(ctx, name)
	s.fire()
	return o, err
}

func (s *ar12cHookStore) Organization(ctx context.Context, id string) (*sso.Organization, error) {
	o, err := s.Store.Organization(ctx, id)
	s.fire()
	return o, err
}

// ar12cHooked is a second Service over e's store through the hook store,
// with e's clock, session manager and IdP: it serves the same sign-ins.
func ar12cHooked(t *testing.T, e *env, hook func()) (*sso.Service, *ar12cHookStore) {
	t.Helper()
	hs := &ar12cHookStore{Store: e.store, hook: hook}
	svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: hs, Sessions: e.sessions, Now: e.clock.Now,
		Rand: mrand.NewChaCha8([32]byte{12, 3}), InsecureAllowPrivateNetworks: true,
		Logger: slog.New(slog.NewTextHandler(e.logs, nil))})
	require.NoError(t, err)
	return svc, hs
}

// TestAttackReview12c_TighteningDuringSignInHeld: the owner makes the MFA
// policy stricter (through another replica) between the moment a sign-in
// read the organization (policy off: no challenge) and its writes: the
// SAML ACS and the OIDC callback still return a session, made from the old
// policy, and ValidateSession refuses it (the epoch it carries is gone).
// Likewise a VerifyMFA whose checks read the organization just before the
// owner stopped trusting the IdP's MFA.
func TestAttackReview12c_TighteningDuringSignInHeld(t *testing.T) {
	tighten := func(t *testing.T, e *env, p sso.MFAPolicy) func() {
		return func() {
			_, err := e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error { o.MFA = p; return nil })
			assert.NoError(t, err)
		}
	}
	refused := func(t *testing.T, e *env, res *sso.Result, err error) {
		t.Helper()
		require.NoError(t, err)
		require.NotNil(t, res.Session, "the sign-in read the old policy")
		_, err = e.svc.ValidateSession(ctx, res.Token)
		var ended *session.EndedError
		require.ErrorAs(t, err, &ended, "a session made from the old policy after the owner tightened it")
	}
	t.Run("SAML ACS", func(t *testing.T) {
		e := newMFAEnv(t, sso.MFAPolicy{})
		svc, hs := ar12cHooked(t, e, tighten(t, e, mfaRequired))
		id, relay := e.start(t, "/dashboard")
		posted, err := e.idp.Response(e.resp(id, user(kate, kateMember), e.now("")))
		require.NoError(t, err)
		req, err := e.idp.PostRequest(e.sp.ACSURL, posted, relay, e.cookies()...)
		require.NoError(t, err)
		hs.armed.Store(true)
		res, err := svc.HandleACS(ctx, "acme", req)
		require.False(t, hs.armed.Load(), "the hook ran")
		refused(t, e, res, err)
	})
	t.Run("OIDC callback", func(t *testing.T) {
		e := newMFAEnv(t, sso.MFAPolicy{})
		op := withOIDC(t, e, true)
		svc, hs := ar12cHooked(t, e, tighten(t, e, mfaRequired))
		rd := oidcStart(t, e, "okta")
		cb, err := op.Login(rd.URL, oidcUser(kate, kateMember))
		require.NoError(t, err)
		req := httptest.NewRequest(http.MethodGet, cb, nil)
		for _, c := range e.cookies() {
			req.AddCookie(c)
		}
		hs.armed.Store(true)
		res, err := svc.HandleCallback(ctx, "acme", "okta", req)
		require.False(t, hs.armed.Load(), "the hook ran")
		refused(t, e, res, err)
	})
	t.Run("VerifyMFA", func(t *testing.T) {
		trusted := sso.MFAPolicy{Required: true, TrustIdP: true}
		e := newMFAEnv(t, trusted)
		secret, _, _ := e.enroll(t)
		e.clock.Advance(time.Minute)
		ch := e.challenged(t)
		svc, hs := ar12cHooked(t, e, tighten(t, e, mfaRequired))
		hs.armed.Store(true)
		res, err := svc.VerifyMFA(ctx, ch.Token, codeAt(t, secret, e.clock.Now()))
		require.False(t, hs.armed.Load(), "the hook ran")
		if err != nil { // refused by its checks: fine too
			require.ErrorIs(t, err, sso.ErrSSODisabled)
			return
		}
		refused(t, e, res, err)
	})
}

// ---------------------------------------------------------------------------
// VerifyMFA attempts that held
// ---------------------------------------------------------------------------

// TestAttackReview12c_MixedFactorsOneTokenHeld: one token, submitted at
// once with the right TOTP code and with a recovery code (a member's
// double submit, or the member and a thief with a code of their own):
// one session; the factor of every loser stays unspent (the loser lost the
// pending sign-in, not its code), so each works once afterwards.
func TestAttackReview12c_MixedFactorsOneTokenHeld(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	secret, codes, _ := e.enroll(t)
	for round := range 4 {
		e.clock.Advance(time.Minute)
		ch := e.challenged(t)
		totpCode := codeAt(t, secret, e.clock.Now())
		recovery := codes[round]
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := map[string]int{}
		for i := range 8 {
			c := totpCode
			if i%2 == 1 {
				c = recovery
			}
			wg.Go(func() {
				if res, err := e.svc.VerifyMFA(ctx, ch.Token, c); err == nil {
					assert.NotNil(t, res.Session)
					mu.Lock()
					won[c]++
					mu.Unlock()
				} else {
					assert.ErrorIs(t, err, sso.ErrMFAToken, "a loser lost the pending sign-in")
				}
			})
		}
		wg.Wait()
		require.Equal(t, 1, won[totpCode]+won[recovery], "round %d: sessions from one token", round)
		// The factor that did not win is still good, once; the winner's is spent.
		loser, winner := recovery, totpCode
		if won[recovery] == 1 {
			loser, winner = totpCode, recovery
		}
		_, err := e.svc.VerifyMFA(ctx, e.challenged(t).Token, winner)
		require.Error(t, err, "round %d: the winning factor is spent", round)
		res, err := e.svc.VerifyMFA(ctx, e.challenged(t).Token, loser)
		require.NoError(t, err, "round %d: the losing factor was not spent", round)
		require.NotNil(t, res.Session)
		_, err = e.svc.VerifyMFA(ctx, e.challenged(t).Token, loser)
		require.Error(t, err, "round %d: and now it is", round)
	}
}

// TestAttackReview12c_DoubleSubmitTwoReplicasHeld: one token with one right
// code (TOTP, then a recovery code) posted at once to three Services over
// one SQLite file: one session; the code is then spent.
func TestAttackReview12c_DoubleSubmitTwoReplicasHeld(t *testing.T) {
	e, reps, _ := sqliteMFAEnv(t, 2)
	secret, codes, _ := e.enroll(t)
	svcs := append([]*sso.Service{e.svc}, reps...)
	for _, kind := range []string{"TOTP", "recovery code"} {
		e.clock.Advance(time.Minute)
		code := codes[2]
		if kind == "TOTP" {
			code = codeAt(t, secret, e.clock.Now())
		}
		ch := e.challenged(t)
		var ok atomic.Int64
		var wg sync.WaitGroup
		for i := range 9 {
			wg.Go(func() {
				if res, err := svcs[i%3].VerifyMFA(ctx, ch.Token, code); err == nil {
					assert.NotNil(t, res.Session)
					ok.Add(1)
				}
			})
		}
		wg.Wait()
		require.Equal(t, int64(1), ok.Load(), "%s: sessions from one token", kind)
		_, err := e.svc.VerifyMFA(ctx, e.challenged(t).Token, code)
		require.Error(t, err, "%s: spent", kind)
	}
}

// ar12cHookSessions is a session store whose CreateSession runs a hook
// and then fails (the store failing after the factor was spent).
type ar12cHookSessions struct {
	*memory.Store
	hook func()
}

func (s ar12cHookSessions) CreateSession(context.Context, *session.Session) error {
	if s.hook != nil {
		s.hook()
	}
	return errors.New("ar12c: disk full")
}

// TestAttackReview12c_GiveBackAfterResetHeld: a verification spends a
// recovery code (or TOTP step), and while its session write fails, an
// admin resets the member's factor and the member enrolls a new one. The
// factor given back names the old enrollment (its salt): the new one gets
// nothing (its ten codes, no more; the old code is refused), and the
// pending sign-in given back can make no session with the old factor.
func TestAttackReview12c_GiveBackAfterResetHeld(t *testing.T) {
	for _, kind := range []string{"recovery code", "TOTP"} {
		t.Run(kind, func(t *testing.T) {
			e := newMFAEnv(t, mfaRequired)
			secret, codes, enrolled := e.enroll(t)
			kateID := enrolled.Member.UserID
			e.clock.Advance(time.Minute)
			code := codes[0]
			if kind == "TOTP" {
				code = codeAt(t, secret, e.clock.Now())
			}
			ch := e.challenged(t)
			var secret2 string
			var codes2 []string
			hook := func() {
				require.NoError(t, e.svc.ResetMFA(ctx, e.org.ID, ownerID, kateID))
				secret2, codes2, _ = e.enroll(t)
			}
			failing, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: e.store, Now: e.clock.Now,
				Sessions: session.NewManager(ar12cHookSessions{Store: e.store, hook: hook}, session.WithClock(e.clock.Now))})
			require.NoError(t, err)
			_, err = failing.VerifyMFA(ctx, ch.Token, code)
			require.ErrorIs(t, err, sso.ErrUnavailable)
			require.NotEmpty(t, codes2, "the hook re-enrolled the member")

			en, err := e.store.MFAEnrollment(ctx, e.org.ID, kateID)
			require.NoError(t, err)
			assert.Len(t, en.RecoveryHashes, sso.RecoveryCodeCount, "nothing given to the new enrollment")
			e.clock.Advance(time.Minute)
			_, err = e.svc.VerifyMFA(ctx, ch.Token, code)
			require.Error(t, err, "the old factor on the pending sign-in given back")
			_, err = e.svc.VerifyMFA(ctx, e.challenged(t).Token, code)
			require.Error(t, err, "the old factor on a new sign-in")
			res, err := e.svc.VerifyMFA(ctx, e.challenged(t).Token, codeAt(t, secret2, e.clock.Now()))
			require.NoError(t, err, "the new factor works")
			require.NotNil(t, res.Session)
		})
	}
}

// TestAttackReview12c_FailedVerifyKeepsCountsHeld: a right code whose
// session cannot be written gets its factor and pending sign-in back, but
// not its attempt: the token's count goes on (five failures use it up),
// and so does the member's window (no reset by the give-back), so a
// session store an attacker can make fail (a slow store, a timeout) buys
// no guesses.
func TestAttackReview12c_FailedVerifyKeepsCountsHeld(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	secret, _, _ := e.enroll(t)
	e.clock.Advance(time.Minute)
	failing, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: e.store, Now: e.clock.Now,
		Sessions: session.NewManager(ar12cHookSessions{Store: e.store}, session.WithClock(e.clock.Now))})
	require.NoError(t, err)
	ch := e.challenged(t)
	code := codeAt(t, secret, e.clock.Now())
	for i := range sso.MFACodeAttempts {
		_, err := failing.VerifyMFA(ctx, ch.Token, code)
		require.ErrorIs(t, err, sso.ErrUnavailable, "attempt %d", i+1)
	}
	_, err = e.svc.VerifyMFA(ctx, ch.Token, code)
	require.ErrorIs(t, err, sso.ErrMFAToken, "the token tried its five codes")
	// The member's window: five counted so far; five more wrong ones lock.
	for range sso.MFAMemberAttempts - sso.MFACodeAttempts {
		_, err = e.svc.VerifyMFA(ctx, e.challenged(t).Token, "000000")
		require.ErrorIs(t, err, sso.ErrMFACode)
	}
	_, err = e.svc.VerifyMFA(ctx, e.challenged(t).Token, code)
	require.ErrorIs(t, err, sso.ErrMFALocked, "the failed verifications counted in the member's window")
}

// ---------------------------------------------------------------------------
// Session cookie attempts that held
// ---------------------------------------------------------------------------

// TestAttackReview12c_PlantedCookieVariantsHeld: what a sibling subdomain
// (or an http page of the same host) can set in the victim's browser
// beside the victim's own __Host-orgsso_session: the plain name, letter
// case variants of the prefix (browsers before RFC 6265bis matched the
// prefix case-sensitively, so "__HOST-" was settable with a Domain), the
// __Secure- prefix, the name with a suffix; sent before or after the
// victim's cookie, or alone. None is read: the victim stays the victim,
// alone they are no session, and signing out with them revokes nothing.
func TestAttackReview12c_PlantedCookieVariantsHeld(t *testing.T) {
	e := newEnv(t, nil)
	h := handler(t, e, sso.HandlerConfig{})
	victim, err := e.signIn(t, alice, nil)
	require.NoError(t, err)
	attacker, err := e.signIn(t, user("mallory@acme.example", kateMember), nil)
	require.NoError(t, err)
	own := e.svc.SessionCookie(victim)
	require.Equal(t, hostSessionCookie, own.Name)
	for _, name := range []string{
		"orgsso_session", "__HOST-orgsso_session", "__host-orgsso_session", "__Host-ORGSSO_SESSION",
		"__Secure-orgsso_session", "__Host-orgsso_session_", "__Host-orgsso_sessio", "__Host-orgsso_session.",
	} {
		for _, order := range []string{"before", "after", "alone"} {
			header := name + "=" + attacker.Token
			switch order {
			case "before":
				header = header + "; " + own.Name + "=" + own.Value
			case "after":
				header = own.Name + "=" + own.Value + "; " + header
			}
			req := func() *http.Request {
				r := httptest.NewRequest(http.MethodGet, "https://app.example.com/reports", nil)
				r.Header.Set("Cookie", header)
				return r
			}
			var seen *session.Session
			app := h.RequireSession(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen, _ = sso.SessionFromContext(r.Context()) }))
			app.ServeHTTP(httptest.NewRecorder(), req())
			if order == "alone" {
				assert.Nil(t, seen, "%s alone let the request through", name)
				_, err := e.svc.SignOut(ctx, req())
				require.NoError(t, err)
				_, err = e.svc.ValidateSession(ctx, attacker.Token)
				require.NoError(t, err, "SignOut with %s revoked a session", name)
				continue
			}
			require.NotNil(t, seen, "%s %s", name, order)
			assert.Equal(t, victim.Member.UserID, seen.UserID, "%s sent %s the victim's cookie", name, order)
		}
	}
}

// TestAttackReview12c_SignOutClearsHostCookieHeld: the Handler's logout
// and RequireSession's clearing of a dead cookie set a Set-Cookie the
// browser applies to the __Host- cookie (same name, Secure, Path=/, no
// Domain, expired), and logout revokes the session; an http BaseURL's
// Service neither reads nor revokes a __Host- cookie sent to it.
func TestAttackReview12c_SignOutClearsHostCookieHeld(t *testing.T) {
	e := newEnv(t, nil)
	h := handler(t, e, sso.HandlerConfig{})
	res, err := e.signIn(t, alice, nil)
	require.NoError(t, err)
	deletes := func(t *testing.T, c *http.Cookie) {
		t.Helper()
		require.NotNil(t, c, "a Set-Cookie for %s", hostSessionCookie)
		assert.True(t, c.Secure, "a __Host- cookie is deleted only by a Secure Set-Cookie")
		assert.Equal(t, "/", c.Path)
		assert.Empty(t, c.Domain)
		assert.Less(t, c.MaxAge, 0)
		assert.Empty(t, c.Value)
	}

	// http BaseURL: the __Host- cookie is not its cookie.
	plain, err := sso.New(sso.Config{BaseURL: "http://app.example.com", Store: e.store, Sessions: e.sessions, Now: e.clock.Now})
	require.NoError(t, err)
	r := httptest.NewRequest(http.MethodGet, "http://app.example.com/", nil)
	r.AddCookie(e.svc.SessionCookie(res))
	_, err = plain.SessionFromRequest(r)
	require.ErrorIs(t, err, session.ErrUnknownSession)
	_, err = plain.SignOut(ctx, r)
	require.NoError(t, err)
	_, err = e.svc.ValidateSession(ctx, res.Token)
	require.NoError(t, err, "the http Service signed out a __Host- session")

	req := httptest.NewRequest(http.MethodPost, "https://app.example.com/sso/logout", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.AddCookie(e.svc.SessionCookie(res))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	deletes(t, cookieNamed(rec, hostSessionCookie))
	assert.Nil(t, cookieNamed(rec, sso.SessionCookieName), "no cookie of the plain name is touched")
	_, err = e.svc.ValidateSession(ctx, res.Token)
	require.ErrorIs(t, err, session.ErrUnknownSession, "signed out")

	// RequireSession with the dead cookie.
	app := h.RequireSession(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("let through") }))
	req = httptest.NewRequest(http.MethodGet, "https://app.example.com/x", nil)
	req.AddCookie(e.svc.SessionCookie(res))
	rec = httptest.NewRecorder()
	app.ServeHTTP(rec, req)
	deletes(t, cookieNamed(rec, hostSessionCookie))
}

// TestAttackReview12c_SessionCookieOfOtherUsersHeld: a session cookie that
// is valid but another organization's member's (an attacker signed in at
// an organization they control, planting nothing, just their own
// __Host- cookie value) is their session, never the victim's; and the
// MFA cookie's value (a pending token) under the session cookie's name is
// no session.
func TestAttackReview12c_SessionCookieOfOtherUsersHeld(t *testing.T) {
	e := newMFAEnv(t, mfaRequired)
	ch := e.challenged(t)
	req := httptest.NewRequest(http.MethodGet, "https://app.example.com/", nil)
	req.AddCookie(&http.Cookie{Name: hostSessionCookie, Value: ch.Token})
	_, err := e.svc.SessionFromRequest(req)
	require.ErrorIs(t, err, session.ErrUnknownSession)
	_, err = e.svc.SignOut(ctx, req)
	require.NoError(t, err)
	st, err := e.svc.MFAState(ctx, ch.Token)
	require.NoError(t, err, "signing out with a pending token as the session cookie leaves the pending sign-in")
	assert.Equal(t, sso.MFACodeAttempts, st.AttemptsLeft)

	other := e.addOrg(t, "org-evil", "evil")
	require.NoError(t, e.store.SaveMember(ctx, &sso.Member{OrgID: other.ID, UserID: "u-mallory", Email: "mallory@evil.example",
		OrgRole: rolemap.RoleOwner, AllowWithoutSSO: true}))
	pw, err := e.svc.PasswordSignIn(ctx, other.ID, "mallory@evil.example", func(context.Context, *sso.Member) error { return nil })
	require.NoError(t, err)
	req = httptest.NewRequest(http.MethodGet, "https://app.example.com/", nil)
	req.AddCookie(e.svc.SessionCookie(pw))
	s, err := e.svc.SessionFromRequest(req)
	require.NoError(t, err)
	assert.Equal(t, other.ID, s.OrgID)
	assert.Equal(t, "u-mallory", s.UserID)
	assert.False(t, strings.EqualFold(s.OrgID, e.org.ID))
}
