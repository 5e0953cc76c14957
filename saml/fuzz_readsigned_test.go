package saml_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

// FuzzReadEqualsSigned starts from validly signed responses (every sign
// mode, encrypted, IdP-initiated, rotation, and real-IdP captures) and
// applies fuzzer-chosen mutations meant to preserve the signature: namespace
// declarations named like every attribute the reader uses, redundant and
// default-namespace declarations, attribute order, quote style, white space
// in tags, CDATA splits, character references, empty-element forms,
// duplicate attributes, comments and processing instructions, content
// before and after the document element. Each mutated response must be
// refused or read exactly as the unmutated one, and what it read must be
// what was signed. ops is a small program: see mutate.
func FuzzReadEqualsSigned(f *testing.F) {
	bases := fuzzBases(f)
	for i := range bases {
		f.Add(uint8(i), []byte{})
	}
	for _, s := range readSignedSeeds {
		f.Add(uint8(s.base), s.ops)
	}
	f.Fuzz(func(t *testing.T, base uint8, ops []byte) {
		if len(ops) > 96 {
			ops = ops[:96]
		}
		b := &bases[int(base)%len(bases)]
		d, err := lexDoc(b.xml)
		if err != nil {
			t.Fatalf("lexDoc(%s) err = %v", b.name, err)
		}
		applied := mutate(d, ops)
		holdsReadSigned(t, b, d.bytes(), applied)
	})
}

var (
	fuzzBasesOnce sync.Once
	fuzzBasesVal  []readSignedBase
)

// fuzzBases builds the bases once per process (each fuzz worker is one).
func fuzzBases(t testing.TB) []readSignedBase {
	fuzzBasesOnce.Do(func() { fuzzBasesVal = readSignedBases(t) })
	if fuzzBasesVal == nil {
		t.Fatal("no bases")
	}
	return fuzzBasesVal
}

// holdsReadSigned is the invariant: mutated is refused, or read as signed
// and, unless a mutation changed what the document says (rebind), as b was.
func holdsReadSigned(t *testing.T, b *readSignedBase, mutated []byte, applied []string) bool {
	t.Helper()
	got := b.validate(mutated)
	if got.Err != nil {
		return false
	}
	if got.Mismatch != nil {
		t.Errorf("%s after %q: %v\n%s", b.name, applied, got.Mismatch, mutated)
		return true
	}
	for _, a := range applied {
		if strings.HasPrefix(a, kindNames[kindRebind]+":") {
			return true // the unsigned parts now say something else
		}
	}
	if diff := b.want.Diff(got); diff != "" {
		t.Errorf("%s after %q reads differently: %s\n%s", b.name, applied, diff, mutated)
	}
	return true
}

// readSignedSeeds are interesting programs, kept as f.Add seeds: each
// attribute-shadowing declaration on every element carrying the attribute
// (kindShadowAll), in the first three sign modes.
var readSignedSeeds = func() []struct {
	base int
	ops  []byte
} {
	var out []struct {
		base int
		ops  []byte
	}
	for base := 0; base < 3; base++ {
		for i := range readerAttrNames {
			out = append(out, struct {
				base int
				ops  []byte
			}{base, []byte{kindShadowAll, byte(i), byte(i)}})
		}
	}
	return out
}()

