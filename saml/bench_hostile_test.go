package saml_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/beevik/etree"

	"github.com/orgsso/orgsso/internal/safexml"
	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// Hostile inputs of about 1 MiB, each as large as the default size limit
// lets it be: 1 MiB of base64 (768 KiB of XML) or, as raw DEFLATE, 1 MiB of
// XML once inflated. Issue 9: each must be refused in at most twice the time
// of validating a valid 1 MiB response (valid/1MiB-deflate).

const (
	nsSAMLP       = "urn:oasis:names:tc:SAML:2.0:protocol"
	exclusiveC14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
	b64Limit      = saml.DefaultMaxResponseSize         // bytes of base64
	xmlLimit      = saml.DefaultMaxResponseSize / 4 * 3 // bytes of XML that fit in it
)

// hostileInput is one benchmark input: what is posted, how much XML it
// carries, and the check that refuses it ("" = accepted).
type hostileInput struct {
	name   string
	posted string
	xml    int
	want   saml.Check
}

// fill appends unit(i) for i = 0, 1, … while the result stays within n bytes
// once suffix is added.
func fill(b *strings.Builder, n int, suffix string, unit func(i int) string) {
	for i := 0; ; i++ {
		u := unit(i)
		if b.Len()+len(u)+len(suffix) > n {
			break
		}
		b.WriteString(u)
	}
	b.WriteString(suffix)
}

// responseOpen is the start tag of a Response that passes the first checks.
const responseOpen = `<samlp:Response xmlns:samlp="` + nsSAMLP + `" ID="_h" Version="2.0"`

// manyAttributes is a Response start tag carrying as many attributes as fit
// in n bytes, with a duplicate of the first one at the end when dup.
func manyAttributes(n int, dup bool) string {
	var b strings.Builder
	b.WriteString(responseOpen)
	end := `/>`
	if dup {
		end = ` a0=""/>`
	}
	fill(&b, n, end, func(i int) string { return ` a` + strconv.Itoa(i) + `=""` })
	return b.String()
}

// declarationsTimesElements declares decls prefixes on the Response and fills
// it with prefixed, empty child elements.
func declarationsTimesElements(n, decls int) string {
	var b strings.Builder
	b.WriteString(responseOpen)
	for i := range decls {
		b.WriteString(` xmlns:p` + strconv.Itoa(i) + `="urn:x:` + strconv.Itoa(i) + `"`)
	}
	b.WriteString(`>`)
	fill(&b, n, `</samlp:Response>`, func(i int) string { return `<p` + strconv.Itoa(i%decls) + `:a/>` })
	return b.String()
}

// declarationsOnEveryElement fills the Response with elements that each
// declare 8 prefixes.
func declarationsOnEveryElement(n int) string {
	var b strings.Builder
	b.WriteString(responseOpen + `>`)
	var e strings.Builder
	e.WriteString(`<a`)
	for i := range 8 {
		e.WriteString(` xmlns:q` + strconv.Itoa(i) + `="urn:q"`)
	}
	e.WriteString(`/>`)
	fill(&b, n, `</samlp:Response>`, func(int) string { return e.String() })
	return b.String()
}

// nestedOnce fills the Response with one chain of elements, as deep as fits.
func nestedOnce(n int) string {
	k := (n - len(responseOpen) - len(`></samlp:Response>`)) / len(`<a></a>`)
	return responseOpen + `>` + strings.Repeat(`<a>`, k) + strings.Repeat(`</a>`, k) + `</samlp:Response>`
}

// nested fills the Response with chains of depth elements.
func nested(n, depth int) string {
	var b strings.Builder
	b.WriteString(responseOpen + `>`)
	chain := strings.Repeat(`<a>`, depth) + strings.Repeat(`</a>`, depth)
	fill(&b, n, `</samlp:Response>`, func(int) string { return chain })
	return b.String()
}

// manyElements fills the Response with empty elements.
func manyElements(n int) string {
	var b strings.Builder
	b.WriteString(responseOpen + `>`)
	fill(&b, n, `</samlp:Response>`, func(int) string { return `<a/>` })
	return b.String()
}

// largeResponse is a valid response of at most n bytes of XML: the user is
// in as many groups as fit.
func largeResponse(tb testing.TB, f *fixture, n int, mutate func(*ssotest.Response)) string {
	tb.Helper()
	build := func(groups int) string {
		names := make([]string, groups)
		for i := range names {
			names[i] = fmt.Sprintf("Engineering group %06d (Okta, managed by IT)", i)
		}
		r := ssotest.Response{SP: f.sp, InResponseTo: testRequestID, User: alice}
		r.User.Attributes = map[string][]string{"groups": names}
		if mutate != nil {
			mutate(&r)
		}
		doc, err := f.idp.BuildResponse(r)
		if err != nil {
			tb.Fatal(err)
		}
		s, err := doc.WriteToString()
		if err != nil {
			tb.Fatal(err)
		}
		return s
	}
	per := len(build(101)) - len(build(100))
	groups := (n - len(build(0))) / per
	for {
		if s := build(groups); len(s) <= n {
			return s
		}
		groups--
	}
}

