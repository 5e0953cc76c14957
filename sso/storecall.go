package sso

import (
	"context"
	"errors"
	"time"

	"github.com/orgsso/orgsso/session"
)

// DefaultStoreTimeout bounds each store call a Service makes when
// Config.StoreTimeout is 0.
const DefaultStoreTimeout = 5 * time.Second

// StoreError is a store failure the Service cannot read as an answer: the
// store returned an error that is none of the port's answers (ErrNotFound,
// ErrReplay, ErrConflict, …), timed out (Config.StoreTimeout), or broke its
// contract (nil and no error). It wraps ErrUnavailable and the cause, so a
// host can tell "try again later" (HTTP 503) from every "no".
type StoreError struct {
	Op  string // the store method, e.g. "OrganizationBySSOName"
	Err error  // the cause; context.DeadlineExceeded for a timeout
}

// Error implements error.
func (e *StoreError) Error() string {
	return "sso: store unavailable: " + e.Op + ": " + e.Err.Error()
}

// Unwrap returns ErrUnavailable and the cause, for errors.Is and errors.As.
func (e *StoreError) Unwrap() []error { return []error{ErrUnavailable, e.Err} }

// errNoResult is the cause of a StoreError for a store that returned neither
// a value nor an error.
var errNoResult = errors.New("the store returned no value and no error")

// isAnswer reports whether err is one of the answers the ports define, which
// the Service passes on as they are.
func isAnswer(err error) bool {
	for _, a := range [...]error{ErrNotFound, ErrReplay, ErrDuplicateID, ErrSSONameTaken,
		ErrConflict, ErrMemberExists, ErrUserIDTaken, ErrDomainTaken, session.ErrInvalidArgument} {
		if errors.Is(err, a) {
			return true
		}
	}
	return false
}

// storeErr classifies an error a store call returned.
func storeErr(op string, err error) error {
	if err == nil || isAnswer(err) || errors.Is(err, ErrUnavailable) {
		return err
	}
	return &StoreError{Op: op, Err: err}
}

// storeCtx bounds one store call by the Service's store timeout.
func (s *Service) storeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.storeTimeout)
}

// get runs a store call that returns a value: answers pass through, other
// failures and a nil value without an error become a *StoreError.
func get[T any](s *Service, ctx context.Context, op string, f func(context.Context) (*T, error)) (*T, error) {
	ctx, cancel := s.storeCtx(ctx)
	defer cancel()
	v, err := f(ctx)
	switch {
	case err != nil:
		return nil, storeErr(op, err)
	case v == nil:
		return nil, &StoreError{Op: op, Err: errNoResult}
	}
	return v, nil
}

// do runs a store call that returns only an error.
func (s *Service) do(ctx context.Context, op string, f func(context.Context) error) error {
	ctx, cancel := s.storeCtx(ctx)
	defer cancel()
	return storeErr(op, f(ctx))
}

// count runs a store (or session manager) call that returns a count.
func (s *Service) count(ctx context.Context, op string, f func(context.Context) (int, error)) (int, error) {
	ctx, cancel := s.storeCtx(ctx)
	defer cancel()
	n, err := f(ctx)
	return n, storeErr(op, err)
}

// The store calls of the Service, each bounded and classified.

func (s *Service) loadOrg(ctx context.Context, id string) (*Organization, error) {
	return s.opened(get(s, ctx, "Organization", func(ctx context.Context) (*Organization, error) { return s.store.Organization(ctx, id) }))
}

func (s *Service) loadOrgByName(ctx context.Context, name string) (*Organization, error) {
	return s.opened(get(s, ctx, "OrganizationBySSOName", func(ctx context.Context) (*Organization, error) {
		return s.store.OrganizationBySSOName(ctx, name)
	}))
}

// opened opens the sealed secrets of an organization a store returned.
func (s *Service) opened(org *Organization, err error) (*Organization, error) {
	if err != nil {
		return nil, err
	}
	if err := s.open(org); err != nil {
		return nil, err
	}
	return org, nil
}