// TestReadEqualsSignedMutations runs every mutation kind, with
// deterministic parameters, on every base, so that each kind is exercised on
// every sign mode in CI and not only while fuzzing, then, in each sign mode,
// each shadowing declaration before every attribute it names and on every
// element. It logs how
// many mutated responses of each kind were accepted (and then read
// identically); duplicate attributes, comments and processing instructions
// must always be refused.
func TestReadEqualsSignedMutations(t *testing.T) {
	t.Parallel()
	bases := fuzzBases(t)
	const perKind = 2
	var applied, accepted [numKinds]int
	total := 0
	run := func(b *readSignedBase, kind int, params []byte) {
		d, err := lexDoc(b.xml)
		if err != nil {
			t.Fatal(err)
		}
		desc := d.apply(kind, &opReader{b: params})
		if desc == "" {
			return
		}
		total++
		applied[kind]++
		if holdsReadSigned(t, b, d.bytes(), []string{kindNames[kind] + ": " + desc}) {
			accepted[kind]++
			if kind == kindDupAttr || kind == kindCommentPI {
				t.Errorf("%s: %s %s accepted; want it refused", b.name, kindNames[kind], desc)
			}
		}
	}
	for bi := range bases {
		rng := rand.New(rand.NewPCG(uint64(bi), 9))
		for kind := 0; kind < numKinds; kind++ {
			for i := 0; i < perKind; i++ {
				params := make([]byte, 12)
				for j := range params {
					params[j] = byte(rng.IntN(256))
				}
				run(&bases[bi], kind, params)
			}
		}
	}
	for bi := range bases {
		switch bases[bi].name {
		case "SignAssertion", "SignResponse", "SignBoth", "GCM SignResponse", "IdP-initiated SignAssertion":
		default:
			continue
		}
		for i := range readerAttrNames {
			run(&bases[bi], kindShadowAll, []byte{byte(i), 6}) // "email"
			run(&bases[bi], kindDeclAll, []byte{byte(i), 17})  // testRequestID
		}
	}
	var sb strings.Builder
	for k := 0; k < numKinds; k++ {
		fmt.Fprintf(&sb, " %s %d/%d;", kindNames[k], accepted[k], applied[k])
	}
	t.Logf("%d mutated responses on %d bases; accepted/applied per kind:%s", total, len(bases), sb.String())
}

// The mutation kinds (the first byte of each op of a program).
const (
	kindNSDecl        = iota // an unused declaration xmlns:P="U", P named like an attribute
	kindDefaultNS            // xmlns="U" or xmlns=""
	kindReorder              // swap two attributes
	kindQuote                // switch an attribute's quote character
	kindTagSpace             // white space before an attribute, around =, before > or />
	kindCDATA                // move part of a text into a CDATA section
	kindCharRef              // one character as a character or entity reference
	kindEmptyForm            // <a></a> <-> <a/>
	kindDupAttr              // the same attribute twice (same or other value)
	kindCommentPI            // a comment or processing instruction between tokens
	kindAfterRoot            // content after the document element
	kindProlog               // XML declaration variants, byte order mark
	kindPrefixedAttr         // a prefixed attribute P:Name="v" with its declaration
	kindTextSpace            // white space text between elements or around a value
	kindRedundantDecl        // a declaration in scope repeated on a descendant
	kindShadowAll            // xmlns:Name="v" before Name on every element carrying Name
	kindDeclAll              // xmlns:Name="v" on every element (Name present or not)
	kindRename               // an element's prefix renamed, its namespace declared again
	kindRebind               // an element's own prefix bound to another namespace (changes meaning)
	numKinds
)

var kindNames = [numKinds]string{"nsdecl", "defaultns", "reorder", "quote", "tagspace", "cdata", "charref",
	"emptyform", "dupattr", "commentpi", "afterroot", "prolog", "prefixedattr", "textspace", "redundantdecl", "shadowall", "declall", "rename", "rebind"}

// readerAttrNames are the attributes the Validator reads.
var readerAttrNames = []string{"ID", "Version", "Name", "Value", "Format", "NotOnOrAfter", "NotBefore",
	"InResponseTo", "Recipient", "Method", "Destination", "Algorithm", "URI", "SPNameQualifier",
	"SessionIndex", "SessionNotOnOrAfter", "IssueInstant"}

// declPrefixes are the prefixes declared: attribute names, the prefixes in
// use, and others.
var declPrefixes = append(append([]string{}, readerAttrNames...), "saml", "samlp", "ds", "xenc", "xs", "xsi", "p", "NameFormat")

