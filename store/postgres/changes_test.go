package postgres_test

import (
	"testing"

	"github.com/orgsso/orgsso/store/storetest"
)

// TestChangeFeed: two pools on one schema read one change counter, and it
// survives closing them and opening the schema again.
func TestChangeFeed(t *testing.T) {
	dsn := schemaDSN(t)
	open := func(t *testing.T) storetest.Store { return openDSN(t, dsn) }
	storetest.RunChangeFeed(t, open, open)
}

// TestSessionCacheReplicas: two Services, each with its own pool on one
// schema and its own Run, cache session checks; a revocation on one
// reaches the other within the staleness bound (at once, by LISTEN/NOTIFY,
// and by polling the change counter), with no stale accept after.
func TestSessionCacheReplicas(t *testing.T) {
	dsn := schemaDSN(t)
	open := func(t *testing.T) storetest.Store { return openDSN(t, dsn) }
	storetest.RunSessionCache(t, open, open)
}
