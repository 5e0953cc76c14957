package xmldsig

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// genSAML builds a random SAML response in the shapes IdPs send: saml, samlp
// and other prefixes or default namespaces, declarations on the root or where
// used, redundant and unused ones, default namespace resets, xsi:type values
// with xs, xml:lang, escapes. attributeValues sets the size (0: random).
// With divergences false it avoids what goxmldsig canonicalises wrongly.
func genSAML(r *rand.Rand, attributeValues int, divergences bool) string {
	var b strings.Builder
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	chance := func(p float64) bool { return r.Float64() < p }
	text := func() string {
		return pick("alice@example.com", "a &amp; b", "&lt;tag&gt;", `"quoted" 'single'`, "tab\there", "line\nbreak", "cr&#13;lf", "Ünïcödé 🙂", "", "  spaced  ", "]]&gt;")
	}

	protoPrefix := pick("samlp", "samlp", "p2", "")
	asrtPrefix := pick("saml", "saml", "saml2", "")
	if protoPrefix == "" && asrtPrefix == "" {
		asrtPrefix = "saml"
	}
	q := func(prefix, local string) string {
		if prefix == "" {
			return local
		}
		return prefix + ":" + local
	}
	decl := func(prefix, uri string) string {
		if prefix == "" {
			return fmt.Sprintf(` xmlns="%s"`, uri)
		}
		return fmt.Sprintf(` xmlns:%s="%s"`, prefix, uri)
	}
	const protoNS, asrtNS = "urn:oasis:names:tc:SAML:2.0:protocol", "urn:oasis:names:tc:SAML:2.0:assertion"
	xsAt := r.IntN(3) // 0 Response, 1 Assertion, 2 each AttributeValue
	asrtOnRoot := chance(0.6)

	// Response
	b.WriteString("<" + q(protoPrefix, "Response") + decl(protoPrefix, protoNS))
	if asrtOnRoot && asrtPrefix != "" {
		b.WriteString(decl(asrtPrefix, asrtNS))
	}
	if chance(0.3) {
		b.WriteString(decl("unused", "urn:example:unused"))
	}
	if xsAt == 0 {
		b.WriteString(decl("xs", "http://www.w3.org/2001/XMLSchema") + decl("xsi", "http://www.w3.org/2001/XMLSchema-instance"))
	}
	fmt.Fprintf(&b, ` ID="_r%d" Version="2.0" IssueInstant="2024-01-02T03:04:05Z" Destination="https://sp.example.com/acs?a=1&amp;b=2">`, r.IntN(1e6))
	issuer := func() {
		if asrtPrefix == "" {
			b.WriteString("<Issuer" + decl("", asrtNS) + ">https://idp.example.com/</Issuer>")
			return
		}
		d := ""
		if !asrtOnRoot || chance(0.2) {
			d = decl(asrtPrefix, asrtNS)
		}
		b.WriteString("<" + q(asrtPrefix, "Issuer") + d + ">https://idp.example.com/</" + q(asrtPrefix, "Issuer") + ">")
	}
	b.WriteString(pick("", "\n  "))
	issuer()
	b.WriteString("<" + q(protoPrefix, "Status") + "><" + q(protoPrefix, "StatusCode") + ` Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></` + q(protoPrefix, "Status") + ">")

	// Assertion
	a := func(local string) string { return q(asrtPrefix, local) }
	b.WriteString("\n  <" + a("Assertion"))
	if !asrtOnRoot || asrtPrefix == "" || chance(0.3) {
		b.WriteString(decl(asrtPrefix, asrtNS))
	}
	if xsAt == 1 {
		b.WriteString(decl("xs", "http://www.w3.org/2001/XMLSchema") + decl("xsi", "http://www.w3.org/2001/XMLSchema-instance"))
	}
	fmt.Fprintf(&b, ` ID="_a%d" Version="2.0" IssueInstant="2024-01-02T03:04:05Z">`, r.IntN(1e6))
	issuer()
	b.WriteString("<" + a("Subject") + "><" + a("NameID") + ` Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">` + text() + "</" + a("NameID") + ">")
	b.WriteString("<" + a("SubjectConfirmation") + ` Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><` + a("SubjectConfirmationData") + ` NotOnOrAfter="2024-01-02T03:09:05Z" Recipient="https://sp.example.com/acs"/></` + a("SubjectConfirmation") + "></" + a("Subject") + ">")
	b.WriteString("<" + a("Conditions") + ` NotBefore="2024-01-02T03:03:05Z"><` + a("AudienceRestriction") + "><" + a("Audience") + ">https://sp.example.com</" + a("Audience") + "></" + a("AudienceRestriction") + "></" + a("Conditions") + ">")
	if chance(0.5) {
		// An extension with its own default namespace, reset inside.
		b.WriteString(`<ext:Extensions xmlns:ext="urn:example:ext"><Thing xmlns="urn:example:thing" a="1"><Inner xmlns=""><Deep>` + text() + `</Deep></Inner><Again/></Thing></ext:Extensions>`)
	}
	b.WriteString("<" + a("AttributeStatement") + ">")
	n := attributeValues
	if n == 0 {
		n = 1 + r.IntN(12)
	}
	for i := 0; i < n; {
		vals := min(n-i, 1+r.IntN(4))
		b.WriteString(pick("", "\n      ") + "<" + a("Attribute") + fmt.Sprintf(` Name="attr%d" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic"`, i))
		if chance(0.2) {
			b.WriteString(` xmlns:x500="urn:oasis:names:tc:SAML:2.0:profiles:attribute:X500" x500:Encoding="LDAP"`)
		}
		b.WriteString(">")
		for j := 0; j < vals; j++ {
			b.WriteString("<" + a("AttributeValue"))
			if xsAt == 2 {
				b.WriteString(decl("xs", "http://www.w3.org/2001/XMLSchema") + decl("xsi", "http://www.w3.org/2001/XMLSchema-instance"))
			}
			typed := chance(0.7)
			if typed {
				b.WriteString(` xsi:type="xs:string"`)
			}
			if chance(0.2) && (!typed || divergences) {
				b.WriteString(` xml:lang="en"`)
			}
			fmt.Fprintf(&b, ">group-%d %s</%s>", i+j, text(), a("AttributeValue"))
		}
		b.WriteString("</" + a("Attribute") + ">")
		i += vals
	}
	b.WriteString("</" + a("AttributeStatement") + ">")
	if chance(0.3) {
		b.WriteString("<!-- a comment -->")
	}
	b.WriteString("</" + a("Assertion") + ">\n</" + q(protoPrefix, "Response") + ">")
	return b.String()
}
