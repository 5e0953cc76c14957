package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

var metadataURLTests = []test{
	{"RoundTrip", testMetadataURLsRoundTrip},
	{"UpdateCAS", testMetadataURLsUpdate},
}

var metadataListerTests = []test{
	{"Listed", testMetadataListed},
	{"Paging", testMetadataPaging},
	{"Limits", testMetadataLimits},
	{"ListChanges", testMetadataListChanges},
	{"Copies", testMetadataCopies},
}

// metadataURL is the metadata URL the tests give organization (or
// connection) id.
func metadataURL(id string) string { return "https://idp.example.com/" + id + "/metadata" }

// metadataOrg returns an organization with fullOrg's fields but its own
// metadata URL own ("" = none) and connections conns (none: no
// connections).
func metadataOrg(id, own string, conns ...sso.Connection) *sso.Organization {
	o := fullOrg(id, "name-"+id)
	o.IdPMetadataURL = own
	o.Connections = conns
	return o
}

// samlWithURL returns fullSAMLConnection(id) with metadata URL url ("" =
// none).
func samlWithURL(id, url string) sso.Connection {
	c := fullSAMLConnection(id)
	c.MetadataURL = url
	return c
}

// oidcWithURL returns fullOIDCConnection(id) with a metadata URL, which the
// Service never stores (it is SAML's): a store keeps it, but it does not
// make the organization listed.
func oidcWithURL(id string) sso.Connection {
	c := fullOIDCConnection(id)
	c.MetadataURL = metadataURL(id)
	return c
}

// listMetadataOrgs pages through OrganizationsWithMetadataURL from after,
// limit at a time, and returns the IDs listed, in order. Every page but
// the last must be full, and every organization listed must equal what
// Organization returns for its ID.
func listMetadataOrgs(t *testing.T, ctx context.Context, st Store, step, after string, limit int) []string {
	t.Helper()
	var ids []string
	for range 10000 {
		page, err := st.OrganizationsWithMetadataURL(ctx, after, limit)
		if err != nil {
			t.Fatalf("%s: OrganizationsWithMetadataURL(%q, %d) err = %v", step, after, limit, err)
		}
		if len(page) > limit {
			t.Fatalf("%s: OrganizationsWithMetadataURL(%q, %d) listed %d", step, after, limit, len(page))
		}
		for _, o := range page {
			if o == nil {
				t.Fatalf("%s: OrganizationsWithMetadataURL(%q, %d) listed nil", step, after, limit)
			}
			ids = append(ids, o.ID)
			if byID, err := st.Organization(ctx, o.ID); err != nil || !reflect.DeepEqual(o, byID) {
				t.Errorf("%s: OrganizationsWithMetadataURL listed %#v; Organization(%q) = %#v, %v: want the same", step, o, o.ID, byID, err)
			}
		}
		if len(page) < limit {
			return ids
		}
		after = page[len(page)-1].ID
	}
	t.Fatalf("%s: OrganizationsWithMetadataURL never ends", step)
	return nil
}

