package memory_test

import (
	"testing"

	"github.com/orgsso/orgsso/store/memory"
	"github.com/orgsso/orgsso/store/storetest"
)

// TestReplicas runs the two-replica check with both replicas on one memory
// store: the store is what replicas share, so every check must hold, and the
// check's own code is exercised without a database.
func TestReplicas(t *testing.T) {
	st := memory.New()
	open := func(*testing.T) storetest.Store { return st }
	storetest.RunReplicas(t, open, open)
}
