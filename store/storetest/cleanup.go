package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

var cleanupTests = []test{
	{"BeforeExpiry", cleanupAt(cleanup, t0.Add(-time.Nanosecond), nil, sso.ErrReplay, nil, 0)},
	{"AtExpiry", cleanupAt(cleanup, t0, nil, sso.ErrReplay, sso.ErrNotFound, 1)},
	{"AfterExpiry", cleanupAt(cleanup, t0.Add(time.Nanosecond), sso.ErrNotFound, nil, sso.ErrNotFound, 3)},
	{"KeepsLiveEntries", testCleanupKeepsLive},
	{"Counts", testCleanupCounts},
}

var cleanupBatchTests = []test{
	{"BeforeExpiry", cleanupAt(cleanupBatch, t0.Add(-time.Nanosecond), nil, sso.ErrReplay, nil, 0)},
	{"AtExpiry", cleanupAt(cleanupBatch, t0, nil, sso.ErrReplay, sso.ErrNotFound, 1)},
	{"AfterExpiry", cleanupAt(cleanupBatch, t0.Add(time.Nanosecond), sso.ErrNotFound, nil, sso.ErrNotFound, 3)},
	{"Batches", testCleanupBatches},
	{"LimitOne", testCleanupBatchLimitOne},
	{"InvalidLimit", testCleanupBatchInvalidLimit},
}

// A cleaner evicts what has expired at now, the one way or the other.
type cleaner func(ctx context.Context, st Store, now time.Time) (int, error)

func cleanup(ctx context.Context, st Store, now time.Time) (int, error) { return st.Cleanup(ctx, now) }

// cleanupBatch runs CleanupBatch with a limit no test reaches.
func cleanupBatch(ctx context.Context, st Store, now time.Time) (int, error) {
	return st.CleanupBatch(ctx, now, 1000)
}

// cleanupAt returns a test that stores a request, an assertion ID and a
// session, all expiring at t0, runs clean at now, and checks what is left:
// the errors of ConsumeRequest, UseAssertion (again) and Session after it,
// and the count.
func cleanupAt(clean cleaner, now time.Time, wantRequest, wantAssertion, wantSession error, wantN int) func(*testing.T, context.Context, Store) {
	return func(t *testing.T, ctx context.Context, st Store) {
		if err := st.SaveRequest(ctx, &sso.PendingRequest{ID: "r", OrgID: "org1", ExpiresAt: t0}); err != nil {
			t.Fatal(err)
		}
		if err := st.UseAssertion(ctx, "org1", "a", t0); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateSession(ctx, newSession("s", "org1", session.MethodSSO, t0)); err != nil {
			t.Fatal(err)
		}
		// Without Cleanup nothing is evicted, however late it is.
		if err := st.UseAssertion(ctx, "org1", "a", t0); !errors.Is(err, sso.ErrReplay) {
			t.Fatalf("UseAssertion() before Cleanup err = %v; want ErrReplay", err)
		}
		n, err := clean(ctx, st, now)
		if err != nil || n != wantN {
			t.Errorf("cleaning up at %v = %d, %v; want %d, nil", now, n, err, wantN)
		}
		if _, err := st.ConsumeRequest(ctx, "r"); !errors.Is(err, wantRequest) {
			t.Errorf("ConsumeRequest() err = %v; want %v", err, wantRequest)
		}
		if err := st.UseAssertion(ctx, "org1", "a", t0); !errors.Is(err, wantAssertion) {
			t.Errorf("UseAssertion() err = %v; want %v", err, wantAssertion)
		}
		if _, err := st.Session(ctx, "s"); !errors.Is(err, wantSession) {
			t.Errorf("Session() err = %v; want %v", err, wantSession)
		}
	}
}

