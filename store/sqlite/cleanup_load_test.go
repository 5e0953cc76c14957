package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/sqlstore"
)

// loadBacklog is the backlog of TestCleanupUnderLoad, 1.3 million rows, by
// table. It is what a flood of abandoned sign-ins leaves, the backlog anyone
// can cause: mostly pending requests. (Expired sessions cost the most to
// remove, a page of each of their three secondary indexes per session, and
// a million of them would not clean up in a test's time.)
var loadBacklog = []struct {
	table string
	rows  int
	// fill inserts rows rows from the CTE seq(i): keys ascending with i,
	// expiry a few days before the test's now, so a batch removes a
	// stretch of the primary key and of the expiry index; the other
	// indexes are hit where their keys fall.
	fill string
}{
	{"pending_requests", 1_000_000, `INSERT INTO pending_requests (id, org_id, return_to, tester_user_id, expires_at, binding_hash)
		SELECT printf('req-%07d', i), 'org' || (i % 50), '/app', '', '2026-01-0' || (i % 9 + 1) || 'T00:00:00.000000000Z', '' FROM seq`},
	{"used_assertions", 150_000, `INSERT INTO used_assertions (org_id, assertion_id, until)
		SELECT 'org' || (i % 50), printf('_assertion-%07d', i), '2026-01-0' || (i % 9 + 1) || 'T00:00:00.000000000Z' FROM seq`},
	{"sessions", 150_000, `INSERT INTO sessions (id, org_id, user_id, method, created_at, expires_at)
		SELECT printf('%064x', i), 'org' || (i % 50), 'user-' || (i % 5000), 'sso',
			'2026-01-01T00:00:00.000000000Z', '2026-01-0' || (i % 9 + 1) || 'T00:00:00.000000000Z' FROM seq`},
}

const (
	loadBatch   = 1000 // rows per CleanupBatch
	loadWriters = 4
	// loadOpTimeout is each writer call's deadline, as a sign-in request's
	// would be; under the race detector it is raceSlowdown times longer.
	loadOpTimeout = 2 * time.Second
	// raceSlowdown is about how much slower the pure-Go SQLite engine runs
	// under the race detector (measured: 10 to 15 times).
	raceSlowdown = 10
	// loadShortDiv divides the backlog under -race (as CI runs the tests)
	// and -short.
	loadShortDiv = 50
)

