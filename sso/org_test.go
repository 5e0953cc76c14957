package sso

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orgsso/orgsso/rolemap"
)

// orgTestNow is the instant the organization tests judge certificates at.
var orgTestNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// orgTestCertPEM returns a self-signed ECDSA certificate valid from notBefore
// to notAfter, as PEM.
func orgTestCertPEM(t *testing.T, notBefore, notAfter time.Time) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "idp.test"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// orgTestFixturePEM reads a PEM file of the module's testdata/idpmetadata.
func orgTestFixturePEM(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "idpmetadata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// orgTestCheckErr checks err against a wanted sentinel, ConfigError field and
// message substring (all unchecked when wantErr is nil, which wants no error).
func orgTestCheckErr(t *testing.T, call string, err, wantErr error, wantField, wantReason string) {
	t.Helper()
	if wantErr == nil {
		if err != nil {
			t.Fatalf("%s err = %v; want nil", call, err)
		}
		return
	}
	if !errors.Is(err, wantErr) {
		t.Fatalf("%s err = %v; want %v", call, err, wantErr)
	}
	if !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("%s err = %v; want it to wrap %v", call, err, ErrInvalidConfig)
	}
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("%s err = %#v; want a *ConfigError", call, err)
	}
	if wantField != "" && ce.Field != wantField {
		t.Errorf("%s err field = %q; want %q (err = %v)", call, ce.Field, wantField, err)
	}
	if !strings.Contains(err.Error(), wantReason) {
		t.Errorf("%s err = %q; want it to contain %q", call, err, wantReason)
	}
}

func TestOrganizationValidateAt(t *testing.T) {
	okta := orgTestFixturePEM(t, "okta.pem")
	expired := orgTestCertPEM(t, orgTestNow.AddDate(-2, 0, 0), orgTestNow.AddDate(0, -1, 0))
	idp := IdPConfig{
		EntityID:     "http://www.okta.com/exk1",
		SSOURL:       "https://dev-1.okta.com/app/x/sso/saml",
		Certificates: []string{okta},
	}
	base := Organization{ID: "org1", SSOName: "acme", OwnerID: "u1", Enabled: true, IdP: idp}
	with := func(f func(o *Organization)) *Organization {
		o := base
		f(&o)
		return &o
	}
	mapping := rolemap.Config{Enabled: true, Delimiter: ",", Mappings: []rolemap.Mapping{
		{IdPRole: "eng", OrgRole: rolemap.RoleMember, StackRoles: map[string][]string{"stack1": {"developer"}}},
		{IdPRole: "admins", OrgRole: rolemap.RoleAdmin},
	}}

	tests := []struct {
		name       string
		org        *Organization
		wantErr    error
		wantField  string
		wantReason string
	}{
		{name: "enabled and complete", org: &base},
		{name: "draft without IdP", org: with(func(o *Organization) { o.Enabled = false; o.IdP = IdPConfig{} })},
		{name: "draft with SSO URL only", org: with(func(o *Organization) { o.Enabled = false; o.IdP.Certificates = nil })},
		{name: "draft with expired certificate", org: with(func(o *Organization) { o.Enabled = false; o.IdP.Certificates = []string{expired} })},
		{name: "timeout 1h", org: with(func(o *Organization) { o.SessionTimeout = time.Hour })},
		{name: "timeout 24h", org: with(func(o *Organization) { o.SessionTimeout = 24 * time.Hour })},
		{name: "role mapping", org: with(func(o *Organization) { o.RoleMapping = mapping })},

		{name: "nil", org: nil,
			wantErr: ErrInvalidConfig, wantField: "Organization", wantReason: "nil"},
		{name: "no SSO name", org: with(func(o *Organization) { o.SSOName = "" }),
			wantErr: ErrSSONameLength, wantField: "SSOName"},
		{name: "bad SSO name", org: with(func(o *Organization) { o.SSOName = "Acme" }),
			wantErr: ErrSSONameCharacters, wantField: "SSOName"},
		{name: "timeout too short", org: with(func(o *Organization) { o.SessionTimeout = 59 * time.Minute }),
			wantErr: ErrInvalidConfig, wantField: "SessionTimeout", wantReason: "59m0s is outside 1h0m0s to 24h0m0s"},
		{name: "timeout too long", org: with(func(o *Organization) { o.SessionTimeout = 24*time.Hour + time.Second }),
			wantErr: ErrInvalidConfig, wantField: "SessionTimeout", wantReason: "outside"},
		{name: "negative timeout", org: with(func(o *Organization) { o.SessionTimeout = -time.Hour }),
			wantErr: ErrInvalidConfig, wantField: "SessionTimeout", wantReason: "outside"},
		{name: "role mapping grants owner", org: with(func(o *Organization) {
			o.RoleMapping = rolemap.Config{Enabled: true, Mappings: []rolemap.Mapping{{IdPRole: "x", OrgRole: rolemap.RoleOwner}}}
		}), wantErr: rolemap.ErrInvalidConfig, wantField: "RoleMapping", wantReason: "owner"},
		{name: "disabled role mapping still validated", org: with(func(o *Organization) {
			o.RoleMapping = rolemap.Config{Mappings: []rolemap.Mapping{{OrgRole: rolemap.RoleMember}}}
		}), wantErr: rolemap.ErrInvalidConfig, wantField: "RoleMapping"},
		{name: "enabled without IdP", org: with(func(o *Organization) { o.IdP = IdPConfig{} }),
			wantErr: ErrInvalidConfig, wantField: "IdP.SSOURL", wantReason: "required"},
		{name: "enabled without certificate", org: with(func(o *Organization) { o.IdP.Certificates = nil }),
			wantErr: ErrInvalidConfig, wantField: "IdP.Certificates"},
		{name: "enabled without IdP entity ID", org: with(func(o *Organization) { o.IdP.EntityID = "" }),
			wantErr: ErrInvalidConfig, wantField: "IdP.EntityID", wantReason: "required"},
		{name: "enabled with expired certificate", org: with(func(o *Organization) { o.IdP.Certificates = []string{expired} }),
			wantErr: ErrInvalidConfig, wantField: "IdP.Certificates[0]", wantReason: "expired"},
		{name: "draft with unparsable certificate", org: with(func(o *Organization) {
			o.Enabled = false
			o.IdP = IdPConfig{Certificates: []string{"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}}
		}), wantErr: ErrInvalidConfig, wantField: "IdP.Certificates[0]", wantReason: "X.509"},
		{name: "draft with http SSO URL", org: with(func(o *Organization) { o.Enabled = false; o.IdP.SSOURL = "http://idp.example.com" }),
			wantErr: ErrInvalidConfig, wantField: "IdP.SSOURL", wantReason: "https"},
		{name: "draft with unknown algorithm", org: with(func(o *Organization) { o.Enabled = false; o.IdP.SignatureAlgorithm = "md5" }),
			wantErr: ErrInvalidConfig, wantField: "IdP.SignatureAlgorithm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.org.ValidateAt(orgTestNow)
			orgTestCheckErr(t, "Organization.ValidateAt()", err, tt.wantErr, tt.wantField, tt.wantReason)
			if tt.wantErr == rolemap.ErrInvalidConfig && !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("Organization.ValidateAt() err = %v; want it to match both %v and %v", err, ErrInvalidConfig, rolemap.ErrInvalidConfig)
			}
		})
	}
}

