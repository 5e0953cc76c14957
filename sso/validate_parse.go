package sso

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"io"
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// maxXMLDepth bounds element nesting; real responses stay under 15.
const maxXMLDepth = 64

// response is a parsed, not yet verified, SAML Response.
type response struct {
	doc  *etree.Document
	root *etree.Element
}

// parse runs every check that needs no key: size, base64, XML safety, and the
// shape of a SAML 2.0 Response.
func (v *Validator) parse(samlResponse string) (*response, error) {
	if n := int64(len(samlResponse)); n > v.maxSize {
		return nil, &ValidationError{Check: CheckSize, Reason: "response is larger than the limit",
			Want: "<= " + strconv.FormatInt(v.maxSize, 10) + " bytes", Got: strconv.FormatInt(n, 10) + " bytes"}
	}
	raw, err := decodeBase64(samlResponse)
	if err != nil {
		return nil, wrapFail(CheckEncoding, "SAMLResponse is not base64", err)
	}
	if raw, err = maybeInflate(raw, v.maxSize); err != nil {
		return nil, err
	}
	doc, err := parseSafeXML(raw)
	if err != nil {
		return nil, err
	}
	root := doc.Root()
	if !isElement(root, nsProtocol, "Response") {
		return nil, failf(CheckSchema, "root element is <%s>, want a SAML 2.0 protocol <Response>", root.Tag)
	}
	if root.SelectAttrValue("Version", "") != "2.0" {
		return nil, mismatch(CheckSchema, "Response Version", "2.0", root.SelectAttrValue("Version", ""))
	}
	if root.SelectAttrValue("ID", "") == "" {
		return nil, fail(CheckSchema, "Response has no ID")
	}
	if err := checkStatus(root); err != nil {
		return nil, err
	}
	if err := checkUniqueStructure(root); err != nil {
		return nil, err
	}
	return &response{doc: doc, root: root}, nil
}

// decodeBase64 decodes standard base64, ignoring ASCII white space (IdPs and
// browsers wrap lines).
func decodeBase64(s string) ([]byte, error) {
	clean := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\r', '\n':
		default:
			clean = append(clean, c)
		}
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
	n, err := base64.StdEncoding.Decode(out, clean)
	if err != nil {
		return nil, err
	}
	return out[:n], nil
}

// parseSafeXML parses untrusted XML, refusing what SAML never needs and what
// attacks use: DTDs and entity declarations, comments and processing
// instructions, excessive nesting, and every construct that would not
// survive an encoding/xml round trip (names with several colons, undeclared
// or reserved prefixes, empty namespace bindings, duplicate attributes). The
// round-trip rules are checked in the same single walk over the parsed tree,
// instead of tokenizing and re-encoding the document a second time; a fuzz
// test holds them to mattermost's xml-roundtrip-validator on every input.
func parseSafeXML(raw []byte) (*etree.Document, error) {
	if bytes.Contains(raw, []byte("<!DOCTYPE")) || bytes.Contains(raw, []byte("<!ENTITY")) {
		return nil, fail(CheckXML, "DTDs and entity declarations are not allowed")
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return nil, wrapFail(CheckXML, "not well-formed XML", err)
	}
	root := doc.Root()
	if root == nil {
		return nil, fail(CheckXML, "no document element")
	}
	for _, tok := range doc.Child {
		switch t := tok.(type) {
		case *etree.Directive:
			return nil, fail(CheckXML, "XML directives are not allowed")
		case *etree.ProcInst:
			if t.Target != "xml" {
				return nil, fail(CheckXML, "processing instructions are not allowed")
			}
		case *etree.Comment:
			if strings.Contains(t.Data, "--") || strings.HasSuffix(t.Data, "-") {
				return nil, fail(CheckXML, "malformed comment")
			}
		}
	}
	if err := checkTree(root); err != nil {
		return nil, err
	}
	return doc, nil
}

