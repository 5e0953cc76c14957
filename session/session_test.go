package session_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
)

// fakeStore is a map-backed session.Store that honours the Store contract
// (copies in and out, ErrNotFound for unknown IDs, unique IDs, safe for
// concurrent use) and, when spying, records every string it is handed.
type fakeStore struct {
	mu       sync.Mutex
	sessions map[string]session.Session
	spy      bool
	seen     []string // every string argument and stored field, when spy
	calls    int      // every method call
	err      error    // when set, every method fails with it
}

var _ session.Store = (*fakeStore)(nil)

func newFakeStore() *fakeStore {
	return &fakeStore{sessions: map[string]session.Session{}, spy: true}
}

func (f *fakeStore) record(ss ...string) {
	f.calls++
	if f.spy {
		f.seen = append(f.seen, ss...)
	}
}

func (f *fakeStore) CreateSession(_ context.Context, s *session.Session) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(s.ID, s.OrgID, s.UserID, s.Method)
	if f.err != nil {
		return f.err
	}
	if _, dup := f.sessions[s.ID]; dup {
		return fmt.Errorf("fake store: duplicate session ID %s", s.ID)
	}
	f.sessions[s.ID] = *s
	return nil
}

func (f *fakeStore) Session(_ context.Context, id string) (*session.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(id)
	if f.err != nil {
		return nil, f.err
	}
	s, ok := f.sessions[id]
	if !ok {
		return nil, session.ErrNotFound
	}
	return &s, nil
}

func (f *fakeStore) DeleteSession(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(id)
	if f.err != nil {
		return f.err
	}
	if _, ok := f.sessions[id]; !ok {
		return session.ErrNotFound
	}
	delete(f.sessions, id)
	return nil
}

func (f *fakeStore) DeleteOrgSessions(_ context.Context, orgID, method string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(orgID, method)
	if f.err != nil {
		return 0, f.err
	}
	n := 0
	for id, s := range f.sessions {
		if s.OrgID == orgID && (method == "" || s.Method == method) {
			delete(f.sessions, id)
			n++
		}
	}
	return n, nil
}

func (f *fakeStore) DeleteExpiredSessions(_ context.Context, now time.Time) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record()
	if f.err != nil {
		return 0, f.err
	}
	n := 0
	for id, s := range f.sessions {
		if !now.Before(s.ExpiresAt) {
			delete(f.sessions, id)
			n++
		}
	}
	return n, nil
}

func (f *fakeStore) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sessions)
}

func (f *fakeStore) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// fakeClock is a settable clock, safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func newClock() *fakeClock { return &fakeClock{t: t0} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// seqRand returns a deterministic, non-repeating stream that is NOT safe for
// concurrent use (the Manager must serialize it).
func seqRand() io.Reader { return rand.NewChaCha8([32]byte{1, 2, 3}) }

// errReader fails every read.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// zeroReader returns no bytes and no error, forever.
type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

const ttl = 12 * time.Hour

func newManager(t *testing.T) (*session.Manager, *fakeStore, *fakeClock) {
	t.Helper()
	st, clk := newFakeStore(), newClock()
	return session.NewManager(st, session.WithClock(clk.Now), session.WithRand(seqRand())), st, clk
}

func mustCreate(t *testing.T, m *session.Manager, orgID, userID, method string) (*session.Session, string) {
	t.Helper()
	s, tok, err := m.Create(context.Background(), orgID, userID, method, ttl)
	if err != nil {
		t.Fatalf("Create(%q, %q, %q) err = %v; want nil", orgID, userID, method, err)
	}
	return s, tok
}

func TestCreateValidateRoundTrip(t *testing.T) {
	ctx := context.Background()
	m, st, _ := newManager(t)
	s, tok, err := m.Create(ctx, "org1", "user1", session.MethodSSO, ttl)
	if err != nil {
		t.Fatalf("Create() err = %v; want nil", err)
	}
	want := session.Session{ID: session.HashToken(tok), OrgID: "org1", UserID: "user1",
		Method: session.MethodSSO, CreatedAt: t0, ExpiresAt: t0.Add(ttl)}
	if *s != want {
		t.Errorf("Create() session = %+v; want %+v", *s, want)
	}
	if st.len() != 1 {
		t.Fatalf("store holds %d sessions; want 1", st.len())
	}
	got, err := m.Validate(ctx, tok)
	if err != nil {
		t.Fatalf("Validate() err = %v; want nil", err)
	}
	if *got != want {
		t.Errorf("Validate() = %+v; want %+v", *got, want)
	}
	// The returned session is the caller's: mutating it leaves the store alone.
	s.UserID = "mallory"
	got.UserID = "mallory"
	if again, err := m.Validate(ctx, tok); err != nil || again.UserID != "user1" {
		t.Errorf("Validate() after mutating results = %+v, %v; want user1, nil", again, err)
	}
}

