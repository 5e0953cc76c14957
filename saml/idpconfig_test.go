package saml

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
)

// idpTestNow is the instant the organization tests judge certificates at.
var idpTestNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// idpTestCertPEM returns a self-signed ECDSA certificate valid from notBefore
// to notAfter, as PEM.
func idpTestCertPEM(t *testing.T, notBefore, notAfter time.Time) string {
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

// idpTestFixturePEM reads a PEM file of the module's testdata/idpmetadata.
func idpTestFixturePEM(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "idpmetadata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestIdPConfigValidateAt(t *testing.T) {
	okta := idpTestFixturePEM(t, "okta.pem") // valid 2025-01-01 to 2035-01-01
	google := idpTestFixturePEM(t, "google.pem")
	expired := idpTestCertPEM(t, idpTestNow.AddDate(-2, 0, 0), idpTestNow.Add(-time.Second))
	future := idpTestCertPEM(t, idpTestNow.Add(time.Hour), idpTestNow.AddDate(1, 0, 0))
	block, _ := pem.Decode([]byte(okta))
	keyBlock := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: block.Bytes}))
	notX509 := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER")}))

	valid := IdPConfig{
		EntityID:     "http://www.okta.com/exk1",
		SSOURL:       "https://dev-1.okta.com/app/x/sso/saml",
		Certificates: []string{okta},
	}
	with := func(f func(c *IdPConfig)) IdPConfig {
		c := valid
		c.Certificates = append([]string(nil), valid.Certificates...)
		f(&c)
		return c
	}
	tests := []struct {
		name       string
		cfg        IdPConfig
		wantErr    error
		wantField  string // Field of the *ConfigError
		wantReason string // substring of the error message
	}{
		{name: "complete", cfg: valid},
		{name: "no entity ID", cfg: with(func(c *IdPConfig) { c.EntityID = "" }),
			wantErr: ErrInvalidConfig, wantField: "IdP.EntityID", wantReason: "empty"},
		{name: "rotation", cfg: with(func(c *IdPConfig) { c.Certificates = append(c.Certificates, google) })},
		{name: "query in SSO URL", cfg: with(func(c *IdPConfig) { c.SSOURL = "https://accounts.google.com/o/saml2/idp?idpid=C0" })},
		{name: "http localhost", cfg: with(func(c *IdPConfig) { c.SSOURL = "http://localhost:8080/sso" })},
		{name: "http LOCALHOST", cfg: with(func(c *IdPConfig) { c.SSOURL = "http://LocalHost/sso" })},
		{name: "http 127.0.0.1", cfg: with(func(c *IdPConfig) { c.SSOURL = "http://127.0.0.1:9000/sso" })},
		{name: "http ::1", cfg: with(func(c *IdPConfig) { c.SSOURL = "http://[::1]:9000/sso" })},
		{name: "rsa-sha1 chosen", cfg: with(func(c *IdPConfig) { c.SignatureAlgorithm = AlgRSASHA1 })},
		{name: "ecdsa-sha512 chosen", cfg: with(func(c *IdPConfig) { c.SignatureAlgorithm = AlgECDSASHA512 })},

		{name: "blank entity ID", cfg: with(func(c *IdPConfig) { c.EntityID = " \t" }),
			wantErr: ErrInvalidConfig, wantField: "IdP.EntityID", wantReason: "blank"},
		{name: "no SSO URL", cfg: with(func(c *IdPConfig) { c.SSOURL = "" }),
			wantErr: ErrInvalidConfig, wantField: "IdP.SSOURL", wantReason: "empty"},
		{name: "SSO URL not a URL", cfg: with(func(c *IdPConfig) { c.SSOURL = "https://idp.example.com/%zz" }),
			wantErr: ErrInvalidConfig, wantField: "IdP.SSOURL", wantReason: "not a URL"},
		{name: "relative SSO URL", cfg: with(func(c *IdPConfig) { c.SSOURL = "/sso/saml" }),
			wantErr: ErrInvalidConfig, wantField: "IdP.SSOURL", wantReason: "absolute"},
		{name: "SSO URL without host", cfg: with(func(c *IdPConfig) { c.SSOURL = "https:///sso" }),
			wantErr: ErrInvalidConfig, wantField: "IdP.SSOURL", wantReason: "absolute"},
		{name: "opaque SSO URL", cfg: with(func(c *IdPConfig) { c.SSOURL = "https:idp.example.com" }),
			wantErr: ErrInvalidConfig, wantField: "IdP.SSOURL", wantReason: "absolute"},
		{name: "http SSO URL", cfg: with(func(c *IdPConfig) { c.SSOURL = "http://idp.example.com/sso" }),
			wantErr: ErrInvalidConfig, wantField: "IdP.SSOURL", wantReason: "https"},
		{name: "http look-alike of localhost", cfg: with(func(c *IdPConfig) { c.SSOURL = "http://localhost.evil.example/sso" }),
			wantErr: ErrInvalidConfig, wantField: "IdP.SSOURL", wantReason: "https"},
		{name: "ftp SSO URL", cfg: with(func(c *IdPConfig) { c.SSOURL = "ftp://idp.example.com/sso" }),
			wantErr: ErrInvalidConfig, wantField: "IdP.SSOURL", wantReason: "scheme"},
		{name: "credentials in SSO URL", cfg: with(func(c *IdPConfig) { c.SSOURL = "https://user:pw@idp.example.com/sso" }),
			wantErr: ErrInvalidConfig, wantField: "IdP.SSOURL", wantReason: "credentials"},
		{name: "no certificate", cfg: with(func(c *IdPConfig) { c.Certificates = nil }),
			wantErr: ErrInvalidConfig, wantField: "IdP.Certificates", wantReason: "no IdP signing certificate"},
		{name: "certificate not PEM", cfg: with(func(c *IdPConfig) { c.Certificates = []string{"MIIB..."} }),
			wantErr: ErrInvalidConfig, wantField: "IdP.Certificates[0]", wantReason: "not a PEM block"},
		{name: "second certificate not X.509", cfg: with(func(c *IdPConfig) { c.Certificates = append(c.Certificates, notX509) }),
			wantErr: ErrInvalidConfig, wantField: "IdP.Certificates[1]", wantReason: "not an X.509 certificate"},
		{name: "private key instead of certificate", cfg: with(func(c *IdPConfig) { c.Certificates = []string{keyBlock} }),
			wantErr: ErrInvalidConfig, wantField: "IdP.Certificates[0]", wantReason: "PRIVATE KEY"},
		{name: "two PEM blocks in one entry", cfg: with(func(c *IdPConfig) { c.Certificates = []string{okta + google} }),
			wantErr: ErrInvalidConfig, wantField: "IdP.Certificates[0]", wantReason: "more than one PEM block"},
		{name: "expired certificate", cfg: with(func(c *IdPConfig) { c.Certificates = append(c.Certificates, expired) }),
			wantErr: ErrInvalidConfig, wantField: "IdP.Certificates[1]", wantReason: "expired"},
		{name: "not yet valid certificate", cfg: with(func(c *IdPConfig) { c.Certificates = []string{future} }),
			wantErr: ErrInvalidConfig, wantField: "IdP.Certificates[0]", wantReason: "not valid until"},
		{name: "unknown signature algorithm", cfg: with(func(c *IdPConfig) { c.SignatureAlgorithm = "rsa-sha256" }),
			wantErr: ErrInvalidConfig, wantField: "IdP.SignatureAlgorithm", wantReason: "unknown"},
		{name: "digest URI as signature algorithm", cfg: with(func(c *IdPConfig) { c.SignatureAlgorithm = DigestSHA256 }),
			wantErr: ErrInvalidConfig, wantField: "IdP.SignatureAlgorithm", wantReason: "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.ValidateAt(idpTestNow)
			idpTestCheckErr(t, "IdPConfig.ValidateAt()", err, tt.wantErr, tt.wantField, tt.wantReason)
		})
	}
}

