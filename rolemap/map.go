package rolemap

import "slices"

// Result is what a role mapping grants a user for the IdP roles they arrived
// with. It shares no memory with the Config or Mapper that produced it: a
// caller may change it freely.
type Result struct {
	// OrgRole is the highest organization role the matched mappings grant
	// (admin over member), or "" when nothing matched.
	OrgRole OrgRole
	// StackRoles is the union of the matched mappings' stack roles: per stack
	// UID, the role names sorted and without duplicates. Nil when no matched
	// mapping grants a stack role.
	StackRoles map[string][]string
	// Matched holds copies of the mappings that matched, in the order of
	// Config.Mappings (not the order the roles arrived in), so that the same
	// set of roles always gives the same Result. Nil when nothing matched.
	Matched []Mapping
	// Unmatched holds the IdP roles that no mapping names, in the order they
	// arrived, without duplicates. Nil when every role matched.
	Unmatched []string
}

// Map applies the mapping to a user's IdP roles, as returned by ParseRoles.
// A role matches a mapping when it equals the mapping's IdPRole exactly
// (case-sensitive); no trimming or splitting happens here.
//
// Map does not look at c.Enabled: whether a mapping applies at sign-in is the
// caller's decision, and a disabled mapping can still be tried out. Nor does it
// validate c; on an invalid Config it still returns a deterministic Result, in
// which an organization role other than admin or member (RoleOwner included)
// is never granted, and every mapping of an identifier mapped twice matches.
//
// Map costs O(len(c.Mappings) + len(idpRoles)). To map many users against the
// same Config, Compile it once and use the Mapper.
func (c Config) Map(idpRoles []string) Result {
	// matched records, for each distinct received role, whether a mapping
	// names it.
	matched := make(map[string]bool, len(idpRoles))
	for _, r := range idpRoles {
		matched[r] = false
	}
	var hits []int
	for i, m := range c.Mappings {
		if _, ok := matched[m.IdPRole]; ok {
			hits = append(hits, i)
			matched[m.IdPRole] = true
		}
	}
	var unmatched []string
	for _, r := range idpRoles {
		if done, ok := matched[r]; ok && !done {
			unmatched = append(unmatched, r)
			matched[r] = true // listed once
		}
	}
	return build(c.Mappings, hits, unmatched)
}

// build assembles the Result of the mappings ms[i] for i in hits (ascending,
// distinct), copying everything it takes from ms. It allocates few, large
// blocks: the copies of the matched mappings' stack roles and the union share
// one backing array, cut with full slice expressions so that an append to one
// slice cannot write into another.
func build(ms []Mapping, hits []int, unmatched []string) Result {
	res := Result{Unmatched: unmatched}
	if len(hits) == 0 {
		return res
	}
	// Count the stack roles, per stack and in all.
	var (
		total  int
		counts map[string]int
	)
	for _, i := range hits {
		for stack, roles := range ms[i].StackRoles {
			if len(roles) == 0 {
				continue
			}
			if counts == nil {
				counts = make(map[string]int)
			}
			counts[stack] += len(roles)
			total += len(roles)
		}
	}
	backing := make([]string, 2*total)
	copies, union := backing[:total], backing[total:]
	if counts != nil {
		res.StackRoles = make(map[string][]string, len(counts))
		for stack, n := range counts {
			res.StackRoles[stack] = union[:0:n]
			union = union[n:]
		}
	}
	res.Matched = make([]Mapping, len(hits))
	for k, i := range hits {
		m := ms[i]
		if grantRank(m.OrgRole) > grantRank(res.OrgRole) {
			res.OrgRole = m.OrgRole
		}
		if m.StackRoles != nil {
			sr := make(map[string][]string, len(m.StackRoles))
			for stack, roles := range m.StackRoles {
				if roles == nil {
					sr[stack] = nil
					continue
				}
				n := copy(copies, roles)
				sr[stack] = copies[:n:n]
				copies = copies[n:]
				if n > 0 {
					res.StackRoles[stack] = append(res.StackRoles[stack], roles...)
				}
			}
			m.StackRoles = sr
		}
		res.Matched[k] = m
	}
	for stack, roles := range res.StackRoles {
		slices.Sort(roles)
		res.StackRoles[stack] = slices.Clip(slices.Compact(roles))
	}
	return res
}

// grantRank orders the organization roles a mapping may grant: member below
// admin. Any other value, RoleOwner included, ranks 0 and so is never granted.
func grantRank(r OrgRole) int {
	switch r {
	case RoleMember:
		return 1
	case RoleAdmin:
		return 2
	default:
		return 0
	}
}
