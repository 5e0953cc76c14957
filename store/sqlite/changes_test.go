package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/orgsso/orgsso/store/storetest"
)

// TestChangeFeed: two handles on one file read one change counter, and it
// survives closing and reopening the file.
func TestChangeFeed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	open := func(t *testing.T) storetest.Store { return open(t, path) }
	storetest.RunChangeFeed(t, open, open)
}

// TestSessionCacheReplicas: two Services, each with its own handle on one
// file and its own Run, cache session checks; a revocation on one reaches
// the other within the staleness bound (by polling the change counter),
// with no stale accept after.
func TestSessionCacheReplicas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	open := func(t *testing.T) storetest.Store { return open(t, path) }
	storetest.RunSessionCache(t, open, open)
}
