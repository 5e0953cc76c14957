package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

var connectionTests = []test{
	{"RoundTrip", testConnectionsRoundTrip},
	{"NoneIsNil", testConnectionsNoneIsNil},
	{"Copies", testConnectionsCopies},
	{"Replace", testConnectionsReplace},
	{"UpdateCAS", testConnectionsUpdate},
	{"UpdateConcurrently", testConnectionsUpdateConcurrently},
}

var requestConnectionTests = []test{
	{"ConsumeRoundTrip", testRequestConnectionConsume},
	{"ConsumeMatchingRoundTrip", testRequestConnectionConsumeMatching},
}

var sessionConnectionTests = []test{
	{"RoundTrip", testSessionConnectionRoundTrip},
	{"List", testListSessionsByConnection},
	{"End", testEndSessionsByConnection},
}

// connectionsOrg returns an organization whose connections are cs, with
// fullOrg's other fields.
func connectionsOrg(id, name string, cs ...sso.Connection) *sso.Organization {
	o := fullOrg(id, name)
	o.Connections = cs
	return o
}

// manyConnections returns n connections, alternately SAML and OIDC, with
// distinct IDs, in an order that is neither sorted by ID nor by name.
func manyConnections(n int) []sso.Connection {
	cs := make([]sso.Connection, n)
	for i := range cs {
		id := fmt.Sprintf("c%02d", (i*7)%n)
		if i%2 == 0 {
			cs[i] = fullSAMLConnection(id)
		} else {
			cs[i] = fullOIDCConnection(id)
		}
		cs[i].Name = fmt.Sprintf("Connection %d", n-i)
		cs[i].Enabled = i%3 != 0
	}
	return cs
}

// checkOrgEverywhere reads o back by ID and, when it has one, by SSO name:
// both must equal want.
func checkOrgEverywhere(t *testing.T, ctx context.Context, st Store, step string, want *sso.Organization) {
	t.Helper()
	got, err := st.Organization(ctx, want.ID)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("%s: Organization(%q) = %#v, %v; want %#v", step, want.ID, got, err, want)
	}
	if want.SSOName == "" {
		return
	}
	got, err = st.OrganizationBySSOName(ctx, want.SSOName)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("%s: OrganizationBySSOName(%q) = %#v, %v; want %#v", step, want.SSOName, got, err, want)
	}
}

// testConnectionsRoundTrip saves organizations with connections of every
// shape, through SaveOrganization and CreateOrganization, and reads each
// back exactly: every field, the order of the connections and of every list
// in them, nil and empty lists inside a connection kept apart (OIDC scopes:
// nil asks for the default scopes, empty for none), the client secret as its
// value.
func testConnectionsRoundTrip(t *testing.T, ctx context.Context, st Store) {
	unusual := fullOIDCConnection("unusual")
	unusual.Name = "Ωmega 👩‍💻 \"quoted\" 'single' \\ back\nslash\ttab"
	unusual.OIDC.ClientSecret = sso.Secret(strings.Repeat("x\"\\/Ω", 200))
	unusual.OIDC.Scopes = []string{"null", "[]", "{}", ""}
	unusual.OIDC.Issuer = "https://issuer.example/?x=1&y=%20"
	unusual.Domains = []string{"b.example", "a.example", "b.example"}
	unusual.Protocol = "a protocol no orgsso knows"

	emptyLists := sso.Connection{ID: "empty", Protocol: sso.ProtocolOIDC,
		SAML:       sso.IdPConfig{Certificates: []string{}},
		OIDC:       sso.OIDCConfig{Scopes: []string{}},
		Attributes: sso.AttributeNames{Email: []string{}, FirstName: []string{""}},
		Domains:    []string{}}
	nilLists := sso.Connection{ID: "nil", Protocol: sso.ProtocolOIDC, OIDC: sso.OIDCConfig{Issuer: "https://i.example"}}
	bigCert := fullSAMLConnection("big")
	bigCert.SAML.Certificates = []string{strings.Repeat("MIIC"+strings.Repeat("A", 60)+"\n", 250)} // ~16 KB

	orgs := []*sso.Organization{
		fullOrg("org-full", "full"),
		connectionsOrg("org-saml", "saml", fullSAMLConnection("adfs")),
		connectionsOrg("org-oidc", "oidc", fullOIDCConnection("okta")),
		connectionsOrg("org-zero-connection", "", sso.Connection{}),
		connectionsOrg("org-unusual", "unusual", unusual, emptyLists, nilLists, bigCert),
		connectionsOrg("org-many", "many", manyConnections(sso.MaxConnections)...),
		connectionsOrg("org-more-than-max", "", manyConnections(sso.MaxConnections+5)...), // stores do not validate
		{ID: "org-draft", Connections: []sso.Connection{{ID: "draft", Name: "Draft", Protocol: sso.ProtocolSAML}}},
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
		for i := range c.Domains { // a domain is verified by one organization
			c.Domains[i].Name = "created-" + c.Domains[i].Name
		}
		if c.SSOName != "" {
			c.SSOName = "created-" + c.SSOName
		}
		if err := st.CreateOrganization(ctx, c); err != nil {
			t.Errorf("CreateOrganization(%q) err = %v; want nil", c.ID, err)
			continue
		}
		checkOrgEverywhere(t, ctx, st, "CreateOrganization", c)
	}
}

