package safexml_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/internal/safexml"
)

// nest is n nested elements.
func nest(n int) string { return strings.Repeat("<a>", n) + strings.Repeat("</a>", n) }

// manyAttrs is n distinct unprefixed attributes a0 … a(n-1), a prefix of an
// element's attribute list (the map path of the duplicate check runs above 8).
func manyAttrs(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(` a` + strconv.Itoa(i) + `="v"`)
	}
	return b.String()
}

// decls is n namespace declarations of the prefixes prefix0 … prefix(n-1).
func decls(prefix string, n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(` xmlns:` + prefix + strconv.Itoa(i) + `="urn:` + prefix + strconv.Itoa(i) + `"`)
	}
	return b.String()
}

// TestParse is the table of what the strict reader accepts and refuses.
func TestParse(t *testing.T) {
	t.Parallel()
	permissive := safexml.Options{AllowComments: true, AllowProcInst: true}
	cases := []struct {
		name   string
		in     string
		opts   safexml.Options
		accept bool
	}{
		{name: "plain", in: `<r/>`, accept: true},
		{name: "XML declaration", in: `<?xml version="1.0"?><r/>`, accept: true},
		{name: "white space around the document element", in: "\r\n\t <r/> \n\t", accept: true},

		// Duplicate attributes, by expanded name.
		{name: "unprefixed attribute twice", in: `<r x="1" x="2"/>`},
		{name: "prefixed attribute twice", in: `<r xmlns:a="urn:a" a:x="1" a:x="2"/>`},
		{name: "two prefixes bound to one URI", in: `<r xmlns:a="urn:a" xmlns:b="urn:a" a:x="1" b:x="2"/>`},
		{name: "two prefixes bound to one URI, one declared by an ancestor", in: `<r xmlns:a="urn:a"><s xmlns:b="urn:a" a:x="1" b:x="2"/></r>`},
		{name: "two prefixes bound to the xml namespace", in: `<r xmlns:xml="http://www.w3.org/XML/1998/namespace" xml:lang="en" xml:lang="fr"/>`},
		{name: "prefix declared twice", in: `<r xmlns:a="urn:a" xmlns:a="urn:b"/>`},
		{name: "default namespace declared twice", in: `<r xmlns="urn:a" xmlns="urn:b"/>`},
		{name: "unprefixed twice after 8 others (map path)", in: `<r` + manyAttrs(9) + ` a3="w"/>`},
		{name: "unprefixed twice at the end of 200 (map path)", in: `<r` + manyAttrs(200) + ` a199="w"/>`},
		{name: "two prefixes bound to one URI (map path)", in: `<r xmlns:a="urn:a" xmlns:b="urn:a"` + manyAttrs(9) + ` a:x="1" b:x="2"/>`},
		{name: "prefix declared twice (map path)", in: `<r xmlns:p="urn:a"` + manyAttrs(9) + ` xmlns:p="urn:a"/>`},
		{name: "map path on a later element after a large one", in: `<r` + manyAttrs(100) + `><s` + manyAttrs(20) + ` a0="w"/></r>`},
		{name: "nine distinct attributes (map path)", in: `<r` + manyAttrs(9) + `/>`, accept: true},
		{name: "map path reused on siblings", in: `<r><s` + manyAttrs(12) + `/><s` + manyAttrs(12) + `/></r>`, accept: true},
		{name: "same local name, different namespaces", in: `<r xmlns:a="urn:a" xmlns:b="urn:b" x="0" a:x="1" b:x="2"/>`, accept: true},
		{name: "same local name, different namespaces (map path)", in: `<r xmlns:a="urn:a" xmlns:b="urn:b"` + manyAttrs(9) + ` a:a0="1" b:a0="2"/>`, accept: true},
		{name: "declaration named like an attribute", in: `<r xmlns:Name="email" Name="last_name"/>`, accept: true},
		{name: "same prefix redeclared on a child", in: `<r xmlns:a="urn:a" a:x="1"><s xmlns:a="urn:b" a:x="2"/></r>`, accept: true},

		// Encodings.
		{name: `encoding="UTF-8"`, in: `<?xml version="1.0" encoding="UTF-8"?><r/>`, accept: true},
		{name: `encoding="utf-8"`, in: `<?xml version="1.0" encoding="utf-8"?><r/>`, accept: true},
		{name: `encoding="UTF-16"`, in: `<?xml version="1.0" encoding="UTF-16"?><r/>`},
		{name: `encoding="ISO-8859-1"`, in: `<?xml version="1.0" encoding="ISO-8859-1"?><r/>`},
		{name: `encoding="US-ASCII"`, in: `<?xml version="1.0" encoding="US-ASCII"?><r/>`},
		{name: "UTF-16LE byte order mark", in: "\xff\xfe<\x00r\x00/\x00>\x00"},
		{name: "UTF-16BE byte order mark", in: "\xfe\xff\x00<\x00r\x00/\x00>"},
		{name: "UTF-8 byte order mark", in: "\xef\xbb\xbf<r/>", accept: true},
		{name: "invalid UTF-8 in text", in: "<r>\xff</r>"},
		{name: "invalid UTF-8 in an attribute", in: "<r a=\"\xc0\xaf\"/>"},
		{name: "truncated UTF-8 sequence", in: "<r>\xe2\x82</r>"},
		{name: "XML 1.1", in: `<?xml version="1.1"?><r/>`},
		{name: "XML declaration after white space", in: "\n<?xml version=\"1.0\"?><r/>"},

		// Outside the document element.
		{name: "no document element", in: ``},
		{name: "only white space", in: " \n "},
		{name: "second root element", in: `<r/><s/>`},
		{name: "second root element after white space", in: "<r/>\n<r/>"},
		{name: "text after the root", in: `<r/>x`},
		{name: "text before the root", in: `x<r/>`},
		{name: "white-space character reference after the root", in: `<r/>&#x20;`},
		{name: "white-space CDATA after the root", in: "<r/><![CDATA[ ]]>"},
		{name: "white-space character reference before the root", in: `&#x9;<r/>`},
		{name: "character reference after the root", in: `<r/>&#x41;`},
		{name: "comment after the root", in: `<r/><!--c-->`},
		{name: "comment after the root, comments allowed", in: `<r/><!--c-->`, opts: permissive, accept: true},
		{name: "comment before the root", in: `<!--c--><r/>`},
		{name: "processing instruction after the root", in: `<r/><?p x?>`},
		{name: "processing instruction after the root, allowed", in: `<r/><?p x?>`, opts: permissive, accept: true},
		{name: "xml processing instruction after the root, allowed", in: `<r/><?xml version="1.0"?>`, opts: permissive},

		// DTDs and directives.
		{name: "DOCTYPE", in: `<!DOCTYPE r><r/>`},
		{name: "internal subset with ENTITY", in: `<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>`},
		{name: "ENTITY text anywhere", in: `<r><![CDATA[<!ENTITY]]></r>`},
		{name: "lower-case doctype", in: `<!doctype r><r/>`},
		{name: "directive inside", in: `<r><!x></r>`},
		{name: "directive inside, everything else allowed", in: `<r><!x></r>`, opts: permissive},
		{name: "undefined entity", in: `<r>&e;</r>`},

		// Names and prefixes.
		{name: "undeclared prefix on the element", in: `<a:r/>`},
		{name: "undeclared prefix on a child", in: `<r><a:s/></r>`},
		{name: "prefix declared on a sibling only", in: `<r><s xmlns:a="urn:a"/><a:s/></r>`},
		{name: "undeclared prefix on an attribute", in: `<r a:x="1"/>`},
		{name: "prefix bound to the empty namespace", in: `<r xmlns:p=""/>`},
		{name: "prefix bound to the empty namespace, used", in: `<r xmlns:p=""><p:s/></r>`},
		{name: "default namespace undeclared", in: `<r xmlns="urn:a"><s xmlns=""/></r>`, accept: true},
		{name: "xml prefix bound to its namespace", in: `<r xmlns:xml="http://www.w3.org/XML/1998/namespace" xml:lang="en"/>`, accept: true},
		{name: "xml prefix used undeclared", in: `<r xml:lang="en"><xml:s/></r>`, accept: true},
		{name: "xml prefix rebound", in: `<r xmlns:xml="urn:other"/>`},
		{name: "XML namespace bound to another prefix", in: `<r xmlns:x="http://www.w3.org/XML/1998/namespace"/>`},
		{name: "XML namespace as the default", in: `<r xmlns="http://www.w3.org/XML/1998/namespace"/>`},
		{name: "xmlns prefix declared", in: `<r xmlns:xmlns="urn:x"/>`},
		{name: "xmlns namespace declared", in: `<r xmlns:x="http://www.w3.org/2000/xmlns/"/>`},
		{name: "xmlns namespace as the default", in: `<r xmlns="http://www.w3.org/2000/xmlns/"/>`},
		{name: "xmlns prefix on an element", in: `<xmlns:r/>`},
		{name: "xmlns prefix on a child element", in: `<r><xmlns:s/></r>`},
		{name: "element name with two colons", in: `<a:b:c xmlns:a="urn:a"/>`},
		{name: "attribute name with two colons", in: `<r xmlns:a="urn:a" a:b:c="1"/>`},
		{name: "declaration with two colons", in: `<r xmlns:a:b="urn:a"/>`},
		{name: "empty CDATA section", in: `<r><![CDATA[]]>&amp;>&amp;</r>`},
		// FuzzXMLSafety: an XML name but no QName (the local part is no NCName).
		{name: "element local part starting with a digit", in: `<a:9b xmlns:a="urn:a"/>`},
		{name: "element local part starting with a hyphen", in: `<a:-b xmlns:a="urn:a"/>`},
		{name: "attribute local part starting with a dot", in: `<r xmlns:a="urn:a" a:.b="1"/>`},
		{name: "declared prefix starting with a digit", in: `<r xmlns:9a="urn:a"/>`},
		{name: "empty element prefix", in: `<:r/>`},
		{name: "empty element local name", in: `<r><a: xmlns:a="urn:a"/></r>`},
		{name: "empty attribute local name", in: `<r xmlns:a="urn:a" a:="1"/>`},
		{name: "empty declared prefix", in: `<r xmlns:="urn:a"/>`},

		// Prefixes in scope.
		{name: "64 prefixes in scope", in: `<r` + decls("p", 64) + `/>`, accept: true},
		{name: "65 prefixes in scope", in: `<r` + decls("p", 65) + `/>`},
		{name: "63 prefixes and the default namespace", in: `<r xmlns="urn:d"` + decls("p", 63) + `/>`, accept: true},
		{name: "64 prefixes and the default namespace", in: `<r xmlns="urn:d"` + decls("p", 64) + `/>`},
		{name: "64 on the root, one more on a child", in: `<r` + decls("p", 64) + `><s xmlns:q="urn:q"/></r>`},
		{name: "64 on the root, all redeclared on a child", in: `<r` + decls("p", 64) + `><s` + decls("p", 64) + `/></r>`, accept: true},
		{name: "40 on each of two siblings", in: `<r><s` + decls("p", 40) + `/><s` + decls("q", 40) + `/></r>`, accept: true},
		{name: "40 on a parent and 40 on its child", in: `<r` + decls("p", 40) + `><s` + decls("q", 40) + `/></r>`},
		{name: "custom limit reached", in: `<r` + decls("p", 3) + `/>`, opts: safexml.Options{MaxNamespaces: 3}, accept: true},
		{name: "custom limit passed", in: `<r` + decls("p", 4) + `/>`, opts: safexml.Options{MaxNamespaces: 3}},

		// Depth.
		{name: "depth at the default limit", in: nest(safexml.DefaultMaxDepth), accept: true},
		{name: "depth over the default limit", in: nest(safexml.DefaultMaxDepth + 1)},
		{name: "depth far over the default limit", in: nest(100000)},
		{name: "depth at a custom limit", in: nest(5), opts: safexml.Options{MaxDepth: 5}, accept: true},
		{name: "depth over a custom limit", in: nest(6), opts: safexml.Options{MaxDepth: 5}},

		// Comments and processing instructions inside.
		{name: "comment inside", in: `<r><!--c--></r>`},
		{name: "comment inside, allowed", in: `<r><!--c--></r>`, opts: safexml.Options{AllowComments: true}, accept: true},
		{name: "comment inside, only PIs allowed", in: `<r><!--c--></r>`, opts: safexml.Options{AllowProcInst: true}},
		{name: "processing instruction inside", in: `<r><?p x?></r>`},
		{name: "processing instruction inside, allowed", in: `<r><?p x?></r>`, opts: safexml.Options{AllowProcInst: true}, accept: true},
		{name: "processing instruction inside, only comments allowed", in: `<r><?p x?></r>`, opts: safexml.Options{AllowComments: true}},
		{name: "xml declaration inside, PIs allowed", in: `<r><?xml version="1.0"?></r>`, opts: permissive},
		{name: "XML-cased target inside, PIs allowed", in: `<r><?XmL x?></r>`, opts: permissive},

		// Inherited context.
		{name: "inherited prefix", in: `<saml:A/>`, opts: safexml.Options{Inherited: map[string]string{"saml": "urn:s"}}, accept: true},
		{name: "inherited prefix bound to the empty namespace", in: `<r/>`, opts: safexml.Options{Inherited: map[string]string{"p": ""}}},
		{name: "inherited xmlns prefix", in: `<r/>`, opts: safexml.Options{Inherited: map[string]string{"xmlns": "urn:x"}}},
		{name: "inherited xml prefix rebound", in: `<r/>`, opts: safexml.Options{Inherited: map[string]string{"xml": "urn:x"}}},
		{name: "inherited default namespace", in: `<r/>`, opts: safexml.Options{Inherited: map[string]string{"": "urn:d"}}, accept: true},

		// Well-formedness.
		{name: "unclosed element", in: `<r>`},
		{name: "mismatched end tag", in: `<r></s>`},
		{name: "illegal character", in: "<r>\x01</r>"},
		{name: "CDATA and references", in: `<r><![CDATA[x]]>&amp;&#x41;</r>`, accept: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc, err := safexml.Parse([]byte(tc.in), tc.opts)
			if tc.accept {
				require.NoError(t, err)
				require.NotNil(t, doc.Root())
				return
			}
			if !errors.Is(err, safexml.ErrMalformed) {
				t.Fatalf("Parse(%.80q) err = %v; want ErrMalformed", tc.in, err)
			}
			assert.Nil(t, doc)
			var se *safexml.Error
			require.ErrorAs(t, err, &se)
			assert.Less(t, len(err.Error()), 300, "the reason quotes too much input")
		})
	}
	t.Logf("%d cases", len(cases))
}