// testMetadataURLsRoundTrip saves organizations with metadata URLs of every
// shape, their own and their connections', through SaveOrganization,
// CreateOrganization and UpdateOrganization, and reads each back exactly,
// by ID and by SSO name; an update that removes them reads back without.
func testMetadataURLsRoundTrip(t *testing.T, ctx context.Context, st Store) {
	long := "https://idp.example.com/metadata?" + strings.Repeat("x", 4000) // a URL is no key: no bound
	unusual := "https://idp.example.com/Ωmega 👩‍💻/\"quoted\"?a=1&b='2'#frag\\"
	orgs := []*sso.Organization{
		fullOrg("org-full", "full"),
		metadataOrg("org-own", metadataURL("org-own")),
		metadataOrg("org-conn", "", samlWithURL("adfs", metadataURL("adfs"))),
		metadataOrg("org-unusual", unusual, samlWithURL("a", long), samlWithURL("b", ""), oidcWithURL("okta"), samlWithURL("c", unusual)),
		metadataOrg("org-none", "", samlWithURL("adfs", "")),
		{ID: "org-draft", IdPMetadataURL: long},
	}
	for _, o := range orgs {
		if err := st.SaveOrganization(ctx, o); err != nil {
			t.Errorf("SaveOrganization(%q) err = %v; want nil", o.ID, err)
			continue
		}
		checkOrgEverywhere(t, ctx, st, "SaveOrganization", o)
	}
	for _, o := range orgs {
		c := o.Clone()
		c.ID = "created-" + o.ID
		if c.SSOName != "" {
			c.SSOName = "created-" + c.SSOName
		}
		for i := range c.Domains { // a domain is verified by one organization
			c.Domains[i].Name = "created-" + c.Domains[i].Name
		}
		if err := st.CreateOrganization(ctx, c); err != nil {
			t.Errorf("CreateOrganization(%q) err = %v; want nil", c.ID, err)
			continue
		}
		checkOrgEverywhere(t, ctx, st, "CreateOrganization", c)
		u := c.Clone()
		u.IdPMetadataURL = ""
		for i := range u.Connections {
			u.Connections[i].MetadataURL = ""
		}
		if err := st.UpdateOrganization(ctx, u); err != nil || u.Version != 2 {
			t.Errorf("UpdateOrganization(%q without URLs) = %v, version %d; want nil, 2", u.ID, err, u.Version)
			continue
		}
		checkOrgEverywhere(t, ctx, st, "UpdateOrganization without URLs", u)
		c.Version = 2
		if err := st.UpdateOrganization(ctx, c); err != nil {
			t.Errorf("UpdateOrganization(%q back) err = %v; want nil", c.ID, err)
			continue
		}
		checkOrgEverywhere(t, ctx, st, "UpdateOrganization back", c)
	}
}

// testMetadataURLsUpdate: UpdateOrganization changes the metadata URLs only
// from the stored Version: a stale update changes neither them nor the
// listing.
func testMetadataURLsUpdate(t *testing.T, ctx context.Context, st Store) {
	o := metadataOrg("org1", "", samlWithURL("adfs", ""))
	if err := st.CreateOrganization(ctx, o); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		version int64
		own     string
		conn    string
		wantErr error
	}{
		{name: "own URL", version: 1, own: metadataURL("a")},
		{name: "stale: remove it", version: 1, wantErr: sso.ErrConflict},
		{name: "future version", version: 9, own: metadataURL("x"), wantErr: sso.ErrConflict},
		{name: "the connection's instead", version: 2, conn: metadataURL("b")},
		{name: "stale: both removed", version: 2, wantErr: sso.ErrConflict},
		{name: "both removed", version: 3},
		{name: "stale: own again", version: 3, own: metadataURL("c"), wantErr: sso.ErrConflict},
	}
	want := withVersion(o.Clone(), 1)
	for _, s := range steps {
		u := metadataOrg("org1", s.own, samlWithURL("adfs", s.conn))
		u.SSOName = o.SSOName
		u.Version = s.version
		err := st.UpdateOrganization(ctx, u)
		if !errors.Is(err, s.wantErr) {
			t.Fatalf("%s: UpdateOrganization(from version %d) err = %v; want %v", s.name, s.version, err, s.wantErr)
		}
		if err == nil {
			want = u.Clone()
		} else if u.Version != s.version {
			t.Errorf("%s: refused update changed org.Version to %d", s.name, u.Version)
		}
		checkOrgEverywhere(t, ctx, st, s.name, want)
		var wantIDs []string
		if want.IdPMetadataURL != "" || want.Connections[0].MetadataURL != "" {
			wantIDs = []string{"org1"}
		}
		if got := listMetadataOrgs(t, ctx, st, s.name, "", 10); !slices.Equal(got, wantIDs) {
			t.Errorf("%s: OrganizationsWithMetadataURL lists %q; want %q", s.name, got, wantIDs)
		}
	}
}

