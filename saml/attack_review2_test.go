package saml_test

// Attacker review 2 (branch review2). Passing tests: refusals that held.
// Tests that were findings now assert the fix.

import (
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/sso/ssotest"
)

// TestAttackReview2EncryptedShapes: unsigned Response, encrypted assertion
// (signed inside); each edit of the EncryptedAssertion's structure is refused
// or read as the valid one.
func TestAttackReview2EncryptedShapes(t *testing.T) {
	f := newFixture(t)
	v := f.validator(t, nil)
	base, err := f.idp.BuildResponse(ssotest.Response{SP: f.sp, InResponseTo: testRequestID, User: alice,
		EncryptFor: f.spCert, EncryptionMethod: ssotest.EncryptionAES128GCM})
	require.NoError(t, err)
	s0, err := base.WriteToString()
	require.NoError(t, err)
	post := func(s string) error { _, err := v.Validate(b64(s), testRequestID); return err }
	require.NoError(t, post(s0))
	ea := el(base, "./EncryptedAssertion")
	raw := string(serialize(t, ea))
	ek := el(base, "./EncryptedAssertion/EncryptedData/KeyInfo/EncryptedKey")
	ekRaw := string(serialize(t, ek))
	_ = ekRaw
	sub := func(old, new string) string {
		require.Contains(t, s0, old)
		return strings.Replace(s0, old, new, 1)
	}
	_ = raw
	ekStart := strings.Index(s0, "<xenc:EncryptedKey")
	ekEnd := strings.Index(s0, "</xenc:EncryptedKey>") + len("</xenc:EncryptedKey>")
	require.True(t, ekStart > 0 && ekEnd > ekStart, "prefix xenc expected in ssotest output")
	ekXML := s0[ekStart:ekEnd]
	garbageEK := strings.Replace(ekXML, "<xenc:CipherValue>", "<xenc:CipherValue>AAAA", 1)
	noEM := ekXML[:strings.Index(ekXML, "<xenc:EncryptionMethod")] + ekXML[strings.Index(ekXML, "</xenc:EncryptionMethod>")+len("</xenc:EncryptionMethod>"):]
	cvStart := strings.LastIndex(s0, "<xenc:CipherValue>") + len("<xenc:CipherValue>")

	refused := map[string]string{
		"garbage EncryptedKey first in KeyInfo": s0[:ekStart] + garbageEK + s0[ekStart:],
		"EncryptedKey without EncryptionMethod": s0[:ekStart] + noEM + s0[ekEnd:],
		"comment in CipherValue":                s0[:cvStart+8] + "<!---->" + s0[cvStart+8:],
		"element in CipherValue":                s0[:cvStart+8] + "<x/>" + s0[cvStart+8:],
		"EncryptedData in another namespace":    sub("<xenc:EncryptedData ", `<xenc:EncryptedData xmlns:xenc="urn:evil" `),
	}
	for name, s := range refused {
		if s == s0 {
			t.Fatalf("%s: no edit", name)
		}
		err := post(s)
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	readSame := map[string]string{
		"valid EncryptedKey, then a garbage one detached": strings.Replace(s0, "</saml:EncryptedAssertion>", garbageEK+"</saml:EncryptedAssertion>", 1),
		"white space inside CipherValue":                  s0[:cvStart+8] + "\n  \t" + s0[cvStart+8:],
		"xmlns:Algorithm on the EncryptionMethods":        strings.ReplaceAll(s0, "<xenc:EncryptionMethod ", `<xenc:EncryptionMethod xmlns:Algorithm="urn:x" `),
		"xmlns:Algorithm on DigestMethod":                 strings.Replace(s0, "<ds:DigestMethod ", `<ds:DigestMethod xmlns:Algorithm="urn:x" `, 1),
	}
	want, err := v.Validate(b64(s0), testRequestID)
	require.NoError(t, err)
	for name, s := range readSame {
		if s == s0 {
			t.Logf("%s: no edit (shape absent)", name)
			continue
		}
		got, err := v.Validate(b64(s), testRequestID)
		if err != nil {
			t.Logf("%s: refused (%v)", name, err)
			continue
		}
		require.Equal(t, want.NameID, got.NameID, name)
		require.Equal(t, want, got, name)
	}
	_ = etree.NewDocument
}