// TestParseErrorsQuoteLittle: a reason never carries a long name or value
// from the input.
func TestParseErrorsQuoteLittle(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("n", 100000)
	for _, in := range []string{
		`<r ` + long + `="1" ` + long + `="2"/>`,
		`<` + long + `:r/>`,
		`<r ` + long + `:x="1"/>`,
		`<r xmlns:` + long + `=""/>`,
		`<?xml version="1.0" encoding="` + long + `"?><r/>`,
		`<r><a:b:` + long + ` xmlns:a="urn:a"/></r>`,
		`<r>` + long,
	} {
		_, err := safexml.Parse([]byte(in), safexml.Options{})
		require.ErrorIs(t, err, safexml.ErrMalformed)
		assert.Less(t, len(err.Error()), 300)
	}
}

// TestAttr: declarations and prefixed attributes are never read as the
// unprefixed attribute of the same local name.
func TestAttr(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		in      string
		local   string
		want    string
		present bool
	}{
		{name: "plain", in: `<r Name="email"/>`, local: "Name", want: "email", present: true},
		{name: "declaration before the attribute", in: `<r xmlns:Name="email" Name="last_name"/>`, local: "Name", want: "last_name", present: true},
		{name: "declaration after the attribute", in: `<r Name="last_name" xmlns:Name="email"/>`, local: "Name", want: "last_name", present: true},
		{name: "declaration only", in: `<r xmlns:Name="email"/>`, local: "Name"},
		{name: "absolute-URI declaration only", in: `<r xmlns:ID="urn:oasis:names:tc:SAML:2.0:assertion"/>`, local: "ID"},
		{name: "prefixed attribute only", in: `<r xmlns:p="urn:p" p:Name="email"/>`, local: "Name"},
		{name: "prefixed attribute before the unprefixed one", in: `<r xmlns:p="urn:p" p:Name="email" Name="last_name"/>`, local: "Name", want: "last_name", present: true},
		{name: "xml: attribute", in: `<r xml:lang="en"/>`, local: "lang"},
		{name: "default namespace declaration is not an attribute", in: `<r xmlns="urn:d"/>`, local: "xmlns"},
		{name: "empty value is present", in: `<r Name=""/>`, local: "Name", present: true},
		{name: "absent", in: `<r Other="x"/>`, local: "Name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc, err := safexml.Parse([]byte(tc.in), safexml.Options{})
			require.NoError(t, err)
			got, ok := safexml.Attr(doc.Root(), tc.local)
			assert.Equal(t, tc.present, ok, "Attr(%q) present", tc.local)
			assert.Equal(t, tc.want, got, "Attr(%q)", tc.local)
			assert.Equal(t, tc.want, safexml.AttrValue(doc.Root(), tc.local))
		})
	}
	_, ok := safexml.Attr(nil, "Name")
	assert.False(t, ok, "Attr(nil)")
}