// shadowValues are namespace URIs and attribute values a declaration or a
// shadowing attribute carries: absolute URIs (the namespaces in use among
// them), values an attacker wants read, and relative names.
var shadowValues = []string{
	"urn:oasis:names:tc:SAML:2.0:assertion", "urn:oasis:names:tc:SAML:2.0:protocol",
	"http://www.w3.org/2000/09/xmldsig#", "http://www.w3.org/2001/04/xmlenc#",
	"urn:evil", "https://evil.example/ns#", "email", "roles", "_evil", "id-other",
	"mallory@acme.example", "https://evil.example/acs", "urn:oasis:names:tc:SAML:2.0:status:Success",
	"urn:oasis:names:tc:SAML:2.0:cm:bearer", "2099-01-01T00:00:00Z", "2.0",
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", testRequestID, "",
}

var spaces = []string{" ", "  ", "\t", "\n", "\r\n", " \t\n ", "\r", "\n\n\t"}

// mdoc is a document as tokens the mutator can edit and write back.
type mdoc struct{ toks []mtok }

const (
	tStart = iota
	tEnd
	tText
	tRaw // written verbatim: declaration, comment, PI, byte order mark
)

type mtok struct {
	kind      int
	name      string // qualified, for tStart and tEnd
	attrs     []mattr
	selfClose bool   // tStart: written as <a/> when its end tag follows
	endSpace  string // white space before > or />
	text      []seg  // tText
	raw       string // tRaw
}

type mattr struct {
	space, name, eq string
	quote           byte
	val             []seg
}

// seg is a piece of a text or attribute value: plain text (escaped as
// needed when written), a CDATA section, or one reference.
type seg struct {
	kind int // segPlain, segCDATA, segRef
	val  string
	ref  string
}

const (
	segPlain = iota
	segCDATA
	segRef
)

// lexDoc reads a document into tokens with encoding/xml's raw tokenizer
// (no namespace processing); values are decoded and written back escaped.
func lexDoc(b []byte) (*mdoc, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	out := &mdoc{}
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			m := mtok{kind: tStart, name: qname(t.Name)}
			for _, a := range t.Attr {
				m.attrs = append(m.attrs, mattr{space: " ", name: qname(a.Name), eq: "=", quote: '"', val: []seg{{val: a.Value}}})
			}
			out.toks = append(out.toks, m)
		case xml.EndElement:
			n := len(out.toks)
			if n > 0 && out.toks[n-1].kind == tStart && out.toks[n-1].name == qname(t.Name) {
				out.toks[n-1].selfClose = true
			}
			out.toks = append(out.toks, mtok{kind: tEnd, name: qname(t.Name)})
		case xml.CharData:
			out.toks = append(out.toks, mtok{kind: tText, text: []seg{{val: string(t)}}})
		case xml.Comment:
			out.toks = append(out.toks, mtok{kind: tRaw, raw: "<!--" + string(t) + "-->"})
		case xml.ProcInst:
			out.toks = append(out.toks, mtok{kind: tRaw, raw: "<?" + t.Target + " " + string(t.Inst) + "?>"})
		case xml.Directive:
			out.toks = append(out.toks, mtok{kind: tRaw, raw: "<!" + string(t) + ">"})
		}
	}
	return out, nil
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// bytes writes the document.
func (d *mdoc) bytes() []byte {
	var b bytes.Buffer
	for i := 0; i < len(d.toks); i++ {
		t := &d.toks[i]
		switch t.kind {
		case tStart:
			b.WriteString("<" + t.name)
			for _, a := range t.attrs {
				b.WriteString(a.space + a.name + a.eq)
				b.WriteByte(a.quote)
				writeSegs(&b, a.val, a.quote)
				b.WriteByte(a.quote)
			}
			b.WriteString(t.endSpace)
			if t.selfClose && i+1 < len(d.toks) && d.toks[i+1].kind == tEnd {
				b.WriteString("/>")
				i++
			} else {
				b.WriteString(">")
			}
		case tEnd:
			b.WriteString("</" + t.name + t.endSpace + ">")
		case tText:
			writeSegs(&b, t.text, 0)
		case tRaw:
			b.WriteString(t.raw)
		}
	}
	return b.Bytes()
}

