package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/sso"
)

// testCertPEM makes a self-signed certificate valid for the next hour,
// PEM-encoded.
func testCertPEM(t *testing.T, cn string) string {
	t.Helper()
	return testCertPEMValid(t, cn, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
}

// testCertPEMValid makes a self-signed certificate valid from notBefore to
// notAfter, PEM-encoded.
func testCertPEMValid(t *testing.T, cn string, notBefore, notAfter time.Time) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: notBefore, NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestSplitCertificates(t *testing.T) {
	a, b := testCertPEM(t, "a"), testCertPEM(t, "b")
	block, _ := pem.Decode([]byte(a))
	bare := base64.StdEncoding.EncodeToString(block.Bytes)
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr string
	}{
		{name: "empty", in: " \n "},
		{name: "one", in: a, want: []string{a}},
		{name: "CRLF and indentation", in: "  " + strings.ReplaceAll(a, "\n", "\r\n"), want: []string{a}},
		{name: "rotation", in: a + "\n\n" + b, want: []string{a, b}},
		{name: "duplicate", in: a + a, want: []string{a}},
		{name: "bare base64 with line breaks", in: bare[:40] + "\n" + bare[40:], want: []string{a}},
		{name: "not a certificate", in: "hello", wantErr: "not in PEM format"},
		{name: "private key", in: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", wantErr: `"PRIVATE KEY" block`},
		{name: "text after", in: a + "trailing", wantErr: "Unexpected text after certificate 1"},
		{name: "cut short", in: a[:len(a)-10], wantErr: "Certificate 1 is not a complete PEM block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := splitCertificates(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("splitCertificates() err = %v; want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("splitCertificates() = %q, %v; want %q, nil", got, err, tt.want)
			}
		})
	}
}

func TestBuildMappings(t *testing.T) {
	rows := []mappingRow{
		{IdPRole: " Developers ", OrgRole: "member", StackUID: "blog", StackRoles: "developer, editor,developer"},
		{OrgRole: "member"}, // blank
		{IdPRole: "Gone", OrgRole: "admin", Remove: true},
		{IdPRole: "Admins", OrgRole: "admin"},
		{IdPRole: "Developers", OrgRole: "member", StackUID: "docs", StackRoles: "editor"},
		{IdPRole: "Developers", OrgRole: "member", StackUID: "blog", StackRoles: "reviewer"},
	}
	ms, rowOf, err := buildMappings(rows)
	if err != nil {
		t.Fatalf("buildMappings() err = %v", err)
	}
	want := []rolemap.Mapping{
		{IdPRole: "Developers", OrgRole: rolemap.RoleMember, StackRoles: map[string][]string{"blog": {"developer", "editor", "reviewer"}, "docs": {"editor"}}},
		{IdPRole: "Admins", OrgRole: rolemap.RoleAdmin},
	}
	if !reflect.DeepEqual(ms, want) || !reflect.DeepEqual(rowOf, []int{0, 3}) {
		t.Errorf("buildMappings() = %+v, rows %v; want %+v, rows [0 3]", ms, rowOf, want)
	}

	bad := []struct {
		name      string
		rows      []mappingRow
		wantErr   string
		wantField string // the input marked aria-invalid
		wantRow   int
	}{
		{"no IdP role", []mappingRow{{OrgRole: "member", StackUID: "blog", StackRoles: "x"}}, "row 1: enter the IdP role", "idp_role", 0},
		{"owner", []mappingRow{{IdPRole: "x", OrgRole: "owner"}}, "row 1: choose Member or Admin", "org_role", 0},
		{"stack without roles", []mappingRow{{IdPRole: "x", OrgRole: "member", StackUID: "blog", StackRoles: " , "}}, `row 1: stack "blog" needs`, "stack_roles", 0},
		{"roles without stack", []mappingRow{{IdPRole: "x", OrgRole: "member", StackRoles: "dev"}}, "row 1: enter the stack UID", "stack_uid", 0},
		{"two org roles", []mappingRow{{IdPRole: "x", OrgRole: "member"}, {OrgRole: "member"}, {IdPRole: "x", OrgRole: "admin"}},
			`row 3: IdP role "x" is already mapped to member in row 1`, "org_role", 2},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := buildMappings(tt.rows)
			var fe *fieldError
			if !errors.As(err, &fe) || !strings.Contains(fe.Msg, tt.wantErr) || fe.Field != tt.wantField || fe.Row != tt.wantRow {
				t.Errorf("buildMappings() err = %#v; want a fieldError of %s row %d containing %q", err, tt.wantField, tt.wantRow, tt.wantErr)
			}
		})
	}
}

