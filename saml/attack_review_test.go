package saml_test

// Attacker review of issue 9 (branch review). Tests that pass assert a
// refusal that held; tests that t.Skip("FINDING: …") demonstrate an open
// finding (remove the Skip to see it fail).

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// arRewrite decodes a posted response, applies string replacements to its
// XML, and encodes it again.
func arRewrite(t *testing.T, posted string, pairs ...string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(posted)
	require.NoError(t, err)
	s := string(raw)
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("rewrite: %q not in the response", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return base64.StdEncoding.EncodeToString([]byte(s))
}

// TestAttackReviewMutationsReadIdentically: signature-preserving rewrites
// of a signed response are refused or read identically.
func TestAttackReviewMutationsReadIdentically(t *testing.T) {
	f := newFixture(t)
	v := f.validator(t, nil)
	base := f.response(t, nil)
	want, err := v.Validate(base, testRequestID)
	require.NoError(t, err)
	for _, m := range []struct {
		name  string
		pairs []string
	}{
		{"CDATA NameID", []string{">alice@acme.example</saml:NameID>", "><![CDATA[alice@]]>acme.example</saml:NameID>"}},
		{"charref in attribute Name", []string{`Name="email"`, `Name="&#101;mail"`}},
		{"xmlns:Name on Attribute", []string{`<saml:Attribute Name="first_name"`, `<saml:Attribute xmlns:Name="email" Name="first_name"`}},
		{"xmlns:Name after Name", []string{`<saml:Attribute Name="first_name"`, `<saml:Attribute Name="first_name" xmlns:Name="email"`}},
		{"xmlns:ID on Assertion", []string{`<saml:Assertion `, `<saml:Assertion xmlns:ID="_other" `}},
		{"xmlns:InResponseTo on SCD", []string{`<saml:SubjectConfirmationData `, `<saml:SubjectConfirmationData xmlns:InResponseTo="urn:x" `}},
		{"redundant saml redeclaration", []string{`<saml:AttributeStatement`, `<saml:AttributeStatement xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"`}},
		{"xmlns empty on NameID", []string{`<saml:NameID `, `<saml:NameID xmlns="" `}},
		{"single quotes", []string{`Name="email"`, `Name='email'`}},
		{"whitespace between attributes", []string{`<saml:Attribute Name="email"`, "<saml:Attribute\n\tName=\"email\"\n"}},
	} {
		t.Run(m.name, func(t *testing.T) {
			got, err := v.Validate(arRewrite(t, base, m.pairs...), testRequestID)
			if err != nil {
				return // refused: fine
			}
			assert.Equal(t, want.ID, got.ID)
			assert.Equal(t, want.NameID, got.NameID)
			assert.Equal(t, want.InResponseTo, got.InResponseTo)
			assert.Equal(t, want.Attributes, got.Attributes)
		})
	}
}

// TestAttackReviewMutationsRefused: rewrites that change what is read, or
// that a reader and a canonicalizer could disagree on, are refused.
func TestAttackReviewMutationsRefused(t *testing.T) {
	f := newFixture(t)
	v := f.validator(t, nil)
	base := f.response(t, nil)
	raw, _ := base64.StdEncoding.DecodeString(base)
	for _, m := range []struct {
		name string
		xml  string
	}{
		{"second root", string(raw) + "<samlp:Response/>"},
		{"text after root", string(raw) + "x"},
		{"UTF-16 declaration", `<?xml version="1.0" encoding="UTF-16"?>` + string(raw)},
		{"ISO-8859-1 declaration", `<?xml version="1.0" encoding="ISO-8859-1"?>` + string(raw)},
		{"two BOMs", "\xef\xbb\xbf\xef\xbb\xbf" + string(raw)},
		{"UTF-16 BOM", "\xff\xfe" + string(raw)},
		{"comment in NameID", strings.Replace(string(raw), "alice@acme.example</saml:NameID>", "alice<!---->@acme.example</saml:NameID>", 1)},
		{"PI in Issuer", strings.Replace(string(raw), "</saml:Issuer>", "<?x y?></saml:Issuer>", 1)},
		{"duplicate attribute by two prefixes of one URI", strings.Replace(string(raw), "<saml:Attribute Name=\"email\"",
			`<saml:Attribute xmlns:p="urn:q" xmlns:r="urn:q" p:Name="a" r:Name="b" Name="email"`, 1)},
		{"DOCTYPE", `<!DOCTYPE x [<!ENTITY e "mallory">]>` + string(raw)},
		{"prefix bound to empty", strings.Replace(string(raw), "<saml:NameID ", `<saml:NameID xmlns:saml="" `, 1)},
	} {
		t.Run(m.name, func(t *testing.T) {
			_, err := v.Validate(base64.StdEncoding.EncodeToString([]byte(m.xml)), testRequestID)
			require.Error(t, err)
		})
	}
}

// TestAttackReviewInclusiveAncestorShadowsID: on the goxmldsig path,
// NSDetatch copies the unsigned Response's declarations onto the assertion,
// where goxmldsig's SelectAttr("ID") could read xmlns:ID.
func TestAttackReviewInclusiveAncestorShadowsID(t *testing.T) {
	f := newFixture(t)
	v := f.validator(t, nil)
	posted := signInclusive(t, f.response(t, func(r *ssotest.Response) { r.Sign = ssotest.SignNone }), loadKey(t, "idp.key.pem"), f.idp.Certificate().Raw)
	want, err := v.Validate(posted, testRequestID)
	require.NoError(t, err)
	for _, decl := range []string{`xmlns:ID="_other"`, `xmlns:Name="email"`, `xmlns:InResponseTo="urn:x"`} {
		got, err := v.Validate(arRewrite(t, posted, "<samlp:Response ", "<samlp:Response "+decl+" "), testRequestID)
		if err != nil {
			continue
		}
		assert.Equal(t, want.ID, got.ID, decl)
		assert.Equal(t, want.Attributes, got.Attributes, decl)
		assert.Equal(t, want.InResponseTo, got.InResponseTo, decl)
	}
}

// TestAttackReviewCBCNoOracle: tampering with an AES-CBC ciphertext gives
// one error whatever the padding.
func TestAttackReviewCBCNoOracle(t *testing.T) {
	f := newFixture(t)
	v := f.validator(t, nil)
	posted := f.response(t, func(r *ssotest.Response) {
		r.EncryptFor, r.EncryptionMethod = f.spCert, ssotest.EncryptionAES128CBC
	})
	raw, _ := base64.StdEncoding.DecodeString(posted)
	doc := etree.NewDocument()
	require.NoError(t, doc.ReadFromBytes(raw))
	var cv *etree.Element
	for _, el := range doc.FindElements("//CipherValue") {
		cv = el // the last one is the data, the first the key
	}
	ct, err := base64.StdEncoding.DecodeString(cv.Text())
	require.NoError(t, err)
	msgs := map[string]int{}
	for i := 0; i < 256; i++ {
		c := append([]byte(nil), ct...)
		c[len(c)-17] ^= byte(i) // last byte of the previous block: drives the padding
		if i == 0 {
			continue
		}
		cv.SetText(base64.StdEncoding.EncodeToString(c))
		b, _ := doc.WriteToBytes()
		_, err := v.Validate(base64.StdEncoding.EncodeToString(b), testRequestID)
		require.Error(t, err)
		var ve *saml.ValidationError
		require.True(t, errors.As(err, &ve))
		msgs[string(ve.Check)+": "+err.Error()]++
	}
	assert.Len(t, msgs, 1, "%v", msgs)
}
