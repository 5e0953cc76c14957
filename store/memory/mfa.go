package memory

import (
	"context"
	"crypto/subtle"
	"slices"
	"sync"
	"time"

	"github.com/orgsso/orgsso/sso"
)

var _ sso.MFAStore = (*Store)(nil)

// mfaState is the store's MFA after SSO: pending sign-ins, enrollments and
// attempt windows, under a lock of its own (no MFA method touches the
// rest of the store). Its zero value is ready: maps are made on first
// write. Values in the maps are never modified once stored.
type mfaState struct {
	mu          sync.Mutex
	pending     map[string]*sso.MFAPending          // by token hash
	enrollments map[mfaMemberKey]*sso.MFAEnrollment // by organization and user
	attempts    map[mfaMemberKey]mfaWindow
}

type mfaMemberKey struct{ orgID, userID string }

// mfaWindow is a member's attempt count and when it ends.
type mfaWindow struct {
	count int
	end   time.Time
}

func (m *mfaState) initLocked() {
	if m.pending == nil {
		m.pending = make(map[string]*sso.MFAPending)
		m.enrollments = make(map[mfaMemberKey]*sso.MFAEnrollment)
		m.attempts = make(map[mfaMemberKey]mfaWindow)
	}
}

func clonePending(p *sso.MFAPending) *sso.MFAPending {
	c := *p
	return &c
}

func cloneEnrollment(e *sso.MFAEnrollment) *sso.MFAEnrollment {
	c := *e
	c.RecoveryHashes = slices.Clone(e.RecoveryHashes)
	return &c
}

// memberArgs checks a member's keys.
func mfaMemberArgs(orgID, userID string) (mfaMemberKey, error) {
	if orgID == "" || userID == "" {
		return mfaMemberKey{}, errorf(ErrInvalidArgument, "MFA: empty organization or user ID")
	}
	if err := checkKeys("MFA", orgID, userID); err != nil {
		return mfaMemberKey{}, err
	}
	return mfaMemberKey{orgID, userID}, nil
}

// CreateMFAPending stores a copy of p; a token hash already stored is an
// error wrapping ErrDuplicateID.
func (s *Store) CreateMFAPending(ctx context.Context, p *sso.MFAPending) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if p == nil || p.TokenHash == "" || p.OrgID == "" || p.UserID == "" {
		return errorf(ErrInvalidArgument, "MFA pending sign-in without a token hash, organization or user")
	}
	if err := checkKeys("MFA pending sign-in", p.TokenHash, p.OrgID, p.UserID, p.Email, p.Connection); err != nil {
		return err
	}
	c := clonePending(p)
	s.mfa.mu.Lock()
	defer s.mfa.mu.Unlock()
	s.mfa.initLocked()
	if _, ok := s.mfa.pending[c.TokenHash]; ok {
		return errorf(ErrDuplicateID, "MFA pending sign-in")
	}
	s.mfa.pending[c.TokenHash] = c
	return nil
}

// MFAPending returns a copy of the pending sign-in with this token hash,
// expired or not; sso.ErrNotFound if there is none.
func (s *Store) MFAPending(ctx context.Context, tokenHash string) (*sso.MFAPending, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := checkKeys("MFA pending sign-in", tokenHash); err != nil {
		return nil, err
	}
	s.mfa.mu.Lock()
	p, ok := s.mfa.pending[tokenHash]
	s.mfa.mu.Unlock()
	if !ok {
		return nil, errorf(sso.ErrNotFound, "MFA pending sign-in")
	}
	return clonePending(p), nil
}

// SetMFAPendingSecret sets the TOTP secret of an enrollment begun with the
// pending sign-in; sso.ErrNotFound if there is none.
func (s *Store) SetMFAPendingSecret(ctx context.Context, tokenHash, secret string) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := checkKeys("MFA pending sign-in", tokenHash); err != nil {
		return err
	}
	s.mfa.mu.Lock()
	defer s.mfa.mu.Unlock()
	p, ok := s.mfa.pending[tokenHash]
	if !ok {
		return errorf(sso.ErrNotFound, "MFA pending sign-in")
	}
	c := clonePending(p)
	c.Secret = secret
	s.mfa.pending[tokenHash] = c
	return nil
}

// AttemptMFAPending counts an attempt on the pending sign-in if it has
// fewer than limit, and returns a copy as counted; sso.ErrNotFound
// otherwise.
func (s *Store) AttemptMFAPending(ctx context.Context, tokenHash string, limit int) (*sso.MFAPending, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := checkKeys("MFA pending sign-in", tokenHash); err != nil {
		return nil, err
	}
	s.mfa.mu.Lock()
	defer s.mfa.mu.Unlock()
	p, ok := s.mfa.pending[tokenHash]
	if !ok || p.Attempts >= limit {
		return nil, errorf(sso.ErrNotFound, "MFA pending sign-in with attempts left")
	}
	c := clonePending(p)
	c.Attempts++
	s.mfa.pending[tokenHash] = c
	return clonePending(c), nil
}

