// Package rolemap shows how a team unit-tests its organizations' IdP role
// mappings offline, with no IdP and no network: rolemap.Config.Map for the
// rules themselves, and sso/ssotest + sso.Validator for the whole path from a
// signed SAML response to the roles a member gets.
//
// AcmeMapping is what an owner configured in the settings page; the tests in
// this package are what the team keeps green as the mapping evolves.
package rolemap

import "github.com/orgsso/orgsso/rolemap"

// AcmeMapping is the Acme organization's IdP role mapping: Okta sends the
// user's groups joined with ";" in one roles value.
func AcmeMapping() rolemap.Config {
	return rolemap.Config{
		Enabled:   true,
		Delimiter: ";",
		Mappings: []rolemap.Mapping{
			{IdPRole: "Contentstack Developers", OrgRole: rolemap.RoleMember,
				StackRoles: map[string][]string{"blog": {"developer"}}},
			{IdPRole: "Content Editors", OrgRole: rolemap.RoleMember,
				StackRoles: map[string][]string{"blog": {"editor"}, "docs": {"editor"}}},
			{IdPRole: "Admins", OrgRole: rolemap.RoleAdmin},
		},
	}
}
