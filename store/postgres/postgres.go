package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/orgsso/orgsso/store/sqlstore"
)

// Pool settings Open applies.
const (
	MaxOpenConns = 10
	MaxIdleTime  = 5 * time.Minute
	MaxLifetime  = 30 * time.Minute
)

// ErrEncoding: the database does not store text as UTF-8.
var ErrEncoding = errors.New("postgres: database encoding is not UTF8")

// cancelWait is how long a call whose context ended waits for the server to
// confirm the cancellation before dropping the connection.
const cancelWait = 2 * time.Second

// Open connects to the PostgreSQL database at dsn (a URL,
// postgres://user:password@host:port/database?sslmode=…, or key=value
// pairs, as libpq takes them), checks the connection, brings the schema up
// to date and returns a store on it. Close the store when done.
//
// The store pushes its changes (sso.ChangeWatcher): WatchChanges listens
// on ChangesChannel with a connection of its own, so that a Service's
// session cache hears of a revocation on another replica at its commit.
//
// Errors never repeat the DSN, which may hold a password. An empty or
// unparsable DSN, or a nil context, wraps sqlstore.ErrInvalidArgument; a
// database whose encoding is not UTF8 gives ErrEncoding; a schema newer than
// this code wraps sqlstore.ErrSchemaTooNew.
func Open(ctx context.Context, dsn string) (*sqlstore.Store, error) {
	if ctx == nil {
		return nil, fmt.Errorf("postgres: nil context: %w", sqlstore.ErrInvalidArgument)
	}
	if dsn == "" {
		return nil, fmt.Errorf("postgres: empty DSN: %w", sqlstore.ErrInvalidArgument)
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's error quotes the DSN, redacting the password on a best
		// effort basis only: it is not passed on.
		return nil, fmt.Errorf("postgres: cannot parse the DSN (not shown: it may hold a password): %w", sqlstore.ErrInvalidArgument)
	}
	// The change listener's connection keeps pgx's default handling of an
	// ended context (close the connection): it runs no statement to cancel.
	listenCfg := cfg.Copy()
	// When a call's context ends, ask the server to cancel the statement
	// (and wait up to cancelWait for it to say so), rather than only drop
	// the connection: a dropped statement that waits for a lock would go
	// on, and run, on the server after the caller was told it failed.
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: cancelWait}
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(MaxOpenConns)
	db.SetMaxIdleConns(MaxOpenConns)
	db.SetConnMaxIdleTime(MaxIdleTime)
	db.SetConnMaxLifetime(MaxLifetime)
	// Connect, and check the database stores text as UTF-8: in another
	// encoding, characters it cannot represent would fail or change.
	var encoding string
	if err := db.QueryRowContext(ctx, `SHOW server_encoding`).Scan(&encoding); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connecting: %w", err)
	}
	if encoding != "UTF8" {
		db.Close()
		return nil, fmt.Errorf("postgres: the database's encoding is %s; orgsso needs UTF8 (CREATE DATABASE … ENCODING 'UTF8'): %w",
			encoding, ErrEncoding)
	}
	st, err := sqlstore.New(ctx, db, sqlstore.Postgres, sqlstore.WithWatcher(listener(listenCfg)))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return st, nil
}
