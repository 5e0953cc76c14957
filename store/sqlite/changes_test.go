package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/orgsso/orgsso/store/sqlstore"
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

// TestInvalidateCaches: InvalidateCaches raises the change counter by
// sqlstore.InvalidateCachesStep, as another handle on the file reads it,
// and again at each call.
func TestInvalidateCaches(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "shared.db")
	a, b := open(t, path), open(t, path)
	before, err := b.ChangeSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(1); i <= 2; i++ {
		if err := a.InvalidateCaches(ctx); err != nil {
			t.Fatalf("InvalidateCaches() err = %v", err)
		}
		if got, err := b.ChangeSeq(ctx); err != nil || got != before+i*sqlstore.InvalidateCachesStep {
			t.Errorf("ChangeSeq() after %d InvalidateCaches = %d, %v; want %d", i, got, err, before+i*sqlstore.InvalidateCachesStep)
		}
	}
}
