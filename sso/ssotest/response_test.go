package ssotest_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
)

func TestNew(t *testing.T) {
	idp := newIdP(t)
	cfg := idp.IdPConfig()
	if cfg.EntityID != ssotest.DefaultEntityID || cfg.SSOURL != ssotest.DefaultSSOURL {
		t.Errorf("IdPConfig() = %q, %q; want the defaults", cfg.EntityID, cfg.SSOURL)
	}
	if len(cfg.Certificates) != 1 || cfg.Certificates[0] != idp.CertificatePEM() {
		t.Errorf("IdPConfig().Certificates = %q; want [CertificatePEM()]", cfg.Certificates)
	}
	if err := cfg.ValidateAt(t0); err != nil {
		t.Errorf("IdPConfig().ValidateAt(t0) err = %v; want nil", err)
	}
	c := idp.Certificate()
	if want := t0.Add(-time.Hour); !c.NotBefore.Equal(want) {
		t.Errorf("certificate NotBefore = %v; want %v", c.NotBefore, want)
	}
	if want := t0.Add(10 * 365 * 24 * time.Hour); !c.NotAfter.Equal(want) {
		t.Errorf("certificate NotAfter = %v; want %v", c.NotAfter, want)
	}
	if err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
		t.Errorf("certificate is not self-signed: %v", err)
	}
}

func TestNewGeneratesKey(t *testing.T) {
	idp, err := ssotest.New(ssotest.Config{Now: fixedNow})
	if err != nil {
		t.Fatalf("New() err = %v", err)
	}
	doc := build(t, idp, ssotest.Response{SP: testSP, User: testUser})
	if err := verify(assertionOf(doc), idp.Certificate()); err != nil {
		t.Errorf("signature with the generated key does not verify: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		cfg       ssotest.Config
		wantField string
	}{
		{"relative SSO URL", ssotest.Config{SSOURL: "/sso", Key: idpKey()}, "SSOURL"},
		{"unparsable SSO URL", ssotest.Config{SSOURL: "http://[::1", Key: idpKey()}, "SSOURL"},
		{"ECDSA key", ssotest.Config{Key: ecKey}, "Key"},
		{"failing Rand", ssotest.Config{Key: idpKey(), Rand: bytes.NewReader(nil)}, "Key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ssotest.New(tt.cfg)
			if !errors.Is(err, sso.ErrInvalidConfig) {
				t.Fatalf("New() err = %v; want %v", err, sso.ErrInvalidConfig)
			}
			var ce *sso.ConfigError
			if !errors.As(err, &ce) || ce.Field != tt.wantField {
				t.Errorf("New() err = %v; want a *sso.ConfigError for %s", err, tt.wantField)
			}
		})
	}
}

