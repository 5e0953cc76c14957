// Package safexml is orgsso's one reader of untrusted XML: SAML responses,
// decrypted assertions, IdP metadata and AuthnRequests all go through it.
//
// It parses with etree (so that internal/xmldsig canonicalizes the very tree
// that is read) and then refuses, in one walk that is linear in the input,
// everything a namespace-aware reader and a canonicalizer could disagree on:
//
//   - DTDs, entity declarations and directives; declared encodings other than
//     UTF-8; anything but white space before or after the document element;
//   - names that do not survive a round trip (several colons, empty local
//     parts), undeclared or reserved prefixes, empty prefix bindings;
//   - the same attribute twice, compared by namespace URI and local name (two
//     prefixes bound to one URI name the same attribute);
//   - nesting deeper than a limit, and, unless allowed, comments and
//     processing instructions.
//
// Reading is namespace-aware: elements are matched by namespace URI and
// local name, resolved once during the walk; attributes are matched by
// local name among the attributes that have no namespace (unprefixed ones).
// Namespace declarations (xmlns, xmlns:*) are never attributes, so an
// unused declaration named like an attribute, which exclusive
// canonicalization drops from what is signed, can never be read as one.
// etree's SelectAttr and SelectAttrValue, which match a local name under any
// prefix including xmlns, must not be used on untrusted input anywhere in
// the module (a test enforces it).
package safexml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// Namespaces with a fixed meaning in XML.
const (
	NamespaceXML   = "http://www.w3.org/XML/1998/namespace"
	NamespaceXMLNS = "http://www.w3.org/2000/xmlns/"
)

// DefaultMaxDepth bounds element nesting when Options.MaxDepth is 0; real SAML
// messages stay under 15.
const DefaultMaxDepth = 64

// DefaultMaxMarkup bounds, when Options.MaxMarkup is 0, the markup a document
// may hold before it is parsed: its '<' bytes (start and end tags, empty
// elements) and its attribute assignments ('="' and "='"), each counted
// separately. A real 1 MiB SAML response (a user in thousands of groups) has a
// few tens of thousands; a hostile one made of nothing but tiny elements or
// attributes has hundreds of thousands, and would cost several times a valid
// response of its size to parse before any signature is checked.
const DefaultMaxMarkup = 60000

// DefaultMaxNamespaces bounds the namespace prefixes in scope at any element
// when Options.MaxNamespaces is 0; real SAML messages use under 15. Libraries
// that copy the namespace context at every element (goxmldsig does) would
// otherwise spend declarations × elements.
const DefaultMaxNamespaces = 64

// ErrMalformed is wrapped by every error of this package.
var ErrMalformed = errors.New("safexml: malformed or unsafe XML")

// Error says what was refused. Reason never quotes the input: it is not
// verified, and what it says must not reach an operator's log.
type Error struct{ Reason string }

// Error implements error.
func (e *Error) Error() string { return "safexml: " + e.Reason }

// Unwrap returns ErrMalformed.
func (e *Error) Unwrap() error { return ErrMalformed }

func refuse(reason string) error { return &Error{Reason: reason} }

// Options tunes Parse and Index. The zero value is the strict reader SAML
// responses get.
type Options struct {
	// MaxDepth bounds element nesting; 0 means DefaultMaxDepth.
	MaxDepth int
	// MaxMarkup bounds the '<' bytes and the attribute assignments counted
	// in the input before parsing; 0 means DefaultMaxMarkup.
	MaxMarkup int
	// MaxNamespaces bounds the prefixes in scope at any element; 0 means
	// DefaultMaxNamespaces.
	MaxNamespaces int
	// AllowComments lets comments through (IdP metadata carries them). Text
	// is then read across them, as canonicalization sees it.
	AllowComments bool
	// AllowProcInst lets processing instructions other than the XML
	// declaration through.
	AllowProcInst bool
	// Inherited maps the namespace prefixes in scope at the root's parent to
	// their URIs ("" is the default namespace): a decrypted assertion is read
	// in the namespace context of the EncryptedAssertion it replaced.
	Inherited map[string]string
}

func (o Options) maxMarkup() int {
	if o.MaxMarkup > 0 {
		return o.MaxMarkup
	}
	return DefaultMaxMarkup
}

func (o Options) maxNamespaces() int {
	if o.MaxNamespaces > 0 {
		return o.MaxNamespaces
	}
	return DefaultMaxNamespaces
}

func (o Options) maxDepth() int {
	if o.MaxDepth > 0 {
		return o.MaxDepth
	}
	return DefaultMaxDepth
}

