package memory_test

import (
	"testing"

	"github.com/orgsso/orgsso/store/memory"
	"github.com/orgsso/orgsso/store/storetest"
)

// BenchmarkSessionCheck measures sso.Service.ValidateSession over the
// memory store, with the session cache warm and without it.
func BenchmarkSessionCheck(b *testing.B) {
	storetest.BenchSessionCheck(b, memory.New())
}
