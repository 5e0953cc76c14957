package memory_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/memory"
)

const racers = 100

// race runs f in racers goroutines released together and returns their errors.
func race(f func(i int) error) []error {
	errs := make([]error, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func TestConsumeRequestConcurrently(t *testing.T) {
	ctx := t.Context()
	st := memory.New()
	if err := st.SaveRequest(ctx, &sso.PendingRequest{ID: "id-1", OrgID: "org1", ExpiresAt: t0}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []*sso.PendingRequest
	errs := race(func(int) error {
		r, err := st.ConsumeRequest(ctx, "id-1")
		if err == nil {
			mu.Lock()
			got = append(got, r)
			mu.Unlock()
		}
		return err
	})
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, sso.ErrNotFound):
			t.Errorf("ConsumeRequest() err = %v; want nil or ErrNotFound", err)
		}
	}
	if wins != 1 || len(got) != 1 || got[0].ID != "id-1" {
		t.Errorf("%d of %d ConsumeRequest calls won (%v); want exactly 1", wins, racers, got)
	}
}

func TestUseAssertionConcurrently(t *testing.T) {
	ctx := t.Context()
	st := memory.New()
	// Two organizations race on the same assertion ID: one winner in each.
	errs := race(func(i int) error {
		return st.UseAssertion(ctx, fmt.Sprintf("org%d", i%2), "same-id", t0)
	})
	wins, replays := map[int]int{}, 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins[i%2]++
		case errors.Is(err, sso.ErrReplay):
			replays++
		default:
			t.Errorf("UseAssertion() err = %v; want nil or ErrReplay", err)
		}
	}
	if wins[0] != 1 || wins[1] != 1 || replays != racers-2 {
		t.Errorf("wins per org = %v, replays = %d; want 1 each and %d", wins, replays, racers-2)
	}
}

func TestUseAssertionOneOrgConcurrently(t *testing.T) {
	ctx := t.Context()
	st := memory.New()
	errs := race(func(int) error { return st.UseAssertion(ctx, "org1", "same-id", t0) })
	wins, replays := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case errors.Is(err, sso.ErrReplay):
			replays++
		default:
			t.Errorf("UseAssertion() err = %v; want nil or ErrReplay", err)
		}
	}
	if wins != 1 || replays != racers-1 {
		t.Errorf("UseAssertion: %d nil, %d ErrReplay; want 1 and %d", wins, replays, racers-1)
	}
}

// TestMixedConcurrently exercises every method at once, for the race
// detector; it checks only that nothing fails unexpectedly.
func TestMixedConcurrently(t *testing.T) {
	ctx := t.Context()
	st := memory.New()
	errs := race(func(i int) error {
		org := fmt.Sprintf("org%d", i%5)
		id := fmt.Sprintf("%d", i)
		o := fullOrg(org, "name-"+org)
		if err := st.SaveOrganization(ctx, o); err != nil {
			return err
		}
		mutateOrg(o)
		if got, err := st.OrganizationBySSOName(ctx, "name-"+org); err != nil {
			return err
		} else {
			mutateOrg(got)
		}
		m := fullMember(org, "user@example.com")
		if err := st.SaveMember(ctx, m); err != nil {
			return err
		}
		if got, err := st.Member(ctx, org, "USER@example.com"); err != nil {
			return err
		} else {
			mutateMember(got)
		}
		if err := st.SaveRequest(ctx, &sso.PendingRequest{ID: id, OrgID: org, ExpiresAt: t0}); err != nil {
			return err
		}
		if err := st.UseAssertion(ctx, org, id, t0); err != nil {
			return err
		}
		if err := st.CreateSession(ctx, newSession(id, org, session.MethodSSO, t0)); err != nil {
			return err
		}
		if _, err := st.Session(ctx, id); err != nil && !errors.Is(err, session.ErrNotFound) {
			return err
		}
		if _, err := st.DeleteOrgSessions(ctx, org, session.MethodSSO); err != nil {
			return err
		}
		if _, err := st.ConsumeRequest(ctx, id); err != nil && !errors.Is(err, sso.ErrNotFound) {
			return err
		}
		_, err := st.Cleanup(ctx, t0.Add(time.Duration(i)*time.Second))
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
}
