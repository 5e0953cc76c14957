// Package rolemap turns the roles an identity provider sends for a user into
// organization and stack roles, following an organization's IdP role mapping.
//
// It is pure: no I/O, no globals. A host can unit-test an organization's mappings
// offline by calling Config.Map with the roles a user would send.
package rolemap
