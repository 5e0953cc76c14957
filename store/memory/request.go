package memory

import (
	"context"
	"crypto/subtle"
	"time"

	"github.com/orgsso/orgsso/sso"
)

// assertionKey identifies a used assertion: IDs are unique per organization.
type assertionKey struct{ orgID, assertionID string }

// SaveRequest stores a copy of a pending AuthnRequest. req needs an ID, and
// keys within sso.MaxKeyBytes; an ID the store already holds is an error
// wrapping ErrDuplicateID.
func (s *Store) SaveRequest(ctx context.Context, req *sso.PendingRequest) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if req == nil {
		return errorf(ErrInvalidArgument, "nil pending request")
	}
	if req.ID == "" {
		return errorf(ErrInvalidArgument, "pending request without an ID")
	}
	if err := checkKeys("pending request", req.ID, req.OrgID, req.TesterUserID); err != nil {
		return err
	}
	c := *req

	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	if _, ok := s.requests[c.ID]; ok {
		return errorf(ErrDuplicateID, "pending request %q", c.ID)
	}
	s.requests[c.ID] = &c
	return nil
}

// ConsumeRequest returns the pending request with this ID and deletes it, in
// one step: of any number of concurrent callers, at most one gets it. An
// unknown or already consumed ID is an error wrapping sso.ErrNotFound.
//
// It returns an expired request too, until Cleanup evicts it: judging
// ExpiresAt is the caller's job.
func (s *Store) ConsumeRequest(ctx context.Context, id string) (*sso.PendingRequest, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := checkKeys("pending request", id); err != nil {
		return nil, err
	}
	s.mu.Lock()
	r, ok := s.requests[id]
	if ok {
		delete(s.requests, id)
	}
	s.mu.Unlock()
	if !ok {
		return nil, errorf(sso.ErrNotFound, "pending request %q", id)
	}
	return r, nil // no longer in the store: no copy needed
}

// ConsumeMatchingRequest returns and deletes the pending request with this ID
// if it belongs to organization orgID and its BindingHash equals bindingHash,
// in one step: of any number of concurrent callers, at most one gets it. A
// request that does not match stays in the store, and the answer is an error
// wrapping sso.ErrNotFound, as for an unknown ID.
//
// Like ConsumeRequest, it returns an expired request too.
func (s *Store) ConsumeMatchingRequest(ctx context.Context, id, orgID, bindingHash string) (*sso.PendingRequest, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := checkKeys("pending request", id, orgID); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.consumeMatchingLocked(id, orgID, bindingHash)
}

// consumeMatchingLocked is ConsumeMatchingRequest's step under s.mu, which
// the caller holds; the arguments are checked.
func (s *Store) consumeMatchingLocked(id, orgID, bindingHash string) (*sso.PendingRequest, error) {
	r, ok := s.requests[id]
	ok = ok && r.OrgID == orgID && subtle.ConstantTimeCompare([]byte(r.BindingHash), []byte(bindingHash)) == 1
	if !ok {
		return nil, errorf(sso.ErrNotFound, "pending request %q of organization %q with this binding", id, orgID)
	}
	delete(s.requests, id)
	return r, nil // no longer in the store: no copy needed
}

// UseAssertion records assertionID as used in organization orgID until the
// given time. If the ID is already recorded for that organization, it returns
// an error wrapping sso.ErrReplay; of any number of concurrent callers, at
// most one gets nil. The same ID in another organization is independent.
//
// A recorded ID stays replay-protected until Cleanup runs at a time after
// until; the store never evicts on its own, so a recorded ID whose until has
// passed is still a replay until then. Recording it again does not extend it.
func (s *Store) UseAssertion(ctx context.Context, orgID, assertionID string, until time.Time) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := checkAssertion(orgID, assertionID); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.useAssertionLocked(orgID, assertionID, until)
}

// checkAssertion checks UseAssertion's arguments.
func checkAssertion(orgID, assertionID string) error {
	if orgID == "" || assertionID == "" {
		return errorf(ErrInvalidArgument, "assertion without an organization ID or assertion ID")
	}
	return checkKeys("assertion", orgID, assertionID)
}

// useAssertionLocked is UseAssertion's step under s.mu, which the caller
// holds; the arguments are checked.
func (s *Store) useAssertionLocked(orgID, assertionID string, until time.Time) error {
	k := assertionKey{orgID: orgID, assertionID: assertionID}
	s.initLocked()
	if _, used := s.assertions[k]; used {
		return errorf(sso.ErrReplay, "assertion %q of organization %q", assertionID, orgID)
	}
	s.assertions[k] = until
	return nil
}
