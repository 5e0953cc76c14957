package sqlite_test

import (
	"context"
	"testing"

	"github.com/orgsso/orgsso/store/sqlite"
	"github.com/orgsso/orgsso/store/sqlstore"
)

// open opens a store at path and closes it when the test ends.
func open(t testing.TB, path string) *sqlstore.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%q) err = %v; want nil", path, err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close() err = %v", err)
		}
	})
	return st
}

// openNoCleanup opens a store the test closes itself (to reopen the file).
func openNoCleanup(ctx context.Context, path string) (*sqlstore.Store, error) {
	return sqlite.Open(ctx, path)
}
