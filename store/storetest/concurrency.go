package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

var concurrencyTests = []test{
	{"ConsumeRequest", testConsumeRequestConcurrently},
	{"ConsumeMatchingRequest", testConsumeMatchingRequestConcurrently},
	{"UseAssertionOneOrg", testUseAssertionOneOrgConcurrently},
	{"UseAssertionTwoOrgs", testUseAssertionTwoOrgsConcurrently},
	{"SSOName", testSSONameConcurrently},
	{"CreateSession", testCreateSessionConcurrently},
	{"Mixed", testMixedConcurrently},
}

// raceConsume runs consume in racers goroutines and returns each caller's
// error and the requests the winners got.
func raceConsume(consume func(i int) (*sso.PendingRequest, error)) ([]error, []*sso.PendingRequest) {
	var mu sync.Mutex
	var got []*sso.PendingRequest
	errs := race(func(i int) error {
		r, err := consume(i)
		if err == nil {
			mu.Lock()
			got = append(got, r)
			mu.Unlock()
		}
		return err
	})
	return errs, got
}

// testConsumeRequestConcurrently: racers goroutines consume one request;
// exactly one gets it.
func testConsumeRequestConcurrently(t *testing.T, ctx context.Context, st Store) {
	want := fullRequest("id-1", "org1")
	if err := st.SaveRequest(ctx, want); err != nil {
		t.Fatal(err)
	}
	errs, got := raceConsume(func(int) (*sso.PendingRequest, error) { return st.ConsumeRequest(ctx, "id-1") })
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, sso.ErrNotFound):
			t.Errorf("ConsumeRequest() err = %v; want nil or ErrNotFound", err)
		}
	}
	if wins != 1 || len(got) != 1 || got[0].ID != want.ID || got[0].OrgID != want.OrgID {
		t.Errorf("%d of %d ConsumeRequest calls won (%v); want exactly 1", wins, racers, got)
	}
}

// testConsumeMatchingRequestConcurrently: racers goroutines try to consume
// one request, a third of them with its organization and binding, the others
// from another organization or with another binding: exactly one of the
// matching callers gets it, every other caller gets ErrNotFound.
func testConsumeMatchingRequestConcurrently(t *testing.T, ctx context.Context, st Store) {
	want := fullRequest("id-1", "org1")
	if err := st.SaveRequest(ctx, want); err != nil {
		t.Fatal(err)
	}
	args := func(i int) (orgID, binding string) {
		switch i % 3 {
		case 0:
			return "org1", want.BindingHash
		case 1:
			return "org2", want.BindingHash
		}
		return "org1", bindingHashOf("other")
	}
	errs, got := raceConsume(func(i int) (*sso.PendingRequest, error) {
		org, binding := args(i)
		return st.ConsumeMatchingRequest(ctx, "id-1", org, binding)
	})
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil && i%3 != 0:
			t.Errorf("caller %d with a mismatch (%d) got the request", i, i%3)
		case err == nil:
			wins++
		case !errors.Is(err, sso.ErrNotFound):
			t.Errorf("ConsumeMatchingRequest() err = %v; want nil or ErrNotFound", err)
		}
	}
	if wins != 1 || len(got) != 1 || got[0].ID != want.ID || got[0].OrgID != want.OrgID || got[0].BindingHash != want.BindingHash {
		t.Errorf("%d of %d ConsumeMatchingRequest calls won (%v); want exactly 1", wins, racers, got)
	}
}

// countReplays counts nil errors and ErrReplay errors, failing t on others.
func countReplays(t *testing.T, errs []error, org func(i int) string) (wins map[string]int, replays int) {
	t.Helper()
	wins = map[string]int{}
	for i, err := range errs {
		switch {
		case err == nil:
			wins[org(i)]++
		case errors.Is(err, sso.ErrReplay):
			replays++
		default:
			t.Errorf("UseAssertion() err = %v; want nil or ErrReplay", err)
		}
	}
	return wins, replays
}

func testUseAssertionOneOrgConcurrently(t *testing.T, ctx context.Context, st Store) {
	errs := race(func(int) error { return st.UseAssertion(ctx, "org1", "same-id", t0) })
	wins, replays := countReplays(t, errs, func(int) string { return "org1" })
	if wins["org1"] != 1 || replays != racers-1 {
		t.Errorf("UseAssertion: %d nil, %d ErrReplay; want 1 and %d", wins["org1"], replays, racers-1)
	}
}

// testUseAssertionTwoOrgsConcurrently: two organizations race on the same
// assertion ID: one winner in each.
func testUseAssertionTwoOrgsConcurrently(t *testing.T, ctx context.Context, st Store) {
	org := func(i int) string { return fmt.Sprintf("org%d", i%2) }
	errs := race(func(i int) error { return st.UseAssertion(ctx, org(i), "same-id", t0) })
	wins, replays := countReplays(t, errs, org)
	if wins["org0"] != 1 || wins["org1"] != 1 || replays != racers-2 {
		t.Errorf("wins per org = %v, replays = %d; want 1 each and %d", wins, replays, racers-2)
	}
}