// testConnectionsNoneIsNil: an organization without connections, nil or
// empty, reads back with nil Connections, in every store (an SQL store
// cannot tell them apart for organizations stored before connections were).
func testConnectionsNoneIsNil(t *testing.T, ctx context.Context, st Store) {
	for i, cs := range [][]sso.Connection{nil, {}, make([]sso.Connection, 0, 4)} {
		o := connectionsOrg(fmt.Sprintf("org%d", i), fmt.Sprintf("name%d", i), cs...)
		o.Connections = cs // keep empty apart from nil
		if err := st.SaveOrganization(ctx, o); err != nil {
			t.Fatal(err)
		}
		want := o.Clone()
		want.Connections = nil
		checkOrgEverywhere(t, ctx, st, fmt.Sprintf("saved with Connections %#v", cs), want)
		// Through the compare-and-swap too.
		o.Connections = cs
		if err := st.UpdateOrganization(ctx, o); err != nil {
			t.Fatalf("UpdateOrganization(%q) err = %v", o.ID, err)
		}
		want.Version = o.Version
		checkOrgEverywhere(t, ctx, st, fmt.Sprintf("updated with Connections %#v", cs), want)
	}
}

// testConnectionsCopies: changing the connections of a value after saving
// it, creating it or updating it with it, or of one a lookup returned, does
// not change what the store holds.
func testConnectionsCopies(t *testing.T, ctx context.Context, st Store) {
	saved := fullOrg("org1", "acme")
	if err := st.SaveOrganization(ctx, saved); err != nil {
		t.Fatal(err)
	}
	mutateConnections(saved)
	created := fullOrg("org2", "globex")
	if err := st.CreateOrganization(ctx, created); err != nil {
		t.Fatal(err)
	}
	mutateConnections(created)
	want1, want2 := fullOrg("org1", "acme"), withVersion(fullOrg("org2", "globex"), 1)
	checkOrgs(t, ctx, st, "after mutating the saved and created values",
		map[string]*sso.Organization{"org1": want1, "org2": want2}, nil)

	updated := withVersion(fullOrg("org2", "globex"), 1)
	if err := st.UpdateOrganization(ctx, updated); err != nil {
		t.Fatal(err)
	}
	mutateConnections(updated)
	want2.Version = 2
	checkOrgs(t, ctx, st, "after mutating the updated value", map[string]*sso.Organization{"org2": want2}, nil)

	for _, lookup := range []func() (*sso.Organization, error){
		func() (*sso.Organization, error) { return st.Organization(ctx, "org1") },
		func() (*sso.Organization, error) { return st.OrganizationBySSOName(ctx, "acme") },
	} {
		got, err := lookup()
		if err != nil {
			t.Fatal(err)
		}
		mutateConnections(got)
		checkOrgs(t, ctx, st, "after mutating a returned value", map[string]*sso.Organization{"org1": want1}, nil)
	}
}

// testConnectionsReplace: SaveOrganization replaces the connections as a
// whole: added, removed, reordered, changed, and none.
func testConnectionsReplace(t *testing.T, ctx context.Context, st Store) {
	a, b, c := fullSAMLConnection("a"), fullOIDCConnection("b"), fullOIDCConnection("c")
	b2 := fullOIDCConnection("b")
	b2.OIDC.ClientSecret, b2.Enabled, b2.OIDC.Scopes = "rotated", false, nil
	for _, cs := range [][]sso.Connection{{a}, {a, b}, {b, a}, {b, a, c}, {c, b2}, nil, {a}} {
		o := connectionsOrg("org1", "acme", cs...)
		if err := st.SaveOrganization(ctx, o); err != nil {
			t.Fatal(err)
		}
		checkOrgEverywhere(t, ctx, st, fmt.Sprintf("after saving %d connections", len(cs)), o)
	}
}