// signedThenPadded is a signed response whose assertion gets, after signing,
// what pad adds, and whose signature is made to name the canonicalization
// c14n (which chooses the verifier): whatever the verifier does before the
// signature fails, on attacker-sized input, is measured.
func signedThenPadded(tb testing.TB, f *fixture, c14n string, pad func(a *etree.Element)) string {
	tb.Helper()
	doc, err := f.idp.BuildResponse(ssotest.Response{SP: f.sp, InResponseTo: testRequestID, User: alice,
		AfterSign: func(d *etree.Document) {
			a := d.Root().FindElement("./Assertion")
			pad(a)
			si := a.FindElement("./Signature/SignedInfo")
			si.FindElement("./CanonicalizationMethod").CreateAttr("Algorithm", c14n)
			si.FindElement("./Reference/Transforms/Transform[2]").CreateAttr("Algorithm", c14n)
		}})
	if err != nil {
		tb.Fatal(err)
	}
	s, err := doc.WriteToString()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// assertionDeclarations is the number of prefixes an input may add to the
// assertion and still be under safexml's limit of prefixes in scope (the
// Response and the assertion already use samlp, saml, xs, xsi and ds).
const assertionDeclarations = safexml.DefaultMaxNamespaces - 8

// declarationsTimesAssertionElements declares assertionDeclarations
// prefixes on the assertion and adds elements that each redeclare all of
// them, as many as fit in n bytes and at most maxElems: the most
// declarations × elements the limit lets through.
func declarationsTimesAssertionElements(tb testing.TB, f *fixture, n, maxElems int, c14n string) string {
	tb.Helper()
	redeclare := func(el *etree.Element, value string) {
		for i := range assertionDeclarations { // not CreateAttr, which looks for the name first
			el.Attr = append(el.Attr, etree.Attr{Space: "xmlns", Key: "d" + strconv.Itoa(i), Value: value})
		}
	}
	s := signedThenPadded(tb, f, c14n, func(a *etree.Element) {
		redeclare(a, "urn:d")
		v := a.FindElement("./AttributeStatement/Attribute").CreateElement("saml:AttributeValue")
		redeclare(v, "urn:e")
		v.SetText("x")
	})
	// Repeat the one padded AttributeValue as often as fits.
	at := strings.Index(s, "<saml:AttributeValue xmlns:d0=")
	end := strings.Index(s[at:], "</saml:AttributeValue>") + at + len("</saml:AttributeValue>")
	unit := s[at:end]
	var b strings.Builder
	b.WriteString(s[:at])
	elems := 0
	fill(&b, n, s[at:], func(int) string {
		if elems++; elems >= maxElems {
			return strings.Repeat(" ", n) // stop
		}
		return unit
	})
	return b.String()
}

// overDeclared is a signed response whose assertion declares more prefixes
// than safexml lets be in scope.
func overDeclared(tb testing.TB, f *fixture, n int) string {
	tb.Helper()
	return signedThenPadded(tb, f, exclusiveC14N, func(a *etree.Element) {
		for i := 0; i < n/20; i++ {
			a.Attr = append(a.Attr, etree.Attr{Space: "xmlns", Key: "d" + strconv.Itoa(i), Value: "u"})
		}
	})
}

func hostileInputs(tb testing.TB, f *fixture) []hostileInput {
	tb.Helper()
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	in := func(name, xml string, deflated bool, want saml.Check) hostileInput {
		p := b64(xml)
		if deflated {
			p = deflate(tb, xml)
		}
		if len(p) > b64Limit {
			tb.Fatalf("%s: %d bytes posted, over the limit", name, len(p))
		}
		return hostileInput{name: name, posted: p, xml: len(xml), want: want}
	}
	const mib = 1 << 20
	bomb := strings.Repeat("<a/>", 4*mib)
	// underMarkup is the largest shape build makes (shrinking its byte budget
	// from n) that the strict reader's markup bound lets through to parsing.
	underMarkup := func(build func(n int) string, n int) string {
		for {
			x := build(n)
			if strings.Count(x, "<") <= safexml.DefaultMaxMarkup &&
				strings.Count(x, `="`)+strings.Count(x, `='`) <= safexml.DefaultMaxMarkup {
				return x
			}
			n = n * 95 / 100
		}
	}
	return []hostileInput{
		in("valid/1MiB-deflate", largeResponse(tb, f, mib, nil), true, ""),
		in("valid/768KiB-base64", largeResponse(tb, f, xmlLimit, nil), false, ""),
		in("valid/1MiB-deflate-response-signed", largeResponse(tb, f, mib, func(r *ssotest.Response) { r.Sign = ssotest.SignResponse }), true, ""),

		in("attributes/root-768KiB", manyAttributes(xmlLimit, false), false, saml.CheckXML),
		in("attributes/root-1MiB-deflate", manyAttributes(mib, false), true, saml.CheckXML),
		in("attributes/root-at-markup-limit-deflate", underMarkup(func(n int) string { return manyAttributes(n, false) }, mib), true, saml.CheckSchema),
		in("attributes/duplicate-at-end-768KiB", manyAttributes(xmlLimit, true), false, saml.CheckXML),
		in("attributes/duplicate-at-end-1MiB-deflate", manyAttributes(mib, true), true, saml.CheckXML),

		in("declarations/56-on-root-x-elements-1MiB-deflate", declarationsTimesElements(mib, assertionDeclarations), true, saml.CheckXML),
		in("declarations/56-on-root-x-elements-at-markup-limit-deflate", underMarkup(func(n int) string { return declarationsTimesElements(n, assertionDeclarations) }, mib), true, saml.CheckSchema),
		in("declarations/over-limit-10k-on-root-1MiB-deflate", declarationsTimesElements(mib, 10000), true, saml.CheckXML),
		in("declarations/over-limit-on-assertion-1MiB-deflate", overDeclared(tb, f, mib), true, saml.CheckXML),
		in("declarations/8-on-every-element-1MiB-deflate", declarationsOnEveryElement(mib), true, saml.CheckSchema),
		in("declarations/56-redeclared-on-assertion-elements-exclusive-1MiB-deflate", declarationsTimesAssertionElements(tb, f, mib, mib, exclusiveC14N), true, saml.CheckSignature),
		in("declarations/56-redeclared-on-999-assertion-elements-inclusive", declarationsTimesAssertionElements(tb, f, mib, 999-50, inclusiveC14N), true, saml.CheckSignature),
		in("declarations/56-redeclared-on-assertion-elements-inclusive-1MiB-deflate", declarationsTimesAssertionElements(tb, f, mib, mib, inclusiveC14N), true, saml.CheckXML),

		in("nesting/at-limit-1MiB-deflate", nested(mib, safexml.DefaultMaxDepth-1), true, saml.CheckXML),
		in("nesting/at-limit-at-markup-limit-deflate", underMarkup(func(n int) string { return nested(n, safexml.DefaultMaxDepth-1) }, mib), true, saml.CheckSchema),
		in("nesting/beyond-limit-768KiB", nestedOnce(xmlLimit), false, saml.CheckXML),
		in("nesting/beyond-limit-1MiB-deflate", nestedOnce(mib), true, saml.CheckXML),

		in("deflate/many-elements-to-limit", manyElements(mib), true, saml.CheckXML),
		in("deflate/many-elements-at-markup-limit", underMarkup(manyElements, mib), true, saml.CheckSchema),
		in("deflate/bomb-16MiB", bomb, true, saml.CheckSize),
	}
}

// BenchmarkValidateHostile measures the Validator on each hostile input and
// on valid responses of the same size; compare each with valid/1MiB-deflate
// (benchstat; the bound is 2×).
func BenchmarkValidateHostile(b *testing.B) {
	hostileOnce.Do(func() {
		hostileFixture = newFixture(b)
		hostile = hostileInputs(b, hostileFixture)
	})
	v := hostileFixture.validator(b, nil)
	for _, h := range hostile {
		// Start each input from a collected heap, not with the garbage of
		// the one before (or of building the inputs).
		runtime.GC()
		b.Run(h.name, func(b *testing.B) {
			_, err := v.Validate(h.posted, testRequestID)
			switch {
			case h.want == "" && err != nil:
				b.Fatalf("Validate() err = %v; want nil", err)
			case h.want != "" && !errors.Is(err, h.want):
				b.Fatalf("Validate() err = %v; want %v", err, h.want)
			}
			b.SetBytes(int64(h.xml))
			b.ReportAllocs()
			for b.Loop() {
				_, _ = v.Validate(h.posted, testRequestID)
			}
		})
	}
}

// The inputs take seconds to build: once per process, not once per -count.
var (
	hostileOnce    sync.Once
	hostileFixture *fixture
	hostile        []hostileInput
)