// Doc is a parsed, checked document: the tree plus the namespace URI of
// every element in it. It is read-only; build a new Doc after changing the
// tree.
type Doc struct {
	root *etree.Element
	ns   map[*etree.Element]string
}

// Parse reads raw as one XML document and checks it (see the package doc).
func Parse(raw []byte, opts Options) (*Doc, error) {
	if err := checkProlog(raw); err != nil {
		return nil, err
	}
	// Single-byte counts are vectorized; the exact count of assignments runs
	// only when there are more '=' than the bound.
	if max := opts.maxMarkup(); bytes.Count(raw, []byte("<")) > max ||
		(bytes.Count(raw, []byte("=")) > max && assignments(raw) > max) {
		return nil, refuse("more than " + strconv.Itoa(max) + " tags or attributes")
	}
	// A UTF-8 byte order mark is allowed (encoding/xml would read it as text
	// before the document element); any other one fails checkProlog.
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	badCharset := false
	doc := etree.NewDocument()
	doc.ReadSettings = etree.ReadSettings{
		CharsetReader: func(string, io.Reader) (io.Reader, error) {
			// encoding/xml calls it for any declared encoding but UTF-8.
			badCharset = true
			return nil, ErrMalformed
		},
		PreserveDuplicateAttrs: true, // duplicates are refused below, not merged
		MaxDepth:               opts.maxDepth() + 1,
	}
	if err := doc.ReadFromBytes(raw); err != nil {
		if errors.Is(err, etree.ErrMaxDepth) {
			return nil, refuse("elements nested deeper than " + strconv.Itoa(opts.maxDepth()))
		}
		if badCharset {
			return nil, refuse("the declared encoding is not UTF-8")
		}
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			return nil, refuse("not well-formed XML (line " + strconv.Itoa(se.Line) + ")")
		}
		return nil, refuse("not well-formed XML")
	}
	var root *etree.Element
	for i, tok := range doc.Child {
		switch t := tok.(type) {
		case *etree.Element:
			if root != nil {
				return nil, refuse("more than one document element")
			}
			root = t
		case *etree.CharData:
			if !isSpace(t.Data) {
				return nil, refuse("text outside the document element")
			}
		case *etree.ProcInst:
			if t.Target == "xml" && i == 0 {
				continue // the XML declaration, checked by checkProlog
			}
			if !opts.AllowProcInst || strings.EqualFold(t.Target, "xml") {
				return nil, refuse("processing instructions are not allowed")
			}
		case *etree.Comment:
			if !opts.AllowComments {
				return nil, refuse("comments are not allowed")
			}
		case *etree.Directive:
			return nil, refuse("DTDs and directives are not allowed")
		default:
			return nil, refuse("unexpected token outside the document element")
		}
	}
	if root == nil {
		return nil, refuse("no document element")
	}
	// White space outside the document element must be literal: a character
	// reference or a CDATA section there is not XML.
	if !literalOutside(raw) {
		return nil, refuse("text outside the document element")
	}
	return Index(root, opts)
}

// checkProlog refuses a byte order mark other than UTF-8's, an XML
// declaration that is not version 1.0 or names an encoding other than UTF-8,
// and a DOCTYPE anywhere (before etree sees it).
func checkProlog(raw []byte) error {
	if !utf8.Valid(raw) {
		return refuse("not UTF-8")
	}
	if bytes.Contains(raw, []byte("<!DOCTYPE")) || bytes.Contains(raw, []byte("<!ENTITY")) {
		return refuse("DTDs and entity declarations are not allowed")
	}
	if bytes.Contains(raw, []byte("<![CDATA[]]>")) {
		// No producer writes one, and encoding/xml does not read its own
		// re-encoding of it back (found by FuzzXMLSafety).
		return refuse("an empty CDATA section")
	}
	return nil
}

// Index checks the tree under root (built by Parse, or by a library that
// re-parsed canonical bytes) and resolves the namespace of every element.
func Index(root *etree.Element, opts Options) (*Doc, error) {
	if root == nil {
		return nil, refuse("no document element")
	}
	w := walker{
		d:    &Doc{root: root, ns: make(map[*etree.Element]string, 64)},
		opts: opts,
	}
	for p, uri := range opts.Inherited {
		if err := CheckDeclaration(p, uri); err != nil {
			return nil, err
		}
		w.scope.Set(p, uri)
	}
	if err := w.run(); err != nil {
		return nil, err
	}
	return w.d, nil
}

type walker struct {
	d     *Doc
	opts  Options
	scope Scope                 // prefix -> URI in scope at the current element
	seen  map[attrName]struct{} // scratch for elements with many attributes
}

