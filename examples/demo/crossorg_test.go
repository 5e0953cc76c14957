package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/sso"
)

// TestSSONeverLinksAnotherOrganizationsUser: organization Globex trusts the
// same IdP as Acme, and that IdP asserts the Acme owner's email. Signing in
// to Globex makes a Globex member with a Globex user: it must not bind the
// member to the Acme owner's user (who would then be signed in to Globex as
// that user), nor rename or move that user.
func TestSSONeverLinksAnotherOrganizationsUser(t *testing.T) {
	a, u, _ := startApp(t, "", nil)
	ctx := t.Context()

	idpCfg, err := a.idp.config(ctx)
	require.NoError(t, err)
	globex := &sso.Organization{ID: "org_globex", SSOName: "globex", OwnerID: "user_globex_owner",
		IdP: idpCfg, RoleMapping: demoRoleMapping(), Attributes: sso.AttributeNames{Roles: []string{idpGroupsAttribute}}}
	require.NoError(t, a.svc.CreateOrganization(ctx, globex))
	require.NoError(t, a.users.Save(ctx, User{ID: globex.OwnerID, OrgID: globex.ID, Email: "gina@globex.example", Name: "Gina Globex"}))
	_, err = a.svc.AddMember(ctx, globex.ID, globex.OwnerID, sso.Member{UserID: globex.OwnerID, Email: "gina@globex.example"})
	require.NoError(t, err)
	require.NoError(t, a.svc.Enable(ctx, globex.ID, globex.OwnerID))
	require.NoError(t, a.registerSP(ctx, globex))

	// The IdP user "owner" is owner@acme.example, in the Admins group.
	c := newClient(t)
	dash := ssoSignIn(t, c, u, c.get(u.App+"/login?trigger_sso_flow=globex"), "owner", "owner-idp-password")
	wantIn(t, "the Globex dashboard", dash.Body, "owner@acme.example", `<dd id="org-role">admin</dd>`, "<code>globex</code>")

	m, err := a.svc.Member(ctx, globex.ID, "owner@acme.example")
	require.NoError(t, err)
	assert.NotEqual(t, demoOwnerID, m.UserID, "the Globex member is bound to the Acme owner's user")

	owner, err := a.users.ByID(ctx, demoOwnerID)
	require.NoError(t, err)
	assert.Equal(t, User{ID: demoOwnerID, OrgID: demoOrgID, Email: "owner@acme.example", Name: "Olivia Owner"},
		User{ID: owner.ID, OrgID: owner.OrgID, Email: owner.Email, Name: owner.Name}, "the Acme owner's user changed")

	// The Acme owner still signs in to Acme, as its owner.
	p := passwordSignIn(t, newClient(t), u, "owner@acme.example", "owner-demo-password")
	wantIn(t, "the Acme owner's dashboard", p.Body, `<dd id="org-role">owner</dd>`, "<code>acme</code>")
}