// TestNamespace: every element's URI as resolved in its scope, declarations
// undone when their element ends.
func TestNamespace(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		in        string
		inherited map[string]string
		want      []string // URIs of the elements in document order
	}{
		{name: "no namespace", in: `<r><s/></r>`, want: []string{"", ""}},
		{name: "default namespace", in: `<r xmlns="urn:d"><s/></r>`, want: []string{"urn:d", "urn:d"}},
		{name: "default undeclared", in: `<r xmlns="urn:d"><s xmlns=""><t/></s><u/></r>`, want: []string{"urn:d", "", "", "urn:d"}},
		{name: "prefix redeclared and restored", in: `<a:r xmlns:a="urn:1"><a:x xmlns:a="urn:2"><a:y/></a:x><a:z/></a:r>`,
			want: []string{"urn:1", "urn:2", "urn:2", "urn:1"}},
		{name: "declaration after use on the same element", in: `<a:r a:k="1" xmlns:a="urn:1"/>`, want: []string{"urn:1"}},
		{name: "sibling scope ends", in: `<r xmlns:a="urn:1"><s xmlns:b="urn:2"><b:t/></s><a:t/></r>`, want: []string{"", "", "urn:2", "urn:1"}},
		{name: "xml prefix", in: `<r><xml:s/></r>`, want: []string{"", NamespaceXML}},
		{name: "inherited prefix", in: `<saml:A><saml:B/></saml:A>`, inherited: map[string]string{"saml": "urn:s"}, want: []string{"urn:s", "urn:s"}},
		{name: "inherited prefix overridden", in: `<saml:A xmlns:saml="urn:t"/>`, inherited: map[string]string{"saml": "urn:s"}, want: []string{"urn:t"}},
		{name: "inherited default namespace", in: `<A><B xmlns=""/></A>`, inherited: map[string]string{"": "urn:d"}, want: []string{"urn:d", ""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc, err := safexml.Parse([]byte(tc.in), safexml.Options{Inherited: tc.inherited})
			require.NoError(t, err)
			var got []string
			var walk func(el *etree.Element)
			walk = func(el *etree.Element) {
				got = append(got, doc.Namespace(el))
				for _, c := range el.ChildElements() {
					walk(c)
				}
			}
			walk(doc.Root())
			assert.Equal(t, tc.want, got)
		})
	}
}

