package saml

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"github.com/orgsso/orgsso/internal/safexml"
)

// maxXMLDepth bounds element nesting; real responses stay under 15.
const maxXMLDepth = safexml.DefaultMaxDepth

// response is a parsed, not yet verified, SAML Response.
type response struct {
	doc  *safexml.Doc
	root *etree.Element
}

// parse runs every check that needs no key: size, base64, XML safety, and the
// shape of a SAML 2.0 Response. Nothing read here is trusted: errors quote no
// value of the response (it is not yet verified), only what was expected.
func (v *Validator) parse(samlResponse string) (*response, error) {
	if n := int64(len(samlResponse)); n > v.maxSize {
		return nil, &ValidationError{Check: CheckSize, Reason: "response is larger than the limit",
			Want: "<= " + strconv.FormatInt(v.maxSize, 10) + " bytes", Got: strconv.FormatInt(n, 10) + " bytes"}
	}
	raw, err := decodeBase64(samlResponse)
	if err != nil {
		return nil, fail(CheckEncoding, "SAMLResponse is not base64")
	}
	if raw, err = maybeInflate(raw, v.maxSize); err != nil {
		return nil, err
	}
	doc, err := parseSafeXML(raw)
	if err != nil {
		return nil, err
	}
	root := doc.Root()
	if !doc.Is(root, nsProtocol, "Response") {
		return nil, fail(CheckSchema, "root element is not a SAML 2.0 protocol <Response>")
	}
	if safexml.AttrValue(root, "Version") != "2.0" {
		return nil, &ValidationError{Check: CheckSchema, Reason: "Response Version is not 2.0", Want: "2.0"}
	}
	if safexml.AttrValue(root, "ID") == "" {
		return nil, fail(CheckSchema, "Response has no ID")
	}
	if err := checkStatus(doc, root); err != nil {
		return nil, err
	}
	if err := checkUniqueStructure(doc, root); err != nil {
		return nil, err
	}
	return &response{doc: doc, root: root}, nil
}

// decodeBase64 decodes standard base64, ignoring ASCII white space (IdPs and
// browsers wrap lines).
func decodeBase64(s string) ([]byte, error) {
	if !strings.ContainsAny(s, " \t\r\n") {
		return base64.StdEncoding.DecodeString(s)
	}
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

// parseSafeXML parses an untrusted SAML message with the strict reader:
// besides safexml's rules (one document element, UTF-8 only, no duplicate
// attributes by expanded name, declared prefixes, bounded depth, linear
// time), SAML messages carry no comments and no processing instructions.
func parseSafeXML(raw []byte) (*safexml.Doc, error) {
	return parseSafeXMLIn(raw, nil)
}

// parseSafeXMLIn is parseSafeXML for a fragment read in the namespace context
// inherited (a decrypted assertion or NameID).
func parseSafeXMLIn(raw []byte, inherited map[string]string) (*safexml.Doc, error) {
	doc, err := safexml.Parse(raw, safexml.Options{MaxDepth: maxXMLDepth, Inherited: inherited})
	if err != nil {
		var se *safexml.Error
		if errors.As(err, &se) {
			return nil, fail(CheckXML, se.Reason)
		}
		return nil, fail(CheckXML, "not well-formed XML")
	}
	return doc, nil
}

// checkStatus requires exactly one Status with exactly one top-level
// StatusCode, and that one Success. The value is not verified yet, so a
// failure does not quote it.
func checkStatus(doc *safexml.Doc, root *etree.Element) error {
	if doc.Count(root, nsProtocol, "Status") != 1 {
		return fail(CheckSchema, "Response must have exactly one Status")
	}
	status := doc.Child(root, nsProtocol, "Status")
	if doc.Count(status, nsProtocol, "StatusCode") != 1 {
		return fail(CheckSchema, "Status must have exactly one top-level StatusCode")
	}
	code := doc.Child(status, nsProtocol, "StatusCode")
	if safexml.AttrValue(code, "Value") == statusSuccess {
		return nil
	}
	return &ValidationError{Check: CheckStatus, Reason: "the IdP reported a failure (its status code and message are not shown: they are not verified)",
		Want: statusSuccess}
}

// checkUniqueStructure defeats signature wrapping: exactly one assertion
// (plain or encrypted) and it is a direct child of the Response; no other
// Response or Assertion element anywhere; no ID attribute value used twice;
// signatures only where SAML puts them (one walk for all of it).
func checkUniqueStructure(doc *safexml.Doc, root *etree.Element) error {
	direct := doc.Count(root, nsAssertion, "Assertion") + doc.Count(root, nsAssertion, "EncryptedAssertion")
	if direct != 1 {
		return &ValidationError{Check: CheckAssertionCount, Reason: "Response must carry exactly one assertion",
			Want: "1", Got: strconv.Itoa(direct)}
	}
	ids := make(map[string]bool)
	dup := false
	var misplaced error
	assertions, responses := 0, 0
	stack := []*etree.Element{root}
	for len(stack) > 0 {
		el := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		switch {
		case doc.Is(el, nsAssertion, "Assertion"), doc.Is(el, nsAssertion, "EncryptedAssertion"):
			assertions++
		case doc.Is(el, nsProtocol, "Response"):
			responses++
		}
		if misplaced == nil {
			misplaced = checkPlacedSignature(doc, root, el)
		}
		if id, ok := safexml.Attr(el, "ID"); ok {
			if ids[id] {
				dup = true
			}
			ids[id] = true
		}
		stack = append(stack, el.ChildElements()...)
	}
	switch {
	case responses != 1:
		return fail(CheckSignature, "a Response nested inside the Response (signature wrapping)")
	case assertions != 1:
		return &ValidationError{Check: CheckAssertionCount, Reason: "assertion elements found outside the Response's direct children",
			Want: "1", Got: strconv.Itoa(assertions)}
	case dup:
		return fail(CheckSignature, "an ID is used by more than one element (signature wrapping)")
	case misplaced != nil:
		return misplaced
	}
	for _, c := range root.ChildElements() {
		switch {
		case doc.Is(c, nsAssertion, "Issuer"), doc.Is(c, nsDSig, "Signature"), doc.Is(c, nsProtocol, "Extensions"),
			doc.Is(c, nsProtocol, "Status"), doc.Is(c, nsAssertion, "Assertion"), doc.Is(c, nsAssertion, "EncryptedAssertion"):
		default:
			return fail(CheckSchema, "Response holds an element the SAML schema does not allow there")
		}
	}
	return nil
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
		return nil, fail(CheckEncoding, "SAMLResponse is neither XML nor DEFLATE-compressed XML")
	}
	if int64(len(out)) > limit {
		return nil, &ValidationError{Check: CheckSize, Reason: "inflated response is larger than the limit",
			Want: "<= " + strconv.FormatInt(limit, 10) + " bytes"}
	}
	return out, nil
}
