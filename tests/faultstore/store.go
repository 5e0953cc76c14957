package faultstore

import (
	"context"
	"sync"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

// Inner is what a Store wraps: a store that implements every port a
// Service uses, as every store in orgsso/store does.
type Inner interface {
	sso.AdminStore // with sso.Store and sso.RequestConsumer
	sso.BatchCleaner
	session.Store
	session.Lister
}

// Compile-time checks that *Store implements the ports it wraps.
var (
	_ sso.Store           = (*Store)(nil)
	_ sso.RequestConsumer = (*Store)(nil)
	_ sso.AdminStore      = (*Store)(nil)
	_ sso.BatchCleaner    = (*Store)(nil)
	_ session.Store       = (*Store)(nil)
	_ session.Lister      = (*Store)(nil)
	_ Inner               = (*Store)(nil)
)

// Store wraps an Inner store and fails the calls that injected Faults pick.
// Build one with New. It is safe for concurrent use.
type Store struct {
	inner Inner

	mu     sync.Mutex
	faults []*armed
	calls  map[Method]int
	trace  []Method
	hits   []Hit
}

// New returns a Store over inner, with no fault injected.
func New(inner Inner) *Store {
	return &Store{inner: inner, calls: make(map[Method]int)}
}

// Inner returns the wrapped store, to check its state without faults.
func (s *Store) Inner() Inner { return s.inner }

// Inject arms f. Several faults may be armed, each counting the calls of
// its method; when more than one picks a call, the first injected fails it
// and the other one-shot faults that picked it are spent all the same.
func (s *Store) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &armed{Fault: f})
}

// Clear disarms every fault; counts, trace and hits stay.
func (s *Store) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Reset disarms every fault and forgets counts, trace and hits.
func (s *Store) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults, s.trace, s.hits = nil, nil, nil
	clear(s.calls)
}

// Pending returns how many one-shot faults (N > 0) are armed and have not
// fired yet.
func (s *Store) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, f := range s.faults {
		if f.N > 0 {
			n++
		}
	}
	return n
}

// Calls returns how many calls of m the Store has seen since New or Reset,
// faulty or not; Any counts every call.
func (s *Store) Calls(m Method) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m == Any {
		return len(s.trace)
	}
	return s.calls[m]
}

// Trace returns the methods called since New or Reset, in call order.
func (s *Store) Trace() []Method {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Method(nil), s.trace...)
}

// Hits returns the faults that fired since New or Reset, in order.
func (s *Store) Hits() []Hit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Hit(nil), s.hits...)
}

// next counts a call of m and returns the fault that fails it, if any, and
// the call's number.
func (s *Store) next(m Method) (*armed, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[m]++
	n := s.calls[m]
	s.trace = append(s.trace, m)
	var hit *armed
	keep := s.faults[:0]
	for _, f := range s.faults {
		if !f.matches(m) {
			keep = append(keep, f)
			continue
		}
		f.seen++
		fires := f.N == 0 || f.seen == f.N
		if fires && hit == nil {
			hit = f
			s.hits = append(s.hits, Hit{Method: m, Call: n, Mode: f.Mode})
		}
		if !fires || f.N == 0 {
			keep = append(keep, f)
		}
	}
	clear(s.faults[len(keep):])
	s.faults = keep
	return hit, n
}

// call runs one call of m through the armed faults. f is the inner call.
func call[T any](s *Store, ctx context.Context, m Method, f func() (T, error)) (T, error) {
	var zero T
	a, n := s.next(m)
	if a == nil {
		return f()
	}
	switch a.Mode {
	case LostAck:
		_, _ = f()
	case Slow:
		if ctx != nil {
			<-ctx.Done()
		}
	case NilResult:
		v, err := f()
		if returnsPointer[m] {
			return zero, err
		}
		return v, err
	}
	return zero, a.errFor(ctx, m, n)
}

// callErr runs one call of m that returns only an error.
func callErr(s *Store, ctx context.Context, m Method, f func() error) error {
	_, err := call(s, ctx, m, func() (struct{}, error) { return struct{}{}, f() })
	return err
}

