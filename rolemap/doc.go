// Package rolemap turns the roles an identity provider sends for a user into
// organization and stack roles, following an organization's IdP role mapping.
//
// An organization's administrator maps IdP role identifiers (a group or role
// name, or its UID, exactly as the IdP sends it) to an organization role,
// admin or member, and to roles on any of its stacks; and names the delimiter
// its IdP puts between roles when it sends several in one attribute value.
// That is a Config, checked by Config.Validate. At sign-in:
//
//	roles := rolemap.ParseRoles(assertion.Attributes["roles"], cfg.Delimiter)
//	res := cfg.Map(roles)
//
// ParseRoles splits, trims and deduplicates the attribute values; Map matches
// the roles exactly against the mappings and returns a Result: the highest
// organization role matched (admin over member; never owner), the union of
// the stack roles per stack, the mappings that matched, and the roles that
// matched nothing. Whether to apply it (Config.Enabled) and what to do when
// nothing matched is the caller's decision: Map reports, it does not decide.
//
// Map is O(mappings + roles). To map many sign-ins against one configuration,
// Config.Compile it once into a Mapper, whose Map indexes the mappings and
// returns the same Results.
//
// The package is pure: no I/O, no globals, nothing shared between a Result and
// the configuration it came from. A host can unit-test an organization's
// mappings offline by calling Config.Map with the roles a user would send; see
// the package example.
package rolemap
