package saml_test

import (
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// adversarialCase is one attack or broken property, and the one check that
// must refuse it.
type adversarialCase struct {
	name     string
	resp     func(*ssotest.Response)               // knobs on a valid response
	raw      func(t *testing.T, f *fixture) string // or a hand-made posted value
	cfg      func(*saml.ValidatorConfig)
	requests []string // pending request IDs; nil = testRequestID
	want     saml.Check
}

func TestValidateAdversarial(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cases := []adversarialCase{
		// Signatures.
		{name: "signature removed", resp: func(r *ssotest.Response) { r.Sign = ssotest.SignNone }, want: saml.CheckSignature},
		{name: "assertion signature stripped after signing", resp: func(r *ssotest.Response) {
			r.AfterSign = func(d *etree.Document) { removeAll(d.Root().FindElement("./Assertion"), "Signature") }
		}, want: saml.CheckSignature},
		{name: "attacker key with its cert in KeyInfo", resp: func(r *ssotest.Response) {
			r.SigningKey, r.SigningCert = f.evilKey, f.evilCert
		}, want: saml.CheckSignature},
		{name: "attacker key without KeyInfo", resp: func(r *ssotest.Response) {
			r.SigningKey, r.OmitKeyInfo = f.evilKey, true
		}, want: saml.CheckSignature},
		{name: "attacker-signed response around IdP-signed assertion, response tampered", resp: func(r *ssotest.Response) {
			r.Sign = ssotest.SignBoth
			r.AfterSign = func(d *etree.Document) { setText(d.Root().FindElement("./Issuer"), "https://evil.example/") }
		}, want: saml.CheckSignature},
		{name: "tampered attribute", resp: func(r *ssotest.Response) {
			r.AfterSign = func(d *etree.Document) {
				setText(d.Root().FindElement("./Assertion/AttributeStatement/Attribute[@Name='roles']/AttributeValue"), "Admins")
			}
		}, want: saml.CheckSignature},
		{name: "tampered NameID", resp: func(r *ssotest.Response) {
			r.AfterSign = func(d *etree.Document) {
				setText(d.Root().FindElement("./Assertion/Subject/NameID"), "mallory@acme.example")
			}
		}, want: saml.CheckSignature},
		{name: "tampered signed response content", resp: func(r *ssotest.Response) {
			r.Sign = ssotest.SignResponse
			r.AfterSign = func(d *etree.Document) {
				setText(d.Root().FindElement("./Assertion/Subject/NameID"), "mallory@acme.example")
			}
		}, want: saml.CheckSignature},
		{name: "reference to another element", resp: func(r *ssotest.Response) {
			r.AfterSign = func(d *etree.Document) {
				d.Root().FindElement("./Assertion/Signature/SignedInfo/Reference").CreateAttr("URI", "#"+d.Root().SelectAttrValue("ID", ""))
			}
		}, want: saml.CheckSignature},
		{name: "empty reference URI on an assertion", resp: func(r *ssotest.Response) {
			r.AfterSign = func(d *etree.Document) {
				d.Root().FindElement("./Assertion/Signature/SignedInfo/Reference").CreateAttr("URI", "")
			}
		}, want: saml.CheckSignature},
		{name: "two signatures on the assertion", resp: func(r *ssotest.Response) {
			r.AfterSign = func(d *etree.Document) {
				a := d.Root().FindElement("./Assertion")
				a.AddChild(a.FindElement("./Signature").Copy())
			}
		}, want: saml.CheckSignature},
		{name: "signing certificate expired", cfg: func(c *saml.ValidatorConfig) {
			c.Now = func() time.Time { return testNow.Add(11 * 365 * 24 * time.Hour) }
		}, resp: func(r *ssotest.Response) {
			r.IssueInstant = testNow.Add(11 * 365 * 24 * time.Hour)
		}, want: saml.CheckCertificate},

		// Algorithms.
		{name: "SHA-1 signature not allowed", resp: func(r *ssotest.Response) { r.SignatureMethod = saml.AlgRSASHA1 }, want: saml.CheckAlgorithm},
		{name: "SHA-1 digest not allowed", resp: func(r *ssotest.Response) { r.DigestMethod = saml.DigestSHA1 }, want: saml.CheckAlgorithm},
		{name: "SHA-256 below an rsa-sha512 policy", cfg: func(c *saml.ValidatorConfig) { c.IdP.SignatureAlgorithm = saml.AlgRSASHA512 }, want: saml.CheckAlgorithm},
		{name: "unknown signature algorithm", resp: func(r *ssotest.Response) {
			r.AfterSign = func(d *etree.Document) {
				d.Root().FindElement("./Assertion/Signature/SignedInfo/SignatureMethod").CreateAttr("Algorithm", "http://www.w3.org/2000/09/xmldsig#hmac-sha1")
			}
		}, want: saml.CheckAlgorithm},

		// Assertions.
		{name: "two assertions", resp: func(r *ssotest.Response) {
			r.Sign = ssotest.SignResponse
			r.BeforeSign = func(d *etree.Document) {
				extra := d.Root().FindElement("./Assertion").Copy()
				extra.CreateAttr("ID", "_second")
				d.Root().AddChild(extra)
			}
		}, want: saml.CheckAssertionCount},
		{name: "no assertion", resp: func(r *ssotest.Response) {
			r.Sign = ssotest.SignResponse
			r.BeforeSign = func(d *etree.Document) { removeAll(d.Root(), "Assertion") }
		}, want: saml.CheckAssertionCount},

		// Signature wrapping (Somorovsky et al., "On Breaking SAML", XSW1–XSW8).
		{name: "XSW1 signed response copied into its signature, evil response outside", resp: func(r *ssotest.Response) {
			r.Sign = ssotest.SignResponse
			r.AfterSign = func(d *etree.Document) { xswResponse(d, true) }
		}, want: saml.CheckSignature},
		{name: "XSW2 signed response copied before its detached signature", resp: func(r *ssotest.Response) {
			r.Sign = ssotest.SignResponse
			r.AfterSign = func(d *etree.Document) { xswResponse(d, false) }
		}, want: saml.CheckSignature},
		{name: "XSW3 evil assertion before the signed one, same ID", resp: func(r *ssotest.Response) {
			r.AfterSign = func(d *etree.Document) {
				orig := d.Root().FindElement("./Assertion")
				evil := evilAssertion(orig, false)
				d.Root().InsertChildAt(orig.Index(), evil)
			}
		}, want: saml.CheckAssertionCount},
		{name: "XSW4 signed assertion moved inside the evil one", resp: func(r *ssotest.Response) {
			r.AfterSign = func(d *etree.Document) {
				orig := d.Root().FindElement("./Assertion")
				evil := evilAssertion(orig, false)
				d.Root().RemoveChild(orig)
				evil.AddChild(orig)
				d.Root().AddChild(evil)
			}
		}, want: saml.CheckAssertionCount},
		{name: "XSW5 evil assertion carries the signature, original appended", resp: func(r *ssotest.Response) {
			r.AfterSign = func(d *etree.Document) {
				orig := d.Root().FindElement("./Assertion")
				evil := evilAssertion(orig, true)
				removeAll(orig, "Signature")
				d.Root().InsertChildAt(orig.Index(), evil)
			}
		}, want: saml.CheckAssertionCount},
		{name: "XSW6 original assertion inside the copied signature's Object", resp: func(r *ssotest.Response) {
			r.AfterSign = func(d *etree.Document) {
				orig := d.Root().FindElement("./Assertion")
				evil := evilAssertion(orig, true)
				d.Root().RemoveChild(orig)
				obj := evil.FindElement("./Signature").CreateElement("ds:Object")
				obj.AddChild(orig)
				d.Root().AddChild(evil)
			}
		}, want: saml.CheckAssertionCount},
		{name: "XSW7 original assertion hidden in Extensions", resp: func(r *ssotest.Response) {
			r.AfterSign = func(d *etree.Document) {
				orig := d.Root().FindElement("./Assertion")
				evil := evilAssertion(orig, false)
				d.Root().RemoveChild(orig)
				ext := etree.NewElement("samlp:Extensions")
				ext.AddChild(orig)
				d.Root().InsertChildAt(1, ext)
				d.Root().AddChild(evil)
			}
		}, want: saml.CheckAssertionCount},
		{name: "XSW8 unsigned original inside the evil assertion's signature Object", resp: func(r *ssotest.Response) {
			r.AfterSign = func(d *etree.Document) {
				orig := d.Root().FindElement("./Assertion")
				evil := evilAssertion(orig, true)
				inner := orig.Copy()
				removeAll(inner, "Signature")
				evil.FindElement("./Signature").CreateElement("ds:Object").AddChild(inner)
				d.Root().RemoveChild(orig)
				d.Root().AddChild(evil)
			}
		}, want: saml.CheckAssertionCount},
		{name: "signature moved into the subject", resp: func(r *ssotest.Response) {
			r.AfterSign = func(d *etree.Document) {
				a := d.Root().FindElement("./Assertion")
				sig := a.FindElement("./Signature")
				a.RemoveChild(sig)
				a.FindElement("./Subject").AddChild(sig)
			}
		}, want: saml.CheckSignature},
		{name: "duplicate ID elsewhere in the response", resp: func(r *ssotest.Response) {
			r.AfterSign = func(d *etree.Document) {
				id := d.Root().FindElement("./Assertion").SelectAttrValue("ID", "")
				d.Root().FindElement("./Status").CreateAttr("ID", id)
			}
		}, want: saml.CheckSignature},

		// Comment injection: a signature over exclusive C14N ignores comments, so
		// "alice@acme.example<!---->.evil" would verify; comments are refused.
		{name: "comment injection in NameID", raw: func(t *testing.T, f *fixture) string {
			return rewrite(t, f.response(t, nil), func(s string) string {
				return strings.Replace(s, "alice@acme.example</saml:NameID>", "alice@acme<!---->.example</saml:NameID>", 1)
			})
		}, want: saml.CheckXML},

		// Addressing and identity.
		{name: "wrong audience", resp: func(r *ssotest.Response) { r.Audience = "https://other.example.com/sso/acme/metadata" }, want: saml.CheckAudience},
		{name: "no audience restriction", resp: func(r *ssotest.Response) { r.OmitAudience = true }, want: saml.CheckAudience},
		{name: "wrong destination", resp: func(r *ssotest.Response) { r.Destination = "https://evil.example/acs" }, want: saml.CheckDestination},
		{name: "wrong recipient", resp: func(r *ssotest.Response) { r.Recipient = "https://evil.example/acs" }, want: saml.CheckRecipient},
		{name: "missing recipient", resp: func(r *ssotest.Response) { r.OmitRecipient = true }, want: saml.CheckRecipient},
		{name: "wrong assertion issuer", resp: func(r *ssotest.Response) { r.AssertionIssuer = "https://evil.example/idp" }, want: saml.CheckIssuer},
		{name: "wrong response issuer", resp: func(r *ssotest.Response) { r.Issuer = "https://evil.example/idp" }, want: saml.CheckIssuer},
		{name: "no subject confirmation", resp: func(r *ssotest.Response) { r.OmitSubjectConfirmation = true }, want: saml.CheckSubject},
		{name: "holder-of-key instead of bearer", resp: func(r *ssotest.Response) {
			r.SubjectConfirmationMethod = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"
		}, want: saml.CheckSubject},
		{name: "no NameID", resp: func(r *ssotest.Response) { r.OmitNameID = true }, want: saml.CheckSubject},

		// Time.
		{name: "expired conditions", resp: func(r *ssotest.Response) { r.NotOnOrAfter = testNow.Add(-4 * time.Minute) }, want: saml.CheckExpired},
		{name: "expired subject confirmation", resp: func(r *ssotest.Response) { r.SubjectNotOnOrAfter = testNow.Add(-4 * time.Minute) }, want: saml.CheckExpired},
		{name: "issued long ago", resp: func(r *ssotest.Response) { r.IssueInstant = testNow.Add(-time.Hour) }, want: saml.CheckExpired},
		{name: "not yet valid", resp: func(r *ssotest.Response) { r.NotBefore = testNow.Add(4 * time.Minute) }, want: saml.CheckNotYetValid},
		{name: "expired beyond a custom skew", cfg: func(c *saml.ValidatorConfig) { c.ClockSkew = time.Second },
			resp: func(r *ssotest.Response) { r.NotOnOrAfter = testNow.Add(-2 * time.Second) }, want: saml.CheckExpired},

		// InResponseTo.
		{name: "wrong InResponseTo", resp: func(r *ssotest.Response) { r.InResponseTo = "id-not-ours" }, want: saml.CheckInResponseTo},
		{name: "missing InResponseTo, IdP-initiated not allowed", resp: func(r *ssotest.Response) { r.InResponseTo = "" }, want: saml.CheckUnsolicited},
		{name: "InResponseTo without pending requests", requests: []string{}, want: saml.CheckInResponseTo},
		{name: "response and subject InResponseTo disagree", resp: func(r *ssotest.Response) {
			r.AfterSign = func(d *etree.Document) { d.Root().CreateAttr("InResponseTo", "id-other") }
		}, requests: []string{testRequestID, "id-other"}, want: saml.CheckInResponseTo},

		// Status.
		{name: "non-Success status", resp: func(r *ssotest.Response) { r.StatusCode = ssotest.StatusResponder }, want: saml.CheckStatus},

		// Encryption.
		{name: "encrypted assertion without an SP key", cfg: func(c *saml.ValidatorConfig) { c.SPKeyPair = nil },
			resp: func(r *ssotest.Response) { r.EncryptFor = f.spCert }, want: saml.CheckDecryption},
		{name: "encrypted for another SP", resp: func(r *ssotest.Response) { r.EncryptFor = f.evilCert }, want: saml.CheckDecryption},
		{name: "encrypted garbage ciphertext", resp: func(r *ssotest.Response) {
			r.EncryptFor = f.spCert
			r.AfterSign = func(d *etree.Document) {
				setText(d.Root().FindElement("./EncryptedAssertion/EncryptedData/CipherData/CipherValue"), "AAAA")
			}
		}, want: saml.CheckDecryption},
		{name: "encrypted unsigned assertion in an unsigned response", resp: func(r *ssotest.Response) {
			r.EncryptFor, r.Sign = f.spCert, ssotest.SignNone
		}, want: saml.CheckSignature},

		// Encoding and XML.
		{name: "oversized", raw: func(t *testing.T, f *fixture) string {
			return f.response(t, nil) + strings.Repeat("\n", saml.DefaultMaxResponseSize)
		}, want: saml.CheckSize},
		{name: "over a custom size limit", cfg: func(c *saml.ValidatorConfig) { c.MaxResponseSize = 1024 }, want: saml.CheckSize},
		{name: "not base64", raw: func(*testing.T, *fixture) string { return "<samlp:Response/>" }, want: saml.CheckEncoding},
		{name: "not XML", raw: func(*testing.T, *fixture) string { return b64("<<<>>>not xml") }, want: saml.CheckXML},
		{name: "DTD with entity expansion", raw: func(*testing.T, *fixture) string {
			return b64(`<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>` +
				`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&b;</samlp:Response>`)
		}, want: saml.CheckXML},
		{name: "external entity", raw: func(*testing.T, *fixture) string {
			return b64(`<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&x;</samlp:Response>`)
		}, want: saml.CheckXML},
		{name: "deeply nested", raw: func(*testing.T, *fixture) string {
			return b64(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">` +
				strings.Repeat("<a>", 5000) + strings.Repeat("</a>", 5000) + `</samlp:Response>`)
		}, want: saml.CheckXML},
		{name: "round trip: colon in element name", raw: func(t *testing.T, f *fixture) string {
			return rewrite(t, f.response(t, nil), func(s string) string {
				return strings.Replace(s, "<saml:Subject>", "<saml:Subject><x:y:z xmlns:x=\"urn:x\"/>", 1)
			})
		}, want: saml.CheckXML},
		{name: "round trip: directive inside an element", raw: func(t *testing.T, f *fixture) string {
			return rewrite(t, f.response(t, nil), func(s string) string {
				return strings.Replace(s, "<saml:Subject>", "<saml:Subject><!x>", 1)
			})
		}, want: saml.CheckXML},
		{name: "round trip: namespace prefix on xmlns", raw: func(t *testing.T, f *fixture) string {
			return rewrite(t, f.response(t, nil), func(s string) string {
				return strings.Replace(s, "<saml:Subject>", `<saml:Subject><a xmlns:xmlns="urn:evil"/>`, 1)
			})
		}, want: saml.CheckXML},
		{name: "processing instruction inside", raw: func(t *testing.T, f *fixture) string {
			return rewrite(t, f.response(t, nil), func(s string) string {
				return strings.Replace(s, "<saml:Subject>", "<saml:Subject><?evil x?>", 1)
			})
		}, want: saml.CheckXML},
		{name: "root is not a Response", raw: func(*testing.T, *fixture) string {
			return b64(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="x" Version="2.0"/>`)
		}, want: saml.CheckSchema},
		{name: "Response in the wrong namespace", raw: func(t *testing.T, f *fixture) string {
			return rewrite(t, f.response(t, nil), func(s string) string {
				return strings.Replace(s, `xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"`, `xmlns:samlp="urn:evil"`, 1)
			})
		}, want: saml.CheckSchema},
		{name: "SAML 1.1 version", resp: func(r *ssotest.Response) {
			r.AfterSign = func(d *etree.Document) { d.Root().CreateAttr("Version", "1.1") }
		}, want: saml.CheckSchema},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := f.validator(t, tc.cfg)
			var posted string
			if tc.raw != nil {
				posted = tc.raw(t, f)
			} else {
				posted = f.response(t, tc.resp)
			}
			reqs := tc.requests
			if reqs == nil {
				reqs = []string{testRequestID}
			}
			a, err := v.Validate(posted, reqs...)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Validate() err = %v; want %v", err, tc.want)
			}
			if a != nil {
				t.Errorf("Validate() returned an assertion with error %v", err)
			}
			var ve *saml.ValidationError
			if !errors.As(err, &ve) || ve.Check != tc.want || !errors.Is(err, saml.ErrInvalidResponse) {
				t.Errorf("Validate() err = %#v; want a *ValidationError with Check %q wrapping ErrInvalidResponse", err, tc.want)
			}
		})
	}
	t.Logf("%d adversarial cases", len(cases))
}

