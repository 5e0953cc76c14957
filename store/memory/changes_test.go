package memory_test

import (
	"testing"

	"github.com/orgsso/orgsso/store/memory"
	"github.com/orgsso/orgsso/store/storetest"
)

// TestSessionCacheReplicas runs the session cache check with two Services
// on one memory store: the store is what replicas share.
func TestSessionCacheReplicas(t *testing.T) {
	st := memory.New()
	open := func(*testing.T) storetest.Store { return st }
	storetest.RunSessionCache(t, open, open)
}