// nsScope is one level of namespace declarations during checkTree's walk.
type nsScope struct {
	parent *nsScope
	decls  map[string]string
}

func (s *nsScope) lookup(prefix string) (string, bool) {
	for ; s != nil; s = s.parent {
		if uri, ok := s.decls[prefix]; ok {
			return uri, true
		}
	}
	return "", false
}

// checkTree walks the tree once, without recursion: it bounds depth, refuses
// comments, processing instructions and directives inside it, and the names
// and namespace bindings encoding/xml would not read back the same way.
func checkTree(root *etree.Element) error {
	type frame struct {
		el    *etree.Element
		depth int
		scope *nsScope
	}
	stack := []frame{{root, 1, nil}}
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if f.depth > maxXMLDepth {
			return failf(CheckXML, "elements nested deeper than %d", maxXMLDepth)
		}
		scope := f.scope
		for i, a := range f.el.Attr {
			switch {
			case a.Space == "xmlns":
				if a.Key == "xmlns" || (a.Key == "xml") != (a.Value == nsXML) || a.Value == "" {
					return failf(CheckXML, "namespace prefix %q bound to %q", truncate(a.Key, 40), truncate(a.Value, 80))
				}
				if scope == f.scope {
					scope = &nsScope{parent: f.scope, decls: make(map[string]string, 2)}
				}
				scope.decls[a.Key] = a.Value
			case a.Space == "" && a.Key == "xmlns":
				if scope == f.scope {
					scope = &nsScope{parent: f.scope, decls: make(map[string]string, 2)}
				}
				scope.decls[""] = a.Value
			}
			if a.Key == "" || strings.Contains(a.Key, ":") {
				return failf(CheckXML, "attribute name %q does not survive a round trip", truncate(a.FullKey(), 80))
			}
			for _, b := range f.el.Attr[:i] {
				if b.Space == a.Space && b.Key == a.Key {
					return failf(CheckXML, "attribute %q appears twice", truncate(a.FullKey(), 80))
				}
			}
		}
		if f.el.Tag == "" || strings.Contains(f.el.Tag, ":") {
			return failf(CheckXML, "element name %q does not survive a round trip", truncate(f.el.FullTag(), 80))
		}
		if p := f.el.Space; p != "" && p != "xml" {
			if _, ok := scope.lookup(p); !ok {
				return failf(CheckXML, "element prefix %q is not declared", truncate(p, 40))
			}
		}
		for _, a := range f.el.Attr {
			if a.Space != "" && a.Space != "xmlns" && a.Space != "xml" {
				if _, ok := scope.lookup(a.Space); !ok {
					return failf(CheckXML, "attribute prefix %q is not declared", truncate(a.Space, 40))
				}
			}
		}
		for _, tok := range f.el.Child {
			switch t := tok.(type) {
			case *etree.Element:
				stack = append(stack, frame{t, f.depth + 1, scope})
			case *etree.Comment:
				return fail(CheckXML, "comments are not allowed inside a SAML message")
			case *etree.ProcInst:
				return fail(CheckXML, "processing instructions are not allowed inside a SAML message")
			case *etree.Directive:
				return fail(CheckXML, "directives are not allowed inside a SAML message")
			}
		}
	}
	return nil
}

// checkStatus requires the top-level StatusCode to be Success.
func checkStatus(root *etree.Element) error {
	status := firstChild(root, nsProtocol, "Status")
	if status == nil {
		return fail(CheckSchema, "Response has no Status")
	}
	code := firstChild(status, nsProtocol, "StatusCode")
	if code == nil {
		return fail(CheckSchema, "Status has no StatusCode")
	}
	got := code.SelectAttrValue("Value", "")
	if got == statusSuccess {
		return nil
	}
	if sub := firstChild(code, nsProtocol, "StatusCode"); sub != nil {
		got += " / " + sub.SelectAttrValue("Value", "")
	}
	e := mismatch(CheckStatus, "IdP status", statusSuccess, got)
	if msg := firstChild(status, nsProtocol, "StatusMessage"); msg != nil {
		e.Reason = "IdP reported failure: " + truncate(msg.Text(), 200)
	}
	return e
}