func TestTokenFormat(t *testing.T) {
	m, _, _ := newManager(t)
	for i := range 50 {
		s, tok := mustCreate(t, m, "org1", fmt.Sprint("user", i), session.MethodPassword)
		if len(tok) != 43 {
			t.Fatalf("token length = %d; want 43", len(tok))
		}
		raw, err := base64.RawURLEncoding.Strict().DecodeString(tok)
		if err != nil || len(raw) != 32 {
			t.Fatalf("token is not 32 bytes of strict base64url: %d bytes, err = %v", len(raw), err)
		}
		if s.ID != session.HashToken(tok) {
			t.Errorf("ID = %s; want HashToken(token) = %s", s.ID, session.HashToken(tok))
		}
		if len(s.ID) != 64 || strings.ToLower(s.ID) != s.ID {
			t.Errorf("ID %q is not 64 lowercase hex characters", s.ID)
		}
	}
}

func TestHashToken(t *testing.T) {
	// sha256("") and sha256("abc"), the FIPS 180-2 test vectors.
	tests := []struct{ in, want string }{
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	}
	for _, tt := range tests {
		if got := session.HashToken(tt.in); got != tt.want {
			t.Errorf("HashToken(%q) = %s; want %s", tt.in, got, tt.want)
		}
	}
}

func TestStoreNeverSeesToken(t *testing.T) {
	ctx := context.Background()
	m, st, _ := newManager(t)
	var tokens []string
	for _, method := range []string{session.MethodSSO, session.MethodPassword} {
		_, tok := mustCreate(t, m, "org1", "user1", method)
		tokens = append(tokens, tok)
		if _, err := m.Validate(ctx, tok); err != nil {
			t.Fatalf("Validate() err = %v", err)
		}
	}
	if err := m.Revoke(ctx, tokens[0]); err != nil {
		t.Fatalf("Revoke() err = %v", err)
	}
	if _, err := m.RevokeOrg(ctx, "org1", ""); err != nil {
		t.Fatalf("RevokeOrg() err = %v", err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.seen) == 0 {
		t.Fatal("spy recorded nothing")
	}
	for _, tok := range tokens {
		for _, s := range st.seen {
			if strings.Contains(s, tok) {
				t.Errorf("store was handed %q, which contains a token", s)
			}
		}
	}
}

func TestDeterministicTokens(t *testing.T) {
	tests := []struct {
		name string
		rand []byte
		want string
	}{
		{"zeros", make([]byte, 32), strings.Repeat("A", 43)},
		{"ones", bytes.Repeat([]byte{0xff}, 32), strings.Repeat("_", 42) + "8"},
		{"counter", []byte("0123456789abcdef0123456789abcdef"), "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := session.NewManager(newFakeStore(), session.WithRand(bytes.NewReader(tt.rand)))
			_, tok, err := m.Create(context.Background(), "o", "u", session.MethodSSO, time.Hour)
			if err != nil {
				t.Fatalf("Create() err = %v; want nil", err)
			}
			if tok != tt.want {
				t.Errorf("token = %s; want %s", tok, tt.want)
			}
		})
	}
	// Two managers on the same seed produce the same tokens.
	a := session.NewManager(newFakeStore(), session.WithRand(seqRand()))
	b := session.NewManager(newFakeStore(), session.WithRand(seqRand()))
	for range 3 {
		_, ta := mustCreate(t, a, "o", "u", session.MethodSSO)
		_, tb := mustCreate(t, b, "o", "u", session.MethodSSO)
		if ta != tb {
			t.Fatalf("same seed, different tokens")
		}
	}
}

