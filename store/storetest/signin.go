package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// signInTests check sso.SignInStore: a sign-in's writes commit together or
// not at all, each method of the transaction answers as the Store's method
// of the same name and, when it refuses, writes nothing and leaves the
// transaction usable. A store without the port skips them.
var signInTests = []test{
	{"CommitsEverything", testSignInCommits},
	{"RollbackLeavesNothing", testSignInRollback},
	{"RollbackRestoresUpdatedMember", testSignInRollbackUpdate},
	{"Replay", testSignInReplay},
	{"MismatchLeavesRequest", testSignInMismatch},
	{"ExpiredRequestIsReturned", testSignInExpiredRequest},
	{"MemberExists", testSignInMemberExists},
	{"UserIDTaken", testSignInUserIDTaken},
	{"UpdateRemovedMember", testSignInUpdateRemoved},
	{"InvalidArguments", testSignInInvalid},
	{"NoDirtyRead", testSignInNoDirtyRead},
	{"Guards", testSignInGuards},
	{"ConcurrentOneRequest", testSignInOneRequestConcurrently},
	{"ConcurrentOneAssertion", testSignInOneAssertionConcurrently},
	{"ConcurrentOneEmail", testSignInOneEmailConcurrently},
}

// signInStore returns st as an sso.SignInStore, or skips t.
func signInStore(t *testing.T, st Store) sso.SignInStore {
	t.Helper()
	sis, ok := st.(sso.SignInStore)
	if !ok {
		t.Skip("the store does not implement sso.SignInStore")
	}
	return sis
}

// signInSession is the session a sign-in test writes.
func signInSession(id, userID string) *session.Session {
	return &session.Session{ID: id, OrgID: "org1", UserID: userID, Method: session.MethodSSO,
		CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), Epoch: 3, Connection: "okta"}
}

// signInState is what a sign-in test looks at after a SignIn: the writes of
// a typical sign-in, each as the store now holds it (the assertion's
// aside: see checkAssertionUsed).
type signInState struct {
	request bool // request id-1 is still there
	member  *sso.Member
	session *session.Session
}

// readSignIn reads the state of the writes a sign-in makes, but the
// assertion's (checkAssertionUsed), without changing it: the request is
// consumed and saved again.
func readSignIn(t *testing.T, ctx context.Context, st Store, email, sessionID string) signInState {
	t.Helper()
	var s signInState
	if r, err := st.ConsumeRequest(ctx, "id-1"); err == nil {
		s.request = true
		if err := st.SaveRequest(ctx, r); err != nil {
			t.Fatalf("putting request id-1 back: %v", err)
		}
	} else if !errors.Is(err, sso.ErrNotFound) {
		t.Fatalf("ConsumeRequest(id-1) err = %v", err)
	}
	if m, err := st.Member(ctx, "org1", email); err == nil {
		s.member = m
	} else if !errors.Is(err, sso.ErrNotFound) {
		t.Fatalf("Member(%q) err = %v", email, err)
	}
	if sess, err := st.Session(ctx, sessionID); err == nil {
		s.session = normSession(sess)
	} else if !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Session err = %v", err)
	}
	return s
}

// checkAssertionUsed checks whether assertion a of org1 is used: a used one is
// a replay; an unused one is recorded by the check (it is then used).
func checkAssertionUsed(t *testing.T, ctx context.Context, st Store, step, a string, used bool) {
	t.Helper()
	err := st.UseAssertion(ctx, "org1", a, t0.Add(time.Hour))
	switch {
	case used && !errors.Is(err, sso.ErrReplay):
		t.Errorf("%s: UseAssertion(%q) err = %v; want ErrReplay (the sign-in used it)", step, a, err)
	case !used && err != nil:
		t.Errorf("%s: UseAssertion(%q) err = %v; want nil (the sign-in did not use it)", step, a, err)
	}
}

// seedSignIn saves request id-1 of org1, bound to bindingHashOf("id-1").
func seedSignIn(t *testing.T, ctx context.Context, st Store) *sso.PendingRequest {
	t.Helper()
	req := fullRequest("id-1", "org1")
	if err := st.SaveRequest(ctx, req); err != nil {
		t.Fatal(err)
	}
	return req
}