// writeSegs writes a value; quote is the attribute's quote character, 0 in
// text.
func writeSegs(b *bytes.Buffer, segs []seg, quote byte) {
	for _, s := range segs {
		switch s.kind {
		case segCDATA:
			b.WriteString("<![CDATA[" + s.val + "]]>")
		case segRef:
			b.WriteString(s.ref)
		default:
			for _, r := range s.val {
				switch {
				case r == '&':
					b.WriteString("&amp;")
				case r == '<':
					b.WriteString("&lt;")
				case r == '>' && quote == 0:
					b.WriteString("&gt;")
				case r == '"' && quote == '"':
					b.WriteString("&quot;")
				case r == '\'' && quote == '\'':
					b.WriteString("&apos;")
				case r == '\r', quote != 0 && (r == '\n' || r == '\t'):
					fmt.Fprintf(b, "&#x%X;", r)
				default:
					b.WriteRune(r)
				}
			}
		}
	}
}

// opReader hands out the bytes of a program; past its end it yields zeros.
type opReader struct {
	b []byte
	i int
}

func (r *opReader) next() int {
	if r.i >= len(r.b) {
		r.i++
		return 0
	}
	r.i++
	return int(r.b[r.i-1])
}

// pick returns an index below n (0 when n is 0), from two bytes.
func (r *opReader) pick(n int) int {
	v := r.next()<<8 | r.next()
	if n <= 0 {
		return 0
	}
	return v % n
}

// mutate applies the program ops to d and describes what it did. Each op is
// a kind byte followed by the bytes that kind reads.
func mutate(d *mdoc, ops []byte) []string {
	r := &opReader{b: ops}
	var out []string
	for r.i < len(r.b) && len(out) < 16 {
		kind := r.next() % numKinds
		if desc := d.apply(kind, r); desc != "" {
			out = append(out, kindNames[kind]+": "+desc)
		}
	}
	return out
}

func (d *mdoc) indices(kind int) []int {
	var out []int
	for i, t := range d.toks {
		if t.kind == kind {
			out = append(out, i)
		}
	}
	return out
}

func (d *mdoc) insert(at int, t mtok) {
	d.toks = append(d.toks, mtok{})
	copy(d.toks[at+1:], d.toks[at:])
	d.toks[at] = t
}

func plainAttr(name, val string) mattr {
	return mattr{space: " ", name: name, eq: "=", quote: '"', val: []seg{{val: val}}}
}

func (t *mtok) insertAttr(at int, a mattr) {
	at %= len(t.attrs) + 1
	t.attrs = append(t.attrs, mattr{})
	copy(t.attrs[at+1:], t.attrs[at:])
	t.attrs[at] = a
}

// value picks a shadow value or the value of some attribute of the document.
func (d *mdoc) value(r *opReader) string {
	n := r.next()
	if n%4 != 3 {
		return shadowValues[n%len(shadowValues)]
	}
	var vals []string
	for _, t := range d.toks {
		for _, a := range t.attrs {
			vals = append(vals, joinSegs(a.val))
		}
	}
	if len(vals) == 0 {
		return ""
	}
	return vals[r.pick(len(vals))]
}

func joinSegs(segs []seg) string {
	var b strings.Builder
	for _, s := range segs {
		if s.kind == segRef {
			if v, err := xmlUnescape(s.ref); err == nil {
				b.WriteString(v)
			}
			continue
		}
		b.WriteString(s.val)
	}
	return b.String()
}

func xmlUnescape(s string) (string, error) {
	d := xml.NewDecoder(strings.NewReader("<x>" + s + "</x>"))
	var b strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return b.String(), nil
		}
		if err != nil {
			return "", err
		}
		if c, ok := tok.(xml.CharData); ok {
			b.Write(c)
		}
	}
}

