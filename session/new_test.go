package session_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
)

// TestNewBuildsWithoutStoring: New checks its arguments as Start does and
// builds the session Start would store, token and all, without a Store
// call; the session validates once the caller stores it.
func TestNewBuildsWithoutStoring(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		p       session.Params
		wantArg string
	}{
		{"ok", session.Params{OrgID: "o", UserID: "u", Method: session.MethodSSO, TTL: time.Hour, Epoch: 7, Connection: "okta"}, ""},
		{"empty org", session.Params{UserID: "u", Method: session.MethodSSO, TTL: time.Hour}, "orgID"},
		{"empty user", session.Params{OrgID: "o", Method: session.MethodSSO, TTL: time.Hour}, "userID"},
		{"unknown method", session.Params{OrgID: "o", UserID: "u", Method: "saml", TTL: time.Hour}, "method"},
		{"zero ttl", session.Params{OrgID: "o", UserID: "u", Method: session.MethodSSO}, "ttl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newFakeStore()
			m := session.NewManager(st, session.WithRand(seqRand()), session.WithClock(func() time.Time { return now }))
			s, tok, err := m.New(tt.p)
			if st.callCount() != 0 {
				t.Fatalf("New() made %d store calls; want none", st.callCount())
			}
			if tt.wantArg != "" {
				var ae *session.ArgumentError
				if !errors.As(err, &ae) || ae.Arg != tt.wantArg || s != nil || tok != "" {
					t.Fatalf("New() = %v, %q, %v; want an *ArgumentError for %s", s, tok, err, tt.wantArg)
				}
				return
			}
			if err != nil {
				t.Fatalf("New() err = %v", err)
			}
			want := session.Session{ID: session.HashToken(tok), OrgID: "o", UserID: "u", Method: session.MethodSSO,
				CreatedAt: now, ExpiresAt: now.Add(time.Hour), Epoch: 7, Connection: "okta"}
			if *s != want {
				t.Errorf("New() = %+v; want %+v", *s, want)
			}
			if _, err := m.Validate(context.Background(), tok); !errors.Is(err, session.ErrUnknownSession) {
				t.Errorf("Validate before the session is stored err = %v; want ErrUnknownSession", err)
			}
			if err := m.Store().CreateSession(context.Background(), s); err != nil {
				t.Fatal(err)
			}
			if got, err := m.Validate(context.Background(), tok); err != nil || got.ID != s.ID {
				t.Errorf("Validate after storing = %+v, %v; want the session", got, err)
			}
		})
	}
}

// TestNewAndStoreOfNilManager: a nil Manager, or one without a Store, is
// ErrNoStore for New, and has no Store.
func TestNewAndStoreOfNilManager(t *testing.T) {
	for name, m := range map[string]*session.Manager{"nil": nil, "no store": session.NewManager(nil)} {
		if _, _, err := m.New(session.Params{OrgID: "o", UserID: "u", Method: session.MethodSSO, TTL: time.Hour}); !errors.Is(err, session.ErrNoStore) {
			t.Errorf("%s: New() err = %v; want ErrNoStore", name, err)
		}
		if st := m.Store(); st != nil {
			t.Errorf("%s: Store() = %v; want nil", name, st)
		}
	}
}