func TestUsersFormApply(t *testing.T) {
	org := &sso.Organization{ID: "o", SSOName: "acme", OwnerID: "u", RoleMapping: demoRoleMapping(), SessionTimeout: 5 * time.Hour}
	got := org.Clone()
	require.NoError(t, usersFormFrom(org).apply(got, time.Now()))
	assert.Equal(t, org, got, "apply(usersFormFrom(org)) changed the organization")

	for _, tc := range []struct {
		edit      func(*usersForm)
		wantErr   string
		wantField string
		wantRow   int
	}{
		{func(f *usersForm) { f.TimeoutHours = "0" }, "Session timeout must be", "session_timeout_hours", -1},
		{func(f *usersForm) { f.TimeoutHours = "25" }, "Session timeout must be", "session_timeout_hours", -1},
		{func(f *usersForm) { f.TimeoutHours = "1.5" }, "Session timeout must be", "session_timeout_hours", -1},
		{func(f *usersForm) { f.Delimiter = "tab" }, "Choose a role delimiter", "delimiter", -1},
		{func(f *usersForm) { f.Delimiter = "comma"; f.Rows[1].IdPRole = "a,b" },
			`Role mapping row 2 ("a,b"): IdP role identifier contains the delimiter`, "idp_role", 1},
	} {
		f := usersFormFrom(org)
		tc.edit(&f)
		err := f.apply(org.Clone(), time.Now())
		var fe *fieldError
		if !errors.As(err, &fe) || !strings.Contains(fe.Msg, tc.wantErr) || fe.Field != tc.wantField || fe.Row != tc.wantRow {
			t.Errorf("apply() err = %#v; want a fieldError of %s row %d containing %q", err, tc.wantField, tc.wantRow, tc.wantErr)
		}
		if shown := f.withError(err); !shown.IsInvalid(tc.wantField, tc.wantRow) || shown.Error != fe.Msg {
			t.Errorf("withError(%v) = %+v; want %s row %d marked", err, shown, tc.wantField, tc.wantRow)
		}
	}
}

// TestUserMessage: what the settings page says about an error is a plain
// sentence (positions from 1), never Go error text.
func TestUserMessage(t *testing.T) {
	cert := testCertPEM(t, "x")
	expired := testCertPEMValid(t, "old", time.Now().AddDate(-2, 0, 0), time.Now().AddDate(-1, 0, 0))
	// idpErr is what the settings page shows for an enabled organization's
	// IdP configuration c.
	idpErr := func(c sso.IdPConfig) error {
		return (&sso.Organization{ID: "o", SSOName: "acme", OwnerID: "u", Enabled: true, IdP: c}).ValidateAt(time.Now())
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"second certificate not PEM", idpErr(sso.IdPConfig{SSOURL: "https://idp.example/sso", Certificates: []string{cert, "junk"}}), "IdP certificate 2"},
		{"expired certificate", idpErr(sso.IdPConfig{SSOURL: "https://idp.example/sso", Certificates: []string{expired}}), "IdP certificate 1 expired on "},
		{"no SSO URL", idpErr(sso.IdPConfig{Certificates: []string{cert}}), "Enter the IdP's single sign-on URL."},
		{"no certificate", idpErr(sso.IdPConfig{SSOURL: "https://idp.example/sso", EntityID: "x"}), "Add the IdP's signing certificate."},
		{"SSO name characters", sso.ValidateSSOName("Acme"), "The SSO name may contain only lowercase letters a-z, digits and hyphens."},
		{"SSO name hyphens", sso.ValidateSSOName("a--b"), "The SSO name must not contain two hyphens in a row."},
		{"SSO name length", sso.ValidateSSOName(""), "The SSO name must be 2 to 63 characters long."},
		{"rule", &sso.RuleError{Field: "SSOName", Rule: "The SSO name can only be changed while SSO is disabled."}, "The SSO name can only be changed while SSO is disabled."},
		{"conflict", sso.ErrConflict, sso.UserMessage(sso.ErrConflict)},
		{"name taken", sso.ErrSSONameTaken, "Another organization already uses that SSO name."},
		{"member exists", sso.ErrMemberExists, "already a member"},
		{"not owner", sso.ErrNotOwner, sso.UserMessage(sso.ErrNotOwner)},
		{"form", formError("Enter it."), "Enter it."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := userMessage(tt.err)
			assert.Contains(t, got, tt.want)
			assert.NotContains(t, got, "sso:", "Go error text")
			assert.NotContains(t, got, "position 0", "a position from 0")
		})
	}
}

// TestAttrForm: the attribute names form reads comma-separated lists.
func TestAttrForm(t *testing.T) {
	got, err := attrForm{Email: " mail , email,mail", Roles: "urn:oid:1.3.6.1.4.1.5923.1.1.1.1"}.names()
	require.NoError(t, err)
	assert.Equal(t, sso.AttributeNames{Email: []string{"mail", "email"}, Roles: []string{"urn:oid:1.3.6.1.4.1.5923.1.1.1.1"}}, got)
	assert.Equal(t, attrForm{Email: "mail, email", Roles: "urn:oid:1.3.6.1.4.1.5923.1.1.1.1"}, attrFormFrom(got))

	_, err = attrForm{LastName: "sn, a\x00b"}.names()
	assert.Equal(t, "attr_last_name", invalidField(err))
	many := make([]string, maxAttributeNames+1)
	for i := range many {
		many[i] = "name" + strconv.Itoa(i)
	}
	_, err = attrForm{FirstName: strings.Join(many, ",")}.names()
	assert.Equal(t, "attr_first_name", invalidField(err))
}

func TestPassword(t *testing.T) {
	h, err := hashPassword("correct horse", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if !checkPassword(h, "correct horse") {
		t.Errorf("checkPassword(right password) = false")
	}
	for _, tc := range []struct{ stored, pw string }{
		{h, "correct horse "}, {h, ""}, {"", ""}, {dummyHash(1000), ""}, {"pbkdf2-sha256$x$y$z", "a"}, {"md5$1$a$b", "a"},
	} {
		if checkPassword(tc.stored, tc.pw) {
			t.Errorf("checkPassword(%q, %q) = true; want false", tc.stored, tc.pw)
		}
	}
}
