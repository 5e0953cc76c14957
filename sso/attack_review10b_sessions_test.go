package sso_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/tests/faultstore"
)

// Attacker review, round 10b: the changes that give password sign-in back
// (strict mode off, Disable, access without SSO) and end first what the
// rules refused until then.

// ar10bLiveSessions lists the user's sessions the store has not ended.
func ar10bLiveSessions(t *testing.T, e *env, userID string) int {
	t.Helper()
	list, err := e.sessions.List(context.Background(), session.Query{OrgID: e.org.ID, UserID: userID})
	require.NoError(t, err)
	return len(list)
}

// TestAttackReview10bRefusedLooseningHeld: when ending the refused password
// sessions fails, the loosening change is refused with ErrUnavailable (a
// *StoreError, CodeUnavailable, 503), nothing of it is saved, and the
// session stays refused; once the store answers, the change goes through
// and the session stays ended.
func TestAttackReview10bRefusedLooseningHeld(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name     string
		external bool // bob's AllowWithoutSSO
		strict   bool
		change   func(e *faultEnv) error
		same     func(t *testing.T, e *faultEnv) // nothing of the change saved
	}{
		{"strict mode off", true, true, func(e *faultEnv) error {
			_, err := e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error { o.StrictMode = false; return nil })
			return err
		}, func(t *testing.T, e *faultEnv) {
			org, err := e.svc.Organization(ctx, e.org.ID)
			require.NoError(t, err)
			assert.True(t, org.StrictMode)
		}},
		{"Disable", false, false, func(e *faultEnv) error { return e.svc.Disable(ctx, e.org.ID, ownerID) },
			func(t *testing.T, e *faultEnv) {
				org, err := e.svc.Organization(ctx, e.org.ID)
				require.NoError(t, err)
				assert.True(t, org.Enabled)
			}},
		{"access without SSO", false, false, func(e *faultEnv) error {
			_, err := e.svc.SetMemberAccess(ctx, e.org.ID, ownerID, ar10BobEmail, true)
			return err
		}, func(t *testing.T, e *faultEnv) {
			assert.False(t, e.member(t, ar10BobEmail).AllowWithoutSSO)
		}},
	}
	for _, c := range cases {
		for _, m := range []faultstore.Method{faultstore.MethodListSessions, faultstore.MethodMemberByUserID, faultstore.MethodEndSessions} {
			t.Run(c.name+"/"+string(m), func(t *testing.T) {
				e := newFaultEnv(t)
				e.updateOrg(t, func(o *sso.Organization) { o.StrictMode = c.strict })
				e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: ar10BobID, Email: ar10BobEmail, OrgRole: rolemap.RoleMember, AllowWithoutSSO: c.external})
				_, token, err := e.sessions.Create(ctx, e.org.ID, ar10BobID, session.MethodPassword, time.Hour)
				require.NoError(t, err)
				e.fail(faultstore.Fault{Method: m, Mode: faultstore.FailBefore})
				err = c.change(e)
				requireUnavailable(t, err, "")
				e.fs.Clear()
				c.same(t, e)
				assert.Equal(t, 1, ar10bLiveSessions(t, e.env, ar10BobID), "the refused change ended the session")
				_, err = e.svc.ValidateSession(ctx, token)
				assert.ErrorIs(t, err, session.ErrEnded)

				require.NoError(t, c.change(e))
				_, err = e.svc.ValidateSession(ctx, token)
				assert.ErrorIs(t, err, session.ErrEnded, "the refused session came back with the change")
			})
		}
	}
}

// TestAttackReview10bFailedEditEndsNothingHeld: strict mode off together
// with an invalid field (or an edit that fails) is refused before any
// session is ended: a failed UpdateOrganization changes nothing.
func TestAttackReview10bFailedEditEndsNothingHeld(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(o *sso.Organization) { o.StrictMode = true })
	e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: ar10BobID, Email: ar10BobEmail, OrgRole: rolemap.RoleMember, AllowWithoutSSO: true})
	_, _, err := e.sessions.Create(ctx, e.org.ID, ar10BobID, session.MethodPassword, time.Hour)
	require.NoError(t, err)
	edits := []func(o *sso.Organization) error{
		func(o *sso.Organization) error { o.StrictMode = false; o.SessionTimeout = -time.Hour; return nil },
		func(o *sso.Organization) error { o.StrictMode = false; o.Enabled = false; return nil },
		func(o *sso.Organization) error { o.StrictMode = false; o.SSOName = "renamed"; return nil },
		func(o *sso.Organization) error { o.StrictMode = false; return assert.AnError },
	}
	for i, edit := range edits {
		_, err := e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, edit)
		assert.Error(t, err, "edit %d", i)
		_, err = e.svc.UpdateOrganization(ctx, e.org.ID, ar10BobID, edit)
		assert.ErrorIs(t, err, sso.ErrNotOwner, "edit %d", i)
		assert.Equal(t, 1, ar10bLiveSessions(t, e, ar10BobID), "edit %d: a failed UpdateOrganization ended a session", i)
	}
	org, err := e.svc.Organization(ctx, e.org.ID)
	require.NoError(t, err)
	assert.True(t, org.StrictMode)
	assert.Empty(t, e.eventsOf(sso.EventSettingsChanged))
}

// TestAttackReview10bOwnerAndMembersSessionsStayHeld: the owner's password
// session survives every loosening and tightening (strict on/off, Disable,
// Enable), and refused admin calls that name the owner's or a member's
// user ID (AddMember with it, a second time) end none of their sessions.
func TestAttackReview10bOwnerAndMembersSessionsStayHeld(t *testing.T) {
	ctx := context.Background()
	e := ar10Env(t)
	_, owner, err := e.sessions.Create(ctx, e.org.ID, ownerID, session.MethodPassword, time.Hour)
	require.NoError(t, err)
	res, err := e.signIn(t, user(ar10BobEmail), nil)
	require.NoError(t, err)
	valid := func(what string) {
		t.Helper()
		_, err := e.svc.ValidateSession(ctx, owner)
		assert.NoError(t, err, "owner's password session after %s", what)
	}

	for _, add := range []struct {
		actor string
		m     sso.Member
	}{
		{ar10AdminID, sso.Member{Email: "x@acme.example", UserID: ownerID}},
		{ownerID, sso.Member{Email: "x@acme.example", UserID: ownerID}},
		{ownerID, sso.Member{Email: ownerEmail, UserID: ownerID}},
		{ar10AdminID, sso.Member{Email: "x@acme.example", UserID: ar10BobID}},
		{ar10AdminID, sso.Member{Email: "BOB@acme.example", UserID: ar10BobID}},
		{ar10BobID, sso.Member{Email: "y@acme.example", UserID: ar10BobID}},
	} {
		_, err := e.svc.AddMember(ctx, e.org.ID, add.actor, add.m)
		assert.Error(t, err, "%+v", add)
	}
	valid("refused AddMember calls")
	_, err = e.svc.ValidateSession(ctx, res.Token)
	assert.NoError(t, err, "bob's session after refused AddMember calls naming his user ID")

	for _, step := range []struct {
		what string
		do   func() error
	}{
		{"strict on", func() error {
			_, err := e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error { o.StrictMode = true; return nil })
			return err
		}},
		{"strict off", func() error {
			_, err := e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error { o.StrictMode = false; return nil })
			return err
		}},
		{"Disable", func() error { return e.svc.Disable(ctx, e.org.ID, ownerID) }},
		{"Enable", func() error { return e.svc.Enable(ctx, e.org.ID, ownerID) }},
	} {
		require.NoError(t, step.do(), step.what)
		valid(step.what)
	}
}
