package sso_test

// Attacker review 2 (branch review2). Passing tests: refusals that held.
// Tests that were findings now assert the fix.

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/sso"
)

// TestAttackReview2LimiterHidesOtherUsersReplay: the failure limiter counts
// by (organization, kind). The attacker replays their own used response
// first; a replay of a colleague's captured response in the same window is
// then suppressed: no event names the colleague.
func TestAttackReview2LimiterHidesOtherUsersReplay(t *testing.T) {
	e := newEnv(t, nil)
	use := func(email string) string {
		rd := e.startRedirect(t, "/")
		posted, err := e.idp.Response(e.resp(rd.RequestID, user(email, "Admins"), nil))
		require.NoError(t, err)
		_, err = e.post(t, posted, relayOf(t, rd))
		require.NoError(t, err)
		return posted
	}
	mallory := use("mallory@acme.example")
	victim := use("alice@acme.example")
	_, err := e.postWith(t, mallory, "")
	require.ErrorIs(t, err, sso.ErrReplay)
	_, err = e.postWith(t, victim, "")
	require.ErrorIs(t, err, sso.ErrReplay)
	named := false
	for _, ev := range e.eventsOf(sso.EventSignInFailed) {
		named = named || ev.Email == "alice@acme.example"
	}
	if !named {
		t.Error("a replay of alice's captured response right after mallory's own replay yields no event naming alice (was a finding: the limiter key was org+kind)")
	}
}
