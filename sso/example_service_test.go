package sso_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
	"github.com/orgsso/orgsso/store/memory"
)

// Example walks one organization through the product flow: create it, point
// it at an IdP, map an IdP group to roles, enable SSO, then sign a member in
// through the ACS the way a host handler would.
func Example() {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }

	store := memory.New()
	sessions := session.NewManager(store, session.WithClock(clock))
	svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: store, Sessions: sessions, Now: clock})
	if err != nil {
		panic(err)
	}
	idp, err := ssotest.New(ssotest.Config{Now: clock}) // stands in for Okta, Entra ID, …
	if err != nil {
		panic(err)
	}

	org := &sso.Organization{
		ID: "org-1", SSOName: "acme", OwnerID: "u-owner",
		IdP: idp.IdPConfig(),
		RoleMapping: rolemap.Config{Enabled: true, Delimiter: ",", Mappings: []rolemap.Mapping{{
			IdPRole: "Contentstack Developers", OrgRole: rolemap.RoleMember,
			StackRoles: map[string][]string{"blog": {"developer"}},
		}}},
	}
	if err := store.SaveOrganization(ctx, org); err != nil {
		panic(err)
	}
	fmt.Println("ACS URL:", svc.Details(org).ACSURL)
	if err := svc.Enable(ctx, "org-1", "u-owner"); err != nil {
		panic(err)
	}

	// The login page: /login?trigger_sso_flow=acme → redirect to the IdP,
	// with the browser-binding cookie: http.SetCookie(w, rd.Cookie).
	rd, err := svc.StartLogin(ctx, "acme", "/dashboard")
	if err != nil {
		panic(err)
	}
	u, _ := url.Parse(rd.URL)
	fmt.Println("binding cookie:", rd.Cookie.HttpOnly, rd.Cookie.Secure, rd.Cookie.SameSite == http.SameSiteNoneMode)

	// The IdP signs the user in and posts back to the ACS.
	posted, err := idp.Response(ssotest.Response{
		SP: svc.Details(org), InResponseTo: rd.RequestID,
		User: ssotest.User{Email: "alice@acme.example", FirstName: "Alice", LastName: "L", Roles: []string{"Contentstack Developers"}},
	})
	if err != nil {
		panic(err)
	}
	// The browser posts it with the binding cookie.
	r, err := idp.PostRequest(svc.Details(org).ACSURL, posted, u.Query().Get("RelayState"), rd.Cookie)
	if err != nil {
		panic(err)
	}

	// The host's ACS handler. The binding cookie is cleared either way:
	// http.SetCookie(w, c) for each of res.ClearCookies, or of
	// svc.ClearBindingCookies(r) after a failure.
	res, err := svc.HandleACS(ctx, "acme", r)
	if err != nil {
		fmt.Println(sso.UserMessage(err)) // for the login page; log err for the operator
		return
	}
	fmt.Println("cookies to clear:", len(res.ClearCookies), res.ClearCookies[0].Name == rd.Cookie.Name)
	fmt.Println("member:", res.Member.Email, res.Member.OrgRole, res.Member.StackRoles)
	fmt.Println("session until:", res.Session.ExpiresAt.Format(time.RFC3339), "then go to", res.ReturnTo)
	// Output:
	// ACS URL: https://app.example.com/sso/acme/acs
	// binding cookie: true true true
	// cookies to clear: 1 true
	// member: alice@acme.example member map[blog:[developer]]
	// session until: 2026-03-02T00:00:00Z then go to /dashboard
}
