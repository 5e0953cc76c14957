package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

var _ sso.SignInStore = (*Store)(nil)

// SignIn implements sso.SignInStore: it runs f in one transaction, begun
// and ended in the store's turn at the write gate, and commits it if f
// returns true; one commit (one fsync on SQLite, one round trip on
// PostgreSQL) for the replay record, the consumed request, the member and
// the session of a sign-in. The methods of the transaction f gets are
// those of the Store with the same names, with the same checks and
// answers; each that answers with an error leaves the transaction as it
// was (CreateMember's steps run under a savepoint) and usable. A
// database failure in one of them may leave the transaction unable to
// commit (PostgreSQL refuses every statement after a failed one): then
// Commit fails, and SignIn returns that.
//
// On SQLite the transaction holds the database's write lock from its
// BEGIN IMMEDIATE to its end, so f must be short: the Service runs only
// its own code in it, never a host callback or a network call. f must not
// call the Store's other methods (they would wait for the write gate
// SignIn holds, until ctx ends). A nil f is an error wrapping
// ErrInvalidArgument; SignIn also checks what every method checks.
func (s *Store) SignIn(ctx context.Context, f func(tx sso.SignInTx) (commit bool)) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if f == nil {
		return errorf(ErrInvalidArgument, "nil sign-in function")
	}
	err := s.inTx(ctx, func(tx *sql.Tx) (commit bool, err error) {
		t := &signInTx{r: runner{s: s, tx: tx}}
		defer func() { t.done = true }()
		return f(t), nil
	})
	if err != nil {
		return dbErr(ctx, "sign in", err)
	}
	return nil
}

// signInTx is the sso.SignInTx of a SignIn: the Store's methods, run in
// its transaction.
type signInTx struct {
	r    runner
	done bool // SignIn has returned: the transaction is over
}

// errTxOver is the error of a signInTx used after its SignIn returned.
var errTxOver = errors.New("sqlstore: sign-in transaction used after it ended")

func (t *signInTx) over() error {
	if t.done {
		return errTxOver
	}
	return nil
}

func (t *signInTx) UseAssertion(ctx context.Context, orgID, assertionID string, until time.Time) error {
	if err := t.over(); err != nil {
		return err
	}
	return t.r.useAssertion(ctx, orgID, assertionID, until)
}

func (t *signInTx) ConsumeMatchingRequest(ctx context.Context, id, orgID, bindingHash string) (*sso.PendingRequest, error) {
	if err := t.over(); err != nil {
		return nil, err
	}
	return t.r.consumeMatchingRequest(ctx, id, orgID, bindingHash)
}

func (t *signInTx) Member(ctx context.Context, orgID, email string) (*sso.Member, error) {
	if err := t.over(); err != nil {
		return nil, err
	}
	return t.r.memberByEmail(ctx, orgID, email)
}

func (t *signInTx) CreateMember(ctx context.Context, m *sso.Member) (*sso.Member, error) {
	if err := t.over(); err != nil {
		return nil, err
	}
	return t.r.createMember(ctx, m)
}

func (t *signInTx) UpdateMember(ctx context.Context, m *sso.Member) error {
	if err := t.over(); err != nil {
		return err
	}
	return t.r.updateMember(ctx, m)
}

func (t *signInTx) CreateSession(ctx context.Context, sess *session.Session) error {
	if err := t.over(); err != nil {
		return err
	}
	return t.r.createSession(ctx, sess)
}

// runner runs the statements of a method: on the Store's connections, each
// write in its turn at the write gate (tx nil), or in tx, the transaction
// of a SignIn, which holds the turn for all of them.
type runner struct {
	s  *Store
	tx *sql.Tx
}

// exec runs a write statement and returns how many rows it affected.
func (r runner) exec(ctx context.Context, st *sql.Stmt, args ...any) (int, error) {
	if r.tx == nil {
		return r.s.exec(ctx, st, args...)
	}
	return rowsAffected(r.tx.StmtContext(ctx, st).ExecContext(ctx, args...))
}

// writeRow runs a write statement that returns one row and scans it into
// dest; sql.ErrNoRows if it returned none.
func (r runner) writeRow(ctx context.Context, st *sql.Stmt, args []any, dest ...any) error {
	if r.tx == nil {
		return r.s.writeRow(ctx, st, args, dest...)
	}
	return r.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...).Scan(dest...)
}

// queryRow runs a read statement that returns at most one row.
func (r runner) queryRow(ctx context.Context, st *sql.Stmt, args ...any) *sql.Row {
	if r.tx == nil {
		return st.QueryRowContext(ctx, args...)
	}
	return r.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
}

// inTx runs f as Store.inTx does, in a transaction of its own; in r's
// transaction, it runs f under a savepoint instead, released if f commits
// and rolled back to otherwise, so that a step that gives up leaves the
// transaction as it was.
func (r runner) inTx(ctx context.Context, f func(tx *sql.Tx) (commit bool, err error)) error {
	if r.tx == nil {
		return r.s.inTx(ctx, f)
	}
	if _, err := r.tx.ExecContext(ctx, "SAVEPOINT orgsso_step"); err != nil {
		return err
	}
	commit, err := f(r.tx)
	if err != nil || !commit {
		_, rerr := r.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT orgsso_step")
		if rerr == nil {
			_, rerr = r.tx.ExecContext(ctx, "RELEASE SAVEPOINT orgsso_step")
		}
		return errors.Join(err, rerr)
	}
	_, err = r.tx.ExecContext(ctx, "RELEASE SAVEPOINT orgsso_step")
	return err
}
