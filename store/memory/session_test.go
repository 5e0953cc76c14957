package memory_test

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/store/memory"
)

func newSession(id, orgID, method string, expires time.Time) *session.Session {
	return &session.Session{
		ID: id, OrgID: orgID, UserID: "user-" + id, Method: method,
		CreatedAt: expires.Add(-time.Hour), ExpiresAt: expires,
	}
}

func TestSession(t *testing.T) {
	ctx := t.Context()
	st := memory.New()
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
		{name: "create duplicate", op: "create", sess: newSession("s1", "org2", session.MethodPassword, t0), wantErr: memory.ErrDuplicateID},
		{name: "get", op: "get", id: "s1", want: s1},
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
			if !reflect.DeepEqual(got, s.want) {
				t.Errorf("%s: Session(%q) = %+v; want %+v", s.name, s.id, got, s.want)
			}
		}
		if !errors.Is(err, s.wantErr) {
			t.Errorf("%s: err = %v; want %v", s.name, err, s.wantErr)
		}
	}
}

// sessionIDs returns which of ids the store still holds.
func sessionIDs(t *testing.T, st *memory.Store, ids []string) []string {
	t.Helper()
	var left []string
	for _, id := range ids {
		_, err := st.Session(t.Context(), id)
		switch {
		case err == nil:
			left = append(left, id)
		case !errors.Is(err, session.ErrNotFound):
			t.Fatalf("Session(%q) err = %v", id, err)
		}
	}
	return left
}

// seedSessions fills a store with sessions of two organizations, two
// methods, and expiries around t0.
func seedSessions(t *testing.T) (*memory.Store, []string) {
	t.Helper()
	st := memory.New()
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
		if err := st.CreateSession(t.Context(), s); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	return st, ids
}

func TestDeleteOrgSessions(t *testing.T) {
	tests := []struct {
		name          string
		orgID, method string
		wantN         int
		wantErr       error
		wantLeft      []string
	}{
		{name: "all of org1", orgID: "org1", wantN: 4,
			wantLeft: []string{"org2-sso-new", "org2-pw-old"}},
		{name: "SSO of org1", orgID: "org1", method: session.MethodSSO, wantN: 3,
			wantLeft: []string{"org1-pw-new", "org2-sso-new", "org2-pw-old"}},
		{name: "password of org2", orgID: "org2", method: session.MethodPassword, wantN: 1,
			wantLeft: []string{"org1-sso-old", "org1-sso-now", "org1-sso-new", "org1-pw-new", "org2-sso-new"}},
		{name: "unknown org", orgID: "org3", wantN: 0,
			wantLeft: []string{"org1-sso-old", "org1-sso-now", "org1-sso-new", "org1-pw-new", "org2-sso-new", "org2-pw-old"}},
		{name: "unknown method", orgID: "org1", method: "magic", wantN: 0,
			wantLeft: []string{"org1-sso-old", "org1-sso-now", "org1-sso-new", "org1-pw-new", "org2-sso-new", "org2-pw-old"}},
		{name: "empty org ID", orgID: "", wantErr: memory.ErrInvalidArgument,
			wantLeft: []string{"org1-sso-old", "org1-sso-now", "org1-sso-new", "org1-pw-new", "org2-sso-new", "org2-pw-old"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, ids := seedSessions(t)
			n, err := st.DeleteOrgSessions(t.Context(), tt.orgID, tt.method)
			if !errors.Is(err, tt.wantErr) || n != tt.wantN {
				t.Errorf("DeleteOrgSessions(%q, %q) = %d, %v; want %d, %v", tt.orgID, tt.method, n, err, tt.wantN, tt.wantErr)
			}
			if left := sessionIDs(t, st, ids); !slices.Equal(left, tt.wantLeft) {
				t.Errorf("left %v; want %v", left, tt.wantLeft)
			}
			// Deleting again finds nothing.
			if n, err := st.DeleteOrgSessions(t.Context(), tt.orgID, tt.method); n != 0 || !errors.Is(err, tt.wantErr) {
				t.Errorf("second DeleteOrgSessions() = %d, %v; want 0, %v", n, err, tt.wantErr)
			}
		})
	}
}

func TestDeleteExpiredSessions(t *testing.T) {
	tests := []struct {
		name     string
		now      time.Time
		wantN    int
		wantLeft []string
	}{
		{name: "long before", now: t0.Add(-24 * time.Hour), wantN: 0,
			wantLeft: []string{"org1-sso-old", "org1-sso-now", "org1-sso-new", "org1-pw-new", "org2-sso-new", "org2-pw-old"}},
		{name: "at t0: ExpiresAt == now is expired", now: t0, wantN: 3,
			wantLeft: []string{"org1-sso-new", "org1-pw-new", "org2-sso-new"}},
		{name: "long after", now: t0.Add(24 * time.Hour), wantN: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, ids := seedSessions(t)
			n, err := st.DeleteExpiredSessions(t.Context(), tt.now)
			if err != nil || n != tt.wantN {
				t.Errorf("DeleteExpiredSessions(%v) = %d, %v; want %d, nil", tt.now, n, err, tt.wantN)
			}
			if left := sessionIDs(t, st, ids); !slices.Equal(left, tt.wantLeft) {
				t.Errorf("left %v; want %v", left, tt.wantLeft)
			}
			// The per-organization index followed the deletions.
			n1, _ := st.DeleteOrgSessions(t.Context(), "org1", "")
			n2, _ := st.DeleteOrgSessions(t.Context(), "org2", "")
			if n1+n2 != len(tt.wantLeft) {
				t.Errorf("DeleteOrgSessions after expiry removed %d; want %d", n1+n2, len(tt.wantLeft))
			}
		})
	}
}
