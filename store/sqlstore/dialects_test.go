package sqlstore_test

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/orgsso/orgsso/store/postgres"
	"github.com/orgsso/orgsso/store/sqlite"
	"github.com/orgsso/orgsso/store/sqlstore"
)

// The tests of the admin methods, the session listing and the batch cleanup
// run on both dialects, through the openers of store/sqlite and
// store/postgres (the package itself imports no driver; its tests may).
// PostgreSQL needs ORGSSO_POSTGRES_DSN, as in store/postgres: without it
// those subtests are skipped, except in CI (CI=true), where they fail.

// dsnEnv names the environment variable with the test server's DSN.
const dsnEnv = "ORGSSO_POSTGRES_DSN"

// opener opens a store, then more handles on the same database: each a
// replica with its own connection pool. Every handle is closed when the
// test ends.
type opener func(t *testing.T) (open func() *sqlstore.Store)

// dialects are the databases the tests run on.
var dialects = []struct {
	name string
	db   opener
}{
	{"sqlite", sqliteDB},
	{"postgres", postgresDB},
}

// forEachDialect runs test, in parallel, on a database of each dialect.
func forEachDialect(t *testing.T, test func(t *testing.T, open func() *sqlstore.Store)) {
	t.Helper()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			test(t, d.db(t))
		})
	}
}

// sqliteDB makes a database file of its own for the test.
func sqliteDB(t *testing.T) func() *sqlstore.Store {
	path := filepath.Join(t.TempDir(), "orgsso.db")
	return func() *sqlstore.Store {
		t.Helper()
		st, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatalf("sqlite.Open() err = %v", err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
}

// postgresDB makes a schema of its own for the test, dropped when it ends.
func postgresDB(t *testing.T) func() *sqlstore.Store {
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		msg := "PostgreSQL tests need " + dsnEnv + "=postgres://user:pass@127.0.0.1:5432/db?sslmode=disable"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("%s: %v", dsnEnv, err)
	}
	admin := stdlib.OpenDB(*cfg)
	var b [8]byte
	rand.Read(b[:])
	schema := "orgsso_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(t.Context(), `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		t.Fatalf("CREATE SCHEMA: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("DROP SCHEMA: %v", err)
		}
		admin.Close()
	})
	dsn = withSearchPath(t, dsn, schema)
	return func() *sqlstore.Store {
		t.Helper()
		st, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatalf("postgres.Open() err = %v", err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
}

// withSearchPath returns dsn (a URL or key=value pairs) with its
// search_path set to schema.
func withSearchPath(t *testing.T, dsn, schema string) string {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " search_path=" + schema
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("%s: %v", dsnEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// execSQL runs statements on a store's database directly, to set up rows the
// store's API would not write.
func execSQL(t *testing.T, db *sql.DB, queries ...string) {
	t.Helper()
	for _, q := range queries {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}
