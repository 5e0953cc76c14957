package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
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
	{"CreateOrganizationID", testCreateOrganizationIDConcurrently},
	{"CreateOrganizationName", testCreateOrganizationNameConcurrently},
	{"UpdateOrganization", testUpdateOrganizationConcurrently},
	{"CreateMember", testCreateMemberConcurrently},
	{"CreateMemberUserID", testCreateMemberUserIDConcurrently},
	{"CreateDeleteMemberUserID", testCreateDeleteMemberUserIDConcurrently},
	{"EndSessions", testEndSessionsConcurrently},
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

// oneWinner checks that exactly one of errs is nil and every other wraps
// lose, and returns the winner's index (-1 if none).
func oneWinner(t *testing.T, what string, errs []error, lose error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("%s succeeded twice, for goroutines %d and %d", what, winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, lose):
			t.Errorf("%s in goroutine %d: err = %v; want nil or %v", what, i, err, lose)
		}
	}
	if winner < 0 {
		t.Errorf("no %s succeeded", what)
	}
	return winner
}

// testCreateOrganizationIDConcurrently: racers goroutines create one ID,
// each with its own SSO name: exactly one creates it, the others get
// ErrDuplicateID and leave their names free.
func testCreateOrganizationIDConcurrently(t *testing.T, ctx context.Context, st Store) {
	errs := race(func(i int) error { return st.CreateOrganization(ctx, fullOrg("org1", orgName(i))) })
	winner := oneWinner(t, "CreateOrganization(org1)", errs, sso.ErrDuplicateID)
	if winner < 0 {
		return
	}
	want := withVersion(fullOrg("org1", orgName(winner)), 1)
	names := map[string]string{}
	for i := range racers {
		names[orgName(i)] = ""
	}
	names[orgName(winner)] = "org1"
	checkOrgs(t, ctx, st, "after the race", map[string]*sso.Organization{"org1": want}, names)
}

// testCreateOrganizationNameConcurrently: racers goroutines create
// organizations that claim one SSO name: exactly one is created, the others
// get ErrSSONameTaken and are not.
func testCreateOrganizationNameConcurrently(t *testing.T, ctx context.Context, st Store) {
	errs := race(func(i int) error { return st.CreateOrganization(ctx, fullOrg(orgName(i), "acme")) })
	winner := oneWinner(t, "CreateOrganization(acme)", errs, sso.ErrSSONameTaken)
	if winner < 0 {
		return
	}
	want := map[string]*sso.Organization{}
	for i := range racers {
		want[orgName(i)] = nil
	}
	want[orgName(winner)] = withVersion(fullOrg(orgName(winner), "acme"), 1)
	checkOrgs(t, ctx, st, "after the race", want, map[string]string{"acme": orgName(winner)})
}

// testUpdateOrganizationConcurrently: racers goroutines update one
// organization from the same Version, each with its own edit: exactly one
// succeeds, the others get ErrConflict and keep their Version; the store
// holds the winner's edit at the next Version.
func testUpdateOrganizationConcurrently(t *testing.T, ctx context.Context, st Store) {
	if err := st.CreateOrganization(ctx, fullOrg("org1", "acme")); err != nil {
		t.Fatal(err)
	}
	edits := make([]*sso.Organization, racers)
	for i := range edits {
		edits[i] = withVersion(fullOrg("org1", "acme"), 1)
		edits[i].OwnerID = "owner-" + orgName(i)
		edits[i].SSOEpoch = int64(i)
	}
	errs := race(func(i int) error { return st.UpdateOrganization(ctx, edits[i]) })
	winner := oneWinner(t, "UpdateOrganization(org1 at Version 1)", errs, sso.ErrConflict)
	for i, e := range edits {
		if want := int64(1 + b2i(i == winner)); e.Version != want {
			t.Errorf("goroutine %d's org.Version after the race = %d; want %d", i, e.Version, want)
		}
	}
	if winner >= 0 {
		checkOrgs(t, ctx, st, "after the race", map[string]*sso.Organization{"org1": edits[winner]}, map[string]string{"acme": "org1"})
	}
}

