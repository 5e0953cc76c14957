package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

var cleanupTests = []test{
	{"BeforeExpiry", cleanupAt(t0.Add(-time.Nanosecond), nil, sso.ErrReplay, nil, 0)},
	{"AtExpiry", cleanupAt(t0, nil, sso.ErrReplay, sso.ErrNotFound, 1)},
	{"AfterExpiry", cleanupAt(t0.Add(time.Nanosecond), sso.ErrNotFound, nil, sso.ErrNotFound, 3)},
	{"KeepsLiveEntries", testCleanupKeepsLive},
	{"Counts", testCleanupCounts},
}

// cleanupAt returns a test that stores a request, an assertion ID and a
// session, all expiring at t0, runs Cleanup at now, and checks what is left:
// the errors of ConsumeRequest, UseAssertion (again) and Session after it,
// and the count.
func cleanupAt(now time.Time, wantRequest, wantAssertion, wantSession error, wantN int) func(*testing.T, context.Context, Store) {
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
		n, err := st.Cleanup(ctx, now)
		if err != nil || n != wantN {
			t.Errorf("Cleanup(%v) = %d, %v; want %d, nil", now, n, err, wantN)
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