type attrName struct{ uri, local string }

type frame struct {
	el    *etree.Element
	next  int
	mark  int
	depth int
}

func (w *walker) run() error {
	max := w.opts.maxDepth()
	if err := w.enter(w.d.root); err != nil {
		return err
	}
	stack := make([]frame, 1, 16)
	stack[0] = frame{el: w.d.root, depth: 1}
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		if f.next == len(f.el.Child) {
			w.restore(f.mark)
			stack = stack[:len(stack)-1]
			continue
		}
		tok := f.el.Child[f.next]
		f.next++
		switch t := tok.(type) {
		case *etree.Element:
			if f.depth+1 > max {
				return refuse("elements nested deeper than " + strconv.Itoa(max))
			}
			mark := w.scope.Mark()
			if err := w.enter(t); err != nil {
				return err
			}
			stack = append(stack, frame{el: t, mark: mark, depth: f.depth + 1})
		case *etree.CharData:
		case *etree.Comment:
			if !w.opts.AllowComments {
				return refuse("comments are not allowed")
			}
		case *etree.ProcInst:
			if !w.opts.AllowProcInst || strings.EqualFold(t.Target, "xml") {
				return refuse("processing instructions are not allowed")
			}
		case *etree.Directive:
			return refuse("directives are not allowed")
		default:
			return refuse("unexpected token in the tree")
		}
	}
	return nil
}

// enter applies el's namespace declarations, resolves its name and its
// attributes' names, and refuses duplicates: work linear in el's attributes.
func (w *walker) enter(el *etree.Element) error {
	for i := range el.Attr {
		a := &el.Attr[i]
		p, ok := DeclaredPrefix(a)
		if !ok {
			continue
		}
		if err := CheckDeclaration(p, a.Value); err != nil {
			return err
		}
		if had := w.scope.Set(p, a.Value); !had && w.scope.Len() > w.opts.maxNamespaces() {
			return refuse("more than " + strconv.Itoa(w.opts.maxNamespaces()) + " namespace prefixes in scope")
		}
	}
	if !ncName(el.Tag) || (el.Space != "" && !ncName(el.Space)) {
		return refuse("an element name does not survive a round trip")
	}
	uri, err := w.resolve(el.Space, true)
	if err != nil {
		return err
	}
	w.d.ns[el] = uri

	n := len(el.Attr)
	useMap := n > 8
	if useMap {
		if w.seen == nil {
			w.seen = make(map[attrName]struct{}, n)
		}
		clear(w.seen)
	}
	for i := range el.Attr {
		a := &el.Attr[i]
		if !ncName(a.Key) || (a.Space != "" && !ncName(a.Space)) {
			return refuse("an attribute name does not survive a round trip")
		}
		var name attrName
		if p, ok := DeclaredPrefix(a); ok {
			name = attrName{NamespaceXMLNS, p} // declarations: unique per prefix
		} else {
			auri := ""
			if a.Space != "" {
				if auri, err = w.resolve(a.Space, false); err != nil {
					return err
				}
			}
			name = attrName{auri, a.Key}
		}
		if useMap {
			if _, dup := w.seen[name]; dup {
				return refuse("an attribute appears twice on one element")
			}
			w.seen[name] = struct{}{}
			continue
		}
		for j := 0; j < i; j++ {
			if w.attrName(&el.Attr[j]) == name {
				return refuse("an attribute appears twice on one element")
			}
		}
	}
	return nil
}

// attrName is the expanded name of an attribute already resolved by enter.
func (w *walker) attrName(a *etree.Attr) attrName {
	if p, ok := DeclaredPrefix(a); ok {
		return attrName{NamespaceXMLNS, p}
	}
	if a.Space == "" {
		return attrName{"", a.Key}
	}
	uri, _ := w.resolve(a.Space, false)
	return attrName{uri, a.Key}
}

// resolve returns the URI of prefix in the current scope; the empty prefix
// is the default namespace for elements and no namespace for attributes.
func (w *walker) resolve(prefix string, element bool) (string, error) {
	switch prefix {
	case "":
		if element {
			return w.scope.Get(""), nil
		}
		return "", nil
	case "xml":
		return NamespaceXML, nil
	case "xmlns":
		return "", refuse("the xmlns prefix is used on a name")
	}
	uri, ok := w.scope.Lookup(prefix)
	if !ok {
		return "", refuse("a namespace prefix is not declared")
	}
	return uri, nil
}

func (w *walker) restore(mark int) { w.scope.Restore(mark) }

