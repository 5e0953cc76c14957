package postgres_test

import (
	"testing"

	"github.com/orgsso/orgsso/store/storetest"
)

// TestTwoReplicas: two Services, each with its own pool, on one schema.
func TestTwoReplicas(t *testing.T) {
	dsn := schemaDSN(t)
	storetest.RunReplicas(t,
		func(t *testing.T) storetest.Store { return openDSN(t, dsn) },
		func(t *testing.T) storetest.Store { return openDSN(t, dsn) })
}
