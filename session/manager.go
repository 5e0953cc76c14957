package session

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
)

// Manager creates, validates and revokes sessions on top of a Store. Build one
// with NewManager; it is safe for concurrent use. Its clock and randomness are
// its own (WithClock, WithRand), never package state.
type Manager struct {
	store Store
	now   func() time.Time
	rand  io.Reader

	// randMu serializes reads from a reader given to WithRand, which need not
	// be safe for concurrent use. crypto/rand.Reader is read without it.
	randMu   sync.Mutex
	lockRand bool
}

// Option configures a Manager in NewManager.
type Option func(*Manager)

// WithClock sets the clock that stamps CreatedAt and ExpiresAt and judges
// expiry in Validate and Cleanup. nil means time.Now. The function must be
// safe for concurrent use if the Manager is.
func WithClock(now func() time.Time) Option {
	return func(m *Manager) {
		if now != nil {
			m.now = now
		}
	}
}

// WithRand sets the source of token randomness. nil means crypto/rand.Reader.
// The Manager reads it under a lock, so it need not be safe for concurrent
// use. Anything but a cryptographically secure source is for tests only:
// tokens are the only thing standing between a guesser and a session.
func WithRand(r io.Reader) Option {
	return func(m *Manager) {
		if r != nil {
			m.rand = r
			m.lockRand = true
		}
	}
}

// NewManager returns a Manager over st. A nil st is not a panic: every method
// of the returned Manager then fails with ErrNoStore. Nil options are ignored.
func NewManager(st Store, opts ...Option) *Manager {
	m := &Manager{store: st, now: time.Now, rand: rand.Reader}
	for _, o := range opts {
		if o != nil {
			o(m)
		}
	}
	return m
}

// Create starts a session for userID in orgID, signed in with method
// (MethodSSO or MethodPassword), valid for ttl from now (absolute). It returns
// the stored session and its token: the token is the only copy, for the
// host's cookie, and must never be logged. It is Start without an epoch.
//
// Invalid arguments give an *ArgumentError (errors.Is ErrInvalidArgument);
// a randomness or Store failure is returned wrapped.
func (m *Manager) Create(ctx context.Context, orgID, userID, method string, ttl time.Duration) (*Session, string, error) {
	return m.Start(ctx, Params{OrgID: orgID, UserID: userID, Method: method, TTL: ttl})
}

// Params describes a session to Start.
type Params struct {
	OrgID, UserID string
	Method        string        // MethodSSO or MethodPassword
	TTL           time.Duration // absolute lifetime from now; positive
	Epoch         int64         // stamped into Session.Epoch
	Connection    string        // stamped into Session.Connection
}

// Start starts the session p describes, as Create does, and stamps p.Epoch
// into it.
func (m *Manager) Start(ctx context.Context, p Params) (*Session, string, error) {
	s, token, err := m.New(p)
	if err != nil {
		return nil, "", err
	}
	if err := m.store.CreateSession(ctxOrBackground(ctx), s); err != nil {
		return nil, "", fmt.Errorf("session: create: %w", err)
	}
	out := *s // the store may keep s; the caller gets its own copy
	return &out, token, nil
}

// New builds the session p describes, and its token, as Start does, without
// storing it: for a caller that stores it itself, e.g. in the transaction of
// a sign-in (package sso with a store that implements sso.SignInStore). The
// session is valid only once stored in the Manager's Store (see Store), and
// the token is its only copy, never to be logged. Invalid arguments give an
// *ArgumentError, as Start; a randomness failure is returned wrapped.
func (m *Manager) New(p Params) (*Session, string, error) {
	if err := m.usable(); err != nil {
		return nil, "", err
	}
	switch {
	case p.OrgID == "":
		return nil, "", &ArgumentError{Arg: "orgID", Reason: "empty"}
	case p.UserID == "":
		return nil, "", &ArgumentError{Arg: "userID", Reason: "empty"}
	case p.Method != MethodSSO && p.Method != MethodPassword:
		return nil, "", &ArgumentError{Arg: "method", Reason: `not "` + MethodSSO + `" or "` + MethodPassword + `"`}
	case p.TTL <= 0:
		return nil, "", &ArgumentError{Arg: "ttl", Reason: "not positive"}
	}
	token, err := m.newToken()
	if err != nil {
		return nil, "", fmt.Errorf("session: create: reading randomness: %w", err)
	}
	// Round(0) drops the monotonic reading: expiry is wall-clock time, the
	// same in memory as after a round trip through a database.
	now := m.now().Round(0)
	return &Session{
		ID:         HashToken(token),
		OrgID:      p.OrgID,
		UserID:     p.UserID,
		Method:     p.Method,
		CreatedAt:  now,
		ExpiresAt:  now.Add(p.TTL),
		Epoch:      p.Epoch,
		Connection: p.Connection,
	}, token, nil
}

