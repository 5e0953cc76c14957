package session

import (
	"context"
	"errors"
	"time"
)

// Sign-in methods a Session records.
const (
	MethodSSO      = "sso"
	MethodPassword = "password"
)

// The errors every Store returns, whatever its backend. Package sso
// re-exports them, so one errors.Is works for all stores.
var (
	// ErrNotFound: no entry has that key.
	ErrNotFound = errors.New("orgsso: not found")
	// ErrDuplicateID: a pending request or session with that ID already exists.
	ErrDuplicateID = errors.New("orgsso: duplicate ID")
	// ErrInvalidArgument: a nil store, context or value, a missing key field,
	// or (for a Manager) a bad orgID, userID, method or ttl.
	ErrInvalidArgument = errors.New("orgsso: invalid argument")
)

// Session is a signed-in user's session in one organization.
//
// ID is the hex SHA-256 of the session token: stores keep only this hash, so a
// leaked table yields no usable token. The token itself is returned once, by
// Manager.Create, for the host's cookie.
type Session struct {
	ID, OrgID, UserID, Method string // Method: "sso" or "password"
	CreatedAt, ExpiresAt      time.Time
}

// Valid reports whether the session is still valid at now: now < ExpiresAt.
func (s *Session) Valid(now time.Time) bool { return now.Before(s.ExpiresAt) }

// Store keeps sessions by ID (the token hash). Implementations must be safe
// for concurrent use and return ErrNotFound for unknown IDs.
type Store interface {
	// CreateSession stores a new session; its ID is unique.
	CreateSession(ctx context.Context, s *Session) error
	// Session returns the session with this ID, expired or not.
	Session(ctx context.Context, id string) (*Session, error)
	// DeleteSession removes one session; ErrNotFound if there was none.
	DeleteSession(ctx context.Context, id string) error
	// DeleteOrgSessions removes the sessions of an organization made with
	// method ("" = every method) and returns how many it removed.
	DeleteOrgSessions(ctx context.Context, orgID, method string) (int, error)
	// DeleteExpiredSessions removes sessions whose ExpiresAt is at or before
	// now and returns how many it removed.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
}