func (s *Service) loadMember(ctx context.Context, orgID, email string) (*Member, error) {
	return get(s, ctx, "Member", func(ctx context.Context) (*Member, error) { return s.store.Member(ctx, orgID, email) })
}

// loadMemberByUserID needs an AdminStore; without one it reports the member
// as unavailable rather than guessing.
func (s *Service) loadMemberByUserID(ctx context.Context, orgID, userID string) (*Member, error) {
	if s.admin == nil {
		return nil, &StoreError{Op: "MemberByUserID", Err: errNoAdminStore}
	}
	return get(s, ctx, "MemberByUserID", func(ctx context.Context) (*Member, error) {
		return s.admin.MemberByUserID(ctx, orgID, userID)
	})
}

// errNoAdminStore is the cause of what a Store without AdminStore cannot do.
var errNoAdminStore = errors.New("the store does not implement sso.AdminStore")

// createMember stores m if its email is new to the organization. When it is
// not, it returns the member that exists and ErrMemberExists. Over a Store
// without AdminStore it reads, then saves: not atomic.
func (s *Service) createMember(ctx context.Context, m *Member) (*Member, error) {
	ctx, cancel := s.storeCtx(ctx)
	defer cancel()
	if s.admin == nil {
		old, err := s.store.Member(ctx, m.OrgID, m.Email)
		switch {
		case err == nil && old != nil:
			return old, ErrMemberExists
		case err != nil && !isNotFound(err):
			return nil, storeErr("Member", err)
		}
		if err := s.store.SaveMember(ctx, m); err != nil {
			return nil, storeErr("SaveMember", err)
		}
		return m, nil
	}
	return createdMember(s.admin.CreateMember(ctx, m))
}

// createdMember classifies what a store's CreateMember returned, for
// Service.createMember and the sign-in transaction alike: the member made, or
// ErrMemberExists with the member already there, or a *StoreError (also when
// the store answered without a member).
func createdMember(got *Member, err error) (*Member, error) {
	switch {
	case errors.Is(err, ErrMemberExists) && got != nil:
		return got, ErrMemberExists
	case errors.Is(err, ErrMemberExists):
		return nil, &StoreError{Op: "CreateMember", Err: errNoResult}
	case err != nil:
		return nil, storeErr("CreateMember", err)
	case got == nil:
		return nil, &StoreError{Op: "CreateMember", Err: errNoResult}
	}
	return got, nil
}

// updateMember replaces an existing member; ErrNotFound when it was removed.
// Over a Store without AdminStore it saves (and so may recreate a member
// removed a moment before).
func (s *Service) updateMember(ctx context.Context, m *Member) error {
	defer s.cache.drop() // after the write, whatever its outcome (a timeout may have committed)
	if s.admin == nil {
		return s.do(ctx, "SaveMember", func(ctx context.Context) error { return s.store.SaveMember(ctx, m) })
	}
	return s.do(ctx, "UpdateMember", func(ctx context.Context) error { return s.admin.UpdateMember(ctx, m) })
}

// updateOrg saves org if the stored organization still has org.Version, and
// advances org.Version. Over a Store without AdminStore the check is a read
// before the write.
func (s *Service) updateOrg(ctx context.Context, org *Organization) error {
	defer s.cache.drop() // after the write, whatever its outcome (a timeout may have committed)
	w, err := s.sealed(org)
	if err != nil {
		return err
	}
	if s.admin != nil {
		err := s.do(ctx, "UpdateOrganization", func(ctx context.Context) error { return s.admin.UpdateOrganization(ctx, w) })
		org.Version = w.Version
		return err
	}
	cur, err := s.loadOrg(ctx, org.ID)
	if err != nil {
		return err
	}
	if cur.Version != org.Version {
		return ErrConflict
	}
	next := *w
	next.Version++
	if err := s.do(ctx, "SaveOrganization", func(ctx context.Context) error { return s.store.SaveOrganization(ctx, &next) }); err != nil {
		return err
	}
	org.Version = next.Version
	return nil
}