// Store returns the Store the Manager keeps its sessions in (nil for a nil
// Manager or one built without a Store). Package sso uses it to check that
// the sessions live in its own Store: a sign-in's transaction and the
// session cache's change counter both need that.
func (m *Manager) Store() Store {
	if m == nil {
		return nil
	}
	return m.store
}

// Now returns the Manager's current time: its clock (WithClock), by which
// it stamps sessions and judges their expiry. A cache of Validate's
// verdicts (package sso's session cache) judges expiry by it too, so that
// it never accepts a session Validate would call expired. A nil Manager
// reads time.Now.
func (m *Manager) Now() time.Time {
	if m == nil || m.now == nil {
		return time.Now()
	}
	return m.now()
}

// Validate returns the session a token belongs to, if it is valid at the
// Manager's now (now < ExpiresAt).
//
// A malformed token (not 43 base64url characters in canonical form) gives
// ErrUnknownSession without a Store lookup; so does a token no session has.
// An expired session gives ErrExpired (and no session); an ended one an
// *EndedError (ErrEnded) with its reason. Other Store errors are returned
// wrapped. On any error the *Session is nil.
func (m *Manager) Validate(ctx context.Context, token string) (*Session, error) {
	if err := m.usable(); err != nil {
		return nil, err
	}
	if !wellFormed(token) {
		return nil, ErrUnknownSession
	}
	var id [idLen]byte
	hashInto(&id, token)
	s, err := m.store.Session(ctxOrBackground(ctx), string(id[:]))
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, ErrUnknownSession
	case err != nil:
		return nil, fmt.Errorf("session: validate: %w", err)
	case s == nil: // a Store breaking its contract is a store failure, not "signed out"
		return nil, errNoResult
	case s.EndReason != "":
		return nil, &EndedError{Reason: s.EndReason}
	case !s.Valid(m.now()):
		return nil, ErrExpired
	}
	return s, nil
}

// Revoke ends the session a token belongs to, expired or not (sign-out).
// A malformed or unknown token gives ErrUnknownSession.
func (m *Manager) Revoke(ctx context.Context, token string) error {
	if err := m.usable(); err != nil {
		return err
	}
	if !wellFormed(token) {
		return ErrUnknownSession
	}
	var id [idLen]byte
	hashInto(&id, token)
	return m.deleteID(ctx, string(id[:]))
}

// RevokeID ends the session with this ID (a Session.ID, i.e. HashToken of its
// token), for hosts that list sessions and end one without its token. An ID
// that is not 64 lowercase hex characters, or unknown, gives
// ErrUnknownSession.
func (m *Manager) RevokeID(ctx context.Context, id string) error {
	if err := m.usable(); err != nil {
		return err
	}
	if !validID(id) {
		return ErrUnknownSession
	}
	return m.deleteID(ctx, id)
}

func (m *Manager) deleteID(ctx context.Context, id string) error {
	err := m.store.DeleteSession(ctxOrBackground(ctx), id)
	switch {
	case errors.Is(err, ErrNotFound):
		return ErrUnknownSession
	case err != nil:
		return fmt.Errorf("session: revoke: %w", err)
	}
	return nil
}