func TestDefaultResponse(t *testing.T) {
	idp := newIdP(t)
	doc := build(t, idp, ssotest.Response{SP: testSP, InResponseTo: "id-req1", User: testUser})
	root := doc.Root()

	if root.Tag != "Response" || root.NamespaceURI() != nsP {
		t.Fatalf("root = {%s}%s; want {%s}Response", root.NamespaceURI(), root.Tag, nsP)
	}
	assertions := root.SelectElements("Assertion")
	if len(assertions) != 1 {
		t.Fatalf("%d assertions; want 1", len(assertions))
	}
	a := assertions[0]
	if a.NamespaceURI() != nsA {
		t.Errorf("Assertion namespace = %q; want %q", a.NamespaceURI(), nsA)
	}
	if got, _ := attr(a, "xmlns:saml"); got != nsA {
		t.Errorf("Assertion does not declare its own namespace (xmlns:saml = %q)", got)
	}

	const (
		issue = "2024-05-01T12:00:00Z"
		plus5 = "2024-05-01T12:05:00Z"
		minus = "2024-05-01T11:55:00Z"
	)
	scd := path(a, nsA, "Subject", nsA, "SubjectConfirmation", nsA, "SubjectConfirmationData")
	cond := child(a, nsA, "Conditions")
	authn := child(a, nsA, "AuthnStatement")
	nameID := path(a, nsA, "Subject", nsA, "NameID")
	checks := []struct {
		what string
		el   *etree.Element
		key  string // attribute; "" = text
		want string
	}{
		{"Response Version", root, "Version", "2.0"},
		{"Response IssueInstant", root, "IssueInstant", issue},
		{"Response Destination", root, "Destination", testSP.ACSURL},
		{"Response InResponseTo", root, "InResponseTo", "id-req1"},
		{"Response Issuer", child(root, nsA, "Issuer"), "", ssotest.DefaultEntityID},
		{"StatusCode", path(root, nsP, "Status", nsP, "StatusCode"), "Value", ssotest.StatusSuccess},
		{"Assertion Version", a, "Version", "2.0"},
		{"Assertion IssueInstant", a, "IssueInstant", issue},
		{"Assertion Issuer", child(a, nsA, "Issuer"), "", ssotest.DefaultEntityID},
		{"Assertion Issuer Format", child(a, nsA, "Issuer"), "Format", "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"},
		{"NameID", nameID, "", testUser.Email},
		{"NameID Format", nameID, "Format", saml.NameIDFormatEmail},
		{"SubjectConfirmation Method", path(a, nsA, "Subject", nsA, "SubjectConfirmation"), "Method", "urn:oasis:names:tc:SAML:2.0:cm:bearer"},
		{"Recipient", scd, "Recipient", testSP.ACSURL},
		{"SubjectConfirmationData InResponseTo", scd, "InResponseTo", "id-req1"},
		{"SubjectConfirmationData NotOnOrAfter", scd, "NotOnOrAfter", plus5},
		{"Conditions NotBefore", cond, "NotBefore", minus},
		{"Conditions NotOnOrAfter", cond, "NotOnOrAfter", plus5},
		{"Audience", path(cond, nsA, "AudienceRestriction", nsA, "Audience"), "", testSP.EntityID},
		{"AuthnInstant", authn, "AuthnInstant", issue},
		{"SessionIndex", authn, "SessionIndex", a.SelectAttrValue("ID", "?")},
	}
	for _, c := range checks {
		var got string
		var ok bool
		if c.key == "" {
			ok = c.el != nil
			if ok {
				got = c.el.Text()
			}
		} else {
			got, ok = attr(c.el, c.key)
		}
		if !ok || got != c.want {
			t.Errorf("%s = %q (present %t); want %q", c.what, got, ok, c.want)
		}
	}

	for _, id := range []string{root.SelectAttrValue("ID", ""), a.SelectAttrValue("ID", "")} {
		if len(id) != 33 || id[0] != '_' {
			t.Errorf("ID %q; want _ and 32 hex digits", id)
		}
	}
	if root.SelectAttrValue("ID", "") == a.SelectAttrValue("ID", "") {
		t.Error("Response and Assertion share an ID")
	}

	gotAttrs := map[string][]string{}
	var order []string
	for _, at := range path(a, nsA, "AttributeStatement").SelectElements("Attribute") {
		name := at.SelectAttrValue("Name", "")
		order = append(order, name)
		for _, v := range at.SelectElements("AttributeValue") {
			gotAttrs[name] = append(gotAttrs[name], v.Text())
			if typ := v.SelectAttrValue("xsi:type", ""); typ != "xs:string" {
				t.Errorf("AttributeValue xsi:type = %q; want xs:string", typ)
			}
		}
	}
	if want := []string{"email", "first_name", "last_name", "roles"}; !slices.Equal(order, want) {
		t.Errorf("attributes %q; want %q", order, want)
	}
	if got := gotAttrs["roles"]; !slices.Equal(got, testUser.Roles) {
		t.Errorf("roles = %q; want %q", got, testUser.Roles)
	}
	if got := gotAttrs["first_name"]; !slices.Equal(got, []string{"Ada"}) {
		t.Errorf("first_name = %q; want [Ada]", got)
	}
}

func TestIdPInitiatedOmitsInResponseTo(t *testing.T) {
	doc := build(t, newIdP(t), ssotest.Response{SP: testSP, User: testUser})
	scd := path(assertionOf(doc), nsA, "Subject", nsA, "SubjectConfirmation", nsA, "SubjectConfirmationData")
	if _, ok := attr(doc.Root(), "InResponseTo"); ok {
		t.Error("Response has InResponseTo; want none")
	}
	if _, ok := attr(scd, "InResponseTo"); ok {
		t.Error("SubjectConfirmationData has InResponseTo; want none")
	}
}

