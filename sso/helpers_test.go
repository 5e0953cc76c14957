package sso_test

import (
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// testNow is the instant every fixture lives at.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fixture is a test IdP, the SP it talks to, and the keys both sides hold,
// all deterministic: fixed keys from the module's testdata/keys, fixed clock,
// seeded IDs.
type fixture struct {
	idp      *ssotest.IdP
	sp       sso.SPDetails
	spKey    *rsa.PrivateKey
	spCert   *x509.Certificate
	spKP     *tls.Certificate
	evilKey  *rsa.PrivateKey
	evilCert *x509.Certificate
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	idp, err := ssotest.New(ssotest.Config{
		EntityID: "https://idp.example.test/metadata",
		SSOURL:   "https://idp.example.test/sso",
		Now:      func() time.Time { return testNow },
		Rand:     mrand.NewChaCha8([32]byte{1}),
		Key:      loadKey(t, "idp.key.pem"),
	})
	if err != nil {
		t.Fatalf("ssotest.New() err = %v", err)
	}
	f := &fixture{
		idp: idp,
		sp: sso.SPDetails{
			EntityID:     "https://app.example.com/sso/acme/metadata",
			ACSURL:       "https://app.example.com/sso/acme/acs",
			NameIDFormat: saml.NameIDFormatEmail,
		},
		spKey:   loadKey(t, "sp.key.pem"),
		evilKey: loadKey(t, "attacker.key.pem"),
	}
	f.spCert = selfSigned(t, f.spKey, "app.example.com")
	f.evilCert = selfSigned(t, f.evilKey, "idp.example.test")
	f.spKP = &tls.Certificate{Certificate: [][]byte{f.spCert.Raw}, PrivateKey: f.spKey, Leaf: f.spCert}
	return f
}

// alice is the default subject.
var alice = ssotest.User{
	Email: "alice@acme.example", FirstName: "Alice", LastName: "Liddell",
	Roles: []string{"Contentstack Developers", "Everyone", "Blog Editors", "Admins-EU", "Support"},
}

func loadKey(t testing.TB, name string) *rsa.PrivateKey {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "keys", name))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s: no PEM block", name)
	}
	k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return k
}

// selfSigned makes a deterministic certificate for key, valid a year around testNow.
func selfSigned(t testing.TB, key *rsa.PrivateKey, cn string) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    testNow.Add(-365 * 24 * time.Hour),
		NotAfter:     testNow.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mustIdP is a test IdP at testNow signing with key.
func mustIdP(t *testing.T, key *rsa.PrivateKey) *ssotest.IdP {
	t.Helper()
	idp, err := ssotest.New(ssotest.Config{Now: func() time.Time { return testNow }, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return idp
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