// testConnectionsUpdate: UpdateOrganization changes the connections only
// from the stored Version: a stale update changes none of them, and each
// successful one stores them as given.
func testConnectionsUpdate(t *testing.T, ctx context.Context, st Store) {
	o := connectionsOrg("org1", "acme", fullSAMLConnection("adfs"))
	if err := st.CreateOrganization(ctx, o); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		version int64
		cs      []sso.Connection
		wantErr error
	}{
		{name: "add an OIDC connection", version: 1, cs: []sso.Connection{fullSAMLConnection("adfs"), fullOIDCConnection("okta")}},
		{name: "stale: remove them all", version: 1, cs: nil, wantErr: sso.ErrConflict},
		{name: "future version", version: 9, cs: nil, wantErr: sso.ErrConflict},
		{name: "rotate the client secret, reorder", version: 2, cs: func() []sso.Connection {
			okta := fullOIDCConnection("okta")
			okta.OIDC.ClientSecret = "rotated"
			return []sso.Connection{okta, fullSAMLConnection("adfs")}
		}()},
		{name: "disable one, add domains", version: 3, cs: func() []sso.Connection {
			adfs := fullSAMLConnection("adfs")
			adfs.Enabled = false
			adfs.Domains = append(adfs.Domains, "new.example")
			return []sso.Connection{fullOIDCConnection("okta"), adfs}
		}()},
		{name: "stale: add one", version: 3, cs: manyConnections(3), wantErr: sso.ErrConflict},
		{name: "remove them all", version: 4, cs: nil},
		{name: "add one back", version: 5, cs: []sso.Connection{fullOIDCConnection("google")}},
	}
	want := o.Clone()
	for _, s := range steps {
		edit := connectionsOrg("org1", "acme", s.cs...)
		edit.Version = s.version
		err := st.UpdateOrganization(ctx, edit)
		if !errors.Is(err, s.wantErr) || (s.wantErr == nil) != (err == nil) {
			t.Fatalf("%s: UpdateOrganization(Version %d) err = %v; want %v", s.name, s.version, err, s.wantErr)
		}
		if err == nil {
			if edit.Version != s.version+1 {
				t.Errorf("%s: Version after the update = %d; want %d", s.name, edit.Version, s.version+1)
			}
			want = edit.Clone()
		} else if edit.Version != s.version {
			t.Errorf("%s: Version after a refused update = %d; want %d unchanged", s.name, edit.Version, s.version)
		}
		checkOrgEverywhere(t, ctx, st, s.name, want)
	}
}

// testConnectionsUpdateConcurrently: of concurrent updates from one Version,
// each with its own connections, exactly one succeeds, and the store holds
// the winner's connections, whole.
func testConnectionsUpdateConcurrently(t *testing.T, ctx context.Context, st Store) {
	if err := st.CreateOrganization(ctx, fullOrg("org1", "acme")); err != nil {
		t.Fatal(err)
	}
	edits := make([]*sso.Organization, racers)
	for i := range edits {
		c := fullOIDCConnection(fmt.Sprintf("racer-%03d", i))
		c.OIDC.ClientSecret = sso.Secret(fmt.Sprintf("secret-%03d", i))
		edits[i] = withVersion(connectionsOrg("org1", "acme", manyConnections(1+i%4)...), 1)
		edits[i].Connections = append(edits[i].Connections, c)
	}
	errs := race(func(i int) error { return st.UpdateOrganization(ctx, edits[i]) })
	winner := oneWinner(t, "UpdateOrganization(org1 at Version 1, own connections)", errs, sso.ErrConflict)
	if winner >= 0 {
		checkOrgEverywhere(t, ctx, st, "after the race", edits[winner])
	}
}

