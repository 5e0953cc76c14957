package rolemap

import (
	"maps"
	"slices"
)

// Mapper is a compiled Config, for mapping many users against one
// configuration: it indexes the mappings by IdP role identifier and numbers
// the stacks and stack roles, so Map costs O(len(idpRoles)) plus the size of
// what it grants, whatever the number of mappings. A Mapper is immutable and
// safe for concurrent use.
type Mapper struct {
	mappings []compiled
	index    map[string][]int // IdP role identifier -> positions in mappings
	stacks   []string         // stack UIDs, sorted: a grant's stack number
	roles    []string         // stack role names, sorted: a grant's role number
}

// compiled is one mapping, ready to be granted.
type compiled struct {
	idpRole string
	orgRole OrgRole
	// stackRoles is a private deep copy of Mapping.StackRoles, as a list
	// (cheaper to walk than a map); nil and empty role lists are kept as such.
	stackRoles []stackRoles
	isNil      bool // Mapping.StackRoles was nil, not empty
	nRoles     int  // roles in stackRoles, all stacks together
	// grants is what the mapping grants: stack number << 32 | role number,
	// sorted and distinct, so sorting a union sorts by stack UID, then role.
	// (Numbers fit in 32 bits short of 2³² distinct names in one Config.)
	grants []uint64
}

// stackRoles is one entry of Mapping.StackRoles.
type stackRoles struct {
	stack string
	roles []string
}

// Compile builds a Mapper from a deep copy of c.Mappings; changing c
// afterwards does not change the Mapper. Like Config.Map, it neither validates
// c nor looks at c.Enabled, and (*Mapper).Map returns what c.Map would.
func (c Config) Compile() *Mapper {
	mp := &Mapper{
		mappings: make([]compiled, len(c.Mappings)),
		index:    make(map[string][]int, len(c.Mappings)),
	}
	stackSet, roleSet := make(map[string]uint64), make(map[string]uint64)
	for _, m := range c.Mappings {
		for stack, roles := range m.StackRoles {
			if len(roles) > 0 {
				stackSet[stack] = 0
			}
			for _, r := range roles {
				roleSet[r] = 0
			}
		}
	}
	mp.stacks = number(stackSet)
	mp.roles = number(roleSet)
	for i, m := range c.Mappings {
		mp.index[m.IdPRole] = append(mp.index[m.IdPRole], i)
		cm := compiled{idpRole: m.IdPRole, orgRole: m.OrgRole, isNil: m.StackRoles == nil}
		for _, stack := range slices.Sorted(maps.Keys(m.StackRoles)) {
			roles := m.StackRoles[stack]
			cm.stackRoles = append(cm.stackRoles, stackRoles{stack, slices.Clone(roles)})
			cm.nRoles += len(roles)
			for _, r := range roles {
				cm.grants = append(cm.grants, stackSet[stack]<<32|roleSet[r])
			}
		}
		slices.Sort(cm.grants)
		cm.grants = slices.Compact(cm.grants)
		mp.mappings[i] = cm
	}
	return mp
}

// number sorts the keys of set, sets each key's value to its position, and
// returns the sorted keys.
func number(set map[string]uint64) []string {
	keys := slices.Sorted(maps.Keys(set))
	for i, k := range keys {
		set[k] = uint64(i)
	}
	return keys
}

// Map applies the compiled mapping to a user's IdP roles; see Config.Map. A nil
// Mapper has no mappings: every role is unmatched.
func (mp *Mapper) Map(idpRoles []string) Result {
	if mp == nil {
		mp = &Mapper{}
	}
	var (
		hits      = make([]int, 0, len(idpRoles))
		unmatched []string
		seen      map[string]struct{} // unmatched roles already listed
	)
	for _, r := range idpRoles {
		if is, ok := mp.index[r]; ok {
			hits = append(hits, is...)
			continue
		}
		if seen == nil {
			seen = make(map[string]struct{}, len(idpRoles))
		}
		if _, dup := seen[r]; !dup {
			seen[r] = struct{}{}
			unmatched = append(unmatched, r)
		}
	}
	res := Result{Unmatched: unmatched}
	if len(hits) == 0 {
		return res
	}
	// A role received twice hits its mappings twice; mapping order wanted.
	slices.Sort(hits)
	hits = slices.Compact(hits)

	var nGrants, nRoles int
	for _, i := range hits {
		nGrants += len(mp.mappings[i].grants)
		nRoles += mp.mappings[i].nRoles
	}
	grants := make([]uint64, 0, nGrants)
	for _, i := range hits {
		grants = append(grants, mp.mappings[i].grants...)
	}
	slices.Sort(grants)
	grants = slices.Compact(grants)

	// One backing array for every string slice of the Result, cut with full
	// slice expressions so an append to one cannot write into another.
	backing := make([]string, len(grants)+nRoles)
	union, copies := backing[:len(grants)], backing[len(grants):]
	res.StackRoles = mp.union(grants, union)
	res.Matched = make([]Mapping, len(hits))
	for k, i := range hits {
		cm := &mp.mappings[i]
		if grantRank(cm.orgRole) > grantRank(res.OrgRole) {
			res.OrgRole = cm.orgRole
		}
		m := Mapping{IdPRole: cm.idpRole, OrgRole: cm.orgRole}
		if !cm.isNil {
			m.StackRoles = make(map[string][]string, len(cm.stackRoles))
			for _, sr := range cm.stackRoles {
				if sr.roles == nil {
					m.StackRoles[sr.stack] = nil
					continue
				}
				n := copy(copies, sr.roles)
				m.StackRoles[sr.stack] = copies[:n:n]
				copies = copies[n:]
			}
		}
		res.Matched[k] = m
	}
	return res
}

// union turns sorted, distinct grants into Result.StackRoles, writing the role
// names into names (len(grants) long). Nil when there are no grants.
func (mp *Mapper) union(grants []uint64, names []string) map[string][]string {
	if len(grants) == 0 {
		return nil
	}
	nStacks := 1
	for i := 1; i < len(grants); i++ {
		if grants[i]>>32 != grants[i-1]>>32 {
			nStacks++
		}
	}
	out := make(map[string][]string, nStacks)
	for i := 0; i < len(grants); {
		stack, j := grants[i]>>32, i
		for ; j < len(grants) && grants[j]>>32 == stack; j++ {
			names[j] = mp.roles[uint32(grants[j])]
		}
		out[mp.stacks[stack]] = names[i:j:j]
		i = j
	}
	return out
}
