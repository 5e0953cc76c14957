package memory

import (
	"slices"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/sso"
)

// cloneOrg returns a deep copy of o: no slice or map is shared with it.
// Nil slices and maps stay nil; empty ones stay empty. A field added to
// sso.Organization with a slice or map in it must be copied here too;
// TestFixturesFullyPopulated and the copy tests catch one that is not.
func cloneOrg(o *sso.Organization) *sso.Organization {
	c := *o
	c.IdP.Certificates = slices.Clone(o.IdP.Certificates)
	c.RoleMapping.Mappings = cloneMappings(o.RoleMapping.Mappings)
	c.Attributes = sso.AttributeNames{
		Email:     slices.Clone(o.Attributes.Email),
		FirstName: slices.Clone(o.Attributes.FirstName),
		LastName:  slices.Clone(o.Attributes.LastName),
		Roles:     slices.Clone(o.Attributes.Roles),
	}
	return &c
}

// cloneMember returns a deep copy of m.
func cloneMember(m *sso.Member) *sso.Member {
	c := *m
	c.StackRoles = cloneStackRoles(m.StackRoles)
	return &c
}

func cloneMappings(ms []rolemap.Mapping) []rolemap.Mapping {
	if ms == nil {
		return nil
	}
	c := make([]rolemap.Mapping, len(ms))
	for i, m := range ms {
		m.StackRoles = cloneStackRoles(m.StackRoles)
		c[i] = m
	}
	return c
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
