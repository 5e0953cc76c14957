package saml_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/sso/ssotest"
)

const (
	keyRSAOAEP    = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
	nsXMLEnc      = "http://www.w3.org/2001/04/xmlenc#"
	nsDSigTest    = "http://www.w3.org/2000/09/xmldsig#"
	xencElement   = "http://www.w3.org/2001/04/xmlenc#Element"
	nameIDPersist = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
)

// seal encrypts plain, any bytes, the way ssotest does (an EncryptedData
// with an RSA-wrapped key in its KeyInfo) and returns it inside a wrapper
// element (saml:EncryptedAssertion, saml:EncryptedID). It reaches what
// ssotest cannot build: plaintexts that are not an assertion or a NameID,
// assertions whose prefixes are declared only outside.
func seal(t testing.TB, plain []byte, method string, cert *x509.Certificate, wrapper string) *etree.Element {
	t.Helper()
	size := map[string]int{ssotest.EncryptionAES128CBC: 16, ssotest.EncryptionAES256CBC: 32,
		ssotest.EncryptionAES128GCM: 16, ssotest.EncryptionAES256GCM: 32, ssotest.EncryptionTripleDESCBC: 24}[method]
	require.NotZero(t, size, "method %s", method)
	key := make([]byte, size)
	_, _ = rand.Read(key)
	var data []byte
	switch method {
	case ssotest.EncryptionAES128GCM, ssotest.EncryptionAES256GCM:
		block, err := aes.NewCipher(key)
		require.NoError(t, err)
		gcm, err := cipher.NewGCM(block)
		require.NoError(t, err)
		nonce := make([]byte, gcm.NonceSize())
		_, _ = rand.Read(nonce)
		data = gcm.Seal(nonce, nonce, plain, nil)
	default:
		var block cipher.Block
		var err error
		if method == ssotest.EncryptionTripleDESCBC {
			block, err = des.NewTripleDESCipher(key)
		} else {
			block, err = aes.NewCipher(key)
		}
		require.NoError(t, err)
		bs := block.BlockSize()
		pad := bs - len(plain)%bs
		data = make([]byte, bs+len(plain)+pad)
		_, _ = rand.Read(data[:bs])
		copy(data[bs:], plain)
		for i := bs + len(plain); i < len(data); i++ {
			data[i] = byte(pad)
		}
		cipher.NewCBCEncrypter(block, data[:bs]).CryptBlocks(data[bs:], data[bs:])
	}
	wrapped, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, cert.PublicKey.(*rsa.PublicKey), key, nil)
	require.NoError(t, err)

	w := etree.NewElement(wrapper)
	ed := w.CreateElement("xenc:EncryptedData")
	ed.CreateAttr("xmlns:xenc", nsXMLEnc)
	ed.CreateAttr("Type", xencElement)
	ed.CreateElement("xenc:EncryptionMethod").CreateAttr("Algorithm", method)
	ki := ed.CreateElement("ds:KeyInfo")
	ki.CreateAttr("xmlns:ds", nsDSigTest)
	ek := ki.CreateElement("xenc:EncryptedKey")
	em := ek.CreateElement("xenc:EncryptionMethod")
	em.CreateAttr("Algorithm", keyRSAOAEP)
	em.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", sha1Digest)
	ek.CreateElement("xenc:CipherData").CreateElement("xenc:CipherValue").SetText(base64.StdEncoding.EncodeToString(wrapped))
	ed.CreateElement("xenc:CipherData").CreateElement("xenc:CipherValue").SetText(base64.StdEncoding.EncodeToString(data))
	return w
}

// serialize writes el alone, as it stands in its tree: prefixes it
// inherits stay undeclared.
func serialize(t testing.TB, el *etree.Element) []byte {
	t.Helper()
	d := etree.NewDocument()
	d.SetRoot(el.Copy())
	b, err := d.WriteToBytes()
	require.NoError(t, err)
	return b
}