// NamespaceXML is repeated here so the table reads.
const NamespaceXML = safexml.NamespaceXML

func TestDocLookups(t *testing.T) {
	t.Parallel()
	doc, err := safexml.Parse([]byte(`<p:R xmlns:p="urn:p" xmlns:q="urn:p" xmlns:o="urn:o">`+
		`<p:C n="1"/><o:C n="x"/><q:C n="2"/><C n="y"/><p:D/></p:R>`), safexml.Options{})
	require.NoError(t, err)
	root := doc.Root()
	assert.True(t, doc.Is(root, "urn:p", "R"))
	assert.False(t, doc.Is(root, "", "R"))
	assert.False(t, doc.Is(nil, "urn:p", "R"))
	assert.False(t, doc.Is(etree.NewElement("R"), "", "R"), "an element outside the Doc")
	assert.Equal(t, "1", safexml.AttrValue(doc.Child(root, "urn:p", "C"), "n"))
	assert.Equal(t, 2, doc.Count(root, "urn:p", "C"), "q: is bound to the same URI as p:")
	var ns []string
	for _, c := range doc.Children(root, "urn:p", "C") {
		ns = append(ns, safexml.AttrValue(c, "n"))
	}
	assert.Equal(t, []string{"1", "2"}, ns)
	assert.Nil(t, doc.Child(root, "urn:p", "E"))
	assert.Equal(t, "", doc.Namespace(etree.NewElement("x")))
	assert.Equal(t, map[string]string{"p": "urn:p", "q": "urn:p", "o": "urn:o", "i": "urn:i"},
		doc.InScope(doc.Child(root, "urn:p", "D"), map[string]string{"i": "urn:i", "o": "urn:old"}))
}

