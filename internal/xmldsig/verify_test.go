package xmldsig

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// signedAssertion returns samlResponse with its Assertion signed by k.
func signedAssertion(t *testing.T, k testKey, opts SignOptions) (*etree.Document, *etree.Element, *etree.Element) {
	t.Helper()
	doc := parse(t, samlResponse)
	a := doc.Root().FindElement("./Assertion")
	sig, err := SignEnveloped(a, k.signer, opts)
	if err != nil {
		t.Fatalf("SignEnveloped() err = %v", err)
	}
	return doc, a, sig
}

func TestSignVerifyAlgorithms(t *testing.T) {
	t.Parallel()
	rsa1, _, p256, p384 := keys(t)
	for _, tc := range []struct {
		key            testKey
		method, digest string
	}{
		{rsa1, RSASHA1, DigestSHA1},
		{rsa1, RSASHA256, DigestSHA256},
		{rsa1, RSASHA384, DigestSHA384},
		{rsa1, RSASHA512, DigestSHA512},
		{rsa1, RSASHA256, DigestSHA1},
		{rsa1, "", ""},
		{p256, ECDSASHA256, DigestSHA256},
		{p256, ECDSASHA384, DigestSHA384},
		{p256, ECDSASHA512, DigestSHA512},
		{p384, ECDSASHA384, DigestSHA256},
		{p384, "", ""},
	} {
		t.Run(fmt.Sprintf("%T/%s/%s", tc.key.signer, tc.method, tc.digest), func(t *testing.T) {
			t.Parallel()
			for _, keyInfo := range []bool{true, false} {
				opts := SignOptions{SignatureMethod: tc.method, DigestMethod: tc.digest}
				if keyInfo {
					opts.Certificate = tc.key.cert
				}
				doc, a, sig := signedAssertion(t, tc.key, opts)
				if prev := a.ChildElements()[0]; prev.Tag != "Issuer" || a.ChildElements()[1] != sig {
					t.Errorf("signature not right after the Issuer")
				}
				// Every trusted certificate is tried without KeyInfo.
				certs := []*x509.Certificate{rsaKey2.cert, ecKey.cert, ec384Key.cert, tc.key.cert}
				got, err := Verify(a, sig, VerifyOptions{Certificates: certs, Allow: allowAll})
				if err != nil || got != tc.key.cert {
					t.Fatalf("Verify() = %v, %v; want the signing certificate", got, err)
				}
				if err := verifySerialised(t, doc, "./Assertion", tc.key.cert); err != nil {
					t.Errorf("Verify(serialised) err = %v", err)
				}
				if ki := dsChild(sig, "KeyInfo"); (ki != nil) != keyInfo {
					t.Errorf("KeyInfo present = %v; want %v", ki != nil, keyInfo)
				}
			}
		})
	}
}

// TestECDSAValueFormat: XML-DSig ECDSA values are r||s, each as long as the
// curve order; the ASN.1 form (what goxmldsig writes and expects) is refused.
func TestECDSAValueFormat(t *testing.T) {
	t.Parallel()
	_, _, p256, _ := keys(t)
	_, a, sig := signedAssertion(t, p256, SignOptions{Certificate: p256.cert})
	sv := dsChild(sig, "SignatureValue")
	raw, err := base64.StdEncoding.DecodeString(sv.Text())
	if err != nil || len(raw) != 64 {
		t.Fatalf("P-256 SignatureValue is %d bytes (%v); want 64 (r||s)", len(raw), err)
	}
	opts := VerifyOptions{Certificates: []*x509.Certificate{p256.cert}}
	if _, err := Verify(a, sig, opts); err != nil {
		t.Fatalf("Verify() err = %v", err)
	}
	der, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(raw[:32]), new(big.Int).SetBytes(raw[32:])})
	if err != nil {
		t.Fatal(err)
	}
	sv.SetText(base64.StdEncoding.EncodeToString(der))
	if _, err := Verify(a, sig, opts); !errors.Is(err, ErrSignatureInvalid) {
		t.Errorf("Verify(ASN.1 value) err = %v; want ErrSignatureInvalid", err)
	}
	sv.SetText(base64.StdEncoding.EncodeToString(raw))
	// goxmldsig expects ASN.1 and so rejects the standard form.
	if err := goxmldsigVerify(a, p256.cert); err == nil {
		t.Error("goxmldsig accepted an r||s ECDSA value; the known bug is fixed, update this test")
	}
}

