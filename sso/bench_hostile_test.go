package sso_test

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
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// Hostile inputs of about 1 MiB, each as large as the default size limit
// lets it be: 1 MiB of base64 (768 KiB of XML) or, as raw DEFLATE, 1 MiB of
// XML once inflated. Issue 9: each must be refused in at most twice the time
// of validating a valid 1 MiB response (valid/1MiB-deflate).

const (
	nsSAMLP       = "urn:oasis:names:tc:SAML:2.0:protocol"
	exclusiveC14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
	b64Limit      = sso.DefaultMaxResponseSize         // bytes of base64
	xmlLimit      = sso.DefaultMaxResponseSize / 4 * 3 // bytes of XML that fit in it
)

// hostileInput is one benchmark input: what is posted, how much XML it
// carries, and the check that refuses it ("" = accepted).
type hostileInput struct {
	name   string
	posted string
	xml    int
	want   sso.Check
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

// declarationsTimesAssertionElements declares as many prefixes on the
// assertion as fit in n bytes besides elems more elements in it.
func declarationsTimesAssertionElements(tb testing.TB, f *fixture, n, elems int, c14n string) string {
	tb.Helper()
	build := func(decls int) string {
		return signedThenPadded(tb, f, c14n, func(a *etree.Element) {
			for i := range decls { // not CreateAttr, which looks for the name first
				a.Attr = append(a.Attr, etree.Attr{Space: "xmlns", Key: "d" + strconv.Itoa(i), Value: "u"})
			}
			at := a.FindElement("./AttributeStatement/Attribute")
			for range elems {
				at.CreateElement("saml:AttributeValue").SetText("x")
			}
		})
	}
	per := len(build(1001)) - len(build(1000))
	decls := (n - len(build(0))) / per
	for {
		if s := build(decls); len(s) <= n {
			return s
		}
		decls -= 10
	}
}

// elementsWithDeclarations fills the assertion (which declares 200
// prefixes) with elements that each declare one more.
func elementsWithDeclarations(tb testing.TB, f *fixture, n int, c14n string) string {
	tb.Helper()
	s := signedThenPadded(tb, f, c14n, func(a *etree.Element) {
		for i := range 200 {
			a.CreateAttr("xmlns:d"+strconv.Itoa(i), "urn:d:"+strconv.Itoa(i))
		}
	})
	var b strings.Builder
	at := strings.Index(s, "<saml:AttributeStatement>")
	b.WriteString(s[:at])
	b.WriteString(`<saml:AttributeStatement><saml:Attribute Name="bulk">`)
	tail := `</saml:Attribute>` + s[at+len("<saml:AttributeStatement>"):]
	fill(&b, n, tail, func(i int) string {
		return `<saml:AttributeValue xmlns:e="urn:e:` + strconv.Itoa(i%7) + `">x</saml:AttributeValue>`
	})
	return b.String()
}

func hostileInputs(tb testing.TB, f *fixture) []hostileInput {
	tb.Helper()
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	in := func(name, xml string, deflated bool, want sso.Check) hostileInput {
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
	return []hostileInput{
		in("valid/1MiB-deflate", largeResponse(tb, f, mib, nil), true, ""),
		in("valid/768KiB-base64", largeResponse(tb, f, xmlLimit, nil), false, ""),
		in("valid/1MiB-deflate-response-signed", largeResponse(tb, f, mib, func(r *ssotest.Response) { r.Sign = ssotest.SignResponse }), true, ""),

		in("attributes/root-768KiB", manyAttributes(xmlLimit, false), false, sso.CheckSchema),
		in("attributes/root-1MiB-deflate", manyAttributes(mib, false), true, sso.CheckSchema),
		in("attributes/duplicate-at-end-768KiB", manyAttributes(xmlLimit, true), false, sso.CheckXML),
		in("attributes/duplicate-at-end-1MiB-deflate", manyAttributes(mib, true), true, sso.CheckXML),

		in("declarations/1k-root-x-elements-1MiB-deflate", declarationsTimesElements(mib, 1000), true, sso.CheckSchema),
		in("declarations/10k-root-x-elements-1MiB-deflate", declarationsTimesElements(mib, 10000), true, sso.CheckSchema),
		in("declarations/8-on-every-element-1MiB-deflate", declarationsOnEveryElement(mib), true, sso.CheckSchema),
		in("declarations/assertion-x-900-elements-exclusive-1MiB-deflate", declarationsTimesAssertionElements(tb, f, mib, 900, exclusiveC14N), true, sso.CheckSignature),
		in("declarations/assertion-x-900-elements-inclusive-1MiB-deflate", declarationsTimesAssertionElements(tb, f, mib, 900, inclusiveC14N), true, sso.CheckSignature),
		in("declarations/on-every-assertion-element-exclusive-1MiB-deflate", elementsWithDeclarations(tb, f, mib, exclusiveC14N), true, sso.CheckSignature),
		in("declarations/on-every-assertion-element-inclusive-1MiB-deflate", elementsWithDeclarations(tb, f, mib, inclusiveC14N), true, sso.CheckXML),

		in("nesting/at-limit-1MiB-deflate", nested(mib, safexml.DefaultMaxDepth-1), true, sso.CheckSchema),
		in("nesting/beyond-limit-768KiB", nestedOnce(xmlLimit), false, sso.CheckXML),
		in("nesting/beyond-limit-1MiB-deflate", nestedOnce(mib), true, sso.CheckXML),

		in("deflate/many-elements-to-limit", manyElements(mib), true, sso.CheckSchema),
		in("deflate/bomb-16MiB", bomb, true, sso.CheckSize),
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