func TestAttributes(t *testing.T) {
	tests := []struct {
		name  string
		user  ssotest.User
		names []string
		want  map[string][]string
	}{
		{
			name:  "email only",
			user:  ssotest.User{Email: "a@example.com"},
			names: []string{"email"},
			want:  map[string][]string{"email": {"a@example.com"}},
		},
		{
			name: "extras sorted after the standard ones, overriding one",
			user: ssotest.User{
				Email: "a@example.com", FirstName: "A", Roles: []string{"x"},
				Attributes: map[string][]string{"zeta": {"z"}, "alpha": {"1", "2"}, "roles": {"x,y"}},
			},
			names: []string{"email", "first_name", "roles", "alpha", "zeta"},
			want: map[string][]string{
				"email": {"a@example.com"}, "first_name": {"A"}, "roles": {"x,y"},
				"alpha": {"1", "2"}, "zeta": {"z"},
			},
		},
		{
			name:  "NameID without email: no attributes",
			user:  ssotest.User{NameID: "00u1"},
			names: nil,
			want:  map[string][]string{},
		},
		{
			name:  "attribute with no values",
			user:  ssotest.User{NameID: "00u1", Attributes: map[string][]string{"groups": nil}},
			names: []string{"groups"},
			want:  map[string][]string{},
		},
	}
	idp := newIdP(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := assertionOf(build(t, idp, ssotest.Response{SP: testSP, User: tt.user}))
			var names []string
			got := map[string][]string{}
			if st := child(a, nsA, "AttributeStatement"); st != nil {
				for _, at := range st.SelectElements("Attribute") {
					name := at.SelectAttrValue("Name", "")
					names = append(names, name)
					for _, v := range at.SelectElements("AttributeValue") {
						got[name] = append(got[name], v.Text())
					}
				}
			}
			if !slices.Equal(names, tt.names) {
				t.Errorf("attribute names = %q; want %q", names, tt.names)
			}
			for k, v := range tt.want {
				if !slices.Equal(got[k], v) {
					t.Errorf("%s = %q; want %q", k, got[k], v)
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("attributes with values = %v; want %v", got, tt.want)
			}
			nameID := path(a, nsA, "Subject", nsA, "NameID").Text()
			if want := tt.user.NameID; want != "" && nameID != want {
				t.Errorf("NameID = %q; want %q", nameID, want)
			}
		})
	}
}

// TestKnobs checks that each knob changes what it says, and only that.
func TestKnobs(t *testing.T) {
	later := t0.Add(time.Hour)
	tests := []struct {
		name  string
		r     ssotest.Response
		where func(doc *etree.Document) *etree.Element
		key   string // attribute; "" = text
		want  string // "" with absent = true: the item is absent
		gone  bool
	}{
		{"Issuer", ssotest.Response{Issuer: "evil"}, respIssuer, "", "evil", false},
		{"OmitIssuer", ssotest.Response{OmitIssuer: true}, respIssuer, "", "", true},
		{"AssertionIssuer", ssotest.Response{AssertionIssuer: "evil"}, asrtIssuer, "", "evil", false},
		{"Audience", ssotest.Response{Audience: "https://other"}, audience, "", "https://other", false},
		{"OmitAudience", ssotest.Response{OmitAudience: true}, audience, "", "", true},
		{"Destination", ssotest.Response{Destination: "https://other/acs"}, rootEl, "Destination", "https://other/acs", false},
		{"OmitDestination", ssotest.Response{OmitDestination: true}, rootEl, "Destination", "", true},
		{"Recipient", ssotest.Response{Recipient: "https://other/acs"}, scd, "Recipient", "https://other/acs", false},
		{"OmitRecipient", ssotest.Response{OmitRecipient: true}, scd, "Recipient", "", true},
		{"OmitSubjectConfirmation", ssotest.Response{OmitSubjectConfirmation: true}, scd, "", "", true},
		{"SubjectConfirmationMethod", ssotest.Response{SubjectConfirmationMethod: "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"}, subjConf, "Method", "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key", false},
		{"OmitNameID", ssotest.Response{OmitNameID: true}, nameID, "", "", true},
		{"NameIDFormat", ssotest.Response{NameIDFormat: "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"}, nameID, "Format", "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent", false},
		{"IssueInstant moves the defaults", ssotest.Response{IssueInstant: later}, conditions, "NotOnOrAfter", "2024-05-01T13:05:00Z", false},
		{"NotBefore", ssotest.Response{NotBefore: later}, conditions, "NotBefore", "2024-05-01T13:00:00Z", false},
		{"NotOnOrAfter", ssotest.Response{NotOnOrAfter: t0}, conditions, "NotOnOrAfter", "2024-05-01T12:00:00Z", false},
		{"NotOnOrAfter fraction", ssotest.Response{NotOnOrAfter: t0.Add(1500 * time.Millisecond)}, conditions, "NotOnOrAfter", "2024-05-01T12:00:01.5Z", false},
		{"SubjectNotOnOrAfter", ssotest.Response{SubjectNotOnOrAfter: t0}, scd, "NotOnOrAfter", "2024-05-01T12:00:00Z", false},
		{"StatusCode", ssotest.Response{StatusCode: ssotest.StatusResponder}, statusCode, "Value", ssotest.StatusResponder, false},
		{"ResponseID", ssotest.Response{ResponseID: "_r1"}, rootEl, "ID", "_r1", false},
		{"AssertionID", ssotest.Response{AssertionID: "_a1"}, assertionOf, "ID", "_a1", false},
		{"SessionIndex", ssotest.Response{SessionIndex: "s1"}, authnStatement, "SessionIndex", "s1", false},
		{"InResponseTo on the Response", ssotest.Response{InResponseTo: "id-x"}, rootEl, "InResponseTo", "id-x", false},
		{"InResponseTo on the confirmation", ssotest.Response{InResponseTo: "id-x"}, scd, "InResponseTo", "id-x", false},
	}
	idp := newIdP(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.r
			r.SP, r.User = testSP, testUser
			doc := build(t, idp, r)
			el := tt.where(doc)
			var got string
			var present bool
			if tt.key == "" {
				if present = el != nil; present {
					got = el.Text()
				}
			} else {
				got, present = attr(el, tt.key)
			}
			switch {
			case tt.gone && present:
				t.Errorf("%s present (%q); want it omitted", tt.name, got)
			case !tt.gone && got != tt.want:
				t.Errorf("got %q (present %t); want %q", got, present, tt.want)
			}
			// The assertion signature still holds: the knob broke nothing else.
			if err := verify(assertionOf(doc), idp.Certificate()); err != nil {
				t.Errorf("assertion signature does not verify: %v", err)
			}
		})
	}
}

