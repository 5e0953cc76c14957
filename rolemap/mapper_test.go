package rolemap_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/orgsso/orgsso/rolemap"
)

// mapBoth maps roles with Config.Map and with a compiled Mapper, and fails
// the test when they disagree.
func mapBoth(t *testing.T, cfg rolemap.Config, roles []string) rolemap.Result {
	t.Helper()
	got := cfg.Map(roles)
	if compiled := cfg.Compile().Map(roles); !reflect.DeepEqual(compiled, got) {
		t.Errorf("Compile().Map(%q) = %+v; want %+v (as Config.Map)", roles, compiled, got)
	}
	return got
}

var (
	devs = rolemap.Mapping{IdPRole: "Contentstack Developers", OrgRole: rolemap.RoleMember,
		StackRoles: map[string][]string{"blt-blog": {"developer"}, "blt-docs": {"reviewer"}}}
	admins = rolemap.Mapping{IdPRole: "Contentstack Admins", OrgRole: rolemap.RoleAdmin,
		StackRoles: map[string][]string{"blt-blog": {"editor", "developer"}}}
	pms = rolemap.Mapping{IdPRole: "Contentstack Project Managers", OrgRole: rolemap.RoleMember,
		StackRoles: map[string][]string{"blt-blog": {"content manager"}, "blt-docs": {"reviewer", "editor"}}}
	auditors = rolemap.Mapping{IdPRole: "Auditors", OrgRole: rolemap.RoleMember}
)

