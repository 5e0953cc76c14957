package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgsso/orgsso/sso"
)

var domainTests = []test{
	{"RoundTrip", testDomainsRoundTrip},
	{"NoneIsNil", testDomainsNoneIsNil},
	{"Copies", testDomainsCopies},
	{"UpdateCAS", testDomainsUpdate},
}

var orgByDomainTests = []test{
	{"Lookup", testOrgByDomainLookup},
	{"ListChanges", testOrgByDomainListChanges},
	{"StaleUpdate", testOrgByDomainStaleUpdate},
}

var domainUniquenessTests = []test{
	{"Steps", testDomainUniqueness},
	{"NothingWritten", testDomainTakenWritesNothing},
	{"ErrorOrder", testDomainTakenErrorOrder},
}

var domainConcurrencyTests = []test{
	{"Update", testVerifyDomainConcurrently},
	{"Create", testCreateVerifiedDomainConcurrently},
	{"Swap", testSwapDomainsConcurrently},
}

// domainsOrg returns an organization whose domains are ds, with fullOrg's
// other fields.
func domainsOrg(id, name string, ds ...sso.Domain) *sso.Organization {
	o := fullOrg(id, name)
	o.Domains = ds
	return o
}

// verified returns a domain claim verified at t0 plus n seconds.
func verified(name string, n int) sso.Domain {
	return sso.Domain{Name: name, Token: "token-" + name, VerifiedAt: t0.Add(time.Duration(n) * time.Second)}
}

// claimed returns a domain claim not verified yet.
func claimed(name string) sso.Domain {
	return sso.Domain{Name: name, Token: "token-" + name}
}

// normOrg returns a copy of o with the times of its domains normalized (as
// normTime), for comparing with what a store read back; nil stays nil.
func normOrg(o *sso.Organization) *sso.Organization {
	if o == nil {
		return nil
	}
	c := o.Clone()
	for i := range c.Domains {
		c.Domains[i].VerifiedAt = normTime(c.Domains[i].VerifiedAt)
	}
	return c
}

// checkDomainOwners checks what OrganizationByDomain finds: owners maps a
// domain to the ID of the organization that must be found by it ("" =
// ErrNotFound). The organization found must be the one Organization
// returns for its ID.
func checkDomainOwners(t *testing.T, ctx context.Context, st Store, step string, owners map[string]string) {
	t.Helper()
	for domain, id := range owners {
		got, err := st.OrganizationByDomain(ctx, domain)
		switch {
		case id == "" && !errors.Is(err, sso.ErrNotFound):
			t.Errorf("%s: OrganizationByDomain(%q) = %+v, %v; want ErrNotFound", step, domain, got, err)
		case id == "":
		case err != nil || got == nil || got.ID != id:
			t.Errorf("%s: OrganizationByDomain(%q) = %+v, %v; want organization %q", step, domain, got, err, id)
		default:
			if byID, err := st.Organization(ctx, id); err != nil || !reflect.DeepEqual(got, byID) {
				t.Errorf("%s: OrganizationByDomain(%q) = %#v; Organization(%q) = %#v, %v: want the same", step, domain, got, id, byID, err)
			}
		}
	}
}

// checkDomainsEverywhere reads want back by ID, by SSO name and by each of
// its verified domains: every read must equal want, domain times
// normalized.
func checkDomainsEverywhere(t *testing.T, ctx context.Context, st Store, step string, want *sso.Organization) {
	t.Helper()
	want = normOrg(want)
	reads := map[string]func() (*sso.Organization, error){
		fmt.Sprintf("Organization(%q)", want.ID): func() (*sso.Organization, error) { return st.Organization(ctx, want.ID) },
	}
	if want.SSOName != "" {
		reads[fmt.Sprintf("OrganizationBySSOName(%q)", want.SSOName)] = func() (*sso.Organization, error) {
			return st.OrganizationBySSOName(ctx, want.SSOName)
		}
	}
	for _, d := range want.Domains {
		if d.Verified() && d.Name != "" {
			reads[fmt.Sprintf("OrganizationByDomain(%q)", d.Name)] = func() (*sso.Organization, error) {
				return st.OrganizationByDomain(ctx, d.Name)
			}
		}
	}
	for name, read := range reads {
		got, err := read()
		if err != nil || !reflect.DeepEqual(normOrg(got), want) {
			t.Errorf("%s: %s = %#v, %v; want %#v", step, name, got, err, want)
		}
	}
}