func rootEl(doc *etree.Document) *etree.Element { return doc.Root() }
func respIssuer(doc *etree.Document) *etree.Element {
	return child(doc.Root(), nsA, "Issuer")
}
func asrtIssuer(doc *etree.Document) *etree.Element { return child(assertionOf(doc), nsA, "Issuer") }
func conditions(doc *etree.Document) *etree.Element {
	return child(assertionOf(doc), nsA, "Conditions")
}
func audience(doc *etree.Document) *etree.Element {
	return path(conditions(doc), nsA, "AudienceRestriction", nsA, "Audience")
}
func subjConf(doc *etree.Document) *etree.Element {
	return path(assertionOf(doc), nsA, "Subject", nsA, "SubjectConfirmation")
}
func scd(doc *etree.Document) *etree.Element {
	return child(subjConf(doc), nsA, "SubjectConfirmationData")
}
func nameID(doc *etree.Document) *etree.Element {
	return path(assertionOf(doc), nsA, "Subject", nsA, "NameID")
}
func statusCode(doc *etree.Document) *etree.Element {
	return path(doc.Root(), nsP, "Status", nsP, "StatusCode")
}
func authnStatement(doc *etree.Document) *etree.Element {
	return child(assertionOf(doc), nsA, "AuthnStatement")
}

