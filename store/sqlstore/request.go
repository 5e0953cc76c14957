package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/orgsso/orgsso/sso"
)

// SaveRequest stores a pending AuthnRequest. req needs an ID, and keys (ID,
// OrgID, TesterUserID) of at most sso.MaxKeyBytes (ErrKeyTooLong); an ID the
// store already holds is an error wrapping ErrDuplicateID.
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
	if err := checkStorable("pending request", req); err != nil {
		return err
	}
	expires, err := encodeTime("pending request ExpiresAt", req.ExpiresAt)
	if err != nil {
		return err
	}
	n, err := s.exec(ctx, s.stmts.saveRequest, req.ID, req.OrgID, req.ReturnTo, req.TesterUserID, expires, req.BindingHash,
		req.Connection, req.Nonce, string(req.CodeVerifier))
	if err != nil {
		return dbErr(ctx, "save request", err)
	}
	if n == 0 {
		return errorf(ErrDuplicateID, "pending request %q", req.ID)
	}
	return nil
}

// ConsumeRequest returns the pending request with this ID and deletes it, in
// one DELETE … RETURNING: of any number of concurrent callers, in any number
// of processes, at most one gets it. An unknown or already consumed ID is an
// error wrapping sso.ErrNotFound.
//
// It returns an expired request too, until Cleanup evicts it: judging
// ExpiresAt is the caller's job.
func (s *Store) ConsumeRequest(ctx context.Context, id string) (*sso.PendingRequest, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := checkKeys("consume request", id); err != nil {
		return nil, err
	}
	if !storable(id) {
		return nil, errorf(sso.ErrNotFound, "pending request %q", id)
	}
	r := &sso.PendingRequest{ID: id}
	var expires, verifier string
	err := s.writeRow(ctx, s.stmts.consumeRequest, []any{id}, &r.OrgID, &r.ReturnTo, &r.TesterUserID, &expires, &r.BindingHash,
		&r.Connection, &r.Nonce, &verifier)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errorf(sso.ErrNotFound, "pending request %q", id)
	}
	if err != nil {
		return nil, dbErr(ctx, "consume request", err)
	}
	if r.ExpiresAt, err = decodeTime(expires); err != nil {
		return nil, dbErr(ctx, "consume request: expires_at", err)
	}
	r.CodeVerifier = sso.Secret(verifier)
	return r, nil
}

// ConsumeMatchingRequest returns and deletes the pending request with this ID
// if it belongs to organization orgID and its BindingHash equals bindingHash,
// in one DELETE … WHERE id AND org_id AND binding_hash … RETURNING: of any
// number of concurrent callers, in any number of processes, at most one gets
// it. A request that does not match stays, and the answer is an error
// wrapping sso.ErrNotFound, as for an unknown ID.
//
// Like ConsumeRequest, it returns an expired request too.
func (s *Store) ConsumeMatchingRequest(ctx context.Context, id, orgID, bindingHash string) (*sso.PendingRequest, error) {
	return runner{s: s}.consumeMatchingRequest(ctx, id, orgID, bindingHash)
}

// consumeMatchingRequest is ConsumeMatchingRequest, run by r.
func (r runner) consumeMatchingRequest(ctx context.Context, id, orgID, bindingHash string) (*sso.PendingRequest, error) {
	s := r.s
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := checkKeys("consume matching request", id, orgID); err != nil {
		return nil, err
	}
	notFound := errorf(sso.ErrNotFound, "pending request %q of organization %q with this binding", id, orgID)
	if !storable(id) || !storable(orgID) || !storable(bindingHash) {
		return nil, notFound
	}
	req := &sso.PendingRequest{ID: id, OrgID: orgID, BindingHash: bindingHash}
	var expires, verifier string
	err := r.writeRow(ctx, s.stmts.consumeMatchingRequest, []any{id, orgID, bindingHash}, &req.ReturnTo, &req.TesterUserID, &expires,
		&req.Connection, &req.Nonce, &verifier)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound
	}
	if err != nil {
		return nil, dbErr(ctx, "consume matching request", err)
	}
	if req.ExpiresAt, err = decodeTime(expires); err != nil {
		return nil, dbErr(ctx, "consume matching request: expires_at", err)
	}
	req.CodeVerifier = sso.Secret(verifier)
	return req, nil
}

// UseAssertion records assertionID as used in organization orgID until the
// given time. If the ID is already recorded for that organization, it returns
// an error wrapping sso.ErrReplay; of any number of concurrent callers, in
// any number of processes, at most one gets nil. The same ID in another
// organization is independent.
//
// A recorded ID stays replay-protected until Cleanup runs at a time after
// until; the store never evicts on its own, so a recorded ID whose until has
// passed is still a replay until then. Recording it again does not extend it.
func (s *Store) UseAssertion(ctx context.Context, orgID, assertionID string, until time.Time) error {
	return runner{s: s}.useAssertion(ctx, orgID, assertionID, until)
}

// useAssertion is UseAssertion, run by r.
func (r runner) useAssertion(ctx context.Context, orgID, assertionID string, until time.Time) error {
	s := r.s
	if err := s.begin(ctx); err != nil {
		return err
	}
	if orgID == "" || assertionID == "" {
		return errorf(ErrInvalidArgument, "assertion without an organization ID or assertion ID")
	}
	if err := checkKeys("use assertion", orgID, assertionID); err != nil {
		return err
	}
	if !storable(orgID) || !storable(assertionID) {
		return errorf(ErrInvalidArgument, "organization ID or assertion ID is not valid UTF-8 or holds a NUL byte")
	}
	u, err := encodeTime("assertion until", until)
	if err != nil {
		return err
	}
	n, err := r.exec(ctx, s.stmts.useAssertion, orgID, assertionID, u)
	if err != nil {
		return dbErr(ctx, "use assertion", err)
	}
	if n == 0 {
		return errorf(sso.ErrReplay, "assertion %q of organization %q", assertionID, orgID)
	}
	return nil
}