// testDomainsRoundTrip saves organizations with domains of every shape,
// through SaveOrganization, CreateOrganization and UpdateOrganization, and
// reads each back exactly, by ID, by SSO name and by each verified domain:
// every field, the order of the claims, VerifiedAt to the nanosecond (in
// UTC, without a monotonic reading), unverified claims with the zero time.
func testDomainsRoundTrip(t *testing.T, ctx context.Context, st Store) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	many := make([]sso.Domain, sso.MaxDomains)
	for i := range many {
		// Neither sorted by name nor by time; every other one verified.
		many[i] = claimed(fmt.Sprintf("d%02d.many.example", (i*7)%sso.MaxDomains))
		if i%2 == 0 {
			many[i].VerifiedAt = t0.Add(-time.Duration(i) * time.Hour)
		}
	}
	unusual := []sso.Domain{
		{Name: "zeta.example", Token: "Ωmega 👩‍💻 \"quoted\" 'single' \\ back\nslash\ttab", VerifiedAt: time.Now()}, // monotonic reading
		{Name: "alpha.example", Token: strings.Repeat("t", 128), VerifiedAt: time.Date(2026, 7, 1, 9, 30, 0, 123456789, paris)},
		{Name: "xn--bcher-kva.example", Token: "", VerifiedAt: time.Date(0, 1, 1, 0, 0, 0, 1, time.UTC)},
		{Name: "late.example", Token: "[]", VerifiedAt: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		{Name: "pending.example", Token: "null"},
		{},                           // the zero claim: not verified, no name
		{Name: "", VerifiedAt: t0},   // verified without a name: stored, never found
		claimed("zeta.example"),      // listed twice (stores do not validate)
		verified("dup.example", 1),   // verified twice: one holder
		verified("dup.example", 2),   //
		claimed("sub.alpha.example"), // a subdomain of a verified one
	}
	orgs := []*sso.Organization{
		fullOrg("org-full", "full"),
		domainsOrg("org-one", "one", verified("one.example", 0)),
		domainsOrg("org-claimed", "claimed", claimed("claimed-only.example")),
		domainsOrg("org-unusual", "unusual", unusual...),
		domainsOrg("org-many", "many", many...),
		domainsOrg("org-draft", "", verified("draft.example", 3)), // a draft may verify a domain
	}
	for _, o := range orgs {
		if err := st.SaveOrganization(ctx, o); err != nil {
			t.Errorf("SaveOrganization(%q) err = %v; want nil", o.ID, err)
			continue
		}
		checkDomainsEverywhere(t, ctx, st, "SaveOrganization", o)
	}
	// The same, created, under other names; then updated back and forth.
	for _, o := range orgs {
		c := o.Clone()
		c.ID = "created-" + o.ID
		if c.SSOName != "" {
			c.SSOName = "created-" + c.SSOName
		}
		for i := range c.Domains {
			if c.Domains[i].Name != "" {
				c.Domains[i].Name = "created-" + c.Domains[i].Name
			}
		}
		if err := st.CreateOrganization(ctx, c); err != nil {
			t.Errorf("CreateOrganization(%q) err = %v; want nil", c.ID, err)
			continue
		}
		checkDomainsEverywhere(t, ctx, st, "CreateOrganization", c)
		u := c.Clone()
		u.Domains = renamed(o.Domains[len(o.Domains)/2:], "updated-") // half of them, under new names

		if err := st.UpdateOrganization(ctx, u); err != nil || u.Version != 2 {
			t.Errorf("UpdateOrganization(%q) = %v, version %d; want nil, 2", u.ID, err, u.Version)
			continue
		}
		checkDomainsEverywhere(t, ctx, st, "UpdateOrganization", u)
		c.Version = 2
		if err := st.UpdateOrganization(ctx, c); err != nil {
			t.Errorf("UpdateOrganization(%q back) err = %v; want nil", c.ID, err)
			continue
		}
		checkDomainsEverywhere(t, ctx, st, "UpdateOrganization back", c)
	}
}

// renamed returns a copy of ds with prefix before every non-empty name.
func renamed(ds []sso.Domain, prefix string) []sso.Domain {
	out := make([]sso.Domain, len(ds))
	for i, d := range ds {
		if d.Name != "" {
			d.Name = prefix + d.Name
		}
		out[i] = d
	}
	return out
}