// connectionRequests are pending requests of every shape the connection
// fields take.
func connectionRequests() []*sso.PendingRequest {
	return []*sso.PendingRequest{
		fullRequest("full", "org1"),
		{ID: "saml-connection", OrgID: "org1", ExpiresAt: t0, BindingHash: bindingHashOf("saml"), Connection: "adfs"},
		{ID: "oidc", OrgID: "org1", ExpiresAt: t0, BindingHash: bindingHashOf("oidc"), Connection: "okta",
			Nonce: strings.Repeat("n", 43), CodeVerifier: sso.Secret(strings.Repeat("v", 128))},
		{ID: "primary", OrgID: "org1", ExpiresAt: t0, BindingHash: bindingHashOf("primary")},
		{ID: "unusual", OrgID: "org1", ExpiresAt: t0, BindingHash: bindingHashOf("unusual"),
			Connection: "Ωmega \"c\" 'x' \\", Nonce: "null", CodeVerifier: "[]"},
		{ID: "verifier only", OrgID: "org1", ExpiresAt: t0, CodeVerifier: "v"},
	}
}

// testRequestConnectionConsume: the connection, the nonce and the code
// verifier of a pending request come back from ConsumeRequest as saved.
func testRequestConnectionConsume(t *testing.T, ctx context.Context, st Store) {
	for _, r := range connectionRequests() {
		if err := st.SaveRequest(ctx, r); err != nil {
			t.Errorf("SaveRequest(%q) err = %v; want nil", r.ID, err)
			continue
		}
		got, err := st.ConsumeRequest(ctx, r.ID)
		if err != nil || !reflect.DeepEqual(normRequest(got), normRequest(r)) {
			t.Errorf("ConsumeRequest(%q) = %#v, %v; want %#v", r.ID, got, err, r)
		}
	}
}

// testRequestConnectionConsumeMatching: the same through
// ConsumeMatchingRequest; the new fields do not take part in the match.
func testRequestConnectionConsumeMatching(t *testing.T, ctx context.Context, st Store) {
	for _, r := range connectionRequests() {
		if err := st.SaveRequest(ctx, r); err != nil {
			t.Errorf("SaveRequest(%q) err = %v; want nil", r.ID, err)
			continue
		}
		if got, err := st.ConsumeMatchingRequest(ctx, r.ID, "other-org", r.BindingHash); !errors.Is(err, sso.ErrNotFound) {
			t.Errorf("ConsumeMatchingRequest(%q, other org) = %+v, %v; want ErrNotFound", r.ID, got, err)
		}
		got, err := st.ConsumeMatchingRequest(ctx, r.ID, r.OrgID, r.BindingHash)
		if err != nil || !reflect.DeepEqual(normRequest(got), normRequest(r)) {
			t.Errorf("ConsumeMatchingRequest(%q) = %#v, %v; want %#v", r.ID, got, err, r)
		}
	}
}

// testSessionConnectionRoundTrip: a session's Connection comes back from
// Session and ListSessions as created, and a changed argument or returned
// value does not change what the store holds.
func testSessionConnectionRoundTrip(t *testing.T, ctx context.Context, st Store) {
	sessions := []*session.Session{
		fullSession("s-full", "org1", session.MethodSSO, t0.Add(time.Hour)),
		{ID: "s-okta", OrgID: "org1", UserID: "u1", Method: session.MethodSSO, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), Epoch: 3, Connection: "okta"},
		{ID: "s-primary", OrgID: "org1", UserID: "u1", Method: session.MethodSSO, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)},
		{ID: "s-unusual", OrgID: "org1", UserID: "u2", Method: session.MethodSSO, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), Connection: "Ωmega \"c\" 'x' \\"},
		{ID: "s-ended", OrgID: "org1", UserID: "u2", Method: session.MethodSSO, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour),
			Connection: "adfs", EndReason: session.EndConnectionOff},
	}
	want := map[string]*session.Session{}
	for _, s := range sessions {
		if err := st.CreateSession(ctx, s); err != nil {
			t.Fatalf("CreateSession(%q) err = %v", s.ID, err)
		}
		c := *s
		want[s.ID] = &c
		s.Connection = "changed"
	}
	for id, w := range want {
		got, err := st.Session(ctx, id)
		if err != nil || !reflect.DeepEqual(normSession(got), normSession(w)) {
			t.Errorf("Session(%q) = %+v, %v; want %+v", id, got, err, w)
		}
		if got != nil {
			got.Connection = "changed"
		}
	}
	list, err := st.ListSessions(ctx, session.Query{OrgID: "org1"}, t0)
	checkListed(t, "ListSessions(org1)", list, err, want, []string{"s-okta", "s-primary", "s-unusual"})
	for _, s := range list {
		s.Connection = "changed"
	}
	list, err = st.ListSessions(ctx, session.Query{OrgID: "org1"}, t0)
	checkListed(t, "ListSessions(org1) after changing a listing", list, err, want, []string{"s-okta", "s-primary", "s-unusual"})
}