// TestValidateAccepts is the valid side of the table: every sign mode,
// encryption, algorithm choices, rotation and IdP-initiated opt-in.
func TestValidateAccepts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rotated := newFixture(t)
	rotated.idp = mustIdP(t, loadKey(t, "attacker.key.pem"))
	cases := []struct {
		name     string
		resp     func(*ssotest.Response)
		cfg      func(*saml.ValidatorConfig)
		requests []string
	}{
		{name: "assertion signed"},
		{name: "response signed", resp: func(r *ssotest.Response) { r.Sign = ssotest.SignResponse }},
		{name: "both signed", resp: func(r *ssotest.Response) { r.Sign = ssotest.SignBoth }},
		{name: "no KeyInfo", resp: func(r *ssotest.Response) { r.OmitKeyInfo = true }},
		{name: "rsa-sha512", resp: func(r *ssotest.Response) { r.SignatureMethod, r.DigestMethod = saml.AlgRSASHA512, saml.DigestSHA512 }},
		{name: "SHA-1 when the organization chose it", cfg: func(c *saml.ValidatorConfig) { c.IdP.SignatureAlgorithm = saml.AlgRSASHA1 },
			resp: func(r *ssotest.Response) { r.SignatureMethod, r.DigestMethod = saml.AlgRSASHA1, saml.DigestSHA1 }},
		{name: "encrypted, assertion signed", resp: func(r *ssotest.Response) { r.EncryptFor = f.spCert }},
		{name: "encrypted aes128-cbc, response signed", resp: func(r *ssotest.Response) {
			r.EncryptFor, r.EncryptionMethod, r.Sign = f.spCert, ssotest.EncryptionAES128CBC, ssotest.SignResponse
		}},
		{name: "IdP-initiated when allowed", cfg: func(c *saml.ValidatorConfig) { c.AllowIdPInitiated = true },
			resp: func(r *ssotest.Response) { r.InResponseTo = "" }},
		{name: "one of several pending requests", requests: []string{"id-a", testRequestID, "id-b"}},
		{name: "no Destination", resp: func(r *ssotest.Response) { r.OmitDestination = true }},
		{name: "within clock skew", resp: func(r *ssotest.Response) { r.NotBefore = testNow.Add(2 * time.Minute) }},
		{name: "second certificate during rotation", cfg: func(c *saml.ValidatorConfig) {
			c.IdP.Certificates = []string{f.idp.CertificatePEM(), rotated.idp.CertificatePEM()}
		}, resp: func(r *ssotest.Response) {
			r.SigningKey, r.SigningCert = loadKey(t, "attacker.key.pem"), rotated.idp.Certificate()
		}},
		{name: "rotation without KeyInfo", cfg: func(c *saml.ValidatorConfig) {
			c.IdP.Certificates = []string{rotated.idp.CertificatePEM(), f.idp.CertificatePEM()}
		}, resp: func(r *ssotest.Response) { r.OmitKeyInfo = true }},
		{name: "base64 with line breaks", resp: nil},
	}
	var checked readSignedCount
	t.Cleanup(func() { t.Logf("read == signed held on ssotest variants: %v", &checked) })
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := f.validator(t, tc.cfg)
			posted := f.response(t, tc.resp)
			if tc.name == "base64 with line breaks" {
				posted = wrapLines(posted, 76)
			}
			reqs := tc.requests
			if reqs == nil {
				reqs = []string{testRequestID}
			}
			a, err := validateReadSigned(t, &checked, v, posted, reqs...)
			if err != nil {
				t.Fatalf("Validate() err = %v; want nil", err)
			}
			if a.NameID != alice.Email || a.Issuer != f.idp.EntityID() {
				t.Errorf("Validate() NameID, Issuer = %q, %q; want %q, %q", a.NameID, a.Issuer, alice.Email, f.idp.EntityID())
			}
			if got := strings.Join(a.Attributes["roles"], ","); got != strings.Join(alice.Roles, ",") {
				t.Errorf("Validate() roles = %q; want %q", got, strings.Join(alice.Roles, ","))
			}
			if a.NotOnOrAfter.IsZero() || a.ID == "" {
				t.Errorf("Validate() = %+v; want ID and NotOnOrAfter", a)
			}
		})
	}
}

