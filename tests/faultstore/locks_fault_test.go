package faultstore_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
	"github.com/orgsso/orgsso/tests/faultstore"
)

// lockTimeout is the StoreTimeout of the Services that meet a locked
// database, and lockSlack how much longer than that a call may take.
const (
	lockTimeout = 100 * time.Millisecond
	lockSlack   = time.Second
)

// lockedDB is a SQL store and a way to lock its database for writes from
// another connection, as a long transaction or a migration would.
type lockedDB struct {
	name string
	// open returns a store on a new database, and lock, which takes the
	// write lock and returns the function that releases it.
	open func(t *testing.T) (st faultstore.Inner, lock func(t *testing.T) (release func()))
}

func lockedDBs() []lockedDB {
	return []lockedDB{
		{name: "sqlite", open: func(t *testing.T) (faultstore.Inner, func(*testing.T) func()) {
			path := filepath.Join(t.TempDir(), "orgsso.db")
			st := openSQLite(t, path)
			return st, func(t *testing.T) func() {
				db, err := sql.Open("sqlite", path)
				require.NoError(t, err)
				conn, err := db.Conn(context.Background())
				require.NoError(t, err)
				_, err = conn.ExecContext(context.Background(), "BEGIN IMMEDIATE")
				require.NoError(t, err, "taking the write lock")
				return func() {
					_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
					conn.Close()
					db.Close()
				}
			}
		}},
		{name: "postgres", open: func(t *testing.T) (faultstore.Inner, func(*testing.T) func()) {
			dsn := schemaDSN(t)
			st := openPostgres(t, dsn)
			return st, func(t *testing.T) func() {
				cfg, err := pgx.ParseConfig(dsn)
				require.NoError(t, err)
				db := stdlib.OpenDB(*cfg)
				tx, err := db.BeginTx(context.Background(), nil)
				require.NoError(t, err)
				_, err = tx.Exec(`LOCK TABLE organizations, members, used_assertions, pending_requests, sessions IN EXCLUSIVE MODE`)
				require.NoError(t, err, "taking the write locks")
				return func() {
					_ = tx.Rollback()
					db.Close()
				}
			}
		}},
	}
}

// TestFaultLockedDatabase: a database whose write lock another connection
// holds is a real frozen store. A write through the Service (Disable's
// UpdateOrganization, HandleACS's UseAssertion) returns at StoreTimeout with
// ErrUnavailable, and the statement it gave up on does not run later, when
// the lock is released: the organization is unchanged, and the same
// response then signs in.
func TestFaultLockedDatabase(t *testing.T) {
	for _, b := range lockedDBs() {
		t.Run(b.name, func(t *testing.T) {
			st, lock := b.open(t)
			r := newReplica(t, st, st, func(c *sso.Config) { c.StoreTimeout = lockTimeout })
			org := raceOrg(t, st, "locked")
			ctx := context.Background()
			in := startSignIn(t, r, org, ssotest.User{Email: "ann@locked.example"}, "")

			release := lock(t)
			start := time.Now()
			disableErr := r.svc.Disable(ctx, org.ID, org.OwnerID)
			disableTook := time.Since(start)
			start = time.Now()
			_, acsErr := in.post(t, r)
			acsTook := time.Since(start)
			release()

			for _, c := range []struct {
				op   string
				err  error
				took time.Duration
			}{{"Disable", disableErr, disableTook}, {"HandleACS", acsErr, acsTook}} {
				assert.ErrorIs(t, c.err, sso.ErrUnavailable, "%s on a locked database", c.op)
				assert.Less(t, c.took, lockTimeout+lockSlack, "%s on a locked database took %v; StoreTimeout is %v", c.op, c.took, lockTimeout)
				t.Logf("%s: %s on a locked database returned after %v: %v", b.name, c.op, c.took.Round(time.Millisecond), c.err)
			}

			time.Sleep(200 * time.Millisecond) // a statement left running would be done by now
			got, err := st.Organization(ctx, org.ID)
			require.NoError(t, err)
			assert.True(t, got.Enabled, "Disable failed, yet SSO is off")
			assert.Equal(t, org.Version, got.Version, "a write given up on ran later")
			res, err := in.post(t, r)
			if errors.Is(err, sso.ErrReplay) {
				t.Errorf("the assertion ID was recorded after HandleACS gave up on it: the same response is now a replay")
			} else if assert.NoError(t, err, "the same response once the lock is released") {
				_, err = r.svc.ValidateSession(ctx, res.Token)
				assert.NoError(t, err)
			}
		})
	}
}