// fullSignIn is f for a first sign-in: it records the assertion, consumes
// id-1, creates ada's member and her session, failing t on any error, and
// returns commit.
func fullSignIn(t *testing.T, ctx context.Context, commit bool) func(sso.SignInTx) bool {
	return func(tx sso.SignInTx) bool {
		if err := tx.UseAssertion(ctx, "org1", "assertion-1", t0.Add(time.Hour)); err != nil {
			t.Errorf("UseAssertion err = %v", err)
		}
		if _, err := tx.ConsumeMatchingRequest(ctx, "id-1", "org1", bindingHashOf("id-1")); err != nil {
			t.Errorf("ConsumeMatchingRequest err = %v", err)
		}
		if _, err := tx.Member(ctx, "org1", "ada@example.com"); !errors.Is(err, sso.ErrNotFound) {
			t.Errorf("Member before CreateMember err = %v; want ErrNotFound", err)
		}
		if _, err := tx.CreateMember(ctx, fullMember("org1", "ada@example.com")); err != nil {
			t.Errorf("CreateMember err = %v", err)
		}
		if m, err := tx.Member(ctx, "org1", "ADA@example.com"); err != nil || !reflect.DeepEqual(m, fullMember("org1", "ada@example.com")) {
			t.Errorf("Member after CreateMember, in the transaction = %+v, %v; want the member", m, err)
		}
		if err := tx.CreateSession(ctx, signInSession("sess-1", "user-ada@example.com")); err != nil {
			t.Errorf("CreateSession err = %v", err)
		}
		return commit
	}
}

// testSignInCommits: a committed sign-in holds every write, and the
// request it consumed comes back whole.
func testSignInCommits(t *testing.T, ctx context.Context, st Store) {
	sis := signInStore(t, st)
	want := seedSignIn(t, ctx, st)
	var got *sso.PendingRequest
	err := sis.SignIn(ctx, func(tx sso.SignInTx) bool {
		var err error
		if got, err = tx.ConsumeMatchingRequest(ctx, "id-1", "org1", bindingHashOf("id-1")); err != nil {
			t.Errorf("ConsumeMatchingRequest err = %v", err)
		}
		return true
	})
	if err != nil {
		t.Fatalf("SignIn err = %v", err)
	}
	if !reflect.DeepEqual(normRequest(got), normRequest(want)) {
		t.Errorf("ConsumeMatchingRequest in SignIn = %+v; want %+v", got, want)
	}
	seedSignIn(t, ctx, st)
	if err := sis.SignIn(ctx, fullSignIn(t, ctx, true)); err != nil {
		t.Fatalf("SignIn err = %v", err)
	}
	s := readSignIn(t, ctx, st, "ada@example.com", "sess-1")
	if s.request {
		t.Error("after a committed sign-in, request id-1 is still there")
	}
	if !reflect.DeepEqual(s.member, fullMember("org1", "ada@example.com")) {
		t.Errorf("after a committed sign-in, Member = %+v; want %+v", s.member, fullMember("org1", "ada@example.com"))
	}
	if want := signInSession("sess-1", "user-ada@example.com"); !reflect.DeepEqual(s.session, normSession(want)) {
		t.Errorf("after a committed sign-in, Session = %+v; want %+v", s.session, want)
	}
	checkAssertionUsed(t, ctx, st, "after a committed sign-in", "assertion-1", true)
	if m, err := st.MemberByUserID(ctx, "org1", "user-ada@example.com"); err != nil || m.Email != "ada@example.com" {
		t.Errorf("MemberByUserID after a committed sign-in = %+v, %v; want ada", m, err)
	}
}

