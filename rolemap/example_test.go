package rolemap_test

import (
	"fmt"

	"github.com/orgsso/orgsso/rolemap"
)

// An organization maps its IdP group "Contentstack Developers" to the
// organization role member plus the role developer on its blog stack, and
// "Contentstack Admins" to admin. Its IdP sends the roles in one value,
// separated by commas.
func Example() {
	cfg := rolemap.Config{
		Enabled:   true,
		Delimiter: ",",
		Mappings: []rolemap.Mapping{
			{
				IdPRole:    "Contentstack Developers",
				OrgRole:    rolemap.RoleMember,
				StackRoles: map[string][]string{"blt-blog": {"developer"}},
			},
			{IdPRole: "Contentstack Admins", OrgRole: rolemap.RoleAdmin},
		},
	}
	if err := cfg.Validate(); err != nil {
		fmt.Println(err)
		return
	}

	// The roles attribute of a user's SAML assertion.
	roles := rolemap.ParseRoles([]string{"Contentstack Developers, Everyone"}, cfg.Delimiter)
	fmt.Printf("IdP roles received: %q\n", roles)

	res := cfg.Map(roles)
	fmt.Println("organization role:", res.OrgRole)
	fmt.Println("stack roles:", res.StackRoles)
	for _, m := range res.Matched {
		fmt.Printf("matched %q\n", m.IdPRole)
	}
	fmt.Printf("unmatched: %q\n", res.Unmatched)
	// Output:
	// IdP roles received: ["Contentstack Developers" "Everyone"]
	// organization role: member
	// stack roles: map[blt-blog:[developer]]
	// matched "Contentstack Developers"
	// unmatched: ["Everyone"]
}

// An IdP may send one role per attribute value, several roles in one value,
// or both; ParseRoles reads them all the same way.
func ExampleParseRoles() {
	// OneLogin-style: one value, semicolon-separated.
	fmt.Printf("%q\n", rolemap.ParseRoles([]string{"Developers; Admins;;Developers "}, ";"))
	// Okta-style: a multi-valued attribute, no delimiter needed.
	fmt.Printf("%q\n", rolemap.ParseRoles([]string{"Developers", " Admins"}, ""))
	// A space delimiter splits on any run of white space.
	fmt.Printf("%q\n", rolemap.ParseRoles([]string{"Developers \t Admins\nEveryone"}, " "))
	// A multi-character delimiter is matched as typed.
	fmt.Printf("%q\n", rolemap.ParseRoles([]string{"R&D | QA | Sales-Ops"}, " | "))
	// No roles at all is nil.
	fmt.Println(rolemap.ParseRoles([]string{" ", ""}, ",") == nil)
	// Output:
	// ["Developers" "Admins"]
	// ["Developers" "Admins"]
	// ["Developers" "Admins" "Everyone"]
	// ["R&D" "QA" "Sales-Ops"]
	// true
}

// Validate catches a mapping that could never match: with a space delimiter,
// "Contentstack Developers" arrives as two roles.
func ExampleConfig_Validate() {
	cfg := rolemap.Config{
		Delimiter: " ",
		Mappings: []rolemap.Mapping{
			{IdPRole: "Contentstack Developers", OrgRole: rolemap.RoleMember},
		},
	}
	err := cfg.Validate()
	fmt.Println(err)
	// Output:
	// rolemap: mapping 0 ("Contentstack Developers"): IdP role identifier contains white space, and the delimiter " " splits received roles at any white space, so it would never match
}

// A service that maps every sign-in of an organization compiles its
// configuration once; the Mapper gives the same Results as Config.Map.
func ExampleConfig_Compile() {
	cfg := rolemap.Config{
		Enabled:   true,
		Delimiter: ";",
		Mappings: []rolemap.Mapping{
			{IdPRole: "eng", OrgRole: rolemap.RoleMember, StackRoles: map[string][]string{"blt-blog": {"developer"}, "blt-docs": {"reviewer"}}},
			{IdPRole: "leads", OrgRole: rolemap.RoleAdmin, StackRoles: map[string][]string{"blt-blog": {"editor", "developer"}}},
		},
	}
	mapper := cfg.Compile() // keep it with the configuration it came from

	res := mapper.Map(rolemap.ParseRoles([]string{"leads;eng;interns"}, cfg.Delimiter))
	fmt.Println(res.OrgRole, res.StackRoles, res.Unmatched)
	// Output:
	// admin map[blt-blog:[developer editor] blt-docs:[reviewer]] [interns]
}