// sso.Store

// Organization calls the inner store's Organization, unless a fault picks
// the call.
func (s *Store) Organization(ctx context.Context, id string) (*sso.Organization, error) {
	return call(s, ctx, MethodOrganization, func() (*sso.Organization, error) { return s.inner.Organization(ctx, id) })
}

// OrganizationBySSOName calls the inner store's OrganizationBySSOName,
// unless a fault picks the call.
func (s *Store) OrganizationBySSOName(ctx context.Context, ssoName string) (*sso.Organization, error) {
	return call(s, ctx, MethodOrganizationBySSOName, func() (*sso.Organization, error) {
		return s.inner.OrganizationBySSOName(ctx, ssoName)
	})
}

// SaveOrganization calls the inner store's SaveOrganization, unless a fault
// picks the call.
func (s *Store) SaveOrganization(ctx context.Context, org *sso.Organization) error {
	return callErr(s, ctx, MethodSaveOrganization, func() error { return s.inner.SaveOrganization(ctx, org) })
}

// Member calls the inner store's Member, unless a fault picks the call.
func (s *Store) Member(ctx context.Context, orgID, email string) (*sso.Member, error) {
	return call(s, ctx, MethodMember, func() (*sso.Member, error) { return s.inner.Member(ctx, orgID, email) })
}

// SaveMember calls the inner store's SaveMember, unless a fault picks the
// call.
func (s *Store) SaveMember(ctx context.Context, m *sso.Member) error {
	return callErr(s, ctx, MethodSaveMember, func() error { return s.inner.SaveMember(ctx, m) })
}

// SaveRequest calls the inner store's SaveRequest, unless a fault picks the
// call.
func (s *Store) SaveRequest(ctx context.Context, req *sso.PendingRequest) error {
	return callErr(s, ctx, MethodSaveRequest, func() error { return s.inner.SaveRequest(ctx, req) })
}

// ConsumeRequest calls the inner store's ConsumeRequest, unless a fault
// picks the call.
func (s *Store) ConsumeRequest(ctx context.Context, id string) (*sso.PendingRequest, error) {
	return call(s, ctx, MethodConsumeRequest, func() (*sso.PendingRequest, error) { return s.inner.ConsumeRequest(ctx, id) })
}

// UseAssertion calls the inner store's UseAssertion, unless a fault picks
// the call.
func (s *Store) UseAssertion(ctx context.Context, orgID, assertionID string, until time.Time) error {
	return callErr(s, ctx, MethodUseAssertion, func() error { return s.inner.UseAssertion(ctx, orgID, assertionID, until) })
}

// sso.RequestConsumer

// ConsumeMatchingRequest calls the inner store's ConsumeMatchingRequest,
// unless a fault picks the call.
func (s *Store) ConsumeMatchingRequest(ctx context.Context, id, orgID, bindingHash string) (*sso.PendingRequest, error) {
	return call(s, ctx, MethodConsumeMatchingRequest, func() (*sso.PendingRequest, error) {
		return s.inner.ConsumeMatchingRequest(ctx, id, orgID, bindingHash)
	})
}

// sso.AdminStore

// CreateOrganization calls the inner store's CreateOrganization, unless a
// fault picks the call.
func (s *Store) CreateOrganization(ctx context.Context, org *sso.Organization) error {
	return callErr(s, ctx, MethodCreateOrganization, func() error { return s.inner.CreateOrganization(ctx, org) })
}

// UpdateOrganization calls the inner store's UpdateOrganization, unless a
// fault picks the call. With LostAck the inner store has set org.Version
// to the stored one although the call fails, as a store whose answer was
// lost after it wrote would.
func (s *Store) UpdateOrganization(ctx context.Context, org *sso.Organization) error {
	return callErr(s, ctx, MethodUpdateOrganization, func() error { return s.inner.UpdateOrganization(ctx, org) })
}