// TestText: character data across CDATA sections (and comments, when
// allowed) is one value; markup inside means no text value.
func TestText(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		in      string
		want    string
		trimmed string
		ok      bool
	}{
		{name: "empty", in: `<r/>`, ok: true},
		{name: "plain", in: `<r> a b </r>`, want: " a b ", trimmed: "a b", ok: true},
		{name: "CDATA split", in: `<r>al<![CDATA[ice@]]>acme<![CDATA[.example]]></r>`, want: "alice@acme.example", trimmed: "alice@acme.example", ok: true},
		{name: "CDATA only", in: "<r><![CDATA[\n x \t]]></r>", want: "\n x \t", trimmed: "x", ok: true},
		{name: "references", in: `<r>&lt;&#x41;&#66;</r>`, want: "<AB", trimmed: "<AB", ok: true},
		{name: "XML white space only is trimmed", in: "<r>\u00a0x\u00a0\r\n</r>", want: "\u00a0x\u00a0\n", trimmed: "\u00a0x\u00a0", ok: true},
		{name: "comment joins", in: `<r>alice@acme<!---->.example</r>`, want: "alice@acme.example", trimmed: "alice@acme.example", ok: true},
		{name: "child element", in: `<r>a<s/>b</r>`},
		{name: "child element only", in: `<r><s>x</s></r>`},
		{name: "child element between CDATA", in: `<r><![CDATA[a]]><s/><![CDATA[b]]></r>`},
		{name: "processing instruction", in: `<r>a<?p x?>b</r>`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc, err := safexml.Parse([]byte(tc.in), safexml.Options{AllowComments: true, AllowProcInst: true})
			require.NoError(t, err)
			got, ok := safexml.Text(doc.Root())
			assert.Equal(t, tc.ok, ok, "Text ok")
			assert.Equal(t, tc.want, got, "Text")
			got, ok = safexml.TrimmedText(doc.Root())
			assert.Equal(t, tc.ok, ok, "TrimmedText ok")
			assert.Equal(t, tc.trimmed, got, "TrimmedText")
		})
	}
}