// apply performs one mutation of kind, reading its parameters from r; it
// returns "" when the document offered nothing to mutate.
func (d *mdoc) apply(kind int, r *opReader) string {
	starts := d.indices(tStart)
	if len(starts) == 0 {
		return ""
	}
	elemAt := func() int { return starts[r.pick(len(starts))] }
	elem := func() *mtok { return &d.toks[elemAt()] }
	// elemWith picks among the elements with at least n attributes.
	elemWith := func(n int) *mtok {
		var with []int
		for _, i := range starts {
			if len(d.toks[i].attrs) >= n {
				with = append(with, i)
			}
		}
		if len(with) == 0 {
			return &mtok{}
		}
		return &d.toks[with[r.pick(len(with))]]
	}
	switch kind {
	case kindNSDecl:
		i := elemAt()
		p := declPrefixes[r.next()%len(declPrefixes)]
		u := d.keepMeaning(i, p, d.value(r))
		d.toks[i].insertAttr(r.next(), plainAttr("xmlns:"+p, u))
		return fmt.Sprintf("<%s xmlns:%s=%q>", d.toks[i].name, p, u)
	case kindDefaultNS:
		i := elemAt()
		u := d.keepMeaning(i, "", d.value(r))
		d.toks[i].insertAttr(r.next(), plainAttr("xmlns", u))
		return fmt.Sprintf("<%s xmlns=%q>", d.toks[i].name, u)
	case kindReorder:
		el := elemWith(2)
		if len(el.attrs) < 2 {
			return ""
		}
		i, j := r.pick(len(el.attrs)), r.pick(len(el.attrs))
		el.attrs[i], el.attrs[j] = el.attrs[j], el.attrs[i]
		return fmt.Sprintf("<%s> attributes %d and %d swapped", el.name, i, j)
	case kindQuote:
		el := elemWith(1)
		if len(el.attrs) == 0 {
			return ""
		}
		a := &el.attrs[r.pick(len(el.attrs))]
		a.quote = '"' + '\'' - a.quote
		return fmt.Sprintf("<%s %s=%c…>", el.name, a.name, a.quote)
	case kindTagSpace:
		el := elem()
		sp := spaces[r.next()%len(spaces)]
		slot := r.next() % 3
		if len(el.attrs) == 0 || slot == 2 {
			if r.next()%2 == 0 {
				el.endSpace = sp
				return fmt.Sprintf("<%s%q>", el.name, sp)
			}
			ends := d.indices(tEnd)
			e := &d.toks[ends[r.pick(len(ends))]]
			e.endSpace = sp
			return fmt.Sprintf("</%s%q>", e.name, sp)
		}
		a := &el.attrs[r.pick(len(el.attrs))]
		if slot == 0 {
			a.space = sp
		} else {
			a.eq = spaces[r.next()%len(spaces)] + "=" + sp
		}
		return fmt.Sprintf("<%s %s> spaced %q", el.name, a.name, sp)
	case kindCDATA, kindCharRef:
		return d.splitValue(kind, r)
	case kindEmptyForm:
		var empty []int
		for _, i := range starts {
			if i+1 < len(d.toks) && d.toks[i+1].kind == tEnd {
				empty = append(empty, i)
			}
		}
		if len(empty) == 0 {
			return ""
		}
		i := empty[r.pick(len(empty))]
		d.toks[i].selfClose = !d.toks[i].selfClose
		return fmt.Sprintf("<%s> self-closing %v", d.toks[i].name, d.toks[i].selfClose)
	case kindDupAttr:
		el := elemWith(1)
		if len(el.attrs) == 0 {
			return ""
		}
		a := el.attrs[r.pick(len(el.attrs))]
		a.val = append(append([]seg{}, a.val...), seg{val: []string{"", "x", " "}[r.next()%3]})
		el.insertAttr(r.next(), a)
		return fmt.Sprintf("<%s> %s twice", el.name, a.name)
	case kindCommentPI:
		s := []string{"<!---->", "<!-- x -->", "<?x?>", "<?pi data?>"}[r.next()%4]
		d.insert(r.pick(len(d.toks)+1), mtok{kind: tRaw, raw: s})
		return s
	case kindAfterRoot:
		s := []string{"\n", " \t", "x", "<x/>", "<!--c-->", "<?pi x?>", "&#x20;", "<![CDATA[ ]]>", "<![CDATA[x]]>", "\u00a0"}[r.next()%10]
		d.toks = append(d.toks, mtok{kind: tRaw, raw: s})
		return fmt.Sprintf("%q", s)
	case kindProlog:
		s := []string{`<?xml version="1.0" encoding="UTF-8"?>`, `<?xml version='1.0'?>`, `<?xml version="1.0" encoding="utf-8" standalone="yes"?>`,
			`<?xml version="1.0" encoding="ISO-8859-1"?>`, `<?xml version="1.0" encoding="UTF-16"?>`, `<?xml version="1.1"?>`,
			"\ufeff", "\n", ""}[r.next()%9]
		if len(d.toks) > 0 && d.toks[0].kind == tRaw && strings.HasPrefix(d.toks[0].raw, "<?xml ") && s != "\ufeff" && s != "\n" {
			d.toks[0].raw = s
		} else {
			d.insert(0, mtok{kind: tRaw, raw: s})
		}
		return fmt.Sprintf("%q", s)
	case kindPrefixedAttr:
		i := elemAt()
		el := &d.toks[i]
		p := append([]string{"xml"}, declPrefixes...)[r.next()%(len(declPrefixes)+1)]
		name, v := readerAttrNames[r.next()%len(readerAttrNames)], d.value(r)
		if p != "xml" {
			el.insertAttr(r.next(), plainAttr("xmlns:"+p, d.keepMeaning(i, p, d.value(r))))
		}
		el.insertAttr(r.next(), plainAttr(p+":"+name, v))
		return fmt.Sprintf("<%s %s:%s=%q>", el.name, p, name, v)
	case kindTextSpace:
		sp := spaces[r.next()%len(spaces)]
		texts := d.indices(tText)
		if r.next()%2 == 0 || len(texts) == 0 {
			d.insert(r.pick(len(d.toks)+1), mtok{kind: tText, text: []seg{{val: sp}}})
			return fmt.Sprintf("%q between tokens", sp)
		}
		t := &d.toks[texts[r.pick(len(texts))]]
		if r.next()%2 == 0 {
			t.text = append([]seg{{val: sp}}, t.text...)
		} else {
			t.text = append(t.text, seg{val: sp})
		}
		return fmt.Sprintf("%q around a text", sp)
	case kindRedundantDecl:
		return d.redundantDecl(r)
	case kindShadowAll:
		name, v := readerAttrNames[r.next()%len(readerAttrNames)], shadowValues[r.next()%len(shadowValues)]
		n := 0
		for _, i := range starts {
			t := &d.toks[i]
			for j := 0; j < len(t.attrs); j++ {
				if t.attrs[j].name == name {
					t.insertAttr(j, plainAttr("xmlns:"+name, v))
					j++
					n++
				}
			}
		}
		if n == 0 {
			return ""
		}
		return fmt.Sprintf("xmlns:%s=%q on %d elements", name, v, n)
	case kindRebind:
		i := elemAt()
		el := &d.toks[i]
		p, _, ok := strings.Cut(el.name, ":")
		decl := "xmlns:" + p
		if !ok {
			decl = "xmlns"
		}
		u := []string{"urn:evil", "urn:oasis:names:tc:SAML:2.0:assertion", "urn:oasis:names:tc:SAML:2.0:protocol",
			"http://www.w3.org/2001/04/xmlenc#", "http://www.w3.org/2000/09/xmldsig#"}[r.next()%5]
		el.insertAttr(r.next(), plainAttr(decl, u))
		return fmt.Sprintf("<%s %s=%q>", el.name, decl, u)
	case kindRename:
		return d.rename(starts[r.pick(len(starts))], append([]string{""}, declPrefixes...)[r.next()%(len(declPrefixes)+1)])
	case kindDeclAll:
		name, v := readerAttrNames[r.next()%len(readerAttrNames)], shadowValues[r.next()%len(shadowValues)]
		for _, i := range starts {
			d.toks[i].insertAttr(0, plainAttr("xmlns:"+name, v))
		}
		return fmt.Sprintf("xmlns:%s=%q on every element", name, v)
	}
	return ""
}