// replace puts repl where old is in its parent.
func replace(old, repl *etree.Element) {
	p := old.Parent()
	i := old.Index()
	p.RemoveChildAt(i)
	p.InsertChildAt(i, repl)
}

// corruptions returns n deterministic corruptions of a ciphertext (IV or
// nonce first) for a block size bs (0 for GCM): bit flips in every block
// that matters to padding (the last and the one before it), in the IV,
// padding bytes set to every other valid length, truncations, appended
// garbage.
func corruptions(data []byte, bs, n int) [][]byte {
	var out [][]byte
	add := func(edit func([]byte) []byte) {
		c := edit(append([]byte(nil), data...))
		out = append(out, c)
	}
	L := len(data)
	if bs > 0 {
		pen, last := L-2*bs, L-bs
		for i := range bs {
			for _, x := range []byte{0x01, 0x02, 0x04, 0x10, 0x80} {
				add(func(c []byte) []byte { c[pen+i] ^= x; return c })
			}
			for _, x := range []byte{0x01, 0x80} {
				add(func(c []byte) []byte { c[last+i] ^= x; return c })
			}
			add(func(c []byte) []byte { c[i] ^= 0x01; return c })
		}
		// The padding length is the last plaintext byte: xor the last byte
		// of the block before to make it each other value up to 2 blocks.
		for delta := 1; delta < 2*bs; delta++ {
			add(func(c []byte) []byte { c[last-1] ^= byte(delta); return c })
		}
	}
	for i := 1; i <= 20; i++ {
		add(func(c []byte) []byte { return c[:L-i] })
	}
	for i := 1; i <= 20; i++ {
		add(func(c []byte) []byte { return append(c, make([]byte, i)...) })
		add(func(c []byte) []byte {
			for j := range i {
				c = append(c, byte(j*37+i))
			}
			return c
		})
	}
	for i := 0; len(out) < n; i++ {
		add(func(c []byte) []byte { c[(i*97)%L] ^= 1 << (i % 8); return c })
	}
	return out[:n]
}