// bigAssertion is a response whose assertion carries n attribute values: a
// user in n IdP groups.
func bigAssertion(t testing.TB, n int) *etree.Document {
	t.Helper()
	return parse(t, genSAML(rand.New(rand.NewPCG(7, 8)), n, false))
}

// TestLargeAssertion: 2,000 attribute values (about 200 KB) sign and verify;
// goxmldsig refuses the same element because it has more than 1,000
// descendants, which is why this package exists.
func TestLargeAssertion(t *testing.T) {
	t.Parallel()
	k, _, _, _ := keys(t)
	doc := bigAssertion(t, 2000)
	a := doc.Root().FindElement("./Assertion")
	if s, _ := doc.WriteToString(); len(s) < 150_000 {
		t.Fatalf("document is only %d bytes", len(s))
	}
	sig, err := SignEnveloped(a, k.signer, SignOptions{Certificate: k.cert})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(a, sig, VerifyOptions{Certificates: []*x509.Certificate{k.cert}}); err != nil {
		t.Fatalf("Verify() err = %v", err)
	}
	if err := verifySerialised(t, doc, "./Assertion", k.cert); err != nil {
		t.Errorf("Verify(serialised) err = %v", err)
	}
	if err := goxmldsigVerify(a, k.cert); !errors.Is(err, etreeutils.ErrTraversalLimit) {
		t.Errorf("goxmldsig verify err = %v; want %v", err, etreeutils.ErrTraversalLimit)
	}
	if _, err := goxmldsigC14N(a, "", nil); !errors.Is(err, etreeutils.ErrTraversalLimit) {
		t.Errorf("goxmldsig canonicalise err = %v; want %v", err, etreeutils.ErrTraversalLimit)
	}
}

