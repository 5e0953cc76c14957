package postgres_test

import (
	"testing"

	"github.com/orgsso/orgsso/store/storetest"
)

// BenchmarkSessionCheck measures sso.Service.ValidateSession over
// PostgreSQL on a loopback connection, with the session cache warm and
// without it (three round trips: the session, its organization, its
// member).
func BenchmarkSessionCheck(b *testing.B) {
	storetest.BenchSessionCheck(b, open(b))
}
