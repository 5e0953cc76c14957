package ssotest_test

import (
	"encoding/base64"
	"testing"

	"github.com/beevik/etree"

	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/sso/ssotest"
)

func TestSignModes(t *testing.T) {
	tests := []struct {
		mode                ssotest.SignMode
		response, assertion bool // which carry a signature
	}{
		{ssotest.SignAssertion, false, true},
		{ssotest.SignResponse, true, false},
		{ssotest.SignBoth, true, true},
		{ssotest.SignNone, false, false},
	}
	idp := newIdP(t)
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			doc := build(t, idp, ssotest.Response{SP: testSP, User: testUser, Sign: tt.mode})
			for _, el := range []struct {
				name   string
				el     *etree.Element
				signed bool
			}{{"Response", doc.Root(), tt.response}, {"Assertion", assertionOf(doc), tt.assertion}} {
				sig := child(el.el, nsDS, "Signature")
				if (sig != nil) != el.signed {
					t.Fatalf("%s signed = %t; want %t", el.name, sig != nil, el.signed)
				}
				if !el.signed {
					continue
				}
				// Right after the Issuer, as the SAML schema orders them.
				if prev := sig.PrevSibling(); prev == nil || prev.Tag != "Issuer" || prev.NamespaceURI() != nsA {
					t.Errorf("%s Signature does not follow its Issuer", el.name)
				}
				ref := path(sig, nsDS, "SignedInfo", nsDS, "Reference")
				if got, want := ref.SelectAttrValue("URI", ""), "#"+el.el.SelectAttrValue("ID", ""); got != want {
					t.Errorf("%s Reference URI = %q; want %q", el.name, got, want)
				}
				if got := path(sig, nsDS, "SignedInfo", nsDS, "CanonicalizationMethod").SelectAttrValue("Algorithm", ""); got != "http://www.w3.org/2001/10/xml-exc-c14n#" {
					t.Errorf("%s CanonicalizationMethod = %q; want exclusive C14N", el.name, got)
				}
				if err := verify(el.el, idp.Certificate()); err != nil {
					t.Errorf("%s signature does not verify: %v", el.name, err)
				}
			}
			if len(doc.FindElements("//Signature")) != btoi(tt.response)+btoi(tt.assertion) {
				t.Errorf("%d signatures in the document", len(doc.FindElements("//Signature")))
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestSignModeString(t *testing.T) {
	if got := ssotest.SignMode(9).String(); got != "SignMode(9)" {
		t.Errorf("SignMode(9).String() = %q", got)
	}
}

func TestAlgorithms(t *testing.T) {
	tests := []struct {
		sigMethod, digest         string
		wantSigMethod, wantDigest string
	}{
		{"", "", saml.AlgRSASHA256, saml.DigestSHA256},
		{saml.AlgRSASHA1, "", saml.AlgRSASHA1, saml.DigestSHA256},
		{"", saml.DigestSHA1, saml.AlgRSASHA256, saml.DigestSHA1},
		{saml.AlgRSASHA1, saml.DigestSHA1, saml.AlgRSASHA1, saml.DigestSHA1},
		{saml.AlgRSASHA384, saml.DigestSHA384, saml.AlgRSASHA384, saml.DigestSHA384},
		{saml.AlgRSASHA512, saml.DigestSHA256, saml.AlgRSASHA512, saml.DigestSHA256},
		{saml.AlgRSASHA256, saml.DigestSHA512, saml.AlgRSASHA256, saml.DigestSHA512},
	}
	idp := newIdP(t)
	for _, tt := range tests {
		t.Run(tt.wantSigMethod+" "+tt.wantDigest, func(t *testing.T) {
			doc := build(t, idp, ssotest.Response{
				SP: testSP, User: testUser, Sign: ssotest.SignBoth,
				SignatureMethod: tt.sigMethod, DigestMethod: tt.digest,
			})
			for _, el := range []*etree.Element{doc.Root(), assertionOf(doc)} {
				si := path(el, nsDS, "Signature", nsDS, "SignedInfo")
				if got := child(si, nsDS, "SignatureMethod").SelectAttrValue("Algorithm", ""); got != tt.wantSigMethod {
					t.Errorf("%s SignatureMethod = %q; want %q", el.Tag, got, tt.wantSigMethod)
				}
				if got := path(si, nsDS, "Reference", nsDS, "DigestMethod").SelectAttrValue("Algorithm", ""); got != tt.wantDigest {
					t.Errorf("%s DigestMethod = %q; want %q", el.Tag, got, tt.wantDigest)
				}
				if err := verify(el, idp.Certificate()); err != nil {
					t.Errorf("%s signature does not verify: %v", el.Tag, err)
				}
			}
		})
	}
}

func TestSigningKnobs(t *testing.T) {
	attacker := otherKey()
	attackerCert := selfSigned(t, attacker)
	idp := newIdP(t)
	tests := []struct {
		name        string
		r           ssotest.Response
		keyInfoCert []byte // nil = no KeyInfo
		verifyWith  []byte // certificate the signature verifies against
		idpVerifies bool
	}{
		{"IdP key", ssotest.Response{}, idp.Certificate().Raw, idp.Certificate().Raw, true},
		{"OmitKeyInfo", ssotest.Response{OmitKeyInfo: true}, nil, idp.Certificate().Raw, true},
		{"attacker key and cert", ssotest.Response{SigningKey: attacker, SigningCert: attackerCert}, attackerCert.Raw, attackerCert.Raw, false},
		{"attacker key, no KeyInfo", ssotest.Response{SigningKey: attacker, OmitKeyInfo: true}, nil, attackerCert.Raw, false},
		{"IdP key, attacker cert in KeyInfo", ssotest.Response{SigningCert: attackerCert}, attackerCert.Raw, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.r
			r.SP, r.User = testSP, testUser
			doc := build(t, idp, r)
			a := assertionOf(doc)
			sig := child(a, nsDS, "Signature")
			x := path(sig, nsDS, "KeyInfo", nsDS, "X509Data", nsDS, "X509Certificate")
			switch {
			case tt.keyInfoCert == nil && child(sig, nsDS, "KeyInfo") != nil:
				t.Error("KeyInfo present; want none")
			case tt.keyInfoCert != nil && (x == nil || x.Text() != base64.StdEncoding.EncodeToString(tt.keyInfoCert)):
				t.Error("KeyInfo does not carry the expected certificate")
			}
			err := verify(a, idp.Certificate())
			if (err == nil) != tt.idpVerifies {
				t.Errorf("verify against the IdP certificate err = %v; want success %t", err, tt.idpVerifies)
			}
			if tt.verifyWith != nil && !tt.idpVerifies {
				if err := verify(a, attackerCert); err != nil {
					t.Errorf("verify against the signing certificate err = %v; want nil", err)
				}
			}
		})
	}
}

// TestHooks: BeforeSign changes are signed, AfterSign changes break the
// signature.
func TestHooks(t *testing.T) {
	idp := newIdP(t)
	setAudience := func(doc *etree.Document) {
		audience(doc).SetText("https://changed")
	}
	tests := []struct {
		name     string
		r        ssotest.Response
		verifies bool
	}{
		{"BeforeSign", ssotest.Response{BeforeSign: setAudience}, true},
		{"AfterSign", ssotest.Response{AfterSign: setAudience}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.r
			r.SP, r.User = testSP, testUser
			doc := build(t, idp, r)
			if got := audience(doc).Text(); got != "https://changed" {
				t.Fatalf("Audience = %q; the hook did not run", got)
			}
			err := verify(assertionOf(doc), idp.Certificate())
			if (err == nil) != tt.verifies {
				t.Errorf("verify err = %v; want success %t", err, tt.verifies)
			}
		})
	}
}

// TestBeforeSignSecondAssertion: the assertion signed is the one with the
// planned ID, wherever BeforeSign moved it.
func TestBeforeSignSecondAssertion(t *testing.T) {
	idp := newIdP(t)
	doc := build(t, idp, ssotest.Response{
		SP: testSP, User: testUser, AssertionID: "_real",
		BeforeSign: func(doc *etree.Document) {
			evil := assertionOf(doc).Copy()
			evil.CreateAttr("ID", "_evil")
			doc.Root().InsertChildAt(assertionOf(doc).Index(), evil)
		},
	})
	as := doc.Root().SelectElements("Assertion")
	if len(as) != 2 {
		t.Fatalf("%d assertions; want 2", len(as))
	}
	if child(as[0], nsDS, "Signature") != nil || child(as[1], nsDS, "Signature") == nil {
		t.Error("want only the second (real) assertion signed")
	}
	if err := verify(as[1], idp.Certificate()); err != nil {
		t.Errorf("real assertion does not verify: %v", err)
	}
}
