package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations
var migrationFS embed.FS

// migration is one embedded schema change.
type migration struct {
	version int
	name    string // file name, e.g. 0001_init.sql
	sql     string
}

// migrations returns the dialect's migrations in version order. Their file
// names start with the version, four digits, counting up from 1 without
// gaps.
func migrations(d Dialect) ([]migration, error) {
	dir := path.Join("migrations", d.String())
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries { // sorted by name
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		prefix, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(prefix)
		if !ok || err != nil || v != len(ms)+1 {
			return nil, fmt.Errorf("sqlstore: migration %s/%s: want version %04d", dir, name, len(ms)+1)
		}
		b, err := fs.ReadFile(migrationFS, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	return ms, nil
}

// createMigrationsTable records which migrations a schema has had.
const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER NOT NULL PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at TEXT NOT NULL
)`

// migrate applies the migrations the database lacks, each in its own
// transaction together with its schema_migrations row. A process that
// migrates at the same time waits for the transaction (SQLite: BEGIN
// IMMEDIATE and the busy timeout; PostgreSQL: an advisory lock), then sees
// the version applied and skips it.
// It returns the schema version it brought the database to: the highest
// this code knows.
func migrate(ctx context.Context, db *sql.DB, d Dialect) (int, error) {
	ms, err := migrations(d)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrMigration, err)
	}
	for _, m := range ms {
		if err := applyMigration(ctx, db, d, m, len(ms)); err != nil {
			return 0, err
		}
	}
	return len(ms), nil
}

// applyMigration applies m unless the database has it already. latest is the
// highest version this code knows.
func applyMigration(ctx context.Context, db *sql.DB, d Dialect, m migration, latest int) error {
	fail := func(err error) error {
		return fmt.Errorf("sqlstore: migration %s: %w: %w", m.name, ErrMigration, err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback() // a no-op after Commit
	if lock := d.migrationLockSQL(); lock != "" {
		if _, err := tx.ExecContext(ctx, lock); err != nil {
			return fail(err)
		}
	}
	if _, err := tx.ExecContext(ctx, createMigrationsTable); err != nil {
		return fail(err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fail(err)
	}
	if current > latest {
		return fmt.Errorf("sqlstore: schema version %d, this orgsso knows up to %d: %w: %w",
			current, latest, ErrSchemaTooNew, ErrMigration)
	}
	if current >= m.version {
		return nil // applied before, maybe by another process just now
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fail(err)
	}
	appliedAt, _ := encodeTime("applied_at", time.Now())
	if _, err := tx.ExecContext(ctx, d.rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
		m.version, m.name, appliedAt); err != nil {
		return fail(err)
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return nil
}
