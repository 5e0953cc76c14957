package ssotest_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/base64"
	"encoding/xml"
	"errors"
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
	methods := []string{"", ssotest.EncryptionAES128GCM, ssotest.EncryptionAES192GCM, ssotest.EncryptionAES256GCM, ssotest.EncryptionAES128CBC, ssotest.EncryptionAES256CBC}
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

const nsXENC = "http://www.w3.org/2001/04/xmlenc#"

// TestEncryptionAlgorithms decrypts every data encryption and key transport
// ssotest offers with a plain reference decrypter (not gosaml2's, which
// decrypts only some of them), and checks the algorithm parameters written.
func TestEncryptionAlgorithms(t *testing.T) {
	blocks := map[string]func([]byte) (cipher.Block, error){
		ssotest.EncryptionAES128GCM: aes.NewCipher, ssotest.EncryptionAES192GCM: aes.NewCipher, ssotest.EncryptionAES256GCM: aes.NewCipher,
		ssotest.EncryptionAES128CBC: aes.NewCipher, ssotest.EncryptionAES192CBC: aes.NewCipher, ssotest.EncryptionAES256CBC: aes.NewCipher,
		ssotest.EncryptionTripleDESCBC: des.NewTripleDESCipher,
	}
	keySizes := map[string]int{
		ssotest.EncryptionAES128GCM: 16, ssotest.EncryptionAES192GCM: 24, ssotest.EncryptionAES256GCM: 32,
		ssotest.EncryptionAES128CBC: 16, ssotest.EncryptionAES192CBC: 24, ssotest.EncryptionAES256CBC: 32,
		ssotest.EncryptionTripleDESCBC: 24,
	}
	idp := newIdP(t)
	spKey := spPair().PrivateKey.(*rsa.PrivateKey)
	for method, newBlock := range blocks {
		for _, kt := range []string{ssotest.KeyTransportRSAOAEPMGF1P, ssotest.KeyTransportRSAOAEP, ssotest.KeyTransportRSA15} {
			t.Run(method[strings.LastIndex(method, "#")+1:]+" "+kt[strings.LastIndex(kt, "#")+1:], func(t *testing.T) {
				doc := build(t, idp, ssotest.Response{SP: testSP, User: testUser, EncryptFor: spPair().Leaf, EncryptionMethod: method, KeyTransport: kt})
				ed := child(child(doc.Root(), nsA, "EncryptedAssertion"), nsXENC, "EncryptedData")
				if got := attrOf(child(ed, nsXENC, "EncryptionMethod"), "Algorithm"); got != method {
					t.Errorf("EncryptionMethod = %q; want %q", got, method)
				}
				ek := path(ed, nsDS, "KeyInfo", nsXENC, "EncryptedKey")
				em := child(ek, nsXENC, "EncryptionMethod")
				if got := attrOf(em, "Algorithm"); got != kt {
					t.Errorf("key transport = %q; want %q", got, kt)
				}
				digest := attrOf(child(em, nsDS, "DigestMethod"), "Algorithm")
				mgf := attrOf(child(em, "http://www.w3.org/2009/xmlenc11#", "MGF"), "Algorithm")
				wantDigest, wantMGF := "http://www.w3.org/2000/09/xmldsig#sha1", ""
				switch kt {
				case ssotest.KeyTransportRSA15:
					wantDigest = ""
				case ssotest.KeyTransportRSAOAEP:
					wantMGF = "http://www.w3.org/2009/xmlenc11#mgf1sha1"
				}
				if digest != wantDigest || mgf != wantMGF {
					t.Errorf("DigestMethod = %q, MGF = %q; want %q, %q", digest, mgf, wantDigest, wantMGF)
				}

				wrapped := b64Text(t, path(ek, nsXENC, "CipherData", nsXENC, "CipherValue"))
				var key []byte
				var err error
				if kt == ssotest.KeyTransportRSA15 {
					//lint:ignore SA1019 checks the PKCS#1 v1.5 key transport ssotest makes for refusal tests
					key, err = rsa.DecryptPKCS1v15(nil, spKey, wrapped)
				} else {
					key, err = rsa.DecryptOAEP(sha1.New(), nil, spKey, wrapped, nil)
				}
				if err != nil {
					t.Fatalf("unwrap key: %v", err)
				}
				if len(key) != keySizes[method] {
					t.Fatalf("key is %d bytes; want %d", len(key), keySizes[method])
				}
				block, err := newBlock(key)
				if err != nil {
					t.Fatal(err)
				}
				data := b64Text(t, path(ed, nsXENC, "CipherData", nsXENC, "CipherValue"))
				var plain []byte
				if strings.HasSuffix(method, "-gcm") {
					plain, err = openGCM(block, data)
				} else {
					plain, err = openCBC(block, data)
				}
				if err != nil {
					t.Fatal(err)
				}
				dec := etree.NewDocument()
				if err := dec.ReadFromBytes(plain); err != nil {
					t.Fatalf("decrypted assertion does not parse: %v", err)
				}
				if got := nameIDOf(dec.Root()); got != testUser.Email {
					t.Errorf("decrypted NameID = %q; want %q", got, testUser.Email)
				}
			})
		}
	}
}

func attrOf(el *etree.Element, key string) string {
	v, _ := attr(el, key)
	return v
}

func b64Text(t *testing.T, el *etree.Element) []byte {
	t.Helper()
	if el == nil {
		t.Fatal("CipherValue missing")
	}
	b, err := base64.StdEncoding.DecodeString(el.Text())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// openGCM opens nonce || ciphertext || tag.
func openGCM(block cipher.Block, data []byte) ([]byte, error) {
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if len(data) < gcm.NonceSize() {
		return nil, errors.New("short GCM data")
	}
	return gcm.Open(nil, data[:gcm.NonceSize()], data[gcm.NonceSize():], nil)
}

// openCBC decrypts IV || ciphertext and removes XML Encryption padding.
func openCBC(block cipher.Block, data []byte) ([]byte, error) {
	bs := block.BlockSize()
	if len(data) < 2*bs || len(data)%bs != 0 {
		return nil, errors.New("bad CBC length")
	}
	out := bytes.Clone(data[bs:])
	cipher.NewCBCDecrypter(block, data[:bs]).CryptBlocks(out, out)
	pad := int(out[len(out)-1])
	if pad < 1 || pad > bs {
		return nil, errors.New("bad padding")
	}
	return out[:len(out)-pad], nil
}
