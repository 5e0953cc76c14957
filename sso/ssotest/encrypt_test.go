package ssotest_test

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/russellhaering/gosaml2/types"

	"github.com/orgsso/orgsso/sso/ssotest"
)

// encryptedAssertion unmarshals the response's EncryptedAssertion into
// gosaml2's type, as the Validator does.
func encryptedAssertion(t *testing.T, doc *etree.Document) *types.EncryptedAssertion {
	t.Helper()
	el := child(doc.Root(), nsA, "EncryptedAssertion")
	if el == nil {
		t.Fatal("no EncryptedAssertion")
	}
	d := etree.NewDocumentWithRoot(el.Copy())
	// The saml prefix is declared on the Response.
	d.Root().CreateAttr("xmlns:saml", nsA)
	b, err := d.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	var ea types.EncryptedAssertion
	if err := xml.Unmarshal(b, &ea); err != nil {
		t.Fatalf("unmarshal EncryptedAssertion: %v", err)
	}
	return &ea
}

func TestEncryption(t *testing.T) {
	methods := []string{"", ssotest.EncryptionAES128GCM, ssotest.EncryptionAES256GCM, ssotest.EncryptionAES128CBC, ssotest.EncryptionAES256CBC}
	modes := []ssotest.SignMode{ssotest.SignAssertion, ssotest.SignBoth, ssotest.SignResponse}
	idp := newIdP(t)
	for _, method := range methods {
		for _, mode := range modes {
			label := "default"
			if method != "" {
				label = method[strings.LastIndex(method, "#")+1:]
			}
			t.Run(label+" "+mode.String(), func(t *testing.T) {
				doc := build(t, idp, ssotest.Response{
					SP: testSP, User: testUser, Sign: mode, InResponseTo: "id-1",
					EncryptFor: spPair().Leaf, EncryptionMethod: method,
				})
				if assertionOf(doc) != nil {
					t.Fatal("plaintext Assertion left in the response")
				}
				if mode == ssotest.SignBoth || mode == ssotest.SignResponse {
					if err := verify(doc.Root(), idp.Certificate()); err != nil {
						t.Errorf("Response signature does not verify: %v", err)
					}
				}
				ea := encryptedAssertion(t, doc)
				want := method
				if want == "" {
					want = ssotest.EncryptionAES256GCM
				}
				if ea.EncryptionMethod.Algorithm != want {
					t.Errorf("EncryptionMethod = %q; want %q", ea.EncryptionMethod.Algorithm, want)
				}
				if got := ea.EncryptedKey.EncryptionMethod.Algorithm; got != types.MethodRSAOAEP {
					t.Errorf("key transport = %q; want %q", got, types.MethodRSAOAEP)
				}
				plain, err := ea.DecryptBytes(spPair())
				if err != nil {
					t.Fatalf("DecryptBytes() err = %v", err)
				}
				dec := etree.NewDocument()
				if err := dec.ReadFromBytes(plain); err != nil {
					t.Fatalf("decrypted assertion does not parse: %v", err)
				}
				a := dec.Root()
				if a.Tag != "Assertion" || a.NamespaceURI() != nsA {
					t.Fatalf("decrypted root = {%s}%s; want a SAML Assertion", a.NamespaceURI(), a.Tag)
				}
				if got := nameIDOf(a); got != testUser.Email {
					t.Errorf("decrypted NameID = %q; want %q", got, testUser.Email)
				}
				signed := child(a, nsDS, "Signature") != nil
				if signed != (mode != ssotest.SignResponse) {
					t.Errorf("decrypted assertion signed = %t in mode %s", signed, mode)
				}
				if signed {
					if err := verify(a, idp.Certificate()); err != nil {
						t.Errorf("decrypted assertion signature does not verify: %v", err)
					}
				}
			})
		}
	}
}

func nameIDOf(a *etree.Element) string {
	if n := path(a, nsA, "Subject", nsA, "NameID"); n != nil {
		return n.Text()
	}
	return ""
}

func TestEncryptionWrongKey(t *testing.T) {
	doc := build(t, newIdP(t), ssotest.Response{SP: testSP, User: testUser, EncryptFor: sp2Pair().Leaf})
	_, err := encryptedAssertion(t, doc).DecryptBytes(spPair())
	if err == nil || !strings.Contains(err.Error(), "mismatched cert") {
		t.Errorf("DecryptBytes() with another SP's key err = %v; want a mismatched cert error", err)
	}
}