// TestValidateDecryptionIsNoOracle: 200 tampered ciphertexts of an
// encrypted assertion in an unsigned Response (which anyone holding a
// response can post), tampered key transport, plaintexts that are not an
// assertion, and a key for another SP all fail with CheckDecryption and one
// and the same error text, for AES-CBC and AES-GCM.
func TestValidateDecryptionIsNoOracle(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	v := f.validator(t, nil)
	for _, method := range []string{ssotest.EncryptionAES128CBC, ssotest.EncryptionAES256CBC, ssotest.EncryptionAES128GCM, ssotest.EncryptionAES256GCM} {
		t.Run(method[strings.LastIndex(method, "#")+1:], func(t *testing.T) {
			t.Parallel()
			base, err := f.idp.BuildResponse(ssotest.Response{SP: f.sp, InResponseTo: testRequestID, User: alice,
				EncryptFor: f.spCert, EncryptionMethod: method})
			require.NoError(t, err)
			dataPath := "./EncryptedAssertion/EncryptedData/CipherData/CipherValue"
			keyPath := "./EncryptedAssertion/EncryptedData/KeyInfo/EncryptedKey/CipherData/CipherValue"
			data, err := base64.StdEncoding.DecodeString(el(base, dataPath).Text())
			require.NoError(t, err)
			wrapped, err := base64.StdEncoding.DecodeString(el(base, keyPath).Text())
			require.NoError(t, err)
			post := func(edit func(d *etree.Document)) error {
				d := base.Copy()
				edit(d)
				s, err := d.WriteToString()
				require.NoError(t, err)
				_, err = v.Validate(b64(s), testRequestID)
				return err
			}
			require.NoError(t, post(func(*etree.Document) {}), "untampered")

			bs := 0
			if strings.Contains(method, "cbc") {
				bs = aes.BlockSize
			}
			var tampered []func(d *etree.Document)
			for _, c := range corruptions(data, bs, 200) {
				tampered = append(tampered, func(d *etree.Document) {
					el(d, dataPath).SetText(base64.StdEncoding.EncodeToString(c))
				})
			}
			for i := range 10 {
				tampered = append(tampered, func(d *etree.Document) {
					c := append([]byte(nil), wrapped...)
					c[i*25%len(c)] ^= 0x01
					el(d, keyPath).SetText(base64.StdEncoding.EncodeToString(c))
				})
			}
			for _, plain := range []string{"", "not XML", "<x/>", "\xff\xfe<\x00x\x00/\x00>\x00",
				`<saml:NameID xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">alice@acme.example</saml:NameID>`,
				`<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_1" Version="2.0">`,
				`<Assertion xmlns="urn:evil"/>`, `<saml:Assertion xmlns:saml="urn:evil"/>`,
				`<!DOCTYPE x><x/>`} {
				tampered = append(tampered, func(d *etree.Document) {
					replace(el(d, "./EncryptedAssertion"), seal(t, []byte(plain), method, f.spCert, "saml:EncryptedAssertion"))
				})
			}
			evil, err := f.idp.BuildResponse(ssotest.Response{SP: f.sp, InResponseTo: testRequestID, User: alice,
				EncryptFor: f.evilCert, EncryptionMethod: method})
			require.NoError(t, err)
			tampered = append(tampered, func(d *etree.Document) {
				replace(el(d, "./EncryptedAssertion"), el(evil, "./EncryptedAssertion").Copy())
			})

			msgs := map[string]int{}
			for _, edit := range tampered {
				err := post(edit)
				var ve *saml.ValidationError
				require.ErrorAs(t, err, &ve)
				require.Equal(t, saml.CheckDecryption, ve.Check, "err = %v", err)
				msgs[err.Error()]++
			}
			if len(msgs) != 1 {
				var list []string
				for m, n := range msgs {
					list = append(list, fmt.Sprintf("%d× %s", n, m))
				}
				sort.Strings(list)
				t.Errorf("%d tampered ciphertexts gave %d distinct errors; want 1:\n%s", len(tampered), len(msgs), strings.Join(list, "\n"))
			}
			t.Logf("%d tampered ciphertexts, %d distinct error", len(tampered), len(msgs))
		})
	}
}

// TestValidateSignedResponseVerifiedBeforeDecrypting: with the Response
// signed, a tampered ciphertext is a signature failure: nothing is decrypted.
func TestValidateSignedResponseVerifiedBeforeDecrypting(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	posted := f.response(t, func(r *ssotest.Response) {
		r.Sign, r.EncryptFor, r.EncryptionMethod = ssotest.SignResponse, f.spCert, ssotest.EncryptionAES128CBC
		r.AfterSign = func(d *etree.Document) {
			cv := el(d, "./EncryptedAssertion/EncryptedData/CipherData/CipherValue")
			data, _ := base64.StdEncoding.DecodeString(cv.Text())
			data[len(data)-17] ^= 1
			cv.SetText(base64.StdEncoding.EncodeToString(data))
		}
	})
	_, err := f.validator(t, nil).Validate(posted, testRequestID)
	require.ErrorIs(t, err, saml.CheckSignature)
}