// TestIndex checks trees built in code, as a library that re-parsed
// canonical bytes hands them over.
func TestIndex(t *testing.T) {
	t.Parallel()
	_, err := safexml.Index(nil, safexml.Options{})
	require.ErrorIs(t, err, safexml.ErrMalformed)

	dup := etree.NewElement("r")
	dup.Attr = append(dup.Attr, etree.Attr{Key: "ID", Value: "1"}, etree.Attr{Key: "ID", Value: "2"})
	_, err = safexml.Index(dup, safexml.Options{})
	require.ErrorIs(t, err, safexml.ErrMalformed, "duplicate attribute in a built tree")

	deep := etree.NewElement("r")
	for el, i := deep, 0; i < 10; i++ {
		el = el.CreateElement("a")
	}
	_, err = safexml.Index(deep, safexml.Options{MaxDepth: 10})
	require.ErrorIs(t, err, safexml.ErrMalformed, "11 levels with MaxDepth 10")
	_, err = safexml.Index(deep, safexml.Options{MaxDepth: 11})
	require.NoError(t, err)

	ok := etree.NewElement("p:r")
	ok.CreateAttr("xmlns:p", "urn:p")
	ok.CreateElement("p:s").CreateAttr("Name", "x")
	doc, err := safexml.Index(ok, safexml.Options{})
	require.NoError(t, err)
	assert.Equal(t, "urn:p", doc.Namespace(doc.Child(ok, "urn:p", "s")))

	comment := etree.NewElement("r")
	comment.CreateComment("c")
	_, err = safexml.Index(comment, safexml.Options{})
	require.ErrorIs(t, err, safexml.ErrMalformed)
	_, err = safexml.Index(comment, safexml.Options{AllowComments: true})
	require.NoError(t, err)
}

