package sso_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/sso"
)

// Attacker review, round 10: the admin API (AddMember, SetMemberRoles,
// RemoveMember, …) as an admin or a plain member would abuse it.

const (
	ar10AdminID    = "u-admin"
	ar10AdminEmail = "admin@acme.example"
	ar10BobID      = "u-bob"
	ar10BobEmail   = "bob@acme.example"
)

// ar10Env is newEnv, role mapping off (roles are the admins' to set), with
// an admin and a member (bob).
func ar10Env(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, func(o *sso.Organization) { o.RoleMapping.Enabled = false })
	e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: ar10AdminID, Email: ar10AdminEmail, OrgRole: rolemap.RoleAdmin,
		FirstName: "Admin", LastName: "Example"})
	e.saveMember(t, &sso.Member{OrgID: e.org.ID, UserID: ar10BobID, Email: ar10BobEmail, OrgRole: rolemap.RoleMember,
		FirstName: "Bob", LastName: "Example", StackRoles: map[string][]string{"blt-blog": {"developer"}}})
	return e
}

// TestAttackReview10AdminBindsOwnerUserID: AddMember gives RoleOwner to any
// member whose UserID is the owner's, whoever the actor. An admin invites an
// address they (or anyone the IdP will vouch for) can sign in with, bound to
// the owner's user ID: that sign-in's session is the owner's, and the
// owner-only API (UpdateOrganization, Disable, …) accepts it. The row cannot
// even be removed again: RemoveMember refuses every row with the owner's
// user ID.
//
// FOUND. Fix: AddMember refuses a UserID the organization's members already
// have (one user, one member), and the owner's user ID from anyone but the
// owner.
func TestAttackReview10AdminBindsOwnerUserID(t *testing.T) {
	ctx := context.Background()
	e := ar10Env(t)
	_, err := e.svc.AddMember(ctx, e.org.ID, ar10AdminID, sso.Member{Email: "helpdesk@acme.example", UserID: ownerID})
	assert.Error(t, err, "an admin binds a new address to the owner's user ID")
	if err != nil {
		return
	}
	res, err := e.signIn(t, user("helpdesk@acme.example", "Contentstack Developers"), nil)
	require.NoError(t, err)
	assert.NotEqual(t, ownerID, res.Session.UserID, "helpdesk@ signed in as the owner")
	_, err = e.svc.UpdateOrganization(ctx, e.org.ID, res.Session.UserID, func(o *sso.Organization) error {
		o.AllowIdPInitiated = true
		return nil
	})
	assert.ErrorIs(t, err, sso.ErrNotOwner, "the admin's helper changed the SSO settings as the owner")
	// And the owner cannot take the row back.
	assert.NoError(t, e.svc.RemoveMember(ctx, e.org.ID, ownerID, "helpdesk@acme.example"),
		"the owner removes the row an admin bound to the owner's user ID")
}

// TestAttackReview10AdminBindsMembersUserID: an admin binds a new address to
// another member's user ID; whoever signs in with that address is that
// member (their roles, their data at the host), and removing the address
// ends all the victim's sessions.
//
// FOUND (same fix).
func TestAttackReview10AdminBindsMembersUserID(t *testing.T) {
	ctx := context.Background()
	e := ar10Env(t)
	_, err := e.svc.AddMember(ctx, e.org.ID, ar10AdminID, sso.Member{Email: "bob.alias@acme.example", UserID: ar10BobID})
	assert.Error(t, err, "a second member with bob's user ID")
	if err != nil {
		return
	}
	res, err := e.signIn(t, user("bob.alias@acme.example", "Contentstack Developers"), nil)
	require.NoError(t, err)
	assert.NotEqual(t, ar10BobID, res.Session.UserID, "bob.alias@ signed in as bob")
}

