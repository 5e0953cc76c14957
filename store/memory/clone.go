package memory

import (
	"slices"

	"github.com/orgsso/orgsso/sso"
)

// cloneOrg returns a deep copy of o (sso.Organization.Clone): no slice or
// map is shared with it. TestFixturesFullyPopulated and the copy tests
// catch a field Clone does not copy. Nil and empty slices and maps are kept
// apart, but for Connections and Domains: none, nil or empty, is nil, as in
// every store (store/sqlstore cannot tell them apart for organizations
// stored before connections and domains were).
func cloneOrg(o *sso.Organization) *sso.Organization {
	c := o.Clone()
	if len(c.Connections) == 0 {
		c.Connections = nil
	}
	if len(c.Domains) == 0 {
		c.Domains = nil
	}
	return c
}

// cloneMember returns a deep copy of m.
func cloneMember(m *sso.Member) *sso.Member {
	c := *m
	c.StackRoles = cloneStackRoles(m.StackRoles)
	return &c
}

func cloneStackRoles(m map[string][]string) map[string][]string {
	if m == nil {
		return nil
	}
	c := make(map[string][]string, len(m))
	for k, v := range m {
		c[k] = slices.Clone(v)
	}
	return c
}