// ConsumeMFAPending returns and deletes the pending sign-in: at most one
// caller gets it.
func (s *Store) ConsumeMFAPending(ctx context.Context, tokenHash string) (*sso.MFAPending, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := checkKeys("MFA pending sign-in", tokenHash); err != nil {
		return nil, err
	}
	s.mfa.mu.Lock()
	p, ok := s.mfa.pending[tokenHash]
	delete(s.mfa.pending, tokenHash)
	s.mfa.mu.Unlock()
	if !ok {
		return nil, errorf(sso.ErrNotFound, "MFA pending sign-in")
	}
	return p, nil // no longer in the store: no copy needed
}

// MFAEnrollment returns a copy of the member's enrollment; sso.ErrNotFound
// if there is none.
func (s *Store) MFAEnrollment(ctx context.Context, orgID, userID string) (*sso.MFAEnrollment, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	k, err := mfaMemberArgs(orgID, userID)
	if err != nil {
		return nil, err
	}
	s.mfa.mu.Lock()
	e, ok := s.mfa.enrollments[k]
	s.mfa.mu.Unlock()
	if !ok {
		return nil, errorf(sso.ErrNotFound, "MFA enrollment")
	}
	return cloneEnrollment(e), nil
}

// CreateMFAEnrollment stores a copy of e if the member has no enrollment;
// otherwise an error wrapping ErrDuplicateID.
func (s *Store) CreateMFAEnrollment(ctx context.Context, e *sso.MFAEnrollment) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if e == nil {
		return errorf(ErrInvalidArgument, "nil MFA enrollment")
	}
	k, err := mfaMemberArgs(e.OrgID, e.UserID)
	if err != nil {
		return err
	}
	if err := checkKeys("MFA enrollment", e.RecoveryHashes...); err != nil {
		return err
	}
	c := cloneEnrollment(e)
	s.mfa.mu.Lock()
	defer s.mfa.mu.Unlock()
	s.mfa.initLocked()
	if _, ok := s.mfa.enrollments[k]; ok {
		return errorf(ErrDuplicateID, "MFA enrollment")
	}
	s.mfa.enrollments[k] = c
	return nil
}

// DeleteMFAEnrollment removes the member's enrollment and attempt window;
// sso.ErrNotFound if there was no enrollment.
func (s *Store) DeleteMFAEnrollment(ctx context.Context, orgID, userID string) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	k, err := mfaMemberArgs(orgID, userID)
	if err != nil {
		return err
	}
	s.mfa.mu.Lock()
	_, ok := s.mfa.enrollments[k]
	delete(s.mfa.enrollments, k)
	delete(s.mfa.attempts, k)
	s.mfa.mu.Unlock()
	if !ok {
		return errorf(sso.ErrNotFound, "MFA enrollment")
	}
	return nil
}

// UseMFAStep records step as the member's last TOTP step if it is later
// than the stored one; sso.ErrReplay otherwise.
func (s *Store) UseMFAStep(ctx context.Context, orgID, userID string, step int64) error {
	return s.editEnrollment(ctx, orgID, userID, nil, nil, func(c *sso.MFAEnrollment) (bool, error) {
		if step <= c.LastStep {
			return false, errorf(sso.ErrReplay, "TOTP step %d (last used %d)", step, c.LastStep)
		}
		c.LastStep = step
		return true, nil
	})
}

// UseMFARecoveryCode removes codeHash from the member's unused recovery
// codes, comparing in constant time; sso.ErrNotFound if it is not one.
func (s *Store) UseMFARecoveryCode(ctx context.Context, orgID, userID, codeHash string) error {
	check := func() error { return checkKeys("MFA recovery code", codeHash) }
	return s.editEnrollment(ctx, orgID, userID, nil, check, func(c *sso.MFAEnrollment) (bool, error) {
		found := -1
		for i, h := range c.RecoveryHashes {
			if subtle.ConstantTimeCompare([]byte(h), []byte(codeHash)) == 1 && found < 0 {
				found = i
			}
		}
		if found < 0 || codeHash == "" {
			return false, errorf(sso.ErrNotFound, "MFA recovery code")
		}
		c.RecoveryHashes = slices.Delete(c.RecoveryHashes, found, found+1)
		return true, nil
	})
}