// TestParseMarkupBound: tags and attribute assignments are counted before
// parsing; one over the bound is refused without building a tree, the bound
// itself is accepted.
func TestParseMarkupBound(t *testing.T) {
	const max = 100
	elems := func(n int) []byte { // n '<' bytes: the root, its end tag and n-2 empty children
		return []byte("<r>" + strings.Repeat("<e/>", n-2) + "</r>")
	}
	attrs := func(n int, q string) []byte {
		var b strings.Builder
		b.WriteString("<r")
		for i := range n {
			b.WriteString(" a" + strconv.Itoa(i) + "=" + q + "v" + q)
		}
		b.WriteString("/>")
		return []byte(b.String())
	}
	tests := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"tags at the bound", elems(max), true},
		{"tags over the bound", elems(max + 1), false},
		{"double-quoted attributes at the bound", attrs(max, `"`), true},
		{"double-quoted attributes over the bound", attrs(max+1, `"`), false},
		{"single-quoted attributes over the bound", attrs(max+1, `'`), false},
		{"mixed quotes over the bound", append(attrs(max/2, `"`)[:len(attrs(max/2, `"`))-2], attrs(max/2+1, `'`)[2:]...), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := safexml.Parse(tt.in, safexml.Options{MaxMarkup: max})
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, safexml.ErrMalformed)
			assert.Contains(t, err.Error(), "tags or attributes")
		})
	}
}