// fillBacklog inserts loadBacklog (each count divided by div), in one
// transaction on one connection with a large page cache, with the tables'
// secondary indexes dropped during the insert and built again after it
// from their own definitions (sqlite_master): a million rows take seconds.
// It returns how many rows it inserted.
func fillBacklog(t *testing.T, st *sqlstore.Store, div int) int {
	t.Helper()
	ctx := t.Context()
	conn, err := st.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var cacheSize int
	if err := conn.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&cacheSize); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%.80s: %v", q, err)
		}
	}
	exec(`PRAGMA cache_size = -262144`) // 256 MiB, this connection only
	defer exec(`PRAGMA cache_size = ` + strconv.Itoa(cacheSize))

	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	txExec := func(q string, args ...any) {
		t.Helper()
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%.80s: %v", q, err)
		}
	}
	type index struct{ name, sql string }
	var indexes []index
	rows, err := tx.QueryContext(ctx, `SELECT name, sql FROM sqlite_master
		WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('pending_requests', 'used_assertions', 'sessions')`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var ix index
		if err := rows.Scan(&ix.name, &ix.sql); err != nil {
			t.Fatal(err)
		}
		indexes = append(indexes, ix)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	for _, ix := range indexes {
		txExec(`DROP INDEX ` + ix.name)
	}
	total := 0
	for _, b := range loadBacklog {
		n := b.rows / div
		txExec(`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?) `+b.fill, n)
		total += n
	}
	for _, ix := range indexes {
		txExec(ix.sql)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	exec(`PRAGMA wal_checkpoint(TRUNCATE)`) // start from a database at rest
	return total
}

// TestCleanupUnderLoad: a database file with a large backlog of expired
// rows (loadBacklog: 1.3 million pending requests, used assertion IDs and
// sessions) is cleaned up with CleanupBatch, 1000 rows a call, looping until
// a short batch, while 4 goroutines keep making sign-in-shaped writes
// (SaveRequest, ConsumeMatchingRequest, UseAssertion, CreateSession) as
// fast as they can, each call with a 2 s deadline. No write may fail; then
// nothing expired is left, and every write is there.
//
// Under the race detector (CI runs go test -race) and with -short, the
// backlog is a fiftieth (26,000 rows, 26 batches) and the deadline is ten
// times longer, as the engine is about ten times slower; the full 1.3
// million rows run in a plain go test. The figures (fill time, cleanup
// time, slowest batch, writer latencies) are logged, not asserted:
//
//	go test -v -count=1 -run CleanupUnderLoad ./store/sqlite/
func TestCleanupUnderLoad(t *testing.T) {
	div, opTimeout := 1, loadOpTimeout
	if raceEnabled || testing.Short() {
		div = loadShortDiv
	}
	if raceEnabled {
		opTimeout *= raceSlowdown
	}
	ctx := t.Context()
	st := open(t, filepath.Join(t.TempDir(), "orgsso.db"))
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC) // after every expiry of the backlog
	fillStart := time.Now()
	backlog := fillBacklog(t, st, div)
	fill := time.Since(fillStart)
	if got := expiredCount(t, st, now); got != backlog {
		t.Fatalf("%d expired rows after filling; want %d", got, backlog)
	}

	// The writers run until the cleaner is done.
	done := make(chan struct{})
	type writerStats struct {
		ops       int
		errs      []error
		latencies []time.Duration
	}
	stats := make([]writerStats, loadWriters)
	var wg sync.WaitGroup
	for w := range loadWriters {
		wg.Go(func() {
			s := &stats[w]
			call := func(f func(ctx context.Context) error) {
				opCtx, cancel := context.WithTimeout(ctx, opTimeout)
				defer cancel()
				start := time.Now()
				err := f(opCtx)
				s.latencies = append(s.latencies, time.Since(start))
				s.ops++
				if err != nil {
					s.errs = append(s.errs, err)
				}
			}
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				id := fmt.Sprintf("live-%d-%d", w, i)
				binding := fmt.Sprintf("%064d", i)
				call(func(ctx context.Context) error {
					return st.SaveRequest(ctx, &sso.PendingRequest{ID: id, OrgID: "org1", ReturnTo: "/app",
						ExpiresAt: now.Add(10 * time.Minute), BindingHash: binding})
				})
				call(func(ctx context.Context) error {
					_, err := st.ConsumeMatchingRequest(ctx, id, "org1", binding)
					return err
				})
				call(func(ctx context.Context) error { return st.UseAssertion(ctx, "org1", id, now.Add(10*time.Minute)) })
				call(func(ctx context.Context) error {
					return st.CreateSession(ctx, &session.Session{ID: id, OrgID: "org1", UserID: "u", Method: session.MethodSSO,
						CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
				})
			}
		})
	}

	cleanStart := time.Now()
	removed, batches := 0, 0
	var slowest time.Duration
	var cleanErr error
	for {
		start := time.Now()
		n, err := st.CleanupBatch(ctx, now, loadBatch)
		slowest = max(slowest, time.Since(start))
		batches++
		removed += n

		if err != nil || n < loadBatch {
			cleanErr = err
			break
		}
	}
	clean := time.Since(cleanStart)
	close(done)
	wg.Wait()

	if cleanErr != nil {
		t.Errorf("CleanupBatch err = %v", cleanErr)
	}
	if removed != backlog {
		t.Errorf("the batches removed %d rows; want %d", removed, backlog)
	}
	if got := expiredCount(t, st, now); got != 0 {
		t.Errorf("%d expired rows left after the cleanup; want 0", got)
	}
	var ops, sessions int
	var all []time.Duration
	for w, s := range stats {
		ops += s.ops
		sessions += s.ops / 4
		all = append(all, s.latencies...)
		for i, err := range s.errs {
			if i == 5 {
				t.Errorf("writer %d: %d errors in all", w, len(s.errs))
				break
			}
			t.Errorf("writer %d: err = %v", w, err)
		}
	}
	// Every writer's session and assertion ID is there, and nothing else
	// is; every writer's request was consumed.
	for table, want := range map[string]int{"sessions": sessions, "used_assertions": sessions, "pending_requests": 0} {
		var n int
		if err := st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil || n != want {
			t.Errorf("%s has %d rows after the cleanup (%v); want the writers' %d", table, n, err, want)
		}
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(float64(len(all))*p))]
	}
	t.Logf("race detector: %v, short: %v; %d expired rows filled in %v", raceEnabled, testing.Short(), backlog, fill.Round(time.Millisecond))
	t.Logf("cleanup: %d rows in %d batches of %d in %v (%.0f rows/s); slowest batch %v",
		removed, batches, loadBatch, clean.Round(time.Millisecond), float64(removed)/clean.Seconds(), slowest.Round(time.Microsecond))
	t.Logf("writers: %d calls meanwhile (%.0f/s); latency p50 %v, p99 %v, p99.9 %v, max %v",
		ops, float64(ops)/clean.Seconds(), pct(0.5), pct(0.99), pct(0.999), pct(1))
}

// expiredCount counts the rows of the three tables that are expired at now.
func expiredCount(t *testing.T, st *sqlstore.Store, now time.Time) int {
	t.Helper()
	bound := now.UTC().Format("2006-01-02T15:04:05.000000000Z")
	var n int
	err := st.DB().QueryRowContext(t.Context(), `SELECT
		(SELECT COUNT(*) FROM pending_requests WHERE expires_at < ?1) +
		(SELECT COUNT(*) FROM used_assertions WHERE until < ?1) +
		(SELECT COUNT(*) FROM sessions WHERE expires_at <= ?1)`, bound).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
