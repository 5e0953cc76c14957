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

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/sqlstore"
)

// ConnectionsMigration is the file name suffix of the migration that adds
// organizations' connections, the pending requests' connection, nonce and
// code verifier, and the sessions' connection.
const ConnectionsMigration = "_connections.sql"

// connT is the instant the rows InsertPreConnectionRows writes expire
// around.
var connT = time.Date(2026, 11, 30, 9, 0, 0, 123456789, time.UTC)

// Two certificates as an IdP's metadata gives them: PEM, with line breaks.
const (
	pemA = "-----BEGIN CERTIFICATE-----\nMIIBoldA+/=\n-----END CERTIFICATE-----\n"
	pemB = "-----BEGIN CERTIFICATE-----\nMIIBoldB\nsecond line\n-----END CERTIFICATE-----\n"
)

// oldOrg is an organization as the code of schema 5 stored it: the value it
// was given (want, which must read back unchanged, with no connections) and
// the JSON columns as that code's codec wrote them.
type oldOrg struct {
	want                        *sso.Organization
	certs, mappings, attributes string
}

// oldOrgs are the organizations InsertPreConnectionRows writes.
func oldOrgs() []oldOrg {
	return []oldOrg{
		{
			want: &sso.Organization{
				ID: "org1", SSOName: "acme", OwnerID: "u-owner", Enabled: true,
				IdP: sso.IdPConfig{
					EntityID:           "http://www.okta.com/exk1acme",
					SSOURL:             "https://acme.okta.example/app/acme/exk1acme/sso/saml",
					Certificates:       []string{pemA, pemB},
					SignatureAlgorithm: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
				},
				StrictMode:     true,
				SessionTimeout: 8 * time.Hour,
				RoleMapping: rolemap.Config{Enabled: true, Delimiter: ",", Mappings: []rolemap.Mapping{
					{IdPRole: "Admins", OrgRole: rolemap.RoleAdmin, StackRoles: map[string][]string{"stack1": {"developer", "admin"}, "stack2": {"viewer"}}},
					{IdPRole: "Engineers", OrgRole: rolemap.RoleMember, StackRoles: map[string][]string{"stack1": {"developer"}}},
					{IdPRole: "Everyone", OrgRole: rolemap.RoleMember, StackRoles: map[string][]string{}},
					{IdPRole: "00g1uid", OrgRole: rolemap.RoleMember},
				}},
				JITProvisioning:   true,
				AllowIdPInitiated: true,
				Attributes: sso.AttributeNames{
					Email:     []string{"email", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"},
					FirstName: []string{"first_name"}, LastName: []string{"last_name"}, Roles: []string{"roles", "groups"},
				},
				Version: 7, SSOEpoch: 3,
			},
			certs: `["-----BEGIN CERTIFICATE-----\nMIIBoldA+/=\n-----END CERTIFICATE-----\n","-----BEGIN CERTIFICATE-----\nMIIBoldB\nsecond line\n-----END CERTIFICATE-----\n"]`,
			mappings: `[{"idp_role":"Admins","org_role":"admin","stack_roles":{"stack1":["developer","admin"],"stack2":["viewer"]}},` +
				`{"idp_role":"Engineers","org_role":"member","stack_roles":{"stack1":["developer"]}},` +
				`{"idp_role":"Everyone","org_role":"member","stack_roles":{}},` +
				`{"idp_role":"00g1uid","org_role":"member","stack_roles":null}]`,
			attributes: `{"email":["email","http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"],"first_name":["first_name"],"last_name":["last_name"],"roles":["roles","groups"]}`,
		},
		{
			// A draft: no SSO name, empty and nil lists.
			want: &sso.Organization{
				ID: "org2", OwnerID: "u-draft", IdP: sso.IdPConfig{Certificates: []string{}},
				RoleMapping: rolemap.Config{Mappings: []rolemap.Mapping{}},
				Version:     1,
			},
			certs: `[]`, mappings: `[]`, attributes: `{"email":null,"first_name":null,"last_name":null,"roles":null}`,
		},
		{
			// Disabled after it was enabled (epoch 1), a mapping switched off,
			// unusual strings.
			want: &sso.Organization{
				ID: "org3 Ω", SSOName: "globex", OwnerID: "Ωmega 👩‍💻 \"quoted\" \\ back\nslash",
				IdP: sso.IdPConfig{
					EntityID: "urn:example:idp?x=1&y=%20", SSOURL: "https://idp.globex.example/sso",
					Certificates:       []string{pemB},
					SignatureAlgorithm: "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
				},
				SessionTimeout: 24 * time.Hour,
				RoleMapping: rolemap.Config{Delimiter: ";", Mappings: []rolemap.Mapping{
					{IdPRole: "Ünïcödé Group", OrgRole: rolemap.RoleAdmin, StackRoles: map[string][]string{"": {""}, "s": {}}},
				}},
				Attributes: sso.AttributeNames{Email: []string{}, Roles: []string{"memberOf"}},
				Version:    12, SSOEpoch: 1,
			},
			certs:      `["-----BEGIN CERTIFICATE-----\nMIIBoldB\nsecond line\n-----END CERTIFICATE-----\n"]`,
			mappings:   `[{"idp_role":"\u00dcn\u00efc\u00f6d\u00e9 Group","org_role":"admin","stack_roles":{"":[""],"s":[]}}]`,
			attributes: `{"email":[],"first_name":null,"last_name":null,"roles":["memberOf"]}`,
		},
	}
}

// oldMember is a member as the code of schema 5 stored it.
type oldMember struct {
	want       *sso.Member
	stackRoles string
}

func oldMembers() []oldMember {
	return []oldMember{
		{want: &sso.Member{OrgID: "org1", Email: "Owner@Acme.example", UserID: "u-owner", FirstName: "Olive", LastName: "Owner",
			OrgRole: rolemap.RoleOwner}, stackRoles: `null`},
		{want: &sso.Member{OrgID: "org1", Email: "ada@acme.example", UserID: "u-ada", FirstName: "Ada", LastName: "Lovelace",
			OrgRole: rolemap.RoleAdmin, StackRoles: map[string][]string{"stack1": {"developer", "admin"}}, AllowWithoutSSO: true},
			stackRoles: `{"stack1":["developer","admin"]}`},
		{want: &sso.Member{OrgID: "org1", Email: "invited@acme.example", OrgRole: rolemap.RoleMember, StackRoles: map[string][]string{}},
			stackRoles: `{}`},
		{want: &sso.Member{OrgID: "org3 Ω", Email: "zed@globex.example", UserID: "u-zed", OrgRole: rolemap.RoleMember},
			stackRoles: `null`},
	}
}

func oldRequests() []*sso.PendingRequest {
	return []*sso.PendingRequest{
		{ID: "id-login", OrgID: "org1", ReturnTo: "/dash?tab=1", ExpiresAt: connT.Add(5 * time.Minute),
			BindingHash: strings.Repeat("ab", 32)},
		{ID: "id-test", OrgID: "org1", ReturnTo: "/", TesterUserID: "u-owner", ExpiresAt: connT.Add(5 * time.Minute),
			BindingHash: strings.Repeat("cd", 32)},
		{ID: "id-expired", OrgID: "org3 Ω", ReturnTo: "/späce?q=a b", ExpiresAt: connT.Add(-time.Minute),
			BindingHash: strings.Repeat("ef", 32)},
	}
}

func oldSessions() []*session.Session {
	created := connT.Add(-time.Hour)
	return []*session.Session{
		{ID: "s-sso", OrgID: "org1", UserID: "u-ada", Method: session.MethodSSO, CreatedAt: created, ExpiresAt: connT.Add(7 * time.Hour), Epoch: 3},
		{ID: "s-password", OrgID: "org1", UserID: "u-owner", Method: session.MethodPassword, CreatedAt: created, ExpiresAt: connT.Add(time.Hour)},
		{ID: "s-ended", OrgID: "org1", UserID: "u-ada", Method: session.MethodSSO, CreatedAt: created, ExpiresAt: connT.Add(time.Hour),
			Epoch: 2, EndReason: session.EndSSODisabled},
		{ID: "s-expired", OrgID: "org1", UserID: "u-ada", Method: session.MethodSSO, CreatedAt: created, ExpiresAt: connT, Epoch: 3},
		{ID: "s-globex", OrgID: "org3 Ω", UserID: "u-zed", Method: session.MethodSSO, CreatedAt: created, ExpiresAt: connT.Add(time.Hour),
			Epoch: 1, EndReason: "host's own reason"},
	}
}

// InsertPreConnectionRows writes, into a schema ApplyBefore made up to
// ConnectionsMigration, with plain SQL, what the code of that schema wrote:
// the organizations of oldOrgs (JSON columns as its codec wrote them,
// versions and SSO epochs), the members of oldMembers with their user ID
// registry rows, the pending requests of oldRequests (binding hashes), the
// sessions of oldSessions (epochs, end reasons) and one used assertion.
func InsertPreConnectionRows(t testing.TB, db *sql.DB, ph func(n int) string) {
	t.Helper()
	ctx := t.Context()
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
	orgQ := `INSERT INTO organizations (id, sso_name, owner_id, enabled, idp_entity_id, idp_sso_url,
		idp_certificates, idp_signature_algorithm, strict_mode, session_timeout_ns,
		role_mapping_enabled, role_delimiter, role_mappings, jit_provisioning, allow_idp_initiated, attributes,
		version, sso_epoch) VALUES (` + phs(18) + `)`
	for _, o := range oldOrgs() {
		w := o.want
		exec("organization "+w.ID, orgQ, w.ID, w.SSOName, w.OwnerID, w.Enabled, w.IdP.EntityID, w.IdP.SSOURL,
			o.certs, w.IdP.SignatureAlgorithm, w.StrictMode, int64(w.SessionTimeout),
			w.RoleMapping.Enabled, w.RoleMapping.Delimiter, o.mappings, w.JITProvisioning, w.AllowIdPInitiated, o.attributes,
			w.Version, w.SSOEpoch)
	}
	memberQ := `INSERT INTO members (org_id, email_key, email, user_id, first_name, last_name, org_role, stack_roles, allow_without_sso)
		VALUES (` + phs(9) + `)`
	registryQ := `INSERT INTO member_users (org_id, user_id, email_key) VALUES (` + phs(3) + `)`
	for _, m := range oldMembers() {
		w := m.want
		key := sso.MemberEmailKey(w.Email)
		exec("member "+w.Email, memberQ, w.OrgID, key, w.Email, w.UserID, w.FirstName, w.LastName, string(w.OrgRole), m.stackRoles, w.AllowWithoutSSO)
		if w.UserID != "" {
			exec("member_users "+w.UserID, registryQ, w.OrgID, w.UserID, key)
		}
	}
	requestQ := `INSERT INTO pending_requests (id, org_id, return_to, tester_user_id, expires_at, binding_hash) VALUES (` + phs(6) + `)`
	for _, r := range oldRequests() {
		exec("request "+r.ID, requestQ, r.ID, r.OrgID, r.ReturnTo, r.TesterUserID, storedTime(r.ExpiresAt), r.BindingHash)
	}
	sessionQ := `INSERT INTO sessions (id, org_id, user_id, method, created_at, expires_at, epoch, end_reason) VALUES (` + phs(8) + `)`
	for _, s := range oldSessions() {
		exec("session "+s.ID, sessionQ, s.ID, s.OrgID, s.UserID, s.Method, storedTime(s.CreatedAt), storedTime(s.ExpiresAt), s.Epoch, s.EndReason)
	}
	exec("used assertion", `INSERT INTO used_assertions (org_id, assertion_id, until) VALUES (`+phs(3)+`)`,
		"org1", "_assertion-1", storedTime(connT.Add(time.Hour)))
}

// CheckConnections checks a store opened (and so migrated) on a database
// that InsertPreConnectionRows filled: the migration is recorded once and
// made the new columns and index, no row is lost, and every organization,
// member, pending request and session reads back through the sso and
// session APIs exactly as written, with no connections and "" for every new
// field. Then it stores connections (SAML and OIDC, secrets, domains,
// scopes) in the migrated schema, through UpdateOrganization and
// CreateOrganization, and pending requests and sessions with a connection,
// and reads them back; CheckConnectionsAgain reads them after a reopen.
func CheckConnections(t *testing.T, st *sqlstore.Store, version int) {
	t.Helper()
	ctx := t.Context()
	db := st.DB()

	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = `+strconv.Itoa(version)).Scan(&n); err != nil || n != 1 {
		t.Errorf("schema_migrations has version %d %d times (%v); want once", version, n, err)
	}
	for table, want := range map[string]int{
		"organizations": len(oldOrgs()), "members": len(oldMembers()), "member_users": 3,
		"pending_requests": len(oldRequests()), "sessions": len(oldSessions()), "used_assertions": 1,
	} {
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil || n != want {
			t.Errorf("%s has %d rows after the migration (%v); want %d", table, n, err, want)
		}
	}
	// The new columns have their defaults in the old rows.
	for _, q := range []string{
		`SELECT COUNT(*) FROM organizations WHERE connections <> '[]'`,
		`SELECT COUNT(*) FROM pending_requests WHERE connection_id <> '' OR nonce <> '' OR code_verifier <> ''`,
		`SELECT COUNT(*) FROM sessions WHERE connection_id <> ''`,
	} {
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s = %d, %v; want 0", q, n, err)
		}
	}
	if !slices.Contains(indexes(t, st), "sessions_org_id_connection_id") {
		t.Errorf("index sessions_org_id_connection_id missing after the migration; indexes: %v", indexes(t, st))
	}

	checkOldRows(t, st, nil)

	// Requests: the new fields are "", and consuming works as before.
	for _, r := range oldRequests() {
		var got *sso.PendingRequest
		var err error
		if r.ID == "id-login" {
			if _, err := st.ConsumeMatchingRequest(ctx, r.ID, r.OrgID, strings.Repeat("00", 32)); !errors.Is(err, sso.ErrNotFound) {
				t.Errorf("ConsumeMatchingRequest(%s, another binding) err = %v; want ErrNotFound", r.ID, err)
			}
			got, err = st.ConsumeMatchingRequest(ctx, r.ID, r.OrgID, r.BindingHash)
		} else {
			got, err = st.ConsumeRequest(ctx, r.ID)
		}
		if err != nil || !reflect.DeepEqual(got, r) {
			t.Errorf("consume %s after the migration = %#v, %v; want %#v", r.ID, got, err, r)
		}
	}
	if err := st.UseAssertion(ctx, "org1", "_assertion-1", connT.Add(time.Hour)); !errors.Is(err, sso.ErrReplay) {
		t.Errorf("UseAssertion(an assertion used before the migration) err = %v; want ErrReplay", err)
	}

	// Connections in the migrated schema.
	org1 := withConnections()
	org1.Version = 7
	if err := st.UpdateOrganization(ctx, org1); err != nil || org1.Version != 8 {
		t.Fatalf("UpdateOrganization(org1 from version 7, with connections) = %v, version %d; want nil, 8", err, org1.Version)
	}
	stale := withConnections()
	stale.Version = 7
	stale.Connections = nil
	if err := st.UpdateOrganization(ctx, stale); !errors.Is(err, sso.ErrConflict) {
		t.Errorf("UpdateOrganization(org1 from stale version 7) err = %v; want ErrConflict", err)
	}
	created := newConnectionsOrg()
	if err := st.CreateOrganization(ctx, created); err != nil {
		t.Fatalf("CreateOrganization(org4, with connections) err = %v", err)
	}
	for _, r := range newRequests() {
		if err := st.SaveRequest(ctx, r); err != nil {
			t.Fatalf("SaveRequest(%s) err = %v", r.ID, err)
		}
	}
	for _, s := range newSessions() {
		if err := st.CreateSession(ctx, s); err != nil {
			t.Fatalf("CreateSession(%s) err = %v", s.ID, err)
		}
	}
	checkNewRows(t, st)

	// The connections column holds the store's names, not Go's, and the
	// client secret as its value.
	var raw string
	if err := db.QueryRowContext(ctx, `SELECT connections FROM organizations WHERE id = 'org1'`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var stored []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &stored); err != nil || len(stored) != 2 {
		t.Fatalf("connections column of org1 = %s (%v); want a JSON array of 2", raw, err)
	}
	wantKeys := []string{"allow_idp_initiated", "attributes", "domains", "enabled", "epoch", "id", "jit_provisioning", "metadata_url", "name", "oidc", "protocol", "saml"}
	if keys := slices.Sorted(maps.Keys(stored[1])); !slices.Equal(keys, wantKeys) {
		t.Errorf("stored connection keys = %v; want %v", keys, wantKeys)
	}
	var oidc map[string]any
	if err := json.Unmarshal(stored[1]["oidc"], &oidc); err != nil || oidc["client_secret"] != "okta-client-secret" || oidc["client_id"] != "0oa1client" {
		t.Errorf("stored oidc = %s (%v); want client_id and client_secret by the store's names, the secret's value", stored[1]["oidc"], err)
	}
}

// CheckConnectionsAgain checks, after reopening (or on another replica),
// what CheckConnections left: the old rows it did not consume or change,
// and the new ones.
func CheckConnectionsAgain(t *testing.T, st *sqlstore.Store) {
	t.Helper()
	checkOldRows(t, st, map[string]*sso.Organization{"org1": withConnections()})
	checkNewRows(t, st)
}

// checkOldRows reads back the organizations, members and sessions
// InsertPreConnectionRows wrote, but those in replaced (by ID).
func checkOldRows(t *testing.T, st *sqlstore.Store, replaced map[string]*sso.Organization) {
	t.Helper()
	ctx := t.Context()
	for _, o := range oldOrgs() {
		want := o.want
		if r := replaced[want.ID]; r != nil {
			want = r
		}
		got, err := st.Organization(ctx, want.ID)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Organization(%q) = %#v, %v; want %#v", want.ID, got, err, want)
		}
		if want.SSOName != "" {
			if got, err := st.OrganizationBySSOName(ctx, want.SSOName); err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("OrganizationBySSOName(%q) = %#v, %v; want %#v", want.SSOName, got, err, want)
			}
		}
	}
	for _, m := range oldMembers() {
		w := m.want
		if got, err := st.Member(ctx, w.OrgID, strings.ToUpper(w.Email)); err != nil || !reflect.DeepEqual(got, w) {
			t.Errorf("Member(%q, %q) = %#v, %v; want %#v", w.OrgID, w.Email, got, err, w)
		}
		if w.UserID != "" {
			if got, err := st.MemberByUserID(ctx, w.OrgID, w.UserID); err != nil || !reflect.DeepEqual(got, w) {
				t.Errorf("MemberByUserID(%q, %q) = %#v, %v; want %#v", w.OrgID, w.UserID, got, err, w)
			}
		}
	}
	if _, err := st.CreateMember(ctx, &sso.Member{OrgID: "org1", Email: "other@acme.example", UserID: "u-ada"}); !errors.Is(err, sso.ErrUserIDTaken) {
		t.Errorf("CreateMember(a user ID the registry holds) err = %v; want ErrUserIDTaken", err)
	}
	byID := map[string]*session.Session{}
	for _, s := range oldSessions() {
		byID[s.ID] = s
		if got, err := st.Session(ctx, s.ID); err != nil || !reflect.DeepEqual(got, s) {
			t.Errorf("Session(%s) = %#v, %v; want %#v", s.ID, got, err, s)
		}
	}
	// The old sessions are all of the organization's own IdP.
	for _, tt := range []struct {
		q    session.Query
		want []string
	}{
		{session.Query{OrgID: "org1"}, []string{"s-password", "s-sso"}},
		{session.Query{OrgID: "org1", Connection: "okta"}, nil},
		{session.Query{OrgID: "org1", UserID: "u-ada", Method: session.MethodSSO}, []string{"s-sso"}},
	} {
		list, err := st.ListSessions(ctx, tt.q, connT)
		var got []string
		for _, s := range list {
			if s.Connection == "" {
				got = append(got, s.ID)
			}
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ListSessions(%+v) = %v, %v; want %v", tt.q, sessionIDs(list), err, tt.want)
		}
		for _, s := range list {
			if w := byID[s.ID]; w != nil && !reflect.DeepEqual(s, w) {
				t.Errorf("ListSessions(%+v) listed %#v; want %#v", tt.q, s, w)
			}
		}
	}
}

// withConnections is org1 as CheckConnections updates it: a SAML and an
// OIDC connection, with secrets, domains and scopes.
func withConnections() *sso.Organization {
	o := oldOrgs()[0].want.Clone()
	o.Version = 8
	o.Connections = []sso.Connection{
		{
			ID: "contoso-adfs", Name: "Contoso AD FS", Protocol: sso.ProtocolSAML, Enabled: true,
			SAML: sso.IdPConfig{
				EntityID: "http://adfs.contoso.example/adfs/services/trust", SSOURL: "https://adfs.contoso.example/adfs/ls/",
				Certificates: []string{pemA, pemB}, SignatureAlgorithm: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
			},
			AllowIdPInitiated: true, JITProvisioning: true,
			Attributes: sso.AttributeNames{Email: []string{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"},
				Roles: []string{"http://schemas.microsoft.com/ws/2008/06/identity/claims/role"}},
			Domains: []string{"contoso.example", "contoso-eu.example"},
		},
		{
			ID: "okta", Name: "Okta 🔑", Protocol: sso.ProtocolOIDC,
			OIDC: sso.OIDCConfig{
				Issuer: "https://acme.okta.example/oauth2/default", ClientID: "0oa1client",
				ClientSecret: "okta-client-secret", Scopes: []string{"email", "profile", "groups"},
				RolesClaim: "groups", UserInfo: true,
			},
			Attributes: sso.AttributeNames{FirstName: []string{}},
			Domains:    []string{"acme.example"},
		},
	}
	return o
}

// newConnectionsOrg is an organization CheckConnections creates: connections
// only, OIDC with no scopes given (nil: the defaults) and none (empty).
func newConnectionsOrg() *sso.Organization {
	return &sso.Organization{
		ID: "org4", SSOName: "initech", OwnerID: "u-peter", Enabled: true, Version: 1,
		Connections: []sso.Connection{
			{ID: "google", Name: "Google", Protocol: sso.ProtocolOIDC, Enabled: true,
				OIDC:    sso.OIDCConfig{Issuer: "https://accounts.google.example", ClientID: "g", ClientSecret: "sealed:v1:AAAA"},
				Domains: []string{"initech.example"}},
			{ID: "entra", Name: "Entra ID", Protocol: sso.ProtocolOIDC,
				OIDC: sso.OIDCConfig{Issuer: "https://login.microsoftonline.example/t/v2.0", ClientID: "e", ClientSecret: "x",
					Scopes: []string{}, RolesClaim: "roles"}},
		},
	}
}

func newRequests() []*sso.PendingRequest {
	return []*sso.PendingRequest{
		{ID: "id-oidc", OrgID: "org1", ReturnTo: "/after", ExpiresAt: connT.Add(10 * time.Minute), BindingHash: strings.Repeat("12", 32),
			Connection: "okta", Nonce: "n-0S6_WzA2Mj", CodeVerifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"},
		{ID: "id-saml-conn", OrgID: "org1", ExpiresAt: connT.Add(10 * time.Minute), BindingHash: strings.Repeat("34", 32),
			Connection: "contoso-adfs"},
	}
}

func newSessions() []*session.Session {
	return []*session.Session{
		{ID: "s-okta", OrgID: "org1", UserID: "u-ada", Method: session.MethodSSO, CreatedAt: connT, ExpiresAt: connT.Add(time.Hour),
			Epoch: 3, Connection: "okta"},
		{ID: "s-adfs", OrgID: "org1", UserID: "u-owner", Method: session.MethodSSO, CreatedAt: connT, ExpiresAt: connT.Add(time.Hour),
			Epoch: 3, Connection: "contoso-adfs"},
	}
}

// checkNewRows reads back what CheckConnections stored in the migrated
// schema. Pending requests are consumed: a second call finds them gone.
func checkNewRows(t *testing.T, st *sqlstore.Store) {
	t.Helper()
	ctx := t.Context()
	for _, want := range []*sso.Organization{withConnections(), newConnectionsOrg()} {
		if got, err := st.Organization(ctx, want.ID); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Organization(%q) = %#v, %v; want %#v", want.ID, got, err, want)
		}
		if got, err := st.OrganizationBySSOName(ctx, want.SSOName); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("OrganizationBySSOName(%q) = %#v, %v; want %#v", want.SSOName, got, err, want)
		}
	}
	for _, r := range newRequests() {
		got, err := st.ConsumeMatchingRequest(ctx, r.ID, r.OrgID, r.BindingHash)
		switch {
		case errors.Is(err, sso.ErrNotFound):
			// consumed by an earlier check
		case err != nil || !reflect.DeepEqual(got, r):
			t.Errorf("ConsumeMatchingRequest(%s) = %#v, %v; want %#v", r.ID, got, err, r)
		}
	}
	for _, s := range newSessions() {
		if got, err := st.Session(ctx, s.ID); err != nil || !reflect.DeepEqual(got, s) {
			t.Errorf("Session(%s) = %#v, %v; want %#v", s.ID, got, err, s)
		}
		list, err := st.ListSessions(ctx, session.Query{OrgID: s.OrgID, Connection: s.Connection}, connT)
		if err != nil || len(list) != 1 || !reflect.DeepEqual(list[0], s) {
			t.Errorf("ListSessions(%s, connection %s) = %v, %v; want [%s]", s.OrgID, s.Connection, sessionIDs(list), err, s.ID)
		}
	}
	list, err := st.ListSessions(ctx, session.Query{OrgID: "org1"}, connT)
	if ids := sessionIDs(list); err != nil || !slices.Equal(ids, []string{"s-adfs", "s-okta", "s-password", "s-sso"}) {
		t.Errorf("ListSessions(org1, every connection) = %v, %v; want [s-adfs s-okta s-password s-sso]", ids, err)
	}
}

// CheckEndByConnection ends, after CheckConnections, the sessions of one
// connection: only they end, the old sessions of the organization's own IdP
// are untouched. It changes what CheckConnectionsAgain expects: run it last.
func CheckEndByConnection(t *testing.T, st *sqlstore.Store) {
	t.Helper()
	ctx := t.Context()
	if n, err := st.EndSessions(ctx, session.Query{OrgID: "org1", Connection: "okta"}, session.EndConnectionOff); err != nil || n != 1 {
		t.Errorf("EndSessions(org1, okta) = %d, %v; want 1", n, err)
	}
	want := map[string]string{"s-okta": session.EndConnectionOff, "s-adfs": "", "s-sso": "", "s-password": "",
		"s-ended": session.EndSSODisabled, "s-expired": "", "s-globex": "host's own reason"}
	for id, reason := range want {
		if s, err := st.Session(ctx, id); err != nil || s.EndReason != reason {
			t.Errorf("Session(%s) after EndSessions(okta) = %+v, %v; want end reason %q", id, s, err, reason)
		}
	}
	if n, err := st.EndSessions(ctx, session.Query{OrgID: "org1"}, session.EndSSODisabled); err != nil || n != 4 {
		t.Errorf("EndSessions(org1, every connection) = %d, %v; want 4 (s-adfs, s-sso, s-password, s-expired)", n, err)
	}
}

// indexes returns the names of the indexes of the store's schema.
func indexes(t *testing.T, st *sqlstore.Store) []string {
	t.Helper()
	var q string
	switch st.Dialect() {
	case sqlstore.SQLite:
		q = `SELECT name FROM sqlite_master WHERE type = 'index'`
	case sqlstore.Postgres:
		q = `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()`
	}
	rows, err := st.DB().QueryContext(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		out = append(out, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