// testDomainsNoneIsNil: an organization without domains, nil or empty,
// reads back with nil Domains, in every store (an SQL store cannot tell
// them apart for organizations stored before domains were), through
// SaveOrganization, CreateOrganization and UpdateOrganization.
func testDomainsNoneIsNil(t *testing.T, ctx context.Context, st Store) {
	for i, ds := range [][]sso.Domain{nil, {}, make([]sso.Domain, 0, 4)} {
		o := fullOrg(fmt.Sprintf("org%d", i), fmt.Sprintf("name%d", i))
		o.Domains = ds // keep empty apart from nil
		if err := st.SaveOrganization(ctx, o); err != nil {
			t.Fatal(err)
		}
		want := o.Clone()
		want.Domains = nil
		checkOrgEverywhere(t, ctx, st, fmt.Sprintf("saved with Domains %#v", ds), want)

		o.Domains = ds
		if err := st.UpdateOrganization(ctx, o); err != nil {
			t.Fatalf("UpdateOrganization(%q) err = %v", o.ID, err)
		}
		want.Version = o.Version
		checkOrgEverywhere(t, ctx, st, fmt.Sprintf("updated with Domains %#v", ds), want)

		c := fullOrg(fmt.Sprintf("created%d", i), fmt.Sprintf("created-name%d", i))
		c.Domains = ds
		if err := st.CreateOrganization(ctx, c); err != nil {
			t.Fatal(err)
		}
		wantC := c.Clone()
		wantC.Domains = nil
		checkOrgEverywhere(t, ctx, st, fmt.Sprintf("created with Domains %#v", ds), wantC)
	}
}

// mutateDomains changes every domain of o in place, and the list itself.
func mutateDomains(o *sso.Organization) {
	for i := range o.Domains {
		d := &o.Domains[i]
		d.Name, d.Token = "changed.example", "changed"
		d.VerifiedAt = d.VerifiedAt.Add(time.Hour)
	}
	o.Domains = append(o.Domains, verified("appended.example", 9))
}

// testDomainsCopies: changing the domains of a value after saving it,
// creating it or updating it with it, or of one a lookup returned (by
// OrganizationByDomain too), changes neither what the store holds nor what
// it finds by domain.
func testDomainsCopies(t *testing.T, ctx context.Context, st Store) {
	saved := fullOrg("org1", "acme")
	if err := st.SaveOrganization(ctx, saved); err != nil {
		t.Fatal(err)
	}
	mutateDomains(saved)
	created := fullOrg("org2", "globex")
	if err := st.CreateOrganization(ctx, created); err != nil {
		t.Fatal(err)
	}
	mutateDomains(created)
	want1, want2 := fullOrg("org1", "acme"), withVersion(fullOrg("org2", "globex"), 1)
	checkOrgs(t, ctx, st, "after mutating the saved and created values",
		map[string]*sso.Organization{"org1": want1, "org2": want2}, nil)
	owners := map[string]string{verifiedDomain("org1"): "org1", verifiedDomain("org2"): "org2",
		"changed.example": "", "appended.example": ""}
	checkDomainOwners(t, ctx, st, "after mutating the saved and created values", owners)

	updated := withVersion(fullOrg("org2", "globex"), 1)
	if err := st.UpdateOrganization(ctx, updated); err != nil {
		t.Fatal(err)
	}
	mutateDomains(updated)
	want2.Version = 2
	checkOrgs(t, ctx, st, "after mutating the updated value", map[string]*sso.Organization{"org2": want2}, nil)
	checkDomainOwners(t, ctx, st, "after mutating the updated value", owners)

	for _, lookup := range []func() (*sso.Organization, error){
		func() (*sso.Organization, error) { return st.Organization(ctx, "org1") },
		func() (*sso.Organization, error) { return st.OrganizationBySSOName(ctx, "acme") },
		func() (*sso.Organization, error) { return st.OrganizationByDomain(ctx, verifiedDomain("org1")) },
	} {
		got, err := lookup()
		if err != nil {
			t.Fatal(err)
		}
		mutateDomains(got)
		checkOrgs(t, ctx, st, "after mutating a returned value", map[string]*sso.Organization{"org1": want1}, nil)
		checkDomainOwners(t, ctx, st, "after mutating a returned value", owners)
	}
}

