package migrationtest

import (
	"database/sql"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/sqlstore"
)

// DomainsMigration is the file name suffix of the migration that adds
// organizations' domains and the verified domain registry.
const DomainsMigration = "_domains.sql"

// schema6Org is an organization the code of schema 6 stored with a
// connection, and its connections column as that code's codec wrote it.
func schema6Org() (*sso.Organization, string) {
	o := &sso.Organization{
		ID: "org5", SSOName: "hooli", OwnerID: "u-gavin", Enabled: true, Version: 4, SSOEpoch: 2,
		Connections: []sso.Connection{{
			ID: "okta", Name: "Okta 🔑", Protocol: sso.ProtocolOIDC, Enabled: true,
			OIDC: sso.OIDCConfig{Issuer: "https://hooli.okta.example", ClientID: "0oa5", ClientSecret: "sealed:v1:BBBB",
				Scopes: []string{"email", "groups"}, RolesClaim: "groups", UserInfo: true},
			JITProvisioning: true,
			Attributes:      sso.AttributeNames{Email: []string{"email"}, FirstName: []string{}},
			Domains:         []string{"hooli.example"},
		}},
	}
	conns := `[{"id":"okta","name":"Okta 🔑","protocol":"oidc","enabled":true,` +
		`"saml":{"entity_id":"","sso_url":"","certificates":null,"signature_algorithm":""},"allow_idp_initiated":false,` +
		`"oidc":{"issuer":"https://hooli.okta.example","client_id":"0oa5","client_secret":"sealed:v1:BBBB","scopes":["email","groups"],"roles_claim":"groups","userinfo":true},` +
		`"jit_provisioning":true,"attributes":{"email":["email"],"first_name":[],"last_name":null,"roles":null},"domains":["hooli.example"]}]`
	return o, conns
}

// schema6Request and schema6Session are a pending request and a session
// the code of schema 6 stored through a connection.
func schema6Request() *sso.PendingRequest {
	return &sso.PendingRequest{ID: "id-hooli", OrgID: "org5", ReturnTo: "/h", ExpiresAt: connT.Add(5 * time.Minute),
		BindingHash: strings.Repeat("9a", 32), Connection: "okta", Nonce: "n-hooli", CodeVerifier: "v-hooli"}
}

func schema6Session() *session.Session {
	return &session.Session{ID: "s-hooli", OrgID: "org5", UserID: "u-gavin", Method: session.MethodSSO,
		CreatedAt: connT, ExpiresAt: connT.Add(time.Hour), Epoch: 2, Connection: "okta"}
}

// InsertPreDomainRows writes, into a schema ApplyBefore made up to
// DomainsMigration, with plain SQL, what the code of schema 6 wrote: the
// rows of InsertPreConnectionRows (organizations without connections,
// members and their registry, requests, sessions, a used assertion), and an
// organization with a connection, a pending request and a session through
// it.
func InsertPreDomainRows(t testing.TB, db *sql.DB, ph func(n int) string) {
	t.Helper()
	ctx := t.Context()
	InsertPreConnectionRows(t, db, ph)
	phs := func(n int) string {
		p := make([]string, n)
		for i := range p {
			p[i] = ph(i + 1)
		}
		return strings.Join(p, ", ")
	}
	exec := func(what, q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("insert %s: %v", what, err)
		}
	}
	o, conns := schema6Org()
	exec("organization "+o.ID, `INSERT INTO organizations (id, sso_name, owner_id, enabled, idp_entity_id, idp_sso_url,
		idp_certificates, idp_signature_algorithm, strict_mode, session_timeout_ns,
		role_mapping_enabled, role_delimiter, role_mappings, jit_provisioning, allow_idp_initiated, attributes,
		version, sso_epoch, connections) VALUES (`+phs(19)+`)`,
		o.ID, o.SSOName, o.OwnerID, o.Enabled, "", "", `null`, "", false, int64(0), false, "", `null`, false, false,
		`{"email":null,"first_name":null,"last_name":null,"roles":null}`, o.Version, o.SSOEpoch, conns)
	r := schema6Request()
	exec("request "+r.ID, `INSERT INTO pending_requests (id, org_id, return_to, tester_user_id, expires_at, binding_hash,
		connection_id, nonce, code_verifier) VALUES (`+phs(9)+`)`,
		r.ID, r.OrgID, r.ReturnTo, r.TesterUserID, storedTime(r.ExpiresAt), r.BindingHash, r.Connection, r.Nonce, string(r.CodeVerifier))
	s := schema6Session()
	exec("session "+s.ID, `INSERT INTO sessions (id, org_id, user_id, method, created_at, expires_at, epoch, end_reason, connection_id)
		VALUES (`+phs(9)+`)`,
		s.ID, s.OrgID, s.UserID, s.Method, storedTime(s.CreatedAt), storedTime(s.ExpiresAt), s.Epoch, s.EndReason, s.Connection)
}

