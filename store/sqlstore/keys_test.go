package sqlstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/sqlstore"
)

// keyCalls lists, for every method, a call with each of its keys set to k;
// the other arguments are fine. email(k) is an email of len(k) bytes.
func keyCalls(ctx context.Context, st *sqlstore.Store, k string) []struct {
	name string
	err  error
} {
	email := k[:len(k)-len("@x")] + "@x"
	type call = struct {
		name string
		err  error
	}
	orgWith := func(f func(o *sso.Organization)) *sso.Organization {
		o := &sso.Organization{ID: "org1", OwnerID: "u1"}
		f(o)
		return o
	}
	memberWith := func(f func(m *sso.Member)) *sso.Member {
		m := &sso.Member{OrgID: "org1", Email: "ada@x", UserID: "u1"}
		f(m)
		return m
	}
	reqWith := func(f func(r *sso.PendingRequest)) *sso.PendingRequest {
		r := &sso.PendingRequest{ID: "r1", OrgID: "org1", ExpiresAt: t0}
		f(r)
		return r
	}
	sessWith := func(f func(s *session.Session)) *session.Session {
		s := sess("s1", "org1", "u1", session.MethodSSO, t0)
		f(s)
		return s
	}
	errOf := func(_ any, err error) error { return err }
	var calls []call
	add := func(name string, err error) { calls = append(calls, call{name, err}) }

	add("Organization", errOf(st.Organization(ctx, k)))
	add("OrganizationBySSOName", errOf(st.OrganizationBySSOName(ctx, k)))
	add("OrganizationByDomain", errOf(st.OrganizationByDomain(ctx, k)))
	for field, f := range map[string]func(o *sso.Organization){
		"ID": func(o *sso.Organization) { o.ID = k }, "SSOName": func(o *sso.Organization) { o.SSOName = k },
		"OwnerID": func(o *sso.Organization) { o.OwnerID = k },
		"Domains[i].Name": func(o *sso.Organization) { // held by the verified domain registry
			o.Domains = []sso.Domain{{Name: "ok.example", Token: "t"}, {Name: k, Token: "t", VerifiedAt: t0}}
		},
	} {
		add("SaveOrganization "+field, st.SaveOrganization(ctx, orgWith(f)))
		add("CreateOrganization "+field, st.CreateOrganization(ctx, orgWith(f)))
		add("UpdateOrganization "+field, st.UpdateOrganization(ctx, orgWith(f)))
	}
	add("Member orgID", errOf(st.Member(ctx, k, "ada@x")))
	add("Member email", errOf(st.Member(ctx, "org1", email)))
	for field, f := range map[string]func(m *sso.Member){
		"OrgID": func(m *sso.Member) { m.OrgID = k }, "Email": func(m *sso.Member) { m.Email = email },
		"UserID": func(m *sso.Member) { m.UserID = k },
	} {
		add("SaveMember "+field, st.SaveMember(ctx, memberWith(f)))
		add("CreateMember "+field, errOf(st.CreateMember(ctx, memberWith(f))))
		add("UpdateMember "+field, st.UpdateMember(ctx, memberWith(f)))
	}
	add("DeleteMember orgID", st.DeleteMember(ctx, k, "ada@x"))
	add("DeleteMember email", st.DeleteMember(ctx, "org1", email))
	add("MemberByUserID orgID", errOf(st.MemberByUserID(ctx, k, "u1")))
	add("MemberByUserID userID", errOf(st.MemberByUserID(ctx, "org1", k)))
	add("Members orgID", errOf(st.Members(ctx, k, "", 10)))
	add("Members after", errOf(st.Members(ctx, "org1", k, 10)))
	for field, f := range map[string]func(r *sso.PendingRequest){
		"ID": func(r *sso.PendingRequest) { r.ID = k }, "OrgID": func(r *sso.PendingRequest) { r.OrgID = k },
		"TesterUserID": func(r *sso.PendingRequest) { r.TesterUserID = k },
	} {
		add("SaveRequest "+field, st.SaveRequest(ctx, reqWith(f)))
	}
	add("ConsumeRequest", errOf(st.ConsumeRequest(ctx, k)))
	add("ConsumeMatchingRequest id", errOf(st.ConsumeMatchingRequest(ctx, k, "org1", "h")))
	add("ConsumeMatchingRequest orgID", errOf(st.ConsumeMatchingRequest(ctx, "r1", k, "h")))
	add("UseAssertion orgID", st.UseAssertion(ctx, k, "a1", t0))
	add("UseAssertion assertionID", st.UseAssertion(ctx, "org1", k, t0))
	for field, f := range map[string]func(s *session.Session){
		"ID": func(s *session.Session) { s.ID = k }, "OrgID": func(s *session.Session) { s.OrgID = k },
		"UserID":     func(s *session.Session) { s.UserID = k },
		"Method":     func(s *session.Session) { s.Method = k },     // not a key, but indexed: bounded alike
		"Connection": func(s *session.Session) { s.Connection = k }, // not a key, but indexed: bounded alike
	} {
		add("CreateSession "+field, st.CreateSession(ctx, sessWith(f)))
	}
	add("Session", errOf(st.Session(ctx, k)))
	add("DeleteSession", st.DeleteSession(ctx, k))
	add("DeleteOrgSessions orgID", errOf(st.DeleteOrgSessions(ctx, k, "")))
	for field, q := range map[string]session.Query{
		"OrgID": {OrgID: k}, "UserID": {OrgID: "org1", UserID: k}, "After": {OrgID: "org1", After: k},
	} {
		add("ListSessions "+field, errOf(st.ListSessions(ctx, q, t0)))
		if field != "After" { // EndSessions ignores the cursor
			add("EndSessions "+field, errOf(st.EndSessions(ctx, q, session.EndRevoked)))
		}
	}
	return calls
}