// Scope maps namespace prefixes to URIs ("" is the default namespace) with an
// undo log: Set records what it replaced, and Restore(mark) undoes every Set
// since Mark returned mark. A walk enters and leaves elements in time linear
// in their declarations, however deep or wide the tree. The zero value is an
// empty scope.
type Scope struct {
	m    map[string]string
	undo []scopeUndo
}

type scopeUndo struct {
	prefix, old string
	had         bool
}

// Get returns the URI bound to prefix ("" when none).
func (s *Scope) Get(prefix string) string { return s.m[prefix] }

// Lookup returns the URI bound to prefix and whether it is bound.
func (s *Scope) Lookup(prefix string) (string, bool) {
	uri, ok := s.m[prefix]
	return uri, ok
}

// Len returns how many prefixes are bound.
func (s *Scope) Len() int { return len(s.m) }

// Set binds prefix to uri and reports whether prefix was bound before.
func (s *Scope) Set(prefix, uri string) (had bool) {
	if s.m == nil {
		s.m = make(map[string]string, 8)
	}
	old, had := s.m[prefix]
	s.undo = append(s.undo, scopeUndo{prefix, old, had})
	s.m[prefix] = uri
	return had
}

// Mark returns the point Restore goes back to.
func (s *Scope) Mark() int { return len(s.undo) }

// Restore undoes every Set made since Mark returned mark.
func (s *Scope) Restore(mark int) {
	for i := len(s.undo) - 1; i >= mark; i-- {
		u := s.undo[i]
		if u.had {
			s.m[u.prefix] = u.old
		} else {
			delete(s.m, u.prefix)
		}
	}
	s.undo = s.undo[:mark]
}

// DeclaredPrefix reports whether a is a namespace declaration (xmlns or
// xmlns:p) and for which prefix ("" for the default namespace).
func DeclaredPrefix(a *etree.Attr) (string, bool) {
	switch {
	case a.Space == "xmlns":
		return a.Key, true
	case a.Space == "" && a.Key == "xmlns":
		return "", true
	}
	return "", false
}

// CheckDeclaration enforces Namespaces in XML 1.0 §3 on one declaration: xml
// is bound only to its namespace and nothing else is; xmlns and its namespace
// are never declared; a prefix is never bound to the empty namespace.
func CheckDeclaration(prefix, uri string) error {
	switch {
	case prefix == "xmlns":
		return refuse("the xmlns prefix is declared")
	case prefix == "xml" && uri != NamespaceXML:
		return refuse("the xml prefix is bound to another namespace")
	case prefix != "xml" && uri == NamespaceXML:
		return refuse("the XML namespace is bound to another prefix")
	case uri == NamespaceXMLNS:
		return refuse("the xmlns namespace is declared")
	case prefix != "" && uri == "":
		return refuse("a namespace prefix is bound to the empty namespace")
	}
	return nil
}

// Root returns the document element.
func (d *Doc) Root() *etree.Element { return d.root }

// Namespace returns the namespace URI of el, which must be in the Doc ("" for
// an element outside it).
func (d *Doc) Namespace(el *etree.Element) string { return d.ns[el] }

// Is reports whether el is the element local in namespace ns.
func (d *Doc) Is(el *etree.Element, ns, local string) bool {
	if el == nil || el.Tag != local {
		return false
	}
	uri, ok := d.ns[el]
	return ok && uri == ns
}

// Child returns the first child element of el named ns:local, or nil.
func (d *Doc) Child(el *etree.Element, ns, local string) *etree.Element {
	for _, tok := range el.Child {
		if c, ok := tok.(*etree.Element); ok && d.Is(c, ns, local) {
			return c
		}
	}
	return nil
}

// Children returns the child elements of el named ns:local.
func (d *Doc) Children(el *etree.Element, ns, local string) []*etree.Element {
	var out []*etree.Element
	for _, tok := range el.Child {
		if c, ok := tok.(*etree.Element); ok && d.Is(c, ns, local) {
			out = append(out, c)
		}
	}
	return out
}

// Count returns how many child elements of el are named ns:local.
func (d *Doc) Count(el *etree.Element, ns, local string) int {
	n := 0
	for _, tok := range el.Child {
		if c, ok := tok.(*etree.Element); ok && d.Is(c, ns, local) {
			n++
		}
	}
	return n
}

