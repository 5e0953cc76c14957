package postgres_test

import (
	"testing"

	"github.com/orgsso/orgsso/store/memory"
	"github.com/orgsso/orgsso/store/storetest"
)

// BenchmarkHandleACS is a whole sign-in of a returning member at the ACS
// (validation, replay record, request consumption, session insert; on
// PostgreSQL one transaction) over a loopback connection, beside the
// memory store in the same run. Responses are signed before the timer
// starts. It skips without ORGSSO_POSTGRES_DSN.
func BenchmarkHandleACS(b *testing.B) {
	b.Run("memory", func(b *testing.B) { storetest.BenchHandleACS(b, memory.New(), false) })
	b.Run("postgres", func(b *testing.B) { storetest.BenchHandleACS(b, open(b), false) })
}

// BenchmarkHandleACSFirstSignIn is BenchmarkHandleACS for first sign-ins,
// each provisioning its member.
func BenchmarkHandleACSFirstSignIn(b *testing.B) {
	b.Run("memory", func(b *testing.B) { storetest.BenchHandleACS(b, memory.New(), true) })
	b.Run("postgres", func(b *testing.B) { storetest.BenchHandleACS(b, open(b), true) })
}