// TestKeyTooLong: every method refuses a key longer than sso.MaxKeyBytes
// with ErrKeyTooLong (and ErrInvalidArgument), before it reaches the
// database: these calls run on a store whose *sql.DB is closed, and so would
// fail otherwise.
func TestKeyTooLong(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func() *sqlstore.Store) {
		st := open()
		if err := st.DB().Close(); err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{sso.MaxKeyBytes + 1, 1 << 20} {
			for _, c := range keyCalls(t.Context(), st, strings.Repeat("k", n)) {
				if !errors.Is(c.err, sqlstore.ErrKeyTooLong) || !errors.Is(c.err, session.ErrInvalidArgument) {
					t.Errorf("%s(a key of %d bytes) err = %v; want ErrKeyTooLong, ErrInvalidArgument", c.name, n, c.err)
				}
				if c.err != nil && len(c.err.Error()) > 1000 {
					t.Errorf("%s(a key of %d bytes): the error repeats the key (%d bytes)", c.name, n, len(c.err.Error()))
				}
			}
		}
	})
}

// TestLongMethodMatchesNothing: a session method is not a key: looking
// sessions up by one longer than sso.MaxKeyBytes finds none, without error
// (CreateSession refuses to store one).
func TestLongMethodMatchesNothing(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func() *sqlstore.Store) {
		st, ctx := open(), t.Context()
		if err := st.CreateSession(ctx, sess("s1", "org1", "u1", session.MethodSSO, t0.Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
		long := strings.Repeat("m", 1<<20)
		if n, err := st.DeleteOrgSessions(ctx, "org1", long); n != 0 || err != nil {
			t.Errorf("DeleteOrgSessions(long method) = %d, %v; want 0, nil", n, err)
		}
		q := session.Query{OrgID: "org1", Method: long, After: strings.Repeat("a", sso.MaxKeyBytes+1)}
		if n, err := st.EndSessions(ctx, q, session.EndRevoked); n != 0 || err != nil {
			t.Errorf("EndSessions(long method, long cursor: ignored) = %d, %v; want 0, nil", n, err)
		}
		q.After = ""
		if list, err := st.ListSessions(ctx, q, t0); len(list) != 0 || err != nil {
			t.Errorf("ListSessions(long method) = %v, %v; want none, nil", list, err)
		}
		if s, err := st.Session(ctx, "s1"); err != nil || s.EndReason != "" {
			t.Errorf("Session(s1) = %+v, %v; want it untouched", s, err)
		}
	})
}