// checkUniqueStructure defeats signature wrapping: exactly one assertion
// (plain or encrypted) and it is a direct child of the Response; no other
// Response or Assertion element anywhere; no ID attribute value used twice;
// signatures only where SAML puts them (one walk for all of it).
func checkUniqueStructure(root *etree.Element) error {
	direct := 0
	for _, c := range root.ChildElements() {
		if isElement(c, nsAssertion, "Assertion") || isElement(c, nsAssertion, "EncryptedAssertion") {
			direct++
		}
	}
	if direct != 1 {
		return &ValidationError{Check: CheckAssertionCount, Reason: "Response must carry exactly one assertion",
			Want: "1", Got: strconv.Itoa(direct)}
	}
	ids := make(map[string]bool)
	dupID := ""
	var misplaced error
	assertions, responses := 0, 0
	stack := []*etree.Element{root}
	for len(stack) > 0 {
		el := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		switch {
		case isElement(el, nsAssertion, "Assertion"), isElement(el, nsAssertion, "EncryptedAssertion"):
			assertions++
		case isElement(el, nsProtocol, "Response"):
			responses++
		}
		if misplaced == nil {
			misplaced = checkPlacedSignature(root, el)
		}
		for _, a := range el.Attr {
			if a.Key == "ID" && a.Space == "" {
				if ids[a.Value] && dupID == "" {
					dupID = a.Value
				}
				ids[a.Value] = true
			}
		}
		stack = append(stack, el.ChildElements()...)
	}
	switch {
	case responses != 1:
		return fail(CheckSignature, "a Response nested inside the Response (signature wrapping)")
	case assertions != 1:
		return &ValidationError{Check: CheckAssertionCount, Reason: "assertion elements found outside the Response's direct children",
			Want: "1", Got: strconv.Itoa(assertions)}
	case dupID != "":
		return failf(CheckSignature, "ID %q is used by more than one element (signature wrapping)", truncate(dupID, 80))
	case misplaced != nil:
		return misplaced
	}
	return nil
}

// isElement reports whether el is the element local in namespace ns.
func isElement(el *etree.Element, ns, local string) bool {
	return el != nil && el.Tag == local && el.NamespaceURI() == ns
}

// firstChild returns the first child element of el named local in ns.
func firstChild(el *etree.Element, ns, local string) *etree.Element {
	for _, c := range el.ChildElements() {
		if isElement(c, ns, local) {
			return c
		}
	}
	return nil
}

// children returns the child elements of el named local in ns.
func children(el *etree.Element, ns, local string) []*etree.Element {
	var out []*etree.Element
	for _, c := range el.ChildElements() {
		if isElement(c, ns, local) {
			out = append(out, c)
		}
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// maybeInflate inflates a response some IdPs DEFLATE before base64 even on the
// HTTP-POST binding. XML starts with '<' (after optional white space or a byte
// order mark); anything else is tried as raw DEFLATE, bounded by limit.
func maybeInflate(raw []byte, limit int64) ([]byte, error) {
	t := bytes.TrimLeft(raw, " \t\r\n")
	t = bytes.TrimPrefix(t, []byte("\xef\xbb\xbf"))
	if len(t) == 0 || t[0] == '<' {
		return raw, nil
	}
	out, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(raw)), limit+1))
	if err != nil {
		return nil, wrapFail(CheckEncoding, "SAMLResponse is neither XML nor DEFLATE-compressed XML", err)
	}
	if int64(len(out)) > limit {
		return nil, &ValidationError{Check: CheckSize, Reason: "inflated response is larger than the limit",
			Want: "<= " + strconv.FormatInt(limit, 10) + " bytes"}
	}
	return out, nil
}
