package ssotest_test

import (
	"errors"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// TestValidatorChecks runs every knob through the real sso.Validator: the
// default response passes, and each knob fails exactly the check it names.
func TestValidatorChecks(t *testing.T) {
	idp := newIdP(t)
	attacker := otherKey()
	attackerCert := selfSigned(t, attacker)
	// An IdP whose certificate expired before t0 (made eleven years earlier,
	// with the same key).
	oldIdP, err := ssotest.New(ssotest.Config{Now: func() time.Time { return t0.AddDate(-11, 0, 0) }, Key: idpKey()})
	if err != nil {
		t.Fatal(err)
	}
	const reqID = "id-req"
	tests := []struct {
		name    string
		idp     *ssotest.IdP
		r       ssotest.Response
		sigAlg  string // IdPConfig.SignatureAlgorithm
		idpInit bool   // AllowIdPInitiated
		want    error  // nil = valid
	}{
		{name: "valid", r: ssotest.Response{}},
		{name: "valid, response signed", r: ssotest.Response{Sign: ssotest.SignResponse}},
		{name: "valid, both signed", r: ssotest.Response{Sign: ssotest.SignBoth}},
		{name: "valid, SHA-512", r: ssotest.Response{SignatureMethod: saml.AlgRSASHA512, DigestMethod: saml.DigestSHA512}},
		{name: "valid, SHA-1 allowed", r: ssotest.Response{SignatureMethod: saml.AlgRSASHA1, DigestMethod: saml.DigestSHA1}, sigAlg: saml.AlgRSASHA1},
		{name: "valid, encrypted", r: ssotest.Response{EncryptFor: spPair().Leaf}},
		{name: "valid, encrypted aes128-cbc, both signed", r: ssotest.Response{EncryptFor: spPair().Leaf, EncryptionMethod: ssotest.EncryptionAES128CBC, Sign: ssotest.SignBoth}},
		{name: "valid, no KeyInfo", r: ssotest.Response{OmitKeyInfo: true}},
		{name: "valid, no Response Issuer", r: ssotest.Response{OmitIssuer: true}},
		{name: "valid, no Destination (optional on the Response)", r: ssotest.Response{OmitDestination: true}},
		{name: "valid, IdP-initiated allowed", r: ssotest.Response{InResponseTo: "-"}, idpInit: true},

		{name: "status", r: ssotest.Response{StatusCode: ssotest.StatusResponder}, want: saml.CheckStatus},
		{name: "two assertions", r: ssotest.Response{BeforeSign: func(doc *etree.Document) {
			c := assertionOf(doc).Copy()
			c.CreateAttr("ID", "_second")
			doc.Root().AddChild(c)
		}}, want: saml.CheckAssertionCount},
		{name: "encrypted for another SP", r: ssotest.Response{EncryptFor: sp2Pair().Leaf}, want: saml.CheckDecryption},
		{name: "SHA-1 signature", r: ssotest.Response{SignatureMethod: saml.AlgRSASHA1}, want: saml.CheckAlgorithm},
		{name: "SHA-1 digest", r: ssotest.Response{DigestMethod: saml.DigestSHA1}, want: saml.CheckAlgorithm},
		{name: "unsigned", r: ssotest.Response{Sign: ssotest.SignNone}, want: saml.CheckSignature},
		{name: "attacker key", r: ssotest.Response{SigningKey: attacker, SigningCert: attackerCert}, want: saml.CheckSignature},
		{name: "attacker key, no KeyInfo", r: ssotest.Response{SigningKey: attacker, OmitKeyInfo: true}, want: saml.CheckSignature},
		{name: "tampered", r: ssotest.Response{AfterSign: func(doc *etree.Document) {
			nameID(doc).SetText("mallory@example.com")
		}}, want: saml.CheckSignature},
		{name: "expired certificate", idp: oldIdP, r: ssotest.Response{IssueInstant: t0}, want: saml.CheckCertificate},
		{name: "issuer", r: ssotest.Response{Issuer: "https://evil"}, want: saml.CheckIssuer},
		{name: "assertion issuer", r: ssotest.Response{AssertionIssuer: "https://evil"}, want: saml.CheckIssuer},
		{name: "destination", r: ssotest.Response{Destination: "https://evil/acs"}, want: saml.CheckDestination},
		{name: "IdP key, foreign certificate in KeyInfo", r: ssotest.Response{SigningCert: attackerCert}, want: saml.CheckSignature},
		{name: "recipient", r: ssotest.Response{Recipient: "https://evil/acs"}, want: saml.CheckRecipient},
		{name: "no recipient", r: ssotest.Response{OmitRecipient: true}, want: saml.CheckRecipient},
		{name: "audience", r: ssotest.Response{Audience: "https://evil"}, want: saml.CheckAudience},
		{name: "no audience", r: ssotest.Response{OmitAudience: true}, want: saml.CheckAudience},
		{name: "not yet valid", r: ssotest.Response{NotBefore: t0.Add(10 * time.Minute)}, want: saml.CheckNotYetValid},
		{name: "expired", r: ssotest.Response{IssueInstant: t0.Add(-10 * time.Minute), NotBefore: t0.Add(-15 * time.Minute), NotOnOrAfter: t0.Add(-5 * time.Minute), SubjectNotOnOrAfter: t0.Add(5 * time.Minute)}, want: saml.CheckExpired},
		{name: "subject expired", r: ssotest.Response{SubjectNotOnOrAfter: t0.Add(-5 * time.Minute)}, want: saml.CheckExpired},
		{name: "unknown InResponseTo", r: ssotest.Response{InResponseTo: "id-other"}, want: saml.CheckInResponseTo},
		{name: "unsolicited", r: ssotest.Response{InResponseTo: "-"}, want: saml.CheckUnsolicited},
		{name: "no NameID", r: ssotest.Response{OmitNameID: true}, want: saml.CheckSubject},
		{name: "no subject confirmation", r: ssotest.Response{OmitSubjectConfirmation: true}, want: saml.CheckSubject},
		{name: "holder-of-key", r: ssotest.Response{SubjectConfirmationMethod: "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"}, want: saml.CheckSubject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signer := idp
			if tt.idp != nil {
				signer = tt.idp
			}
			cfg := signer.IdPConfig()
			cfg.SignatureAlgorithm = tt.sigAlg
			v, err := sso.NewValidator(sso.ValidatorConfig{
				SP: testSP, IdP: cfg, Now: fixedNow, SPKeyPair: spPair(), AllowIdPInitiated: tt.idpInit,
			})
			if err != nil {
				t.Fatalf("NewValidator() err = %v", err)
			}
			r := tt.r
			r.SP, r.User = testSP, testUser
			switch r.InResponseTo {
			case "":
				r.InResponseTo = reqID
			case "-":
				r.InResponseTo = ""
			}
			resp, err := signer.Response(r)
			if err != nil {
				t.Fatalf("Response() err = %v", err)
			}
			a, err := v.Validate(resp, reqID)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate() err = %v; want nil", err)
				}
				if a.NameID != testUser.Email || a.Attributes["first_name"][0] != "Ada" {
					t.Errorf("Validate() = %+v; want the test user", a)
				}
				return
			}
			if !errors.Is(err, tt.want) || !errors.Is(err, sso.ErrInvalidResponse) {
				t.Errorf("Validate() err = %v; want %v", err, tt.want)
			}
		})
	}
}
