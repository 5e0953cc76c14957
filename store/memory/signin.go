package memory

import (
	"context"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

var _ sso.SignInStore = (*Store)(nil)

// SignIn implements sso.SignInStore: it runs f holding the store's lock,
// so that no other call sees what f writes before SignIn returns, and
// keeps what f wrote if f returns true; otherwise it undoes it, in reverse
// order, before anyone else could see or change it. The methods of the
// transaction f gets are those of the Store with the same names, with the
// same checks and answers; one that answers with an error writes nothing.
//
// f must be short and must not call the Store's other methods: they would
// wait for the lock SignIn holds, forever. A nil f is an error wrapping
// ErrInvalidArgument.
func (s *Store) SignIn(ctx context.Context, f func(tx sso.SignInTx) (commit bool)) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if f == nil {
		return errorf(ErrInvalidArgument, "nil sign-in function")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	t := &signInTx{s: s}
	commit := false
	defer func() {
		t.done = true
		if !commit {
			for i := len(t.undo) - 1; i >= 0; i-- {
				t.undo[i]()
			}
		}
	}()
	commit = f(t)
	return nil
}

// signInTx is the sso.SignInTx of a SignIn: the Store's steps under its
// lock, each recording how to undo what it wrote.
type signInTx struct {
	s    *Store
	undo []func()
	done bool // SignIn has returned: the lock is no longer held
}

// open checks what every method of the transaction checks first: that
// SignIn has not returned, and ctx (the caller's, as Store.begin checks it).
func (t *signInTx) open(ctx context.Context) error {
	if t.done {
		return errorf(ErrInvalidArgument, "sign-in transaction used after it ended")
	}
	return t.s.begin(ctx)
}

func (t *signInTx) UseAssertion(ctx context.Context, orgID, assertionID string, until time.Time) error {
	if err := t.open(ctx); err != nil {
		return err
	}
	if err := checkAssertion(orgID, assertionID); err != nil {
		return err
	}
	if err := t.s.useAssertionLocked(orgID, assertionID, until); err != nil {
		return err
	}
	t.undo = append(t.undo, func() { delete(t.s.assertions, assertionKey{orgID: orgID, assertionID: assertionID}) })
	return nil
}

func (t *signInTx) ConsumeMatchingRequest(ctx context.Context, id, orgID, bindingHash string) (*sso.PendingRequest, error) {
	if err := t.open(ctx); err != nil {
		return nil, err
	}
	if err := checkKeys("pending request", id, orgID); err != nil {
		return nil, err
	}
	r, err := t.s.consumeMatchingLocked(id, orgID, bindingHash)
	if err != nil {
		return nil, err
	}
	t.undo = append(t.undo, func() { t.s.requests[id] = r })
	c := *r // r goes back to the store on undo: the caller gets its own copy
	return &c, nil
}

func (t *signInTx) Member(ctx context.Context, orgID, email string) (*sso.Member, error) {
	if err := t.open(ctx); err != nil {
		return nil, err
	}
	if err := checkMemberKey(orgID, email); err != nil {
		return nil, err
	}
	m := t.s.members[orgID][sso.MemberEmailKey(email)]
	if m == nil {
		return nil, errorf(sso.ErrNotFound, "member %q of organization %q", email, orgID)
	}
	return cloneMember(m), nil
}

func (t *signInTx) CreateMember(ctx context.Context, m *sso.Member) (*sso.Member, error) {
	if err := t.open(ctx); err != nil {
		return nil, err
	}
	if err := checkMember(m); err != nil {
		return nil, err
	}
	c, err := t.s.createMemberLocked(m)
	if err != nil {
		return c, err
	}
	orgID, key := m.OrgID, sso.MemberEmailKey(m.Email)
	t.undo = append(t.undo, func() {
		byKey := t.s.members[orgID]
		delete(byKey, key)
		if len(byKey) == 0 {
			delete(t.s.members, orgID)
		}
	})
	return c, nil
}

func (t *signInTx) UpdateMember(ctx context.Context, m *sso.Member) error {
	if err := t.open(ctx); err != nil {
		return err
	}
	if err := checkMember(m); err != nil {
		return err
	}
	old, err := t.s.updateMemberLocked(m)
	if err != nil {
		return err
	}
	t.undo = append(t.undo, func() { t.s.putMemberLocked(old) })
	return nil
}

func (t *signInTx) CreateSession(ctx context.Context, sess *session.Session) error {
	if err := t.open(ctx); err != nil {
		return err
	}
	if err := checkSession(sess); err != nil {
		return err
	}
	if err := t.s.createSessionLocked(sess); err != nil {
		return err
	}
	id, orgID := sess.ID, sess.OrgID
	t.undo = append(t.undo, func() {
		delete(t.s.sessions, id)
		ids := t.s.orgSessions[orgID]
		delete(ids, id)
		if len(ids) == 0 {
			delete(t.s.orgSessions, orgID)
		}
	})
	return nil
}