// testDomainsUpdate: UpdateOrganization changes the domains only from the
// stored Version: a stale update changes none of them, and each successful
// one stores them as given.
func testDomainsUpdate(t *testing.T, ctx context.Context, st Store) {
	o := domainsOrg("org1", "acme", claimed("a.example"))
	if err := st.CreateOrganization(ctx, o); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		version int64
		ds      []sso.Domain
		wantErr error
	}{
		{name: "verify a, claim b", version: 1, ds: []sso.Domain{verified("a.example", 1), claimed("b.example")}},
		{name: "stale: remove them all", version: 1, ds: nil, wantErr: sso.ErrConflict},
		{name: "future version", version: 9, ds: nil, wantErr: sso.ErrConflict},
		{name: "verify b, reorder", version: 2, ds: []sso.Domain{verified("b.example", 2), verified("a.example", 1)}},
		{name: "stale: unverify a", version: 2, ds: []sso.Domain{verified("b.example", 2), claimed("a.example")}, wantErr: sso.ErrConflict},
		{name: "remove them all", version: 3, ds: nil},
		{name: "claim c", version: 4, ds: []sso.Domain{claimed("c.example")}},
	}
	want := withVersion(o.Clone(), 1)
	for _, s := range steps {
		u := domainsOrg("org1", "acme", s.ds...)
		u.Version = s.version
		err := st.UpdateOrganization(ctx, u)
		if !errors.Is(err, s.wantErr) {
			t.Fatalf("%s: UpdateOrganization(from version %d) err = %v; want %v", s.name, s.version, err, s.wantErr)
		}
		if err == nil {
			want = u.Clone()
			if len(want.Domains) == 0 {
				want.Domains = nil
			}
		} else if u.Version != s.version {
			t.Errorf("%s: refused update changed org.Version to %d", s.name, u.Version)
		}
		checkDomainsEverywhere(t, ctx, st, s.name, want)
		owners := map[string]string{"a.example": "", "b.example": "", "c.example": ""}
		for _, d := range want.Domains {
			if d.Verified() {
				owners[d.Name] = "org1"
			}
		}
		checkDomainOwners(t, ctx, st, s.name, owners)
	}
}

// testOrgByDomainLookup: OrganizationByDomain finds an organization by a
// domain it has verified, exactly: not by one it only claims, an unknown
// one, the empty name, another spelling (the store does not lowercase or
// trim; the Service asks lowercase names), a subdomain or a parent of a
// verified one, an SSO name or an ID.
func testOrgByDomainLookup(t *testing.T, ctx context.Context, st Store) {
	acme := domainsOrg("org1", "acme", verified("acme.example", 1), claimed("acme-pending.example"), verified("eu.acme-corp.example", 2))
	draft := &sso.Organization{ID: "draft", Domains: []sso.Domain{verified("draft.example", 3)}}
	globex := domainsOrg("org2", "globex", claimed("acme-pending.example")) // claims what org1 claims: allowed
	for _, o := range []*sso.Organization{acme, draft, globex} {
		if err := st.SaveOrganization(ctx, o); err != nil {
			t.Fatalf("SaveOrganization(%q) err = %v; want nil", o.ID, err)
		}
	}
	checkDomainOwners(t, ctx, st, "lookup", map[string]string{
		"acme.example":         "org1",
		"eu.acme-corp.example": "org1",
		"draft.example":        "draft",
		"acme-pending.example": "", // claimed by two, verified by none
		"globex.example":       "",
		"":                     "",
		"ACME.example":         "",
		"acme.example.":        "",
		" acme.example":        "",
		"www.acme.example":     "",
		"acme-corp.example":    "",
		"example":              "",
		"acme":                 "",
		"org1":                 "",
		"' OR '1'='1":          "",
	})
	for _, o := range []*sso.Organization{acme, draft} {
		checkDomainsEverywhere(t, ctx, st, "lookup", o)
	}
}