// testCleanupKeepsLive: Cleanup evicts the expired entries and leaves every
// live one alone.
func testCleanupKeepsLive(t *testing.T, ctx context.Context, st Store) {
	for i, exp := range []time.Time{t0.Add(-time.Minute), t0.Add(time.Minute)} {
		id := []string{"old", "new"}[i]
		if err := st.SaveRequest(ctx, &sso.PendingRequest{ID: id, OrgID: "org1", ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
		if err := st.UseAssertion(ctx, "org1", id, exp); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateSession(ctx, newSession(id, "org1", session.MethodSSO, exp)); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := st.Cleanup(ctx, t0); err != nil || n != 3 {
		t.Fatalf("Cleanup() = %d, %v; want 3, nil", n, err)
	}
	if _, err := st.ConsumeRequest(ctx, "new"); err != nil {
		t.Errorf("ConsumeRequest(new) err = %v; want nil", err)
	}
	if err := st.UseAssertion(ctx, "org1", "new", t0); !errors.Is(err, sso.ErrReplay) {
		t.Errorf("UseAssertion(new) err = %v; want ErrReplay", err)
	}
	if _, err := st.Session(ctx, "new"); err != nil {
		t.Errorf("Session(new) err = %v; want nil", err)
	}
	if n, err := st.Cleanup(ctx, t0); err != nil || n != 0 {
		t.Errorf("second Cleanup() = %d, %v; want 0, nil", n, err)
	}
}

// testCleanupCounts: the count is the total over the three kinds, across
// organizations, and an empty store cleans up nothing.
func testCleanupCounts(t *testing.T, ctx context.Context, st Store) {
	if n, err := st.Cleanup(ctx, t0); err != nil || n != 0 {
		t.Fatalf("Cleanup(empty store) = %d, %v; want 0, nil", n, err)
	}
	// i expired requests, 2i expired assertion IDs and 3i expired sessions,
	// for organizations i = 1..3; plus one live of each.
	want := 0
	for i := 1; i <= 3; i++ {
		org := orgName(i)
		for j := range i {
			if err := st.SaveRequest(ctx, &sso.PendingRequest{ID: org + "-r" + orgName(j), OrgID: org, ExpiresAt: t0.Add(-time.Duration(j+1) * time.Second)}); err != nil {
				t.Fatal(err)
			}
		}
		for j := range 2 * i {
			if err := st.UseAssertion(ctx, org, orgName(j), t0.Add(-time.Duration(j+1)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		for j := range 3 * i {
			if err := st.CreateSession(ctx, newSession(org+"-s"+orgName(j), org, session.MethodSSO, t0.Add(-time.Duration(j)*time.Hour))); err != nil {
				t.Fatal(err)
			}
		}
		want += 6 * i
	}
	if err := st.SaveRequest(ctx, &sso.PendingRequest{ID: "live", OrgID: "org1", ExpiresAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := st.UseAssertion(ctx, "org1", "live", t0); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateSession(ctx, newSession("live", "org1", session.MethodSSO, t0.Add(time.Nanosecond))); err != nil {
		t.Fatal(err)
	}
	if n, err := st.Cleanup(ctx, t0); err != nil || n != want {
		t.Errorf("Cleanup() = %d, %v; want %d, nil", n, err, want)
	}
	if n, err := st.Cleanup(ctx, t0); err != nil || n != 0 {
		t.Errorf("second Cleanup() = %d, %v; want 0, nil", n, err)
	}
	if n, err := st.Cleanup(ctx, t0.Add(time.Nanosecond)); err != nil || n != 3 {
		t.Errorf("Cleanup(just after t0) = %d, %v; want 3 (the live ones), nil", n, err)
	}
}

// The backlog testCleanupBatches seeds: expired requests, assertion IDs and
// sessions, removed in batches of batchLimit. Each batch spans two kinds.
const (
	expiredRequests   = 90
	expiredAssertions = 80
	expiredSessions   = 80
	batchLimit        = 100
)

// testCleanupBatches: a backlog of expired entries is removed batchLimit at
// a time (the count of the last batch is what was left), live entries (at
// the boundaries, and ended sessions not yet expired) stay.
func testCleanupBatches(t *testing.T, ctx context.Context, st Store) {
	for i := range expiredRequests {
		if err := st.SaveRequest(ctx, &sso.PendingRequest{ID: fmt.Sprintf("r%03d", i), OrgID: orgName(i % 3), ExpiresAt: t0.Add(-time.Duration(i+1) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range expiredAssertions {
		if err := st.UseAssertion(ctx, orgName(i%3), fmt.Sprintf("a%03d", i), t0.Add(-time.Duration(i+1)*time.Nanosecond)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range expiredSessions {
		s := newSession(fmt.Sprintf("s%03d", i), orgName(i%3), session.MethodSSO, t0.Add(-time.Duration(i)*time.Minute))
		if i%2 == 1 {
			s.EndReason = session.EndRevoked
		}
		if err := st.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	// Live at t0: kept through the instant, or expiring after it.
	if err := st.SaveRequest(ctx, &sso.PendingRequest{ID: "live", OrgID: "org1", ExpiresAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := st.UseAssertion(ctx, "org1", "live", t0); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateSession(ctx, newSession("live", "org1", session.MethodSSO, t0.Add(time.Nanosecond))); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateSession(ctx, fullSession("live-ended", "org1", session.MethodSSO, t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}

	total := expiredRequests + expiredAssertions + expiredSessions
	var counts, want []int
	for left := total; ; left -= batchLimit {
		want = append(want, min(left, batchLimit))
		if left < batchLimit {
			break
		}
	}
	for range want {
		n, err := st.CleanupBatch(ctx, t0, batchLimit)
		if err != nil {
			t.Fatalf("CleanupBatch(t0, %d) err = %v; want nil", batchLimit, err)
		}
		counts = append(counts, n)
	}
	if !slices.Equal(counts, want) {
		t.Errorf("CleanupBatch(t0, %d) removed %v; want %v", batchLimit, counts, want)
	}
	// Nothing expired is left; the live entries are.
	if n, err := st.Cleanup(ctx, t0); err != nil || n != 0 {
		t.Errorf("Cleanup(t0) after the batches = %d, %v; want 0, nil", n, err)
	}
	if _, err := st.ConsumeRequest(ctx, "live"); err != nil {
		t.Errorf("ConsumeRequest(live) err = %v; want nil", err)
	}
	if err := st.UseAssertion(ctx, "org1", "live", t0); !errors.Is(err, sso.ErrReplay) {
		t.Errorf("UseAssertion(live) err = %v; want ErrReplay", err)
	}
	for _, id := range []string{"live", "live-ended"} {
		if _, err := st.Session(ctx, id); err != nil {
			t.Errorf("Session(%s) err = %v; want nil", id, err)
		}
	}
	if n, err := st.CleanupBatch(ctx, t0.Add(time.Hour), batchLimit); err != nil || n != 3 {
		t.Errorf("CleanupBatch(t0+1h) = %d, %v; want 3 (the live assertion ID and sessions), nil", n, err)
	}
}

// testCleanupBatchLimitOne: a limit of 1 removes one entry at a time, of
// whichever kind.
func testCleanupBatchLimitOne(t *testing.T, ctx context.Context, st Store) {
	if n, err := st.CleanupBatch(ctx, t0, 1); err != nil || n != 0 {
		t.Fatalf("CleanupBatch(empty store) = %d, %v; want 0, nil", n, err)
	}
	if err := st.SaveRequest(ctx, &sso.PendingRequest{ID: "r", OrgID: "org1", ExpiresAt: t0.Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	if err := st.UseAssertion(ctx, "org1", "a", t0.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateSession(ctx, newSession("s", "org1", session.MethodSSO, t0)); err != nil {
		t.Fatal(err)
	}
	var counts []int
	for range 4 {
		n, err := st.CleanupBatch(ctx, t0, 1)
		if err != nil {
			t.Fatalf("CleanupBatch(t0, 1) err = %v; want nil", err)
		}
		counts = append(counts, n)
	}
	if !slices.Equal(counts, []int{1, 1, 1, 0}) {
		t.Errorf("CleanupBatch(t0, 1) four times removed %v; want [1 1 1 0]", counts)
	}
}

// testCleanupBatchInvalidLimit: a limit below 1 is ErrInvalidArgument and
// removes nothing.
func testCleanupBatchInvalidLimit(t *testing.T, ctx context.Context, st Store) {
	if err := st.CreateSession(ctx, newSession("s", "org1", session.MethodSSO, t0)); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{0, -1, math.MinInt} {
		if n, err := st.CleanupBatch(ctx, t0, limit); !errors.Is(err, session.ErrInvalidArgument) || n != 0 {
			t.Errorf("CleanupBatch(t0, %d) = %d, %v; want 0, ErrInvalidArgument", limit, n, err)
		}
	}
	if _, err := st.Session(ctx, "s"); err != nil {
		t.Errorf("Session(s) after the refused cleanups err = %v; want nil", err)
	}
}
