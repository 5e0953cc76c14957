package sso

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/orgsso/orgsso/session"
)

// signInOps are the store calls of a sign-in once its answer is verified,
// and its events. directOps makes each call on its own, as every other
// Service operation does; txOps makes them in the one transaction of a
// SignInStore and holds the events back until it commits. signIn, complete
// and the ACS steps run the same code over either, so the answers, errors
// and their order are the same on every store.
type signInOps interface {
	useAssertion(ctx context.Context, orgID, assertionID string, until time.Time) error
	consumeMatching(ctx context.Context, id, orgID, hash string) (*PendingRequest, error)
	loadMember(ctx context.Context, orgID, email string) (*Member, error)
	createMember(ctx context.Context, m *Member) (*Member, error)
	updateMember(ctx context.Context, m *Member) error
	// startSession makes the sign-in's session: the one step that creates
	// it, for whoever replaces it with another record.
	startSession(ctx context.Context, p session.Params) (*session.Session, string, error)
	emit(ctx context.Context, e Event)
	// inTx reports whether the calls run in a transaction, in which no
	// host callback (Config.ProvisionUser) may run.
	inTx() bool
}

// errOutsideTx is signIn's answer, in a transaction, for a first sign-in
// that needs Config.ProvisionUser: the transaction is rolled back and the
// sign-in made again with directOps. It never leaves the package.
var errOutsideTx = errors.New("sso: this sign-in calls ProvisionUser, which never runs inside a store transaction")

// writeSignIn runs f, the store work of a verified sign-in, over the
// Service's store: in one transaction when the store implements SignInStore
// and Config.Sessions keeps its sessions in it, else call by call.
//
// In a transaction the calls answer as they would one by one, and what f
// did before an answer that refused the sign-in (a replay, a request that
// does not match, a denial) is committed as it would have been; a store
// failure (ErrUnavailable: an error that is no answer, the store timeout)
// rolls everything back instead, so that nothing is half done. The
// transaction is bounded by one store timeout. The events f emits are
// emitted once it committed, with the outer ctx. A sign-in that still needs
// its second factor (Result.mfaFor) gets its pending sign-in after that,
// outside the transaction: on SQLite a second writer inside it would wait
// for the transaction's own write lock.
func (s *Service) writeSignIn(ctx context.Context, part *Result, f func(signInOps) (*Result, error)) (*Result, error) {
	res, err := s.writeSignInOps(ctx, part, f)
	if err == nil && res != nil && res.mfaFor != nil {
		todo := res.mfaFor
		res.mfaFor = nil
		return s.challenge(ctx, res, todo.org, todo.conn, todo.m)
	}
	return res, err
}

// writeSignInOps is writeSignIn's store work, before a pending sign-in.
func (s *Service) writeSignInOps(ctx context.Context, part *Result, f func(signInOps) (*Result, error)) (*Result, error) {
	st := s.signInStore()
	if st == nil {
		return f(directOps{s})
	}
	tctx, cancel := s.storeCtx(ctx)
	defer cancel()
	ops := &txOps{s: s, ctx: tctx}
	var res *Result
	var ferr error
	err := st.SignIn(tctx, func(tx SignInTx) bool {
		ops.tx = tx
		res, ferr = f(ops)
		return !errors.Is(ferr, errOutsideTx) && !errors.Is(ferr, ErrUnavailable)
	})
	switch {
	case errors.Is(ferr, errOutsideTx):
		return f(directOps{s}) // rolled back: nothing was written
	case errors.Is(ferr, ErrUnavailable):
		return res, ferr // rolled back
	case err != nil:
		// The transaction did not begin or commit: nothing happened (a
		// session made included), and the store's failure is what the
		// caller hears, even after a refusal (trying again may work).
		return partial(res, part), storeErr("SignIn", err)
	}
	for _, e := range ops.events {
		s.emit(ctx, e)
	}
	return res, ferr
}

// partial is what a sign-in whose commit failed reports: the organization,
// identity and connection, none of what was not committed (the member, the
// session and its token). part stands in when f never ran.
func partial(res, part *Result) *Result {
	if res == nil {
		return part
	}
	return &Result{Org: res.Org, Identity: res.Identity, Connection: res.Connection}
}