// RevokeOrg ends every session of orgID made with method (MethodSSO or
// MethodPassword; "" = every method), e.g. all SSO sessions when the
// organization disables SSO, and returns how many it ended. An empty orgID or
// another method gives an *ArgumentError.
func (m *Manager) RevokeOrg(ctx context.Context, orgID, method string) (int, error) {
	if err := m.usable(); err != nil {
		return 0, err
	}
	if orgID == "" {
		return 0, &ArgumentError{Arg: "orgID", Reason: "empty"}
	}
	if method != "" && method != MethodSSO && method != MethodPassword {
		return 0, &ArgumentError{Arg: "method", Reason: `not "", "` + MethodSSO + `" or "` + MethodPassword + `"`}
	}
	n, err := m.store.DeleteOrgSessions(ctxOrBackground(ctx), orgID, method)
	if err != nil {
		return n, fmt.Errorf("session: revoke organization: %w", err)
	}
	return n, nil
}

// List returns the sessions q selects that are neither ended nor expired at
// the Manager's now, in ascending ID order (q.After is the ID to start
// after). It needs a Store that implements Lister (ErrNotSupported).
func (m *Manager) List(ctx context.Context, q Query) ([]*Session, error) {
	l, err := m.lister(q)
	if err != nil {
		return nil, err
	}
	switch {
	case q.Limit == 0:
		q.Limit = DefaultListLimit
	case q.Limit < 0 || q.Limit > MaxListLimit:
		return nil, &ArgumentError{Arg: "limit", Reason: "not within 1.." + strconv.Itoa(MaxListLimit)}
	}
	list, err := l.ListSessions(ctxOrBackground(ctx), q, m.now())
	if err != nil {
		return nil, fmt.Errorf("session: list: %w", err)
	}
	return list, nil
}

// End ends, with reason, every session q selects that is not ended yet, and
// returns how many it ended. Ended sessions fail Validate with an
// *EndedError giving the reason. It needs a Store that implements Lister
// (ErrNotSupported).
func (m *Manager) End(ctx context.Context, q Query, reason string) (int, error) {
	l, err := m.lister(q)
	if err != nil {
		return 0, err
	}
	if reason == "" {
		return 0, &ArgumentError{Arg: "reason", Reason: "empty"}
	}
	n, err := l.EndSessions(ctxOrBackground(ctx), q, reason)
	if err != nil {
		return n, fmt.Errorf("session: end: %w", err)
	}
	return n, nil
}

// lister checks what List and End share: a usable Manager over a Lister and
// a query with an organization and a known method.
func (m *Manager) lister(q Query) (Lister, error) {
	if err := m.usable(); err != nil {
		return nil, err
	}
	l, ok := m.store.(Lister)
	if !ok {
		return nil, ErrNotSupported
	}
	if q.OrgID == "" {
		return nil, &ArgumentError{Arg: "orgID", Reason: "empty"}
	}
	if q.Method != "" && q.Method != MethodSSO && q.Method != MethodPassword {
		return nil, &ArgumentError{Arg: "method", Reason: `not "", "` + MethodSSO + `" or "` + MethodPassword + `"`}
	}
	return l, nil
}

// Cleanup removes the sessions expired at the Manager's now (ExpiresAt <= now)
// and returns how many it removed. Validate already refuses expired sessions;
// Cleanup only reclaims their rows, so hosts run it now and then.
func (m *Manager) Cleanup(ctx context.Context) (int, error) {
	if err := m.usable(); err != nil {
		return 0, err
	}
	n, err := m.store.DeleteExpiredSessions(ctxOrBackground(ctx), m.now())
	if err != nil {
		return n, fmt.Errorf("session: cleanup: %w", err)
	}
	return n, nil
}

// errNoResult is Validate's error for a Store that returned neither a
// session nor an error: a broken store, which callers must not read as
// "signed out".
var errNoResult = errors.New("session: validate: the store returned no session and no error")

// usable reports ErrNoStore for a nil Manager or one without a Store.
func (m *Manager) usable() error {
	if m == nil || m.store == nil {
		return ErrNoStore
	}
	return nil
}

// newToken draws a token from the Manager's randomness.
func (m *Manager) newToken() (string, error) {
	if m.lockRand {
		m.randMu.Lock()
		defer m.randMu.Unlock()
	}
	return newToken(m.rand)
}

// ctxOrBackground guards Stores against a nil context.
func ctxOrBackground(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}
