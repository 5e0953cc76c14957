package sqlstore_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/store/sqlstore"
)

// t0 is the instant the tests measure expiry from.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// sess returns a session expiring at expires.
func sess(id, orgID, userID, method string, expires time.Time) *session.Session {
	return &session.Session{ID: id, OrgID: orgID, UserID: userID, Method: method,
		CreatedAt: expires.Add(-time.Hour), ExpiresAt: expires}
}

func TestSessionEpochAndEndReason(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func() *sqlstore.Store) {
		st, ctx := open(), t.Context()
		for i, s := range []*session.Session{
			{ID: "s1", OrgID: "o", UserID: "u", Method: session.MethodSSO, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), Epoch: 7},
			{ID: "s2", OrgID: "o", UserID: "u", Method: session.MethodPassword, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), EndReason: "host's reason"},
			{ID: "s3", OrgID: "o", Epoch: -1 << 63},
		} {
			if err := st.CreateSession(ctx, s); err != nil {
				t.Fatalf("CreateSession(#%d) err = %v", i, err)
			}
			if got, err := st.Session(ctx, s.ID); err != nil || !reflect.DeepEqual(got, s) {
				t.Errorf("Session(%s) = %+v, %v; want %+v", s.ID, got, err, s)
			}
		}
	})
}

func TestListSessions(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func() *sqlstore.Store) {
		st, ctx := open(), t.Context()
		all := []*session.Session{
			sess("a1", "org1", "u1", session.MethodSSO, t0.Add(time.Hour)),
			sess("a2", "org1", "u1", session.MethodPassword, t0.Add(time.Hour)),
			sess("a3", "org1", "u2", session.MethodSSO, t0.Add(time.Hour)),
			sess("a4", "org1", "u1", session.MethodSSO, t0), // expired at t0
			sess("a5", "org1", "u1", session.MethodSSO, t0.Add(time.Nanosecond)),
			sess("a6", "org1", "u1", session.MethodSSO, t0.Add(time.Hour)), // ended below
			sess("B7", "org1", "u1", session.MethodSSO, t0.Add(time.Hour)), // "B" < "a": first
			sess("a8", "org2", "u1", session.MethodSSO, t0.Add(time.Hour)),
		}
		all[3].Epoch = 3
		all[5].EndReason = session.EndRevoked
		for _, s := range all {
			if err := st.CreateSession(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			q       session.Query
			now     time.Time
			want    []string
			wantErr error
		}{
			{session.Query{OrgID: "org1"}, t0, []string{"B7", "a1", "a2", "a3", "a5"}, nil},
			{session.Query{OrgID: "org1", UserID: "u1"}, t0, []string{"B7", "a1", "a2", "a5"}, nil},
			{session.Query{OrgID: "org1", Method: session.MethodSSO}, t0, []string{"B7", "a1", "a3", "a5"}, nil},
			{session.Query{OrgID: "org1", UserID: "u1", Method: session.MethodPassword}, t0, []string{"a2"}, nil},
			{session.Query{OrgID: "org1", UserID: "u1"}, t0.Add(-time.Nanosecond), []string{"B7", "a1", "a2", "a4", "a5"}, nil},
			{session.Query{OrgID: "org1", UserID: "u1"}, t0.Add(time.Nanosecond), []string{"B7", "a1", "a2"}, nil},
			{session.Query{OrgID: "org1", After: "a1"}, t0, []string{"a2", "a3", "a5"}, nil},
			{session.Query{OrgID: "org1", After: "a1", Limit: 2}, t0, []string{"a2", "a3"}, nil},
			{session.Query{OrgID: "org1", UserID: "u1", After: "a", Limit: 1}, t0, []string{"a1"}, nil},
			{session.Query{OrgID: "org1", After: "z"}, t0, nil, nil},
			{session.Query{OrgID: "org3"}, t0, nil, nil},
			{session.Query{OrgID: "org1", UserID: "\xff"}, t0, nil, nil},
			{session.Query{OrgID: "org1", Limit: session.MaxListLimit}, t0, []string{"B7", "a1", "a2", "a3", "a5"}, nil},
			{session.Query{OrgID: "org1", Limit: session.MaxListLimit + 1}, t0, nil, sqlstore.ErrInvalidArgument},
			{session.Query{OrgID: "org1", Limit: -1}, t0, nil, sqlstore.ErrInvalidArgument},
			{session.Query{}, t0, nil, sqlstore.ErrInvalidArgument},
			{session.Query{OrgID: "org1", After: "\x00"}, t0, nil, sqlstore.ErrInvalidArgument},
		}
		for _, tt := range tests {
			list, err := st.ListSessions(ctx, tt.q, tt.now)
			var got []string
			for _, s := range list {
				got = append(got, s.ID)
			}
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) || !slices.Equal(got, tt.want) {
				t.Errorf("ListSessions(%+v, %v) = %v, %v; want %v, %v", tt.q, tt.now, got, err, tt.want, tt.wantErr)
			}
		}
		// Listed sessions carry every field.
		list, err := st.ListSessions(ctx, session.Query{OrgID: "org1", UserID: "u1", Limit: 1, After: "a3"}, t0.Add(-time.Second))
		if err != nil || len(list) != 1 || !reflect.DeepEqual(list[0], all[3]) {
			t.Errorf("ListSessions(a4) = %+v, %v; want %+v", list, err, all[3])
		}
	})
}