// RestoreMFAStep sets the member's last TOTP step back to step-1 if it is
// step and the enrollment's RecoverySalt is recoverySalt; sso.ErrNotFound
// without such an enrollment.
func (s *Store) RestoreMFAStep(ctx context.Context, orgID, userID, recoverySalt string, step int64) error {
	check := func() error { return checkKeys("MFA recovery salt", recoverySalt) }
	return s.editEnrollment(ctx, orgID, userID, &recoverySalt, check, func(c *sso.MFAEnrollment) (bool, error) {
		if c.LastStep != step {
			return false, nil
		}
		c.LastStep = step - 1
		return true, nil
	})
}

// RestoreMFARecoveryCode appends codeHash to the member's unused recovery
// codes if the enrollment's RecoverySalt is recoverySalt and it is not
// there already; sso.ErrNotFound without such an enrollment.
func (s *Store) RestoreMFARecoveryCode(ctx context.Context, orgID, userID, recoverySalt, codeHash string) error {
	check := func() error {
		if err := checkKeys("MFA recovery code", recoverySalt, codeHash); err != nil {
			return err
		}
		if codeHash == "" {
			return errorf(ErrInvalidArgument, "MFA recovery code: empty hash")
		}
		return nil
	}
	return s.editEnrollment(ctx, orgID, userID, &recoverySalt, check, func(c *sso.MFAEnrollment) (bool, error) {
		if slices.Contains(c.RecoveryHashes, codeHash) {
			return false, nil
		}
		c.RecoveryHashes = append(c.RecoveryHashes, codeHash)
		return true, nil
	})
}

// editEnrollment finds the member's enrollment (one whose RecoverySalt is
// *salt, unless salt is nil) and lets edit change a copy of it, which is
// stored when edit says so; all under the MFA lock, so the edit is atomic.
// check, if not nil, checks the other arguments first (after the context
// and the member's keys, as every method does). sso.ErrNotFound without
// such an enrollment; check's and edit's errors as they are.
func (s *Store) editEnrollment(ctx context.Context, orgID, userID string, salt *string, check func() error,
	edit func(c *sso.MFAEnrollment) (store bool, err error)) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	k, err := mfaMemberArgs(orgID, userID)
	if err != nil {
		return err
	}
	if check != nil {
		if err := check(); err != nil {
			return err
		}
	}
	s.mfa.mu.Lock()
	defer s.mfa.mu.Unlock()
	e, ok := s.mfa.enrollments[k]
	if !ok || (salt != nil && e.RecoverySalt != *salt) {
		return errorf(sso.ErrNotFound, "MFA enrollment")
	}
	c := cloneEnrollment(e)
	keep, err := edit(c)
	if keep && err == nil {
		s.mfa.enrollments[k] = c
	}
	return err
}

// CountMFAAttempt counts an attempt in the member's window (a new one
// ending at until when the stored one ends at or before now) and returns
// the window's count and end.
func (s *Store) CountMFAAttempt(ctx context.Context, orgID, userID string, now, until time.Time) (int, time.Time, error) {
	if err := s.begin(ctx); err != nil {
		return 0, time.Time{}, err
	}
	k, err := mfaMemberArgs(orgID, userID)
	if err != nil {
		return 0, time.Time{}, err
	}
	s.mfa.mu.Lock()
	defer s.mfa.mu.Unlock()
	s.mfa.initLocked()
	w, ok := s.mfa.attempts[k]
	if !ok || !w.end.After(now) {
		w = mfaWindow{end: until}
	}
	w.count++
	s.mfa.attempts[k] = w
	return w.count, w.end, nil
}

// ClearMFAAttempts forgets the member's attempt window.
func (s *Store) ClearMFAAttempts(ctx context.Context, orgID, userID string) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	k, err := mfaMemberArgs(orgID, userID)
	if err != nil {
		return err
	}
	s.mfa.mu.Lock()
	delete(s.mfa.attempts, k)
	s.mfa.mu.Unlock()
	return nil
}

// DeleteExpiredMFA removes at most limit pending sign-ins that expired
// before now and attempt windows that ended before now.
func (s *Store) DeleteExpiredMFA(ctx context.Context, now time.Time, limit int) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	if limit < 1 {
		return 0, errorf(ErrInvalidArgument, "cleanup batch limit %d below 1", limit)
	}
	s.mfa.mu.Lock()
	defer s.mfa.mu.Unlock()
	n := 0
	for h, p := range s.mfa.pending {
		if n == limit {
			return n, nil
		}
		if p.ExpiresAt.Before(now) {
			delete(s.mfa.pending, h)
			n++
		}
	}
	for k, w := range s.mfa.attempts {
		if n == limit {
			return n, nil
		}
		if w.end.Before(now) {
			delete(s.mfa.attempts, k)
			n++
		}
	}
	return n, nil
}
