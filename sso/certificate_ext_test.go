package sso_test

import (
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"

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
	der, err := sso.NegativeSerialCertificate(key, &x509.Certificate{
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

func TestNegativeSerialCertificateVerifies(t *testing.T) {
	f := newFixture(t)
	n := newNegativeSerialIdP(t)
	v := f.validator(t, func(c *sso.ValidatorConfig) { c.IdP = n.idpConfig(f) })
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
			if _, err := v.Validate(f.response(t, tt.mutate), testRequestID); !errors.Is(err, sso.CheckSignature) {
				t.Errorf("Validate() err = %v; want %v", err, sso.CheckSignature)
			}
		})
	}

	// Its validity is judged at the Validator's clock.
	late := f.validator(t, func(c *sso.ValidatorConfig) {
		c.IdP = n.idpConfig(f)
		c.Now = func() time.Time { return testNow.AddDate(10, 0, 1) }
	})
	posted := f.response(t, func(r *ssotest.Response) { n.sign(r); r.IssueInstant = testNow.AddDate(10, 0, 1) })
	if _, err := late.Validate(posted, testRequestID); !errors.Is(err, sso.CheckCertificate) {
		t.Errorf("Validate() after NotAfter err = %v; want %v", err, sso.CheckCertificate)
	}
}

// TestNegativeSerialCertificateService: an organization trusting a
// negative-serial certificate signs members in, and its Test SSO report
// carries the warning.
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

	v = f.validator(t, func(c *sso.ValidatorConfig) { c.IdP = n.idpConfig(f) })
	posted = signInclusive(t, f.response(t, unsigned), n.key, n.cert.Raw)
	if _, err := v.Validate(posted, testRequestID); err != nil {
		t.Errorf("inclusive C14N, negative-serial certificate: Validate() err = %v; want nil", err)
	}
}
