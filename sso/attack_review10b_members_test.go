package sso_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
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

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/memory"
	"github.com/orgsso/orgsso/store/postgres"
	"github.com/orgsso/orgsso/store/sqlite"
	"github.com/orgsso/orgsso/tests/faultstore"
)

// Attacker review, round 10b: the round-10 fixes (one membership per user,
// a new membership ends what an earlier one left) under races.

// ar10bHook is a store that runs hooks around EndSessions and CreateSession:
// the moments between a check and the write that follows it.
type ar10bHook struct {
	faultstore.Inner
	// afterEnd runs after an EndSessions or a ListSessions of a user (the
	// stale-session step between a membership check and its write, which
	// lists before it ends); beforeCreate before a session of a user is
	// stored, afterCreate once it is.
	afterEnd     func(q session.Query)
	beforeCreate func(s *session.Session)
	afterCreate  func(s *session.Session)
}

func (h *ar10bHook) EndSessions(ctx context.Context, q session.Query, reason string) (int, error) {
	n, err := h.Inner.EndSessions(ctx, q, reason)
	if f := h.afterEnd; f != nil && q.UserID != "" {
		f(q)
	}
	return n, err
}

func (h *ar10bHook) ListSessions(ctx context.Context, q session.Query, now time.Time) ([]*session.Session, error) {
	list, err := h.Inner.ListSessions(ctx, q, now)
	if f := h.afterEnd; f != nil && q.UserID != "" {
		f(q)
	}
	return list, err
}

func (h *ar10bHook) CreateSession(ctx context.Context, s *session.Session) error {
	if f := h.beforeCreate; f != nil {
		f(s)
	}
	err := h.Inner.CreateSession(ctx, s)
	if f := h.afterCreate; f != nil {
		f(s)
	}
	return err
}

// ar10bEnv is newEnv (role mapping off, JIT on) with its Service over st
// (nil: e.store), wrapped in an ar10bHook, the organization and its owner
// saved in st.
func ar10bEnv(t *testing.T, st faultstore.Inner, provision func(sso.Identity) string) (*env, *ar10bHook) {
	t.Helper()
	e := newEnv(t, func(o *sso.Organization) { o.RoleMapping.Enabled = false; o.JITProvisioning = true })
	if st == nil {
		st = e.store
	}
	h := &ar10bHook{Inner: st}
	cfg := sso.Config{BaseURL: "https://app.example.com", Store: h,
		Sessions: session.NewManager(h, session.WithClock(e.clock.Now)), Now: e.clock.Now}
	if provision != nil {
		cfg.ProvisionUser = func(_ context.Context, _ *sso.Organization, id sso.Identity) (string, error) {
			return provision(id), nil
		}
	}
	svc, err := sso.New(cfg)
	require.NoError(t, err)
	e.svc = svc
	if st != faultstore.Inner(e.store) {
		ctx := context.Background()
		require.NoError(t, st.SaveOrganization(ctx, e.org))
		require.NoError(t, st.SaveMember(ctx, &sso.Member{OrgID: e.org.ID, UserID: ownerID, Email: ownerEmail, OrgRole: rolemap.RoleOwner}))
	}
	return e, h
}

// ar10bMembersOf lists the organization's members with userID.
func ar10bMembersOf(t *testing.T, svc *sso.Service, orgID, userID string) []string {
	t.Helper()
	var out []string
	cursor := ""
	for {
		page, next, err := svc.Members(context.Background(), orgID, ownerID, cursor, sso.MaxListLimit)
		require.NoError(t, err)
		for _, m := range page {
			if m.UserID == userID {
				out = append(out, m.Email)
			}
		}
		if next == "" || len(page) == 0 {
			return out
		}
		cursor = next
	}
}

// ar10bBackends opens a new, empty store of each kind (PostgreSQL when
// ORGSSO_POSTGRES_DSN is set).
func ar10bBackends() map[string]func(t *testing.T) faultstore.Inner {
	return map[string]func(t *testing.T) faultstore.Inner{
		"memory": func(*testing.T) faultstore.Inner { return memory.New() },
		"sqlite": func(t *testing.T) faultstore.Inner {
			st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "orgsso.db"))
			require.NoError(t, err)
			t.Cleanup(func() { _ = st.Close() })
			return st
		},
		"postgres": func(t *testing.T) faultstore.Inner {
			dsn := os.Getenv("ORGSSO_POSTGRES_DSN")
			if dsn == "" {
				t.Skip("ORGSSO_POSTGRES_DSN is not set")
			}
			cfg, err := pgx.ParseConfig(dsn)
			require.NoError(t, err)
			admin := stdlib.OpenDB(*cfg)
			var b [8]byte
			_, _ = rand.Read(b[:])
			schema := "orgsso_ar10b_" + hex.EncodeToString(b[:])
			_, err = admin.Exec(`CREATE SCHEMA ` + schema)
			require.NoError(t, err)
			t.Cleanup(func() {
				_, _ = admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
				_ = admin.Close()
			})
			u, err := url.Parse(dsn)
			require.NoError(t, err)
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			st, err := postgres.Open(context.Background(), u.String())
			require.NoError(t, err)
			t.Cleanup(func() { _ = st.Close() })
			return st
		},
	}
}

