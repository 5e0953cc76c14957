package storetest

import (
	"context"
	"errors"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
)

var sessionTests = []test{
	{"CreateGetDelete", testSession},
	{"RoundTrip", testSessionRoundTrip},
	{"DeleteOrgSessions", testDeleteOrgSessions},
	{"DeleteExpiredSessions", testDeleteExpiredSessions},
	{"DeleteExpiredKeepsEnded", testDeleteExpiredKeepsEnded},
	{"Manager", testSessionManager},
}

func testSession(t *testing.T, ctx context.Context, st Store) {
	s1 := newSession("s1", "org1", session.MethodSSO, t0.Add(-time.Hour)) // expired: still returned
	steps := []struct {
		name    string
		op      string // create, get, delete
		sess    *session.Session
		id      string
		want    *session.Session
		wantErr error
	}{
		{name: "create", op: "create", sess: s1},
		{name: "create duplicate", op: "create", sess: newSession("s1", "org2", session.MethodPassword, t0), wantErr: session.ErrDuplicateID},
		{name: "get", op: "get", id: "s1", want: s1},
		{name: "get is case-sensitive", op: "get", id: "S1", wantErr: session.ErrNotFound},
		{name: "get unknown", op: "get", id: "s2", wantErr: session.ErrNotFound},
		{name: "get empty", op: "get", id: "", wantErr: session.ErrNotFound},
		{name: "delete unknown", op: "delete", id: "s2", wantErr: session.ErrNotFound},
		{name: "delete", op: "delete", id: "s1"},
		{name: "delete again", op: "delete", id: "s1", wantErr: session.ErrNotFound},
		{name: "get deleted", op: "get", id: "s1", wantErr: session.ErrNotFound},
		{name: "create again after delete", op: "create", sess: s1},
		{name: "get recreated", op: "get", id: "s1", want: s1},
	}
	for _, s := range steps {
		var err error
		switch s.op {
		case "create":
			err = st.CreateSession(ctx, s.sess)
		case "delete":
			err = st.DeleteSession(ctx, s.id)
		case "get":
			var got *session.Session
			got, err = st.Session(ctx, s.id)
			if !reflect.DeepEqual(normSession(got), normSession(s.want)) {
				t.Errorf("%s: Session(%q) = %+v; want %+v", s.name, s.id, got, s.want)
			}
		}
		if !errors.Is(err, s.wantErr) {
			t.Errorf("%s: err = %v; want %v", s.name, err, s.wantErr)
		}
	}
	// The refused duplicate changed nothing.
	if got, err := st.Session(ctx, "s1"); err != nil || got.OrgID != "org1" {
		t.Errorf("Session(s1) = %+v, %v; want org1's session", got, err)
	}
}