// TestListSessionsPaging: paging through more sessions than one page holds,
// by the last ID, visits each once, in order.
func TestListSessionsPaging(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func() *sqlstore.Store) {
		st, ctx := open(), t.Context()
		var want []string
		for i := range 250 {
			id := fmt.Sprintf("s%04d", (i*7919)%250) // created out of order
			if err := st.CreateSession(ctx, sess(id, "org1", "u1", session.MethodSSO, t0.Add(time.Hour))); err != nil {
				t.Fatal(err)
			}
			want = append(want, id)
		}
		slices.Sort(want)
		var got []string
		for after := ""; ; {
			page, err := st.ListSessions(ctx, session.Query{OrgID: "org1", After: after}, t0) // 100 a page
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range page {
				got = append(got, s.ID)
			}
			if len(page) < session.DefaultListLimit {
				break
			}
			after = page[len(page)-1].ID
		}
		if !slices.Equal(got, want) {
			t.Errorf("paging listed %d sessions; want the %d, once each, in order", len(got), len(want))
		}
	})
}

func TestEndSessions(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func() *sqlstore.Store) {
		st, ctx := open(), t.Context()
		for _, s := range []*session.Session{
			sess("s1", "org1", "u1", session.MethodSSO, t0.Add(time.Hour)),
			sess("s2", "org1", "u1", session.MethodPassword, t0.Add(time.Hour)),
			sess("s3", "org1", "u2", session.MethodSSO, t0.Add(time.Hour)),
			sess("s4", "org1", "u1", session.MethodSSO, t0), // expired: ended too
			sess("s5", "org2", "u1", session.MethodSSO, t0.Add(time.Hour)),
		} {
			if err := st.CreateSession(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			q       session.Query
			reason  string
			want    int
			wantErr error
		}{
			{session.Query{OrgID: "org1", UserID: "u1", Method: session.MethodSSO, After: "s9", Limit: 1}, session.EndSSODisabled, 2, nil}, // s1, s4: After and Limit ignored
			{session.Query{OrgID: "org1", UserID: "u1"}, session.EndMemberRemoved, 1, nil},                                                 // s2: s1, s4 already ended
			{session.Query{OrgID: "org1", UserID: "u1"}, session.EndRevoked, 0, nil},
			{session.Query{OrgID: "org1"}, session.EndRevoked, 1, nil}, // s3
			{session.Query{OrgID: "org3"}, session.EndRevoked, 0, nil},
			{session.Query{OrgID: "org2", Method: "\xff"}, session.EndRevoked, 0, nil},
			{session.Query{OrgID: "org2"}, "", 0, sqlstore.ErrInvalidArgument},
			{session.Query{OrgID: "org2"}, "bad\x00", 0, sqlstore.ErrInvalidArgument},
			{session.Query{}, session.EndRevoked, 0, sqlstore.ErrInvalidArgument},
		}
		for _, tt := range tests {
			n, err := st.EndSessions(ctx, tt.q, tt.reason)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) || n != tt.want {
				t.Errorf("EndSessions(%+v, %q) = %d, %v; want %d, %v", tt.q, tt.reason, n, err, tt.want, tt.wantErr)
			}
		}
		for id, want := range map[string]string{
			"s1": session.EndSSODisabled, "s2": session.EndMemberRemoved, "s3": session.EndRevoked,
			"s4": session.EndSSODisabled, "s5": "",
		} {
			if s, err := st.Session(ctx, id); err != nil || s.EndReason != want {
				t.Errorf("Session(%s) = %+v, %v; want EndReason %q", id, s, err, want)
			}
		}
		// Ended sessions stay until they expire, and then go.
		if n, err := st.DeleteExpiredSessions(ctx, t0); err != nil || n != 1 {
			t.Errorf("DeleteExpiredSessions(t0) = %d, %v; want 1 (s4)", n, err)
		}
	})
}