// testSSONameConcurrently: racers new organizations claim one SSO name;
// exactly one gets it, the others ErrSSONameTaken.
func testSSONameConcurrently(t *testing.T, ctx context.Context, st Store) {
	errs := race(func(i int) error {
		return st.SaveOrganization(ctx, fullOrg(fmt.Sprintf("org%d", i), "acme"))
	})
	winner := ""
	for i, err := range errs {
		switch {
		case err == nil:
			if winner != "" {
				t.Errorf("org%d and %s both took the name", i, winner)
			}
			winner = fmt.Sprintf("org%d", i)
		case !errors.Is(err, sso.ErrSSONameTaken):
			t.Errorf("SaveOrganization(org%d) err = %v; want nil or ErrSSONameTaken", i, err)
		}
	}
	if winner == "" {
		t.Fatal("no SaveOrganization won the name")
	}
	if got, err := st.OrganizationBySSOName(ctx, "acme"); err != nil || got.ID != winner {
		t.Errorf("OrganizationBySSOName(acme) = %+v, %v; want %s", got, err, winner)
	}
}

// testCreateSessionConcurrently: racers goroutines create a session with
// one ID; exactly one succeeds and its session is stored.
func testCreateSessionConcurrently(t *testing.T, ctx context.Context, st Store) {
	errs := race(func(i int) error {
		return st.CreateSession(ctx, newSession("s", fmt.Sprintf("org%d", i), session.MethodSSO, t0))
	})
	winner := -1
	for i, err := range errs {
		if err == nil {
			if winner >= 0 {
				t.Errorf("CreateSession succeeded twice, for goroutines %d and %d", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no CreateSession succeeded")
	}
	if got, err := st.Session(ctx, "s"); err != nil || got.OrgID != fmt.Sprintf("org%d", winner) {
		t.Errorf("Session(s) = %+v, %v; want the winner's, org%d", got, err, winner)
	}
}

// testMixedConcurrently exercises every method at once, for the race
// detector and the database's locking; it checks only that nothing fails
// unexpectedly.
func testMixedConcurrently(t *testing.T, ctx context.Context, st Store) {
	errs := race(func(i int) error {
		org := fmt.Sprintf("org%d", i%5)
		id := fmt.Sprintf("%d", i)
		o := fullOrg(org, "name-"+org)
		if err := st.SaveOrganization(ctx, o); err != nil {
			return fmt.Errorf("in SaveOrganization: %w", err)
		}
		if _, err := st.OrganizationBySSOName(ctx, "name-"+org); err != nil {
			return fmt.Errorf("in OrganizationBySSOName: %w", err)
		}
		if _, err := st.Organization(ctx, org); err != nil {
			return fmt.Errorf("in Organization: %w", err)
		}
		if err := st.SaveMember(ctx, fullMember(org, "user@example.com")); err != nil {
			return fmt.Errorf("in SaveMember: %w", err)
		}
		if _, err := st.Member(ctx, org, "USER@example.com"); err != nil {
			return fmt.Errorf("in Member: %w", err)
		}
		if err := st.SaveRequest(ctx, &sso.PendingRequest{ID: id, OrgID: org, ExpiresAt: t0}); err != nil {
			return fmt.Errorf("in SaveRequest: %w", err)
		}
		if err := st.UseAssertion(ctx, org, id, t0); err != nil {
			return fmt.Errorf("in UseAssertion: %w", err)
		}
		if err := st.CreateSession(ctx, newSession(id, org, session.MethodSSO, t0)); err != nil {
			return fmt.Errorf("in CreateSession: %w", err)
		}
		if _, err := st.Session(ctx, id); err != nil && !errors.Is(err, session.ErrNotFound) {
			return fmt.Errorf("in Session: %w", err)
		}
		if _, err := st.DeleteOrgSessions(ctx, org, session.MethodSSO); err != nil {
			return fmt.Errorf("in DeleteOrgSessions: %w", err)
		}
		if _, err := st.ConsumeRequest(ctx, id); err != nil && !errors.Is(err, sso.ErrNotFound) {
			return fmt.Errorf("in ConsumeRequest: %w", err)
		}
		if _, err := st.DeleteExpiredSessions(ctx, t0); err != nil {
			return fmt.Errorf("in DeleteExpiredSessions: %w", err)
		}
		if _, err := st.Cleanup(ctx, t0.Add(time.Duration(i)*time.Second)); err != nil {
			return fmt.Errorf("in Cleanup: %w", err)
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
}
