package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/orgsso/orgsso/store/storetest"
)

// BenchmarkSessionCheck measures sso.Service.ValidateSession over a SQLite
// file, with the session cache warm and without it (three reads: the
// session, its organization, its member).
func BenchmarkSessionCheck(b *testing.B) {
	storetest.BenchSessionCheck(b, open(b, filepath.Join(b.TempDir(), "orgsso.db")))
}
