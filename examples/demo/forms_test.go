package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/sso"
)

// testCertPEM makes a self-signed certificate, PEM-encoded.
func testCertPEM(t *testing.T, cn string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
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
		name    string
		rows    []mappingRow
		wantErr string
	}{
		{"no IdP role", []mappingRow{{OrgRole: "member", StackUID: "blog", StackRoles: "x"}}, "row 1: enter the IdP role"},
		{"owner", []mappingRow{{IdPRole: "x", OrgRole: "owner"}}, "row 1: choose Member or Admin"},
		{"stack without roles", []mappingRow{{IdPRole: "x", OrgRole: "member", StackUID: "blog", StackRoles: " , "}}, `row 1: stack "blog" needs`},
		{"roles without stack", []mappingRow{{IdPRole: "x", OrgRole: "member", StackRoles: "dev"}}, "row 1: enter the stack UID"},
		{"two org roles", []mappingRow{{IdPRole: "x", OrgRole: "member"}, {OrgRole: "member"}, {IdPRole: "x", OrgRole: "admin"}},
			`row 3: IdP role "x" is already mapped to member in row 1`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := buildMappings(tt.rows); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("buildMappings() err = %v; want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestUsersFormApply(t *testing.T) {
	org := &sso.Organization{ID: "o", SSOName: "acme", OwnerID: "u", RoleMapping: demoRoleMapping(), SessionTimeout: 5 * time.Hour}
	f := usersFormFrom(org)
	got, err := f.apply(org, time.Now())
	if err != nil {
		t.Fatalf("apply(usersFormFrom(org)) err = %v", err)
	}
	if !reflect.DeepEqual(got, org) {
		t.Errorf("apply(usersFormFrom(org)) = %+v; want %+v", got, org)
	}

	for _, tc := range []struct {
		edit    func(*usersForm)
		wantErr string
	}{
		{func(f *usersForm) { f.TimeoutHours = "0" }, "Session timeout must be"},
		{func(f *usersForm) { f.TimeoutHours = "25" }, "Session timeout must be"},
		{func(f *usersForm) { f.TimeoutHours = "1.5" }, "Session timeout must be"},
		{func(f *usersForm) { f.Delimiter = "tab" }, "Choose a role delimiter"},
		{func(f *usersForm) { f.Delimiter = "comma"; f.Rows[0].IdPRole = "a,b" }, `Role mapping row 1 ("a,b"): IdP role identifier contains the delimiter`},
	} {
		f := usersFormFrom(org)
		tc.edit(&f)
		if _, err := f.apply(org, time.Now()); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("apply() err = %v; want one containing %q", err, tc.wantErr)
		}
	}
}

func TestConfigMessage(t *testing.T) {
	cert := testCertPEM(t, "x")
	tests := []struct {
		err  error
		want string
	}{
		{sso.IdPConfig{SSOURL: "https://idp.example/sso", Certificates: []string{cert, "junk"}}.ValidateAt(time.Now()), "Certificate 2: not a PEM block."},
		{sso.IdPConfig{Certificates: []string{cert}}.ValidateAt(time.Now()), "Single Sign-On URL: is empty"},
		{sso.ValidateSSOName("a--b"), "SSO name must not contain two hyphens in a row."},
		{sso.ErrNotOwner, sso.UserMessage(sso.ErrNotOwner)},
	}
	for _, tt := range tests {
		if got := configMessage(tt.err); !strings.Contains(got, tt.want) {
			t.Errorf("configMessage(%v) = %q; want it to contain %q", tt.err, got, tt.want)
		}
	}
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