func TestRandFailure(t *testing.T) {
	boom := errors.New("entropy exhausted")
	tests := []struct {
		name    string
		rand    io.Reader
		wantErr error
	}{
		{"error", errReader{boom}, boom},
		{"short", bytes.NewReader(make([]byte, 31)), io.ErrUnexpectedEOF},
		{"empty", bytes.NewReader(nil), io.ErrUnexpectedEOF},
		{"no progress", zeroReader{}, io.ErrNoProgress},
		{"trickle then error", io.MultiReader(bytes.NewReader(make([]byte, 5)), errReader{boom}), boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newFakeStore()
			m := session.NewManager(st, session.WithRand(tt.rand))
			s, tok, err := m.Create(context.Background(), "o", "u", session.MethodSSO, time.Hour)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Create() err = %v; want %v", err, tt.wantErr)
			}
			if s != nil || tok != "" {
				t.Errorf("Create() = %v, %q; want nil, \"\" on error", s, tok)
			}
			if st.callCount() != 0 {
				t.Errorf("store called %d times; want 0", st.callCount())
			}
		})
	}
}

// oneByteReader hands out one byte per Read, as readers may.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func TestRandShortReadsAreFine(t *testing.T) {
	m := session.NewManager(newFakeStore(), session.WithRand(oneByteReader{bytes.NewReader(make([]byte, 32))}))
	_, tok, err := m.Create(context.Background(), "o", "u", session.MethodSSO, time.Hour)
	if err != nil || tok != strings.Repeat("A", 43) {
		t.Errorf("Create() = %q, %v; want 43 A, nil", tok, err)
	}
}

func TestExpiryBoundary(t *testing.T) {
	ctx := context.Background()
	m, _, clk := newManager(t)
	s, tok := mustCreate(t, m, "org1", "user1", session.MethodSSO)
	tests := []struct {
		name    string
		now     time.Time
		wantErr error
	}{
		{"at creation", s.CreatedAt, nil},
		{"1ns before expiry", s.ExpiresAt.Add(-time.Nanosecond), nil},
		{"at expiry", s.ExpiresAt, session.ErrExpired},
		{"1ns after expiry", s.ExpiresAt.Add(time.Nanosecond), session.ErrExpired},
		{"a year later", s.ExpiresAt.AddDate(1, 0, 0), session.ErrExpired},
		{"other zone, same instant", s.ExpiresAt.In(time.FixedZone("X", 5*3600)), session.ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.Set(tt.now)
			got, err := m.Validate(ctx, tok)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Validate() at %v err = %v; want %v", tt.now, err, tt.wantErr)
			}
			if (err != nil) != (got == nil) {
				t.Errorf("Validate() = %v, %v; want exactly one of session and error", got, err)
			}
			if errors.Is(err, session.ErrUnknownSession) {
				t.Errorf("ErrExpired must not be ErrUnknownSession")
			}
		})
	}
}

func TestValidateUnknownAndMalformed(t *testing.T) {
	m, st, _ := newManager(t)
	_, good := mustCreate(t, m, "org1", "user1", session.MethodSSO)
	flip := []byte(good)
	if flip[0] == 'A' {
		flip[0] = 'B'
	} else {
		flip[0] = 'A'
	}
	tests := []struct {
		name      string
		token     string
		wantStore bool // whether the store is consulted
	}{
		{"unknown", strings.Repeat("A", 43), true},
		{"one char changed", string(flip), true},
		{"empty", "", false},
		{"too short", good[:42], false},
		{"too long", good + "A", false},
		{"padded", good + "=", false},
		{"std alphabet +", "+" + good[1:], false},
		{"std alphabet /", good[:20] + "/" + good[21:], false},
		{"space", " " + good[1:], false},
		{"NUL", "\x00" + good[1:], false},
		{"non-ASCII", "é" + good[2:], false},
		{"non-canonical last char", strings.Repeat("A", 42) + "B", false},
		{"hex ID instead of token", session.HashToken(good), false},
		{"1 MB", strings.Repeat("A", 1<<20), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := st.callCount()
			got, err := m.Validate(context.Background(), tt.token)
			if !errors.Is(err, session.ErrUnknownSession) {
				t.Errorf("Validate() err = %v; want %v", err, session.ErrUnknownSession)
			}
			if got != nil {
				t.Errorf("Validate() session = %+v; want nil", got)
			}
			if consulted := st.callCount() > before; consulted != tt.wantStore {
				t.Errorf("store consulted = %v; want %v", consulted, tt.wantStore)
			}
			if err := m.Revoke(context.Background(), tt.token); !errors.Is(err, session.ErrUnknownSession) {
				t.Errorf("Revoke() err = %v; want %v", err, session.ErrUnknownSession)
			}
		})
	}
	if _, err := m.Validate(context.Background(), good); err != nil {
		t.Errorf("Validate(good) err = %v; want nil", err)
	}
}