// splitValue moves part of a plain piece of text or attribute value into a
// CDATA section (text only) or writes one character as a reference.
func (d *mdoc) splitValue(kind int, r *opReader) string {
	type target struct {
		segs *[]seg
		i    int
		what string
	}
	var ts []target
	for ti := range d.toks {
		t := &d.toks[ti]
		for si, s := range t.text {
			if s.kind == segPlain && s.val != "" {
				ts = append(ts, target{&t.text, si, "text"})
			}
		}
		if kind == kindCDATA {
			continue
		}
		for ai := range t.attrs {
			a := &t.attrs[ai]
			for si, s := range a.val {
				if s.kind == segPlain && s.val != "" {
					ts = append(ts, target{&a.val, si, t.name + " " + a.name})
				}
			}
		}
	}
	if len(ts) == 0 {
		return ""
	}
	tg := ts[r.pick(len(ts))]
	v := (*tg.segs)[tg.i].val
	runes := []rune(v)
	i := r.pick(len(runes))
	var mid seg
	j := i + 1
	if kind == kindCDATA {
		j = i + r.pick(len(runes)-i+1)
		mid = seg{kind: segCDATA, val: string(runes[i:j])}
		if strings.Contains(mid.val, "]]>") {
			return ""
		}
	} else {
		c := runes[i]
		forms := []string{"&#x%x;", "&#x%X;", "&#x%06x;", "&#%d;", "&#%07d;"}
		ref := fmt.Sprintf(forms[r.next()%len(forms)], c)
		if named, ok := map[rune]string{'&': "&amp;", '<': "&lt;", '>': "&gt;", '"': "&quot;", '\'': "&apos;"}[c]; ok && r.next()%2 == 0 {
			ref = named
		}
		mid = seg{kind: segRef, val: string(c), ref: ref}
	}
	repl := []seg{{val: string(runes[:i])}, mid, {val: string(runes[j:])}}
	segs := append(append(append([]seg{}, (*tg.segs)[:tg.i]...), repl...), (*tg.segs)[tg.i+1:]...)
	*tg.segs = segs
	if mid.kind == segRef {
		return fmt.Sprintf("%s: %q as %s", tg.what, mid.val, mid.ref)
	}
	return fmt.Sprintf("%s: CDATA %q", tg.what, mid.val)
}

