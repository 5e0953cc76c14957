package memory

import (
	"context"
	"sync"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

// Compile-time checks that *Store implements the ports it adapts.
var (
	_ sso.Store           = (*Store)(nil)
	_ sso.RequestConsumer = (*Store)(nil)
	_ session.Store       = (*Store)(nil)
)

// Store is an in-process implementation of sso.Store and session.Store. It is
// safe for concurrent use. Create one with New; the zero value is also ready
// to use.
//
// Every method first returns ctx.Err() if ctx is already done, and an error
// wrapping ErrInvalidArgument for a nil *Store or a nil context.
type Store struct {
	// Invariant: a value in these maps is never modified once stored; saving
	// replaces it with a fresh copy. Lookups therefore copy a value out after
	// releasing the lock.
	mu          sync.RWMutex
	orgs        map[string]*sso.Organization // by ID
	orgIDByName map[string]string            // SSO name -> organization ID; "" is never a key
	members     map[memberKey]*sso.Member
	requests    map[string]*sso.PendingRequest
	assertions  map[assertionKey]time.Time     // -> kept until
	sessions    map[string]*session.Session    // by ID
	orgSessions map[string]map[string]struct{} // organization ID -> session IDs
}

// New returns an empty store.
func New() *Store {
	s := &Store{}
	s.initLocked()
	return s
}

// initLocked makes the maps of a zero Store. The caller holds s.mu for
// writing (or, from New, owns s alone).
func (s *Store) initLocked() {
	if s.orgs != nil {
		return
	}
	s.orgs = make(map[string]*sso.Organization)
	s.orgIDByName = make(map[string]string)
	s.members = make(map[memberKey]*sso.Member)
	s.requests = make(map[string]*sso.PendingRequest)
	s.assertions = make(map[assertionKey]time.Time)
	s.sessions = make(map[string]*session.Session)
	s.orgSessions = make(map[string]map[string]struct{})
}

// begin checks what every method needs before it touches the maps: a non-nil
// store and a live, non-nil context.
func (s *Store) begin(ctx context.Context) error {
	if s == nil {
		return errorf(ErrInvalidArgument, "nil *Store")
	}
	if ctx == nil {
		return errorf(ErrInvalidArgument, "nil context")
	}
	return ctx.Err()
}

// Cleanup evicts what has expired at now and returns how many entries it
// removed in total:
//
//   - pending requests whose ExpiresAt is before now;
//   - used assertion IDs whose until is before now (from then on the ID may be
//     recorded again);
//   - sessions whose ExpiresAt is at or before now, as DeleteExpiredSessions.
//
// Pending requests and assertion IDs are kept through the instant itself, so
// the store never forgets one a caller might still accept. Cleanup is the
// only way the store evicts: it has no clock of its own.
func (s *Store) Cleanup(ctx context.Context, now time.Time) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, r := range s.requests {
		if r.ExpiresAt.Before(now) {
			delete(s.requests, id)
			n++
		}
	}
	for k, until := range s.assertions {
		if until.Before(now) {
			delete(s.assertions, k)
			n++
		}
	}
	return n + s.deleteExpiredSessionsLocked(now), nil
}