// TestVerifyAttacks: each row changes a signed assertion the way an attacker
// or a broken IdP would, and names the error Verify must return.
func TestVerifyAttacks(t *testing.T) {
	t.Parallel()
	k, other, p256, _ := keys(t)
	ds := func(el *etree.Element, path string) *etree.Element {
		for _, name := range strings.Split(path, "/") {
			el = dsChild(el, name)
		}
		return el
	}
	callerErr := errors.New("organization policy says no")
	for _, tc := range []struct {
		name    string
		sign    SignOptions
		change  func(t *testing.T, resp, a, sig *etree.Element) (signed, s *etree.Element)
		opts    VerifyOptions
		wantErr error
	}{
		{name: "untouched", wantErr: nil},
		{name: "second Reference", change: func(t *testing.T, resp, a, sig *etree.Element) (*etree.Element, *etree.Element) {
			si := ds(sig, "SignedInfo")
			si.AddChild(ds(si, "Reference").Copy())
			return a, sig
		}, wantErr: ErrMalformed},
		{name: "Reference to another ID", change: func(t *testing.T, resp, a, sig *etree.Element) (*etree.Element, *etree.Element) {
			ds(sig, "SignedInfo/Reference").CreateAttr("URI", "#_resp1")
			return a, sig
		}, wantErr: ErrMalformed},
		{name: "signature moved to the Response (wrapping)", change: func(t *testing.T, resp, a, sig *etree.Element) (*etree.Element, *etree.Element) {
			a.RemoveChild(sig)
			resp.AddChild(sig)
			return resp, sig
		}, wantErr: ErrMalformed},
		{name: "Reference URI empty, not the document", change: func(t *testing.T, resp, a, sig *etree.Element) (*etree.Element, *etree.Element) {
			ds(sig, "SignedInfo/Reference").CreateAttr("URI", "")
			return a, sig
		}, wantErr: ErrMalformed},
		{name: "Reference without URI", change: func(t *testing.T, resp, a, sig *etree.Element) (*etree.Element, *etree.Element) {
			ds(sig, "SignedInfo/Reference").RemoveAttr("URI")
			return a, sig
		}, wantErr: ErrMalformed},
		{name: "unknown transform", change: func(t *testing.T, resp, a, sig *etree.Element) (*etree.Element, *etree.Element) {
			ts := ds(sig, "SignedInfo/Reference/Transforms")
			ts.ChildElements()[1].CreateAttr("Algorithm", "http://www.w3.org/TR/1999/REC-xpath-19991116")
			return a, sig
		}, wantErr: ErrUnsupportedAlgorithm},
		{name: "prefixed Algorithm attribute does not count", change: func(t *testing.T, resp, a, sig *etree.Element) (*etree.Element, *etree.Element) {
			tr := ds(sig, "SignedInfo/Reference/Transforms").ChildElements()[1]
			tr.CreateAttr("xmlns:foo", "urn:foo")
			tr.Attr = append([]etree.Attr{{Space: "foo", Key: "Algorithm", Value: ExclusiveC14N}}, tr.Attr...)
			tr.CreateAttr("Algorithm", "http://www.w3.org/TR/1999/REC-xpath-19991116")
			return a, sig
		}, wantErr: ErrUnsupportedAlgorithm},
		{name: "transforms reversed", change: func(t *testing.T, resp, a, sig *etree.Element) (*etree.Element, *etree.Element) {
			ts := ds(sig, "SignedInfo/Reference/Transforms")
			first := ts.ChildElements()[0]
			ts.RemoveChild(first)
			ts.AddChild(first)
			return a, sig
		}, wantErr: ErrUnsupportedAlgorithm},
		{name: "no enveloped-signature transform", change: func(t *testing.T, resp, a, sig *etree.Element) (*etree.Element, *etree.Element) {
			ts := ds(sig, "SignedInfo/Reference/Transforms")
			ts.RemoveChild(ts.ChildElements()[0])
			return a, sig
		}, wantErr: ErrUnsupportedAlgorithm},
		{name: "C14N with comments", change: func(t *testing.T, resp, a, sig *etree.Element) (*etree.Element, *etree.Element) {
			ds(sig, "SignedInfo/CanonicalizationMethod").CreateAttr("Algorithm", ExclusiveC14N+"WithComments")
			return a, sig
		}, wantErr: ErrUnsupportedAlgorithm},
		{name: "HMAC signature method", change: func(t *testing.T, resp, a, sig *etree.Element) (*etree.Element, *etree.Element) {
			ds(sig, "SignedInfo/SignatureMethod").CreateAttr("Algorithm", "http://www.w3.org/2000/09/xmldsig#hmac-sha1")
			return a, sig
		}, wantErr: ErrUnsupportedAlgorithm},
		{name: "comment inside the signed element still verifies", change: func(t *testing.T, resp, a, sig *etree.Element) (*etree.Element, *etree.Element) {
			// exc-c14n without comments leaves it out: "alice@example.com" is
			// signed whether or not a comment splits it, which is why the SAML
			// Validator refuses comments (etree's Text() would read "alice").
			nameID := a.FindElement("./Subject/NameID")
			nameID.SetText("alice")
			nameID.AddChild(etree.NewComment("x"))
			nameID.AddChild(etree.NewText("@example.com"))
			return a, sig
		}, wantErr: nil},
		{name: "text changed", change: func(t *testing.T, resp, a, sig *etree.Element) (*etree.Element, *etree.Element) {
			a.FindElement("./Subject/NameID").SetText("mallory@example.com")
			return a, sig
		}, wantErr: ErrDigestMismatch},
		{name: "attribute added", change: func(t *testing.T, resp, a, sig *etree.Element) (*etree.Element, *etree.Element) {
			a.FindElement("./Conditions").CreateAttr("Foo", "bar")
			return a, sig
		}, wantErr: ErrDigestMismatch},
		{name: "SignedInfo modified to match changed content", change: func(t *testing.T, resp, a, sig *etree.Element) (*etree.Element, *etree.Element) {
			a.FindElement("./Subject/NameID").SetText("mallory@example.com")
			h := digestMethods[DigestSHA256].New()
			if err := WriteExclusive(h, a, nil, nil, sig); err != nil {
				t.Fatal(err)
			}
			ds(sig, "SignedInfo/Reference/DigestValue").SetText(base64.StdEncoding.EncodeToString(h.Sum(nil)))
			return a, sig
		}, wantErr: ErrSignatureInvalid},
		{name: "SignedInfo white space added", change: func(t *testing.T, resp, a, sig *etree.Element) (*etree.Element, *etree.Element) {
			ds(sig, "SignedInfo").InsertChildAt(0, etree.NewText(" "))
			return a, sig
		}, wantErr: ErrSignatureInvalid},
		{name: "SignatureValue flipped", change: func(t *testing.T, resp, a, sig *etree.Element) (*etree.Element, *etree.Element) {
			sv := dsChild(sig, "SignatureValue")
			v, _ := base64.StdEncoding.DecodeString(sv.Text())
			v[10] ^= 1
			sv.SetText(base64.StdEncoding.EncodeToString(v))
			return a, sig
		}, wantErr: ErrSignatureInvalid},
		{name: "untrusted certificate in KeyInfo", sign: SignOptions{Certificate: other.cert}, wantErr: ErrUntrustedKey},
		{name: "trusted certificate in KeyInfo, signed by another key", change: func(t *testing.T, resp, a, sig *etree.Element) (*etree.Element, *etree.Element) {
			a.RemoveChild(sig)
			s, err := SignEnveloped(a, other.signer, SignOptions{Certificate: k.cert})
			if err != nil {
				t.Fatal(err)
			}
			return a, s
		}, wantErr: ErrSignatureInvalid},
		{name: "no KeyInfo, signed by an untrusted key", change: func(t *testing.T, resp, a, sig *etree.Element) (*etree.Element, *etree.Element) {
			a.RemoveChild(sig)
			s, err := SignEnveloped(a, other.signer, SignOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return a, s
		}, wantErr: ErrSignatureInvalid},
		{name: "no trusted certificate", opts: VerifyOptions{Certificates: []*x509.Certificate{}}, wantErr: ErrUntrustedKey},
		{name: "only an ECDSA certificate for an RSA signature", sign: SignOptions{}, opts: VerifyOptions{Certificates: []*x509.Certificate{p256.cert}}, wantErr: ErrUntrustedKey},
		{name: "SHA-1 refused by default", sign: SignOptions{SignatureMethod: RSASHA1, DigestMethod: DigestSHA1, Certificate: k.cert},
			opts: VerifyOptions{Certificates: []*x509.Certificate{k.cert}}, wantErr: ErrUnsupportedAlgorithm},
		{name: "caller policy refuses", opts: VerifyOptions{Certificates: []*x509.Certificate{k.cert}, Allow: func(string, string) error { return callerErr }},
			wantErr: callerErr},
		{name: "two SignedInfo", change: func(t *testing.T, resp, a, sig *etree.Element) (*etree.Element, *etree.Element) {
			sig.InsertChildAt(0, ds(sig, "SignedInfo").Copy())
			return a, sig
		}, wantErr: ErrMalformed},
		{name: "no SignatureValue", change: func(t *testing.T, resp, a, sig *etree.Element) (*etree.Element, *etree.Element) {
			sig.RemoveChild(dsChild(sig, "SignatureValue"))
			return a, sig
		}, wantErr: ErrMalformed},
		{name: "SignatureValue not base64", change: func(t *testing.T, resp, a, sig *etree.Element) (*etree.Element, *etree.Element) {
			dsChild(sig, "SignatureValue").SetText("!!!")
			return a, sig
		}, wantErr: ErrMalformed},
		{name: "DigestValue too short", change: func(t *testing.T, resp, a, sig *etree.Element) (*etree.Element, *etree.Element) {
			ds(sig, "SignedInfo/Reference/DigestValue").SetText("AAAA")
			return a, sig
		}, wantErr: ErrMalformed},
		{name: "comment inside DigestValue", change: func(t *testing.T, resp, a, sig *etree.Element) (*etree.Element, *etree.Element) {
			dv := ds(sig, "SignedInfo/Reference/DigestValue")
			v := dv.Text()
			dv.SetText(v[:10])
			dv.AddChild(etree.NewComment("split"))
			dv.AddChild(etree.NewText(v[10:]))
			return a, sig
		}, wantErr: nil},
		{name: "unknown element in Signature", change: func(t *testing.T, resp, a, sig *etree.Element) (*etree.Element, *etree.Element) {
			sig.CreateElement("ds:Extra")
			return a, sig
		}, wantErr: ErrMalformed},
		{name: "Signature in another namespace", change: func(t *testing.T, resp, a, sig *etree.Element) (*etree.Element, *etree.Element) {
			sig.CreateAttr("xmlns:ds", "urn:not-dsig")
			return a, sig
		}, wantErr: ErrMalformed},
		{name: "signature of a grandchild", change: func(t *testing.T, resp, a, sig *etree.Element) (*etree.Element, *etree.Element) {
			return resp, sig
		}, wantErr: ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sign := tc.sign
			if sign.Certificate == nil && sign.SignatureMethod == "" {
				sign.Certificate = k.cert
			}
			doc, a, sig := signedAssertion(t, k, sign)
			signed := a
			if tc.change != nil {
				signed, sig = tc.change(t, doc.Root(), a, sig)
			}
			opts := tc.opts
			if opts.Certificates == nil {
				opts.Certificates = []*x509.Certificate{k.cert}
			}
			_, err := Verify(signed, sig, opts)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Verify() err = %v; want %v", err, tc.wantErr)
			}
			if err == nil {
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Kind == nil {
				t.Errorf("Verify() err = %#v; want an *Error with a Kind", err)
			}
			if tc.wantErr == callerErr && !errors.Is(err, ErrUnsupportedAlgorithm) {
				t.Errorf("Verify() err = %v; want it to wrap ErrUnsupportedAlgorithm too", err)
			}
		})
	}
}