// redundantDecl repeats, on an element, a declaration one of its ancestors
// makes.
func (d *mdoc) redundantDecl(r *opReader) string {
	type cand struct {
		el   int
		decl mattr
	}
	var cs []cand
	var stack []int
	for i, t := range d.toks {
		switch t.kind {
		case tStart:
			for _, anc := range stack {
				for _, a := range d.toks[anc].attrs {
					if a.name == "xmlns" || strings.HasPrefix(a.name, "xmlns:") {
						cs = append(cs, cand{i, a})
					}
				}
			}
			stack = append(stack, i)
		case tEnd:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	if len(cs) == 0 {
		return ""
	}
	c := cs[r.pick(len(cs))]
	el := &d.toks[c.el]
	p := strings.TrimPrefix(strings.TrimPrefix(c.decl.name, "xmlns"), ":")
	c.decl.val = []seg{{val: d.scopeAt(c.el)[p]}} // the binding in scope there, if a nearer one overrides
	el.insertAttr(r.next(), c.decl)
	return fmt.Sprintf("<%s %s=…> repeated", el.name, c.decl.name)
}

// rename gives the element at i (and its end tag) the prefix p ("" for the
// default namespace), declaring on it p bound to the namespace it is in:
// the same expanded name, written otherwise.
func (d *mdoc) rename(i int, p string) string {
	scope := d.scopeAt(i)
	el := &d.toks[i]
	old, local, ok := strings.Cut(el.name, ":")
	if !ok {
		old, local = "", el.name
	}
	uri, ok := scope[old]
	if !ok {
		return ""
	}
	end, depth := -1, 0
	for j := i; j < len(d.toks) && end < 0; j++ {
		switch d.toks[j].kind {
		case tStart:
			depth++
		case tEnd:
			if depth--; depth == 0 {
				end = j
			}
		}
	}
	if end < 0 {
		return ""
	}
	name, decl := p+":"+local, "xmlns:"+p
	if p == "" {
		name, decl = local, "xmlns"
	}
	bound, inScope := scope[p]
	if p == "" {
		inScope = true // unprefixed names are in no namespace until declared
	}
	if inScope && bound != uri {
		return "" // p means something else here: renaming would change meaning
	} else if !inScope {
		el.insertAttr(0, plainAttr(decl, uri))
	}
	el.name, d.toks[end].name = name, name
	return fmt.Sprintf("<%s> as <%s %s=%q>", old+":"+local, name, decl, uri)
}

// scopeAt returns the namespace bindings in scope at the element at i,
// its own declarations included ("" is the default namespace).
func (d *mdoc) scopeAt(i int) map[string]string {
	scope := map[string]string{}
	var stack []map[string]string
	for j := 0; j <= i; j++ {
		switch t := &d.toks[j]; t.kind {
		case tStart:
			saved := make(map[string]string, len(scope))
			for k, v := range scope {
				saved[k] = v
			}
			stack = append(stack, saved)
			for _, a := range t.attrs {
				switch {
				case a.name == "xmlns":
					scope[""] = joinSegs(a.val)
				case strings.HasPrefix(a.name, "xmlns:"):
					scope[strings.TrimPrefix(a.name, "xmlns:")] = joinSegs(a.val)
				}
			}
		case tEnd:
			if len(stack) > 0 {
				scope = stack[len(stack)-1]
				stack = stack[:len(stack)-1]
			}
		}
	}
	return scope
}

// keepMeaning returns u, or, when the element at i or a descendant uses the
// prefix p ("" = unprefixed element names), the namespace p is bound to
// there: a declaration that rebinds a prefix in use changes what the
// document says (in the unsigned parts too), which is not the point.
func (d *mdoc) keepMeaning(i int, p, u string) string {
	if d.uses(i, p) {
		return d.scopeAt(i)[p]
	}
	return u
}

// uses reports whether the element at i or a descendant (down to one that
// declares p itself) names an element, or for p != "" an attribute, with
// the prefix p.
func (d *mdoc) uses(i int, p string) bool {
	prefix := func(name string) string {
		if pre, _, ok := strings.Cut(name, ":"); ok {
			return pre
		}
		return ""
	}
	declares := func(t *mtok) bool {
		for _, a := range t.attrs {
			if (p == "" && a.name == "xmlns") || (p != "" && a.name == "xmlns:"+p) {
				return true
			}
		}
		return false
	}
	depth, hidden := 0, -1
	for j := i; j < len(d.toks); j++ {
		t := &d.toks[j]
		switch t.kind {
		case tStart:
			depth++
			if hidden >= 0 {
				continue
			}
			if j > i && declares(t) {
				hidden = depth
				continue
			}
			if prefix(t.name) == p {
				return true
			}
			for _, a := range t.attrs {
				if p != "" && a.name != "xmlns" && prefix(a.name) == p {
					return true
				}
			}
		case tEnd:
			if hidden == depth {
				hidden = -1
			}
			if depth--; depth == 0 {
				return false
			}
		}
	}
	return false
}