// TestValidateEncryptedID: an EncryptedID is decrypted like an encrypted
// assertion, in every sign mode and inside an encrypted assertion; what it
// holds must be a NameID, for our key, with an accepted method.
func TestValidateEncryptedID(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	v := f.validator(t, nil)
	for _, m := range shadowModes {
		t.Run("accepted/"+m.name, func(t *testing.T) {
			t.Parallel()
			posted := f.response(t, func(r *ssotest.Response) {
				modeResponse(m, f.spCert, false, nil)(r)
				r.EncryptNameIDFor = f.spCert
			})
			a, err := v.Validate(posted, testRequestID)
			require.NoError(t, err)
			assert.Equal(t, alice.Email, a.NameID)
			assert.Equal(t, saml.NameIDFormatEmail, a.NameIDFormat)
		})
	}

	// replaceNameID swaps the NameID for an EncryptedID of plain before
	// the assertion is signed.
	replaceNameID := func(plain, method string, cert *x509.Certificate) func(*ssotest.Response) {
		return func(r *ssotest.Response) {
			r.BeforeSign = func(d *etree.Document) {
				n := el(d, "./Assertion/Subject/NameID")
				if plain == "" {
					plain = string(serialize(t, n))
				}
				replace(n, seal(t, []byte(plain), method, cert, "saml:EncryptedID"))
			}
		}
	}
	persistent := `<saml:NameID xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" Format="` + nameIDPersist + `">p-123</saml:NameID>`
	cases := []struct {
		name string
		resp func(*ssotest.Response)
		cfg  func(*saml.ValidatorConfig)
		want saml.Check // "" = accepted
	}{
		{name: "hand-made GCM", resp: replaceNameID(persistent, ssotest.EncryptionAES128GCM, f.spCert)},
		{name: "hand-made CBC", resp: replaceNameID(persistent, ssotest.EncryptionAES256CBC, f.spCert)},
		{name: "NameID using the assertion's saml prefix", resp: replaceNameID(`<saml:NameID Format="`+nameIDPersist+`">p-123</saml:NameID>`,
			ssotest.EncryptionAES128GCM, f.spCert)},
		{name: "for another SP", resp: func(r *ssotest.Response) { r.EncryptNameIDFor = f.evilCert }, want: saml.CheckDecryption},
		{name: "no SP key", resp: func(r *ssotest.Response) { r.EncryptNameIDFor = f.spCert },
			cfg: func(c *saml.ValidatorConfig) { c.SPKeyPair = nil }, want: saml.CheckDecryption},
		{name: "holds an Assertion", resp: replaceNameID(`<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"/>`,
			ssotest.EncryptionAES128GCM, f.spCert), want: saml.CheckDecryption},
		{name: "holds a NameID in another namespace", resp: replaceNameID(`<NameID xmlns="urn:evil">p-123</NameID>`,
			ssotest.EncryptionAES128GCM, f.spCert), want: saml.CheckDecryption},
		{name: "holds a NameID with markup", resp: replaceNameID(`<saml:NameID xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">a<b/></saml:NameID>`,
			ssotest.EncryptionAES128GCM, f.spCert), want: saml.CheckSubject},
		{name: "holds a comment", resp: replaceNameID(`<saml:NameID xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">alice@acme<!---->.example</saml:NameID>`,
			ssotest.EncryptionAES128GCM, f.spCert), want: saml.CheckDecryption},
		{name: "Triple DES", resp: replaceNameID("", ssotest.EncryptionTripleDESCBC, f.spCert), want: saml.CheckDecryption},
		{name: "Triple DES by ssotest", resp: func(r *ssotest.Response) {
			r.EncryptNameIDFor, r.EncryptionMethod = f.spCert, ssotest.EncryptionTripleDESCBC
		}, want: saml.CheckDecryption},
		{name: "RSA PKCS#1 v1.5 key transport", resp: func(r *ssotest.Response) {
			r.EncryptNameIDFor, r.KeyTransport = f.spCert, ssotest.KeyTransportRSA15
		}, want: saml.CheckDecryption},
		{name: "RSA-OAEP (XML Encryption 1.1) key transport", resp: func(r *ssotest.Response) {
			r.EncryptNameIDFor, r.KeyTransport = f.spCert, ssotest.KeyTransportRSAOAEP
		}},
		{name: "EncryptedID beside a NameID", resp: func(r *ssotest.Response) {
			r.BeforeSign = func(d *etree.Document) {
				n := el(d, "./Assertion/Subject/NameID")
				n.Parent().InsertChildAt(0, seal(t, serialize(t, n), ssotest.EncryptionAES128GCM, f.spCert, "saml:EncryptedID"))
			}
		}, want: saml.CheckSubject},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, err := f.validator(t, tc.cfg).Validate(f.response(t, tc.resp), testRequestID)
			if tc.want == "" {
				require.NoError(t, err)
				if strings.HasPrefix(tc.name, "hand-made") || strings.HasPrefix(tc.name, "NameID using") {
					assert.Equal(t, "p-123", a.NameID)
					assert.Equal(t, nameIDPersist, a.NameIDFormat)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Validate() err = %v; want %v", err, tc.want)
			}
		})
	}
}

