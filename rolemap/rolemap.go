package rolemap

import (
	"errors"
	"fmt"
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

// Config is an organization's IdP role mapping.
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

// Validate reports the first invalid mapping: every mapping needs an IdP role
// identifier and an organization role of admin or member; stack UIDs and stack
// role names must be non-empty; no identifier may be mapped twice.
func (c Config) Validate() error {
	seen := make(map[string]int, len(c.Mappings))
	for i, m := range c.Mappings {
		bad := func(format string, args ...any) error {
			return &MappingError{Index: i, IdPRole: m.IdPRole, Reason: fmt.Sprintf(format, args...)}
		}
		if m.IdPRole == "" {
			return bad("IdP role identifier is empty")
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
		for stack, roles := range m.StackRoles {
			if stack == "" {
				return bad("stack UID is empty")
			}
			if len(roles) == 0 {
				return bad("stack %q has no roles", stack)
			}
			for _, r := range roles {
				if r == "" {
					return bad("stack %q has an empty role name", stack)
				}
			}
		}
	}
	return nil
}
