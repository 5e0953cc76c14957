package sso_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// negativeSerialIdP is an IdP signing key and a self-signed certificate for
// it with a negative serial number (as StarfieldTMS and Verizon IdP
// certificates have), valid from a year before testNow to ten years after.
type negativeSerialIdP struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate // as the SDK parses it
	pem  string
}

func newNegativeSerialIdP(t testing.TB) *negativeSerialIdP {
	t.Helper()
	key := loadKey(t, "idp.key.pem")
	serial, _ := new(big.Int).SetString("-5d3c2b1a09f8e7d6c5b4a39281706f5e", 16)
	der, err := negativeSerialCertificate(key, &x509.Certificate{
		Subject:   pkix.Name{CommonName: "idp.example.test"},
		NotBefore: testNow.AddDate(-1, 0, 0),
		NotAfter:  testNow.AddDate(10, 0, 0),
		KeyUsage:  x509.KeyUsageDigitalSignature,
	}, serial)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x509.ParseCertificate(der); err == nil {
		t.Fatal("x509.ParseCertificate accepted a negative serial; this test no longer tests the fallback")
	}
	n := &negativeSerialIdP{key: key, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
	// x509 cannot parse it; ssotest reads only Raw, for KeyInfo.
	n.cert = &x509.Certificate{Raw: der, PublicKey: &key.PublicKey}
	return n
}

// idpConfig trusts only the negative-serial certificate.
func (n *negativeSerialIdP) idpConfig(f *fixture) sso.IdPConfig {
	c := f.idp.IdPConfig()
	c.Certificates = []string{n.pem}
	return c
}

// sign makes a response signed with the negative-serial certificate.
func (n *negativeSerialIdP) sign(r *ssotest.Response) {
	r.SigningKey, r.SigningCert = n.key, n.cert
}

// TestNegativeSerialCertificateService: an organization trusting a
// negative-serial certificate signs members in, and its Test SSO report
// carries the warning.
func TestNegativeSerialCertificateConfigures(t *testing.T) {
	f := newFixture(t)
	n := newNegativeSerialIdP(t)
	org := &sso.Organization{ID: "o", SSOName: "acme", OwnerID: "u", Enabled: true, IdP: n.idpConfig(f)}
	if err := org.ValidateAt(testNow); err != nil {
		t.Errorf("ValidateAt() err = %v; want nil", err)
	}
	if err := org.Validate(); err != nil {
		t.Errorf("Validate() err = %v; want nil", err)
	}
	w := org.IdP.Warnings(testNow)
	if len(w) != 1 || !strings.HasPrefix(w[0], "IdP certificate 1: the certificate has a negative serial number") ||
		!strings.Contains(w[0], "next certificate rotation") {
		t.Errorf("Warnings() = %q; want one saying Certificates[0] has a negative serial and should be replaced", w)
	}
	if w := f.idp.IdPConfig().Warnings(testNow); w != nil {
		t.Errorf("Warnings() of an ordinary certificate = %q; want nil", w)
	}

	// Imported from IdP metadata, it is kept as is.
	md := `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.example.test/metadata">` +
		`<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
		`<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` + base64.StdEncoding.EncodeToString(n.cert.Raw) +
		`</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
		`<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.test/sso"/>` +
		`</md:IDPSSODescriptor></md:EntityDescriptor>`
	cfg, err := sso.ParseIdPMetadata([]byte(md))
	if err != nil {
		t.Fatalf("ParseIdPMetadata() err = %v; want nil", err)
	}
	if len(cfg.Certificates) != 1 || cfg.Certificates[0] != n.pem {
		t.Errorf("ParseIdPMetadata() certificates = %q; want the negative-serial one", cfg.Certificates)
	}
}

func TestNegativeSerialCertificateService(t *testing.T) {
	n := newNegativeSerialIdP(t)
	e := newEnv(t, func(o *sso.Organization) { o.IdP.Certificates = []string{n.pem} })
	res, err := e.signIn(t, user("dev@acme.example", "Contentstack Developers"), n.sign)
	if err != nil {
		t.Fatalf("sign-in err = %v; want nil", err)
	}
	if res.Session == nil || res.Identity.Email != "dev@acme.example" {
		t.Errorf("sign-in = %+v; want a session for dev@acme.example", res)
	}

	rd := e.startTest(t)
	posted, err := e.idp.Response(e.resp(rd.RequestID, user(ownerEmail, "Admins"), n.sign))
	if err != nil {
		t.Fatal(err)
	}
	res, err = e.post(t, posted, relayOf(t, rd))
	if err != nil {
		t.Fatalf("test round trip err = %v", err)
	}
	if !containsSubstring(res.Test.Problems, "negative serial number") {
		t.Errorf("Test SSO Problems = %q; want the negative serial warning", res.Test.Problems)
	}
}

// containsSubstring reports whether one of list contains sub.
func containsSubstring(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// negativeSerialCertificate returns the DER of a certificate made from tmpl
// for key, self-signed with SHA-256, whose serial number is serial (which may
// be negative). crypto/x509 refuses to create a certificate with a negative
// serial, so this makes one with a positive serial, re-encodes its
// TBSCertificate with serial in its place, and signs that again. It uses
// encoding/asn1 only, not the code under test.
func negativeSerialCertificate(key crypto.Signer, tmpl *x509.Certificate, serial *big.Int) ([]byte, error) {
	t := *tmpl
	t.SerialNumber = big.NewInt(1)
	der, err := x509.CreateCertificate(rand.Reader, &t, &t, key.Public(), key)
	if err != nil {
		return nil, err
	}
	var outer []asn1.RawValue // TBSCertificate, signatureAlgorithm, signatureValue
	if _, err := asn1.Unmarshal(der, &outer); err != nil || len(outer) != 3 {
		return nil, errors.New("unexpected certificate shape")
	}
	var tbs []asn1.RawValue // version, serialNumber, …
	if _, err := asn1.Unmarshal(outer[0].FullBytes, &tbs); err != nil || len(tbs) < 2 {
		return nil, errors.New("unexpected TBSCertificate shape")
	}
	if tbs[1].FullBytes, err = asn1.Marshal(serial); err != nil {
		return nil, err
	}
	newTBS, err := asn1.Marshal(tbs)
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256(newTBS)
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}
	sigBits, err := asn1.Marshal(asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)})
	if err != nil {
		return nil, err
	}
	return asn1.Marshal([]asn1.RawValue{{FullBytes: newTBS}, outer[1], {FullBytes: sigBits}})
}
