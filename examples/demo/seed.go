package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/sso"
)

// The seeded organization.
const (
	demoOrgID   = "org_acme"
	demoOrgName = "Acme"
	demoSSOName = "acme"
	demoOwnerID = "user_owner"
)

// demoAccount is one person of the demo: an app account, an IdP account, or
// both. Passwords are fixed and printed at start: demo-only.
type demoAccount struct {
	UserID      string // app user ID; "" = no app account until the first SSO sign-in
	Email       string
	Given       string
	Surname     string
	AppPassword string          // "" = no app password
	Role        rolemap.OrgRole // seeded membership; "" = none (role mapping decides)
	External    bool            // "allow access without SSO"
	IdPUser     string          // user name at the bundled IdP
	IdPPassword string
	Groups      []string // IdP groups
	Note        string   // what the account demonstrates
}

// demoAccounts returns the people of the demo.
func demoAccounts() []demoAccount {
	return []demoAccount{
		{UserID: demoOwnerID, Email: "owner@acme.example", Given: "Olivia", Surname: "Owner",
			AppPassword: "owner-demo-password", Role: rolemap.RoleOwner,
			IdPUser: "owner", IdPPassword: "owner-idp-password", Groups: []string{"Admins", "Contentstack Developers"},
			Note: "organization owner: SSO settings, Test SSO; password sign-in always allowed"},
		{Email: "alice@acme.example", Given: "Alice", Surname: "Liddell",
			IdPUser: "alice", IdPPassword: "alice-idp-password", Groups: []string{"Contentstack Developers"},
			Note: `group "Contentstack Developers": member, developer on stack blog`},
		{Email: "bob@acme.example", Given: "Bob", Surname: "Builder",
			IdPUser: "bob", IdPPassword: "bob-idp-password", Groups: []string{"Admins"},
			Note: `group "Admins": admin`},
		{Email: "carol@acme.example", Given: "Carol", Surname: "Danvers",
			IdPUser: "carol", IdPPassword: "carol-idp-password", Groups: []string{"Marketing"},
			Note: `group "Marketing" maps to nothing: denied`},
		{UserID: "user_dave", Email: "dave@acme.example", Given: "Dave", Surname: "Lister",
			AppPassword: "dave-demo-password", Role: rolemap.RoleMember, External: true,
			IdPUser: "dave", IdPPassword: "dave-idp-password", Groups: []string{"Contractors"},
			Note: "member allowed access without SSO (password works while strict mode is off)"},
		{Email: "grace@" + demoOIDCDomain, Given: "Grace", Surname: "Hopper",
			IdPUser: "grace", IdPPassword: "grace-idp-password", Groups: []string{"Contentstack Developers"},
			Note: "email domain " + demoOIDCDomain + ": “Login via SSO” with her email goes straight to the OIDC connection"},
	}
}

// The seeded OIDC connection of Acme, at the bundled OpenID provider.
const (
	demoOIDCConnID   = "workforce"
	demoOIDCConnName = "Acme Workforce (OIDC)"
	demoOIDCDomain   = "oidc.acme.test" // its users are routed to it by email
)

// demoOIDCConnection is the seeded OIDC connection, trusting the bundled
// provider at issuer. The organization's role mapping applies to it as to
// the SAML IdP: the provider sends the same groups in the "groups" claim.
func demoOIDCConnection(issuer string) sso.Connection {
	return sso.Connection{
		ID:       demoOIDCConnID,
		Name:     demoOIDCConnName,
		Protocol: sso.ProtocolOIDC,
		OIDC: sso.OIDCConfig{
			Issuer:       issuer,
			ClientID:     demoOIDCClientID,
			ClientSecret: demoOIDCClientSecret,
			RolesClaim:   oidcRolesClaim,
		},
		Domains: []string{demoOIDCDomain},
	}
}

// demoRoleMapping is the seeded IdP role mapping.
func demoRoleMapping() rolemap.Config {
	return rolemap.Config{
		Enabled: true,
		Mappings: []rolemap.Mapping{
			{IdPRole: "Contentstack Developers", OrgRole: rolemap.RoleMember, StackRoles: map[string][]string{"blog": {"developer"}}},
			{IdPRole: "Admins", OrgRole: rolemap.RoleAdmin},
		},
	}
}

