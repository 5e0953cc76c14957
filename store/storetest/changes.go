package storetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

var changeTests = []test{
	{"Raises", testChangesRaise},
	{"Quiet", testChangesQuiet},
}

// changeSeq reads st's change counter; a store without sso.ChangeFeed skips
// the test.
func changeSeq(t *testing.T, ctx context.Context, st Store) int64 {
	t.Helper()
	f, ok := st.(sso.ChangeFeed)
	if !ok {
		t.Skipf("%T does not implement sso.ChangeFeed", st)
	}
	seq, err := f.ChangeSeq(ctx)
	if err != nil {
		t.Fatalf("ChangeSeq() err = %v", err)
	}
	return seq
}

// seedChanges stores what the change tests write to: organization org
// (SSO name org) with member alice@changes.example (user u-alice), and
// sessions org+"-s1", org+"-s2" (u-alice, SSO) and org+"-s3" (password),
// live at t0.
func seedChanges(t *testing.T, ctx context.Context, st Store, org string) {
	t.Helper()
	if err := st.CreateOrganization(ctx, fullOrg(org, org)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateMember(ctx, &sso.Member{OrgID: org, Email: "alice@changes.example", UserID: "u-alice"}); err != nil {
		t.Fatal(err)
	}
	for i, method := range []string{session.MethodSSO, session.MethodSSO, session.MethodPassword} {
		s := newSession(fmt.Sprintf("%s-s%d", org, i+1), org, method, t0.Add(time.Hour))
		s.UserID = "u-alice"
		if err := st.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
}

// testChangesRaise: every write that can make a valid session invalid
// raises the change counter, inserts that concern stored sessions
// included; each case writes to an organization of its own, seeded by
// seedChanges.
func testChangesRaise(t *testing.T, ctx context.Context, st Store) {
	for i, tt := range []struct {
		name  string
		write func(ctx context.Context, st Store, org string) error
	}{
		{"DeleteSession", func(ctx context.Context, st Store, org string) error { return st.DeleteSession(ctx, org+"-s1") }},
		{"DeleteOrgSessions", func(ctx context.Context, st Store, org string) error {
			_, err := st.DeleteOrgSessions(ctx, org, session.MethodSSO)
			return err
		}},
		{"EndSessions one", func(ctx context.Context, st Store, org string) error {
			_, err := st.EndSessions(ctx, session.Query{OrgID: org, Method: session.MethodPassword}, session.EndPasswordRevoked)
			return err
		}},
		{"EndSessions all", func(ctx context.Context, st Store, org string) error {
			_, err := st.EndSessions(ctx, session.Query{OrgID: org}, session.EndRevoked)
			return err
		}},
		{"UpdateOrganization", func(ctx context.Context, st Store, org string) error {
			o := withVersion(fullOrg(org, org), 1)
			o.Enabled = false
			return st.UpdateOrganization(ctx, o)
		}},
		{"SaveOrganization replacing", func(ctx context.Context, st Store, org string) error {
			o := fullOrg(org, org)
			o.StrictMode = false
			return st.SaveOrganization(ctx, o)
		}},
		{"UpdateMember", func(ctx context.Context, st Store, org string) error {
			return st.UpdateMember(ctx, &sso.Member{OrgID: org, Email: "alice@changes.example", UserID: "u-alice", AllowWithoutSSO: true})
		}},
		{"SaveMember replacing", func(ctx context.Context, st Store, org string) error {
			return st.SaveMember(ctx, &sso.Member{OrgID: org, Email: "Alice@Changes.example", UserID: "u-other"})
		}},
		{"DeleteMember", func(ctx context.Context, st Store, org string) error {
			return st.DeleteMember(ctx, org, "alice@changes.example")
		}},
		// A new member of a user who has sessions: with a lower email key
		// it becomes the member MemberByUserID names.
		{"SaveMember new of a user with sessions", func(ctx context.Context, st Store, org string) error {
			return st.SaveMember(ctx, &sso.Member{OrgID: org, Email: "amy@changes.example", UserID: "u-alice"})
		}},
		// A new organization with the ID of stored sessions (a row deleted
		// and inserted again): it decides whether they are valid.
		{"SaveOrganization new with sessions of its ID", func(ctx context.Context, st Store, org string) error {
			s := newSession(org+"-x-s1", org+"-x", session.MethodSSO, t0.Add(time.Hour))
			if err := st.CreateSession(ctx, s); err != nil {
				return err
			}
			return st.SaveOrganization(ctx, fullOrg(org+"-x", org+"-x"))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			org := fmt.Sprintf("changes%d", i)
			seedChanges(t, ctx, st, org)
			before := changeSeq(t, ctx, st)
			if err := tt.write(ctx, st, org); err != nil {
				t.Fatalf("%s err = %v", tt.name, err)
			}
			if after := changeSeq(t, ctx, st); after <= before {
				t.Errorf("ChangeSeq after %s = %d; want more than %d", tt.name, after, before)
			}
		})
	}
}

// testChangesQuiet: writes that create, a first sign-in among them (its
// member before its session), and writes that change nothing, leave the
// change counter as it is (each raise drops every replica's session
// cache).
func testChangesQuiet(t *testing.T, ctx context.Context, st Store) {
	before := changeSeq(t, ctx, st)
	// Creating: an organization, a member, sessions (seedChanges), a
	// draft by SaveOrganization, a member by SaveMember, a pending
	// request, its consumption, a used assertion.
	seedChanges(t, ctx, st, "org-c")
	steps := []struct {
		name string
		do   func() error
	}{
		{"SaveOrganization new", func() error { return st.SaveOrganization(ctx, fullOrg("org-d", "changes-d")) }},
		{"SaveMember new", func() error {
			return st.SaveMember(ctx, &sso.Member{OrgID: "org-c", Email: "bob@changes.example", UserID: "u-bob"})
		}},
		// A user with sessions in another organization only.
		{"CreateMember new of a user with sessions elsewhere", func() error {
			_, err := st.CreateMember(ctx, &sso.Member{OrgID: "org-d", Email: "alice@changes.example", UserID: "u-alice"})
			return err
		}},
		// A first sign-in: the member, then its session.
		{"CreateMember then CreateSession", func() error {
			if _, err := st.CreateMember(ctx, &sso.Member{OrgID: "org-c", Email: "carol@changes.example", UserID: "u-carol"}); err != nil {
				return err
			}
			s := newSession("org-c-carol", "org-c", session.MethodSSO, t0.Add(time.Hour))
			s.UserID = "u-carol"
			return st.CreateSession(ctx, s)
		}},
		// The same in a sign-in transaction.
		{"SignIn first", func() error {
			sis, ok := st.(sso.SignInStore)
			if !ok {
				return nil
			}
			return sis.SignIn(ctx, func(tx sso.SignInTx) bool {
				if _, err := tx.CreateMember(ctx, &sso.Member{OrgID: "org-c", Email: "dan@changes.example", UserID: "u-dan"}); err != nil {
					t.Errorf("SignIn: CreateMember err = %v", err)
					return false
				}
				s := newSession("org-c-dan", "org-c", session.MethodSSO, t0.Add(time.Hour))
				s.UserID = "u-dan"
				if err := tx.CreateSession(ctx, s); err != nil {
					t.Errorf("SignIn: CreateSession err = %v", err)
					return false
				}
				return true
			})
		}},
		{"SaveRequest", func() error {
			return st.SaveRequest(ctx, &sso.PendingRequest{ID: "r1", OrgID: "org-c", ExpiresAt: t0.Add(time.Hour)})
		}},
		{"ConsumeRequest", func() error { _, err := st.ConsumeRequest(ctx, "r1"); return err }},
		{"UseAssertion", func() error { return st.UseAssertion(ctx, "org-c", "a1", t0.Add(time.Hour)) }},
		// Changing nothing.
		{"DeleteSession unknown", func() error { return ignoreNotFound(st.DeleteSession(ctx, "unknown")) }},
		{"DeleteOrgSessions none", func() error { _, err := st.DeleteOrgSessions(ctx, "org-none", ""); return err }},
		{"EndSessions none", func() error {
			_, err := st.EndSessions(ctx, session.Query{OrgID: "org-c", UserID: "u-none"}, session.EndRevoked)
			return err
		}},
		{"DeleteMember unknown", func() error { return ignoreNotFound(st.DeleteMember(ctx, "org-c", "nobody@changes.example")) }},
		{"UpdateMember unknown", func() error {
			return ignoreNotFound(st.UpdateMember(ctx, &sso.Member{OrgID: "org-c", Email: "nobody@changes.example"}))
		}},
		{"UpdateOrganization stale", func() error {
			o := withVersion(fullOrg("org-c", "changes"), 7)
			if err := st.UpdateOrganization(ctx, o); err == nil {
				return errors.New("an update from a stale version succeeded")
			}
			return nil
		}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s err = %v", s.name, err)
		}
	}
	if after := changeSeq(t, ctx, st); after != before {
		t.Errorf("ChangeSeq after creating and no-op writes = %d; want %d, as before", after, before)
	}
}

// RunChangeFeed checks a store's change counter across handles on one
// database (openA and openB open a new handle each call; a handle that is
// an io.Closer is closed when the test ends, or before, to reopen): a
// write through one handle raises the counter the other reads at once,
// and the counter survives closing every handle and opening the database
// again. A store without sso.ChangeFeed skips.
func RunChangeFeed(t *testing.T, openA, openB func(t *testing.T) Store) {
	t.Helper()
	ctx := t.Context()
	a, b := openA(t), openB(t)
	seqA, seqB := changeSeq(t, ctx, a), changeSeq(t, ctx, b)
	if seqA != seqB {
		t.Errorf("ChangeSeq on two handles = %d, %d; want the same", seqA, seqB)
	}
	seedChanges(t, ctx, a, "org-c")
	if err := b.DeleteSession(ctx, "org-c-s1"); err != nil {
		t.Fatal(err)
	}
	afterB := changeSeq(t, ctx, b)
	if got := changeSeq(t, ctx, a); got != afterB || got <= seqA {
		t.Errorf("ChangeSeq after a sign-out on B: A reads %d, B %d; want the same, above %d", got, afterB, seqA)
	}
	if _, err := a.EndSessions(ctx, session.Query{OrgID: "org-c"}, session.EndRevoked); err != nil {
		t.Fatal(err)
	}
	afterA := changeSeq(t, ctx, a)
	if got := changeSeq(t, ctx, b); got != afterA || got <= afterB {
		t.Errorf("ChangeSeq after EndSessions on A: B reads %d, A %d; want the same, above %d", got, afterA, afterB)
	}
	for _, h := range []Store{a, b} {
		if c, ok := h.(io.Closer); ok {
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := changeSeq(t, ctx, openA(t)); got != afterA {
		t.Errorf("ChangeSeq after reopening = %d; want %d, as before", got, afterA)
	}
}

// ignoreNotFound drops sso.ErrNotFound.
func ignoreNotFound(err error) error {
	if errors.Is(err, sso.ErrNotFound) {
		return nil
	}
	return err
}
