package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/orgsso/orgsso/store/sqlite"
	"github.com/orgsso/orgsso/store/storetest"
)

// TestConformance runs the store conformance suite on a database file per
// subtest (WAL, several connections) and on an in-memory database.
func TestConformance(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		t.Parallel()
		storetest.Run(t, func(t *testing.T) storetest.Store {
			return open(t, filepath.Join(t.TempDir(), "orgsso.db"))
		})
	})
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		storetest.Run(t, func(t *testing.T) storetest.Store {
			return open(t, sqlite.MemoryPath)
		})
	})
}
