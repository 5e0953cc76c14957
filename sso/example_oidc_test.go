package sso_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
	"github.com/orgsso/orgsso/store/memory"
)

// An organization adds an OpenID Connect connection beside its SAML IdP:
// the owner registers the redirect URI at the provider, enables the
// connection, and users pick it on the login page (Redirect.Choices). The
// provider's redirect back is served by HandleCallback.
func ExampleService_HandleCallback() {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	mux := http.NewServeMux()
	provider := httptest.NewServer(mux) // stands in for Okta, Entra ID, Google, …
	defer provider.Close()
	op, err := ssotest.NewOIDC(ssotest.OIDCConfig{Issuer: provider.URL, Now: clock, Clients: []ssotest.OIDCClient{{
		ID: "app", Secret: "app-secret", RedirectURIs: []string{"https://app.example.com/sso/acme/okta/callback"}}}})
	if err != nil {
		panic(err)
	}
	mux.Handle("/", op)

	store := memory.New()
	svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: store, Now: clock,
		Sessions:                     session.NewManager(store, session.WithClock(clock)),
		InsecureAllowPrivateNetworks: true}) // the provider of this example runs on 127.0.0.1
	if err != nil {
		panic(err)
	}
	org := &sso.Organization{ID: "org-1", SSOName: "acme", OwnerID: "u-owner",
		RoleMapping: rolemap.Config{Enabled: true, Mappings: []rolemap.Mapping{{IdPRole: "engineering", OrgRole: rolemap.RoleMember}}},
		Connections: []sso.Connection{{ID: "okta", Name: "Okta", Protocol: sso.ProtocolOIDC,
			OIDC: sso.OIDCConfig{Issuer: provider.URL, ClientID: "app", ClientSecret: "app-secret", RolesClaim: "groups"}}},
	}
	if err := svc.CreateOrganization(ctx, org); err != nil {
		panic(err)
	}
	redirectURI, _ := svc.RedirectURL(org, "okta")
	fmt.Println("redirect URI:", redirectURI)
	if err := svc.EnableConnection(ctx, "org-1", "okta", "u-owner"); err != nil {
		panic(err)
	}
	if err := svc.Enable(ctx, "org-1", "u-owner"); err != nil {
		panic(err)
	}

	// The login page: one connection, so StartLogin redirects at once.
	rd, err := svc.StartLogin(ctx, "acme", "/dashboard")
	if err != nil {
		panic(err)
	}
	// The browser signs in at the provider and comes back to the callback.
	callback, err := op.Login(rd.URL, ssotest.User{NameID: "00u1", Email: "ada@acme.example", FirstName: "Ada", LastName: "L", Roles: []string{"engineering"}})
	if err != nil {
		panic(err)
	}
	r := httptest.NewRequest(http.MethodGet, callback, nil)
	r.AddCookie(rd.Cookie)
	res, err := svc.HandleCallback(ctx, "acme", "okta", r)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Member.Email, res.Member.OrgRole, res.Connection, res.ReturnTo)
	// Output:
	// redirect URI: https://app.example.com/sso/acme/okta/callback
	// ada@acme.example member okta /dashboard
}