func TestMap(t *testing.T) {
	valid := rolemap.Config{Enabled: true, Delimiter: ",", Mappings: []rolemap.Mapping{devs, admins, pms, auditors}}
	if err := valid.Validate(); err != nil {
		t.Fatalf("Validate() err = %v; want nil", err)
	}
	tests := []struct {
		name  string
		cfg   rolemap.Config
		roles []string
		want  rolemap.Result
	}{
		{name: "no roles", cfg: valid, roles: nil, want: rolemap.Result{}},
		{name: "empty roles", cfg: valid, roles: []string{}, want: rolemap.Result{}},
		{name: "no mappings", cfg: rolemap.Config{}, roles: []string{"Auditors"},
			want: rolemap.Result{Unmatched: []string{"Auditors"}}},
		{name: "nothing matches", cfg: valid, roles: []string{"Everyone", "Staff"},
			want: rolemap.Result{Unmatched: []string{"Everyone", "Staff"}}},
		{name: "one", cfg: valid, roles: []string{"Contentstack Developers"},
			want: rolemap.Result{OrgRole: rolemap.RoleMember,
				StackRoles: map[string][]string{"blt-blog": {"developer"}, "blt-docs": {"reviewer"}},
				Matched:    []rolemap.Mapping{devs}}},
		{name: "admin over member", cfg: valid, roles: []string{"Contentstack Developers", "Contentstack Admins"},
			want: rolemap.Result{OrgRole: rolemap.RoleAdmin,
				StackRoles: map[string][]string{"blt-blog": {"developer", "editor"}, "blt-docs": {"reviewer"}},
				Matched:    []rolemap.Mapping{devs, admins}}},
		{name: "matched in mapping order, not role order", cfg: valid, roles: []string{"Auditors", "Contentstack Admins", "Contentstack Developers"},
			want: rolemap.Result{OrgRole: rolemap.RoleAdmin,
				StackRoles: map[string][]string{"blt-blog": {"developer", "editor"}, "blt-docs": {"reviewer"}},
				Matched:    []rolemap.Mapping{devs, admins, auditors}}},
		{name: "stack roles united, sorted, deduplicated", cfg: valid, roles: []string{"Contentstack Project Managers", "Contentstack Developers", "Contentstack Admins"},
			want: rolemap.Result{OrgRole: rolemap.RoleAdmin,
				StackRoles: map[string][]string{"blt-blog": {"content manager", "developer", "editor"}, "blt-docs": {"editor", "reviewer"}},
				Matched:    []rolemap.Mapping{devs, admins, pms}}},
		{name: "unmatched listed in input order", cfg: valid, roles: []string{"Zeta", "Contentstack Developers", "Alpha"},
			want: rolemap.Result{OrgRole: rolemap.RoleMember,
				StackRoles: map[string][]string{"blt-blog": {"developer"}, "blt-docs": {"reviewer"}},
				Matched:    []rolemap.Mapping{devs}, Unmatched: []string{"Zeta", "Alpha"}}},
		{name: "duplicates in input", cfg: valid, roles: []string{"Zeta", "Auditors", "Alpha", "Auditors", "Zeta", "Zeta"},
			want: rolemap.Result{OrgRole: rolemap.RoleMember, Matched: []rolemap.Mapping{auditors}, Unmatched: []string{"Zeta", "Alpha"}}},
		{name: "mapping with no stack roles", cfg: valid, roles: []string{"Auditors"},
			want: rolemap.Result{OrgRole: rolemap.RoleMember, Matched: []rolemap.Mapping{auditors}}},
		{name: "case-sensitive", cfg: valid, roles: []string{"contentstack admins", "AUDITORS"},
			want: rolemap.Result{Unmatched: []string{"contentstack admins", "AUDITORS"}}},
		{name: "no trimming or splitting", cfg: valid, roles: []string{" Auditors", "Auditors,Contentstack Admins"},
			want: rolemap.Result{Unmatched: []string{" Auditors", "Auditors,Contentstack Admins"}}},
		{name: "Enabled not looked at", cfg: rolemap.Config{Mappings: valid.Mappings}, roles: []string{"Auditors"},
			want: rolemap.Result{OrgRole: rolemap.RoleMember, Matched: []rolemap.Mapping{auditors}}},

		// Invalid configs: deterministic, and never an owner.
		{name: "owner never granted", cfg: rolemap.Config{Mappings: []rolemap.Mapping{{IdPRole: "x", OrgRole: rolemap.RoleOwner, StackRoles: map[string][]string{"s": {"r"}}}}},
			roles: []string{"x"},
			want: rolemap.Result{StackRoles: map[string][]string{"s": {"r"}},
				Matched: []rolemap.Mapping{{IdPRole: "x", OrgRole: rolemap.RoleOwner, StackRoles: map[string][]string{"s": {"r"}}}}}},
		{name: "owner mapping and member mapping", cfg: rolemap.Config{Mappings: []rolemap.Mapping{{IdPRole: "x", OrgRole: rolemap.RoleOwner}, auditors}},
			roles: []string{"x", "Auditors"},
			want:  rolemap.Result{OrgRole: rolemap.RoleMember, Matched: []rolemap.Mapping{{IdPRole: "x", OrgRole: rolemap.RoleOwner}, auditors}}},
		{name: "unknown organization role ignored", cfg: rolemap.Config{Mappings: []rolemap.Mapping{{IdPRole: "x", OrgRole: "superuser"}}},
			roles: []string{"x"},
			want:  rolemap.Result{Matched: []rolemap.Mapping{{IdPRole: "x", OrgRole: "superuser"}}}},
		{name: "identifier mapped twice: both match", cfg: rolemap.Config{Mappings: []rolemap.Mapping{
			{IdPRole: "x", OrgRole: rolemap.RoleAdmin, StackRoles: map[string][]string{"s": {"r2", "r1"}}}, auditors,
			{IdPRole: "x", OrgRole: rolemap.RoleMember, StackRoles: map[string][]string{"s": {"r1", "r0", "r1"}}}}},
			roles: []string{"x", "x"},
			want: rolemap.Result{OrgRole: rolemap.RoleAdmin, StackRoles: map[string][]string{"s": {"r0", "r1", "r2"}},
				Matched: []rolemap.Mapping{
					{IdPRole: "x", OrgRole: rolemap.RoleAdmin, StackRoles: map[string][]string{"s": {"r2", "r1"}}},
					{IdPRole: "x", OrgRole: rolemap.RoleMember, StackRoles: map[string][]string{"s": {"r1", "r0", "r1"}}}}}},
		{name: "stack without roles not granted", cfg: rolemap.Config{Mappings: []rolemap.Mapping{{IdPRole: "x", OrgRole: rolemap.RoleMember, StackRoles: map[string][]string{"s": {}, "t": nil}}}},
			roles: []string{"x"},
			want:  rolemap.Result{OrgRole: rolemap.RoleMember, Matched: []rolemap.Mapping{{IdPRole: "x", OrgRole: rolemap.RoleMember, StackRoles: map[string][]string{"s": {}, "t": nil}}}}},
		{name: "empty identifier matches empty role", cfg: rolemap.Config{Mappings: []rolemap.Mapping{{OrgRole: rolemap.RoleMember}}},
			roles: []string{"", "y"},
			want:  rolemap.Result{OrgRole: rolemap.RoleMember, Matched: []rolemap.Mapping{{OrgRole: rolemap.RoleMember}}, Unmatched: []string{"y"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mapBoth(t, tt.cfg, tt.roles); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Map(%q) = %+v; want %+v", tt.roles, got, tt.want)
			}
		})
	}
}