// byConnection is seeded by seedByConnection: sessions of org1 through the
// organization's own IdP (""), "okta" and "adfs", of two users and both
// methods, and one of org2 through "okta"; some ended, one expired.
var byConnection = []struct {
	id, org, user, method, connection string
	expires                           time.Time
	ended                             string
}{
	{id: "p1", org: "org1", user: "u1", method: session.MethodPassword, expires: t0.Add(time.Hour)},
	{id: "s1", org: "org1", user: "u1", method: session.MethodSSO, expires: t0.Add(time.Hour)},
	{id: "o1", org: "org1", user: "u1", method: session.MethodSSO, connection: "okta", expires: t0.Add(time.Hour)},
	{id: "o2", org: "org1", user: "u2", method: session.MethodSSO, connection: "okta", expires: t0.Add(time.Hour)},
	{id: "O3", org: "org1", user: "u2", method: session.MethodSSO, connection: "okta", expires: t0.Add(time.Hour)},
	{id: "o4", org: "org1", user: "u1", method: session.MethodSSO, connection: "okta", expires: t0}, // expired at t0
	{id: "o5", org: "org1", user: "u1", method: session.MethodSSO, connection: "okta", expires: t0.Add(time.Hour), ended: session.EndRevoked},
	{id: "a1", org: "org1", user: "u1", method: session.MethodSSO, connection: "adfs", expires: t0.Add(time.Hour)},
	{id: "k1", org: "org1", user: "u1", method: session.MethodSSO, connection: "OKTA", expires: t0.Add(time.Hour)},  // IDs are case-sensitive
	{id: "k2", org: "org1", user: "u1", method: session.MethodSSO, connection: "okta2", expires: t0.Add(time.Hour)}, // not a prefix match
	{id: "x1", org: "org2", user: "u1", method: session.MethodSSO, connection: "okta", expires: t0.Add(time.Hour)},
}

// seedByConnection creates the byConnection sessions and returns them by ID.
func seedByConnection(t *testing.T, ctx context.Context, st Store) map[string]*session.Session {
	t.Helper()
	out := map[string]*session.Session{}
	for i, b := range byConnection {
		s := newSession(b.id, b.org, b.method, b.expires)
		s.UserID, s.Connection, s.EndReason, s.Epoch = b.user, b.connection, b.ended, int64(i)
		if err := st.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		out[b.id] = s
	}
	return out
}

// testListSessionsByConnection: Query.Connection lists only the sessions of
// that connection (exactly: case and all); "" lists those of every
// connection; it combines with the user, the method and the cursor.
func testListSessionsByConnection(t *testing.T, ctx context.Context, st Store) {
	byID := seedByConnection(t, ctx, st)
	all := []string{"O3", "a1", "k1", "k2", "o1", "o2", "p1", "s1"}
	tests := []struct {
		name string
		q    session.Query
		want []string
	}{
		{name: "every connection", q: session.Query{OrgID: "org1"}, want: all},
		{name: "okta", q: session.Query{OrgID: "org1", Connection: "okta"}, want: []string{"O3", "o1", "o2"}},
		{name: "adfs", q: session.Query{OrgID: "org1", Connection: "adfs"}, want: []string{"a1"}},
		{name: "OKTA", q: session.Query{OrgID: "org1", Connection: "OKTA"}, want: []string{"k1"}},
		{name: "unknown connection", q: session.Query{OrgID: "org1", Connection: "google"}},
		{name: "okta of org2", q: session.Query{OrgID: "org2", Connection: "okta"}, want: []string{"x1"}},
		{name: "okta, user u1", q: session.Query{OrgID: "org1", UserID: "u1", Connection: "okta"}, want: []string{"o1"}},
		{name: "okta, user u2", q: session.Query{OrgID: "org1", UserID: "u2", Connection: "okta"}, want: []string{"O3", "o2"}},
		{name: "okta, SSO", q: session.Query{OrgID: "org1", Method: session.MethodSSO, Connection: "okta"}, want: []string{"O3", "o1", "o2"}},
		{name: "okta, password", q: session.Query{OrgID: "org1", Method: session.MethodPassword, Connection: "okta"}},
		{name: "okta, u2, SSO", q: session.Query{OrgID: "org1", UserID: "u2", Method: session.MethodSSO, Connection: "okta"}, want: []string{"O3", "o2"}},
		{name: "okta after O3", q: session.Query{OrgID: "org1", Connection: "okta", After: "O3"}, want: []string{"o1", "o2"}},
		{name: "okta, one", q: session.Query{OrgID: "org1", Connection: "okta", Limit: 1}, want: []string{"O3"}},
		{name: "okta after o1, one", q: session.Query{OrgID: "org1", Connection: "okta", After: "o1", Limit: 1}, want: []string{"o2"}},
		{name: "long connection", q: session.Query{OrgID: "org1", Connection: strings.Repeat("okta", sso.MaxKeyBytes)}},
	}
	for _, tt := range tests {
		list, err := st.ListSessions(ctx, tt.q, t0)
		checkListed(t, "ListSessions("+tt.name+")", list, err, byID, tt.want)
	}
	// The expired o4 is listed before it expires.
	list, err := st.ListSessions(ctx, session.Query{OrgID: "org1", Connection: "okta"}, t0.Add(-time.Nanosecond))
	checkListed(t, "ListSessions(okta, before o4 expires)", list, err, byID, []string{"O3", "o1", "o2", "o4"})
}

