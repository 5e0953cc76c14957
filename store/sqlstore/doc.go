// Package sqlstore implements sso.Store, sso.AdminStore, sso.DomainStore,
// sso.MetadataLister, sso.Cleaner, sso.BatchCleaner, session.Store and
// session.Lister on database/sql, for
// SQLite and PostgreSQL. It imports no driver: open the
// database with store/sqlite or store/postgres (which pick the driver and
// its settings), or open a *sql.DB yourself and call New with its Dialect.
//
//	st, err := sqlite.Open(ctx, "/var/lib/app/orgsso.db") // or postgres.Open(ctx, dsn)
//	if err != nil { … }
//	defer st.Close()
//	svc, err := sso.New(sso.Config{Store: st, Sessions: session.NewManager(st), …})
//
// # Migrations
//
// New brings the schema up to date with SQL files embedded in the binary
// (migrations/sqlite/0001_init.sql, migrations/postgres/0001_init.sql, …).
// Each is applied in its own transaction together with its row in the
// schema_migrations table, so a migration is applied completely or not at
// all. Several processes may start at once: PostgreSQL serializes them with
// an advisory lock per schema, SQLite with its write lock (BEGIN IMMEDIATE,
// waiting on the busy timeout); the one that comes second sees the version
// applied and moves on. A database whose schema is newer than the code gives
// ErrSchemaTooNew. Tables go to the connection's current schema (PostgreSQL:
// the first of search_path), so one database can hold several stores.
//
// # Schema
//
//	organizations    id PK; sso_name unique where not '' (drafts have ''); IdP,
//	                 policy and role-mapping columns; certificates, mappings
//	                 and attribute names as JSON (jsonb on PostgreSQL);
//	                 version and sso_epoch (schema version 4); connections
//	                 as JSON, [] for none (schema version 6); domains as
//	                 JSON, [] for none (schema version 7); idp_metadata_url
//	                 and has_metadata_url (whether it or a SAML
//	                 connection names one), indexed by (has_metadata_url,
//	                 id) (schema version 8)
//	verified_domains PK domain: which organization (org_id) has verified
//	                 each domain, one per domain; indexed by org_id
//	                 (schema version 7)
//	members          PK (org_id, email_key): email_key is sso.MemberEmailKey(email),
//	                 computed in Go (ASCII case folding; schema version 3
//	                 rewrote the keys earlier versions made with strings.ToLower);
//	                 email as given; stack_roles as JSON; indexed by
//	                 (org_id, user_id, email_key)
//	member_users     PK (org_id, user_id): which member (email_key) holds a
//	                 user ID, one per user ID ('' excluded); indexed by
//	                 (org_id, email_key) (schema version 5)
//	pending_requests id PK; expires_at indexed; binding_hash, connection_id,
//	                 nonce, code_verifier (schema versions 2 and 6)
//	used_assertions  PK (org_id, assertion_id); until indexed
//	sessions         id PK (the token hash); epoch and end_reason;
//	                 connection_id (schema version 6); indexed by
//	                 (org_id, method), by (org_id, user_id, id), by
//	                 (org_id, connection_id, id) and by expires_at
//
// Times are stored as text, UTC, fixed width with nanoseconds
// (2026-03-01T12:00:00.000000000Z): text order is time order, and every time
// round-trips exactly, which PostgreSQL's timestamptz (microseconds) would
// not. Times must lie in the years 0–9999. Values read back have their
// times in UTC without a monotonic reading; everything else is as saved,
// nil and empty slices and maps kept apart, but for two lists: an
// organization without connections or domains, nil or empty, reads back
// with nil Connections or Domains, as in every store (organizations stored
// before schema versions 6 and 7 have none). A connection's Epoch is a
// member of its JSON object; connections stored before connection epochs
// lack it and read back with Epoch 0; so is its MetadataURL, as
// "metadata_url", which connections stored before schema version 8 lack
// and read back as "". A domain's VerifiedAt is
// stored as every time is, the zero time of an unverified claim too. A connection's client secret (sso.Secret) and a
// pending request's code verifier are stored as their plain string value:
// the Service seals the client secret first when the host configures a key. Strings must be valid UTF-8
// without NUL bytes (what PostgreSQL can store); others are refused with
// ErrInvalidArgument, and lookups by such keys find nothing — except a
// member's email (and the cursor of Members), which are refused with
// ErrInvalidArgument, as every store does (sso.ValidateMemberEmail).
//
// Keys (the values sso.MaxKeyBytes lists: organization, user, request,
// session and assertion IDs, SSO names, emails, the listing cursors, and
// here the names of an organization's domains and OrganizationByDomain's
// domain, which the verified domain registry's primary key holds) longer
// than sso.MaxKeyBytes bytes are refused by every method, lookups included,
// with an error wrapping ErrKeyTooLong and ErrInvalidArgument, before any
// database work. So are a session's Method and Connection in CreateSession:
// neither is a key, but an index holds each; a longer one in a lookup
// matches nothing.
//
// # Atomicity
//
// ConsumeRequest is one DELETE … RETURNING, ConsumeMatchingRequest one
// DELETE … WHERE id, org_id and binding_hash … RETURNING (a mismatch deletes
// nothing), UseAssertion one INSERT … ON
// CONFLICT DO NOTHING that counts the rows it inserted, and the SSO name's
// uniqueness is a unique index. UpdateOrganization is one UPDATE … WHERE id
// = ? AND version = ? that also adds one to the version (no row: a second
// look tells ErrNotFound from sso.ErrConflict), CreateOrganization one
// INSERT … ON CONFLICT DO NOTHING, EndSessions one UPDATE. Every
// organization write (SaveOrganization, CreateOrganization,
// UpdateOrganization) is one transaction with the verified domain registry,
// verified_domains: after the organization's row it claims the domains the
// organization has verified and does not hold yet (INSERT … ON CONFLICT DO
// NOTHING) and releases those it no longer verifies, in domain order; a
// domain another organization holds rolls the write back
// (sso.ErrDomainTaken), so a domain is verified by at most one
// organization, whichever replica writes. OrganizationByDomain reads the
// organization through the registry. Every organization write also stores
// has_metadata_url, whether the organization names a metadata URL (its
// own or a SAML connection's), in the row it writes, so
// OrganizationsWithMetadataURL lists them from the (has_metadata_url, id)
// index, one query a page. Each member
// write is one transaction with the user ID registry, member_users:
// CreateMember inserts the member (INSERT … ON CONFLICT DO NOTHING; if it
// inserted nothing, it then reads the member in the way) and claims its
// user ID there, and a user ID the registry gives another email key rolls
// both back (sso.ErrUserIDTaken); SaveMember, UpdateMember and DeleteMember
// keep the registry in line with the member they write or remove. Each is
// atomic in the database, so every replica sharing it agrees. Every value is passed as a placeholder of a prepared
// statement, never spliced into SQL.
//
// On SQLite, the writes of one Store also take turns in the process, in the
// order they come (a write gate): SQLite runs one writer at a time, but a
// writer that finds the lock taken polls for it, sleeping up to 100 ms
// between tries, so a cleanup running batch after batch would starve the
// sign-ins. Writers in other processes still wait on SQLite's busy
// timeout.
//
// # Cleanup
//
// Like store/memory, the store has no clock: expired rows stay until
// Store.Cleanup or Store.CleanupBatch, which the application calls
// periodically (sso.Service.Cleanup does). Both delete in batches, each one
// short statement per table (DELETE … WHERE key IN (SELECT key … WHERE
// expiry < ? LIMIT ?), through the expiry indexes), so a large backlog never
// holds SQLite's write lock for more than a batch: 1000 rows take from a few
// milliseconds (pending requests) to about a hundred (sessions, with a page
// of each of their indexes per row), and sign-ins go on in between. On
// PostgreSQL the batches skip rows another cleaner has locked, so replicas
// cleaning at once share the work.
//
// # Change counter
//
// Table change_counter (migration 0009) holds one number, which triggers
// raise in the transaction of every write that can make a valid session
// invalid: an UPDATE or DELETE of sessions, organizations or members, and
// (migration 0011) an INSERT of a member whose user has sessions in the
// organization or of an organization with the ID of stored sessions (a
// member saved under another email with the same user ID, a row replaced
// by SQLite's REPLACE, whose implicit delete fires no trigger), and on
// PostgreSQL a TRUNCATE of any of the three. Other inserts do not raise it
// (a first sign-in inserts its member before its session: every replica
// keeps its cache). Store.ChangeSeq reads it (sso.ChangeFeed): a
// sso.Service polls it to keep its session cache (sso.SessionCacheConfig)
// within its staleness bound of every replica's writes. Triggers rather
// than statements in this package, so that no write path can forget it
// (nor a replica still running older code during a rolling upgrade, nor an
// operator's SQL). Deleting expired sessions raises it too (a trigger
// cannot tell a cleanup from a sign-out): each cleanup batch that removed
// sessions makes every replica refill its cache once. On PostgreSQL the
// triggers run once per statement and also NOTIFY orgsso_changes with the
// schema and the new value, delivered at commit: Store.WatchChanges
// (sso.ChangeWatcher, given by store/postgres) reports them, so replicas
// hear of a revocation at its commit rather than at their next poll. The
// counter's row is locked from a raise to the commit, so revoking
// transactions commit one at a time; they are rare next to the checks.
//
// Restoring a backup into a live database brings the counter back to the
// backup's value. On SQLite, a restore through the backup API (the sqlite3
// shell's .restore) also moves the database's schema cookie, which
// ChangeSeq folds into its value there: replicas notice such a restore by
// themselves. Otherwise (PostgreSQL, or rows copied back) replicas notice
// only if the counter moved since the backup: after such a restore, call
// Store.InvalidateCaches (or restart every replica), which raises the
// counter far beyond any value it had, so that every replica drops its
// session cache. A backup of an older schema (taken before a migration
// this Store applied) brings back a database without the later triggers:
// ChangeSeq then fails (ErrMigration) until the store is opened again
// (Open migrates), so replicas' caches go stale and every check reads the
// database (the cache fails closed).
package sqlstore
