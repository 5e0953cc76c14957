package saml_test

import (
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// Attribute shadowing (issue 9): exclusive C14N drops a namespace
// declaration nothing uses, so xmlns:Name="email" can be added to a signed
// element without breaking its signature. A prefix-blind reader (etree's
// SelectAttr) read it as the attribute Name. Every attribute the Validator
// reads is shadowed here, on the element that carries it, in every sign mode.

// shadowMode is a way an IdP signs (and encrypts) a response.
type shadowMode struct {
	name    string
	sign    ssotest.SignMode
	encrypt string // data encryption URI; "" = not encrypted
}

var shadowModes = []shadowMode{
	{name: "SignAssertion", sign: ssotest.SignAssertion},
	{name: "SignResponse", sign: ssotest.SignResponse},
	{name: "SignBoth", sign: ssotest.SignBoth},
	{name: "encrypted SignAssertion GCM", sign: ssotest.SignAssertion, encrypt: ssotest.EncryptionAES256GCM},
	{name: "encrypted SignResponse CBC", sign: ssotest.SignResponse, encrypt: ssotest.EncryptionAES128CBC},
	{name: "encrypted SignBoth GCM", sign: ssotest.SignBoth, encrypt: ssotest.EncryptionAES128GCM},
}

func (m shadowMode) signsAssertion() bool {
	return m.sign == ssotest.SignAssertion || m.sign == ssotest.SignBoth
}

func (m shadowMode) signsResponse() bool {
	return m.sign == ssotest.SignResponse || m.sign == ssotest.SignBoth
}

// shadowTarget is one attribute the Validator reads, on the element that
// carries it: path is relative to the Assertion (inAssertion) or to the
// Response.
type shadowTarget struct {
	inAssertion bool
	path        string
	attr        string
	evil        string // what an attacker would like read instead
	needs       string // "assertion" or "response": only when that element is signed
}

const (
	inclusiveC14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
	sha1Digest    = "http://www.w3.org/2000/09/xmldsig#sha1"
	rsaSHA1       = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
	farFuture     = "2099-01-01T00:00:00Z"
	statusFailed  = ssotest.StatusResponder
)

// signatureTargets are the attributes read from one ds:Signature.
func signatureTargets(inAssertion bool, sig, needs string) []shadowTarget {
	si := sig + "/SignedInfo"
	return []shadowTarget{
		{inAssertion, si + "/CanonicalizationMethod", "Algorithm", inclusiveC14N, needs},
		{inAssertion, si + "/SignatureMethod", "Algorithm", rsaSHA1, needs},
		{inAssertion, si + "/Reference", "URI", "#_evil", needs},
		{inAssertion, si + "/Reference/Transforms/Transform[1]", "Algorithm", inclusiveC14N, needs},
		{inAssertion, si + "/Reference/Transforms/Transform[2]", "Algorithm", inclusiveC14N, needs},
		{inAssertion, si + "/Reference/DigestMethod", "Algorithm", sha1Digest, needs},
	}
}

func shadowTargets() []shadowTarget {
	out := []shadowTarget{
		// The Response.
		{path: ".", attr: "ID", evil: "_evil_response"},
		{path: ".", attr: "Version", evil: "1.1"},
		{path: ".", attr: "Destination", evil: "https://evil.example/acs"},
		{path: ".", attr: "InResponseTo", evil: "id-evil"},
		{path: "./Issuer", attr: "Format", evil: "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"},
		{path: "./Status/StatusCode", attr: "Value", evil: statusFailed},

		// The Assertion.
		{inAssertion: true, path: ".", attr: "ID", evil: "_evil_assertion"},
		{inAssertion: true, path: ".", attr: "Version", evil: "1.1"},
		{inAssertion: true, path: "./Issuer", attr: "Format", evil: "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"},
		{inAssertion: true, path: "./Subject/NameID", attr: "Format", evil: "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"},
		{inAssertion: true, path: "./Subject/NameID", attr: "SPNameQualifier", evil: "https://other.example/sp"},
		{inAssertion: true, path: "./Subject/SubjectConfirmation", attr: "Method", evil: "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"},
		{inAssertion: true, path: "./Subject/SubjectConfirmation/SubjectConfirmationData", attr: "NotOnOrAfter", evil: farFuture},
		{inAssertion: true, path: "./Subject/SubjectConfirmation/SubjectConfirmationData", attr: "NotBefore", evil: farFuture},
		{inAssertion: true, path: "./Subject/SubjectConfirmation/SubjectConfirmationData", attr: "InResponseTo", evil: "id-evil"},
		{inAssertion: true, path: "./Subject/SubjectConfirmation/SubjectConfirmationData", attr: "Recipient", evil: "https://evil.example/acs"},
		{inAssertion: true, path: "./Conditions", attr: "NotOnOrAfter", evil: farFuture},
		{inAssertion: true, path: "./Conditions", attr: "NotBefore", evil: farFuture},
		{inAssertion: true, path: "./AuthnStatement", attr: "SessionIndex", evil: "evil-session"},
		{inAssertion: true, path: "./AuthnStatement", attr: "SessionNotOnOrAfter", evil: "2000-01-01T00:00:00Z"},
		{inAssertion: true, path: "./AttributeStatement/Attribute[@Name='last_name']", attr: "Name", evil: "email"},
		{inAssertion: true, path: "./AttributeStatement/Attribute[@Name='first_name']", attr: "Name", evil: "roles"},
		{inAssertion: true, path: "./AttributeStatement/Attribute[@Name='email']", attr: "Name", evil: "nickname"},
	}
	out = append(out, signatureTargets(true, "./Signature", "assertion")...)
	return append(out, signatureTargets(false, "./Signature", "response")...)
}

// applies reports whether t exists in mode m.
func (t shadowTarget) applies(m shadowMode) bool {
	switch t.needs {
	case "assertion":
		return m.signsAssertion()
	case "response":
		return m.signsResponse()
	}
	return true
}

// shadow puts the declaration xmlns:attr="value" first on el, before the
// attribute it shadows (a first-match reader would find it first).
func shadow(el *etree.Element, attr, value string) {
	if el == nil {
		panic("shadow: element not found")
	}
	el.CreateAttr("xmlns:"+attr, value)
	n := len(el.Attr)
	el.Attr = append([]etree.Attr{el.Attr[n-1]}, el.Attr[:n-1]...)
}

func find(el *etree.Element, path string) *etree.Element {
	if path == "." {
		return el
	}
	return el.FindElement(path)
}

// modeResponse sets the knobs of mode m (encrypting for spCert) and, with
// edit, a change made after signing: to the Response (inAssertion false,
// after all signing and encryption) or to the signed Assertion (before it is
// encrypted). An AfterSign already set runs first.
func modeResponse(m shadowMode, spCert *x509.Certificate, inAssertion bool, edit func(*etree.Element)) func(*ssotest.Response) {
	return func(r *ssotest.Response) {
		r.Sign = m.sign
		r.ResponseID, r.AssertionID = "_shadow_response", "_shadow_assertion"
		if m.encrypt != "" {
			r.EncryptFor, r.EncryptionMethod = spCert, m.encrypt
		}
		if edit == nil {
			return
		}
		if inAssertion && m.encrypt != "" {
			r.BeforeEncrypt = edit
			return
		}
		prior := r.AfterSign
		r.AfterSign = func(d *etree.Document) {
			if prior != nil {
				prior(d)
			}
			if inAssertion {
				edit(d.Root().FindElement("./Assertion"))
			} else {
				edit(d.Root())
			}
		}
	}
}

// TestValidateShadowedAttributes: for every attribute the Validator reads,
// a declaration named like it (with the value an attacker wants, or an
// absolute URI) added after signing leaves the assertion read unchanged.
func TestValidateShadowedAttributes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	v := f.validator(t, nil)
	n := 0
	for _, m := range shadowModes {
		base, err := v.Validate(f.response(t, modeResponse(m, f.spCert, false, nil)), testRequestID)
		require.NoError(t, err, "%s: unmodified response", m.name)
		for _, tg := range shadowTargets() {
			if !tg.applies(m) {
				continue
			}
			for _, evil := range []string{tg.evil, "urn:evil:" + tg.attr, "https://evil.example/ns/" + tg.attr} {
				n++
				where := "Response"
				if tg.inAssertion {
					where = "Assertion"
				}
				name := m.name + "/" + where + "/" + strings.TrimPrefix(tg.path, "./") + "/xmlns:" + tg.attr + "=" + evil
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					posted := f.response(t, modeResponse(m, f.spCert, tg.inAssertion, func(el *etree.Element) {
						shadow(find(el, tg.path), tg.attr, evil)
					}))
					got, err := v.Validate(posted, testRequestID)
					require.NoError(t, err, "a shadowing declaration must not change the verdict")
					assert.Equal(t, base, got, "the assertion read changed")
				})
			}
		}
	}
	t.Logf("%d shadowing cases", n)
}