// b2i is 1 for true, 0 for false.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// raceEmail spells ada@example.com in the ASCII case the bits of i give
// (bit k upper-cases the k-th letter), so each racer has its own spelling of
// one email key.
func raceEmail(i int) string {
	b := []byte("ada@example.com")
	k := 0
	for j, c := range b {
		if 'a' <= c && c <= 'z' {
			if i>>k&1 == 1 {
				b[j] = c - ('a' - 'A')
			}
			k++
		}
	}
	return string(b)
}

// testCreateMemberConcurrently: racers goroutines create one member, each
// with its own user ID and spelling of the email: exactly one creates it,
// every other gets ErrMemberExists with the winner's member, which the
// store holds.
func testCreateMemberConcurrently(t *testing.T, ctx context.Context, st Store) {
	members := make([]*sso.Member, racers)
	for i := range members {
		members[i] = withUser(fullMember("org1", raceEmail(i)), orgName(i))
	}
	got := make([]*sso.Member, racers)
	errs := race(func(i int) error {
		var err error
		got[i], err = st.CreateMember(ctx, members[i])
		return err
	})
	winner := oneWinner(t, "CreateMember(ada@example.com)", errs, sso.ErrMemberExists)
	if winner < 0 {
		return
	}
	for i, m := range got {
		if !reflect.DeepEqual(m, members[winner]) {
			t.Errorf("CreateMember() in goroutine %d = %+v, %v; want the winner's member %+v", i, m, errs[i], members[winner])
			break
		}
	}
	checkMember(t, ctx, st, "after the race", "org1", "ADA@example.com", members[winner])
	if page, err := st.Members(ctx, "org1", "", sso.MaxListLimit); err != nil || len(page) != 1 {
		t.Errorf("Members(org1) after the race = %d members, %v; want 1", len(page), err)
	}
}

// testCreateMemberUserIDConcurrently: racers goroutines create members of
// one user ID, each under its own email: exactly one creates its member,
// every other gets ErrUserIDTaken and stores nothing.
func testCreateMemberUserIDConcurrently(t *testing.T, ctx context.Context, st Store) {
	members := make([]*sso.Member, racers)
	for i := range members {
		members[i] = userMember(fmt.Sprintf("racer%03d@example.com", i), "u-race")
	}
	errs := race(func(i int) error {
		_, err := st.CreateMember(ctx, members[i])
		return err
	})
	winner := oneWinner(t, "CreateMember(u-race)", errs, sso.ErrUserIDTaken)
	if winner < 0 {
		return
	}
	if page, err := st.Members(ctx, "org1", "", sso.MaxListLimit); err != nil || len(page) != 1 || !reflect.DeepEqual(page[0], members[winner]) {
		t.Errorf("Members(org1) after the race = %v, %v; want only the winner, %s", emails(page), err, members[winner].Email)
	}
	if m, err := st.MemberByUserID(ctx, "org1", "u-race"); err != nil || !reflect.DeepEqual(m, members[winner]) {
		t.Errorf("MemberByUserID(u-race) after the race = %+v, %v; want the winner", m, err)
	}
}

