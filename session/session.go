package session

import (
	"context"
	"time"

	"github.com/orgsso/orgsso/storeerr"
)

// Sign-in methods a Session records.
const (
	MethodSSO      = "sso"
	MethodPassword = "password"
)

// The errors every Store returns, whatever its backend. They are defined once,
// in package storeerr; package sso re-exports them too, so one errors.Is
// works for all stores.
var (
	// ErrNotFound: no entry has that key.
	ErrNotFound = storeerr.ErrNotFound
	// ErrDuplicateID: a pending request or session with that ID already exists.
	ErrDuplicateID = storeerr.ErrDuplicateID
	// ErrInvalidArgument: a nil store, context or value, a missing key field,
	// or (for a Manager) a bad orgID, userID, method or ttl.
	ErrInvalidArgument = storeerr.ErrInvalidArgument
)

// Session is a signed-in user's session in one organization.
//
// ID is the hex SHA-256 of the session token: stores keep only this hash, so a
// leaked table yields no usable token. The token itself is returned once, by
// Manager.Create, for the host's cookie.
type Session struct {
	ID, OrgID, UserID, Method string // Method: "sso" or "password"
	CreatedAt, ExpiresAt      time.Time
	// Epoch is a generation number the creator stamps (Params.Epoch). Package
	// sso stores the organization's SSO epoch in an SSO session: when SSO is
	// disabled the epoch moves on, and sessions of an older epoch are no
	// longer valid, including those of sign-ins that were in flight. 0 for a
	// password session.
	Epoch int64
	// EndReason, when not empty, says why the session was ended before it
	// expired (one of the End* reasons, or the host's own word). An ended
	// session is kept until it expires so that Validate can say why it no
	// longer works, and is never valid again.
	EndReason string
	// Connection is the ID of the organization's connection an SSO session
	// was signed in through ("" for the organization's own IdP, and for a
	// password session), so that disabling or removing a connection ends
	// its sessions.
	Connection string
}

// Reasons a session is ended before it expires (Session.EndReason).
const (
	EndSSODisabled     = "sso_disabled"        // the organization turned SSO off
	EndMemberRemoved   = "member_removed"      // the user is no longer a member
	EndPasswordRevoked = "password_revoked"    // a password session whose member must now use SSO
	EndRevoked         = "revoked"             // an administrator ended the user's sessions
	EndConnectionOff   = "connection_disabled" // the connection it came through was disabled or removed
	EndMFARequired     = "mfa_required"        // the organization's MFA policy got stricter: sign in again with the second factor
)

// Valid reports whether the session is still valid at now: it has not been
// ended and now < ExpiresAt.
func (s *Session) Valid(now time.Time) bool { return s.EndReason == "" && now.Before(s.ExpiresAt) }

// Store keeps sessions by ID (the token hash), each with every field as
// given to CreateSession (Epoch and EndReason included). Implementations must
// be safe for concurrent use and return ErrNotFound for unknown IDs.
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
	// now, ended or not, and returns how many it removed. An ended session
	// that has not expired is kept.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
}

// Query selects sessions for a Lister: those of OrgID (required), of UserID
// when it is not empty, made with Method when it is not empty.
type Query struct {
	OrgID, UserID, Method string
	// Connection, when not "", matches only sessions of that connection.
	Connection string
	// After is a cursor: only sessions whose ID sorts after it are listed
	// ("" = from the start). EndSessions ignores it.
	After string
	// Limit bounds a listing: 1..MaxListLimit; 0 = DefaultListLimit.
	// EndSessions ignores it.
	Limit int
}

// Listing bounds of a Query.
const (
	DefaultListLimit = 100
	MaxListLimit     = 1000
)

// Lister is implemented by stores that list sessions and end them without
// deleting them. Every store in orgsso/store implements it; package sso needs
// it for its session administration and for ending sessions with a reason.
type Lister interface {
	// ListSessions returns the sessions matching q that are neither ended
	// nor expired at now (ExpiresAt after now), in ascending ID order
	// (compared as bytes), at most q.Limit of them (0 = DefaultListLimit),
	// starting after q.After. An empty q.OrgID, or a q.Limit below 0 or
	// above MaxListLimit, is ErrInvalidArgument. A q.Method no session has
	// (an unknown one included) lists none.
	ListSessions(ctx context.Context, q Query, now time.Time) ([]*Session, error)
	// EndSessions sets EndReason to reason on every session matching q that
	// is not ended yet, expired or not (q.After and q.Limit are ignored), and
	// returns how many it changed; a session ended before keeps its reason.
	// The ended sessions stay until DeleteExpiredSessions removes them at
	// their ExpiresAt. An empty reason or q.OrgID is ErrInvalidArgument.
	EndSessions(ctx context.Context, q Query, reason string) (int, error)
}