// CreateMember calls the inner store's CreateMember, unless a fault picks
// the call.
func (s *Store) CreateMember(ctx context.Context, m *sso.Member) (*sso.Member, error) {
	return call(s, ctx, MethodCreateMember, func() (*sso.Member, error) { return s.inner.CreateMember(ctx, m) })
}

// UpdateMember calls the inner store's UpdateMember, unless a fault picks
// the call.
func (s *Store) UpdateMember(ctx context.Context, m *sso.Member) error {
	return callErr(s, ctx, MethodUpdateMember, func() error { return s.inner.UpdateMember(ctx, m) })
}

// DeleteMember calls the inner store's DeleteMember, unless a fault picks
// the call.
func (s *Store) DeleteMember(ctx context.Context, orgID, email string) error {
	return callErr(s, ctx, MethodDeleteMember, func() error { return s.inner.DeleteMember(ctx, orgID, email) })
}

// MemberByUserID calls the inner store's MemberByUserID, unless a fault
// picks the call.
func (s *Store) MemberByUserID(ctx context.Context, orgID, userID string) (*sso.Member, error) {
	return call(s, ctx, MethodMemberByUserID, func() (*sso.Member, error) { return s.inner.MemberByUserID(ctx, orgID, userID) })
}

// Members calls the inner store's Members, unless a fault picks the call.
func (s *Store) Members(ctx context.Context, orgID, after string, limit int) ([]*sso.Member, error) {
	return call(s, ctx, MethodMembers, func() ([]*sso.Member, error) { return s.inner.Members(ctx, orgID, after, limit) })
}

// sso.BatchCleaner

// CleanupBatch calls the inner store's CleanupBatch, unless a fault picks
// the call.
func (s *Store) CleanupBatch(ctx context.Context, now time.Time, limit int) (int, error) {
	return call(s, ctx, MethodCleanupBatch, func() (int, error) { return s.inner.CleanupBatch(ctx, now, limit) })
}

// session.Store

// CreateSession calls the inner store's CreateSession, unless a fault picks
// the call.
func (s *Store) CreateSession(ctx context.Context, sess *session.Session) error {
	return callErr(s, ctx, MethodCreateSession, func() error { return s.inner.CreateSession(ctx, sess) })
}

// Session calls the inner store's Session, unless a fault picks the call.
func (s *Store) Session(ctx context.Context, id string) (*session.Session, error) {
	return call(s, ctx, MethodSession, func() (*session.Session, error) { return s.inner.Session(ctx, id) })
}

// DeleteSession calls the inner store's DeleteSession, unless a fault picks
// the call.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return callErr(s, ctx, MethodDeleteSession, func() error { return s.inner.DeleteSession(ctx, id) })
}

// DeleteOrgSessions calls the inner store's DeleteOrgSessions, unless a
// fault picks the call.
func (s *Store) DeleteOrgSessions(ctx context.Context, orgID, method string) (int, error) {
	return call(s, ctx, MethodDeleteOrgSessions, func() (int, error) { return s.inner.DeleteOrgSessions(ctx, orgID, method) })
}

// DeleteExpiredSessions calls the inner store's DeleteExpiredSessions,
// unless a fault picks the call.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	return call(s, ctx, MethodDeleteExpiredSessions, func() (int, error) { return s.inner.DeleteExpiredSessions(ctx, now) })
}

// session.Lister

// ListSessions calls the inner store's ListSessions, unless a fault picks
// the call.
func (s *Store) ListSessions(ctx context.Context, q session.Query, now time.Time) ([]*session.Session, error) {
	return call(s, ctx, MethodListSessions, func() ([]*session.Session, error) { return s.inner.ListSessions(ctx, q, now) })
}

// EndSessions calls the inner store's EndSessions, unless a fault picks the
// call.
func (s *Store) EndSessions(ctx context.Context, q session.Query, reason string) (int, error) {
	return call(s, ctx, MethodEndSessions, func() (int, error) { return s.inner.EndSessions(ctx, q, reason) })
}
