package memory_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/memory"
)

func TestRequests(t *testing.T) {
	ctx := t.Context()
	st := memory.New()
	r1 := &sso.PendingRequest{ID: "id-1", OrgID: "org1", ReturnTo: "/dash", ExpiresAt: t0.Add(time.Minute)}
	r2 := &sso.PendingRequest{ID: "id-2", OrgID: "org1", TesterUserID: "owner", ExpiresAt: t0.Add(-time.Hour)}

	steps := []struct {
		name    string
		save    *sso.PendingRequest // else consume
		consume string
		want    *sso.PendingRequest
		wantErr error
	}{
		{name: "save r1", save: r1},
		{name: "save r2", save: r2},
		{name: "save r1 again", save: r1, wantErr: memory.ErrDuplicateID},
		{name: "save same ID, other org", save: &sso.PendingRequest{ID: "id-1", OrgID: "org2"}, wantErr: memory.ErrDuplicateID},
		{name: "consume r1", consume: "id-1", want: r1},
		{name: "consume r1 again", consume: "id-1", wantErr: sso.ErrNotFound},
		{name: "consume an expired request", consume: "id-2", want: r2},
		{name: "consume unknown", consume: "id-3", wantErr: sso.ErrNotFound},
		{name: "consume empty ID", consume: "", wantErr: sso.ErrNotFound},
		{name: "consumed ID may be saved again", save: r1},
		{name: "and consumed again", consume: "id-1", want: r1},
	}
	for _, s := range steps {
		if s.save != nil {
			if err := st.SaveRequest(ctx, s.save); !errors.Is(err, s.wantErr) {
				t.Fatalf("%s: SaveRequest() err = %v; want %v", s.name, err, s.wantErr)
			}
			continue
		}
		got, err := st.ConsumeRequest(ctx, s.consume)
		if !errors.Is(err, s.wantErr) {
			t.Fatalf("%s: ConsumeRequest(%q) err = %v; want %v", s.name, s.consume, err, s.wantErr)
		}
		if !reflect.DeepEqual(got, s.want) {
			t.Errorf("%s: ConsumeRequest(%q) = %+v; want %+v", s.name, s.consume, got, s.want)
		}
		if got != nil && got == s.want {
			t.Errorf("%s: ConsumeRequest returned the saved pointer", s.name)
		}
	}
}

func TestUseAssertion(t *testing.T) {
	ctx := t.Context()
	st := memory.New()
	until := t0.Add(5 * time.Minute)
	steps := []struct {
		name               string
		orgID, assertionID string
		wantErr            error
	}{
		{name: "first use", orgID: "org1", assertionID: "a1"},
		{name: "replay", orgID: "org1", assertionID: "a1", wantErr: sso.ErrReplay},
		{name: "replay again", orgID: "org1", assertionID: "a1", wantErr: sso.ErrReplay},
		{name: "same ID, other org", orgID: "org2", assertionID: "a1"},
		{name: "replay in other org", orgID: "org2", assertionID: "a1", wantErr: sso.ErrReplay},
		{name: "other ID", orgID: "org1", assertionID: "a2"},
		{name: "IDs are case-sensitive", orgID: "org1", assertionID: "A1"},
		{name: "empty org ID", orgID: "", assertionID: "a3", wantErr: memory.ErrInvalidArgument},
		{name: "empty assertion ID", orgID: "org1", assertionID: "", wantErr: memory.ErrInvalidArgument},
	}
	for _, s := range steps {
		err := st.UseAssertion(ctx, s.orgID, s.assertionID, until)
		if !errors.Is(err, s.wantErr) {
			t.Errorf("%s: UseAssertion(%q, %q) err = %v; want %v", s.name, s.orgID, s.assertionID, err, s.wantErr)
		}
	}
}

// TestCleanup checks what Cleanup evicts at a given instant, and that
// eviction happens only then.
func TestCleanup(t *testing.T) {
	ctx := t.Context()
	tests := []struct {
		name          string
		now           time.Time
		wantRequest   error // ConsumeRequest after Cleanup
		wantAssertion error // UseAssertion again after Cleanup
		wantSession   error // Session after Cleanup
		wantN         int
	}{
		// The request, assertion and session all expire at t0.
		{name: "before expiry", now: t0.Add(-time.Nanosecond),
			wantAssertion: sso.ErrReplay},
		{name: "at expiry: session only", now: t0,
			wantAssertion: sso.ErrReplay, wantSession: sso.ErrNotFound, wantN: 1},
		{name: "after expiry", now: t0.Add(time.Nanosecond),
			wantRequest: sso.ErrNotFound, wantSession: sso.ErrNotFound, wantN: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := memory.New()
			if err := st.SaveRequest(ctx, &sso.PendingRequest{ID: "r", OrgID: "org1", ExpiresAt: t0}); err != nil {
				t.Fatal(err)
			}
			if err := st.UseAssertion(ctx, "org1", "a", t0); err != nil {
				t.Fatal(err)
			}
			if err := st.CreateSession(ctx, newSession("s", "org1", "sso", t0)); err != nil {
				t.Fatal(err)
			}
			// Without Cleanup nothing is evicted, however late it is.
			if err := st.UseAssertion(ctx, "org1", "a", t0); !errors.Is(err, sso.ErrReplay) {
				t.Fatalf("UseAssertion() before Cleanup err = %v; want ErrReplay", err)
			}

			n, err := st.Cleanup(ctx, tt.now)
			if err != nil || n != tt.wantN {
				t.Errorf("Cleanup(%v) = %d, %v; want %d, nil", tt.now, n, err, tt.wantN)
			}
			if _, err := st.ConsumeRequest(ctx, "r"); !errors.Is(err, tt.wantRequest) {
				t.Errorf("ConsumeRequest() err = %v; want %v", err, tt.wantRequest)
			}
			if err := st.UseAssertion(ctx, "org1", "a", t0); !errors.Is(err, tt.wantAssertion) {
				t.Errorf("UseAssertion() err = %v; want %v", err, tt.wantAssertion)
			}
			if _, err := st.Session(ctx, "s"); !errors.Is(err, tt.wantSession) {
				t.Errorf("Session() err = %v; want %v", err, tt.wantSession)
			}
		})
	}
}

// TestCleanupKeepsLiveEntries: Cleanup of one organization's expired entries
// leaves every live one alone.
func TestCleanupKeepsLiveEntries(t *testing.T) {
	ctx := t.Context()
	st := memory.New()
	for i, exp := range []time.Time{t0.Add(-time.Minute), t0.Add(time.Minute)} {
		id := []string{"old", "new"}[i]
		if err := st.SaveRequest(ctx, &sso.PendingRequest{ID: id, OrgID: "org1", ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
		if err := st.UseAssertion(ctx, "org1", id, exp); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateSession(ctx, newSession(id, "org1", "sso", exp)); err != nil {
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
