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
	return a.registerSP(ctx, org)
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
// provider (its SP metadata), as an owner does in a real IdP's console. It
// runs at start and whenever the SSO name (and so the ACS URL) changes.
func (a *app) registerSP(ctx context.Context, org *sso.Organization) error {
	md, err := a.svc.Metadata(org)
	if err != nil {
		return err
	}
	return a.idp.putService(ctx, org.ID, md)
}

// joinStrings joins with ", " (a template helper).
func joinStrings(s []string) string { return strings.Join(s, ", ") }
