package safexml_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/orgsso/orgsso/internal/safexml"
)

// fuzzOptions turns the fuzzer's flag byte into Options: comments and
// processing instructions allowed or not, and a small depth limit.
func fuzzOptions(flags uint8) safexml.Options {
	o := safexml.Options{AllowComments: flags&1 != 0, AllowProcInst: flags&2 != 0}
	if flags&4 != 0 {
		o.MaxDepth = 3
	}
	return o
}

// FuzzParse holds the strict reader to encoding/xml, the independent
// namespace-aware reader of the standard library: Parse never panics, and
// whatever it accepts encoding/xml reads without error, with the same
// elements in the same namespaces, no attribute twice by expanded name, the
// same unprefixed attribute values and the same text.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`<r/>`,
		`<?xml version="1.0" encoding="UTF-8"?><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_1" Version="2.0"/>`,
		`<r xmlns:Name="email" Name="last_name"/>`,
		`<r xmlns:a="urn:a" xmlns:b="urn:a" a:x="1" b:x="2"/>`,
		`<r a0="" a1="" a2="" a3="" a4="" a5="" a6="" a7="" a8="" a9="" a0=""/>`,
		`<r xmlns="urn:d"><s xmlns=""><t/></s><u/></r>`,
		`<a:r xmlns:a="urn:1"><a:x xmlns:a="urn:2"><a:y/></a:x><a:z/></a:r>`,
		`<r xml:lang="en"><xml:s/></r>`,
		`<r xmlns:xml="http://www.w3.org/XML/1998/namespace"/>`,
		`<r>a<![CDATA[b]]>c<!--d-->e</r>`,
		`<r><?p x?></r>`,
		`<r/><!--c-->`,
		"\xef\xbb\xbf<r/>\n",
		`<?xml version="1.0" encoding="UTF-16"?><r/>`,
		`<r><x:y:z xmlns:x="urn:x"/></r>`,
		`<r xmlns:p=""/>`,
		`<!DOCTYPE r><r/>`,
	} {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, raw []byte, flags uint8) {
		doc, err := safexml.Parse(raw, fuzzOptions(flags))
		if err != nil {
			if !errors.Is(err, safexml.ErrMalformed) {
				t.Fatalf("Parse() err = %v; want ErrMalformed", err)
			}
			if len(err.Error()) > 300 {
				t.Fatalf("Parse() error of %d bytes quotes too much input", len(err.Error()))
			}
			return
		}
		compareWithEncodingXML(t, raw, doc)
	})
}

// elementView is what encoding/xml reads of one element.
type elementView struct {
	el    *etree.Element // the element of doc it is compared with
	name  xml.Name
	attr  []xml.Attr
	text  strings.Builder
	mixed bool // has a child element or processing instruction: no text value
}

// compareWithEncodingXML reads raw with encoding/xml and compares it, element
// by element in document order, with doc.
func compareWithEncodingXML(t *testing.T, raw []byte, doc *safexml.Doc) {
	t.Helper()
	var ours []*etree.Element
	var walk func(el *etree.Element)
	walk = func(el *etree.Element) {
		ours = append(ours, el)
		for _, c := range el.ChildElements() {
			walk(c)
		}
	}
	walk(doc.Root())

	d := xml.NewDecoder(bytes.NewReader(raw))
	var stack []*elementView
	n := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Parse accepted what encoding/xml refuses (%v):\n%q", err, raw)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			if len(stack) > 0 {
				stack[len(stack)-1].mixed = true
			}
			if n >= len(ours) {
				t.Fatalf("encoding/xml reads more elements than Parse (%d):\n%q", len(ours), raw)
			}
			v := &elementView{el: ours[n], name: tk.Name, attr: tk.Attr}
			compareElement(t, raw, doc, ours[n], v)
			n++
			stack = append(stack, v)
		case xml.EndElement:
			v := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			text, ok := safexml.Text(v.el)
			if ok == v.mixed || (ok && text != v.text.String()) {
				t.Fatalf("Text(<%s>) = %q, %v; encoding/xml reads %q, mixed %v:\n%q", v.name.Local, text, ok, v.text.String(), v.mixed, raw)
			}
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(tk)
			}
		case xml.ProcInst:
			if len(stack) > 0 {
				stack[len(stack)-1].mixed = true
			}
		}
	}
	if n != len(ours) {
		t.Fatalf("encoding/xml reads %d elements, Parse %d:\n%q", n, len(ours), raw)
	}
}

func compareElement(t *testing.T, raw []byte, doc *safexml.Doc, el *etree.Element, v *elementView) {
	t.Helper()
	if el.Tag != v.name.Local || doc.Namespace(el) != v.name.Space {
		t.Fatalf("element {%s}%s per Parse is {%s}%s per encoding/xml:\n%q",
			doc.Namespace(el), el.Tag, v.name.Space, v.name.Local, raw)
	}
	seen := make(map[xml.Name]bool, len(v.attr))
	unprefixed := 0
	for _, a := range v.attr {
		if seen[a.Name] {
			t.Fatalf("Parse accepted attribute {%s}%s twice on <%s>:\n%q", a.Name.Space, a.Name.Local, el.Tag, raw)
		}
		seen[a.Name] = true
		if a.Name.Space != "" || a.Name.Local == "xmlns" {
			continue
		}
		unprefixed++
		if got, ok := safexml.Attr(el, a.Name.Local); !ok || got != a.Value {
			t.Fatalf("Attr(<%s>, %q) = %q, %v; encoding/xml reads %q:\n%q", el.Tag, a.Name.Local, got, ok, a.Value, raw)
		}
	}
	ours := 0
	for _, a := range el.Attr {
		if a.Space == "" && a.Key != "xmlns" {
			ours++
		}
	}
	if ours != unprefixed {
		t.Fatalf("<%s> has %d unprefixed attributes per Parse, %d per encoding/xml:\n%q", el.Tag, ours, unprefixed, raw)
	}
}
