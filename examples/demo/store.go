package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/sqlite"
	"github.com/orgsso/orgsso/store/sqlstore"
)

// demoStore is what the demo gives orgsso: the Service's port and the
// session Manager's. store/sqlite, the demo's store, implements them and
// sso.AdminStore, session.Lister and sso.BatchCleaner, which the Service
// uses when the store has them (member listing and removal, ended sessions
// with a reason, batched cleanup). The demo writes nothing through it: it
// changes organizations and members through the Service's admin API.
type demoStore interface {
	sso.Store
	session.Store
}

// tables are the demo's own tables, next to orgsso's in the same file.
type tables struct {
	users *userTable
	audit *auditLog
}

// openStore opens the SQLite file at path, creating it and its directory if
// needed, with the demo's own tables. The returned close function releases
// it.
func openStore(ctx context.Context, path string, log *slog.Logger) (*sqlstore.Store, tables, func() error, error) {
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, tables{}, nil, err
	}
	users, err := openUserTable(ctx, st.DB())
	if err != nil {
		st.Close()
		return nil, tables{}, nil, fmt.Errorf("demo users table: %w", err)
	}
	audit, err := openAuditLog(ctx, st.DB(), log)
	if err != nil {
		st.Close()
		return nil, tables{}, nil, fmt.Errorf("demo audit table: %w", err)
	}
	return st, tables{users: users, audit: audit}, st.Close, nil
}