// TestAttackReview10AdminSurvivesDemotion: MemberByUserID returns the member
// with the lowest email key when several share a user ID. An admin who adds
// a row "0@…" with their own user ID and RoleAdmin keeps admin rights after
// the owner demotes (or removes) their real member.
//
// FOUND (same fix).
func TestAttackReview10AdminSurvivesDemotion(t *testing.T) {
	ctx := context.Background()
	e := ar10Env(t)
	_, err := e.svc.AddMember(ctx, e.org.ID, ar10AdminID, sso.Member{Email: "0@acme.example", UserID: ar10AdminID, OrgRole: rolemap.RoleAdmin})
	assert.Error(t, err, "a hidden second member with the admin's own user ID")

	_, err = e.svc.SetMemberRoles(ctx, e.org.ID, ownerID, ar10AdminEmail, rolemap.RoleMember, nil)
	require.NoError(t, err)
	_, err = e.svc.SetMemberAccess(ctx, e.org.ID, ar10AdminID, ar10BobEmail, true)
	assert.ErrorIs(t, err, sso.ErrNotAdmin, "the demoted admin still administers members")

	require.NoError(t, e.svc.RemoveMember(ctx, e.org.ID, ownerID, ar10AdminEmail))
	_, err = e.svc.SetMemberAccess(ctx, e.org.ID, ar10AdminID, ar10BobEmail, false)
	assert.ErrorIs(t, err, sso.ErrNotAdmin, "the removed admin still administers members")
	_, err = e.svc.MemberByUserID(ctx, e.org.ID, ar10AdminID)
	assert.ErrorIs(t, err, sso.ErrNotFound, "the removed admin is still a member by user ID (their new sessions stay valid)")
}

// TestAttackReview10AdminEscalationsHeld: what the rules refuse.
func TestAttackReview10AdminEscalationsHeld(t *testing.T) {
	ctx := context.Background()
	e := ar10Env(t)

	// An admin cannot change the SSO settings, ownership, or SSO on/off.
	_, err := e.svc.UpdateOrganization(ctx, e.org.ID, ar10AdminID, func(o *sso.Organization) error { o.OwnerID = ar10AdminID; return nil })
	assert.ErrorIs(t, err, sso.ErrNotOwner)
	assert.ErrorIs(t, e.svc.Disable(ctx, e.org.ID, ar10AdminID), sso.ErrNotOwner)
	assert.ErrorIs(t, e.svc.Enable(ctx, e.org.ID, ar10AdminID), sso.ErrNotOwner)
	_, err = e.svc.StartTest(ctx, e.org.ID, ar10AdminID)
	assert.ErrorIs(t, err, sso.ErrNotOwner)
	// Even the owner cannot hand ownership over by edit.
	_, err = e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error { o.OwnerID = ar10AdminID; return nil })
	assert.ErrorIs(t, err, sso.ErrNotAllowed)

	// Roles: no "owner" for anyone, and the owner's role stays.
	_, err = e.svc.SetMemberRoles(ctx, e.org.ID, ar10AdminID, ar10AdminEmail, rolemap.RoleOwner, nil)
	assert.ErrorIs(t, err, sso.ErrInvalidConfig)
	_, err = e.svc.SetMemberRoles(ctx, e.org.ID, ar10AdminID, ar10BobEmail, rolemap.RoleOwner, nil)
	assert.ErrorIs(t, err, sso.ErrInvalidConfig)
	_, err = e.svc.SetMemberRoles(ctx, e.org.ID, ar10AdminID, "OWNER@acme.example", rolemap.RoleMember, nil)
	assert.ErrorIs(t, err, sso.ErrNotAllowed)
	_, err = e.svc.AddMember(ctx, e.org.ID, ar10AdminID, sso.Member{Email: "carol@acme.example", UserID: "u-carol", OrgRole: rolemap.RoleOwner})
	assert.ErrorIs(t, err, sso.ErrInvalidConfig)

	// The owner cannot be removed or have access changed, in any ASCII case;
	// a Unicode look-alike is another (unknown) address.
	for _, email := range []string{ownerEmail, "Owner@ACME.example", "OWNER@ACME.EXAMPLE"} {
		assert.ErrorIs(t, e.svc.RemoveMember(ctx, e.org.ID, ar10AdminID, email), sso.ErrNotAllowed, email)
		_, err = e.svc.SetMemberAccess(ctx, e.org.ID, ar10AdminID, email, false)
		assert.ErrorIs(t, err, sso.ErrNotAllowed, email)
	}
	for _, email := range []string{"owner@acm\u0435.example", "\u043ewner@acme.example", "owner@acme.example\u200b"} {
		assert.ErrorIs(t, e.svc.RemoveMember(ctx, e.org.ID, ar10AdminID, email), sso.ErrNotFound, "%q", email)
	}
	_, err = e.svc.Member(ctx, e.org.ID, ownerEmail)
	require.NoError(t, err, "the owner is still a member")
	// AddMember with the owner's email in another case is the owner's row
	// (and the admin's user ID is already a member: refused for that first).
	_, err = e.svc.AddMember(ctx, e.org.ID, ar10AdminID, sso.Member{Email: "OWNER@acme.example", UserID: ar10AdminID})
	assert.ErrorIs(t, err, sso.ErrNotAllowed)
	_, err = e.svc.AddMember(ctx, e.org.ID, ar10AdminID, sso.Member{Email: "OWNER@acme.example", UserID: "u-fresh"})
	assert.ErrorIs(t, err, sso.ErrMemberExists)
}