// InScope returns the namespace declarations in scope at el (inherited ones
// included), for reading a fragment taken out of el in its context.
func (d *Doc) InScope(el *etree.Element, inherited map[string]string) map[string]string {
	var chain []*etree.Element
	for p := el; p != nil; p = p.Parent() {
		chain = append(chain, p)
		if p == d.root {
			break
		}
	}
	out := make(map[string]string, len(inherited)+4)
	for k, v := range inherited {
		out[k] = v
	}
	for i := len(chain) - 1; i >= 0; i-- {
		for j := range chain[i].Attr {
			if p, ok := DeclaredPrefix(&chain[i].Attr[j]); ok {
				out[p] = chain[i].Attr[j].Value
			}
		}
	}
	return out
}

// Attr returns the value of el's attribute local that has no namespace (an
// unprefixed attribute), and whether it is present. Namespace declarations
// and prefixed attributes never match.
func Attr(el *etree.Element, local string) (string, bool) {
	if el == nil {
		return "", false
	}
	for i := range el.Attr {
		if a := &el.Attr[i]; a.Space == "" && a.Key == local && local != "xmlns" {
			return a.Value, true
		}
	}
	return "", false
}

// AttrValue is Attr without the presence flag.
func AttrValue(el *etree.Element, local string) string {
	v, _ := Attr(el, local)
	return v
}

// Text returns all character data directly inside el, across CDATA sections
// and comments (as canonicalization joins them), and false when el has a
// child element or processing instruction: such an element has no text
// value.
func Text(el *etree.Element) (string, bool) {
	var first string
	var b strings.Builder
	n := 0
	for _, tok := range el.Child {
		switch t := tok.(type) {
		case *etree.CharData:
			if n == 0 {
				first = t.Data
			} else {
				if n == 1 {
					b.WriteString(first)
				}
				b.WriteString(t.Data)
			}
			n++
		case *etree.Comment:
		default:
			return "", false
		}
	}
	if n > 1 {
		return b.String(), true
	}
	return first, true
}

// TrimmedText is Text with XML white space trimmed from both ends.
func TrimmedText(el *etree.Element) (string, bool) {
	s, ok := Text(el)
	return strings.Trim(s, " \t\r\n"), ok
}

// assignments counts the '=' of raw followed, after optional white space, by
// a quote: an upper bound of its attributes (XML allows white space around
// the '=' of an attribute).
func assignments(raw []byte) int {
	n := 0
	for i := bytes.IndexByte(raw, '='); i >= 0; {
		j := i + 1
		for j < len(raw) && (raw[j] == ' ' || raw[j] == '\t' || raw[j] == '\r' || raw[j] == '\n') {
			j++
		}
		if j < len(raw) && (raw[j] == '"' || raw[j] == '\'') {
			n++
		}
		k := bytes.IndexByte(raw[j:], '=')
		if k < 0 {
			break
		}
		i = j + k
	}
	return n
}

// literalOutside reports whether everything before and after the document
// element of raw (which parsed) is white space, comments and processing
// instructions, written out: no character reference, no CDATA section. It
// skips those tokens from both ends; each byte is looked at a bounded number
// of times.
func literalOutside(raw []byte) bool {
	const ws = " \t\r\n"
	head := raw
	for {
		head = bytes.TrimLeft(head, ws)
		var end []byte
		switch {
		case bytes.HasPrefix(head, []byte("<?")):
			end = []byte("?>")
		case bytes.HasPrefix(head, []byte("<!--")):
			end = []byte("-->")
		}
		if end == nil {
			break
		}
		i := bytes.Index(head, end)
		if i < 0 {
			return false
		}
		head = head[i+len(end):]
	}
	if !bytes.HasPrefix(head, []byte("<")) || bytes.HasPrefix(head, []byte("<!")) {
		return false
	}
	tail := head
	for {
		tail = bytes.TrimRight(tail, ws)
		var start []byte
		switch {
		case bytes.HasSuffix(tail, []byte("?>")):
			start = []byte("<?")
		case bytes.HasSuffix(tail, []byte("-->")):
			start = []byte("<!--")
		}
		if start == nil {
			break
		}
		i := bytes.LastIndex(tail, start)
		if i <= 0 {
			return false
		}
		tail = tail[:i]
	}
	return bytes.HasSuffix(tail, []byte(">")) && !bytes.HasSuffix(tail, []byte("]]>"))
}

// ncName reports whether s is a name without a colon that can start a
// qualified name's part (Namespaces in XML: NCName). encoding/xml has checked
// the characters of the whole name; a part must not start with what may only
// follow (a digit, '.', '-', a combining mark).
func ncName(s string) bool {
	if s == "" || strings.Contains(s, ":") {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s)
	return r == '_' || unicode.IsLetter(r)
}

func isSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\r', '\n':
		default:
			return false
		}
	}
	return true
}