// TestVerifyDocumentRoot: Reference URI "" names the whole document only when
// the caller says the signed element is the document element.
func TestVerifyDocumentRoot(t *testing.T) {
	t.Parallel()
	k, _, _, _ := keys(t)
	doc := parse(t, samlResponse)
	root := doc.Root()
	sig, err := SignEnveloped(root, k.signer, SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Some IdPs reference the document itself: same digest, new SignedInfo.
	si := dsChild(sig, "SignedInfo")
	dsChild(si, "Reference").CreateAttr("URI", "")
	v, err := signSignedInfo(si, root, nil, k.signer, signatureMethods[RSASHA256])
	if err != nil {
		t.Fatal(err)
	}
	dsChild(sig, "SignatureValue").SetText(base64.StdEncoding.EncodeToString(v))

	opts := VerifyOptions{Certificates: []*x509.Certificate{k.cert}}
	if _, err := Verify(root, sig, opts); !errors.Is(err, ErrMalformed) {
		t.Errorf("Verify(URI \"\", not DocumentRoot) err = %v; want ErrMalformed", err)
	}
	opts.DocumentRoot = true
	if _, err := Verify(root, sig, opts); err != nil {
		t.Errorf("Verify(URI \"\", DocumentRoot) err = %v", err)
	}
}

func TestSignEnvelopedErrors(t *testing.T) {
	t.Parallel()
	k, _, p256, _ := keys(t)
	noID := parse(t, `<a xmlns="urn:a"><b/></a>`).Root()
	_, a, _ := signedAssertion(t, k, SignOptions{})
	fresh := func() *etree.Element { return parse(t, samlResponse).Root().FindElement("./Assertion") }
	for _, tc := range []struct {
		name    string
		el      *etree.Element
		key     testKey
		opts    SignOptions
		wantErr error
	}{
		{"no ID", noID, k, SignOptions{}, ErrMalformed},
		{"already signed", a, k, SignOptions{}, ErrMalformed},
		{"ECDSA method, RSA key", fresh(), k, SignOptions{SignatureMethod: ECDSASHA256}, ErrUnsupportedAlgorithm},
		{"RSA method, ECDSA key", fresh(), p256, SignOptions{SignatureMethod: RSASHA256}, ErrUnsupportedAlgorithm},
		{"ecdsa-sha1", fresh(), p256, SignOptions{SignatureMethod: "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1"}, ErrUnsupportedAlgorithm},
		{"unknown digest", fresh(), k, SignOptions{DigestMethod: "urn:md5"}, ErrUnsupportedAlgorithm},
		{"certificate without DER", fresh(), k, SignOptions{Certificate: &x509.Certificate{}}, ErrMalformed},
	} {
		before, _ := etreeString(tc.el)
		if _, err := SignEnveloped(tc.el, tc.key.signer, tc.opts); !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: SignEnveloped() err = %v; want %v", tc.name, err, tc.wantErr)
		}
		if after, _ := etreeString(tc.el); after != before {
			t.Errorf("%s: SignEnveloped() changed the element on error", tc.name)
		}
	}
	if _, err := SignEnveloped(nil, k.signer, SignOptions{}); !errors.Is(err, ErrMalformed) {
		t.Errorf("SignEnveloped(nil) err = %v; want ErrMalformed", err)
	}
	if _, err := Verify(nil, nil, VerifyOptions{}); !errors.Is(err, ErrMalformed) {
		t.Errorf("Verify(nil) err = %v; want ErrMalformed", err)
	}
}

func etreeString(el *etree.Element) (string, error) {
	d := etree.NewDocument()
	d.SetRoot(el.Copy())
	return d.WriteToString()
}

// TestSignWithInheritedNamespaces: a detached element signed with the
// namespaces of its future ancestors verifies once placed among them.
func TestSignWithInheritedNamespaces(t *testing.T) {
	t.Parallel()
	k, _, _, _ := keys(t)
	doc := parse(t, samlResponse)
	a := doc.Root().FindElement("./Assertion")
	inherited := inScopeForTest(a)
	detached := a.Copy()
	if _, err := SignEnveloped(detached, k.signer, SignOptions{Inherited: inherited}); err != nil {
		t.Fatal(err)
	}
	doc.Root().InsertChildAt(a.Index(), detached)
	doc.Root().RemoveChild(a)
	if err := verifySerialised(t, doc, "./Assertion", k.cert); err != nil {
		t.Errorf("Verify() err = %v", err)
	}
}
