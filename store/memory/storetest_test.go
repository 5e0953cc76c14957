package memory_test

import (
	"testing"

	"github.com/orgsso/orgsso/store/memory"
	"github.com/orgsso/orgsso/store/storetest"
)

// TestConformance runs the store conformance suite on the memory store, the
// reference the suite was written from.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) storetest.Store { return memory.New() })
}
