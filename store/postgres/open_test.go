package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/internal/migrationtest"
	"github.com/orgsso/orgsso/store/postgres"
	"github.com/orgsso/orgsso/store/sqlstore"
)

// TestOpenInvalid needs no server.
func TestOpenInvalid(t *testing.T) {
	var nilCtx context.Context
	tests := []struct {
		name    string
		ctx     context.Context
		dsn     string
		wantErr error // nil: any error
	}{
		{name: "nil context", ctx: nilCtx, dsn: "postgres://u:p@127.0.0.1/db", wantErr: sqlstore.ErrInvalidArgument},
		{name: "empty DSN", ctx: t.Context(), dsn: "", wantErr: sqlstore.ErrInvalidArgument},
		{name: "unparsable URL", ctx: t.Context(), dsn: "postgres://user:s3cret-pw@[::1/db", wantErr: sqlstore.ErrInvalidArgument},
		{name: "unparsable key=value", ctx: t.Context(), dsn: "host=127.0.0.1 password=s3cret-pw port=notaport", wantErr: sqlstore.ErrInvalidArgument},
		// Nothing listens on port 1: refused at once.
		{name: "no server", ctx: t.Context(), dsn: "postgres://user:s3cret-pw@127.0.0.1:1/db?sslmode=disable&connect_timeout=5"},
	}
	for _, tt := range tests {
		st, err := postgres.Open(tt.ctx, tt.dsn)
		if err == nil {
			st.Close()
			t.Errorf("%s: Open() err = nil; want an error", tt.name)
			continue
		}
		if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: Open() err = %v; want %v", tt.name, err, tt.wantErr)
		}
		if strings.Contains(err.Error(), "s3cret-pw") {
			t.Errorf("%s: Open() err = %v; it shows the password", tt.name, err)
		}
	}
}

// TestTablesInSearchPath: the tables go to the DSN's search_path schema.
func TestTablesInSearchPath(t *testing.T) {
	st := open(t)
	var schema string
	err := st.DB().QueryRowContext(t.Context(),
		`SELECT table_schema FROM information_schema.tables WHERE table_name = 'sessions' AND table_schema = current_schema()`).Scan(&schema)
	if err != nil || !strings.HasPrefix(schema, "orgsso_test_") {
		t.Errorf("sessions table in schema %q (%v); want the test's schema", schema, err)
	}
}

// TestSSONameLookupUsesIndex: looking an organization up by SSO name uses
// the partial unique index, not a scan.
func TestSSONameLookupUsesIndex(t *testing.T) {
	st := open(t)
	ctx := t.Context()
	conn, err := st.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.QueryContext(ctx, `EXPLAIN SELECT id FROM organizations WHERE sso_name = $1 AND sso_name <> ''`, "acme")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if !strings.Contains(plan.String(), "organizations_sso_name") {
		t.Errorf("plan does not use organizations_sso_name:\n%s", plan.String())
	}
}

