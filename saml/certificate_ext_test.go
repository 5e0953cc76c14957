package saml_test

import (
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"

	"github.com/orgsso/orgsso/saml"
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
	der, err := saml.NegativeSerialCertificate(key, &x509.Certificate{
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
func (n *negativeSerialIdP) idpConfig(f *fixture) saml.IdPConfig {
	c := f.idp.IdPConfig()
	c.Certificates = []string{n.pem}
	return c
}

// sign makes a response signed with the negative-serial certificate.
func (n *negativeSerialIdP) sign(r *ssotest.Response) {
	r.SigningKey, r.SigningCert = n.key, n.cert
}

func TestNegativeSerialCertificateVerifies(t *testing.T) {
	f := newFixture(t)
	n := newNegativeSerialIdP(t)
	v := f.validator(t, func(c *saml.ValidatorConfig) { c.IdP = n.idpConfig(f) })
	for _, tt := range []struct {
		name   string
		mutate func(*ssotest.Response)
	}{
		{"assertion signed", func(r *ssotest.Response) { n.sign(r) }},
		{"response signed", func(r *ssotest.Response) { n.sign(r); r.Sign = ssotest.SignResponse }},
		{"both signed", func(r *ssotest.Response) { n.sign(r); r.Sign = ssotest.SignBoth }},
		{"no KeyInfo", func(r *ssotest.Response) { n.sign(r); r.OmitKeyInfo = true }},
		{"encrypted", func(r *ssotest.Response) { n.sign(r); r.EncryptFor = f.spCert }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, err := v.Validate(f.response(t, tt.mutate), testRequestID)
			if err != nil {
				t.Fatalf("Validate() err = %v; want nil", err)
			}
			if a.NameID != alice.Email {
				t.Errorf("NameID = %q; want %q", a.NameID, alice.Email)
			}
		})
	}

	// Only the key of the configured certificate verifies.
	for _, tt := range []struct {
		name   string
		mutate func(*ssotest.Response)
	}{
		{"another key, naming the certificate", func(r *ssotest.Response) { r.SigningKey, r.SigningCert = f.evilKey, n.cert }},
		{"the IdP's usual certificate, not configured", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := v.Validate(f.response(t, tt.mutate), testRequestID); !errors.Is(err, saml.CheckSignature) {
				t.Errorf("Validate() err = %v; want %v", err, saml.CheckSignature)
			}
		})
	}

	// Its validity is judged at the Validator's clock.
	late := f.validator(t, func(c *saml.ValidatorConfig) {
		c.IdP = n.idpConfig(f)
		c.Now = func() time.Time { return testNow.AddDate(10, 0, 1) }
	})
	posted := f.response(t, func(r *ssotest.Response) { n.sign(r); r.IssueInstant = testNow.AddDate(10, 0, 1) })
	if _, err := late.Validate(posted, testRequestID); !errors.Is(err, saml.CheckCertificate) {
		t.Errorf("Validate() after NotAfter err = %v; want %v", err, saml.CheckCertificate)
	}
}

// signInclusive re-signs the assertion of an unsigned response with
// goxmldsig, inclusive C14N 1.0 and certDER in KeyInfo, as some older IdPs
// sign, and returns it as posted.
func signInclusive(t *testing.T, posted string, key *rsa.PrivateKey, certDER []byte) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(posted)
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		t.Fatal(err)
	}
	var a *etree.Element
	for _, c := range doc.Root().ChildElements() {
		if c.Tag == "Assertion" {
			a = c
		}
	}
	nsCtx, err := etreeutils.NSBuildParentContext(a)
	if err != nil {
		t.Fatal(err)
	}
	detached, err := etreeutils.NSDetatch(nsCtx, a)
	if err != nil {
		t.Fatal(err)
	}
	ctx := dsig.NewDefaultSigningContext(dsig.TLSCertKeyStore(tls.Certificate{Certificate: [][]byte{certDER}, PrivateKey: key}))
	ctx.Canonicalizer = dsig.MakeC14N10RecCanonicalizer()
	if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		t.Fatal(err)
	}
	signed, err := ctx.SignEnveloped(detached)
	if err != nil {
		t.Fatal(err)
	}
	// SAML wants the Signature right after the Issuer (goxmldsig appends it,
	// without setting its parent).
	sig := signed.Child[len(signed.Child)-1]
	signed.Child = signed.Child[:len(signed.Child)-1]
	signed.InsertChildAt(1, sig)
	i := a.Index()
	doc.Root().RemoveChildAt(i)
	doc.Root().InsertChildAt(i, signed)
	out, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(out)
}

// TestNegativeSerialCertificateInclusiveC14N: on the goxmldsig path too
// (inclusive C14N), a signature whose KeyInfo carries the negative-serial
// certificate verifies. goxmldsig parses that certificate with
// x509.ParseCertificate, so the Validator must not let it.
func TestNegativeSerialCertificateInclusiveC14N(t *testing.T) {
	f := newFixture(t)
	n := newNegativeSerialIdP(t)
	unsigned := func(r *ssotest.Response) { r.Sign = ssotest.SignNone }

	// Control: an ordinary certificate on the same path.
	v := f.validator(t, nil)
	posted := signInclusive(t, f.response(t, unsigned), loadKey(t, "idp.key.pem"), f.idp.Certificate().Raw)
	if _, err := v.Validate(posted, testRequestID); err != nil {
		t.Fatalf("inclusive C14N, ordinary certificate: Validate() err = %v; want nil", err)
	}

	v = f.validator(t, func(c *saml.ValidatorConfig) { c.IdP = n.idpConfig(f) })
	posted = signInclusive(t, f.response(t, unsigned), n.key, n.cert.Raw)
	if _, err := v.Validate(posted, testRequestID); err != nil {
		t.Errorf("inclusive C14N, negative-serial certificate: Validate() err = %v; want nil", err)
	}
}