func TestStoreErrorsWrapped(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("database on fire")
	m, st, _ := newManager(t)
	_, tok := mustCreate(t, m, "org1", "user1", session.MethodSSO)
	st.err = boom
	_, _, err := m.Create(ctx, "org1", "user2", session.MethodSSO, ttl)
	if !errors.Is(err, boom) {
		t.Errorf("Create() err = %v; want %v", err, boom)
	}
	if _, err := m.Validate(ctx, tok); !errors.Is(err, boom) || errors.Is(err, session.ErrUnknownSession) {
		t.Errorf("Validate() err = %v; want %v, not ErrUnknownSession", err, boom)
	}
	if err := m.Revoke(ctx, tok); !errors.Is(err, boom) {
		t.Errorf("Revoke() err = %v; want %v", err, boom)
	}
	if _, err := m.RevokeOrg(ctx, "org1", ""); !errors.Is(err, boom) {
		t.Errorf("RevokeOrg() err = %v; want %v", err, boom)
	}
	if _, err := m.Cleanup(ctx); !errors.Is(err, boom) {
		t.Errorf("Cleanup() err = %v; want %v", err, boom)
	}
	// A store that wraps ErrNotFound still means "unknown".
	st.err = fmt.Errorf("row lookup: %w", session.ErrNotFound)
	if _, err := m.Validate(ctx, tok); err != session.ErrUnknownSession {
		t.Errorf("Validate() err = %v; want exactly %v", err, session.ErrUnknownSession)
	}
	// No error, whatever its cause, carries the token.
	st.err = fmt.Errorf("cannot look up %s", session.HashToken(tok))
	for _, err := range []error{errOf(m.Validate(ctx, tok)), m.Revoke(ctx, tok), errOf(m.Validate(ctx, tok+"x"))} {
		if err == nil || strings.Contains(err.Error(), tok) {
			t.Errorf("error %v is nil or contains the token", err)
		}
	}
}

// errOf returns the error of a (value, error) pair.
func errOf[T any](_ T, err error) error { return err }

// nilStore returns (nil, nil) from Session, breaking the contract.
type nilStore struct{ fakeStore }

func (*nilStore) Session(context.Context, string) (*session.Session, error) { return nil, nil }

// TestStoreReturningNilSession: a broken store is a failure, never read as
// "signed out" (which would log everyone out during a store fault) nor a
// panic.
func TestStoreReturningNilSession(t *testing.T) {
	m := session.NewManager(&nilStore{})
	s, err := m.Validate(context.Background(), strings.Repeat("A", 43))
	if s != nil || err == nil || errors.Is(err, session.ErrUnknownSession) || errors.Is(err, session.ErrExpired) {
		t.Errorf("Validate() = %v, %v; want no session and a store failure", s, err)
	}
}

func TestRevoke(t *testing.T) {
	ctx := context.Background()
	m, st, clk := newManager(t)
	s1, t1 := mustCreate(t, m, "org1", "user1", session.MethodSSO)
	_, t2 := mustCreate(t, m, "org1", "user2", session.MethodSSO)

	if err := m.Revoke(ctx, t1); err != nil {
		t.Fatalf("Revoke() err = %v; want nil", err)
	}
	if _, err := m.Validate(ctx, t1); !errors.Is(err, session.ErrUnknownSession) {
		t.Errorf("Validate(revoked) err = %v; want %v", err, session.ErrUnknownSession)
	}
	if err := m.Revoke(ctx, t1); !errors.Is(err, session.ErrUnknownSession) {
		t.Errorf("Revoke(revoked) err = %v; want %v", err, session.ErrUnknownSession)
	}
	if err := m.RevokeID(ctx, s1.ID); !errors.Is(err, session.ErrUnknownSession) {
		t.Errorf("RevokeID(revoked) err = %v; want %v", err, session.ErrUnknownSession)
	}
	if _, err := m.Validate(ctx, t2); err != nil {
		t.Errorf("Validate(other) err = %v; want nil", err)
	}

	// An expired session can still be revoked.
	clk.Set(t0.Add(ttl))
	if err := m.Revoke(ctx, t2); err != nil {
		t.Errorf("Revoke(expired) err = %v; want nil", err)
	}
	if st.len() != 0 {
		t.Errorf("store holds %d sessions; want 0", st.len())
	}
}

