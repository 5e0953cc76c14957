package sqlstore

import (
	"strconv"
	"strings"
)

// Dialect is the SQL dialect of a database: it picks the embedded migrations,
// the placeholder syntax and how migrations are serialized between
// processes. The zero Dialect is invalid.
//
// Both dialects share the rest of the SQL: INSERT … ON CONFLICT for upserts
// and duplicate checks, DELETE … RETURNING for the atomic consume, row
// values for the cleanup batches; only PostgreSQL's batches add FOR UPDATE
// SKIP LOCKED. A SQLite store also serializes its own writes (see Store).
type Dialect int

// The supported dialects.
const (
	// SQLite: ? placeholders, STRICT tables, JSON as TEXT, booleans as 0/1.
	// Writers are serialized by the database file's lock, so the *sql.DB
	// should start transactions with BEGIN IMMEDIATE and have a busy timeout
	// (store/sqlite does both).
	SQLite Dialect = iota + 1
	// Postgres: $n placeholders, jsonb, booleans. Concurrent migrations are
	// serialized with pg_advisory_xact_lock, per schema.
	Postgres
)

// String returns the dialect's name: "sqlite", "postgres", or
// "Dialect(n)" for an invalid one.
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

func (d Dialect) valid() bool { return d == SQLite || d == Postgres }

// sql returns query as the dialect runs it: the skipLocked and schemaCookie
// markers replaced and the placeholders rebound.
func (d Dialect) sql(query string) string {
	lock, cookie := "", "(SELECT schema_version FROM pragma_schema_version)"
	if d == Postgres {
		lock, cookie = "FOR UPDATE SKIP LOCKED", "0"
	}
	return d.rebind(strings.NewReplacer(skipLocked, lock, schemaCookie, cookie).Replace(query))
}

// rebind rewrites the ? placeholders of query for the dialect. The queries of
// this package hold no ? in literals or identifiers, so a plain scan is
// enough.
func (d Dialect) rebind(query string) string {
	if d != Postgres {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// migrationLockSQL is run first in every migration transaction, to make
// concurrent migrations of one schema wait for each other. Its one argument
// is unused by SQLite, where BEGIN IMMEDIATE already took the database's
// write lock.
func (d Dialect) migrationLockSQL() string {
	switch d {
	case Postgres:
		// Two-key advisory lock: a constant ("orgs" in ASCII) and the
		// schema the tables go to, so two schemas migrate independently.
		// The lock is released at the end of the transaction.
		return "SELECT pg_advisory_xact_lock(1869768563, hashtext(coalesce(current_schema(), '')))"
	}
	return ""
}