// TestValidateDecryptedAssertionInheritsNamespaces: an assertion encrypted
// without the declarations of the prefixes it uses (declared on the
// Response or on the EncryptedAssertion) is read in that context, signed
// or not by itself; a prefix declared nowhere is undecryptable.
func TestValidateDecryptedAssertionInheritsNamespaces(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	v := f.validator(t, nil)
	// undeclare moves the assertion's own declarations to the Response.
	undeclare := func(d *etree.Document) {
		a := el(d, "./Assertion")
		for _, p := range []string{"saml", "xs", "xsi"} {
			if at := a.SelectAttr("xmlns:" + p); at != nil {
				d.Root().CreateAttr("xmlns:"+p, at.Value)
				a.RemoveAttr("xmlns:" + p)
			}
		}
	}
	// encryptInPlace replaces the (signed) assertion by its encryption,
	// serialized without the declarations it inherits.
	encryptInPlace := func(d *etree.Document, wrapper string, declare map[string]string) {
		a := el(d, "./Assertion")
		w := seal(t, serialize(t, a), ssotest.EncryptionAES256GCM, f.spCert, wrapper)
		for p, uri := range declare {
			w.CreateAttr("xmlns:"+p, uri)
		}
		replace(a, w)
	}
	cases := []struct {
		name string
		resp func(*ssotest.Response)
		want saml.Check
	}{
		{name: "Response signed, prefixes declared on the Response", resp: func(r *ssotest.Response) {
			r.Sign = ssotest.SignResponse
			r.BeforeSign = func(d *etree.Document) {
				undeclare(d)
				encryptInPlace(d, "saml:EncryptedAssertion", nil)
			}
		}},
		{name: "assertion signed in context, prefixes declared on the Response", resp: func(r *ssotest.Response) {
			r.BeforeSign = undeclare
			r.AfterSign = func(d *etree.Document) { encryptInPlace(d, "saml:EncryptedAssertion", nil) }
		}},
		{name: "prefix declared on the EncryptedAssertion", resp: func(r *ssotest.Response) {
			r.Sign = ssotest.SignResponse
			r.BeforeSign = func(d *etree.Document) {
				a := el(d, "./Assertion")
				a.RemoveAttr("xmlns:saml")
				for _, e := range append([]*etree.Element{a}, a.FindElements(".//*")...) {
					if e.Space == "saml" {
						e.Space = "s2"
					}
				}
				encryptInPlace(d, "saml:EncryptedAssertion", map[string]string{"s2": "urn:oasis:names:tc:SAML:2.0:assertion"})
			}
		}},
		{name: "prefix declared nowhere", resp: func(r *ssotest.Response) {
			r.Sign = ssotest.SignResponse
			r.BeforeSign = func(d *etree.Document) {
				a := el(d, "./Assertion")
				a.RemoveAttr("xmlns:saml")
				for _, e := range append([]*etree.Element{a}, a.FindElements(".//*")...) {
					if e.Space == "saml" {
						e.Space = "s2"
					}
				}
				encryptInPlace(d, "saml:EncryptedAssertion", nil)
			}
		}, want: saml.CheckDecryption},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, err := v.Validate(f.response(t, tc.resp), testRequestID)
			if tc.want != "" {
				if !errors.Is(err, tc.want) {
					t.Fatalf("Validate() err = %v; want %v", err, tc.want)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, alice.Email, a.NameID)
			assert.Equal(t, alice.Roles, a.Attributes["roles"])
		})
	}
}