// connectionEndReasons returns every byConnection session's EndReason by ID.
func connectionEndReasons(t *testing.T, ctx context.Context, st Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, b := range byConnection {
		s, err := st.Session(ctx, b.id)
		if err != nil {
			t.Fatalf("Session(%q) err = %v", b.id, err)
		}
		out[b.id] = s.EndReason
	}
	return out
}

// testEndSessionsByConnection: EndSessions with Query.Connection ends only
// that connection's sessions (expired ones too; one ended before keeps its
// reason); "" ends those of every connection.
func testEndSessionsByConnection(t *testing.T, ctx context.Context, st Store) {
	seedByConnection(t, ctx, st)
	reasons := connectionEndReasons(t, ctx, st)
	steps := []struct {
		name   string
		q      session.Query
		reason string
		want   int
		ended  []string
	}{
		{name: "unknown connection", q: session.Query{OrgID: "org1", Connection: "google"}, reason: session.EndConnectionOff},
		{name: "long connection", q: session.Query{OrgID: "org1", Connection: strings.Repeat("okta", sso.MaxKeyBytes)}, reason: session.EndConnectionOff},
		{name: "okta of u2, password", q: session.Query{OrgID: "org1", UserID: "u2", Method: session.MethodPassword, Connection: "okta"}, reason: session.EndConnectionOff},
		{name: "okta of u2", q: session.Query{OrgID: "org1", UserID: "u2", Connection: "okta"}, reason: session.EndConnectionOff,
			want: 2, ended: []string{"O3", "o2"}},
		{name: "okta", q: session.Query{OrgID: "org1", Connection: "okta"}, reason: session.EndConnectionOff,
			want: 2, ended: []string{"o1", "o4"}}, // o5 keeps its reason, org2's x1 is untouched
		{name: "okta again", q: session.Query{OrgID: "org1", Connection: "okta"}, reason: session.EndRevoked},
		{name: "adfs, SSO", q: session.Query{OrgID: "org1", Method: session.MethodSSO, Connection: "adfs"}, reason: session.EndConnectionOff,
			want: 1, ended: []string{"a1"}},
		{name: "every connection", q: session.Query{OrgID: "org1"}, reason: session.EndSSODisabled,
			want: 4, ended: []string{"p1", "s1", "k1", "k2"}},
	}
	for _, s := range steps {
		n, err := st.EndSessions(ctx, s.q, s.reason)
		if err != nil || n != s.want {
			t.Errorf("%s: EndSessions() = %d, %v; want %d, nil", s.name, n, err, s.want)
		}
		for _, id := range s.ended {
			reasons[id] = s.reason
		}
		if got := connectionEndReasons(t, ctx, st); !reflect.DeepEqual(got, reasons) {
			t.Fatalf("%s: end reasons = %v; want %v", s.name, got, reasons)
		}
	}
	if reasons["x1"] != "" || reasons["o5"] != session.EndRevoked {
		t.Errorf("end reasons = %v; want x1 (org2) not ended, o5 still %s", reasons, session.EndRevoked)
	}
	if list, err := st.ListSessions(ctx, session.Query{OrgID: "org2", Connection: "okta"}, t0); err != nil || !slices.Equal(ids(list), []string{"x1"}) {
		t.Errorf("ListSessions(org2, okta) = %q, %v; want [x1]", ids(list), err)
	}
}
