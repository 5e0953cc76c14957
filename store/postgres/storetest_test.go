package postgres_test

import (
	"testing"

	"github.com/orgsso/orgsso/store/storetest"
)

// TestConformance runs the store conformance suite, each subtest on a schema
// of its own.
func TestConformance(t *testing.T) {
	serverDSN(t)
	storetest.Run(t, func(t *testing.T) storetest.Store { return open(t) })
}