// testOrgByDomainListChanges: OrganizationByDomain follows every change of
// an organization's domains, through SaveOrganization and
// UpdateOrganization: a claim verified is found, a domain removed or
// unverified is not, a renamed or replaced list is found by its new names
// only; other organizations' domains stay as they are.
func testOrgByDomainListChanges(t *testing.T, ctx context.Context, st Store) {
	other := domainsOrg("org2", "globex", verified("globex.example", 0))
	if err := st.SaveOrganization(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateOrganization(ctx, domainsOrg("org1", "acme", claimed("a.example"), claimed("b.example"))); err != nil {
		t.Fatal(err)
	}
	all := []string{"a.example", "b.example", "c.example", "d.example"}
	steps := []struct {
		name     string
		save     bool // SaveOrganization, else UpdateOrganization
		ds       []sso.Domain
		verified []string
	}{
		{name: "verify a", ds: []sso.Domain{verified("a.example", 1), claimed("b.example")}, verified: []string{"a.example"}},
		{name: "verify b", save: true, ds: []sso.Domain{verified("a.example", 1), verified("b.example", 2)}, verified: []string{"a.example", "b.example"}},
		{name: "remove a", ds: []sso.Domain{verified("b.example", 2)}, verified: []string{"b.example"}},
		{name: "unverify b (claimed again)", save: true, ds: []sso.Domain{claimed("b.example")}},
		{name: "replace the list", ds: []sso.Domain{verified("c.example", 3), verified("d.example", 4), claimed("a.example")},
			verified: []string{"c.example", "d.example"}},
		{name: "rename d to b", save: true, ds: []sso.Domain{verified("c.example", 3), verified("b.example", 4), claimed("a.example")},
			verified: []string{"b.example", "c.example"}},
		{name: "remove them all", ds: nil},
		{name: "verify a again", save: true, ds: []sso.Domain{verified("a.example", 5)}, verified: []string{"a.example"}},
		{name: "remove them all, saved", save: true, ds: []sso.Domain{}},
	}
	version := int64(1)
	for _, s := range steps {
		o := domainsOrg("org1", "acme", s.ds...)
		o.Version = version
		var err error
		if s.save {
			err = st.SaveOrganization(ctx, o)
		} else {
			err = st.UpdateOrganization(ctx, o)
		}
		if err != nil {
			t.Fatalf("%s: err = %v; want nil", s.name, err)
		}
		version = o.Version
		owners := map[string]string{"globex.example": "org2"}
		for _, d := range all {
			owners[d] = ""
		}
		for _, d := range s.verified {
			owners[d] = "org1"
		}
		checkDomainOwners(t, ctx, st, s.name, owners)
		if len(o.Domains) == 0 {
			o.Domains = nil
		}
		checkDomainsEverywhere(t, ctx, st, s.name, o)
	}
	checkDomainsEverywhere(t, ctx, st, "at the end", other)
}

// testOrgByDomainStaleUpdate: an update refused with ErrConflict changes
// nothing OrganizationByDomain finds: the domain it would have verified is
// not found, the one it would have removed still is.
func testOrgByDomainStaleUpdate(t *testing.T, ctx context.Context, st Store) {
	o := domainsOrg("org1", "acme", verified("kept.example", 1), claimed("new.example"))
	if err := st.CreateOrganization(ctx, o); err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateOrganization(ctx, o); err != nil { // to Version 2
		t.Fatal(err)
	}
	stale := domainsOrg("org1", "acme", verified("new.example", 2))
	stale.Version = 1
	if err := st.UpdateOrganization(ctx, stale); !errors.Is(err, sso.ErrConflict) {
		t.Fatalf("UpdateOrganization(stale) err = %v; want ErrConflict", err)
	}
	unknown := domainsOrg("org9", "initech", verified("unknown.example", 3))
	unknown.Version = 1
	if err := st.UpdateOrganization(ctx, unknown); !errors.Is(err, sso.ErrNotFound) {
		t.Fatalf("UpdateOrganization(unknown ID) err = %v; want ErrNotFound", err)
	}
	checkDomainOwners(t, ctx, st, "after the refused updates",
		map[string]string{"kept.example": "org1", "new.example": "", "unknown.example": ""})
	checkDomainsEverywhere(t, ctx, st, "after the refused updates", o)
}

// testDomainUniqueness runs a sequence of writes of organizations'
// domains; each step's error and what OrganizationByDomain then finds are
// checked. A domain is verified by at most one organization; claims (not
// verified) are not unique.
func testDomainUniqueness(t *testing.T, ctx context.Context, st Store) {
	type write int
	const (
		save write = iota
		create
		update
	)
	versions := map[string]int64{}
	steps := []struct {
		name    string
		how     write
		id      string
		ds      []sso.Domain
		wantErr error
		owners  map[string]string // domain -> organization ID ("" = not found)
	}{
		{name: "org1 verifies a", how: save, id: "org1", ds: []sso.Domain{verified("a.example", 1)},
			owners: map[string]string{"a.example": "org1"}},
		{name: "org2 claims a: allowed", how: create, id: "org2", ds: []sso.Domain{claimed("a.example")},
			owners: map[string]string{"a.example": "org1"}},
		{name: "org2 verifies a by update", how: update, id: "org2", ds: []sso.Domain{verified("a.example", 2)}, wantErr: sso.ErrDomainTaken,
			owners: map[string]string{"a.example": "org1"}},
		{name: "org2 verifies a by save", how: save, id: "org2", ds: []sso.Domain{verified("a.example", 2)}, wantErr: sso.ErrDomainTaken,
			owners: map[string]string{"a.example": "org1"}},
		{name: "org3 created verifying a", how: create, id: "org3", ds: []sso.Domain{verified("a.example", 3)}, wantErr: sso.ErrDomainTaken,
			owners: map[string]string{"a.example": "org1"}},
		{name: "org3 saved verifying a", how: save, id: "org3", ds: []sso.Domain{verified("a.example", 3)}, wantErr: sso.ErrDomainTaken,
			owners: map[string]string{"a.example": "org1"}},
		{name: "org1 saves a again", how: save, id: "org1", ds: []sso.Domain{verified("a.example", 4)},
			owners: map[string]string{"a.example": "org1"}},
		{name: "org1 verifies b too", how: update, id: "org1", ds: []sso.Domain{verified("a.example", 4), verified("b.example", 5)},
			owners: map[string]string{"a.example": "org1", "b.example": "org1"}},
		{name: "org1 unverifies a", how: update, id: "org1", ds: []sso.Domain{claimed("a.example"), verified("b.example", 5)},
			owners: map[string]string{"a.example": "", "b.example": "org1"}},
		{name: "org2 verifies the freed a", how: update, id: "org2", ds: []sso.Domain{verified("a.example", 6)},
			owners: map[string]string{"a.example": "org2", "b.example": "org1"}},
		{name: "org1 verifies a back", how: update, id: "org1", ds: []sso.Domain{verified("a.example", 7), verified("b.example", 5)}, wantErr: sso.ErrDomainTaken,
			owners: map[string]string{"a.example": "org2", "b.example": "org1"}},
		{name: "org1 removes b", how: save, id: "org1", ds: nil,
			owners: map[string]string{"a.example": "org2", "b.example": ""}},
		{name: "org3 created verifying the freed b", how: create, id: "org3", ds: []sso.Domain{verified("b.example", 8)},
			owners: map[string]string{"a.example": "org2", "b.example": "org3"}},
		{name: "names differing in case are different", how: update, id: "org1", ds: []sso.Domain{verified("A.example", 9)},
			owners: map[string]string{"a.example": "org2", "A.example": "org1"}},
		{name: "verified without a name: never taken", how: update, id: "org1", ds: []sso.Domain{verified("", 10)},
			owners: map[string]string{"": "", "A.example": ""}},
		{name: "verified without a name, twice", how: update, id: "org2", ds: []sso.Domain{verified("", 11), verified("a.example", 6)},
			owners: map[string]string{"": "", "a.example": "org2"}},
	}
	stored := map[string]*sso.Organization{}
	for _, s := range steps {
		o := domainsOrg(s.id, "name-"+s.id, s.ds...)
		o.Version = versions[s.id]
		var err error
		switch s.how {
		case save:
			err = st.SaveOrganization(ctx, o)
		case create:
			err = st.CreateOrganization(ctx, o)
		case update:
			err = st.UpdateOrganization(ctx, o)
		}
		if !errors.Is(err, s.wantErr) {
			t.Fatalf("%s: err = %v; want %v", s.name, err, s.wantErr)
		}
		if err == nil {
			versions[s.id] = o.Version
			stored[s.id] = o.Clone()
			if len(o.Domains) == 0 {
				stored[s.id].Domains = nil
			}
		} else if o.Version != versions[s.id] {
			t.Errorf("%s: a refused write changed org.Version to %d", s.name, o.Version)
		}
		checkDomainOwners(t, ctx, st, s.name, s.owners)
		for _, id := range []string{"org1", "org2", "org3"} {
			checkOrgs(t, ctx, st, s.name, map[string]*sso.Organization{id: stored[id]}, nil)
		}
	}
}

// testDomainTakenWritesNothing: a write refused with ErrDomainTaken
// changes nothing: not the organization, and not the domains it would have
// verified before or after the taken one, nor those it would have
// released, in any order of their names.
func testDomainTakenWritesNothing(t *testing.T, ctx context.Context, st Store) {
	holder := domainsOrg("holder", "holder", verified("m-taken.example", 0))
	if err := st.SaveOrganization(ctx, holder); err != nil {
		t.Fatal(err)
	}
	o := domainsOrg("org1", "acme", verified("a-held.example", 1), verified("z-held.example", 2), claimed("b-claimed.example"))
	if err := st.CreateOrganization(ctx, o); err != nil {
		t.Fatal(err)
	}
	// Claims and releases on both sides of the taken name.
	refused := domainsOrg("org1", "acme-renamed",
		verified("z-new.example", 3), verified("m-taken.example", 4), verified("a-new.example", 5), verified("b-claimed.example", 6))
	refused.Version = 1
	refused.OwnerID = "someone else"
	for name, write := range map[string]func() error{
		"UpdateOrganization": func() error { return st.UpdateOrganization(ctx, refused) },
		"SaveOrganization":   func() error { return st.SaveOrganization(ctx, refused) },
		"CreateOrganization": func() error {
			c := refused.Clone()
			c.ID, c.SSOName = "org2", "initech"
			return st.CreateOrganization(ctx, c)
		},
	} {
		if err := write(); !errors.Is(err, sso.ErrDomainTaken) {
			t.Errorf("%s(verifying a taken domain) err = %v; want ErrDomainTaken", name, err)
		}
		if refused.Version != 1 {
			t.Errorf("%s: refused write changed org.Version to %d", name, refused.Version)
		}
		checkOrgs(t, ctx, st, "after a refused "+name,
			map[string]*sso.Organization{"org1": withVersion(o.Clone(), 1), "org2": nil, "holder": holder},
			map[string]string{"acme": "org1", "acme-renamed": "", "initech": ""})
		checkDomainOwners(t, ctx, st, "after a refused "+name, map[string]string{
			"a-held.example": "org1", "z-held.example": "org1", "m-taken.example": "holder",
			"a-new.example": "", "z-new.example": "", "b-claimed.example": "",
		})
	}
	// Without the taken domain, the same write goes through.
	refused.Domains = append(refused.Domains[:1], refused.Domains[2:]...)
	if err := st.UpdateOrganization(ctx, refused); err != nil {
		t.Fatalf("UpdateOrganization(without the taken domain) err = %v; want nil", err)
	}
	checkDomainOwners(t, ctx, st, "after the update", map[string]string{
		"a-held.example": "", "z-held.example": "", "m-taken.example": "holder",
		"a-new.example": "org1", "z-new.example": "org1", "b-claimed.example": "org1",
	})
}

// testDomainTakenErrorOrder: ErrDomainTaken comes last. CreateOrganization:
// ErrDuplicateID, then ErrSSONameTaken; UpdateOrganization: ErrNotFound,
// ErrConflict, then ErrSSONameTaken; SaveOrganization: ErrSSONameTaken.
func testDomainTakenErrorOrder(t *testing.T, ctx context.Context, st Store) {
	if err := st.CreateOrganization(ctx, domainsOrg("org1", "acme", verified("taken.example", 1))); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateOrganization(ctx, domainsOrg("org2", "globex")); err != nil {
		t.Fatal(err)
	}
	taking := func(id, name string, version int64) *sso.Organization {
		o := domainsOrg(id, name, verified("taken.example", 2))
		o.Version = version
		return o
	}
	for _, tt := range []struct {
		name    string
		err     error
		wantErr error
	}{
		{"CreateOrganization(an ID taken)", st.CreateOrganization(ctx, taking("org2", "fresh", 0)), sso.ErrDuplicateID},
		{"CreateOrganization(a name taken)", st.CreateOrganization(ctx, taking("org3", "acme", 0)), sso.ErrSSONameTaken},
		{"CreateOrganization(only the domain taken)", st.CreateOrganization(ctx, taking("org3", "fresh", 0)), sso.ErrDomainTaken},
		{"UpdateOrganization(unknown ID)", st.UpdateOrganization(ctx, taking("org9", "fresh", 1)), sso.ErrNotFound},
		{"UpdateOrganization(stale)", st.UpdateOrganization(ctx, taking("org2", "globex", 7)), sso.ErrConflict},
		{"UpdateOrganization(a name taken)", st.UpdateOrganization(ctx, taking("org2", "acme", 1)), sso.ErrSSONameTaken},
		{"UpdateOrganization(only the domain taken)", st.UpdateOrganization(ctx, taking("org2", "globex", 1)), sso.ErrDomainTaken},
		{"SaveOrganization(a name taken)", st.SaveOrganization(ctx, taking("org2", "acme", 1)), sso.ErrSSONameTaken},
		{"SaveOrganization(only the domain taken)", st.SaveOrganization(ctx, taking("org2", "globex", 1)), sso.ErrDomainTaken},
	} {
		if !errors.Is(tt.err, tt.wantErr) {
			t.Errorf("%s err = %v; want %v", tt.name, tt.err, tt.wantErr)
		}
	}
	checkOrgs(t, ctx, st, "after the refused writes", map[string]*sso.Organization{
		"org2": withVersion(domainsOrg("org2", "globex"), 1), "org3": nil, "org9": nil,
	}, map[string]string{"fresh": ""})
	checkDomainOwners(t, ctx, st, "after the refused writes", map[string]string{"taken.example": "org1"})
}

// raceDomain is the domain the concurrency tests fight over.
const raceDomain = "contested.example"

// testVerifyDomainConcurrently: racers organizations that claim one domain
// verify it at once, each by UpdateOrganization: exactly one succeeds, the
// others get ErrDomainTaken and keep their Version and their claim; the
// domain finds the winner.
func testVerifyDomainConcurrently(t *testing.T, ctx context.Context, st Store) {
	for i := range racers {
		o := domainsOrg(orgName(i), orgName(i), claimed(raceDomain), verified(orgName(i)+".example", i))
		if err := st.CreateOrganization(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	edits := make([]*sso.Organization, racers)
	for i := range edits {
		edits[i] = domainsOrg(orgName(i), orgName(i), verified(raceDomain, i), verified(orgName(i)+".example", i))
		edits[i].Version = 1
	}
	errs := race(func(i int) error { return st.UpdateOrganization(ctx, edits[i]) })
	winner := oneWinner(t, "UpdateOrganization(verifying "+raceDomain+")", errs, sso.ErrDomainTaken)
	want := map[string]*sso.Organization{}
	owners := map[string]string{raceDomain: ""}
	for i, e := range edits {
		if wantV := int64(1 + b2i(i == winner)); e.Version != wantV {
			t.Errorf("goroutine %d's org.Version after the race = %d; want %d", i, e.Version, wantV)
		}
		want[orgName(i)] = withVersion(domainsOrg(orgName(i), orgName(i), claimed(raceDomain), verified(orgName(i)+".example", i)), 1)
		owners[orgName(i)+".example"] = orgName(i)
	}
	if winner >= 0 {
		want[orgName(winner)] = edits[winner]
		owners[raceDomain] = orgName(winner)
	}
	checkOrgs(t, ctx, st, "after the race", want, nil)
	checkDomainOwners(t, ctx, st, "after the race", owners)
}

// testCreateVerifiedDomainConcurrently: racers organizations verifying one
// domain are created at once: exactly one is, the others get
// ErrDomainTaken and are not created.
func testCreateVerifiedDomainConcurrently(t *testing.T, ctx context.Context, st Store) {
	errs := race(func(i int) error {
		return st.CreateOrganization(ctx, domainsOrg(orgName(i), orgName(i), verified(orgName(i)+".example", i), verified(raceDomain, i)))
	})
	winner := oneWinner(t, "CreateOrganization(verifying "+raceDomain+")", errs, sso.ErrDomainTaken)
	want := map[string]*sso.Organization{}
	owners := map[string]string{raceDomain: ""}
	for i := range racers {
		want[orgName(i)] = nil
		owners[orgName(i)+".example"] = ""
	}
	if winner >= 0 {
		want[orgName(winner)] = withVersion(domainsOrg(orgName(winner), orgName(winner),
			verified(orgName(winner)+".example", winner), verified(raceDomain, winner)), 1)
		owners[raceDomain] = orgName(winner)
		owners[orgName(winner)+".example"] = orgName(winner)
	}
	checkOrgs(t, ctx, st, "after the race", want, nil)
	checkDomainOwners(t, ctx, st, "after the race", owners)
}

// testSwapDomainsConcurrently: pairs of organizations try, at once, to take
// each other's verified domain while giving up their own, round after
// round, with saves and with updates. Every write succeeds or gets
// ErrDomainTaken (never a deadlock or another failure), and afterwards every
// domain finds the organization that verifies it, one organization per
// domain.
func testSwapDomainsConcurrently(t *testing.T, ctx context.Context, st Store) {
	const pairs, rounds = 4, 10
	names := func(p int) [2]string {
		return [2]string{fmt.Sprintf("a%d.example", p), fmt.Sprintf("b%d.example", p)}
	}
	orgID := func(p, side int) string { return fmt.Sprintf("pair%d-%d", p, side) }
	for p := range pairs {
		for side := range 2 {
			if err := st.SaveOrganization(ctx, domainsOrg(orgID(p, side), orgID(p, side), verified(names(p)[side], 0))); err != nil {
				t.Fatal(err)
			}
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, pairs*2*rounds)
	for p := range pairs {
		for side := range 2 {
			wg.Go(func() {
				for r := range rounds {
					cur, err := st.Organization(ctx, orgID(p, side))
					if err != nil {
						errs <- err
						return
					}
					// Verify the domain not held, give up the one held.
					next := names(p)[1-side]
					if len(cur.Domains) == 1 && cur.Domains[0].Name == next {
						next = names(p)[side]
					}
					cur.Domains = []sso.Domain{verified(next, r)}
					if (p+r)%2 == 0 {
						err = st.UpdateOrganization(ctx, cur)
					} else {
						err = st.SaveOrganization(ctx, cur)
					}
					if err != nil && !errors.Is(err, sso.ErrDomainTaken) && !errors.Is(err, sso.ErrConflict) {
						errs <- fmt.Errorf("%s round %d: %w", orgID(p, side), r, err)
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("swapping domains: err = %v; want nil or ErrDomainTaken", err)
	}
	// The registry agrees with the organizations: each verified domain
	// finds the one organization that verifies it.
	for p := range pairs {
		holders := map[string][]string{}
		for side := range 2 {
			o, err := st.Organization(ctx, orgID(p, side))
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range o.Domains {
				if d.Verified() {
					holders[d.Name] = append(holders[d.Name], o.ID)
				}
			}
		}
		owners := map[string]string{}
		for _, name := range names(p) {
			switch h := holders[name]; len(h) {
			case 0:
				owners[name] = ""
			case 1:
				owners[name] = h[0]
			default:
				t.Errorf("domain %s is verified by %v after the swaps; want one organization", name, h)
			}
		}
		checkDomainOwners(t, ctx, st, "after the swaps", owners)
	}
}