// TestValidateShadowingRescuesNothing: a response refused for a value is
// still refused, with the same check, when a declaration named like the
// attribute carries the value that would pass.
func TestValidateShadowingRescuesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	v := f.validator(t, nil)
	acs, entity := f.sp.ACSURL, f.sp.EntityID
	past := testNow.Add(-10 * time.Minute)
	cases := []struct {
		name        string
		knob        func(*ssotest.Response)
		inAssertion bool
		path, attr  string
		good        string
		needs       string
		want        saml.Check
	}{
		{name: "failed status shadowed by Success", knob: func(r *ssotest.Response) { r.StatusCode = statusFailed },
			path: "./Status/StatusCode", attr: "Value", good: ssotest.StatusSuccess, want: saml.CheckStatus},
		{name: "wrong Destination shadowed by ours", knob: func(r *ssotest.Response) { r.Destination = "https://evil.example/acs" },
			path: ".", attr: "Destination", good: acs, want: saml.CheckDestination},
		{name: "wrong Recipient shadowed by ours", knob: func(r *ssotest.Response) { r.Recipient = "https://evil.example/acs" },
			inAssertion: true, path: "./Subject/SubjectConfirmation/SubjectConfirmationData", attr: "Recipient", good: acs, want: saml.CheckRecipient},
		{name: "unknown request shadowed by a pending one", knob: func(r *ssotest.Response) { r.InResponseTo = "id-not-pending" },
			inAssertion: true, path: "./Subject/SubjectConfirmation/SubjectConfirmationData", attr: "InResponseTo", good: testRequestID, want: saml.CheckInResponseTo},
		{name: "expired SubjectConfirmationData shadowed by the future", knob: func(r *ssotest.Response) { r.SubjectNotOnOrAfter = past },
			inAssertion: true, path: "./Subject/SubjectConfirmation/SubjectConfirmationData", attr: "NotOnOrAfter", good: farFuture, want: saml.CheckExpired},
		{name: "expired Conditions shadowed by the future", knob: func(r *ssotest.Response) { r.NotOnOrAfter = past },
			inAssertion: true, path: "./Conditions", attr: "NotOnOrAfter", good: farFuture, want: saml.CheckExpired},
		{name: "future NotBefore shadowed by the past", knob: func(r *ssotest.Response) { r.NotBefore = testNow.Add(time.Hour) },
			inAssertion: true, path: "./Conditions", attr: "NotBefore", good: "2000-01-01T00:00:00Z", want: saml.CheckNotYetValid},
		{name: "holder-of-key shadowed by bearer", knob: func(r *ssotest.Response) {
			r.SubjectConfirmationMethod = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"
		}, inAssertion: true, path: "./Subject/SubjectConfirmation", attr: "Method", good: "urn:oasis:names:tc:SAML:2.0:cm:bearer", want: saml.CheckSubject},
		{name: "foreign SPNameQualifier shadowed by ours", knob: func(r *ssotest.Response) {
			r.BeforeSign = func(d *etree.Document) {
				d.Root().FindElement("./Assertion/Subject/NameID").CreateAttr("SPNameQualifier", "https://other.example/sp")
			}
		}, inAssertion: true, path: "./Subject/NameID", attr: "SPNameQualifier", good: entity, want: saml.CheckSubject},
		{name: "expired session shadowed by the future", knob: func(r *ssotest.Response) {
			r.BeforeSign = func(d *etree.Document) {
				d.Root().FindElement("./Assertion/AuthnStatement").CreateAttr("SessionNotOnOrAfter", past.Format(time.RFC3339))
			}
		}, inAssertion: true, path: "./AuthnStatement", attr: "SessionNotOnOrAfter", good: farFuture, want: saml.CheckExpired},
		{name: "SAML 1.1 assertion shadowed by 2.0", knob: func(r *ssotest.Response) {
			r.BeforeSign = func(d *etree.Document) { d.Root().FindElement("./Assertion").CreateAttr("Version", "1.1") }
		}, inAssertion: true, path: ".", attr: "Version", good: "2.0", want: saml.CheckSchema},
		{name: "SAML 1.1 response shadowed by 2.0", knob: func(r *ssotest.Response) {
			r.BeforeSign = func(d *etree.Document) { d.Root().CreateAttr("Version", "1.1") }
		}, path: ".", attr: "Version", good: "2.0", want: saml.CheckSchema},
		{name: "rsa-sha1 signature shadowed by rsa-sha256", knob: func(r *ssotest.Response) { r.SignatureMethod = saml.AlgRSASHA1 },
			inAssertion: true, path: "./Signature/SignedInfo/SignatureMethod", attr: "Algorithm", good: saml.AlgRSASHA256, needs: "assertion", want: saml.CheckAlgorithm},
		{name: "sha1 digest shadowed by sha256", knob: func(r *ssotest.Response) { r.DigestMethod = saml.DigestSHA1 },
			inAssertion: true, path: "./Signature/SignedInfo/Reference/DigestMethod", attr: "Algorithm", good: saml.DigestSHA256, needs: "assertion", want: saml.CheckAlgorithm},
		{name: "rsa-sha1 response signature shadowed by rsa-sha256", knob: func(r *ssotest.Response) { r.SignatureMethod = saml.AlgRSASHA1 },
			path: "./Signature/SignedInfo/SignatureMethod", attr: "Algorithm", good: saml.AlgRSASHA256, needs: "response", want: saml.CheckAlgorithm},
	}
	n := 0
	for _, tc := range cases {
		for _, m := range shadowModes {
			if !(shadowTarget{needs: tc.needs}).applies(m) {
				continue
			}
			n++
			t.Run(tc.name+"/"+m.name, func(t *testing.T) {
				t.Parallel()
				posted := f.response(t, func(r *ssotest.Response) {
					tc.knob(r)
					modeResponse(m, f.spCert, tc.inAssertion, func(el *etree.Element) {
						shadow(find(el, tc.path), tc.attr, tc.good)
					})(r)
				})
				a, err := v.Validate(posted, testRequestID)
				if !errors.Is(err, tc.want) {
					t.Fatalf("Validate() err = %v; want %v", err, tc.want)
				}
				assert.Nil(t, a)
			})
		}
	}
	t.Logf("%d cases", n)
}