// testSignInRollback: a sign-in f does not commit leaves nothing: the
// assertion unused, the request in place, no member, no session.
func testSignInRollback(t *testing.T, ctx context.Context, st Store) {
	sis := signInStore(t, st)
	seedSignIn(t, ctx, st)
	if err := sis.SignIn(ctx, fullSignIn(t, ctx, false)); err != nil {
		t.Fatalf("SignIn err = %v", err)
	}
	s := readSignIn(t, ctx, st, "ada@example.com", "sess-1")
	if !s.request || s.member != nil || s.session != nil {
		t.Errorf("after a rolled back sign-in: request there %v, member %+v, session %+v; want the request, no member, no session", s.request, s.member, s.session)
	}
	if _, err := st.MemberByUserID(ctx, "org1", "user-ada@example.com"); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("MemberByUserID after a rolled back sign-in err = %v; want ErrNotFound", err)
	}
	// The user ID is free: another member may take it.
	if _, err := st.CreateMember(ctx, withUser(fullMember("org1", "bob@example.com"), "user-ada@example.com")); err != nil {
		t.Errorf("CreateMember with the rolled back member's user ID err = %v; want nil", err)
	}
	checkAssertionUsed(t, ctx, st, "after a rolled back sign-in", "assertion-1", false)
	// The same sign-in then commits.
	if err := st.DeleteMember(ctx, "org1", "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := sis.SignIn(ctx, func(tx sso.SignInTx) bool {
		if _, err := tx.ConsumeMatchingRequest(ctx, "id-1", "org1", bindingHashOf("id-1")); err != nil {
			t.Errorf("ConsumeMatchingRequest after a rollback err = %v", err)
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
}

// testSignInRollbackUpdate: a rolled back UpdateMember leaves the member as
// it was.
func testSignInRollbackUpdate(t *testing.T, ctx context.Context, st Store) {
	sis := signInStore(t, st)
	old := fullMember("org1", "ada@example.com")
	if _, err := st.CreateMember(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := sis.SignIn(ctx, func(tx sso.SignInTx) bool {
		m := fullMember("org1", "Ada@Example.com")
		m.FirstName, m.StackRoles = "Augusta", nil
		if err := tx.UpdateMember(ctx, m); err != nil {
			t.Errorf("UpdateMember err = %v", err)
		}
		if got, err := tx.Member(ctx, "org1", "ada@example.com"); err != nil || got.FirstName != "Augusta" {
			t.Errorf("Member after UpdateMember, in the transaction = %+v, %v; want the update", got, err)
		}
		return false
	}); err != nil {
		t.Fatal(err)
	}
	checkMember(t, ctx, st, "after a rolled back update", "org1", "ada@example.com", fullMember("org1", "ada@example.com"))
}

// testSignInReplay: a used assertion ID is ErrReplay in the transaction;
// the transaction goes on, and what it writes after commits.
func testSignInReplay(t *testing.T, ctx context.Context, st Store) {
	sis := signInStore(t, st)
	if err := st.UseAssertion(ctx, "org1", "assertion-1", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := sis.SignIn(ctx, func(tx sso.SignInTx) bool {
		if err := tx.UseAssertion(ctx, "org1", "assertion-1", t0.Add(2*time.Hour)); !errors.Is(err, sso.ErrReplay) {
			t.Errorf("UseAssertion of a used ID err = %v; want ErrReplay", err)
		}
		if err := tx.UseAssertion(ctx, "org2", "assertion-1", t0.Add(time.Hour)); err != nil {
			t.Errorf("UseAssertion of the ID in another organization err = %v; want nil", err)
		}
		if err := tx.UseAssertion(ctx, "org2", "assertion-1", t0.Add(time.Hour)); !errors.Is(err, sso.ErrReplay) {
			t.Errorf("UseAssertion twice in one transaction err = %v; want ErrReplay", err)
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if err := st.UseAssertion(ctx, "org2", "assertion-1", t0.Add(time.Hour)); !errors.Is(err, sso.ErrReplay) {
		t.Errorf("after the commit, UseAssertion(org2) err = %v; want ErrReplay", err)
	}
}

// testSignInMismatch: a request of another organization or binding is not
// consumed (ErrNotFound) and stays; the assertion used before it in the
// same transaction commits, as a Service records it before the request.
func testSignInMismatch(t *testing.T, ctx context.Context, st Store) {
	sis := signInStore(t, st)
	seedSignIn(t, ctx, st)
	if err := sis.SignIn(ctx, func(tx sso.SignInTx) bool {
		if err := tx.UseAssertion(ctx, "org1", "assertion-1", t0.Add(time.Hour)); err != nil {
			t.Errorf("UseAssertion err = %v", err)
		}
		for _, c := range []struct{ id, org, hash string }{
			{"id-1", "org1", bindingHashOf("other browser")},
			{"id-1", "org2", bindingHashOf("id-1")},
			{"id-1", "org1", ""},
			{"id-2", "org1", bindingHashOf("id-2")},
			{"id-1", "org1", strings.ToUpper(bindingHashOf("id-1"))},
		} {
			if r, err := tx.ConsumeMatchingRequest(ctx, c.id, c.org, c.hash); !errors.Is(err, sso.ErrNotFound) || r != nil {
				t.Errorf("ConsumeMatchingRequest(%q, %q, %q) = %+v, %v; want ErrNotFound", c.id, c.org, c.hash, r, err)
			}
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if s := readSignIn(t, ctx, st, "ada@example.com", "sess-1"); !s.request {
		t.Error("a mismatched consumption took request id-1")
	}
	checkAssertionUsed(t, ctx, st, "after the mismatch", "assertion-1", true)
}

// testSignInExpiredRequest: expiry is the caller's to judge: the
// transaction consumes an expired request, with its ExpiresAt.
func testSignInExpiredRequest(t *testing.T, ctx context.Context, st Store) {
	sis := signInStore(t, st)
	req := fullRequest("id-1", "org1")
	req.ExpiresAt = t0.Add(-time.Hour)
	if err := st.SaveRequest(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := sis.SignIn(ctx, func(tx sso.SignInTx) bool {
		got, err := tx.ConsumeMatchingRequest(ctx, "id-1", "org1", bindingHashOf("id-1"))
		if err != nil || !got.ExpiresAt.Equal(req.ExpiresAt) {
			t.Errorf("ConsumeMatchingRequest of an expired request = %+v, %v; want it, expired", got, err)
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ConsumeRequest(ctx, "id-1"); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("the expired request is still there after the commit: ConsumeRequest err = %v", err)
	}
}

// testSignInMemberExists: CreateMember of an email the organization has
// (by key) returns that member with ErrMemberExists and writes nothing; an
// UpdateMember of it then commits.
func testSignInMemberExists(t *testing.T, ctx context.Context, st Store) {
	sis := signInStore(t, st)
	stored := fullMember("org1", "ada@example.com")
	if _, err := st.CreateMember(ctx, stored); err != nil {
		t.Fatal(err)
	}
	if err := sis.SignIn(ctx, func(tx sso.SignInTx) bool {
		got, err := tx.CreateMember(ctx, withUser(fullMember("org1", "ADA@example.com"), "someone-else"))
		if !errors.Is(err, sso.ErrMemberExists) || !reflect.DeepEqual(got, stored) {
			t.Errorf("CreateMember of an existing email = %+v, %v; want the stored member, ErrMemberExists", got, err)
			return false
		}
		got.LastName = "King"
		if err := tx.UpdateMember(ctx, got); err != nil {
			t.Errorf("UpdateMember err = %v", err)
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	want := fullMember("org1", "ada@example.com")
	want.LastName = "King"
	checkMember(t, ctx, st, "after the update", "org1", "ada@example.com", want)
	if _, err := st.MemberByUserID(ctx, "org1", "someone-else"); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("MemberByUserID(someone-else) err = %v; want ErrNotFound: the refused creation wrote nothing", err)
	}
}

// testSignInUserIDTaken: CreateMember with a user ID another member holds
// is ErrUserIDTaken and writes nothing, while the rest of the transaction
// commits.
func testSignInUserIDTaken(t *testing.T, ctx context.Context, st Store) {
	sis := signInStore(t, st)
	if _, err := st.CreateMember(ctx, withUser(fullMember("org1", "ada@example.com"), "u-1")); err != nil {
		t.Fatal(err)
	}
	if err := sis.SignIn(ctx, func(tx sso.SignInTx) bool {
		if err := tx.UseAssertion(ctx, "org1", "assertion-1", t0.Add(time.Hour)); err != nil {
			t.Errorf("UseAssertion err = %v", err)
		}
		if m, err := tx.CreateMember(ctx, withUser(fullMember("org1", "bob@example.com"), "u-1")); !errors.Is(err, sso.ErrUserIDTaken) {
			t.Errorf("CreateMember with a taken user ID = %+v, %v; want ErrUserIDTaken", m, err)
		}
		if _, err := tx.Member(ctx, "org1", "bob@example.com"); !errors.Is(err, sso.ErrNotFound) {
			t.Errorf("Member(bob) in the transaction after the refusal err = %v; want ErrNotFound", err)
		}
		if _, err := tx.CreateMember(ctx, withUser(fullMember("org1", "bob@example.com"), "u-2")); err != nil {
			t.Errorf("CreateMember with a free user ID after the refusal err = %v", err)
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	checkMember(t, ctx, st, "after the commit", "org1", "bob@example.com", withUser(fullMember("org1", "bob@example.com"), "u-2"))
	if m, err := st.MemberByUserID(ctx, "org1", "u-1"); err != nil || m.Email != "ada@example.com" {
		t.Errorf("MemberByUserID(u-1) = %+v, %v; want ada", m, err)
	}
	checkAssertionUsed(t, ctx, st, "after the commit", "assertion-1", true)
}

// testSignInUpdateRemoved: UpdateMember of a member that is not there is
// ErrNotFound and creates nothing.
func testSignInUpdateRemoved(t *testing.T, ctx context.Context, st Store) {
	sis := signInStore(t, st)
	if err := sis.SignIn(ctx, func(tx sso.SignInTx) bool {
		if err := tx.UpdateMember(ctx, fullMember("org1", "ada@example.com")); !errors.Is(err, sso.ErrNotFound) {
			t.Errorf("UpdateMember of no member err = %v; want ErrNotFound", err)
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	checkMember(t, ctx, st, "after the refused update", "org1", "ada@example.com", nil)
}

// testSignInInvalid: the transaction refuses what the Store's methods
// refuse (ErrInvalidArgument), writes nothing for it, and goes on.
func testSignInInvalid(t *testing.T, ctx context.Context, st Store) {
	sis := signInStore(t, st)
	long := strings.Repeat("k", sso.MaxKeyBytes+1)
	if err := sis.SignIn(ctx, func(tx sso.SignInTx) bool {
		for name, err := range map[string]error{
			"UseAssertion long ID":      tx.UseAssertion(ctx, "org1", long, t0),
			"UseAssertion empty ID":     tx.UseAssertion(ctx, "org1", "", t0),
			"ConsumeMatching long ID":   second(tx.ConsumeMatchingRequest(ctx, long, "org1", "h")),
			"Member bad email":          second(tx.Member(ctx, "org1", "a\x00@example.com")),
			"CreateMember nil":          second(tx.CreateMember(ctx, nil)),
			"CreateMember long user ID": second(tx.CreateMember(ctx, withUser(fullMember("org1", "ada@example.com"), long))),
			"UpdateMember no email":     tx.UpdateMember(ctx, &sso.Member{OrgID: "org1"}),
			"CreateSession nil":         tx.CreateSession(ctx, nil),
			"CreateSession no ID":       tx.CreateSession(ctx, &session.Session{OrgID: "org1"}),
			"CreateSession long user":   tx.CreateSession(ctx, &session.Session{ID: "s", OrgID: "org1", UserID: long}),
		} {
			if !errors.Is(err, session.ErrInvalidArgument) {
				t.Errorf("%s err = %v; want ErrInvalidArgument", name, err)
			}
		}
		if err := tx.CreateSession(ctx, signInSession("sess-1", "u")); err != nil {
			t.Errorf("CreateSession after the refusals err = %v", err)
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	checkMember(t, ctx, st, "after the refusals", "org1", "ada@example.com", nil)
	if _, err := st.Session(ctx, "sess-1"); err != nil {
		t.Errorf("Session(sess-1) after the commit err = %v", err)
	}
	if _, err := st.Session(ctx, "s"); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Session(s) err = %v; want ErrNotFound", err)
	}
}

// testSignInNoDirtyRead: another caller never sees what a transaction
// wrote and then rolled back (it may wait for the transaction to end).
func testSignInNoDirtyRead(t *testing.T, ctx context.Context, st Store) {
	sis := signInStore(t, st)
	var wg sync.WaitGroup
	var readErr error
	if err := sis.SignIn(ctx, func(tx sso.SignInTx) bool {
		if err := tx.CreateSession(ctx, signInSession("sess-1", "u")); err != nil {
			t.Errorf("CreateSession err = %v", err)
		}
		started := make(chan struct{})
		wg.Go(func() {
			close(started)
			_, readErr = st.Session(ctx, "sess-1")
		})
		<-started
		return false
	}); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if !errors.Is(readErr, session.ErrNotFound) {
		t.Errorf("a read during a rolled back transaction err = %v; want ErrNotFound", readErr)
	}
}

// testSignInGuards: a nil f, a nil or done context are refused before any
// work; a transaction used after SignIn returned refuses every call.
func testSignInGuards(t *testing.T, ctx context.Context, st Store) {
	sis := signInStore(t, st)
	if err := sis.SignIn(ctx, nil); !errors.Is(err, session.ErrInvalidArgument) {
		t.Errorf("SignIn(nil) err = %v; want ErrInvalidArgument", err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	ran := false
	if err := sis.SignIn(done, func(sso.SignInTx) bool { ran = true; return true }); !errors.Is(err, context.Canceled) {
		t.Errorf("SignIn with a done context err = %v; want context.Canceled", err)
	}
	if ran {
		t.Error("SignIn with a done context ran f")
	}
	var kept sso.SignInTx
	if err := sis.SignIn(ctx, func(tx sso.SignInTx) bool { kept = tx; return true }); err != nil {
		t.Fatal(err)
	}
	if err := kept.CreateSession(ctx, signInSession("late", "u")); err == nil {
		t.Error("CreateSession on a transaction SignIn had ended err = nil; want an error")
	}
	if _, err := st.Session(ctx, "late"); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("a session written after the transaction ended is there: err = %v", err)
	}
}

// testSignInOneRequestConcurrently: racers sign-ins, each with its own
// assertion and session, consume one request; exactly one gets it, and
// only its session is written (the others write none, as a Service does).
func testSignInOneRequestConcurrently(t *testing.T, ctx context.Context, st Store) {
	sis := signInStore(t, st)
	seedSignIn(t, ctx, st)
	errs := race(func(i int) error {
		var consumeErr error
		err := sis.SignIn(ctx, func(tx sso.SignInTx) bool {
			if err := tx.UseAssertion(ctx, "org1", raceID("assertion", i), t0.Add(time.Hour)); err != nil {
				consumeErr = err
				return false
			}
			if _, consumeErr = tx.ConsumeMatchingRequest(ctx, "id-1", "org1", bindingHashOf("id-1")); consumeErr != nil {
				return true // the assertion stays used
			}
			consumeErr = tx.CreateSession(ctx, signInSession(raceID("sess", i), "u"))
			return consumeErr == nil
		})
		return errors.Join(err, consumeErr)
	})
	winner := oneWinner(t, "SignIn consuming one request", errs, sso.ErrNotFound)
	for i := range racers {
		_, err := st.Session(ctx, raceID("sess", i))
		if (i == winner) != (err == nil) {
			t.Errorf("racer %d (winner %d): Session err = %v", i, winner, err)
		}
		checkAssertionUsed(t, ctx, st, "after the race", raceID("assertion", i), true)
	}
}

// testSignInOneAssertionConcurrently: racers sign-ins record one assertion
// ID, each then consuming its own request; exactly one records it, and
// only its request is consumed.
func testSignInOneAssertionConcurrently(t *testing.T, ctx context.Context, st Store) {
	sis := signInStore(t, st)
	for i := range racers {
		if err := st.SaveRequest(ctx, fullRequest(raceID("req", i), "org1")); err != nil {
			t.Fatal(err)
		}
	}
	errs := race(func(i int) error {
		var stepErr error
		err := sis.SignIn(ctx, func(tx sso.SignInTx) bool {
			if stepErr = tx.UseAssertion(ctx, "org1", "assertion-1", t0.Add(time.Hour)); stepErr != nil {
				return true
			}
			_, stepErr = tx.ConsumeMatchingRequest(ctx, raceID("req", i), "org1", bindingHashOf(raceID("req", i)))
			return stepErr == nil
		})
		return errors.Join(err, stepErr)
	})
	winner := oneWinner(t, "SignIn recording one assertion", errs, sso.ErrReplay)
	for i := range racers {
		_, err := st.ConsumeRequest(ctx, raceID("req", i))
		if (i == winner) != errors.Is(err, sso.ErrNotFound) {
			t.Errorf("racer %d (winner %d): request consumed = %v", i, winner, errors.Is(err, sso.ErrNotFound))
		}
	}
}

// testSignInOneEmailConcurrently: racers first sign-ins of one email (in
// several spellings) create its member; exactly one creates it, the others
// get it with ErrMemberExists, and each commits a session for the
// winner's user ID.
func testSignInOneEmailConcurrently(t *testing.T, ctx context.Context, st Store) {
	sis := signInStore(t, st)
	users := make([]string, racers)
	errs := race(func(i int) error {
		var stepErr error
		err := sis.SignIn(ctx, func(tx sso.SignInTx) bool {
			m, err := tx.CreateMember(ctx, withUser(fullMember("org1", raceEmail(i)), raceID("user", i)))
			if err != nil && !errors.Is(err, sso.ErrMemberExists) {
				stepErr = err
				return false
			}
			stepErr = err
			if m == nil {
				stepErr = errors.Join(err, errors.New("CreateMember returned no member"))
				return false
			}
			users[i] = m.UserID
			return tx.CreateSession(ctx, signInSession(raceID("sess", i), m.UserID)) == nil
		})
		return errors.Join(err, stepErr)
	})
	winner := oneWinner(t, "SignIn creating one member", errs, sso.ErrMemberExists)
	if winner < 0 {
		return
	}
	for i := range racers {
		if users[i] != raceID("user", winner) {
			t.Errorf("racer %d signed in as %q; want the winner's %q", i, users[i], raceID("user", winner))
		}
		if sess, err := st.Session(ctx, raceID("sess", i)); err != nil || sess.UserID != raceID("user", winner) {
			t.Errorf("racer %d: Session = %+v, %v; want the winner's user", i, sess, err)
		}
	}
}

// raceID names the i-th racer's thing.
func raceID(what string, i int) string { return fmt.Sprintf("%s-%03d", what, i) }

// BenchHandleACS measures Service.HandleACS on st: a whole SP-initiated
// SAML sign-in at the ACS (validation, replay record, request
// consumption, member, session), with a session.Manager over st, so that a
// store implementing sso.SignInStore commits the sign-in's writes in one
// transaction. Responses are signed, for 500 users in turn, before the
// timer starts. With first, every sign-in is its user's first and
// provisions the member (role mapping); otherwise the members exist as a
// sign-in leaves them (nothing to update), the common case of a returning
// member.
func BenchHandleACS(b *testing.B, st Store, first bool) {
	ctx := context.Background()
	now := time.Now().UTC()
	clock := func() time.Time { return now }
	idp, err := ssotest.New(ssotest.Config{Now: clock})
	if err != nil {
		b.Fatal(err)
	}
	svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: st, Sessions: session.NewManager(st, session.WithClock(clock)), Now: clock})
	if err != nil {
		b.Fatal(err)
	}
	org := &sso.Organization{ID: "org-1", SSOName: "acme", OwnerID: "u-owner", Enabled: true, IdP: idp.IdPConfig(),
		RoleMapping: rolemap.Config{Enabled: true, Mappings: []rolemap.Mapping{{IdPRole: "Staff", OrgRole: rolemap.RoleMember}}}}
	if err := st.SaveOrganization(ctx, org); err != nil {
		b.Fatal(err)
	}
	const users = 500
	email := func(i int) string { return fmt.Sprintf("user%d@acme.example", i%users) }
	if first {
		email = func(i int) string { return fmt.Sprintf("first%d@acme.example", i) }
	} else {
		for i := range users {
			if _, err := st.CreateMember(ctx, &sso.Member{OrgID: org.ID, UserID: fmt.Sprintf("user_%d", i), Email: email(i),
				FirstName: "Alice", LastName: "Liddell", OrgRole: rolemap.RoleMember}); err != nil && !errors.Is(err, sso.ErrMemberExists) {
				b.Fatal(err)
			}
		}
	}
	sp := svc.Details(org)
	reqs := make([]*http.Request, b.N)
	for i := range b.N {
		rd, err := svc.StartLogin(ctx, "acme", "/")
		if err != nil {
			b.Fatal(err)
		}
		u, err := url.Parse(rd.URL)
		if err != nil {
			b.Fatal(err)
		}
		posted, err := idp.Response(ssotest.Response{SP: sp, InResponseTo: rd.RequestID, User: ssotest.User{
			Email: email(i), FirstName: "Alice", LastName: "Liddell",
			Roles: []string{"Staff", "Everyone", "Blog Editors", "Admins-EU", "Support"}}})
		if err != nil {
			b.Fatal(err)
		}
		if reqs[i], err = idp.PostRequest(sp.ACSURL, posted, u.Query().Get("RelayState"), rd.Cookie); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		res, err := svc.HandleACS(ctx, "acme", reqs[i])
		if err != nil {
			b.Fatal(err)
		}
		if !first && res.Member.UserID != fmt.Sprintf("user_%d", i%users) {
			b.Fatalf("sign-in %d: user %q; want the existing member's", i, res.Member.UserID)
		}
	}
}
