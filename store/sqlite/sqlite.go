package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"

	"github.com/orgsso/orgsso/store/sqlstore"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// MemoryPath is the path that opens a private in-memory database.
const MemoryPath = ":memory:"

// pragmas are applied to every connection, busy_timeout first.
const pragmas = "_pragma=busy_timeout(5000)" +
	"&_pragma=journal_mode(WAL)" +
	"&_pragma=synchronous(FULL)" +
	"&_pragma=foreign_keys(1)" +
	"&_pragma=cache_size(-32768)" + // KiB: 32 MiB per connection at most
	"&_txlock=immediate"

// Open opens (creating if needed) the SQLite database at path, brings its
// schema up to date and returns a store on it. The parent directory is
// created if missing (mode 0700), and a new database file gets mode 0600.
// Close the store when done.
//
// Errors: an empty path or a nil context wrap sqlstore.ErrInvalidArgument; a
// schema newer than this code wraps sqlstore.ErrSchemaTooNew.
func Open(ctx context.Context, path string) (*sqlstore.Store, error) {
	if ctx == nil {
		return nil, fmt.Errorf("sqlite: nil context: %w", sqlstore.ErrInvalidArgument)
	}
	if path == "" {
		return nil, fmt.Errorf("sqlite: empty path: %w", sqlstore.ErrInvalidArgument)
	}
	dsn, conns, err := dataSource(path)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxLifetime(0) // an in-memory database lives in its connection
	db.SetConnMaxIdleTime(0)
	st, err := sqlstore.New(ctx, db, sqlstore.SQLite)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return st, nil
}

// dataSource returns the driver's DSN for path and how many connections to
// allow: one for an in-memory database, else enough for concurrent readers
// (SQLite serializes writers itself).
func dataSource(path string) (string, int, error) {
	if path == MemoryPath {
		return "file::memory:?" + pragmas, 1, nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", 0, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return "", 0, fmt.Errorf("sqlite: creating the directory of %s: %w", path, err)
	}
	// Create the file ourselves, so it is private to the user; SQLite gives
	// its -wal and -shm files the same mode. An empty file is an empty
	// database.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		if err := f.Close(); err != nil {
			return "", 0, fmt.Errorf("sqlite: creating %s: %w", path, err)
		}
	case !errors.Is(err, fs.ErrExist):
		return "", 0, fmt.Errorf("sqlite: creating %s: %w", path, err)
	}
	// A file: URI, so that ? and # in the path are escaped, not parsed.
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: pragmas}
	return u.String(), max(4, runtime.GOMAXPROCS(0)), nil
}
