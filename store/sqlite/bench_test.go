package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/store/sqlite"
	"github.com/orgsso/orgsso/store/sqlstore"
)

// benchNow is the benchmarks' clock.
var benchNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// storedTime is how sqlstore stores a time; the seeding below writes rows
// directly, for speed.
func storedTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

// insertRows inserts rows (each a slice of column values) into table in
// one transaction, many rows per statement.
func insertRows(ctx context.Context, db *sql.DB, table, columns string, rows func(yield func([]any) bool)) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ncol := strings.Count(columns, ",") + 1
	const perStmt = 500
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", ncol), ",") + ")"
	full := "INSERT INTO " + table + " (" + columns + ") VALUES " + strings.TrimSuffix(strings.Repeat(one+",", perStmt), ",")
	stmt, err := tx.PrepareContext(ctx, full)
	if err != nil {
		return err
	}
	defer stmt.Close()
	batch := make([]any, 0, perStmt*ncol)
	flush := func(st *sql.Stmt) error {
		_, err := st.ExecContext(ctx, batch...)
		batch = batch[:0]
		return err
	}
	for row := range rows {
		batch = append(batch, row...)
		if len(batch) == cap(batch) {
			if err := flush(stmt); err != nil {
				return err
			}
		}
	}
	if n := len(batch) / ncol; n > 0 {
		last, err := tx.PrepareContext(ctx, "INSERT INTO "+table+" ("+columns+") VALUES "+strings.TrimSuffix(strings.Repeat(one+",", n), ","))
		if err != nil {
			return err
		}
		defer last.Close()
		if err := flush(last); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// seedSessions adds n sessions of random IDs, as a busy table would hold.
func seedSessions(b *testing.B, db *sql.DB, n int) {
	b.Helper()
	expires := storedTime(benchNow.Add(time.Hour))
	created := storedTime(benchNow)
	err := insertRows(b.Context(), db, "sessions", "id, org_id, user_id, method, created_at, expires_at", func(yield func([]any) bool) {
		for i := range n {
			id := fmt.Sprintf("%016x%016x%016x%016x", rand.Uint64(), rand.Uint64(), rand.Uint64(), rand.Uint64())
			if !yield([]any{id, fmt.Sprintf("org%d", i%1000), fmt.Sprintf("user%d", i), session.MethodSSO, created, expires}) {
				return
			}
		}
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSessionValidate measures session.Manager.Validate, the lookup
// behind every authenticated request, on a database file holding 10,000
// sessions (as store/memory's BenchmarkSession).
func BenchmarkSessionValidate(b *testing.B) {
	st, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "orgsso.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	seedSessions(b, st.DB(), 10_000)
	m := session.NewManager(st, session.WithClock(func() time.Time { return benchNow }))
	const tokens = 100
	toks := make([]string, tokens)
	for i := range toks {
		if _, toks[i], err = m.Create(b.Context(), "org1", "user1", session.MethodSSO, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	ctx := b.Context()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := m.Validate(ctx, toks[i%tokens]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := rand.IntN(tokens)
			for pb.Next() {
				if _, err := m.Validate(ctx, toks[i%tokens]); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
}

// seededDB returns the path of a database file holding orgs organizations
// with members members spread over them, made once and kept in
// os.TempDir() for later runs (delete orgsso-bench-*.db there to rebuild).
// Organization i has the SSO name fmt.Sprintf("org-%d", i).
func seededDB(b *testing.B, orgs, members int) string {
	b.Helper()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("orgsso-bench-v1-orgs%d-members%d.db", orgs, members))
	if _, err := os.Stat(path); err == nil {
		return path
	} else if !errors.Is(err, fs.ErrNotExist) {
		b.Fatal(err)
	}
	// Seed a file of this process's own, then rename it into place: a run
	// that is interrupted, or runs beside another, leaves no half-seeded
	// file under the final name.
	tmp := fmt.Sprintf("%s.seeding-%d", path, os.Getpid())
	start := time.Now()
	st, err := sqlite.Open(b.Context(), tmp)
	if err != nil {
		b.Fatal(err)
	}
	defer os.Remove(tmp)
	ctx := b.Context()
	cert := "[\"-----BEGIN CERTIFICATE-----\\n" + strings.Repeat(strings.Repeat("M", 64)+"\\n", 16) + "-----END CERTIFICATE-----\\n\"]"
	mappings := `[{"idp_role":"admins","org_role":"admin","stack_roles":{"stack1":["developer","admin"]}},{"idp_role":"devs","org_role":"member","stack_roles":null}]`
	attrs := `{"email":null,"first_name":null,"last_name":null,"roles":["groups"]}`
	err = insertRows(ctx, st.DB(), "organizations", `id, sso_name, owner_id, enabled, idp_entity_id, idp_sso_url,
		idp_certificates, idp_signature_algorithm, strict_mode, session_timeout_ns,
		role_mapping_enabled, role_delimiter, role_mappings, jit_provisioning, allow_idp_initiated, attributes`,
		func(yield func([]any) bool) {
			for i := range orgs {
				id := fmt.Sprintf("org-id-%d", i)
				if !yield([]any{id, fmt.Sprintf("org-%d", i), "owner-" + id, 1, "https://idp.example.com/" + id,
					"https://idp.example.com/" + id + "/sso", cert, "", 1, int64(12 * time.Hour), 1, ",", mappings, 0, 0, attrs}) {
					return
				}
			}
		})
	if err != nil {
		b.Fatal(err)
	}
	err = insertRows(ctx, st.DB(), "members", "org_id, email_key, email, user_id, first_name, last_name, org_role, stack_roles, allow_without_sso",
		func(yield func([]any) bool) {
			for i := range members {
				org := fmt.Sprintf("org-id-%d", i%orgs)
				email := fmt.Sprintf("user%d@example.com", i)
				if !yield([]any{org, email, email, fmt.Sprintf("u%d", i), "Ada", "Lovelace", "member", `{"stack1":["developer"]}`, 0}) {
					return
				}
			}
		})
	if err != nil {
		b.Fatal(err)
	}
	if err := st.Close(); err != nil { // checkpoints the WAL into the file
		b.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %s in %v", path, time.Since(start).Round(time.Millisecond))
	return path
}

// BenchmarkOrganizationBySSOName measures the lookup at the start of every
// SSO sign-in, on a small and a large database, names picked at random.
func BenchmarkOrganizationBySSOName(b *testing.B) {
	for _, size := range []struct{ orgs, members int }{{1_000, 0}, {100_000, 1_000_000}} {
		b.Run(fmt.Sprintf("orgs=%d/members=%d", size.orgs, size.members), func(b *testing.B) {
			st, err := sqlite.Open(b.Context(), seededDB(b, size.orgs, size.members))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			benchOrgLookup(b, st, size.orgs)
		})
	}
}

func benchOrgLookup(b *testing.B, st *sqlstore.Store, orgs int) {
	ctx := b.Context()
	names := make([]string, 4096)
	for i := range names {
		names[i] = fmt.Sprintf("org-%d", rand.IntN(orgs))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := st.OrganizationBySSOName(ctx, names[i%len(names)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