// testMetadataListed: OrganizationsWithMetadataURL lists exactly the
// organizations whose own IdP or a SAML connection names a metadata URL
// (not those without, nor one whose only URL is an OIDC connection's), in
// byte order of their IDs, after the cursor, whatever it is.
func testMetadataListed(t *testing.T, ctx context.Context, st Store) {
	if got := listMetadataOrgs(t, ctx, st, "empty store", "", sso.MaxListLimit); len(got) != 0 {
		t.Errorf("empty store: OrganizationsWithMetadataURL lists %q; want none", got)
	}
	orgs := []*sso.Organization{
		metadataOrg("org-own", metadataURL("own")),
		metadataOrg("org-none", ""),
		metadataOrg("org-none-conns", "", samlWithURL("adfs", ""), fullOIDCConnection("okta")),
		metadataOrg("org-conn", "", samlWithURL("adfs", metadataURL("adfs"))),
		metadataOrg("org-second-conn", "", samlWithURL("a", ""), samlWithURL("b", metadataURL("b"))),
		metadataOrg("org-oidc-only", "", samlWithURL("adfs", ""), oidcWithURL("okta")),
		fullOrg("org-full", "full"),
		{ID: "org-draft", IdPMetadataURL: metadataURL("draft")},
		{ID: "org-draft-none"},
		// Byte order, not a collation's: upper case before lower case,
		// "10" before "9", UTF-8 after ASCII.
		metadataOrg("Org-Upper", metadataURL("upper")),
		metadataOrg("org-10", metadataURL("10")),
		metadataOrg("org-9", metadataURL("9")),
		metadataOrg("org-\u00e9", metadataURL("e")),
		metadataOrg("org-\u00e9-none", ""),
	}
	var all []string
	for i, o := range orgs {
		var err error
		if i%2 == 0 {
			err = st.SaveOrganization(ctx, o)
		} else {
			err = st.CreateOrganization(ctx, o)
		}
		if err != nil {
			t.Fatalf("writing %q: %v", o.ID, err)
		}
		if o.IdPMetadataURL != "" || slices.ContainsFunc(o.Connections, func(c sso.Connection) bool {
			return c.Protocol == sso.ProtocolSAML && c.MetadataURL != ""
		}) {
			all = append(all, o.ID)
		}
	}
	slices.Sort(all)
	if got := listMetadataOrgs(t, ctx, st, "all", "", sso.MaxListLimit); !slices.Equal(got, all) {
		t.Fatalf("OrganizationsWithMetadataURL(\"\") lists %q; want %q", got, all)
	}
	for _, tt := range []struct {
		after string
		want  []string
	}{
		{"org-full", []string{"org-own", "org-second-conn", "org-\u00e9"}}, // a listed ID: after it
		{"org-none", []string{"org-own", "org-second-conn", "org-\u00e9"}}, // an unlisted ID
		{"org-a", []string{"org-conn", "org-draft", "org-full", "org-own", "org-second-conn", "org-\u00e9"}},
		{"Org", []string{"Org-Upper", "org-10", "org-9", "org-conn", "org-draft", "org-full", "org-own", "org-second-conn", "org-\u00e9"}},
		{"org-9", []string{"org-conn", "org-draft", "org-full", "org-own", "org-second-conn", "org-\u00e9"}},
		{"org-\u00e9", nil},
		{"org-~", []string{"org-\u00e9"}},
		{"\u00ff", nil},
		{"' OR '1'='1", all},
	} {
		if got := listMetadataOrgs(t, ctx, st, "after "+tt.after, tt.after, sso.MaxListLimit); !slices.Equal(got, tt.want) {
			t.Errorf("OrganizationsWithMetadataURL(%q) lists %q; want %q", tt.after, got, tt.want)
		}
	}
}