// idpTestCheckErr checks err against a wanted sentinel, ConfigError field and
// message substring (all unchecked when wantErr is nil, which wants no error).
func idpTestCheckErr(t *testing.T, call string, err, wantErr error, wantField, wantReason string) {
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

func TestIdPConfigExpiryJudgedAtInjectedClock(t *testing.T) {
	notAfter := idpTestNow.AddDate(0, 1, 0)
	cfg := IdPConfig{
		EntityID:     "https://idp.example.com",
		SSOURL:       "https://idp.example.com/sso",
		Certificates: []string{idpTestCertPEM(t, idpTestNow.AddDate(-1, 0, 0), notAfter)},
	}
	if err := cfg.ValidateAt(notAfter); err != nil {
		t.Errorf("ValidateAt(NotAfter) err = %v; want nil (valid through NotAfter)", err)
	}
	err := cfg.ValidateAt(notAfter.Add(time.Second))
	if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("ValidateAt(NotAfter+1s) err = %v; want an expired-certificate error", err)
	}
	// The wall clock is not consulted: a certificate that expired long ago is
	// fine at an instant it was valid.
	old := IdPConfig{
		EntityID:     "https://idp.example.com",
		SSOURL:       "https://idp.example.com/sso",
		Certificates: []string{idpTestCertPEM(t, time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2002, 1, 1, 0, 0, 0, 0, time.UTC))},
	}
	if err := old.ValidateAt(time.Date(2001, 6, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Errorf("ValidateAt(2001-06-01) err = %v; want nil", err)
	}
	if err := old.Validate(); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("Validate() err = %v; want %v (expired at the wall clock)", err, ErrInvalidConfig)
	}
}
