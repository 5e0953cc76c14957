package saml_test

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/orgsso/orgsso/saml"
)

// inclusiveHostile builds an unsigned-by-anyone Response whose assertion
// claims an inclusive-C14N signature (no valid SignatureValue needed), with
// decls namespace declarations on the Response and elems empty elements in
// the assertion before its Signature. Total XML size is about 1 MiB for
// decls=55000, elems=990.
func inclusiveHostile(f *fixture, decls, elems int) []byte {
	var b strings.Builder
	b.WriteString(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r" Version="2.0" IssueInstant="2026-03-01T12:00:00Z"`)
	for i := 0; i < decls; i++ {
		fmt.Fprintf(&b, ` xmlns:p%d="u"`, i)
	}
	b.WriteString(`><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>`)
	b.WriteString(`<saml:Assertion ID="_a" Version="2.0" IssueInstant="2026-03-01T12:00:00Z"><saml:Issuer>` + f.idp.EntityID() + `</saml:Issuer>`)
	for i := 0; i < elems; i++ {
		b.WriteString(`<e/>`)
	}
	b.WriteString(`<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>` +
		`<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>` +
		`<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>` +
		`<ds:Reference URI="#_a"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>` +
		`<ds:Transform Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/></ds:Transforms>` +
		`<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=</ds:DigestValue></ds:Reference></ds:SignedInfo>` +
		`<ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature>`)
	b.WriteString(`</saml:Assertion></samlp:Response>`)
	return []byte(b.String())
}

func deflateRaw(b []byte) []byte {
	var out bytes.Buffer
	w, _ := flate.NewWriter(&out, flate.BestCompression)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// TestAttackReviewInclusiveDeclsTimesElements: the review found the
// inclusive-C14N (goxmldsig) path spending declarations × elements before any
// signature check (55,000 declarations × 900 elements: 18.8 s for a 182 KB
// post). The strict reader now refuses more than DefaultMaxNamespaces
// prefixes in scope before goxmldsig runs; under the bound the same shape is
// refused by the signature. Timing is BenchmarkValidateHostile's.
func TestAttackReviewInclusiveDeclsTimesElements(t *testing.T) {
	f := newFixture(t)
	v := f.validator(t, nil)
	for _, c := range []struct {
		decls, elems int
		want         error
	}{
		{55000, 0, saml.CheckXML},
		{55000, 900, saml.CheckXML},
		{20000, 900, saml.CheckXML},
		{50, 900, saml.CheckSignature},
	} {
		x := inclusiveHostile(f, c.decls, c.elems)
		posted := base64.StdEncoding.EncodeToString(x)
		if int64(len(posted)) > saml.DefaultMaxResponseSize {
			posted = base64.StdEncoding.EncodeToString(deflateRaw(x)) // the limit bounds the inflated size
		}
		_, err := v.Validate(posted, testRequestID)
		assert.ErrorIs(t, err, c.want, "decls=%d elems=%d", c.decls, c.elems)
	}
}