// TestAttackReview10bAddMemberUserIDRace: "one user, one membership" is a
// read (userIDFree) then, after a store round trip (endStale), a write
// (CreateMember keyed by email only; no store has a unique (org_id,
// user_id)). 100 concurrent AddMember calls, one user ID, 100 emails: more
// than one succeeds, on every store (10 runs, 2 cores: PostgreSQL 10 of 10
// runs, 10 to 35 memberships; SQLite 4 of 10, up to 100; memory 2 of 10, up
// to 5 — TestAttackReview10bAddMemberUserIDWindow makes it certain) — the invariant the round-10 fix rests
// on (MemberByUserID's "lowest email key" decides who the user is, and the
// admin-survives-demotion attack of round 10 is back for a racing admin).
//
// FOUND. Fix: make (org_id, user_id) unique in the stores (memory: an index
// under the lock; SQL: a UNIQUE index — a migration that first reports
// duplicates), with CreateMember answering a distinct error (say
// sso.ErrUserIDTaken, wrapped by errUserIDTaken / the provisioning denial),
// and keep userIDFree only for the friendly answer.
//
// FIXED: CreateMember refuses the user ID atomically (sso.ErrUserIDTaken:
// memory under its lock, SQL stores through the member_users registry of
// migration 0005), and AddMember answers errUserIDTaken. Now exactly one
// call succeeds and every other gets the UserID RuleError.
func TestAttackReview10bAddMemberUserIDRace(t *testing.T) {
	for name, open := range ar10bBackends() {
		t.Run(name, func(t *testing.T) {
			e, _ := ar10bEnv(t, open(t), nil)
			ctx := context.Background()
			const n = 100
			var wg sync.WaitGroup
			var ok, refused atomic.Int32
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, err := e.svc.AddMember(ctx, e.org.ID, ownerID, sso.Member{Email: fmt.Sprintf("c%03d@acme.example", i), UserID: "u-carol"})
					var re *sso.RuleError
					switch {
					case err == nil:
						ok.Add(1)
					case errors.As(err, &re) && re.Field == "UserID":
						refused.Add(1)
					default:
						t.Errorf("AddMember c%03d: %v; want success or the UserID RuleError", i, err)
					}
				}()
			}
			close(start)
			wg.Wait()
			rows := ar10bMembersOf(t, e.svc, e.org.ID, "u-carol")
			t.Logf("%s: %d of %d AddMember calls succeeded, %d refused; memberships of u-carol: %d", name, ok.Load(), n, refused.Load(), len(rows))
			assert.Len(t, rows, 1, "one user, one membership")
			assert.EqualValues(t, 1, ok.Load(), "AddMember calls that succeeded")
		})
	}
}

// TestAttackReview10bAddMemberUserIDWindow: the same window, made certain:
// a second AddMember for the user runs while the first is between its
// check and its write (ending stale sessions).
//
// FOUND (same fix). FIXED: the overtaken AddMember gets the UserID
// RuleError and the racing one's membership is the only one.
func TestAttackReview10bAddMemberUserIDWindow(t *testing.T) {
	ctx := context.Background()
	e, h := ar10bEnv(t, memory.New(), nil)
	var fired atomic.Bool
	h.afterEnd = func(q session.Query) {
		if q.UserID == "u-carol" && fired.CompareAndSwap(false, true) {
			_, err := e.svc.AddMember(ctx, e.org.ID, ownerID, sso.Member{Email: "0@acme.example", UserID: "u-carol", OrgRole: rolemap.RoleAdmin})
			assert.NoError(t, err, "the racing AddMember")
		}
	}
	_, err := e.svc.AddMember(ctx, e.org.ID, ownerID, sso.Member{Email: "carol@acme.example", UserID: "u-carol"})
	require.True(t, fired.Load(), "the racing AddMember ran")
	var re *sso.RuleError
	if assert.ErrorAs(t, err, &re, "the AddMember the race overtook") {
		assert.Equal(t, "UserID", re.Field)
	}
	assert.Equal(t, []string{"0@acme.example"}, ar10bMembersOf(t, e.svc, e.org.ID, "u-carol"), "both AddMember calls made a membership of u-carol")
}

