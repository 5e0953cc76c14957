package memory

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

// Compile-time checks that *Store implements the ports it adapts.
var (
	_ sso.Store           = (*Store)(nil)
	_ sso.RequestConsumer = (*Store)(nil)
	_ sso.AdminStore      = (*Store)(nil)
	_ sso.DomainStore     = (*Store)(nil)
	_ sso.MetadataLister  = (*Store)(nil)
	_ sso.Cleaner         = (*Store)(nil)
	_ sso.BatchCleaner    = (*Store)(nil)
	_ sso.ChangeFeed      = (*Store)(nil)
	_ session.Store       = (*Store)(nil)
	_ session.Lister      = (*Store)(nil)
)

// Store is an in-process implementation of sso.Store, sso.RequestConsumer,
// sso.AdminStore, sso.DomainStore, sso.MetadataLister, sso.Cleaner,
// sso.BatchCleaner, sso.ChangeFeed, session.Store and session.Lister. It is
// safe for concurrent use. Create one with New; the zero value is also ready
// to use.
//
// Every method first returns ctx.Err() if ctx is already done, and an error
// wrapping ErrInvalidArgument for a nil *Store or a nil context. Every method
// that takes a key (an ID, SSO name or email, directly or in a value) refuses
// one longer than sso.MaxKeyBytes bytes with an error wrapping
// ErrInvalidArgument, as every store does.
type Store struct {
	// Invariant: a value in these maps is never modified once stored; saving
	// replaces it with a fresh copy. Lookups therefore copy a value out after
	// releasing the lock.
	mu          sync.RWMutex
	orgs        map[string]*sso.Organization      // by ID
	orgIDByName map[string]string                 // SSO name -> organization ID; "" is never a key
	orgIDByDom  map[string]string                 // verified domain -> organization ID; "" is never a key
	metaOrgIDs  map[string]struct{}               // IDs of the organizations that name a metadata URL (hasMetadataURL)
	members     map[string]map[string]*sso.Member // organization ID -> sso.MemberEmailKey -> member
	requests    map[string]*sso.PendingRequest
	assertions  map[assertionKey]time.Time     // -> kept until
	sessions    map[string]*session.Session    // by ID
	orgSessions map[string]map[string]struct{} // organization ID -> session IDs
	changes     atomic.Int64                   // the change counter (ChangeSeq); raised under mu

	mfa mfaState // MFA after SSO (sso.MFAStore), under its own lock
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
	s.orgIDByDom = make(map[string]string)
	s.metaOrgIDs = make(map[string]struct{})
	s.members = make(map[string]map[string]*sso.Member)
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
//   - sessions whose ExpiresAt is at or before now, ended or not, as
//     DeleteExpiredSessions.
//
// Pending requests and assertion IDs are kept through the instant itself, so
// the store never forgets one a caller might still accept. Cleanup and
// CleanupBatch are the only ways the store evicts: it has no clock of its own.
func (s *Store) Cleanup(ctx context.Context, now time.Time) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cleanupLocked(now, math.MaxInt), nil
}

// CleanupBatch evicts what Cleanup would, but at most limit entries in total
// over the three kinds, and returns how many it removed: fewer than limit
// means nothing expired is left. A limit below 1 is an error wrapping
// ErrInvalidArgument. The memory store holds its lock for one batch; it finds
// the expired entries by scanning, so a batch costs time in proportion to
// what the store holds.
func (s *Store) CleanupBatch(ctx context.Context, now time.Time, limit int) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	if limit < 1 {
		return 0, errorf(ErrInvalidArgument, "cleanup batch limit %d below 1", limit)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cleanupLocked(now, limit), nil
}

// cleanupLocked removes at most limit entries expired at now, as Cleanup
// describes, and returns how many it removed. The caller holds s.mu for
// writing.
func (s *Store) cleanupLocked(now time.Time, limit int) int {
	n := 0
	for id, r := range s.requests {
		if n == limit {
			return n
		}
		if r.ExpiresAt.Before(now) {
			delete(s.requests, id)
			n++
		}
	}
	for k, until := range s.assertions {
		if n == limit {
			return n
		}
		if until.Before(now) {
			delete(s.assertions, k)
			n++
		}
	}
	return n + s.deleteExpiredSessionsLocked(now, limit-n)
}
