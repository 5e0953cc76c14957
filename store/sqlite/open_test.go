package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/internal/migrationtest"
	"github.com/orgsso/orgsso/store/sqlite"
	"github.com/orgsso/orgsso/store/sqlstore"
)

func TestOpenInvalid(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	notDB := filepath.Join(dir, "not-a-database")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("not SQLite ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	var nilCtx context.Context
	tests := []struct {
		name    string
		ctx     context.Context
		path    string
		wantErr error // nil: any error
	}{
		{name: "nil context", ctx: nilCtx, path: filepath.Join(dir, "a.db"), wantErr: sqlstore.ErrInvalidArgument},
		{name: "empty path", ctx: t.Context(), path: "", wantErr: sqlstore.ErrInvalidArgument},
		{name: "path is a directory", ctx: t.Context(), path: dir},
		{name: "parent is a file", ctx: t.Context(), path: filepath.Join(file, "a.db")},
		{name: "not a database", ctx: t.Context(), path: notDB},
	}
	for _, tt := range tests {
		st, err := sqlite.Open(tt.ctx, tt.path)
		if err == nil {
			st.Close()
			t.Errorf("%s: Open(%q) err = nil; want an error", tt.name, tt.path)
			continue
		}
		if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: Open(%q) err = %v; want %v", tt.name, tt.path, err, tt.wantErr)
		}
	}
}

func TestOpenCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "a.db")); !errors.Is(err, context.Canceled) {
		if st != nil {
			st.Close()
		}
		t.Errorf("Open(cancelled) err = %v; want context.Canceled", err)
	}
}

// TestOpenCreatesPrivateFiles: missing directories are made, private to the
// user, and so is the database file.
func TestOpenCreatesPrivateFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permissions")
	}
	root := t.TempDir()
	path := filepath.Join(root, "a", "b", "orgsso.db")
	open(t, path)
	for _, p := range []string{filepath.Join(root, "a"), filepath.Join(root, "a", "b"), path} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("mode of %s = %v; want no access for group and others", p, fi.Mode())
		}
	}
}

// TestOpenSpecialPath: characters that mean something in a URI are part of
// the file name.
func TestOpenSpecialPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "we?ird #dir%20&x=1")
	path := filepath.Join(dir, "my db?.sqlite")
	st := open(t, path)
	if err := st.SaveOrganization(t.Context(), &sso.Organization{ID: "org1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at %q: %v", path, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "my db?.sqlite") {
			t.Errorf("unexpected file %q beside the database", e.Name())
		}
	}
}

// TestPragmas: every connection has the settings the package documents.
func TestPragmas(t *testing.T) {
	st := open(t, filepath.Join(t.TempDir(), "orgsso.db"))
	db := st.DB()
	ctx := t.Context()
	// Hold several connections at once, so the checks see more than one.
	for i := range 3 {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for pragma, want := range map[string]string{
			"journal_mode": "wal",
			"synchronous":  "2", // FULL
			"busy_timeout": "5000",
			"foreign_keys": "1",
		} {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatalf("PRAGMA %s: %v", pragma, err)
			}
			if got != want {
				t.Errorf("connection %d: PRAGMA %s = %s; want %s", i, pragma, got, want)
			}
		}
	}
	if got := db.Stats().MaxOpenConnections; got < 4 {
		t.Errorf("MaxOpenConnections = %d; want at least 4", got)
	}
	mem := open(t, sqlite.MemoryPath)
	if got := mem.DB().Stats().MaxOpenConnections; got != 1 {
		t.Errorf("in-memory MaxOpenConnections = %d; want 1", got)
	}
}

// TestReopen: data survives Close, and reopening applies no migration twice.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orgsso.db")
	ctx := t.Context()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SaveOrganization(ctx, &sso.Organization{ID: "org1", SSOName: "acme"}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = open(t, path)
	if got, err := st.OrganizationBySSOName(ctx, "acme"); err != nil || got.ID != "org1" {
		t.Errorf("OrganizationBySSOName(acme) after reopening = %+v, %v; want org1", got, err)
	}
	var n int
	if err := st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = 1`).Scan(&n); err != nil || n != 1 {
		t.Errorf("schema_migrations has version 1 %d times (%v); want once", n, err)
	}
}

// TestConcurrentOpen: several stores opening one new file at once all
// succeed; the migrations are applied once.
func TestConcurrentOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orgsso.db")
	const n = 8
	stores := make([]*sqlstore.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = sqlite.Open(t.Context(), path)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open #%d err = %v; want nil", i, err)
			continue
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	if t.Failed() {
		return
	}
	var versions, rows int
	if err := stores[0].DB().QueryRowContext(t.Context(), `SELECT COUNT(DISTINCT version), COUNT(*) FROM schema_migrations`).Scan(&versions, &rows); err != nil {
		t.Fatal(err)
	}
	if versions != rows || rows == 0 {
		t.Errorf("schema_migrations has %d rows for %d versions; want one per version", rows, versions)
	}
	// The stores share the data.
	if err := stores[1].UseAssertion(t.Context(), "org1", "a", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := stores[n-1].UseAssertion(t.Context(), "org1", "a", time.Now()); !errors.Is(err, sso.ErrReplay) {
		t.Errorf("UseAssertion() on another store err = %v; want ErrReplay", err)
	}
}

func TestSchemaTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orgsso.db")
	ctx := t.Context()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', '')`); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = sqlite.Open(ctx, path)
	if err == nil {
		st.Close()
	}
	if !errors.Is(err, sqlstore.ErrSchemaTooNew) || !errors.Is(err, sqlstore.ErrMigration) {
		t.Errorf("Open(newer schema) err = %v; want ErrSchemaTooNew and ErrMigration", err)
	}
}

