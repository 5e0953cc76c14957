package main

import (
	"context"
	"fmt"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/sqlite"
)

// demoStore is what the demo needs of an orgsso store: the Service's port,
// the session Manager's port, and eviction of expired rows. store/sqlite (the
// default) and store/memory both implement it.
type demoStore interface {
	sso.Store
	session.Store
	sso.Cleaner
}

// openStore opens the SQLite file at path, creating it and its directory if
// needed. The returned close function releases it.
func openStore(ctx context.Context, path string) (demoStore, *userTable, func() error, error) {
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, nil, nil, err
	}
	users, err := openUserTable(ctx, st.DB())
	if err != nil {
		st.Close()
		return nil, nil, nil, fmt.Errorf("demo users table: %w", err)
	}
	return st, users, st.Close, nil
}