// TestKeyAtMax: keys of exactly sso.MaxKeyBytes are stored, looked up and
// indexed (PostgreSQL refuses index entries over about 2.7 kB: three such
// keys in one index entry still fit).
func TestKeyAtMax(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func() *sqlstore.Store) {
		st, ctx := open(), t.Context()
		k := strings.Repeat("\u00e9", sso.MaxKeyBytes/2) // multi-byte: bytes count, not characters
		for _, c := range keyCalls(ctx, st, k) {
			switch {
			case c.err == nil, errors.Is(c.err, sso.ErrNotFound), errors.Is(c.err, sso.ErrConflict),
				errors.Is(c.err, sso.ErrMemberExists), errors.Is(c.err, sso.ErrDuplicateID), errors.Is(c.err, sso.ErrReplay):
			default:
				t.Errorf("%s(a key of %d bytes) err = %v; want it accepted", c.name, len(k), c.err)
			}
		}
		// Every key of one row at the bound at once.
		o := &sso.Organization{ID: strings.Repeat("o", sso.MaxKeyBytes), SSOName: strings.Repeat("n", sso.MaxKeyBytes), OwnerID: k}
		if err := st.CreateOrganization(ctx, o); err != nil {
			t.Errorf("CreateOrganization(max keys) err = %v", err)
		}
		if got, err := st.OrganizationBySSOName(ctx, o.SSOName); err != nil || got.ID != o.ID {
			t.Errorf("OrganizationBySSOName(max) = %v, %v", got, err)
		}
		email := strings.Repeat("e", sso.MaxKeyBytes-2) + "@x"
		m := &sso.Member{OrgID: o.ID, Email: email, UserID: k}
		if _, err := st.CreateMember(ctx, m); err != nil {
			t.Errorf("CreateMember(max keys) err = %v", err)
		}
		if got, err := st.MemberByUserID(ctx, o.ID, k); err != nil || got.Email != email {
			t.Errorf("MemberByUserID(max keys) = %v, %v", got, err)
		}
		s := sess(strings.Repeat("s", sso.MaxKeyBytes), o.ID, k, strings.Repeat("m", sso.MaxKeyBytes), t0.Add(time.Hour))
		s.Connection = strings.Repeat("c", sso.MaxKeyBytes)
		if err := st.CreateSession(ctx, s); err != nil {
			t.Errorf("CreateSession(max keys) err = %v", err)
		}
		list, err := st.ListSessions(ctx, session.Query{OrgID: o.ID, UserID: k, Method: s.Method}, t0)
		if err != nil || len(list) != 1 {
			t.Errorf("ListSessions(max keys) = %v, %v; want the session", list, err)
		}
		list, err = st.ListSessions(ctx, session.Query{OrgID: o.ID, Connection: s.Connection}, t0)
		if err != nil || len(list) != 1 {
			t.Errorf("ListSessions(max connection) = %v, %v; want the session", list, err)
		}
		if err := st.UseAssertion(ctx, o.ID, strings.Repeat("a", sso.MaxKeyBytes), t0); err != nil {
			t.Errorf("UseAssertion(max keys) err = %v", err)
		}
		r := &sso.PendingRequest{ID: strings.Repeat("r", sso.MaxKeyBytes), OrgID: o.ID, TesterUserID: k, ExpiresAt: t0}
		if err := st.SaveRequest(ctx, r); err != nil {
			t.Errorf("SaveRequest(max keys) err = %v", err)
		}
		if _, err := st.ConsumeMatchingRequest(ctx, r.ID, r.OrgID, ""); err != nil {
			t.Errorf("ConsumeMatchingRequest(max keys) err = %v", err)
		}
	})
}
