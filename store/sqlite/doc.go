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
//     transaction takes the write lock before it reads;
//   - cache_size=-32768: a page cache of up to 32 MiB per connection (SQLite's
//     default is 2 MiB), filled only as pages are read. Deleting a batch of
//     expired sessions touches a page of each index per session; with the
//     default cache most of those pages were read again from the file for
//     each batch, and the slowest 1000-row cleanup batch held the write lock
//     about five times longer (TestCleanupUnderLoad).
//
// The writes of one store take turns in the order they come
// (sqlstore.Store's write gate), so a cleanup running batch after batch
// never starves sign-ins; a writer in another process waits on SQLite's
// busy timeout instead.
//
// The path ":memory:" opens a private in-memory database, for tests: it lives
// in the store's single connection and is gone when the store is closed.
package sqlite