// TestAttackReview10bFirstSignInRacesAddMember: a first sign-in whose
// ProvisionUser links the identity to u-carol passes provisionable while an
// admin adds u-carol under another email; both memberships are created.
// (A second first sign-in mapped to the same user — a host that links
// users by a normalization wider than MemberEmailKey — is the same race.)
//
// FOUND (same fix: the store refuses the second (org_id, user_id); the
// sign-in then fails as provisionable's denial does). FIXED: the sign-in is
// denied as provisionable denies it, and creates no member.
func TestAttackReview10bFirstSignInRacesAddMember(t *testing.T) {
	ctx := context.Background()
	e, h := ar10bEnv(t, memory.New(), func(sso.Identity) string { return "u-carol" })
	var fired atomic.Bool
	h.afterEnd = func(q session.Query) {
		if q.UserID == "u-carol" && fired.CompareAndSwap(false, true) {
			_, err := e.svc.AddMember(ctx, e.org.ID, ownerID, sso.Member{Email: "carol@acme.example", UserID: "u-carol", OrgRole: rolemap.RoleAdmin})
			assert.NoError(t, err, "the admin's AddMember")
		}
	}
	res, err := e.signIn(t, user("carol.sso@acme.example"), nil)
	require.True(t, fired.Load(), "the first sign-in ended u-carol's stale sessions")
	if err == nil {
		t.Errorf("signed in as %s (%s); want the provisioning denial", res.Member.Email, res.Member.UserID)
	}
	assert.ErrorIs(t, err, sso.ErrAccessDenied)
	assert.ErrorContains(t, err, "ProvisionUser returned the user of another member")
	assert.Equal(t, []string{"carol@acme.example"}, ar10bMembersOf(t, e.svc, e.org.ID, "u-carol"), "u-carol has two memberships")
	_, err = e.store.Member(ctx, e.org.ID, "carol.sso@acme.example")
	assert.ErrorIs(t, err, sso.ErrNotFound, "the refused sign-in left a member")
}

// TestAttackReview10bReinviteWindowRevivesSession: endStale runs before
// CreateMember, so a session an in-flight sign-in of the earlier membership
// stores between the two (the member is gone: ValidateSession refuses it
// until then) is valid once CreateMember commits. The fix narrows round
// 10's window, it does not close it.
//
// FOUND, fixed: AddMember and a first sign-in end the user's earlier
// sessions again once the new membership is committed (a session stored
// after that is indistinguishable from one of the new membership).
// (Low: the sign-in must be in flight across RemoveMember and the
// re-invitation, and the same sign-in landing just after CreateMember would
// be indistinguishable anyway). Fix: a membership generation (e.g. a random
// MemberID or the member's creation time) that the sign-in stamps into the
// session (session.Params, like Epoch) and sessionEnd compares with the
// current member's: a removal then ends every session of the earlier
// membership for good, whenever it was stored, and endStale is no longer
// needed.)
func TestAttackReview10bReinviteWindowRevivesSession(t *testing.T) {
	ctx := context.Background()
	e, h := ar10bEnv(t, nil, nil)
	bob := sso.Member{OrgID: e.org.ID, Email: ar10BobEmail, UserID: ar10BobID, OrgRole: rolemap.RoleMember, FirstName: "Bob", LastName: "Example"}
	require.NoError(t, e.store.SaveMember(ctx, &bob))

	atCreate, resume, stored := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var hold, end atomic.Bool
	hold.Store(true)
	h.beforeCreate = func(s *session.Session) {
		if s.UserID == ar10BobID && hold.CompareAndSwap(true, false) {
			close(atCreate)
			<-resume
		}
	}
	h.afterCreate = func(s *session.Session) {
		if s.UserID == ar10BobID {
			select {
			case <-stored:
			default:
				close(stored)
			}
		}
	}
	type result struct {
		res *sso.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := e.signIn(t, user(ar10BobEmail), nil)
		done <- result{res, err}
	}()
	select {
	case <-atCreate:
	case <-time.After(10 * time.Second):
		t.Fatal("the sign-in never reached CreateSession")
	}
	require.NoError(t, e.svc.RemoveMember(ctx, e.org.ID, ownerID, ar10BobEmail))
	end.Store(true)
	h.afterEnd = func(q session.Query) {
		if q.UserID == ar10BobID && end.CompareAndSwap(true, false) {
			close(resume) // the in-flight sign-in stores its session now
			<-stored
		}
	}
	_, err := e.svc.AddMember(ctx, e.org.ID, ownerID, sso.Member{Email: ar10BobEmail, UserID: ar10BobID, FirstName: "Bob", LastName: "Example"})
	require.NoError(t, err)
	r := <-done
	require.NoError(t, r.err, "the sign-in was past its member check")
	_, err = e.svc.ValidateSession(ctx, r.res.Token)
	assert.ErrorIs(t, err, session.ErrEnded, "a session stored after the removal is valid after the re-invitation")
}