func TestRevokeID(t *testing.T) {
	ctx := context.Background()
	m, st, _ := newManager(t)
	s, tok := mustCreate(t, m, "org1", "user1", session.MethodSSO)
	tests := []struct {
		name    string
		id      string
		wantErr error
	}{
		{"empty", "", session.ErrUnknownSession},
		{"token instead of ID", tok, session.ErrUnknownSession},
		{"uppercase", strings.ToUpper(s.ID), session.ErrUnknownSession},
		{"too long", s.ID + "0", session.ErrUnknownSession},
		{"unknown", strings.Repeat("0", 64), session.ErrUnknownSession},
		{"known", s.ID, nil},
		{"again", s.ID, session.ErrUnknownSession},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := m.RevokeID(ctx, tt.id); !errors.Is(err, tt.wantErr) {
				t.Errorf("RevokeID() err = %v; want %v", err, tt.wantErr)
			}
		})
	}
	if st.len() != 0 {
		t.Errorf("store holds %d sessions; want 0", st.len())
	}
}

func TestRevokeOrg(t *testing.T) {
	type key struct{ org, user, method string }
	all := []key{
		{"org1", "u1", session.MethodSSO},
		{"org1", "u2", session.MethodSSO},
		{"org1", "u3", session.MethodPassword},
		{"org2", "u1", session.MethodSSO},
		{"org2", "u4", session.MethodPassword},
	}
	tests := []struct {
		name, org, method string
		want              int
		survivors         []key
		wantErr           error
	}{
		{"org1 sso", "org1", session.MethodSSO, 2, []key{all[2], all[3], all[4]}, nil},
		{"org1 password", "org1", session.MethodPassword, 1, []key{all[0], all[1], all[3], all[4]}, nil},
		{"org1 all", "org1", "", 3, []key{all[3], all[4]}, nil},
		{"org2 sso", "org2", session.MethodSSO, 1, []key{all[0], all[1], all[2], all[4]}, nil},
		{"unknown org", "org3", "", 0, all, nil},
		{"empty org", "", "", 0, all, session.ErrInvalidArgument},
		{"bad method", "org1", "saml", 0, all, session.ErrInvalidArgument},
		{"method case", "org1", "SSO", 0, all, session.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			m, _, _ := newManager(t)
			tokens := map[key]string{}
			for _, k := range all {
				_, tokens[k] = mustCreate(t, m, k.org, k.user, k.method)
			}
			n, err := m.RevokeOrg(ctx, tt.org, tt.method)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("RevokeOrg(%q, %q) err = %v; want %v", tt.org, tt.method, err, tt.wantErr)
			}
			if n != tt.want {
				t.Errorf("RevokeOrg(%q, %q) = %d; want %d", tt.org, tt.method, n, tt.want)
			}
			alive := map[key]bool{}
			for _, k := range tt.survivors {
				alive[k] = true
			}
			for k, tok := range tokens {
				_, err := m.Validate(ctx, tok)
				if got := err == nil; got != alive[k] {
					t.Errorf("session %v alive = %v (err %v); want %v", k, got, err, alive[k])
				}
			}
		})
	}
}

func TestCleanup(t *testing.T) {
	ctx := context.Background()
	st, clk := newFakeStore(), newClock()
	m := session.NewManager(st, session.WithClock(clk.Now), session.WithRand(seqRand()))
	create := func(d time.Duration) string {
		t.Helper()
		_, tok, err := m.Create(ctx, "org1", "u", session.MethodSSO, d)
		if err != nil {
			t.Fatalf("Create() err = %v", err)
		}
		return tok
	}
	short, exact, long := create(time.Hour), create(2*time.Hour), create(3*time.Hour)

	clk.Set(t0.Add(2 * time.Hour)) // short expired, exact expires now, long alive
	n, err := m.Cleanup(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Cleanup() = %d, %v; want 2, nil", n, err)
	}
	for _, tok := range []string{short, exact} {
		if _, err := m.Validate(ctx, tok); !errors.Is(err, session.ErrUnknownSession) {
			t.Errorf("Validate(cleaned) err = %v; want %v", err, session.ErrUnknownSession)
		}
	}
	if _, err := m.Validate(ctx, long); err != nil {
		t.Errorf("Validate(long) err = %v; want nil", err)
	}
	if n, err := m.Cleanup(ctx); err != nil || n != 0 {
		t.Errorf("second Cleanup() = %d, %v; want 0, nil", n, err)
	}
}

