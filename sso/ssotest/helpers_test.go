package ssotest_test

import (
	"crypto/ecdsa"
	"crypto/rand"
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
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"

	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// t0 is the fixed clock of the tests.
var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return t0 }

// seeded returns a deterministic randomness source.
func seeded(seed uint64) *mrand.ChaCha8 {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return mrand.NewChaCha8(s)
}

// RSA key generation is slow (more so under -race), so the tests use fixed
// keys from testdata, made with
// openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048. They are
// test keys, published: never use them elsewhere.
var (
	idpKey   = sync.OnceValue(func() *rsa.PrivateKey { return mustKey("idp") })
	otherKey = sync.OnceValue(func() *rsa.PrivateKey { return mustKey("attacker") })
	spPair   = sync.OnceValue(func() *tls.Certificate { return mustPair("sp") })
	sp2Pair  = sync.OnceValue(func() *tls.Certificate { return mustPair("sp2") })
)

// mustKey reads testdata/name.key.pem. A missing or bad file is a broken
// checkout: it panics.
func mustKey(name string) *rsa.PrivateKey {
	b, err := os.ReadFile(filepath.Join("testdata", name+".key.pem"))
	if err != nil {
		panic(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		panic("testdata/" + name + ".key.pem: no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		panic(err)
	}
	return k.(*rsa.PrivateKey)
}

// mustPair makes a self-signed key pair, as an SP would use to decrypt.
func mustPair(name string) *tls.Certificate {
	key := mustKey(name)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: name + ".example.com"},
		NotBefore:    t0.Add(-time.Hour),
		NotAfter:     t0.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// ecdsaCert makes a certificate for an ECDSA key.
func ecdsaCert(t *testing.T, key *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(3), NotBefore: t0, NotAfter: t0.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// selfSigned makes a certificate for key, as an attacker would.
func selfSigned(t *testing.T, key *rsa.PrivateKey) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "attacker"},
		NotBefore:    t0.Add(-time.Hour),
		NotAfter:     t0.Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var testSP = sso.SPDetails{
	EntityID:     "https://app.example.com/sso/acme/metadata",
	ACSURL:       "https://app.example.com/sso/acme/acs",
	NameIDFormat: saml.NameIDFormatEmail,
}

var testUser = ssotest.User{
	Email:     "ada@example.com",
	FirstName: "Ada",
	LastName:  "Lovelace",
	Roles:     []string{"engineering", "admins"},
}

// newIdP returns an IdP at the fixed clock with the shared key and a seeded
// randomness source.
func newIdP(t *testing.T) *ssotest.IdP {
	t.Helper()
	idp, err := ssotest.New(ssotest.Config{Now: fixedNow, Rand: seeded(1), Key: idpKey()})
	if err != nil {
		t.Fatalf("New() err = %v", err)
	}
	return idp
}

// build returns the document of r, failing the test on error.
func build(t *testing.T, idp *ssotest.IdP, r ssotest.Response) *etree.Document {
	t.Helper()
	doc, err := idp.BuildResponse(r)
	if err != nil {
		t.Fatalf("BuildResponse() err = %v", err)
	}
	// Round trip through bytes, as the SP would see it.
	s, err := doc.WriteToString()
	if err != nil {
		t.Fatal(err)
	}
	out := etree.NewDocument()
	if err := out.ReadFromString(s); err != nil {
		t.Fatalf("response does not parse: %v", err)
	}
	return out
}

// decode parses a base64 SAMLResponse.
func decode(t *testing.T, samlResponse string) *etree.Document {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(samlResponse)
	if err != nil {
		t.Fatalf("SAMLResponse is not base64: %v", err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(b); err != nil {
		t.Fatalf("SAMLResponse does not parse: %v", err)
	}
	return doc
}

// verify checks el's enveloped signature with goxmldsig against cert at t0,
// detaching el first as an SP does.
func verify(el *etree.Element, cert *x509.Certificate) error {
	ctx, err := etreeutils.NSBuildParentContext(el)
	if err != nil {
		return err
	}
	detached, err := etreeutils.NSDetatch(ctx, el)
	if err != nil {
		return err
	}
	vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
	vc.Clock = dsig.NewFakeClockAt(t0)
	_, err = vc.Validate(detached)
	return err
}

// child returns the first child of el with namespace ns and local name tag.
func child(el *etree.Element, ns, tag string) *etree.Element {
	if el == nil {
		return nil
	}
	for _, c := range el.ChildElements() {
		if c.Tag == tag && c.NamespaceURI() == ns {
			return c
		}
	}
	return nil
}

// path follows children by local name, each in the namespace of its parent
// step: ns pairs alternate with tags.
func path(el *etree.Element, steps ...string) *etree.Element {
	for i := 0; i+1 < len(steps) && el != nil; i += 2 {
		el = child(el, steps[i], steps[i+1])
	}
	return el
}

const (
	nsP  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsA  = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsDS = "http://www.w3.org/2000/09/xmldsig#"
)

func assertionOf(doc *etree.Document) *etree.Element {
	return child(doc.Root(), nsA, "Assertion")
}

func attr(el *etree.Element, key string) (string, bool) {
	if el == nil {
		return "", false
	}
	a := el.SelectAttr(key)
	if a == nil {
		return "", false
	}
	return a.Value, true
}