// TestAttackReview10bProvisionUserOthersIDHeld: ProvisionUser returning
// the owner's or another member's user ID for a new email is refused before
// anything is written or ended: no membership, and the victim's sessions
// stay.
func TestAttackReview10bProvisionUserOthersIDHeld(t *testing.T) {
	ctx := context.Background()
	for _, victim := range []string{ownerID, ar10BobID} {
		t.Run(victim, func(t *testing.T) {
			e, _ := ar10bEnv(t, nil, func(sso.Identity) string { return victim })
			require.NoError(t, e.store.SaveMember(ctx, &sso.Member{OrgID: e.org.ID, UserID: ar10BobID, Email: ar10BobEmail, OrgRole: rolemap.RoleMember}))
			_, pw, err := e.sessions.Create(ctx, e.org.ID, victim, session.MethodPassword, time.Hour)
			require.NoError(t, err)
			_, ssoTok, err := e.sessions.Start(ctx, session.Params{OrgID: e.org.ID, UserID: victim, Method: session.MethodSSO, TTL: time.Hour, Epoch: e.org.SSOEpoch})
			require.NoError(t, err)
			for _, email := range []string{"mallory@acme.example", "OWNER@acme.example\u200b"} {
				_, err = e.signIn(t, user(email), nil)
				if email == "mallory@acme.example" {
					assert.ErrorIs(t, err, sso.ErrAccessDenied)
				}
			}
			assert.Equal(t, 1, len(ar10bMembersOf(t, e.svc, e.org.ID, victim)))
			_, err = e.svc.ValidateSession(ctx, ssoTok)
			assert.NoError(t, err, "the victim's SSO session was ended by a refused sign-in")
			if victim == ownerID {
				_, err = e.svc.ValidateSession(ctx, pw)
				assert.NoError(t, err, "the owner's password session was ended by a refused sign-in")
			}
		})
	}
}

// TestAttackReview10bEmailCaseHeld: the same member in another ASCII case
// is the same member (ErrMemberExists, never a second row), and signs in as
// that member.
func TestAttackReview10bEmailCaseHeld(t *testing.T) {
	ctx := context.Background()
	e := ar10Env(t)
	for _, m := range []sso.Member{
		{Email: "BOB@ACME.EXAMPLE", UserID: ar10BobID},
		{Email: "Bob@acme.example", UserID: "u-fresh"},
	} {
		_, err := e.svc.AddMember(ctx, e.org.ID, ar10AdminID, m)
		assert.ErrorIs(t, err, sso.ErrMemberExists, m.Email)
	}
	_, err := e.svc.AddMember(ctx, e.org.ID, ar10AdminID, sso.Member{Email: "bob2@acme.example", UserID: ar10BobID})
	var re *sso.RuleError
	assert.ErrorAs(t, err, &re)
	res, err := e.signIn(t, user("BOB@acme.EXAMPLE"), nil)
	require.NoError(t, err)
	assert.Equal(t, ar10BobID, res.Session.UserID)
	n := 0
	page, _, err := e.svc.Members(ctx, e.org.ID, ar10AdminID, "", 0)
	require.NoError(t, err)
	for _, m := range page {
		if m.UserID == ar10BobID {
			n++
		}
	}
	assert.Equal(t, 1, n)
}

// TestAttackReview10bMembersActorHeld: only the owner and admins list
// members; a plain member, another organization's owner, an unknown or
// empty actor do not, and get the same answer.
func TestAttackReview10bMembersActorHeld(t *testing.T) {
	ctx := context.Background()
	e := ar10Env(t)
	e.addOrg(t, "org-other", "other")
	for _, actor := range []string{ar10BobID, "u-owner-other", "u-nobody", ""} {
		_, _, err := e.svc.Members(ctx, e.org.ID, actor, "", 0)
		assert.ErrorIs(t, err, sso.ErrNotAdmin, "actor %q", actor)
	}
	for _, actor := range []string{ownerID, ar10AdminID} {
		_, _, err := e.svc.Members(ctx, e.org.ID, actor, "", 0)
		assert.NoError(t, err, actor)
	}
}
