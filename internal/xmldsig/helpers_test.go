package xmldsig

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// testKey is a key with a self-signed certificate for it.
type testKey struct {
	signer crypto.Signer
	cert   *x509.Certificate
}

var (
	keysOnce sync.Once
	rsaKey   testKey
	rsaKey2  testKey
	ecKey    testKey
	ec384Key testKey
)

// keys returns test keys, generated once per test binary.
func keys(t testing.TB) (rsa1, rsa2, p256, p384 testKey) {
	t.Helper()
	keysOnce.Do(func() {
		rsaKey = newTestKey(t, func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) })
		rsaKey2 = newTestKey(t, func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) })
		ecKey = newTestKey(t, func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) })
		ec384Key = newTestKey(t, func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P384(), rand.Reader) })
	})
	if rsaKey.cert == nil {
		t.Fatal("test key generation failed")
	}
	return rsaKey, rsaKey2, ecKey, ec384Key
}

func newTestKey(t testing.TB, gen func() (crypto.Signer, error)) testKey {
	k, err := gen()
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "xmldsig test IdP"},
		NotBefore:    time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{signer: k, cert: cert}
}

// parse parses an XML document or fails the test.
func parse(t testing.TB, s string) *etree.Document {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromString(s); err != nil {
		t.Fatalf("parse: %v\n%s", err, s)
	}
	if doc.Root() == nil {
		t.Fatalf("parse: no root\n%s", s)
	}
	return doc
}

// goxmldsigC14N canonicalises el the way goxmldsig's ValidationContext does:
// a detached copy carrying every namespace in scope, the excluded element
// removed, then the exclusive canonicalizer.
func goxmldsigC14N(el *etree.Element, prefixList string, exclude *etree.Element) ([]byte, error) {
	ctx, err := etreeutils.NSBuildParentContext(el)
	if err != nil {
		return nil, err
	}
	var path []int
	if exclude != nil {
		for e := exclude; e != el; e = e.Parent() {
			if e == nil {
				return nil, etreeutils.ErrTraversalHalted
			}
			path = append([]int{e.Index()}, path...)
		}
	}
	detached, err := etreeutils.NSDetatch(ctx, el)
	if err != nil {
		return nil, err
	}
	if exclude != nil {
		parent := detached
		for _, i := range path[:len(path)-1] {
			parent = parent.Child[i].(*etree.Element)
		}
		parent.RemoveChildAt(path[len(path)-1])
	}
	return dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList(prefixList).Canonicalize(detached)
}

// allElements returns el and its descendants in document order.
func allElements(el *etree.Element) []*etree.Element {
	out := []*etree.Element{el}
	for i := 0; i < len(out); i++ {
		out = append(out, out[i].ChildElements()...)
	}
	return out
}

// allowAll is an Allow policy accepting SHA-1 too.
func allowAll(string, string) error { return nil }

// samlResponse is a hand-built SAML response in the shape IdPs send, with the
// prefixes, default namespaces and redundant declarations real ones have.
const samlResponse = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:unused="urn:example:unused" ID="_resp1" Version="2.0" IssueInstant="2024-01-02T03:04:05Z" Destination="https://sp.example.com/acs" InResponseTo="_req&amp;1">
  <saml:Issuer>https://idp.example.com/</saml:Issuer>
  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
  <saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="_a1" Version="2.0" IssueInstant="2024-01-02T03:04:05Z">
    <saml:Issuer>https://idp.example.com/</saml:Issuer>
    <saml:Subject>
      <saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" SPNameQualifier="https://sp.example.com">alice@example.com</saml:NameID>
      <saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
        <saml:SubjectConfirmationData NotOnOrAfter="2024-01-02T03:09:05Z" Recipient="https://sp.example.com/acs" InResponseTo="_req&amp;1"/>
      </saml:SubjectConfirmation>
    </saml:Subject>
    <saml:Conditions NotBefore="2024-01-02T03:03:05Z" NotOnOrAfter="2024-01-02T03:09:05Z">
      <saml:AudienceRestriction><saml:Audience>https://sp.example.com</saml:Audience></saml:AudienceRestriction>
    </saml:Conditions>
    <saml:AuthnStatement AuthnInstant="2024-01-02T03:04:05Z" SessionIndex="_s1">
      <saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext>
    </saml:AuthnStatement>
    <saml:AttributeStatement>
      <saml:Attribute Name="groups" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">
        <saml:AttributeValue xsi:type="xs:string">admins &lt;&amp;&gt; "quoted"</saml:AttributeValue>
        <saml:AttributeValue xsi:type="xs:string" xml:lang="en">tab	and&#13;cr</saml:AttributeValue>
      </saml:Attribute>
      <Attribute xmlns="urn:oasis:names:tc:SAML:2.0:assertion" Name="displayName"><AttributeValue>Ålice Ünicode 🙂</AttributeValue></Attribute>
    </saml:AttributeStatement>
  </saml:Assertion>
</samlp:Response>`

// detach returns a copy of el declaring every namespace in scope, as
// goxmldsig needs.
func detach(t testing.TB, el *etree.Element) *etree.Element {
	t.Helper()
	d, err := detachErr(el)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func detachErr(el *etree.Element) (*etree.Element, error) {
	ctx, err := etreeutils.NSBuildParentContext(el)
	if err != nil {
		return nil, err
	}
	return etreeutils.NSDetatch(ctx, el)
}