func TestOrganizationValidate(t *testing.T) {
	var nilOrg *Organization
	if err := nilOrg.Validate(); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("(*Organization)(nil).Validate() err = %v; want %v", err, ErrInvalidConfig)
	}
	org := &Organization{SSOName: "acme", Enabled: true, IdP: IdPConfig{
		EntityID:     "https://idp.example.com",
		SSOURL:       "https://idp.example.com/sso",
		Certificates: []string{orgTestCertPEM(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))},
	}}
	if err := org.Validate(); err != nil {
		t.Errorf("Validate() err = %v; want nil", err)
	}
	// Enabled needs the IdP's entity ID (any Issuer would pass without it);
	// a draft may lack it.
	org.IdP.EntityID = ""
	if err := org.Validate(); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "IdP.EntityID") {
		t.Errorf("Validate(enabled, no IdP.EntityID) err = %v; want an IdP.EntityID config error", err)
	}
	org.Enabled = false
	if err := org.Validate(); err != nil {
		t.Errorf("Validate(draft, no IdP.EntityID) err = %v; want nil", err)
	}
}

func TestEffectiveSessionTimeout(t *testing.T) {
	tests := []struct {
		name string
		org  *Organization
		want time.Duration
	}{
		{"nil", nil, DefaultSessionTimeout},
		{"zero", &Organization{}, DefaultSessionTimeout},
		{"1h", &Organization{SessionTimeout: time.Hour}, time.Hour},
		{"8h", &Organization{SessionTimeout: 8 * time.Hour}, 8 * time.Hour},
		{"24h", &Organization{SessionTimeout: 24 * time.Hour}, 24 * time.Hour},
		{"too short held at min", &Organization{SessionTimeout: time.Minute}, MinSessionTimeout},
		{"negative held at min", &Organization{SessionTimeout: -time.Hour}, MinSessionTimeout},
		{"too long held at max", &Organization{SessionTimeout: 1000 * time.Hour}, MaxSessionTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.org.EffectiveSessionTimeout(); got != tt.want {
				t.Errorf("EffectiveSessionTimeout() = %v; want %v", got, tt.want)
			}
		})
	}
}