// domainsT is the instant the domains CheckDomains stores were verified
// around.
var domainsT = time.Date(2026, 12, 2, 15, 4, 5, 987654321, time.UTC)

// withDomains is org1 as CheckDomains updates it: two verified domains and
// one only claimed, in an order that is not sorted.
func withDomains() *sso.Organization {
	o := oldOrgs()[0].want.Clone()
	o.Version = 8
	o.Domains = []sso.Domain{
		{Name: "acme.example", Token: "tok-acme", VerifiedAt: domainsT},
		{Name: "acme-pending.example", Token: "tok-pending"},
		{Name: "acme-corp.example", Token: "tok-corp", VerifiedAt: domainsT.Add(time.Nanosecond)},
	}
	return o
}

// hooliWithDomains is the schema 6 organization with a connection, as
// CheckDomains saves it: a verified domain, its connection kept.
func hooliWithDomains() *sso.Organization {
	o, _ := schema6Org()
	o.Domains = []sso.Domain{{Name: "hooli.example", Token: "tok-hooli", VerifiedAt: domainsT.Add(time.Hour)}}
	return o
}

// newDomainsOrg is an organization CheckDomains creates, verifying a domain.
func newDomainsOrg() *sso.Organization {
	return &sso.Organization{ID: "org6", SSOName: "piedpiper", OwnerID: "u-richard", Version: 1,
		Domains: []sso.Domain{{Name: "piedpiper.example", Token: "tok-pp", VerifiedAt: domainsT.Add(2 * time.Hour)}}}
}