func TestBuildResponseErrors(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		r         ssotest.Response
		wantField string
	}{
		{"no SP entity ID", ssotest.Response{SP: sso.SPDetails{ACSURL: testSP.ACSURL}, User: testUser}, "Response.SP.EntityID"},
		{"no ACS URL", ssotest.Response{SP: sso.SPDetails{EntityID: testSP.EntityID}, User: testUser}, "Response.SP.ACSURL"},
		{"no ACS URL, Destination omitted", ssotest.Response{SP: sso.SPDetails{EntityID: testSP.EntityID}, User: testUser, OmitDestination: true}, "Response.SP.ACSURL"},
		{"no user", ssotest.Response{SP: testSP}, "Response.User"},
		{"unknown sign mode", ssotest.Response{SP: testSP, User: testUser, Sign: ssotest.SignNone + 1}, "Response.Sign"},
		{"negative sign mode", ssotest.Response{SP: testSP, User: testUser, Sign: -1}, "Response.Sign"},
		{"unknown signature method", ssotest.Response{SP: testSP, User: testUser, SignatureMethod: "urn:x"}, "Response.SignatureMethod"},
		{"ECDSA method with RSA key", ssotest.Response{SP: testSP, User: testUser, SignatureMethod: saml.AlgECDSASHA256}, "Response.SignatureMethod"},
		{"unknown digest", ssotest.Response{SP: testSP, User: testUser, DigestMethod: "urn:x"}, "Response.DigestMethod"},
		{"ECDSA signing key", ssotest.Response{SP: testSP, User: testUser, SigningKey: ecKey}, "Response.SigningKey"},
		{"signing key without cert", ssotest.Response{SP: testSP, User: testUser, SigningKey: otherKey()}, "Response.SigningCert"},
		{"unparsed signing cert", ssotest.Response{SP: testSP, User: testUser, SigningCert: &x509.Certificate{}}, "Response.SigningCert"},
		{"encrypt for a cert without key", ssotest.Response{SP: testSP, User: testUser, EncryptFor: &x509.Certificate{}}, "Response.EncryptFor"},
		{"encrypt for ECDSA cert", ssotest.Response{SP: testSP, User: testUser, EncryptFor: ecdsaCert(t, ecKey)}, "Response.EncryptFor"},
		{"unknown encryption", ssotest.Response{SP: testSP, User: testUser, EncryptFor: spPair().Leaf, EncryptionMethod: "http://www.w3.org/2001/04/xmlenc#kw-aes128"}, "Response.EncryptionMethod"},
		{"unknown key transport", ssotest.Response{SP: testSP, User: testUser, EncryptFor: spPair().Leaf, KeyTransport: "http://www.w3.org/2001/04/xmlenc#kw-aes128"}, "Response.KeyTransport"},
		{"BeforeSign drops the root", ssotest.Response{SP: testSP, User: testUser, BeforeSign: func(d *etree.Document) { d.RemoveChild(d.Root()) }}, "Response.BeforeSign"},
		{"BeforeSign drops the assertion", ssotest.Response{SP: testSP, User: testUser, BeforeSign: func(d *etree.Document) { d.Root().RemoveChild(assertionOf(d)) }}, "Response.BeforeSign"},
	}
	idp := newIdP(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := idp.Response(tt.r)
			if !errors.Is(err, sso.ErrInvalidConfig) {
				t.Fatalf("Response() err = %v; want %v", err, sso.ErrInvalidConfig)
			}
			var ce *sso.ConfigError
			if !errors.As(err, &ce) || ce.Field != tt.wantField {
				t.Errorf("Response() err = %v; want a *sso.ConfigError for %s", err, tt.wantField)
			}
		})
	}
}

// TestOmitsWithoutSP: omitting what the SP would fill makes an empty SP usable.
func TestOmitsWithoutSP(t *testing.T) {
	_, err := newIdP(t).Response(ssotest.Response{
		User: ssotest.User{}, OmitNameID: true, OmitAudience: true,
		OmitDestination: true, OmitSubjectConfirmation: true,
	})
	if err != nil {
		t.Errorf("Response() err = %v; want nil", err)
	}
}

func TestDeterministic(t *testing.T) {
	mk := func() string {
		idp, err := ssotest.New(ssotest.Config{Now: fixedNow, Rand: seeded(7), Key: idpKey()})
		if err != nil {
			t.Fatal(err)
		}
		s, err := idp.Response(ssotest.Response{SP: testSP, User: testUser, Sign: ssotest.SignBoth})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if a, b := mk(), mk(); a != b {
		t.Error("same clock, key and Rand gave different responses")
	}
}

func TestResponseIsStandardBase64(t *testing.T) {
	s, err := newIdP(t).Response(ssotest.Response{SP: testSP, User: testUser})
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(s, "\r\n-_") {
		t.Error("SAMLResponse has line breaks or URL-safe characters")
	}
	doc := decode(t, s)
	if doc.Root().Tag != "Response" {
		t.Errorf("decoded root = %s; want Response", doc.Root().Tag)
	}
}

// TestConcurrent shares one IdP, with a Rand that is not safe for concurrent
// use, between goroutines (run with -race).
func TestConcurrent(t *testing.T) {
	idp := newIdP(t)
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Go(func() {
			doc, err := idp.BuildResponse(ssotest.Response{SP: testSP, User: testUser})
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = doc.Root().SelectAttrValue("ID", "")
		})
	}
	wg.Wait()
	slices.Sort(ids)
	if len(slices.Compact(ids)) != len(ids) {
		t.Errorf("response IDs repeat: %q", ids)
	}
}
