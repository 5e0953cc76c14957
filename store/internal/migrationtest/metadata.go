package migrationtest

import (
	"database/sql"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/sqlstore"
)

// MetadataURLsMigration is the file name suffix of the migration that adds
// organizations' IdP metadata URL and whether they name one.
const MetadataURLsMigration = "_metadata_urls.sql"

// schema7Org is an organization the code of schema 7 stored with a SAML
// connection (with an epoch) and a verified domain, and its connections
// and domains columns as that code's codec wrote them.
func schema7Org() (o *sso.Organization, conns, domains string) {
	o = &sso.Organization{
		ID: "org7", SSOName: "initech", OwnerID: "u-bill", Enabled: true, Version: 3, SSOEpoch: 5,
		IdP: sso.IdPConfig{EntityID: "https://idp.initech.example", SSOURL: "https://idp.initech.example/sso",
			Certificates: []string{pemA}},
		Connections: []sso.Connection{{
			ID: "adfs", Name: "Initech AD FS", Protocol: sso.ProtocolSAML, Enabled: true,
			SAML: sso.IdPConfig{EntityID: "http://adfs.initech.example/adfs/services/trust", SSOURL: "https://adfs.initech.example/adfs/ls/",
				Certificates: []string{pemB}, SignatureAlgorithm: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"},
			AllowIdPInitiated: true,
			Attributes:        sso.AttributeNames{Email: []string{"mail"}},
			Domains:           []string{"initech.example"},
			Epoch:             -42,
		}},
		Domains: []sso.Domain{{Name: "initech.example", Token: "tok-initech", VerifiedAt: domainsT}},
	}
	conns = `[{"id":"adfs","name":"Initech AD FS","protocol":"saml","enabled":true,` +
		`"saml":{"entity_id":"http://adfs.initech.example/adfs/services/trust","sso_url":"https://adfs.initech.example/adfs/ls/",` +
		`"certificates":["-----BEGIN CERTIFICATE-----\nMIIBoldB\nsecond line\n-----END CERTIFICATE-----\n"],"signature_algorithm":"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"},` +
		`"allow_idp_initiated":true,` +
		`"oidc":{"issuer":"","client_id":"","client_secret":"","scopes":null,"roles_claim":"","userinfo":false},` +
		`"jit_provisioning":false,"attributes":{"email":["mail"],"first_name":null,"last_name":null,"roles":null},"domains":["initech.example"],"epoch":-42}]`
	domains = `[{"name":"initech.example","token":"tok-initech","verified_at":"2026-12-02T15:04:05.987654321Z"}]`
	return o, conns, domains
}

// InsertPreMetadataRows writes, into a schema ApplyBefore made up to
// MetadataURLsMigration, with plain SQL, what the code of schema 7 wrote:
// the rows of InsertPreDomainRows (organizations, one with an OIDC
// connection, members and their registry, requests, sessions, a used
// assertion), and an organization with a SAML connection and a verified
// domain, with its row in the verified domain registry.
func InsertPreMetadataRows(t testing.TB, db *sql.DB, ph func(n int) string) {
	t.Helper()
	ctx := t.Context()
	InsertPreDomainRows(t, db, ph)
	p := make([]string, 20)
	for i := range p {
		p[i] = ph(i + 1)
	}
	o, conns, domains := schema7Org()
	if _, err := db.ExecContext(ctx, `INSERT INTO organizations (id, sso_name, owner_id, enabled, idp_entity_id, idp_sso_url,
		idp_certificates, idp_signature_algorithm, strict_mode, session_timeout_ns,
		role_mapping_enabled, role_delimiter, role_mappings, jit_provisioning, allow_idp_initiated, attributes,
		version, sso_epoch, connections, domains) VALUES (`+strings.Join(p, ", ")+`)`,
		o.ID, o.SSOName, o.OwnerID, o.Enabled, o.IdP.EntityID, o.IdP.SSOURL,
		`["-----BEGIN CERTIFICATE-----\nMIIBoldA+/=\n-----END CERTIFICATE-----\n"]`, "", false, int64(0), false, "", `null`, false, false,
		`{"email":null,"first_name":null,"last_name":null,"roles":null}`, o.Version, o.SSOEpoch, conns, domains); err != nil {
		t.Fatalf("insert organization %s: %v", o.ID, err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO verified_domains (domain, org_id) VALUES (`+ph(1)+`, `+ph(2)+`)`, "initech.example", o.ID); err != nil {
		t.Fatalf("insert verified domain: %v", err)
	}
}

// metadataURL is the metadata URL CheckMetadataURLs stores for name.
func metadataURL(name string) string { return "https://idp.example.com/" + name + "/metadata" }

// org1WithURL is org1 as CheckMetadataURLs updates it: its own metadata
// URL.
func org1WithURL() *sso.Organization {
	o := oldOrgs()[0].want.Clone()
	o.Version = 8
	o.IdPMetadataURL = metadataURL("acme")
	return o
}

// org7WithURL is the schema 7 organization as CheckMetadataURLs saves it:
// its SAML connection names a metadata URL, its domain kept.
func org7WithURL() *sso.Organization {
	o, _, _ := schema7Org()
	o.Connections[0].MetadataURL = metadataURL("initech-adfs")
	return o
}

// newMetadataOrg is an organization CheckMetadataURLs creates with both
// URLs.
func newMetadataOrg() *sso.Organization {
	o, _, _ := schema7Org()
	o.ID, o.SSOName, o.Version, o.Domains = "org8", "umbrella", 1, nil
	o.IdPMetadataURL = metadataURL("umbrella")
	o.Connections[0].MetadataURL = metadataURL("umbrella-adfs")
	return o
}

// CheckMetadataURLs checks a store opened (and so migrated) on a database
// that InsertPreMetadataRows filled: the migration is recorded once and
// made the new columns and index, no row is lost, the verified domain
// registry is kept, and every organization, member, pending request and
// session reads back exactly as written, with no metadata URL; none is
// listed. Then it stores metadata URLs in the migrated schema, through
// UpdateOrganization, SaveOrganization and CreateOrganization, and reads
// them back and lists them in ID order; the stored JSON names the
// connection's "metadata_url". CheckMetadataURLsAgain reads them after a
// reopen.
func CheckMetadataURLs(t *testing.T, st *sqlstore.Store, version int) {
	t.Helper()
	ctx := t.Context()
	db := st.DB()

	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = `+strconv.Itoa(version)).Scan(&n); err != nil || n != 1 {
		t.Errorf("schema_migrations has version %d %d times (%v); want once", version, n, err)
	}
	for table, want := range map[string]int{
		"organizations": len(oldOrgs()) + 2, "members": len(oldMembers()), "member_users": 3,
		"pending_requests": len(oldRequests()) + 1, "sessions": len(oldSessions()) + 1, "used_assertions": 1,
		"verified_domains": 1,
	} {
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil || n != want {
			t.Errorf("%s has %d rows after the migration (%v); want %d", table, n, err, want)
		}
	}
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM organizations WHERE idp_metadata_url <> ''`).Scan(&n); err != nil || n != 0 {
		t.Errorf("organizations with a metadata URL after the migration = %d, %v; want 0", n, err)
	}
	checkFlagged(t, st, "after the migration", nil)
	if !slices.Contains(indexes(t, st), "organizations_has_metadata_url") {
		t.Errorf("index organizations_has_metadata_url missing after the migration; indexes: %v", indexes(t, st))
	}

	// What schema 7 wrote reads back unchanged, with no metadata URLs.
	checkOldRows(t, st, nil)
	hooli, _ := schema6Org()
	org7, _, _ := schema7Org()
	checkOrgReads(t, st, "after the migration", hooli)
	checkOrgReads(t, st, "after the migration", org7)
	checkRegistry(t, st, map[string]string{"initech.example": "org7"})
	checkListed(t, st, "after the migration", nil)

	// Metadata URLs in the migrated schema.
	org1 := org1WithURL()
	org1.Version = 7
	if err := st.UpdateOrganization(ctx, org1); err != nil || org1.Version != 8 {
		t.Fatalf("UpdateOrganization(org1 from version 7, with a metadata URL) = %v, version %d; want nil, 8", err, org1.Version)
	}
	if err := st.SaveOrganization(ctx, org7WithURL()); err != nil {
		t.Fatalf("SaveOrganization(org7, a connection with a metadata URL) err = %v", err)
	}
	if err := st.CreateOrganization(ctx, newMetadataOrg()); err != nil {
		t.Fatalf("CreateOrganization(org8, with both URLs) err = %v", err)
	}
	checkNewMetadataURLs(t, st)

	// The connections column names the URL as the store does.
	var raw string
	if err := db.QueryRowContext(ctx, `SELECT connections FROM organizations WHERE id = 'org7'`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var stored []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &stored); err != nil || len(stored) != 1 {
		t.Fatalf("connections column of org7 = %s (%v); want a JSON array of 1", raw, err)
	}
	if got, want := string(stored[0]["metadata_url"]), `"`+metadataURL("initech-adfs")+`"`; got != want {
		t.Errorf("stored metadata_url of org7's connection = %s; want %s", got, want)
	}
}

// CheckMetadataURLsAgain checks, after reopening (or on another replica),
// what CheckMetadataURLs left, then removes org1's URL and org7's
// connection's: neither is listed any more.
func CheckMetadataURLsAgain(t *testing.T, st *sqlstore.Store) {
	t.Helper()
	ctx := t.Context()
	checkOldRows(t, st, map[string]*sso.Organization{"org1": org1WithURL()})
	checkNewMetadataURLs(t, st)

	org1 := org1WithURL()
	org1.IdPMetadataURL = ""
	if err := st.UpdateOrganization(ctx, org1); err != nil {
		t.Fatalf("UpdateOrganization(org1 without its URL) err = %v", err)
	}
	org7, _, _ := schema7Org()
	if err := st.SaveOrganization(ctx, org7); err != nil {
		t.Fatalf("SaveOrganization(org7, its connection without a URL) err = %v", err)
	}
	checkOrgReads(t, st, "after removing the URLs", org1)
	checkOrgReads(t, st, "after removing the URLs", org7)
	checkListed(t, st, "after removing the URLs", []*sso.Organization{newMetadataOrg()})
	checkFlagged(t, st, "after removing the URLs", []string{"org8"})
}

// checkNewMetadataURLs reads back what CheckMetadataURLs stored in the
// migrated schema, and lists it.
func checkNewMetadataURLs(t *testing.T, st *sqlstore.Store) {
	t.Helper()
	want := []*sso.Organization{org1WithURL(), org7WithURL(), newMetadataOrg()}
	for _, o := range want {
		checkOrgReads(t, st, "metadata URLs stored after the migration", o)
	}
	checkListed(t, st, "metadata URLs stored after the migration", want)
	checkFlagged(t, st, "metadata URLs stored after the migration", []string{"org1", "org7", "org8"})
	checkRegistry(t, st, map[string]string{"initech.example": "org7"})
}

// checkListed checks that OrganizationsWithMetadataURL lists exactly want,
// in its order (by ID), in pages of one and in one page.
func checkListed(t *testing.T, st *sqlstore.Store, step string, want []*sso.Organization) {
	t.Helper()
	ctx := t.Context()
	page, err := st.OrganizationsWithMetadataURL(ctx, "", sso.MaxListLimit)
	if err != nil || len(page) != len(want) {
		t.Fatalf("%s: OrganizationsWithMetadataURL = %d organizations, %v; want %d", step, len(page), err, len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(page[i], want[i]) {
			t.Errorf("%s: OrganizationsWithMetadataURL[%d] = %#v; want %#v", step, i, page[i], want[i])
		}
	}
	after := ""
	for i := range len(want) + 1 {
		page, err := st.OrganizationsWithMetadataURL(ctx, after, 1)
		switch {
		case err != nil:
			t.Fatalf("%s: OrganizationsWithMetadataURL(%q, 1) err = %v", step, after, err)
		case i == len(want) && len(page) != 0:
			t.Errorf("%s: OrganizationsWithMetadataURL(%q, 1) = %q; want none", step, after, page[0].ID)
		case i < len(want) && (len(page) != 1 || page[0].ID != want[i].ID):
			t.Fatalf("%s: OrganizationsWithMetadataURL(%q, 1) = %d organizations; want %q", step, after, len(page), want[i].ID)
		case i < len(want):
			after = page[0].ID
		}
	}
}

// checkFlagged checks the has_metadata_url column: exactly the
// organizations of ids have it set.
func checkFlagged(t *testing.T, st *sqlstore.Store, step string, ids []string) {
	t.Helper()
	no := "0"
	if st.Dialect() == sqlstore.Postgres {
		no = "false"
	}
	rows, err := st.DB().QueryContext(t.Context(), `SELECT id FROM organizations WHERE has_metadata_url <> `+no+` ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		got = append(got, id)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, ids) {
		t.Errorf("%s: organizations with has_metadata_url set = %q; want %q", step, got, ids)
	}
}