// CheckDomains checks a store opened (and so migrated) on a database that
// InsertPreDomainRows filled: the migration is recorded once and made the
// new column, table and index, no row is lost, the registry is empty, and
// every organization, member, pending request and session reads back
// exactly as written, with no domains. Then it stores domains in the
// migrated schema, through UpdateOrganization, SaveOrganization and
// CreateOrganization, checks that a domain another organization verified is
// refused with sso.ErrDomainTaken, and reads them back, by ID and by
// domain, with the registry in line with the organizations;
// CheckDomainsAgain reads them after a reopen.
func CheckDomains(t *testing.T, st *sqlstore.Store, version int) {
	t.Helper()
	ctx := t.Context()
	db := st.DB()

	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = `+strconv.Itoa(version)).Scan(&n); err != nil || n != 1 {
		t.Errorf("schema_migrations has version %d %d times (%v); want once", version, n, err)
	}
	for table, want := range map[string]int{
		"organizations": len(oldOrgs()) + 1, "members": len(oldMembers()), "member_users": 3,
		"pending_requests": len(oldRequests()) + 1, "sessions": len(oldSessions()) + 1, "used_assertions": 1,
		"verified_domains": 0,
	} {
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil || n != want {
			t.Errorf("%s has %d rows after the migration (%v); want %d", table, n, err, want)
		}
	}
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM organizations WHERE domains <> '[]'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("organizations with domains after the migration = %d, %v; want 0", n, err)
	}
	if !slices.Contains(indexes(t, st), "verified_domains_org_id") {
		t.Errorf("index verified_domains_org_id missing after the migration; indexes: %v", indexes(t, st))
	}

	// What schema 6 wrote reads back unchanged, with no domains.
	checkOldRows(t, st, nil)
	hooli, _ := schema6Org()
	checkOrgReads(t, st, "after the migration", hooli)
	if got, err := st.Session(ctx, "s-hooli"); err != nil || !reflect.DeepEqual(got, schema6Session()) {
		t.Errorf("Session(s-hooli) = %#v, %v; want %#v", got, err, schema6Session())
	}
	r := schema6Request()
	if got, err := st.ConsumeMatchingRequest(ctx, r.ID, r.OrgID, r.BindingHash); err != nil || !reflect.DeepEqual(got, r) {
		t.Errorf("ConsumeMatchingRequest(%s) = %#v, %v; want %#v", r.ID, got, err, r)
	}
	for _, d := range []string{"acme.example", "hooli.example", ""} {
		if o, err := st.OrganizationByDomain(ctx, d); !errors.Is(err, sso.ErrNotFound) {
			t.Errorf("OrganizationByDomain(%q) after the migration = %+v, %v; want ErrNotFound", d, o, err)
		}
	}
	checkRegistry(t, st, map[string]string{})

	// Domains in the migrated schema.
	org1 := withDomains()
	org1.Version = 7
	if err := st.UpdateOrganization(ctx, org1); err != nil || org1.Version != 8 {
		t.Fatalf("UpdateOrganization(org1 from version 7, with domains) = %v, version %d; want nil, 8", err, org1.Version)
	}
	if err := st.SaveOrganization(ctx, hooliWithDomains()); err != nil {
		t.Fatalf("SaveOrganization(org5, with a domain) err = %v", err)
	}
	if err := st.CreateOrganization(ctx, newDomainsOrg()); err != nil {
		t.Fatalf("CreateOrganization(org6, with a domain) err = %v", err)
	}
	// org3 cannot verify what org1 has verified; it may claim it.
	org3 := oldOrgs()[2].want.Clone()
	org3.Domains = []sso.Domain{{Name: "acme.example", Token: "tok-globex", VerifiedAt: domainsT}}
	if err := st.UpdateOrganization(ctx, org3); !errors.Is(err, sso.ErrDomainTaken) {
		t.Errorf("UpdateOrganization(org3 verifying org1's domain) err = %v; want ErrDomainTaken", err)
	}
	org3.Domains[0].VerifiedAt = time.Time{}
	if err := st.UpdateOrganization(ctx, org3); err != nil {
		t.Errorf("UpdateOrganization(org3 claiming org1's domain) err = %v; want nil", err)
	}
	checkNewDomains(t, st)

	// The domains column holds the store's names, times as every stored
	// time, the zero time for a claim not verified.
	var raw string
	if err := db.QueryRowContext(ctx, `SELECT domains FROM organizations WHERE id = 'org1'`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var stored []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &stored); err != nil || len(stored) != 3 {
		t.Fatalf("domains column of org1 = %s (%v); want a JSON array of 3", raw, err)
	}
	if keys := slices.Sorted(maps.Keys(stored[0])); !slices.Equal(keys, []string{"name", "token", "verified_at"}) {
		t.Errorf("stored domain keys = %v; want [name token verified_at]", keys)
	}
	for i, want := range []string{`"2026-12-02T15:04:05.987654321Z"`, `"0001-01-01T00:00:00.000000000Z"`, `"2026-12-02T15:04:05.987654322Z"`} {
		if got := string(stored[i]["verified_at"]); got != want {
			t.Errorf("stored verified_at of domain %d = %s; want %s", i, got, want)
		}
	}
}

// CheckDomainsAgain checks, after reopening (or on another replica), what
// CheckDomains left, then changes org1's domains once more: the registry
// follows.
func CheckDomainsAgain(t *testing.T, st *sqlstore.Store) {
	t.Helper()
	ctx := t.Context()
	checkOldRows(t, st, map[string]*sso.Organization{"org1": withDomains(), "org3 Ω": org3Claiming()})
	checkNewDomains(t, st)

	// org1 gives up acme.example; org3 verifies it.
	org1 := withDomains()
	org1.Domains = org1.Domains[1:]
	if err := st.UpdateOrganization(ctx, org1); err != nil {
		t.Fatalf("UpdateOrganization(org1 without acme.example) err = %v", err)
	}
	org3 := org3Claiming()
	org3.Domains[0].VerifiedAt = domainsT.Add(3 * time.Hour)
	if err := st.UpdateOrganization(ctx, org3); err != nil {
		t.Fatalf("UpdateOrganization(org3 verifying the freed acme.example) err = %v", err)
	}
	checkOrgReads(t, st, "after the change", org1)
	checkOrgReads(t, st, "after the change", org3)
	checkRegistry(t, st, map[string]string{
		"acme.example": "org3 Ω", "acme-corp.example": "org1", "hooli.example": "org5", "piedpiper.example": "org6",
	})
}

// org3Claiming is org3 as CheckDomains left it: claiming acme.example,
// which org1 verified.
func org3Claiming() *sso.Organization {
	o := oldOrgs()[2].want.Clone()
	o.Version++
	o.Domains = []sso.Domain{{Name: "acme.example", Token: "tok-globex"}}
	return o
}

// checkNewDomains reads back what CheckDomains stored in the migrated
// schema: by ID, SSO name and verified domain, and the registry.
func checkNewDomains(t *testing.T, st *sqlstore.Store) {
	t.Helper()
	for _, o := range []*sso.Organization{withDomains(), hooliWithDomains(), newDomainsOrg(), org3Claiming()} {
		checkOrgReads(t, st, "domains stored after the migration", o)
	}
	for _, d := range []string{"acme-pending.example", "ACME.example", "www.acme.example"} {
		if o, err := st.OrganizationByDomain(t.Context(), d); !errors.Is(err, sso.ErrNotFound) {
			t.Errorf("OrganizationByDomain(%q) = %+v, %v; want ErrNotFound", d, o, err)
		}
	}
	checkRegistry(t, st, map[string]string{
		"acme.example": "org1", "acme-corp.example": "org1", "hooli.example": "org5", "piedpiper.example": "org6",
	})
}

// checkOrgReads reads want back by ID, by SSO name and by each verified
// domain: each must equal want.
func checkOrgReads(t *testing.T, st *sqlstore.Store, step string, want *sso.Organization) {
	t.Helper()
	ctx := t.Context()
	if got, err := st.Organization(ctx, want.ID); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("%s: Organization(%q) = %#v, %v; want %#v", step, want.ID, got, err, want)
	}
	if want.SSOName != "" {
		if got, err := st.OrganizationBySSOName(ctx, want.SSOName); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: OrganizationBySSOName(%q) = %#v, %v; want %#v", step, want.SSOName, got, err, want)
		}
	}
	for _, d := range want.Domains {
		if !d.Verified() {
			continue
		}
		if got, err := st.OrganizationByDomain(ctx, d.Name); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: OrganizationByDomain(%q) = %#v, %v; want %#v", step, d.Name, got, err, want)
		}
	}
}

// checkRegistry checks that verified_domains holds exactly want (domain ->
// organization ID), and that it is in line with the organizations: every
// organization's verified domains, and nothing else.
func checkRegistry(t *testing.T, st *sqlstore.Store, want map[string]string) {
	t.Helper()
	ctx := t.Context()
	rows, err := st.DB().QueryContext(ctx, `SELECT domain, org_id FROM verified_domains`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for rows.Next() {
		var d, id string
		if err := rows.Scan(&d, &id); err != nil {
			t.Fatal(err)
		}
		got[d] = id
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, want) {
		t.Errorf("verified_domains = %v; want %v", got, want)
	}
	ids, err := st.DB().QueryContext(ctx, `SELECT id FROM organizations`)
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for ids.Next() {
		var id string
		if err := ids.Scan(&id); err != nil {
			t.Fatal(err)
		}
		all = append(all, id)
	}
	if err := errors.Join(ids.Err(), ids.Close()); err != nil {
		t.Fatal(err)
	}
	fromOrgs := map[string]string{}
	for _, id := range all {
		o, err := st.Organization(ctx, id)
		if err != nil {
			t.Fatalf("Organization(%q) err = %v", id, err)
		}
		for _, d := range o.Domains {
			if d.Verified() {
				if other, ok := fromOrgs[d.Name]; ok {
					t.Errorf("domain %q is verified by %q and %q", d.Name, other, id)
				}
				fromOrgs[d.Name] = id
			}
		}
	}
	if !maps.Equal(got, fromOrgs) {
		t.Errorf("verified_domains = %v; the organizations verify %v", got, fromOrgs)
	}
}