func TestCreateInvalidArgs(t *testing.T) {
	tests := []struct {
		name, org, user, method string
		ttl                     time.Duration
		wantArg                 string
		wantErr                 error
	}{
		{"ok sso", "o", "u", session.MethodSSO, time.Nanosecond, "", nil},
		{"ok password", "o", "u", session.MethodPassword, 24 * time.Hour, "", nil},
		{"empty org", "", "u", session.MethodSSO, time.Hour, "orgID", session.ErrInvalidArgument},
		{"empty user", "o", "", session.MethodSSO, time.Hour, "userID", session.ErrInvalidArgument},
		{"empty method", "o", "u", "", time.Hour, "method", session.ErrInvalidArgument},
		{"unknown method", "o", "u", "saml", time.Hour, "method", session.ErrInvalidArgument},
		{"method case", "o", "u", "Password", time.Hour, "method", session.ErrInvalidArgument},
		{"zero ttl", "o", "u", session.MethodSSO, 0, "ttl", session.ErrInvalidArgument},
		{"negative ttl", "o", "u", session.MethodSSO, -time.Hour, "ttl", session.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newFakeStore()
			m := session.NewManager(st, session.WithRand(seqRand()))
			s, tok, err := m.Create(context.Background(), tt.org, tt.user, tt.method, tt.ttl)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Create() err = %v; want %v", err, tt.wantErr)
			}
			if err == nil {
				if s == nil || tok == "" || st.len() != 1 {
					t.Errorf("Create() = %v, %d-char token, %d stored; want a session", s, len(tok), st.len())
				}
				return
			}
			var ae *session.ArgumentError
			if !errors.As(err, &ae) || ae.Arg != tt.wantArg {
				t.Errorf("Create() err = %#v; want *ArgumentError for %s", err, tt.wantArg)
			}
			if s != nil || tok != "" || st.callCount() != 0 {
				t.Errorf("Create() = %v, %q with %d store calls; want nothing", s, tok, st.callCount())
			}
		})
	}
}

func TestNilStore(t *testing.T) {
	ctx := context.Background()
	tok := strings.Repeat("A", 43)
	for name, m := range map[string]*session.Manager{
		"NewManager(nil)": session.NewManager(nil, nil, session.WithClock(nil), session.WithRand(nil)),
		"nil *Manager":    nil,
		"zero Manager":    new(session.Manager),
	} {
		t.Run(name, func(t *testing.T) {
			checks := []struct {
				op  string
				err error
			}{
				{"Create", errOf3(m.Create(ctx, "o", "u", session.MethodSSO, time.Hour))},
				{"Validate", errOf(m.Validate(ctx, tok))},
				{"Revoke", m.Revoke(ctx, tok)},
				{"RevokeID", m.RevokeID(ctx, session.HashToken(tok))},
				{"RevokeOrg", errOf(m.RevokeOrg(ctx, "o", ""))},
				{"Cleanup", errOf(m.Cleanup(ctx))},
			}
			for _, c := range checks {
				if !errors.Is(c.err, session.ErrNoStore) {
					t.Errorf("%s() err = %v; want %v", c.op, c.err, session.ErrNoStore)
				}
			}
		})
	}
}

// errOf3 returns the error of a (value, value, error) triple.
func errOf3[T, U any](_ T, _ U, err error) error { return err }

func TestNilOptionsAndContext(t *testing.T) {
	st := newFakeStore()
	// nil options, nil clock and nil rand all mean the defaults.
	m := session.NewManager(st, nil, session.WithClock(nil), session.WithRand(nil))
	//lint:ignore SA1012 a nil context must not panic either
	s, tok, err := m.Create(nil, "o", "u", session.MethodSSO, time.Minute)
	if err != nil {
		t.Fatalf("Create() err = %v; want nil", err)
	}
	if d := time.Since(s.CreatedAt); d < 0 || d > time.Minute {
		t.Errorf("CreatedAt = %v; want about now (default clock)", s.CreatedAt)
	}
	//lint:ignore SA1012 a nil context must not panic either
	if _, err := m.Validate(nil, tok); err != nil {
		t.Errorf("Validate() err = %v; want nil", err)
	}
}