// TestAttackReview10CrossOrgActorsHeld: a member or admin of one
// organization passing another organization's ID, and plain members, are
// refused before any member is looked up (no existence oracle).
func TestAttackReview10CrossOrgActorsHeld(t *testing.T) {
	ctx := context.Background()
	e := ar10Env(t)
	other := e.addOrg(t, "org-other", "other")
	require.NoError(t, e.store.SaveMember(ctx, &sso.Member{OrgID: other.ID, UserID: "u-victim", Email: "victim@other.example", OrgRole: rolemap.RoleMember}))

	for _, actor := range []string{ar10AdminID, ownerID, ar10BobID, ""} {
		for _, email := range []string{"victim@other.example", "nobody@other.example"} {
			err := e.svc.RemoveMember(ctx, other.ID, actor, email)
			assert.ErrorIs(t, err, sso.ErrNotAdmin, "actor %q, %s", actor, email)
			_, err = e.svc.SetMemberRoles(ctx, other.ID, actor, email, rolemap.RoleAdmin, nil)
			assert.ErrorIs(t, err, sso.ErrNotAdmin, "actor %q, %s", actor, email)
			_, err = e.svc.SetMemberAccess(ctx, other.ID, actor, email, true)
			assert.ErrorIs(t, err, sso.ErrNotAdmin, "actor %q, %s", actor, email)
		}
		_, err := e.svc.AddMember(ctx, other.ID, actor, sso.Member{Email: "victim@other.example", UserID: actor + "-x"})
		assert.ErrorIs(t, err, sso.ErrNotAdmin, "actor %q", actor)
		_, _, err = e.svc.Sessions(ctx, other.ID, actor, "u-victim", "", 0)
		assert.ErrorIs(t, err, sso.ErrNotAdmin, "actor %q", actor)
		_, err = e.svc.RevokeSessions(ctx, other.ID, actor, "u-victim")
		assert.ErrorIs(t, err, sso.ErrNotAdmin, "actor %q", actor)
	}
	// A plain member of acme: same answer whether the email exists or not.
	for _, email := range []string{ar10AdminEmail, "nobody@acme.example"} {
		assert.ErrorIs(t, e.svc.RemoveMember(ctx, e.org.ID, ar10BobID, email), sso.ErrNotAdmin, email)
		_, err := e.svc.AddMember(ctx, e.org.ID, ar10BobID, sso.Member{Email: email, UserID: "u-x"})
		assert.ErrorIs(t, err, sso.ErrNotAdmin, email)
	}
	_, err := e.svc.Member(ctx, other.ID, "victim@other.example")
	require.NoError(t, err, "the other organization's member is untouched")
}
