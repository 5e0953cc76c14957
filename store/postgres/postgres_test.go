package postgres_test

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/orgsso/orgsso/store/postgres"
	"github.com/orgsso/orgsso/store/sqlstore"
)

// dsnEnv names the environment variable with the test server's DSN.
const dsnEnv = "ORGSSO_POSTGRES_DSN"

// serverDSN returns the test server's DSN. Without one it skips the test,
// except in CI (CI=true), where PostgreSQL must be tested: it fails.
func serverDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		msg := "PostgreSQL tests need " + dsnEnv + "=postgres://user:pass@127.0.0.1:5432/db?sslmode=disable; .ci/run starts a server and sets it"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dsn
}

// schemaDSN creates a schema of its own for the test, dropped when it ends,
// and returns a DSN whose search_path is that schema, so tests run in
// parallel on one database without seeing each other's tables.
func schemaDSN(t testing.TB) string {
	t.Helper()
	dsn := serverDSN(t)
	var b [8]byte
	rand.Read(b[:])
	schema := "orgsso_test_" + hex.EncodeToString(b[:])

	admin := adminDB(t, dsn)
	if _, err := admin.ExecContext(t.Context(), `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("CREATE SCHEMA: %v", err)
	}
	t.Cleanup(func() {
		// t.Context is done by now.
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("DROP SCHEMA: %v", err)
		}
		admin.Close()
	})
	return withSearchPath(t, dsn, schema)
}

// adminDB opens a plain connection to the test server.
func adminDB(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("%s: %v", dsnEnv, err)
	}
	return stdlib.OpenDB(*cfg)
}

// withSearchPath returns dsn (a URL or key=value pairs) with its
// search_path set to schema.
func withSearchPath(t testing.TB, dsn, schema string) string {
	t.Helper()
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

// withDatabase returns dsn (a URL or key=value pairs) naming database db.
func withDatabase(t testing.TB, dsn, db string) string {
	t.Helper()
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " dbname=" + db
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("%s: %v", dsnEnv, err)
	}
	u.Path = "/" + db
	return u.String()
}

// open opens a store on a schema of its own, closed when the test ends.
func open(t testing.TB) *sqlstore.Store {
	t.Helper()
	return openDSN(t, schemaDSN(t))
}

// openDSN opens a store on dsn, closed when the test ends.
func openDSN(t testing.TB, dsn string) *sqlstore.Store {
	t.Helper()
	st, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open() err = %v; want nil", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close() err = %v", err)
		}
	})
	return st
}
