package sso_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/memory"
)

// TestSessionCacheConfig: New refuses a session cache configuration that
// cannot work, naming the field; zero values are the defaults.
func TestSessionCacheConfig(t *testing.T) {
	for _, tt := range []struct {
		name    string
		cfg     sso.SessionCacheConfig
		wantErr error
	}{
		{"zero", sso.SessionCacheConfig{}, nil},
		{"disabled", sso.SessionCacheConfig{Disabled: true}, nil},
		{"bounds", sso.SessionCacheConfig{MaxStaleness: 5 * time.Second, MaxEntries: 10}, nil},
		{"minimum staleness", sso.SessionCacheConfig{MaxStaleness: sso.MinSessionCacheMaxStaleness}, nil},
		{"negative staleness", sso.SessionCacheConfig{MaxStaleness: -time.Second}, sso.ErrInvalidConfig},
		{"staleness below the minimum", sso.SessionCacheConfig{MaxStaleness: time.Millisecond}, sso.ErrInvalidConfig},
		{"negative entries", sso.SessionCacheConfig{MaxEntries: -1}, sso.ErrInvalidConfig},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := memory.New()
			_, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: st, Sessions: session.NewManager(st), SessionCache: tt.cfg})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("New(SessionCache %+v) err = %v; want %v", tt.cfg, err, tt.wantErr)
			}
		})
	}
}

// cacheEnv is a Service over the memory store, with a session of u-alice
// (a member of acme) in the acme organization of newEnv.
func cacheEnv(t *testing.T) (*env, string) {
	t.Helper()
	e := newEnv(t, nil)
	e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: "u-alice", Email: "alice@acme.example"})
	_, token, err := e.sessions.Start(t.Context(), session.Params{OrgID: e.org.ID, UserID: "u-alice", Method: session.MethodSSO,
		TTL: time.Hour, Epoch: e.org.SSOEpoch})
	if err != nil {
		t.Fatal(err)
	}
	return e, token
}

// runService runs svc.Run until the test ends, and waits for its first
// poll of the change counter.
func runService(t *testing.T, svc *sso.Service) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan struct{})
	go func() { defer close(done); svc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	for deadline := time.Now().Add(10 * time.Second); !svc.SessionCacheStats().Fresh; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("session cache not fresh 10 s after Run started: %+v", svc.SessionCacheStats())
		}
	}
}

// TestSessionCacheNeedsRun: without Run nothing keeps the cache fresh, so
// every check reads the store (and a direct store write is seen at once);
// with Run, checks after the first are hits, each a copy of its own.
func TestSessionCacheNeedsRun(t *testing.T) {
	e, token := cacheEnv(t)
	ctx := t.Context()
	for range 3 {
		if _, err := e.svc.ValidateSession(ctx, token); err != nil {
			t.Fatalf("ValidateSession err = %v", err)
		}
	}
	if st := e.svc.SessionCacheStats(); !st.Enabled || st.Fresh || st.Hits != 0 || st.Bypasses != 3 || st.Entries != 0 {
		t.Errorf("SessionCacheStats() without Run = %+v; want Enabled, not Fresh, 3 Bypasses, nothing cached", st)
	}

	runService(t, e.svc)
	first, err := e.svc.ValidateSession(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	first.UserID = "changed by the caller"
	second, err := e.svc.ValidateSession(ctx, token)
	if err != nil || second.UserID != "u-alice" {
		t.Fatalf("second ValidateSession = %+v, %v; want u-alice's session", second, err)
	}
	if st := e.svc.SessionCacheStats(); st.Hits != 1 || st.Entries != 1 {
		t.Errorf("SessionCacheStats() after two checks with Run = %+v; want 1 hit, 1 entry", st)
	}
}

// TestSessionCacheLocalWrites: a revocation through the Service itself is
// seen by its next check, cache or not: SignOut, RevokeSessions,
// RemoveMember, Disable, a member's password access taken away.
func TestSessionCacheLocalWrites(t *testing.T) {
	for _, tt := range []struct {
		name     string
		password bool
		revoke   func(t *testing.T, e *env, token string) error
	}{
		{"SignOut", false, func(t *testing.T, e *env, token string) error {
			r := httptest.NewRequest(http.MethodPost, "https://app.example.com/logout", nil)
			r.AddCookie(&http.Cookie{Name: e.svc.SessionCookieName(), Value: token})
			_, err := e.svc.SignOut(t.Context(), r)
			return err
		}},
		{"RevokeSessions", false, func(t *testing.T, e *env, _ string) error {
			_, err := e.svc.RevokeSessions(t.Context(), e.org.ID, ownerID, "u-alice")
			return err
		}},
		{"RemoveMember", false, func(t *testing.T, e *env, _ string) error {
			return e.svc.RemoveMember(t.Context(), e.org.ID, ownerID, "alice@acme.example")
		}},
		{"Disable", false, func(t *testing.T, e *env, _ string) error { return e.svc.Disable(t.Context(), e.org.ID, ownerID) }},
		{"SetMemberAccess", true, func(t *testing.T, e *env, _ string) error {
			_, err := e.svc.SetMemberAccess(t.Context(), e.org.ID, ownerID, "alice@acme.example", false)
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, token := cacheEnv(t)
			ctx := t.Context()
			if tt.password {
				m := e.member(t, "alice@acme.example")
				m.AllowWithoutSSO = true
				e.saveMember(t, m)
				var err error
				if _, token, err = e.sessions.Create(ctx, e.org.ID, "u-alice", session.MethodPassword, time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			runService(t, e.svc)
			for range 2 {
				if _, err := e.svc.ValidateSession(ctx, token); err != nil {
					t.Fatalf("ValidateSession before %s err = %v", tt.name, err)
				}
			}
			if st := e.svc.SessionCacheStats(); st.Hits == 0 {
				t.Fatalf("SessionCacheStats() = %+v; want a hit before the revocation", st)
			}
			if err := tt.revoke(t, e, token); err != nil {
				t.Fatalf("%s err = %v", tt.name, err)
			}
			if s, err := e.svc.ValidateSession(ctx, token); err == nil {
				t.Errorf("ValidateSession right after %s on the same Service = %+v; want refused", tt.name, s)
			}
		})
	}
}

// TestSessionCacheExpiry: a cached session is refused at its ExpiresAt by
// the Service's clock, without any write.
func TestSessionCacheExpiry(t *testing.T) {
	e, token := cacheEnv(t)
	runService(t, e.svc)
	for range 2 {
		if _, err := e.svc.ValidateSession(t.Context(), token); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(time.Hour)
	if _, err := e.svc.ValidateSession(t.Context(), token); !errors.Is(err, session.ErrExpired) {
		t.Errorf("ValidateSession at ExpiresAt err = %v; want session.ErrExpired", err)
	}
}

// TestSessionCacheNeedsOneStore: the cache is on only when the session
// manager keeps its sessions in the Store whose change counter it reads;
// sessions kept elsewhere would be signed out without the counter moving.
func TestSessionCacheNeedsOneStore(t *testing.T) {
	st, other := memory.New(), memory.New()
	for _, tt := range []struct {
		name     string
		sessions *session.Manager
		want     bool
	}{
		{"same store", session.NewManager(st), true},
		{"the Service's own manager", nil, true},
		{"another store", session.NewManager(other), false},
		{"no store", session.NewManager(nil), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: st, Sessions: tt.sessions})
			if err != nil {
				t.Fatal(err)
			}
			if got := svc.SessionCacheStats().Enabled; got != tt.want {
				t.Errorf("SessionCacheStats().Enabled = %v; want %v", got, tt.want)
			}
		})
	}
}
