package sso_test

import (
	"context"
	"errors"
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
	if err := svc.CreateOrganization(ctx, org); err != nil {
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

// ExampleService_UpdateOrganization changes SSO settings the way a settings
// page does: the edit runs on a fresh copy, the rules and the clock decide,
// a concurrent save is never overwritten, and one audited event names the
// actor and the fields that changed.
func ExampleService_UpdateOrganization() {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	store := memory.New()
	svc, err := sso.New(sso.Config{
		BaseURL: "https://app.example.com", Store: store, Now: func() time.Time { return now },
		Sessions: session.NewManager(store),
		OnEvent: func(_ context.Context, e sso.Event) {
			if e.Actor != "" {
				fmt.Println("audit:", e.Type, "by", e.Actor, e.Fields)
			}
		},
	})
	if err != nil {
		panic(err)
	}
	if err := svc.CreateOrganization(ctx, &sso.Organization{ID: "org-1", SSOName: "acme", OwnerID: "u-owner"}); err != nil {
		panic(err)
	}

	org, err := svc.UpdateOrganization(ctx, "org-1", "u-owner", func(o *sso.Organization) error {
		o.StrictMode = true
		o.SessionTimeout = 8 * time.Hour
		return nil
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("version:", org.Version)

	_, err = svc.UpdateOrganization(ctx, "org-1", "u-owner", func(o *sso.Organization) error {
		o.SessionTimeout = 48 * time.Hour
		return nil
	})
	var ce *sso.ConfigError
	if errors.As(err, &ce) {
		fmt.Println("refused:", ce.UserMessage())
	}
	_, err = svc.UpdateOrganization(ctx, "org-1", "u-admin", func(o *sso.Organization) error { return nil })
	fmt.Println(errors.Is(err, sso.ErrNotOwner))
	// Output:
	// audit: organization_created by u-owner []
	// audit: settings_changed by u-owner [StrictMode SessionTimeout]
	// version: 2
	// refused: The session timeout must be between 1 and 24 hours.
	// true
}

// ExampleService_AddMember invites a member who may keep signing in with a
// password ("allow access without SSO"), lists the members and removes one,
// which ends their sessions.
func ExampleService_AddMember() {
	ctx := context.Background()
	store := memory.New()
	sessions := session.NewManager(store)
	svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: store, Sessions: sessions})
	if err != nil {
		panic(err)
	}
	if err := svc.CreateOrganization(ctx, &sso.Organization{ID: "org-1", SSOName: "acme", OwnerID: "u-owner"}); err != nil {
		panic(err)
	}
	for _, m := range []sso.Member{
		{UserID: "u-owner", Email: "owner@acme.example"},
		{UserID: "u-ext", Email: "contractor@partner.example", AllowWithoutSSO: true},
	} {
		if _, err := svc.AddMember(ctx, "org-1", "u-owner", m); err != nil {
			panic(err)
		}
	}
	members, next, err := svc.Members(ctx, "org-1", "u-owner", "", 10)
	if err != nil {
		panic(err)
	}
	for _, m := range members {
		fmt.Println(m.Email, m.OrgRole, m.AllowWithoutSSO)
	}
	fmt.Printf("next page: %q\n", next)

	_, token, err := sessions.Create(ctx, "org-1", "u-ext", session.MethodPassword, time.Hour)
	if err != nil {
		panic(err)
	}
	if err := svc.RemoveMember(ctx, "org-1", "u-owner", "contractor@partner.example"); err != nil {
		panic(err)
	}
	_, err = svc.ValidateSession(ctx, token)
	var ended *session.EndedError
	fmt.Println(errors.As(err, &ended), ended.Reason)
	// Output:
	// contractor@partner.example member true
	// owner@acme.example owner false
	// next page: ""
	// true member_removed
}