// TestReplicas: several stores opening one new schema at once (replicas
// starting together) all succeed, the migrations are applied once, and the
// stores agree on what is used.
func TestReplicas(t *testing.T) {
	dsn := schemaDSN(t)
	const n = 6
	stores := make([]*sqlstore.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = postgres.Open(t.Context(), dsn)
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
	ctx := t.Context()
	var versions, rows int
	if err := stores[0].DB().QueryRowContext(ctx, `SELECT COUNT(DISTINCT version), COUNT(*) FROM schema_migrations`).Scan(&versions, &rows); err != nil {
		t.Fatal(err)
	}
	if versions != rows || rows == 0 {
		t.Errorf("schema_migrations has %d rows for %d versions; want one per version", rows, versions)
	}

	// Every replica races to use one assertion ID: one wins.
	wins := 0
	var mu sync.Mutex
	for i := range 10 * n {
		wg.Go(func() {
			err := stores[i%n].UseAssertion(ctx, "org1", "same-id", time.Now().Add(time.Minute))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, sso.ErrReplay):
				t.Errorf("UseAssertion() err = %v; want nil or ErrReplay", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d replicas used the assertion; want 1", wins)
	}
}

func TestSchemaTooNew(t *testing.T) {
	dsn := schemaDSN(t)
	ctx := t.Context()
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', '')`); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = postgres.Open(ctx, dsn)
	if err == nil {
		st.Close()
	}
	if !errors.Is(err, sqlstore.ErrSchemaTooNew) || !errors.Is(err, sqlstore.ErrMigration) {
		t.Errorf("Open(newer schema) err = %v; want ErrSchemaTooNew and ErrMigration", err)
	}
}

func TestClosed(t *testing.T) {
	ctx := t.Context()
	st, err := postgres.Open(ctx, schemaDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close() err = %v; want nil", err)
	}
	if err := st.Close(); err != nil {
		t.Errorf("second Close() err = %v; want nil", err)
	}
	if _, err := st.OrganizationBySSOName(ctx, "acme"); !errors.Is(err, sqlstore.ErrClosed) {
		t.Errorf("OrganizationBySSOName() after Close err = %v; want ErrClosed", err)
	}
}

// TestCancelMidQuery: a context cancelled while a query waits for a lock
// ends the call with the context's error, and the store keeps working.
func TestCancelMidQuery(t *testing.T) {
	st := open(t)
	ctx := t.Context()
	if err := st.SaveRequest(ctx, &sso.PendingRequest{ID: "r1", OrgID: "org1", ExpiresAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	// Another transaction holds the row.
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT * FROM pending_requests WHERE id = 'r1' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := st.ConsumeRequest(short, "r1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ConsumeRequest(blocked, deadline) err = %v; want DeadlineExceeded", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got, err := st.ConsumeRequest(ctx, "r1"); err != nil || got.OrgID != "org1" {
		t.Errorf("ConsumeRequest() after the lock err = %v; want the request", err)
	}
}

// TestNonUTF8Database: a database that cannot store every string is refused
// at Open, not at the first unusual name.
func TestNonUTF8Database(t *testing.T) {
	dsn := serverDSN(t)
	admin := adminDB(t, dsn)
	name := fmt.Sprintf("orgsso_test_latin1_%d", time.Now().UnixNano())
	if _, err := admin.ExecContext(t.Context(), `CREATE DATABASE `+name+` ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`); err != nil {
		admin.Close()
		t.Skipf("cannot create a LATIN1 database to test with: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP DATABASE ` + name + ` WITH (FORCE)`); err != nil {
			t.Errorf("DROP DATABASE: %v", err)
		}
		admin.Close()
	})
	st, err := postgres.Open(t.Context(), withDatabase(t, dsn, name))
	if err == nil {
		st.Close()
	}
	if !errors.Is(err, postgres.ErrEncoding) {
		t.Errorf("Open(LATIN1 database) err = %v; want ErrEncoding", err)
	}
}

// TestMigrateRequestBinding: a version-1 schema with a pending request
// upgrades to version 2 (binding_hash) and on; the old request keeps its
// fields, has no binding, and so matches no binding.
func TestMigrateRequestBinding(t *testing.T) {
	dsn := schemaDSN(t)
	ctx := t.Context()
	db := adminDB(t, dsn) // its search_path is the test's schema
	defer db.Close()
	migrationtest.ApplyBefore(t, db, filepath.Join("..", "sqlstore", "migrations", "postgres"), migrationtest.RequestBindingMigration,
		func(n int) string { return "$" + strconv.Itoa(n) })
	if _, err := db.ExecContext(ctx, `INSERT INTO pending_requests (id, org_id, return_to, tester_user_id, expires_at)
			VALUES ('old', 'org1', '/x', '', '2026-03-01T12:00:00.000000000Z')`); err != nil {
		t.Fatal(err)
	}
	st := openDSN(t, dsn)
	if _, err := st.ConsumeMatchingRequest(ctx, "old", "org1", strings.Repeat("0", 64)); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("ConsumeMatchingRequest(old request, some binding) err = %v; want ErrNotFound", err)
	}
	want := &sso.PendingRequest{ID: "old", OrgID: "org1", ReturnTo: "/x", ExpiresAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	if got, err := st.ConsumeRequest(ctx, "old"); err != nil || *got != *want {
		t.Errorf("ConsumeRequest(old) after migrating = %+v, %v; want %+v", got, err, want)
	}
}
