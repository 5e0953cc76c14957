package rolemap_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/orgsso/orgsso/rolemap"
)

func TestValidate(t *testing.T) {
	dev := rolemap.Mapping{IdPRole: "Contentstack Developers", OrgRole: rolemap.RoleMember,
		StackRoles: map[string][]string{"blt-blog": {"developer"}}}
	admins := rolemap.Mapping{IdPRole: "Contentstack Admins", OrgRole: rolemap.RoleAdmin}
	one := func(m rolemap.Mapping) []rolemap.Mapping { return []rolemap.Mapping{dev, m} }

	tests := []struct {
		name       string
		cfg        rolemap.Config
		wantErr    error
		wantIndex  int
		wantReason string // a substring of MappingError.Reason
	}{
		{name: "zero config", cfg: rolemap.Config{}},
		{name: "enabled, no mappings", cfg: rolemap.Config{Enabled: true, Delimiter: ","}},
		{name: "valid", cfg: rolemap.Config{Enabled: true, Delimiter: ",", Mappings: []rolemap.Mapping{dev, admins}}},
		{name: "valid, no delimiter allows commas", cfg: rolemap.Config{Mappings: one(rolemap.Mapping{IdPRole: "Dev, Ops", OrgRole: rolemap.RoleMember})}},
		{name: "valid, empty stack roles map", cfg: rolemap.Config{Mappings: one(rolemap.Mapping{IdPRole: "a", OrgRole: rolemap.RoleMember, StackRoles: map[string][]string{}})}},
		{name: "valid, white space inside identifier", cfg: rolemap.Config{Delimiter: ";", Mappings: one(rolemap.Mapping{IdPRole: "a  b", OrgRole: rolemap.RoleAdmin})}},

		{name: "empty identifier", cfg: rolemap.Config{Mappings: one(rolemap.Mapping{OrgRole: rolemap.RoleMember})},
			wantErr: rolemap.ErrInvalidConfig, wantIndex: 1, wantReason: "identifier is empty"},
		{name: "white space identifier", cfg: rolemap.Config{Mappings: one(rolemap.Mapping{IdPRole: " \t", OrgRole: rolemap.RoleMember})},
			wantErr: rolemap.ErrInvalidConfig, wantIndex: 1, wantReason: "white space around it"},
		{name: "leading space", cfg: rolemap.Config{Mappings: one(rolemap.Mapping{IdPRole: " Admins", OrgRole: rolemap.RoleMember})},
			wantErr: rolemap.ErrInvalidConfig, wantIndex: 1, wantReason: "white space around it"},
		{name: "trailing unicode space", cfg: rolemap.Config{Mappings: one(rolemap.Mapping{IdPRole: "Admins\u00a0", OrgRole: rolemap.RoleMember})},
			wantErr: rolemap.ErrInvalidConfig, wantIndex: 1, wantReason: "white space around it"},
		{name: "identifier contains delimiter", cfg: rolemap.Config{Delimiter: ",", Mappings: one(rolemap.Mapping{IdPRole: "Dev,Ops", OrgRole: rolemap.RoleMember})},
			wantErr: rolemap.ErrInvalidConfig, wantIndex: 1, wantReason: `contains the delimiter ","`},
		{name: "identifier contains multi-char delimiter", cfg: rolemap.Config{Delimiter: "::", Mappings: one(rolemap.Mapping{IdPRole: "a::b", OrgRole: rolemap.RoleMember})},
			wantErr: rolemap.ErrInvalidConfig, wantIndex: 1, wantReason: `contains the delimiter "::"`},
		{name: "identifier contains space, space delimiter", cfg: rolemap.Config{Delimiter: " ", Mappings: []rolemap.Mapping{dev}},
			wantErr: rolemap.ErrInvalidConfig, wantIndex: 0, wantReason: "contains white space"},
		{name: "identifier contains space, tab delimiter", cfg: rolemap.Config{Delimiter: "\t", Mappings: []rolemap.Mapping{{IdPRole: "a b", OrgRole: rolemap.RoleMember}}},
			wantErr: rolemap.ErrInvalidConfig, wantIndex: 0, wantReason: "contains white space"},
		{name: "duplicate identifier", cfg: rolemap.Config{Mappings: []rolemap.Mapping{dev, admins, {IdPRole: dev.IdPRole, OrgRole: rolemap.RoleAdmin}}},
			wantErr: rolemap.ErrInvalidConfig, wantIndex: 2, wantReason: "already mapped by mapping 0"},
		{name: "owner", cfg: rolemap.Config{Mappings: one(rolemap.Mapping{IdPRole: "x", OrgRole: rolemap.RoleOwner})},
			wantErr: rolemap.ErrInvalidConfig, wantIndex: 1, wantReason: `"owner" cannot be granted`},
		{name: "empty organization role", cfg: rolemap.Config{Mappings: one(rolemap.Mapping{IdPRole: "x"})},
			wantErr: rolemap.ErrInvalidConfig, wantIndex: 1, wantReason: `"" is not admin or member`},
		{name: "unknown organization role", cfg: rolemap.Config{Mappings: one(rolemap.Mapping{IdPRole: "x", OrgRole: "Admin"})},
			wantErr: rolemap.ErrInvalidConfig, wantIndex: 1, wantReason: `"Admin" is not admin or member`},
		{name: "empty stack UID", cfg: rolemap.Config{Mappings: one(rolemap.Mapping{IdPRole: "x", OrgRole: rolemap.RoleMember, StackRoles: map[string][]string{"": {"developer"}}})},
			wantErr: rolemap.ErrInvalidConfig, wantIndex: 1, wantReason: "stack UID is empty"},
		{name: "stack without roles", cfg: rolemap.Config{Mappings: one(rolemap.Mapping{IdPRole: "x", OrgRole: rolemap.RoleMember, StackRoles: map[string][]string{"blt-blog": nil}})},
			wantErr: rolemap.ErrInvalidConfig, wantIndex: 1, wantReason: `stack "blt-blog" has no roles`},
		{name: "stack with empty roles slice", cfg: rolemap.Config{Mappings: one(rolemap.Mapping{IdPRole: "x", OrgRole: rolemap.RoleMember, StackRoles: map[string][]string{"blt-blog": {}}})},
			wantErr: rolemap.ErrInvalidConfig, wantIndex: 1, wantReason: `stack "blt-blog" has no roles`},
		{name: "empty stack role name", cfg: rolemap.Config{Mappings: one(rolemap.Mapping{IdPRole: "x", OrgRole: rolemap.RoleMember, StackRoles: map[string][]string{"blt-blog": {"developer", ""}}})},
			wantErr: rolemap.ErrInvalidConfig, wantIndex: 1, wantReason: `stack "blt-blog" has an empty role name`},
		{name: "stacks checked in sorted order", cfg: rolemap.Config{Mappings: one(rolemap.Mapping{IdPRole: "x", OrgRole: rolemap.RoleMember,
			StackRoles: map[string][]string{"d": {}, "b": {""}, "c": nil, "e": {""}, "a": {"ok"}}})},
			wantErr: rolemap.ErrInvalidConfig, wantIndex: 1, wantReason: `stack "b" has an empty role name`},
		{name: "first invalid mapping reported", cfg: rolemap.Config{Mappings: []rolemap.Mapping{dev, {IdPRole: "x"}, {}}},
			wantErr: rolemap.ErrInvalidConfig, wantIndex: 1, wantReason: "not admin or member"},
		{name: "disabled config still validated", cfg: rolemap.Config{Enabled: false, Mappings: []rolemap.Mapping{{IdPRole: "x", OrgRole: rolemap.RoleOwner}}},
			wantErr: rolemap.ErrInvalidConfig, wantIndex: 0, wantReason: "owner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Map iteration order varies: the same error every time.
			for range 20 {
				err := tt.cfg.Validate()
				if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
					t.Fatalf("Validate() err = %v; want %v", err, tt.wantErr)
				}
				if err == nil {
					return
				}
				var me *rolemap.MappingError
				if !errors.As(err, &me) {
					t.Fatalf("Validate() err = %T; want *rolemap.MappingError", err)
				}
				if me.Index != tt.wantIndex {
					t.Errorf("Validate() err.Index = %d; want %d", me.Index, tt.wantIndex)
				}
				if want := tt.cfg.Mappings[tt.wantIndex].IdPRole; me.IdPRole != want {
					t.Errorf("Validate() err.IdPRole = %q; want %q", me.IdPRole, want)
				}
				if !strings.Contains(me.Reason, tt.wantReason) {
					t.Fatalf("Validate() err.Reason = %q; want it to contain %q", me.Reason, tt.wantReason)
				}
			}
		})
	}
}

func TestMappingErrorError(t *testing.T) {
	err := &rolemap.MappingError{Index: 3, IdPRole: "Contentstack Admins", Reason: "something is wrong"}
	want := `rolemap: mapping 3 ("Contentstack Admins"): something is wrong`
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
	if got := errors.Unwrap(err); got != rolemap.ErrInvalidConfig {
		t.Errorf("Unwrap() = %v; want %v", got, rolemap.ErrInvalidConfig)
	}
}
