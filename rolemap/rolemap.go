package rolemap

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
)

// OrgRole is a member's role in an organization.
type OrgRole string

// The organization roles. A mapping may grant RoleMember or RoleAdmin; RoleOwner
// belongs to the one member who owns the organization and is never granted by a
// mapping.
const (
	RoleMember OrgRole = "member"
	RoleAdmin  OrgRole = "admin"
	RoleOwner  OrgRole = "owner"
)

// Mapping grants an organization role and stack roles to the holders of one IdP
// role (a group or role name, or its UID, exactly as the IdP sends it).
type Mapping struct {
	IdPRole    string              // IdP group/role name or UID
	OrgRole    OrgRole             // RoleMember or RoleAdmin
	StackRoles map[string][]string // stack UID -> stack role names
}

// Config is an organization's IdP role mapping. Enabled is the
// administrator's switch; rolemap itself never reads it (the caller decides
// whether to apply the mapping). Delimiter is read as ParseRoles describes.
// The zero Config is valid and maps nothing.
type Config struct {
	Enabled   bool
	Delimiter string // splits one attribute value into roles; "" = no splitting
	Mappings  []Mapping
}

// ErrInvalidConfig is wrapped by every error Config.Validate returns.
var ErrInvalidConfig = errors.New("rolemap: invalid role mapping")

// MappingError says which mapping of a Config is invalid and why.
type MappingError struct {
	Index   int    // position in Config.Mappings
	IdPRole string // its IdP role identifier, possibly empty
	Reason  string
}

// Error implements error.
func (e *MappingError) Error() string {
	return fmt.Sprintf("rolemap: mapping %d (%q): %s", e.Index, e.IdPRole, e.Reason)
}

// Unwrap lets errors.Is match ErrInvalidConfig.
func (e *MappingError) Unwrap() error { return ErrInvalidConfig }

// Validate reports the first invalid mapping, in the order of c.Mappings:
//
//   - every mapping needs an IdP role identifier, without white space around
//     it, that the delimiter would not split (ParseRoles trims and splits the
//     roles it receives, so such an identifier could never match);
//   - no identifier may be mapped twice;
//   - the organization role must be admin or member (owner is never granted);
//   - stack UIDs must be non-empty, and each stack needs at least one role,
//     with no empty role names.
//
// Every error it returns is a *MappingError wrapping ErrInvalidConfig. Validate
// checks a mapping's stacks in sorted order, so the error is deterministic. It
// does not look at c.Enabled: a disabled mapping is still validated.
func (c Config) Validate() error {
	seen := make(map[string]int, len(c.Mappings))
	for i, m := range c.Mappings {
		bad := func(format string, args ...any) error {
			return &MappingError{Index: i, IdPRole: m.IdPRole, Reason: fmt.Sprintf(format, args...)}
		}
		switch {
		case m.IdPRole == "":
			return bad("IdP role identifier is empty")
		case strings.TrimSpace(m.IdPRole) != m.IdPRole:
			return bad("IdP role identifier has white space around it; received roles are trimmed, so it would never match")
		}
		switch sep, fields := separator(c.Delimiter); {
		case fields && strings.ContainsFunc(m.IdPRole, unicode.IsSpace):
			return bad("IdP role identifier contains white space, and the delimiter %q splits received roles at any white space, so it would never match", c.Delimiter)
		case sep != "" && strings.Contains(m.IdPRole, sep):
			return bad("IdP role identifier contains the delimiter %q, which splits received roles, so it would never match", sep)
		}
		if first, dup := seen[m.IdPRole]; dup {
			return bad("IdP role identifier already mapped by mapping %d", first)
		}
		seen[m.IdPRole] = i
		switch m.OrgRole {
		case RoleMember, RoleAdmin:
		case RoleOwner:
			return bad("organization role %q cannot be granted by a mapping", m.OrgRole)
		default:
			return bad("organization role %q is not admin or member", m.OrgRole)
		}
		for _, stack := range slices.Sorted(maps.Keys(m.StackRoles)) {
			roles := m.StackRoles[stack]
			if stack == "" {
				return bad("stack UID is empty")
			}
			if len(roles) == 0 {
				return bad("stack %q has no roles", stack)
			}
			if slices.Contains(roles, "") {
				return bad("stack %q has an empty role name", stack)
			}
		}
	}
	return nil
}