// TestClosed: after Close every method returns ErrClosed; Close again is
// fine.
func TestClosed(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "orgsso.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close() err = %v; want nil", err)
	}
	if err := st.Close(); err != nil {
		t.Errorf("second Close() err = %v; want nil", err)
	}
	if _, err := st.Organization(ctx, "org1"); !errors.Is(err, sqlstore.ErrClosed) {
		t.Errorf("Organization() after Close err = %v; want ErrClosed", err)
	}
	if err := st.CreateSession(ctx, &session.Session{ID: "s", OrgID: "o"}); !errors.Is(err, sqlstore.ErrClosed) {
		t.Errorf("CreateSession() after Close err = %v; want ErrClosed", err)
	}
	if _, err := st.Cleanup(ctx, time.Now()); !errors.Is(err, sqlstore.ErrClosed) {
		t.Errorf("Cleanup() after Close err = %v; want ErrClosed", err)
	}
}

// TestUnstorableRefused: strings SQLite could hold but PostgreSQL could not
// are refused the same way in both, with ErrInvalidArgument; times outside
// the years 0-9999 too.
func TestUnstorableRefused(t *testing.T) {
	ctx := t.Context()
	st := open(t, sqlite.MemoryPath)
	far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, err := range map[string]error{
		"org with invalid UTF-8":  st.SaveOrganization(ctx, &sso.Organization{ID: "o", OwnerID: "\xff"}),
		"org with a NUL":          st.SaveOrganization(ctx, &sso.Organization{ID: "o", IdP: sso.IdPConfig{Certificates: []string{"\x00"}}}),
		"member with a NUL email": st.SaveMember(ctx, &sso.Member{OrgID: "o", Email: "a\x00@b"}),
		"request in year 10000":   st.SaveRequest(ctx, &sso.PendingRequest{ID: "r", ExpiresAt: far}),
		"session in year 10000":   st.CreateSession(ctx, &session.Session{ID: "s", OrgID: "o", ExpiresAt: far}),
		"assertion in year -1":    st.UseAssertion(ctx, "o", "a", time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)),
		"assertion ID with a NUL": st.UseAssertion(ctx, "o", "a\x00", time.Now()),
	} {
		if !errors.Is(err, sqlstore.ErrInvalidArgument) {
			t.Errorf("%s: err = %v; want ErrInvalidArgument", name, err)
		}
	}
	// Cleanup with an instant out of that range still works.
	if err := st.UseAssertion(ctx, "o", "a", time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if n, err := st.Cleanup(ctx, time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)); n != 0 || err != nil {
		t.Errorf("Cleanup(year -1) = %d, %v; want 0, nil", n, err)
	}
	if n, err := st.Cleanup(ctx, far); n != 1 || err != nil {
		t.Errorf("Cleanup(year 10000) = %d, %v; want 1, nil", n, err)
	}
}

// TestMigrateRequestBinding: a version-1 database with a pending request
// upgrades to version 2 (binding_hash) and on; the old request keeps its
// fields, has no binding, and so matches no binding.
func TestMigrateRequestBinding(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orgsso.db")
	ctx := t.Context()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	migrationtest.ApplyBefore(t, db, filepath.Join("..", "sqlstore", "migrations", "sqlite"), migrationtest.RequestBindingMigration,
		func(int) string { return "?" })
	if _, err := db.ExecContext(ctx, `INSERT INTO pending_requests (id, org_id, return_to, tester_user_id, expires_at)
			VALUES ('old', 'org1', '/x', '', '2026-03-01T12:00:00.000000000Z')`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	st := open(t, path)
	if _, err := st.ConsumeMatchingRequest(ctx, "old", "org1", strings.Repeat("0", 64)); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("ConsumeMatchingRequest(old request, some binding) err = %v; want ErrNotFound", err)
	}
	want := &sso.PendingRequest{ID: "old", OrgID: "org1", ReturnTo: "/x", ExpiresAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	if got, err := st.ConsumeRequest(ctx, "old"); err != nil || *got != *want {
		t.Errorf("ConsumeRequest(old) after migrating = %+v, %v; want %+v", got, err, want)
	}
}
