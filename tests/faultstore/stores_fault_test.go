package faultstore_test

import (
	"context"
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

	"github.com/orgsso/orgsso/store/memory"
	"github.com/orgsso/orgsso/store/postgres"
	"github.com/orgsso/orgsso/store/sqlite"
	"github.com/orgsso/orgsso/tests/faultstore"
)

// dsnEnv names the PostgreSQL server the postgres backend uses; without it
// the backend is skipped (and fails under CI, which always sets it).
const dsnEnv = "ORGSSO_POSTGRES_DSN"

// backend opens the stores of one kind for a test.
type backend struct {
	name string
	// open returns two handles on one new, empty database, as two replicas
	// of an application hold: the same store for memory, two connection
	// pools for the SQL stores. Both are closed when the test ends.
	open func(t *testing.T) (a, b faultstore.Inner)
}

// backends returns every store kind: memory, SQLite in a file under
// t.TempDir(), and PostgreSQL in a schema of its own when dsnEnv is set.
func backends() []backend {
	return []backend{
		{name: "memory", open: func(*testing.T) (faultstore.Inner, faultstore.Inner) {
			st := memory.New()
			return st, st
		}},
		{name: "sqlite", open: func(t *testing.T) (faultstore.Inner, faultstore.Inner) {
			path := filepath.Join(t.TempDir(), "orgsso.db")
			return openSQLite(t, path), openSQLite(t, path)
		}},
		{name: "postgres", open: func(t *testing.T) (faultstore.Inner, faultstore.Inner) {
			dsn := schemaDSN(t)
			return openPostgres(t, dsn), openPostgres(t, dsn)
		}},
	}
}

func openSQLite(t *testing.T, path string) faultstore.Inner {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("sqlite.Open() err = %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func openPostgres(t *testing.T, dsn string) faultstore.Inner {
	t.Helper()
	st, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("postgres.Open() err = %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// schemaDSN creates a schema of its own for the test, dropped when it ends,
// and returns a DSN whose search_path is that schema. Without dsnEnv the
// test is skipped, or fails when CI=true.
func schemaDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		msg := dsnEnv + " is not set (postgres://user:pass@127.0.0.1:5432/db?sslmode=disable)"
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
	_, _ = rand.Read(b[:])
	schema := "orgsso_fault_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(context.Background(), `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		t.Fatalf("CREATE SCHEMA: %v", err)
	}
	// Registered first, so it runs after the stores' Close.
	t.Cleanup(func() {
		dropSchema(t, admin, schema)
		admin.Close()
	})
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

func dropSchema(t *testing.T, admin *sql.DB, schema string) {
	if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
		t.Errorf("DROP SCHEMA: %v", err)
	}
}
