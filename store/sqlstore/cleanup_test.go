package sqlstore_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/sqlstore"
)

// TestCleanupBatch: a batch takes at most limit rows, requests first, then
// assertion IDs, then sessions, by the expiry rules of Cleanup; a short
// batch means nothing is left.
func TestCleanupBatch(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func() *sqlstore.Store) {
		st, ctx := open(), t.Context()
		for i, exp := range []time.Time{t0.Add(-3 * time.Hour), t0.Add(-time.Nanosecond), t0.Add(-time.Hour), t0} {
			if err := st.SaveRequest(ctx, &sso.PendingRequest{ID: fmt.Sprint("r", i), OrgID: "org1", ExpiresAt: exp}); err != nil {
				t.Fatal(err)
			}
		}
		for i, exp := range []time.Time{t0.Add(-time.Nanosecond), t0.Add(-time.Hour), t0} {
			if err := st.UseAssertion(ctx, "org1", fmt.Sprint("a", i), exp); err != nil {
				t.Fatal(err)
			}
		}
		for i, exp := range []time.Time{t0, t0.Add(-time.Hour), t0.Add(-time.Nanosecond), t0.Add(-2 * time.Hour), t0.Add(time.Nanosecond)} {
			s := sess(fmt.Sprint("s", i), "org1", "u1", session.MethodSSO, exp)
			if i == 1 {
				s.EndReason = session.EndRevoked // ended sessions go at their expiry like any other
			}
			if err := st.CreateSession(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		// Expired at t0: r0-r2, a0-a1, s0-s3: 9 rows.
		tests := []struct {
			limit, want int
			wantErr     error
		}{
			{0, 0, sqlstore.ErrInvalidArgument},
			{-1, 0, sqlstore.ErrInvalidArgument},
			{4, 4, nil}, // r0-r2, one assertion
			{4, 4, nil}, // the other assertion, three sessions
			{4, 1, nil}, // the last session: short, so none left
			{4, 0, nil},
			{1, 0, nil},
		}
		for i, tt := range tests {
			n, err := st.CleanupBatch(ctx, t0, tt.limit)
			if n != tt.want || !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("#%d: CleanupBatch(t0, %d) = %d, %v; want %d, %v", i, tt.limit, n, err, tt.want, tt.wantErr)
			}
		}
		if _, err := st.ConsumeRequest(ctx, "r3"); err != nil {
			t.Errorf("ConsumeRequest(r3, expiring at t0) err = %v; want it kept", err)
		}
		if err := st.UseAssertion(ctx, "org1", "a2", t0); !errors.Is(err, sso.ErrReplay) {
			t.Errorf("UseAssertion(a2, until t0) err = %v; want ErrReplay: kept", err)
		}
		if _, err := st.Session(ctx, "s4"); err != nil {
			t.Errorf("Session(s4, expiring after t0) err = %v; want it kept", err)
		}
		for _, id := range []string{"s0", "s1", "s2", "s3"} {
			if _, err := st.Session(ctx, id); !errors.Is(err, session.ErrNotFound) {
				t.Errorf("Session(%s) err = %v; want ErrNotFound: expired at t0", id, err)
			}
		}
	})
}

// fillExpired inserts n expired pending requests, used assertion IDs and
// sessions each, with IDs prefix0…, directly in SQL (a recursive CTE, which
// both dialects run).
func fillExpired(t *testing.T, st *sqlstore.Store, prefix string, n int) {
	t.Helper()
	cte := fmt.Sprintf(`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < %d) `, n)
	execSQL(t, st.DB(),
		cte+`INSERT INTO pending_requests (id, org_id, return_to, tester_user_id, expires_at, binding_hash)
			SELECT '`+prefix+`' || i, 'org1', '/', '', '2026-01-01T00:00:00.000000000Z', '' FROM seq`,
		cte+`INSERT INTO used_assertions (org_id, assertion_id, until)
			SELECT 'org1', '`+prefix+`' || i, '2026-01-01T00:00:00.000000000Z' FROM seq`,
		cte+`INSERT INTO sessions (id, org_id, user_id, method, created_at, expires_at)
			SELECT '`+prefix+`' || i, 'org1', 'u1', 'sso', '2026-01-01T00:00:00.000000000Z', '2026-01-01T00:00:00.000000000Z' FROM seq`)
}

// TestCleanupManyBatches: Cleanup and DeleteExpiredSessions go through more
// rows than a batch holds and count them all.
func TestCleanupManyBatches(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func() *sqlstore.Store) {
		st, ctx := open(), t.Context()
		const n = 2*sqlstore.CleanupBatchSize + 7
		fillExpired(t, st, "x", n)
		if got, err := st.DeleteExpiredSessions(ctx, t0); err != nil || got != n {
			t.Errorf("DeleteExpiredSessions() = %d, %v; want %d", got, err, n)
		}
		fillExpired(t, st, "y", n)
		// The requests and assertion IDs of x, everything of y.
		if got, err := st.Cleanup(ctx, t0); err != nil || got != 5*n {
			t.Errorf("Cleanup() = %d, %v; want %d", got, err, 5*n)
		}
		if got, err := st.Cleanup(ctx, t0); err != nil || got != 0 {
			t.Errorf("second Cleanup() = %d, %v; want 0", got, err)
		}
	})
}

// TestCleanupConcurrently: cleaners on several handles of one database,
// at once, remove everything expired between them and count each row once.
func TestCleanupConcurrently(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func() *sqlstore.Store) {
		stores := []*sqlstore.Store{open(), open()}
		const n = 3 * sqlstore.CleanupBatchSize
		fillExpired(t, stores[0], "x", n)
		const cleaners = 4
		counts := make([]int, cleaners)
		errs := make([]error, cleaners)
		var wg sync.WaitGroup
		for i := range cleaners {
			wg.Go(func() {
				for {
					k, err := stores[i%2].CleanupBatch(t.Context(), t0, 250)
					counts[i] += k
					if err != nil || k == 0 {
						errs[i] = err
						return
					}
				}
			})
		}
		wg.Wait()
		total := 0
		for i := range cleaners {
			total += counts[i]
			if errs[i] != nil {
				t.Errorf("cleaner %d err = %v", i, errs[i])
			}
		}
		if total != 3*n {
			t.Errorf("the cleaners removed %d rows between them; want %d", total, 3*n)
		}
		if k, err := stores[1].Cleanup(t.Context(), t0); k != 0 || err != nil {
			t.Errorf("Cleanup() after them = %d, %v; want 0", k, err)
		}
	})
}