func TestNilMapper(t *testing.T) {
	var mp *rolemap.Mapper
	want := rolemap.Result{Unmatched: []string{"a", "b"}}
	if got := mp.Map([]string{"a", "b", "a"}); !reflect.DeepEqual(got, want) {
		t.Errorf("(*Mapper)(nil).Map() = %+v; want %+v", got, want)
	}
}

// cloneConfig returns a deep copy of cfg.
func cloneConfig(cfg rolemap.Config) rolemap.Config {
	ms := slices.Clone(cfg.Mappings)
	for i, m := range ms {
		if m.StackRoles != nil {
			sr := make(map[string][]string)
			for k, v := range m.StackRoles {
				sr[k] = slices.Clone(v)
			}
			ms[i].StackRoles = sr
		}
	}
	cfg.Mappings = ms
	return cfg
}

// scribble changes every slice and map a Result holds.
func scribble(res rolemap.Result) {
	for stack, roles := range res.StackRoles {
		for i := range roles {
			roles[i] = "changed"
		}
		_ = append(roles[:0:len(roles)], "appended")
		res.StackRoles[stack+"-new"] = []string{"new"}
	}
	for _, m := range res.Matched {
		for stack, roles := range m.StackRoles {
			for i := range roles {
				roles[i] = "changed"
			}
			m.StackRoles[stack+"-new"] = []string{"new"}
		}
	}
	for i := range res.Unmatched {
		res.Unmatched[i] = "changed"
	}
}

func TestMapResultSharesNothing(t *testing.T) {
	cfg := cloneConfig(rolemap.Config{Mappings: []rolemap.Mapping{devs, admins, pms, auditors}})
	orig := cloneConfig(cfg)
	roles := []string{"Contentstack Developers", "Contentstack Admins", "Contentstack Project Managers", "Everyone"}
	origRoles := slices.Clone(roles)
	mp := cfg.Compile()
	want := cfg.Map(roles)

	scribble(cfg.Map(roles))
	scribble(mp.Map(roles))
	if !reflect.DeepEqual(cfg, orig) {
		t.Errorf("Config after changing a Map() Result = %+v; want %+v", cfg, orig)
	}
	if !slices.Equal(roles, origRoles) {
		t.Errorf("roles after changing a Map() Result = %q; want %q", roles, origRoles)
	}
	for _, got := range []rolemap.Result{cfg.Map(roles), mp.Map(roles)} {
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Map() after changing an earlier Result = %+v; want %+v", got, want)
		}
	}
}

func TestCompileCopiesConfig(t *testing.T) {
	cfg := cloneConfig(rolemap.Config{Mappings: []rolemap.Mapping{devs, admins}})
	roles := []string{"Contentstack Developers", "Contentstack Admins"}
	want := cfg.Map(roles)
	mp := cfg.Compile()

	cfg.Mappings[0].OrgRole = rolemap.RoleAdmin
	cfg.Mappings[0].StackRoles["blt-blog"][0] = "changed"
	cfg.Mappings[1].IdPRole = "changed"
	if got := mp.Map(roles); !reflect.DeepEqual(got, want) {
		t.Errorf("Mapper.Map() after changing the Config = %+v; want %+v", got, want)
	}
}

// TestMapperConcurrent shares one Mapper between goroutines; run with -race.
func TestMapperConcurrent(t *testing.T) {
	cfg, roles := benchConfig(50, 20, 10)
	mp := cfg.Compile()
	want := cfg.Map(roles)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				res := mp.Map(roles)
				if !reflect.DeepEqual(res, want) {
					t.Errorf("Mapper.Map() = %+v; want %+v", res, want)
					return
				}
				scribble(res)
			}
		})
	}
	wg.Wait()
}