// signInStore returns the Store as a SignInStore if it is one and the
// session manager stores sessions in it (a session written in the Store's
// transaction must be one the manager finds); else nil.
func (s *Service) signInStore() SignInStore {
	st, ok := s.store.(SignInStore)
	if !ok {
		return nil
	}
	ss := s.sessions.Store()
	if ss == nil {
		return nil
	}
	a, b := any(ss), any(s.store)
	if t := reflect.TypeOf(a); t != reflect.TypeOf(b) || !t.Comparable() || a != b {
		return nil
	}
	return st
}

// directOps are the Service's own store calls, each bounded by the store
// timeout, each committed on its own.
type directOps struct{ s *Service }

func (o directOps) useAssertion(ctx context.Context, orgID, assertionID string, until time.Time) error {
	return o.s.do(ctx, "UseAssertion", func(ctx context.Context) error {
		return o.s.store.UseAssertion(ctx, orgID, assertionID, until)
	})
}

func (o directOps) consumeMatching(ctx context.Context, id, orgID, hash string) (*PendingRequest, error) {
	return o.s.consumeMatching(ctx, id, orgID, hash)
}

func (o directOps) loadMember(ctx context.Context, orgID, email string) (*Member, error) {
	return o.s.loadMember(ctx, orgID, email)
}

func (o directOps) createMember(ctx context.Context, m *Member) (*Member, error) {
	return o.s.createMember(ctx, m)
}

func (o directOps) updateMember(ctx context.Context, m *Member) error {
	return o.s.updateMember(ctx, m)
}

func (o directOps) startSession(ctx context.Context, p session.Params) (*session.Session, string, error) {
	return o.s.startSession(ctx, p)
}

func (o directOps) emit(ctx context.Context, e Event) { o.s.emit(ctx, e) }

func (directOps) inTx() bool { return false }

// txOps are the same calls in the transaction tx, all under ctx, the
// transaction's (one store timeout for the whole). Their answers and errors
// are classified as directOps' are; events wait in events for the commit.
type txOps struct {
	s      *Service
	ctx    context.Context
	tx     SignInTx
	events []Event
}

func (o *txOps) useAssertion(_ context.Context, orgID, assertionID string, until time.Time) error {
	return storeErr("UseAssertion", o.tx.UseAssertion(o.ctx, orgID, assertionID, until))
}

func (o *txOps) consumeMatching(_ context.Context, id, orgID, hash string) (*PendingRequest, error) {
	if len(id) > MaxKeyBytes {
		return nil, ErrNotFound // as consumeMatching: no request has such an ID
	}
	return got(o.tx.ConsumeMatchingRequest(o.ctx, id, orgID, hash))("ConsumeMatchingRequest")
}

func (o *txOps) loadMember(_ context.Context, orgID, email string) (*Member, error) {
	return got(o.tx.Member(o.ctx, orgID, email))("Member")
}

// createMember answers as Service.createMember does over an AdminStore.
func (o *txOps) createMember(_ context.Context, m *Member) (*Member, error) {
	return createdMember(o.tx.CreateMember(o.ctx, m))
}

func (o *txOps) updateMember(_ context.Context, m *Member) error {
	return storeErr("UpdateMember", o.tx.UpdateMember(o.ctx, m))
}

// startSession builds the session as session.Manager.Start does and stores
// it in the transaction; its errors read as Start's.
func (o *txOps) startSession(_ context.Context, p session.Params) (*session.Session, string, error) {
	sess, token, err := o.s.sessions.New(p)
	if err != nil {
		return nil, "", storeErr("CreateSession", err)
	}
	if err := o.tx.CreateSession(o.ctx, sess); err != nil {
		return nil, "", storeErr("CreateSession", fmt.Errorf("session: create: %w", err))
	}
	out := *sess // the store may keep sess; the caller gets its own copy
	return &out, token, nil
}

func (o *txOps) emit(_ context.Context, e Event) { o.events = append(o.events, e) }

func (*txOps) inTx() bool { return true }

// got classifies what a transaction's lookup returned, as get does: answers
// pass, other failures and a nil value without an error are a *StoreError
// of op.
func got[T any](v *T, err error) func(op string) (*T, error) {
	return func(op string) (*T, error) {
		switch {
		case err != nil:
			return nil, storeErr(op, err)
		case v == nil:
			return nil, &StoreError{Op: op, Err: errNoResult}
		}
		return v, nil
	}
}
