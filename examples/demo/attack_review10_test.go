package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/sso"
)

// Attacker review, round 10: the demo as a host.

// TestAttackReview10TestFailureReportOwnerOnly: a Test SSO failure report
// names the failed check. Anyone can post a RelayState that makes
// sso.IsTestResponse true; only the organization's signed-in owner gets the
// report: not an anonymous poster, not a member, and not the owner of
// another organization (whose own viewer is an owner).
func TestAttackReview10TestFailureReportOwnerOnly(t *testing.T) {
	a, u, _ := startApp(t, "", nil)
	ctx := t.Context()

	// Globex, owned by Gina, with a password.
	idpCfg, err := a.idp.config(ctx)
	require.NoError(t, err)
	globex := &sso.Organization{ID: "org_globex", SSOName: "globex", OwnerID: "user_globex_owner", IdP: idpCfg}
	require.NoError(t, a.svc.CreateOrganization(ctx, globex))
	hash, err := hashPassword("gina-password", a.pwIter)
	require.NoError(t, err)
	require.NoError(t, a.users.Save(ctx, User{ID: globex.OwnerID, OrgID: globex.ID, Email: "gina@globex.example", Name: "Gina", PasswordHash: hash}))
	_, err = a.svc.AddMember(ctx, globex.ID, globex.OwnerID, sso.Member{UserID: globex.OwnerID, Email: "gina@globex.example"})
	require.NoError(t, err)

	post := func(c *client) *page {
		form := url.Values{"SAMLResponse": {"PHNhbWxwOlJlc3BvbnNlLz4="}, "RelayState": {"orgsso-test"}}
		req, err := http.NewRequest(http.MethodPost, u.App+"/sso/"+demoSSOName+"/acs", strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", u.IdP)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		return c.do(req)
	}
	anon := newClient(t)
	dave := newClient(t)
	wantIn(t, "dave's dashboard", passwordSignIn(t, dave, u, "dave@acme.example", "dave-demo-password").Body, `<dd id="org-role">member</dd>`)
	gina := newClient(t)
	wantIn(t, "gina's dashboard", passwordSignIn(t, gina, u, "gina@globex.example", "gina-password").Body, `<dd id="org-role">owner</dd>`)
	for name, c := range map[string]*client{"anonymous": anon, "member": dave, "other organization's owner": gina} {
		p := post(c)
		assert.Equal(t, "/login", p.URL.Path, name)
		assert.NotContains(t, p.Body, `id="test-failed"`, name)
		assert.NotContains(t, p.Body, `id="failed-check"`, name)
	}
	owner := newClient(t)
	passwordSignIn(t, owner, u, "owner@acme.example", "owner-demo-password")
	p := post(owner)
	assert.Contains(t, p.Body, `id="test-failed"`, "the owner gets the report")
}

// TestAttackReview10AdminFormsRefuseCrossSite: the new admin forms are
// protected by http.CrossOriginProtection: a cross-site POST in the owner's
// browser (Origin of another site, Sec-Fetch-Site cross-site) changes
// nothing. The ACS alone is exempt.
func TestAttackReview10AdminFormsRefuseCrossSite(t *testing.T) {
	a, u, _ := startApp(t, "", nil)
	ctx := t.Context()
	owner := newClient(t)
	passwordSignIn(t, owner, u, "owner@acme.example", "owner-demo-password")
	forms := map[string]url.Values{
		"/settings/members/remove":   {"email": {"dave@acme.example"}},
		"/settings/members":          {"email": {"dave@acme.example"}},
		"/settings/members/invite":   {"email": {"mallory@evil.example"}, "role": {"admin"}, "allow_without_sso": {"on"}},
		"/settings/members/sessions": {"email": {"dave@acme.example"}},
		"/settings/disable":          {},
		"/settings/users":            {"strict_mode": {"on"}, "session_timeout_hours": {"8"}},
		"/logout":                    {},
	}
	for path, form := range forms {
		for _, hdr := range []map[string]string{
			{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
			{"Origin": "http://evil.example"},
			{"Sec-Fetch-Site": "same-site"},
		} {
			req, err := http.NewRequest(http.MethodPost, u.App+path, strings.NewReader(form.Encode()))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			p := owner.do(req)
			assert.Equal(t, http.StatusForbidden, p.Status, "%s %v", path, hdr)
		}
	}
	m, err := a.svc.Member(ctx, demoOrgID, "dave@acme.example")
	require.NoError(t, err, "dave is still a member")
	assert.True(t, m.AllowWithoutSSO)
	_, err = a.svc.Member(ctx, demoOrgID, "mallory@evil.example")
	assert.ErrorIs(t, err, sso.ErrNotFound)
	org, err := a.svc.Organization(ctx, demoOrgID)
	require.NoError(t, err)
	assert.True(t, org.Enabled)
	assert.False(t, org.StrictMode)
	assert.Contains(t, owner.get(u.App+"/").Body, `<dd id="org-role">owner</dd>`, "the owner is still signed in")
}

// TestAttackReview10ForgedEndedMessage: the login page's ended-session
// message comes from a fixed table by code; an unknown code gets the
// generic sentence, never the text posted.
func TestAttackReview10ForgedEndedMessage(t *testing.T) {
	_, u, _ := startApp(t, "", nil)
	c := newClient(t)
	p := c.get(u.App + "/login?ended=" + url.QueryEscape("<b>Your account was hacked, call +1-555</b>") + "&error=" + url.QueryEscape("call us"))
	assert.NotContains(t, p.Body, "hacked")
	assert.NotContains(t, p.Body, "call us")
	assert.Contains(t, p.Body, endedMessages[sso.CodeSessionEnded])
}

// TestAttackReview10AuditTrailFloodedByOtherOrg: the audit trail keeps the
// last auditKeep events of all organizations together. The owner of
// another organization (self-service sign-up; they also control their own
// IdP, so verified sign-ins and failures cost them nothing) makes enough
// events in their own organization to push every entry of Acme's trail out:
// Acme's owner loses the record of who changed what.
//
// FOUND, fixed: the trail is bounded per organization. (Suggested: bound the trail per organization (DELETE … WHERE org_id = ?
// AND id <= (SELECT max(id) … WHERE org_id = ?) - keep), or by age.)
func TestAttackReview10AuditTrailFloodedByOtherOrg(t *testing.T) {
	a, _, _ := startApp(t, "", nil)
	ctx := t.Context()
	before, err := a.audit.recent(ctx, demoOrgID, 50)
	require.NoError(t, err)
	require.NotEmpty(t, before, "the seed left Acme a trail")

	a.audit.keep = 40 // auditKeep (5000) scaled down; the flood is the same
	idpCfg, err := a.idp.config(ctx)
	require.NoError(t, err)
	evil := &sso.Organization{ID: "org_evil", SSOName: "evil", OwnerID: "user_evil_owner", IdP: idpCfg}
	require.NoError(t, a.svc.CreateOrganization(ctx, evil))
	for i := range a.audit.keep + 1 {
		_, err := a.svc.UpdateOrganization(ctx, evil.ID, evil.OwnerID, func(o *sso.Organization) error {
			o.JITProvisioning = i%2 == 0
			return nil
		})
		require.NoError(t, err)
	}
	after, err := a.audit.recent(ctx, demoOrgID, 50)
	require.NoError(t, err)
	assert.Len(t, after, len(before), "another organization's events pushed Acme's audit trail out")
	mine, err := a.audit.recent(ctx, evil.ID, 1000)
	require.NoError(t, err)
	assert.Len(t, mine, a.audit.keep, "each organization keeps its own last events")
}