// testMetadataPaging: pages of every size, the last ID of a page the cursor
// of the next, list every organization with a metadata URL once, in ID
// order, however many organizations without one lie between.
func testMetadataPaging(t *testing.T, ctx context.Context, st Store) {
	var want []string
	for i := range 60 {
		id := fmt.Sprintf("org%03d", (i*37)%60) // not written in order
		o := &sso.Organization{ID: id, OwnerID: "u"}
		switch i % 3 {
		case 0:
			o.IdPMetadataURL = metadataURL(id)
		case 1:
			o.Connections = []sso.Connection{samlWithURL("adfs", metadataURL(id))}
		}
		if o.IdPMetadataURL != "" || len(o.Connections) > 0 {
			want = append(want, id)
		}
		if err := st.SaveOrganization(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(want)
	for _, limit := range []int{1, 2, 7, 39, 40, 41, sso.MaxListLimit} {
		if got := listMetadataOrgs(t, ctx, st, fmt.Sprintf("limit %d", limit), "", limit); !slices.Equal(got, want) {
			t.Errorf("OrganizationsWithMetadataURL in pages of %d lists %q; want %q", limit, got, want)
		}
	}
	page, err := st.OrganizationsWithMetadataURL(ctx, want[9], 5)
	if err != nil || len(page) != 5 || page[0].ID != want[10] || page[4].ID != want[14] {
		t.Errorf("OrganizationsWithMetadataURL(%q, 5) = %d organizations, %v; want %q..%q", want[9], len(page), err, want[10], want[14])
	}
}

// testMetadataLimits: a limit outside 1..sso.MaxListLimit is
// ErrInvalidArgument; both bounds are accepted.
func testMetadataLimits(t *testing.T, ctx context.Context, st Store) {
	for _, id := range []string{"org1", "org2"} {
		if err := st.SaveOrganization(ctx, metadataOrg(id, metadataURL(id))); err != nil {
			t.Fatal(err)
		}
	}
	for _, limit := range []int{0, -1, sso.MaxListLimit + 1, -sso.MaxListLimit} {
		if page, err := st.OrganizationsWithMetadataURL(ctx, "", limit); !errors.Is(err, session.ErrInvalidArgument) {
			t.Errorf("OrganizationsWithMetadataURL(limit %d) = %d organizations, %v; want ErrInvalidArgument", limit, len(page), err)
		}
	}
	if page, err := st.OrganizationsWithMetadataURL(ctx, "", 1); err != nil || len(page) != 1 || page[0].ID != "org1" {
		t.Errorf("OrganizationsWithMetadataURL(limit 1) = %+v, %v; want org1", page, err)
	}
	if page, err := st.OrganizationsWithMetadataURL(ctx, "", sso.MaxListLimit); err != nil || len(page) != 2 {
		t.Errorf("OrganizationsWithMetadataURL(limit MaxListLimit) = %d organizations, %v; want 2", len(page), err)
	}
}

// testMetadataListChanges: the listing follows every change of an
// organization's metadata URLs, through SaveOrganization and
// UpdateOrganization: listed while its own IdP or a SAML connection names
// one, not once none does; other organizations stay as they are.
func testMetadataListChanges(t *testing.T, ctx context.Context, st Store) {
	if err := st.SaveOrganization(ctx, metadataOrg("org2", metadataURL("org2"))); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateOrganization(ctx, metadataOrg("org1", "")); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name   string
		save   bool // SaveOrganization, else UpdateOrganization
		own    string
		conns  []sso.Connection
		listed bool
	}{
		{name: "own URL", own: metadataURL("a"), listed: true},
		{name: "own URL changed", save: true, own: metadataURL("b"), listed: true},
		{name: "own URL removed", conns: []sso.Connection{samlWithURL("adfs", "")}},
		{name: "a connection's URL", save: true, conns: []sso.Connection{samlWithURL("adfs", metadataURL("adfs"))}, listed: true},
		{name: "and own URL", own: metadataURL("c"), conns: []sso.Connection{samlWithURL("adfs", metadataURL("adfs"))}, listed: true},
		{name: "the connection's URL removed", save: true, own: metadataURL("c"), conns: []sso.Connection{samlWithURL("adfs", "")}, listed: true},
		{name: "own URL removed again", conns: []sso.Connection{samlWithURL("adfs", "")}},
		{name: "an OIDC connection's URL", save: true, conns: []sso.Connection{oidcWithURL("okta")}},
		{name: "a second SAML connection's URL", conns: []sso.Connection{oidcWithURL("okta"), samlWithURL("b", metadataURL("b"))}, listed: true},
		{name: "the connection removed", save: true, conns: []sso.Connection{oidcWithURL("okta")}},
		{name: "own URL, no connections", own: metadataURL("d"), listed: true},
		{name: "nothing", save: true},
	}
	version := int64(1)
	for _, s := range steps {
		o := metadataOrg("org1", s.own, s.conns...)
		o.Version = version
		var err error
		if s.save {
			err = st.SaveOrganization(ctx, o)
		} else {
			err = st.UpdateOrganization(ctx, o)
		}
		if err != nil {
			t.Fatalf("%s: err = %v", s.name, err)
		}
		version = o.Version
		checkOrgEverywhere(t, ctx, st, s.name, o)
		want := []string{"org2"}
		if s.listed {
			want = []string{"org1", "org2"}
		}
		if got := listMetadataOrgs(t, ctx, st, s.name, "", 1); !slices.Equal(got, want) {
			t.Errorf("%s: OrganizationsWithMetadataURL lists %q; want %q", s.name, got, want)
		}
	}
}

// mutateMetadataURLs removes o's metadata URLs, its own and its
// connections', in place, and changes the rest of o.
func mutateMetadataURLs(o *sso.Organization) {
	o.IdPMetadataURL = ""
	for i := range o.Connections {
		o.Connections[i].MetadataURL = ""
	}
	mutateOrg(o)
}

// testMetadataCopies: changing a value after saving it, creating it or
// updating it with it, or one the listing returned, changes neither what
// the store holds nor what it lists.
func testMetadataCopies(t *testing.T, ctx context.Context, st Store) {
	saved := fullOrg("org1", "acme")
	if err := st.SaveOrganization(ctx, saved); err != nil {
		t.Fatal(err)
	}
	mutateMetadataURLs(saved)
	created := fullOrg("org2", "globex")
	if err := st.CreateOrganization(ctx, created); err != nil {
		t.Fatal(err)
	}
	mutateMetadataURLs(created)
	want1, want2 := fullOrg("org1", "acme"), withVersion(fullOrg("org2", "globex"), 1)
	check := func(step string) {
		t.Helper()
		checkOrgs(t, ctx, st, step, map[string]*sso.Organization{"org1": want1, "org2": want2}, nil)
		page, err := st.OrganizationsWithMetadataURL(ctx, "", 10)
		if err != nil || len(page) != 2 || !reflect.DeepEqual(page[0], want1) || !reflect.DeepEqual(page[1], want2) {
			t.Errorf("%s: OrganizationsWithMetadataURL = %#v, %v; want %#v and %#v", step, page, err, want1, want2)
		}
	}
	check("after mutating the saved and created values")

	updated := withVersion(fullOrg("org2", "globex"), 1)
	if err := st.UpdateOrganization(ctx, updated); err != nil {
		t.Fatal(err)
	}
	mutateMetadataURLs(updated)
	want2.Version = 2
	check("after mutating the updated value")

	page, err := st.OrganizationsWithMetadataURL(ctx, "", 10)
	if err != nil || len(page) != 2 {
		t.Fatalf("OrganizationsWithMetadataURL = %d organizations, %v; want 2", len(page), err)
	}
	for _, o := range page {
		mutateMetadataURLs(o)
	}
	check("after mutating the listed values")
}