func testSessionRoundTrip(t *testing.T, ctx context.Context, st Store) {
	local := time.FixedZone("UTC-7", -7*3600)
	now := time.Now() // with a monotonic reading
	sessions := []*session.Session{
		newSession("a", "org1", session.MethodSSO, t0.Add(123456789)),
		fullSession("ended", "org1", session.MethodSSO, t0.Add(time.Hour)),
		{ID: "epochs", OrgID: "org1", Epoch: math.MaxInt64, EndReason: "host's own \"reason\" ✓"},
		{ID: "negative-epoch", OrgID: "org1", Epoch: math.MinInt64, EndReason: session.EndSSODisabled},
		{ID: "b", OrgID: "org1", UserID: "u", Method: session.MethodPassword, CreatedAt: now, ExpiresAt: now.Add(12 * time.Hour)},
		{ID: "c", OrgID: "org1", CreatedAt: time.Date(2026, 3, 1, 5, 0, 0, 999, local), ExpiresAt: time.Date(2026, 3, 1, 6, 0, 0, 1, local)},
		{ID: "d", OrgID: "org1"}, // zero times
		{ID: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", OrgID: "Ωrg ✓", UserID: "用户", Method: "custom",
			ExpiresAt: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
	}
	for _, s := range sessions {
		if err := st.CreateSession(ctx, s); err != nil {
			t.Errorf("CreateSession(%q) err = %v; want nil", s.ID, err)
			continue
		}
		got, err := st.Session(ctx, s.ID)
		if err != nil || !reflect.DeepEqual(normSession(got), normSession(s)) {
			t.Errorf("Session(%q) = %+v, %v; want %+v", s.ID, got, err, s)
		}
	}
}

// sessionIDs returns which of ids the store still holds.
func sessionIDs(t *testing.T, ctx context.Context, st Store, ids []string) []string {
	t.Helper()
	var left []string
	for _, id := range ids {
		_, err := st.Session(ctx, id)
		switch {
		case err == nil:
			left = append(left, id)
		case !errors.Is(err, session.ErrNotFound):
			t.Fatalf("Session(%q) err = %v", id, err)
		}
	}
	return left
}

// seedSessions fills st with sessions of two organizations, two methods, and
// expiries around t0, and returns their IDs.
func seedSessions(t *testing.T, ctx context.Context, st Store) []string {
	t.Helper()
	all := []*session.Session{
		newSession("org1-sso-old", "org1", session.MethodSSO, t0.Add(-time.Minute)),
		newSession("org1-sso-now", "org1", session.MethodSSO, t0),
		newSession("org1-sso-new", "org1", session.MethodSSO, t0.Add(time.Nanosecond)),
		newSession("org1-pw-new", "org1", session.MethodPassword, t0.Add(time.Hour)),
		newSession("org2-sso-new", "org2", session.MethodSSO, t0.Add(time.Hour)),
		newSession("org2-pw-old", "org2", session.MethodPassword, t0.Add(-time.Hour)),
	}
	var ids []string
	for _, s := range all {
		if err := st.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	return ids
}

func testDeleteOrgSessions(t *testing.T, ctx context.Context, st Store) {
	ids := seedSessions(t, ctx, st)
	all := slices.Clone(ids)
	// Steps run in order on one store.
	steps := []struct {
		name          string
		orgID, method string
		wantN         int
		wantErr       bool
		wantLeft      []string
	}{
		{name: "empty org ID", orgID: "", wantErr: true, wantLeft: all},
		{name: "unknown org", orgID: "org3", wantLeft: all},
		{name: "unknown method", orgID: "org1", method: "magic", wantLeft: all},
		{name: "org ID is case-sensitive", orgID: "ORG1", wantLeft: all},
		{name: "SSO of org1", orgID: "org1", method: session.MethodSSO, wantN: 3,
			wantLeft: []string{"org1-pw-new", "org2-sso-new", "org2-pw-old"}},
		{name: "SSO of org1 again", orgID: "org1", method: session.MethodSSO,
			wantLeft: []string{"org1-pw-new", "org2-sso-new", "org2-pw-old"}},
		{name: "password of org2", orgID: "org2", method: session.MethodPassword, wantN: 1,
			wantLeft: []string{"org1-pw-new", "org2-sso-new"}},
		{name: "all of org1", orgID: "org1", wantN: 1, wantLeft: []string{"org2-sso-new"}},
		{name: "all of org2", orgID: "org2", wantN: 1},
	}
	for _, s := range steps {
		n, err := st.DeleteOrgSessions(ctx, s.orgID, s.method)
		if (err != nil) != s.wantErr || n != s.wantN {
			t.Errorf("%s: DeleteOrgSessions(%q, %q) = %d, %v; want %d, error %t", s.name, s.orgID, s.method, n, err, s.wantN, s.wantErr)
		}
		if left := sessionIDs(t, ctx, st, ids); !slices.Equal(left, s.wantLeft) {
			t.Errorf("%s: left %v; want %v", s.name, left, s.wantLeft)
		}
	}
}

func testDeleteExpiredSessions(t *testing.T, ctx context.Context, st Store) {
	ids := seedSessions(t, ctx, st)
	// Steps run in order on one store.
	steps := []struct {
		name     string
		now      time.Time
		wantN    int
		wantLeft []string
	}{
		{name: "long before", now: t0.Add(-24 * time.Hour),
			wantLeft: []string{"org1-sso-old", "org1-sso-now", "org1-sso-new", "org1-pw-new", "org2-sso-new", "org2-pw-old"}},
		{name: "1ns before t0", now: t0.Add(-time.Nanosecond), wantN: 2,
			wantLeft: []string{"org1-sso-now", "org1-sso-new", "org1-pw-new", "org2-sso-new"}},
		{name: "at t0: ExpiresAt == now is expired", now: t0, wantN: 1,
			wantLeft: []string{"org1-sso-new", "org1-pw-new", "org2-sso-new"}},
		{name: "at t0 in another zone, again", now: t0.In(time.FixedZone("X", 5*3600)),
			wantLeft: []string{"org1-sso-new", "org1-pw-new", "org2-sso-new"}},
		{name: "1ns after t0", now: t0.Add(time.Nanosecond), wantN: 1,
			wantLeft: []string{"org1-pw-new", "org2-sso-new"}},
		{name: "long after", now: t0.Add(24 * time.Hour), wantN: 2},
	}
	for _, s := range steps {
		n, err := st.DeleteExpiredSessions(ctx, s.now)
		if err != nil || n != s.wantN {
			t.Errorf("%s: DeleteExpiredSessions(%v) = %d, %v; want %d, nil", s.name, s.now, n, err, s.wantN)
		}
		if left := sessionIDs(t, ctx, st, ids); !slices.Equal(left, s.wantLeft) {
			t.Errorf("%s: left %v; want %v", s.name, left, s.wantLeft)
		}
	}
}

// testSessionManager runs session.Manager on the store: create, validate,
// expire, revoke.
func testSessionManager(t *testing.T, ctx context.Context, st Store) {
	now := t0
	m := session.NewManager(st, session.WithClock(func() time.Time { return now }))
	s, token, err := m.Create(ctx, "org1", "user1", session.MethodSSO, time.Hour)
	if err != nil {
		t.Fatalf("Create() err = %v; want nil", err)
	}
	got, err := m.Validate(ctx, token)
	if err != nil || !reflect.DeepEqual(normSession(got), normSession(s)) {
		t.Fatalf("Validate() = %+v, %v; want %+v", got, err, s)
	}
	now = t0.Add(time.Hour)
	if _, err := m.Validate(ctx, token); !errors.Is(err, session.ErrExpired) {
		t.Errorf("Validate() at ExpiresAt err = %v; want ErrExpired", err)
	}
	if err := m.Revoke(ctx, token); err != nil {
		t.Errorf("Revoke() err = %v; want nil", err)
	}
	if _, err := m.Validate(ctx, token); !errors.Is(err, session.ErrUnknownSession) {
		t.Errorf("Validate() after Revoke err = %v; want ErrUnknownSession", err)
	}

	// Start stamps an epoch; List lists the session; End ends it, and
	// Validate then says why.
	s2, token2, err := m.Start(ctx, session.Params{OrgID: "org1", UserID: "user2", Method: session.MethodSSO, TTL: time.Hour, Epoch: 7})
	if err != nil {
		t.Fatalf("Start() err = %v; want nil", err)
	}
	if got, err := m.Validate(ctx, token2); err != nil || got.Epoch != 7 || !reflect.DeepEqual(normSession(got), normSession(s2)) {
		t.Fatalf("Validate(Start's token) = %+v, %v; want %+v (epoch 7)", got, err, s2)
	}
	if list, err := m.List(ctx, session.Query{OrgID: "org1"}); err != nil || len(list) != 1 || !reflect.DeepEqual(normSession(list[0]), normSession(s2)) {
		t.Errorf("List(org1) = %+v, %v; want [%+v]", list, err, s2)
	}
	if n, err := m.End(ctx, session.Query{OrgID: "org1", UserID: "user2"}, session.EndMemberRemoved); err != nil || n != 1 {
		t.Errorf("End(org1, user2) = %d, %v; want 1, nil", n, err)
	}
	var ended *session.EndedError
	if _, err := m.Validate(ctx, token2); !errors.As(err, &ended) || ended.Reason != session.EndMemberRemoved || !errors.Is(err, session.ErrEnded) {
		t.Errorf("Validate() after End err = %v; want an *EndedError (ErrEnded) with reason %q", err, session.EndMemberRemoved)
	}
	if got, err := st.Session(ctx, s2.ID); err != nil || got.EndReason != session.EndMemberRemoved || got.Epoch != 7 {
		t.Errorf("Session() after End = %+v, %v; want it kept, ended with %q", got, err, session.EndMemberRemoved)
	}
	if list, err := m.List(ctx, session.Query{OrgID: "org1"}); err != nil || len(list) != 0 {
		t.Errorf("List(org1) after End = %+v, %v; want none", list, err)
	}
}

// testDeleteExpiredKeepsEnded: an ended session stays until it expires, so
// Validate can say why it ended; DeleteExpiredSessions, Cleanup and
// CleanupBatch remove it only at its ExpiresAt, like any other.
func testDeleteExpiredKeepsEnded(t *testing.T, ctx context.Context, st Store) {
	for i, exp := range []time.Time{t0, t0.Add(time.Nanosecond), t0.Add(2 * time.Nanosecond), t0.Add(3 * time.Nanosecond)} {
		if err := st.CreateSession(ctx, fullSession(orgName(i), "org1", session.MethodSSO, exp)); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []struct {
		name string
		now  time.Time
		del  func(now time.Time) (int, error)
	}{
		{"DeleteExpiredSessions", t0, func(now time.Time) (int, error) { return st.DeleteExpiredSessions(ctx, now) }},
		{"Cleanup", t0.Add(time.Nanosecond), func(now time.Time) (int, error) { return st.Cleanup(ctx, now) }},
		{"CleanupBatch", t0.Add(2 * time.Nanosecond), func(now time.Time) (int, error) { return st.CleanupBatch(ctx, now, 10) }},
	} {
		if n, err := s.del(s.now.Add(-time.Nanosecond)); err != nil || n != 0 {
			t.Errorf("%s(1ns before the next expiry) = %d, %v; want 0, nil: ended sessions are kept until they expire", s.name, n, err)
		}
		if n, err := s.del(s.now); err != nil || n != 1 {
			t.Errorf("%s(at the next expiry) = %d, %v; want 1, nil", s.name, n, err)
		}
	}
	if got, err := st.Session(ctx, orgName(3)); err != nil || !reflect.DeepEqual(normSession(got), normSession(fullSession(orgName(3), "org1", session.MethodSSO, t0.Add(3*time.Nanosecond)))) {
		t.Errorf("Session(the last ended session) = %+v, %v; want it kept as created", got, err)
	}
}