func mustIdP(t *testing.T, key *rsa.PrivateKey) *ssotest.IdP {
	t.Helper()
	idp, err := ssotest.New(ssotest.Config{Now: func() time.Time { return testNow }, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return idp
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func wrapLines(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n])
		b.WriteString("\r\n")
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}

// rewrite decodes a posted response, edits its XML text and encodes it again.
func rewrite(t *testing.T, posted string, edit func(string) string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(posted)
	if err != nil {
		t.Fatal(err)
	}
	out := edit(string(raw))
	if out == string(raw) {
		t.Fatal("rewrite changed nothing")
	}
	return b64(out)
}

func setText(el *etree.Element, s string) {
	if el == nil {
		panic("setText: element not found")
	}
	el.SetText(s)
}

func removeAll(el *etree.Element, tag string) {
	for _, c := range el.SelectElements(tag) {
		el.RemoveChild(c)
	}
}

// evilAssertion is a copy of orig naming mallory, keeping orig's ID; with
// keepSig it keeps orig's (now non-matching) signature.
func evilAssertion(orig *etree.Element, keepSig bool) *etree.Element {
	evil := orig.Copy()
	if !keepSig {
		removeAll(evil, "Signature")
	}
	setText(evil.FindElement("./Subject/NameID"), "mallory@acme.example")
	return evil
}

// xswResponse wraps a signed Response: the original goes inside the signature
// (XSW1) or before it (XSW2); the outer Response gets a new ID and an evil
// NameID.
func xswResponse(d *etree.Document, inSignature bool) {
	root := d.Root()
	orig := root.Copy()
	root.CreateAttr("ID", "_evil")
	setText(root.FindElement("./Assertion/Subject/NameID"), "mallory@acme.example")
	sig := root.FindElement("./Signature")
	if inSignature {
		sig.CreateElement("ds:Object").AddChild(orig)
	} else {
		root.InsertChildAt(sig.Index(), orig)
	}
}
