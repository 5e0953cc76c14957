// Package postgres opens an orgsso store in a PostgreSQL database: the store
// for applications with several replicas, which must agree on sessions,
// pending requests, used assertion IDs and SSO names. It uses pgx
// (github.com/jackc/pgx/v5) through database/sql.
//
//	st, err := postgres.Open(ctx, "postgres://app:secret@db.internal:5432/app?sslmode=verify-full")
//	if err != nil { … }
//	defer st.Close()
//
// The store is a *sqlstore.Store; see package sqlstore for the schema, the
// migrations Open runs (safe when replicas start at once) and how times and
// strings are stored. The tables go to the connection's current schema, the
// first of its search_path: add search_path=orgsso to the DSN to keep them
// apart from the application's own.
//
// Open's pool allows MaxOpenConns connections (idle ones close after
// MaxIdleTime, every one is replaced after MaxLifetime); tune it with
// st.DB().SetMaxOpenConns and friends, keeping the sum over replicas under
// the server's max_connections. A Service's Run also keeps one connection
// of its own per replica, outside the pool, that LISTENs for the change
// notifications of its session cache (ChangesChannel).
package postgres