func TestCreatedAtHasNoMonotonicReading(t *testing.T) {
	m := session.NewManager(newFakeStore(), session.WithClock(time.Now))
	s, _, err := m.Create(context.Background(), "o", "u", session.MethodSSO, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// String() prints "m=±…" only for a time with a monotonic reading.
	if strings.Contains(s.CreatedAt.String(), "m=") || strings.Contains(s.ExpiresAt.String(), "m=") {
		t.Errorf("CreatedAt %v / ExpiresAt %v carry a monotonic reading", s.CreatedAt, s.ExpiresAt)
	}
}

func TestErrorMessages(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&session.ArgumentError{Arg: "ttl", Reason: "not positive"}, "session: invalid ttl: not positive"},
		{session.ErrUnknownSession, "session: unknown session"},
		{session.ErrExpired, "session: session expired"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q; want %q", got, tt.want)
		}
	}
	if errors.Is(session.ErrUnknownSession, session.ErrNotFound) || errors.Is(session.ErrExpired, session.ErrUnknownSession) {
		t.Error("sentinels must be distinct")
	}
}

func TestConcurrentCreateValidate(t *testing.T) {
	ctx := context.Background()
	// seqRand is not safe for concurrent use: -race proves the Manager
	// serializes it.
	m, st, _ := newManager(t)
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	tokens := make([]string, n)
	for i := range n {
		wg.Go(func() {
			org := fmt.Sprint("org", i%4)
			s, tok, err := m.Create(ctx, org, fmt.Sprint("user", i), session.MethodSSO, ttl)
			if err != nil {
				errs <- fmt.Errorf("Create: %w", err)
				return
			}
			tokens[i] = tok
			for range 10 {
				got, err := m.Validate(ctx, tok)
				if err != nil {
					errs <- fmt.Errorf("Validate: %w", err)
					return
				}
				if got.ID != s.ID || got.OrgID != org {
					errs <- fmt.Errorf("Validate: got %+v; want %+v", got, s)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st.len() != n {
		t.Errorf("store holds %d sessions; want %d", st.len(), n)
	}
	seen := map[string]bool{}
	for _, tok := range tokens {
		if seen[tok] {
			t.Errorf("duplicate token")
		}
		seen[tok] = true
	}
}

func TestConcurrentDefaultRand(t *testing.T) {
	ctx := context.Background()
	st := newFakeStore()
	m := session.NewManager(st)
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			_, tok, err := m.Create(ctx, "o", fmt.Sprint(i), session.MethodPassword, time.Hour)
			if err != nil {
				t.Errorf("Create() err = %v", err)
				return
			}
			if _, err := m.Validate(ctx, tok); err != nil {
				t.Errorf("Validate() err = %v", err)
			}
			if err := m.Revoke(ctx, tok); err != nil {
				t.Errorf("Revoke() err = %v", err)
			}
		})
	}
	wg.Wait()
	if st.len() != 0 {
		t.Errorf("store holds %d sessions; want 0", st.len())
	}
}

// TestManagerNow: Now is the Manager's clock (WithClock), the one that
// judges expiry in Validate; time.Now without one, and for a nil Manager.
func TestManagerNow(t *testing.T) {
	m, _, clk := newManager(t)
	if got := m.Now(); !got.Equal(t0) {
		t.Errorf("Now() = %v; want the clock's %v", got, t0)
	}
	clk.Set(t0.Add(time.Hour))
	if got := m.Now(); !got.Equal(t0.Add(time.Hour)) {
		t.Errorf("Now() after the clock moved = %v; want %v", got, t0.Add(time.Hour))
	}
	for name, m := range map[string]*session.Manager{"no clock": session.NewManager(newFakeStore()), "nil": nil} {
		before := time.Now()
		got := m.Now()
		if got.Before(before) || got.After(time.Now()) {
			t.Errorf("%s: Now() = %v; want time.Now", name, got)
		}
	}
}