// TestMapperAgreesWithConfig compares the two implementations on random
// configs, valid or not, and random roles.
func TestMapperAgreesWithConfig(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(prefix string, n int) string { return fmt.Sprintf("%s%d", prefix, rng.IntN(n)) }
	orgRoles := []rolemap.OrgRole{rolemap.RoleMember, rolemap.RoleAdmin, rolemap.RoleOwner, "", "x"}
	for range 2000 {
		var cfg rolemap.Config
		for range rng.IntN(12) {
			m := rolemap.Mapping{IdPRole: pick("g", 10), OrgRole: orgRoles[rng.IntN(len(orgRoles))]}
			if rng.IntN(4) > 0 { // else nil
				m.StackRoles = make(map[string][]string)
				for range rng.IntN(3) {
					stack := pick("s", 3)
					switch rng.IntN(5) {
					case 0:
						m.StackRoles[stack] = nil
					case 1:
						m.StackRoles[stack] = []string{}
					default:
						for range 1 + rng.IntN(3) {
							m.StackRoles[stack] = append(m.StackRoles[stack], pick("r", 4))
						}
					}
				}
			}
			cfg.Mappings = append(cfg.Mappings, m)
		}
		var roles []string
		for range rng.IntN(12) {
			roles = append(roles, pick("g", 14))
		}
		mapBoth(t, cfg, roles)
	}
}

// benchConfig returns n mappings, and roles IdP roles of which matched are
// mapped.
func benchConfig(n, roles, matched int) (rolemap.Config, []string) {
	cfg := rolemap.Config{Enabled: true, Delimiter: ","}
	for i := range n {
		m := rolemap.Mapping{IdPRole: fmt.Sprintf("group-%d", i), OrgRole: rolemap.RoleMember,
			StackRoles: map[string][]string{
				fmt.Sprintf("blt-stack-%d", i%20):     {"developer", "editor"},
				fmt.Sprintf("blt-stack-%d", (i+1)%20): {fmt.Sprintf("role-%d", i%7)},
			}}
		if i%10 == 0 {
			m.OrgRole = rolemap.RoleAdmin
		}
		cfg.Mappings = append(cfg.Mappings, m)
	}
	var idpRoles []string
	for j := range roles {
		if j < matched {
			idpRoles = append(idpRoles, fmt.Sprintf("group-%d", (j*7)%n))
		} else {
			idpRoles = append(idpRoles, fmt.Sprintf("other-%d", j))
		}
	}
	return cfg, idpRoles
}

// BenchmarkMap maps 200 IdP roles against 1,000 mappings: a user in many
// groups, of which 10 (typical) or 100 (extreme) are mapped. Config.Map does it
// from scratch; Mapper.Map uses a Mapper compiled once.
func BenchmarkMap(b *testing.B) {
	for _, matched := range []int{10, 100} {
		cfg, roles := benchConfig(1000, 200, matched)
		if err := cfg.Validate(); err != nil {
			b.Fatalf("Validate() err = %v; want nil", err)
		}
		if res := cfg.Map(roles); len(res.Matched) != matched || len(res.Unmatched) != 200-matched {
			b.Fatalf("Map() matched %d, unmatched %d; want %d, %d", len(res.Matched), len(res.Unmatched), matched, 200-matched)
		}
		mp := cfg.Compile()
		b.Run(fmt.Sprintf("Config.Map/matched=%d", matched), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				cfg.Map(roles)
			}
		})
		b.Run(fmt.Sprintf("Mapper.Map/matched=%d", matched), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				mp.Map(roles)
			}
		})
	}
}

// BenchmarkCompile compiles 1,000 mappings.
func BenchmarkCompile(b *testing.B) {
	cfg, _ := benchConfig(1000, 0, 0)
	b.ReportAllocs()
	for b.Loop() {
		cfg.Compile()
	}
}

func BenchmarkParseRoles(b *testing.B) {
	_, roles := benchConfig(1000, 200, 100)
	values := []string{strings.Join(roles, ", "), "a; b", "c"}
	b.ReportAllocs()
	for b.Loop() {
		rolemap.ParseRoles(values, ",")
	}
}