// testCreateDeleteMemberUserIDConcurrently: racers goroutines, each with
// its own email, create a member of one user ID and, when that succeeds,
// delete it again, so the user ID is taken and freed while the others try:
// at no time do two members hold it, and at the end none does.
func testCreateDeleteMemberUserIDConcurrently(t *testing.T, ctx context.Context, st Store) {
	var mu sync.Mutex
	holders := 0
	errs := race(func(i int) error {
		email := fmt.Sprintf("churn%03d@example.com", i)
		for range 3 {
			_, err := st.CreateMember(ctx, userMember(email, "u-churn"))
			if errors.Is(err, sso.ErrUserIDTaken) {
				continue
			}
			if err != nil {
				return err
			}
			mu.Lock()
			holders++
			if page, err := st.Members(ctx, "org1", "", sso.MaxListLimit); err != nil || len(page) != 1 {
				t.Errorf("Members(org1) while %s holds u-churn = %v, %v; want only it", email, emails(page), err)
			}
			mu.Unlock()
			if err := st.DeleteMember(ctx, "org1", email); err != nil {
				return err
			}
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
	if holders == 0 {
		t.Error("no goroutine ever created a member")
	}
	if page, err := st.Members(ctx, "org1", "", sso.MaxListLimit); err != nil || len(page) != 0 {
		t.Errorf("Members(org1) at the end = %v, %v; want none", emails(page), err)
	}
}

// testEndSessionsConcurrently: racers goroutines end one organization's
// sessions, each with its own reason: every session is ended once, and the
// counts add up to the number of sessions, each racer's count being the
// number of sessions that carry its reason.
func testEndSessionsConcurrently(t *testing.T, ctx context.Context, st Store) {
	const n = 50
	for i := range n {
		if err := st.CreateSession(ctx, newSession(orgName(i), "org1", session.MethodSSO, t0.Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	counts := make([]int, racers)
	errs := race(func(i int) error {
		var err error
		counts[i], err = st.EndSessions(ctx, session.Query{OrgID: "org1"}, "reason-"+orgName(i))
		return err
	})
	perReason := map[string]int{}
	for i := range n {
		s, err := st.Session(ctx, orgName(i))
		if err != nil || s.EndReason == "" {
			t.Fatalf("Session(%s) after the race = %+v, %v; want it ended", orgName(i), s, err)
		}
		perReason[s.EndReason]++
	}
	total := 0
	for i, err := range errs {
		if err != nil {
			t.Errorf("EndSessions() in goroutine %d err = %v; want nil", i, err)
		}
		total += counts[i]
		if counts[i] != perReason["reason-"+orgName(i)] {
			t.Errorf("EndSessions() in goroutine %d = %d; but %d sessions carry its reason", i, counts[i], perReason["reason-"+orgName(i)])
		}
	}
	if total != n {
		t.Errorf("EndSessions() counts add up to %d; want %d", total, n)
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
		if err := st.CreateOrganization(ctx, fullOrg("new-"+org, "new-name-"+org)); err != nil && !errors.Is(err, sso.ErrDuplicateID) {
			return fmt.Errorf("in CreateOrganization: %w", err)
		}
		if err := st.UpdateOrganization(ctx, withVersion(fullOrg("new-"+org, "new-name-"+org), int64(1+i%3))); err != nil && !errors.Is(err, sso.ErrConflict) {
			return fmt.Errorf("in UpdateOrganization: %w", err)
		}
		m := withUser(fullMember(org, fmt.Sprintf("m%d@example.com", i%7)), id)
		if _, err := st.CreateMember(ctx, m); err != nil && !errors.Is(err, sso.ErrMemberExists) {
			return fmt.Errorf("in CreateMember: %w", err)
		}
		if err := st.UpdateMember(ctx, m); err != nil && !errors.Is(err, sso.ErrNotFound) {
			return fmt.Errorf("in UpdateMember: %w", err)
		}
		if _, err := st.MemberByUserID(ctx, org, id); err != nil && !errors.Is(err, sso.ErrNotFound) {
			return fmt.Errorf("in MemberByUserID: %w", err)
		}
		if _, err := st.Members(ctx, org, "m", 3); err != nil {
			return fmt.Errorf("in Members: %w", err)
		}
		if err := st.DeleteMember(ctx, org, m.Email); err != nil && !errors.Is(err, sso.ErrNotFound) {
			return fmt.Errorf("in DeleteMember: %w", err)
		}
		if err := st.CreateSession(ctx, newSession("x"+id, org, session.MethodPassword, t0.Add(time.Hour))); err != nil {
			return fmt.Errorf("in CreateSession: %w", err)
		}
		if _, err := st.ListSessions(ctx, session.Query{OrgID: org, Limit: 5}, t0); err != nil {
			return fmt.Errorf("in ListSessions: %w", err)
		}
		if _, err := st.EndSessions(ctx, session.Query{OrgID: org, Method: session.MethodPassword}, session.EndRevoked); err != nil {
			return fmt.Errorf("in EndSessions: %w", err)
		}
		if _, err := st.CleanupBatch(ctx, t0.Add(time.Duration(i)*time.Minute), 10); err != nil {
			return fmt.Errorf("in CleanupBatch: %w", err)
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
}
