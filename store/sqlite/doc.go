// Package sqlite opens an orgsso store in a SQLite database file: the
// embedded default, for applications that run as one process (or several on
// one machine sharing the file). It uses modernc.org/sqlite, a pure-Go
// driver: no cgo.
//
//	st, err := sqlite.Open(ctx, "/var/lib/app/orgsso.db")
//	if err != nil { … }
//	defer st.Close()
//
// The store is a *sqlstore.Store; see package sqlstore for the schema, the
// migrations Open runs and how times and strings are stored.
//
// # Settings
//
// Open sets, on every connection:
//
//   - journal_mode=WAL: readers do not block the writer nor it them;
//   - synchronous=FULL: a write that returned is on disk, even across power
//     loss. With WAL, NORMAL would survive a crash or kill of the process but
//     could lose the last commits on power loss; the replay cache of used
//     assertion IDs is a security control, so orgsso pays an fsync per write
//     (sign-ins, not session checks, which only read);
//   - busy_timeout=5000: a writer waits up to 5 s for another (another
//     process, or a migration) instead of failing;
//   - foreign_keys=ON, and BEGIN IMMEDIATE for transactions, so a
//     transaction takes the write lock before it reads.
//
// The path ":memory:" opens a private in-memory database, for tests: it lives
// in the store's single connection and is gone when the store is closed.
package sqlite