// seed makes the demo's organization, members, app users and IdP users, or
// leaves them as they are: running it again changes nothing the owner set,
// except pointing an organization that trusts the bundled IdP at the IdP's
// current URL (its port may differ between runs). It goes through the
// Service's admin API, acting as the owner, as a real host's sign-up would:
// CreateOrganization, AddMember, Enable, UpdateOrganization. The audit
// trail shows it.
func (a *app) seed(ctx context.Context) error {
	idpCfg, err := a.idp.config(ctx)
	if err != nil {
		return fmt.Errorf("reading the bundled IdP's metadata: %w", err)
	}
	// samlidp hashes each password with bcrypt: create the users in parallel.
	accounts := demoAccounts()
	errs := make([]error, len(accounts))
	var wg sync.WaitGroup
	for i, acc := range accounts {
		wg.Go(func() {
			if err := a.idp.putUser(ctx, acc); err != nil {
				errs[i] = fmt.Errorf("IdP user %s: %w", acc.IdPUser, err)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}

	// The app's users of the organization, owner first.
	for _, acc := range accounts {
		if acc.UserID == "" {
			continue
		}
		_, err := a.users.ByID(ctx, acc.UserID)
		switch {
		case errors.Is(err, errNoUser):
			u := User{ID: acc.UserID, OrgID: demoOrgID, Email: acc.Email, Name: acc.Given + " " + acc.Surname}
			if acc.AppPassword != "" {
				if u.PasswordHash, err = hashPassword(acc.AppPassword, a.pwIter); err != nil {
					return err
				}
			}
			if err := a.users.Save(ctx, u); err != nil {
				return err
			}
		case err != nil:
			return err
		}
	}

	org, err := a.svc.Organization(ctx, demoOrgID)
	switch {
	case errors.Is(err, sso.ErrNotFound):
		if org, err = a.createDemoOrg(ctx, idpCfg); err != nil {
			return err
		}
	case err != nil:
		return err
	case a.idp.owns(org.IdP) && (org.IdP.SSOURL != idpCfg.SSOURL || org.IdP.EntityID != idpCfg.EntityID):
		org, err = a.svc.UpdateOrganization(ctx, org.ID, org.OwnerID, func(o *sso.Organization) error {
			o.IdP.SSOURL, o.IdP.EntityID = idpCfg.SSOURL, idpCfg.EntityID
			return nil
		})
		if err != nil {
			return err
		}
	}
	if org.ID == demoOrgID {
		if org, err = a.seedOIDCConnection(ctx, org); err != nil {
			return fmt.Errorf("the OIDC connection: %w", err)
		}
	}
	return a.registerSP(ctx, org)
}

// seedOIDCConnection gives the organization the demo's OIDC connection when
// it has none with that ID (a new database, or one of a demo from before
// connections), and turns it on. An existing one is left as the owner set
// it, except that one trusting a bundled provider is pointed at this run's
// issuer (the IdP's port may differ between runs).
func (a *app) seedOIDCConnection(ctx context.Context, org *sso.Organization) (*sso.Organization, error) {
	issuer := a.idp.op.Issuer
	c := org.Connection(demoOIDCConnID)
	switch {
	case c == nil:
		org, err := a.svc.UpdateOrganization(ctx, org.ID, org.OwnerID, func(o *sso.Organization) error {
			if o.Connection(demoOIDCConnID) == nil {
				o.Connections = append(o.Connections, demoOIDCConnection(issuer))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if err := a.svc.EnableConnection(ctx, org.ID, demoOIDCConnID, org.OwnerID); err != nil {
			return nil, err
		}
		return a.svc.Organization(ctx, org.ID)
	case a.idp.op.owns(c.OIDC) && c.OIDC.Issuer != issuer:
		return a.svc.UpdateOrganization(ctx, org.ID, org.OwnerID, func(o *sso.Organization) error {
			if c := o.Connection(demoOIDCConnID); c != nil && a.idp.op.owns(c.OIDC) {
				c.OIDC.Issuer = issuer
			}
			return nil
		})
	}
	return org, nil
}

// createDemoOrg creates the organization, SSO off, adds its members as the
// owner invites them, and turns SSO on.
func (a *app) createDemoOrg(ctx context.Context, idpCfg sso.IdPConfig) (*sso.Organization, error) {
	org := &sso.Organization{
		ID:          demoOrgID,
		SSOName:     demoSSOName,
		OwnerID:     demoOwnerID,
		IdP:         idpCfg,
		RoleMapping: demoRoleMapping(),
		Attributes:  sso.AttributeNames{Roles: []string{idpGroupsAttribute}},
	}
	if err := a.svc.CreateOrganization(ctx, org); err != nil {
		return nil, err
	}
	for _, acc := range demoAccounts() {
		if acc.Role == "" {
			continue
		}
		m := sso.Member{UserID: acc.UserID, Email: acc.Email, FirstName: acc.Given, LastName: acc.Surname,
			OrgRole: acc.Role, AllowWithoutSSO: acc.External}
		if _, err := a.svc.AddMember(ctx, org.ID, org.OwnerID, m); err != nil && !errors.Is(err, sso.ErrMemberExists) {
			return nil, fmt.Errorf("member %s: %w", acc.Email, err)
		}
	}
	if err := a.svc.Enable(ctx, org.ID, org.OwnerID); err != nil {
		return nil, err
	}
	return a.svc.Organization(ctx, org.ID)
}

// registerSP tells the bundled IdP about the organization's service
// provider (its SP metadata), and the bundled OpenID provider the redirect
// URIs of the organization's OIDC connections that trust it, as an owner
// does in a real IdP's console. It runs at start, whenever the SSO name
// (and so the ACS URL and redirect URIs) changes, and when an OIDC
// connection is saved.
func (a *app) registerSP(ctx context.Context, org *sso.Organization) error {
	md, err := a.svc.Metadata(org)
	if err != nil {
		return err
	}
	if err := a.idp.putService(ctx, org.ID, md); err != nil {
		return err
	}
	var uris []string
	for _, c := range org.Connections {
		if c.Protocol != sso.ProtocolOIDC || !a.idp.op.owns(c.OIDC) {
			continue
		}
		u, err := a.svc.RedirectURL(org, c.ID)
		if err != nil {
			return err
		}
		uris = append(uris, u)
	}
	return a.idp.op.register(uris...)
}

// joinStrings joins with ", " (a template helper).
func joinStrings(s []string) string { return strings.Join(s, ", ") }
