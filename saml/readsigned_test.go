package saml

import (
	"bytes"
	"compress/flate"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// Read == signed (issue 9, item 2): for every response the Validator
// accepts, what it read must equal what an independent reader extracts from
// the exact canonical bytes that were digested. The independent reader below
// shares nothing with the Validator's: it is encoding/xml's namespace-
// resolving Token stream, its own tree and its own extraction of every
// readout field, by the rules of readout's doc comment. It reuses neither
// etree nor safexml nor any sso reading helper, nor sso's namespace
// constants.
//
// The tests that build responses with sso/ssotest live in package sso_test
// (ssotest imports sso), so this file exports one test-only hook,
// ValidateReadSigned, that they call.

// The names the independent reader looks for, spelled out again on purpose.
const (
	irProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	irAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	irXMLEnc    = "http://www.w3.org/2001/04/xmlenc#"
	irBearer    = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
)

// ReadSigned is what ValidateReadSigned found.
type ReadSigned struct {
	// Assertion and Err are the Validator's verdict.
	Assertion *Assertion
	Err       error
	// Read is everything the Validator read (comparable with
	// reflect.DeepEqual between two validations).
	Read readout
	// Parts names the signed (or decrypted) parts, in the order traced.
	Parts []string
	// Mismatch is non-nil when the response was accepted but what was read
	// differs from what the independent reader extracts from the signed
	// bytes: a read != signed finding.
	Mismatch error
	// Digested counts the parts whose bytes were proven to be the digested
	// ones (their digest equals the signature's DigestValue); the others
	// are a decrypted assertion, or a signature inside one.
	Digested int
}

// ValidateReadSigned validates samlResponse with a trace and, when it is
// accepted, holds what was read to the signed bytes. It is a test-only
// export for package sso_test.
func ValidateReadSigned(v *Validator, samlResponse string, match func(string) error) ReadSigned {
	a, tr, err := v.validateTraced(samlResponse, match)
	out := ReadSigned{Assertion: a, Err: err}
	if tr != nil {
		out.Read = tr.read
		for _, p := range tr.parts {
			out.Parts = append(out.Parts, p.What)
		}
	}
	if err == nil {
		out.Digested, out.Mismatch = checkReadSigned(samlResponse, a, tr)
	}
	return out
}

// MatchIDs is Validate's match function for ValidateReadSigned.
func MatchIDs(ids ...string) func(string) error {
	return func(id string) error {
		for _, r := range ids {
			if r == id {
				return nil
			}
		}
		return fmt.Errorf("%q is not one of the %d pending request IDs", id, len(ids))
	}
}

// irNode is one element of the independent reader's tree.
type irNode struct {
	space, local string
	attrs        map[string]string // unprefixed attributes only
	kids         []*irNode
	text         strings.Builder // character data directly inside
	hasElem      bool
}

// irParse reads one document with encoding/xml. Element names are
// namespace-resolved by the decoder; an attribute is kept only when it has
// no namespace and is not the default namespace declaration (xmlns:* come
// with Space "xmlns"). Two unprefixed attributes of one name are an error.
func irParse(b []byte) (*irNode, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	var stack []*irNode
	var root *irNode
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &irNode{space: t.Name.Space, local: t.Name.Local, attrs: make(map[string]string)}
			for _, a := range t.Attr {
				if a.Name.Space != "" || a.Name.Local == "xmlns" {
					continue
				}
				if _, dup := n.attrs[a.Name.Local]; dup {
					return nil, fmt.Errorf("attribute %s twice", a.Name.Local)
				}
				n.attrs[a.Name.Local] = a.Value
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, errors.New("two document elements")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
				p.hasElem = true
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		}
	}
	if root == nil {
		return nil, errors.New("no document element")
	}
	return root, nil
}

func (n *irNode) is(space, local string) bool {
	return n != nil && n.space == space && n.local == local
}

func (n *irNode) child(space, local string) *irNode {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		if k.is(space, local) {
			return k
		}
	}
	return nil
}

func (n *irNode) children(space, local string) []*irNode {
	if n == nil {
		return nil
	}
	var out []*irNode
	for _, k := range n.kids {
		if k.is(space, local) {
			out = append(out, k)
		}
	}
	return out
}

func (n *irNode) attr(name string) string {
	if n == nil {
		return ""
	}
	return n.attrs[name]
}

// value is the element's text trimmed of XML white space; ok is false when
// it holds an element (then it has no text value).
func (n *irNode) value() (string, bool) {
	if n == nil {
		return "", true
	}
	if n.hasElem {
		return "", false
	}
	return strings.Trim(n.text.String(), " \t\r\n"), true
}

func (n *irNode) textOf() string {
	s, _ := n.value()
	return s
}

// irResponse is the Response fields of readout, extracted from r.
type irResponse struct {
	ResponseID, Destination, ResponseInResponseTo, ResponseIssuer, Status string
}

func extractResponse(r *irNode) irResponse {
	return irResponse{
		ResponseID:           r.attr("ID"),
		Destination:          r.attr("Destination"),
		ResponseInResponseTo: r.attr("InResponseTo"),
		ResponseIssuer:       r.child(irAssertion, "Issuer").textOf(),
		Status:               r.child(irProtocol, "Status").child(irProtocol, "StatusCode").attr("Value"),
	}
}

// irAssertionFields is the assertion fields of readout, extracted from a.
type irAssertionFields struct {
	AssertionID, Issuer, NameID, NameIDFormat, NameIDSPNameQualifier string
	BearerMethod                                                     string
	Recipient, SCDInResponseTo, SCDNotBefore, SCDNotOnOrAfter        string
	NotBefore, NotOnOrAfter                                          string
	Audiences                                                        []string
	SessionIndex, SessionNotOnOrAfter                                string
	AuthnContextClassRefs                                            []string
	Attributes                                                       []readAttribute
}

// extractAssertion applies readout's rules to the assertion a, taking the
// bearer confirmation at bearer (the index the Validator chose; its Method
// is extracted too, to be checked).
func extractAssertion(a *irNode, bearer int, nameIDDecrypted bool) irAssertionFields {
	out := irAssertionFields{AssertionID: a.attr("ID"), Issuer: a.child(irAssertion, "Issuer").textOf()}
	subject := a.child(irAssertion, "Subject")
	if !nameIDDecrypted {
		nid := subject.child(irAssertion, "NameID")
		out.NameID, out.NameIDFormat, out.NameIDSPNameQualifier = nid.textOf(), nid.attr("Format"), nid.attr("SPNameQualifier")
	}
	if scs := subject.children(irAssertion, "SubjectConfirmation"); bearer >= 0 && bearer < len(scs) {
		sc := scs[bearer]
		out.BearerMethod = sc.attr("Method")
		scd := sc.child(irAssertion, "SubjectConfirmationData")
		out.Recipient, out.SCDInResponseTo = scd.attr("Recipient"), scd.attr("InResponseTo")
		out.SCDNotBefore, out.SCDNotOnOrAfter = scd.attr("NotBefore"), scd.attr("NotOnOrAfter")
	}
	cond := a.child(irAssertion, "Conditions")
	out.NotBefore, out.NotOnOrAfter = cond.attr("NotBefore"), cond.attr("NotOnOrAfter")
	for _, ar := range cond.children(irAssertion, "AudienceRestriction") {
		for _, au := range ar.children(irAssertion, "Audience") {
			out.Audiences = append(out.Audiences, au.textOf())
		}
	}
	for _, st := range a.children(irAssertion, "AuthnStatement") {
		if s := st.attr("SessionNotOnOrAfter"); s != "" && out.SessionNotOnOrAfter == "" {
			out.SessionNotOnOrAfter = s
		}
		if s := st.attr("SessionIndex"); s != "" && out.SessionIndex == "" {
			out.SessionIndex = s
		}
		ref, ok := st.child(irAssertion, "AuthnContext").child(irAssertion, "AuthnContextClassRef").value()
		if ok && ref != "" && !slices.Contains(out.AuthnContextClassRefs, ref) {
			out.AuthnContextClassRefs = append(out.AuthnContextClassRefs, ref)
		}
	}
	for _, st := range a.children(irAssertion, "AttributeStatement") {
		for _, at := range st.children(irAssertion, "Attribute") {
			name := at.attr("Name")
			if name == "" {
				continue
			}
			ra := readAttribute{Name: name}
			for _, av := range at.children(irAssertion, "AttributeValue") {
				if s, ok := av.value(); ok {
					ra.Values = append(ra.Values, s)
				}
			}
			out.Attributes = append(out.Attributes, ra)
		}
	}
	return out
}

// assertionFieldsOf is the same projection of what the Validator read.
func assertionFieldsOf(rd readout) irAssertionFields {
	return irAssertionFields{
		AssertionID: rd.AssertionID, Issuer: rd.Issuer,
		NameID: rd.NameID, NameIDFormat: rd.NameIDFormat, NameIDSPNameQualifier: rd.NameIDSPNameQualifier,
		BearerMethod: irBearer,
		Recipient:    rd.Recipient, SCDInResponseTo: rd.SCDInResponseTo, SCDNotBefore: rd.SCDNotBefore, SCDNotOnOrAfter: rd.SCDNotOnOrAfter,
		NotBefore: rd.NotBefore, NotOnOrAfter: rd.NotOnOrAfter,
		Audiences:    rd.Audiences,
		SessionIndex: rd.SessionIndex, SessionNotOnOrAfter: rd.SessionNotOnOrAfter,
		AuthnContextClassRefs: rd.AuthnContextClassRefs,
		Attributes:            rd.Attributes,
	}
}

func responseFieldsOf(rd readout) irResponse {
	return irResponse{ResponseID: rd.ResponseID, Destination: rd.Destination,
		ResponseInResponseTo: rd.ResponseInResponseTo, ResponseIssuer: rd.ResponseIssuer, Status: rd.Status}
}

// checkReadSigned holds an accepted validation's trace to its signed bytes;
// posted is the SAMLResponse as posted. It returns how many parts were
// proven to be the bytes their signature digested.
func checkReadSigned(posted string, a *Assertion, tr *trace) (int, error) {
	if tr == nil || a == nil {
		return 0, errors.New("accepted without a trace or an assertion")
	}
	received, rerr := postedXML(posted)
	var receivedRoot *irNode
	if rerr == nil {
		receivedRoot, rerr = irParse(received)
	}
	digested := 0
	rd := tr.read
	var diffs []string
	report := func(where string, got, want any) {
		if d := fieldDiff(got, want); d != "" {
			diffs = append(diffs, where+" (read vs signed): "+d)
		}
	}

	// Which parts give which fields.
	var respPart *irNode
	var assertionParts []*irNode
	var assertionWhere []string
	encMethod := ""
	for _, p := range tr.parts {
		signedBytes, proven, err := digestedBytes(p, receivedRoot)
		if err != nil {
			diffs = append(diffs, fmt.Sprintf("%s part: %v", p.What, err))
			continue
		}
		if proven {
			digested++
		}
		root, err := irParse(signedBytes)
		if err != nil {
			diffs = append(diffs, fmt.Sprintf("%s part does not parse: %v", p.What, err))
			continue
		}
		switch p.What {
		case "Response":
			if !root.is(irProtocol, "Response") {
				diffs = append(diffs, "Response part is a "+root.local)
				continue
			}
			respPart = root
			if inner := root.child(irAssertion, "Assertion"); inner != nil {
				assertionParts = append(assertionParts, inner)
				assertionWhere = append(assertionWhere, "assertion in the signed Response")
			}
			encMethod = root.child(irAssertion, "EncryptedAssertion").child(irXMLEnc, "EncryptedData").
				child(irXMLEnc, "EncryptionMethod").attr("Algorithm")
		case "Assertion", "DecryptedAssertion":
			if !root.is(irAssertion, "Assertion") {
				diffs = append(diffs, p.What+" part is a "+root.local)
				continue
			}
			assertionParts = append(assertionParts, root)
			assertionWhere = append(assertionWhere, p.What+" part")
		default:
			diffs = append(diffs, "unknown part "+p.What)
		}
	}

	// Response fields: from the signed Response, else (unsigned, never a
	// source of what is returned) from the document as received.
	if (respPart != nil) != rd.ResponseSigned {
		diffs = append(diffs, fmt.Sprintf("ResponseSigned = %v with %d Response parts", rd.ResponseSigned, btoi(respPart != nil)))
	}
	if respPart == nil {
		respPart = receivedRoot
		if rerr != nil {
			diffs = append(diffs, "received document does not read: "+rerr.Error())
		}
		if root := respPart; root != nil && a.EncryptionMethod != "" {
			encMethod = root.child(irAssertion, "EncryptedAssertion").child(irXMLEnc, "EncryptedData").
				child(irXMLEnc, "EncryptionMethod").attr("Algorithm")
		}
	}
	if respPart != nil {
		report("Response", responseFieldsOf(rd), extractResponse(respPart))
	}
	report("EncryptionMethod", a.EncryptionMethod, encMethod)

	// Assertion fields: every signed copy must give the same.
	if len(assertionParts) == 0 {
		diffs = append(diffs, "no signed bytes cover the assertion")
	}
	var signed *irAssertionFields
	for i, ap := range assertionParts {
		got := extractAssertion(ap, rd.BearerIndex, rd.nameIDDecrypted)
		want := assertionFieldsOf(rd)
		if rd.nameIDDecrypted {
			want.NameID, want.NameIDFormat, want.NameIDSPNameQualifier = "", "", ""
		}
		report(assertionWhere[i], want, got)
		if signed == nil {
			signed = &got
		}
	}

	// Binding: the signed SubjectConfirmationData's InResponseTo decides;
	// the Response's only when the Response is signed.
	if signed != nil {
		wantIRT := signed.SCDInResponseTo
		if wantIRT == "" && rd.ResponseSigned {
			wantIRT = extractResponse(respPart).ResponseInResponseTo
		}
		report("InResponseTo acted on", rd.InResponseTo, wantIRT)
	}

	// The returned Assertion is what was read.
	got := map[string]any{
		"ID": a.ID, "Issuer": a.Issuer, "NameID": a.NameID, "NameIDFormat": a.NameIDFormat,
		"SessionIndex": a.SessionIndex, "InResponseTo": a.InResponseTo, "Attributes": a.Attributes,
		"AuthnContextClassRefs": a.AuthnContextClassRefs,
	}
	want := map[string]any{
		"ID": rd.AssertionID, "Issuer": rd.Issuer, "NameID": rd.NameID, "NameIDFormat": rd.NameIDFormat,
		"SessionIndex": rd.SessionIndex, "InResponseTo": rd.InResponseTo, "Attributes": attributeMap(rd.Attributes),
		"AuthnContextClassRefs": rd.AuthnContextClassRefs,
	}
	for _, k := range []string{"ID", "Issuer", "NameID", "NameIDFormat", "SessionIndex", "InResponseTo", "Attributes", "AuthnContextClassRefs"} {
		report("Assertion."+k, got[k], want[k])
	}
	if signed != nil {
		exp, err := earliestOf(signed.SCDNotOnOrAfter, signed.NotOnOrAfter)
		if err != nil {
			diffs = append(diffs, "signed NotOnOrAfter: "+err.Error())
		} else if !a.NotOnOrAfter.Equal(exp) {
			diffs = append(diffs, fmt.Sprintf("Assertion.NotOnOrAfter: got %v, signed %v", a.NotOnOrAfter, exp))
		}
	}
	if len(diffs) > 0 {
		return digested, fmt.Errorf("read != signed (parts %v):\n\t%s", partNames(tr), strings.Join(diffs, "\n\t"))
	}
	return digested, nil
}

// The digest and canonicalization algorithms a part's signature may name.
var (
	irDigests = map[string]func() hash.Hash{
		"http://www.w3.org/2000/09/xmldsig#sha1":        sha1.New,
		"http://www.w3.org/2001/04/xmlenc#sha256":       sha256.New,
		"http://www.w3.org/2001/04/xmldsig-more#sha384": sha512.New384,
		"http://www.w3.org/2001/04/xmlenc#sha512":       sha512.New,
	}
	irInclusive = map[string]dsig.Canonicalizer{
		"http://www.w3.org/TR/2001/REC-xml-c14n-20010315": dsig.MakeC14N10RecCanonicalizer(),
		"http://www.w3.org/2006/12/xml-c14n11":            dsig.MakeC14N11Canonicalizer(),
	}
)

// digestedBytes returns the bytes a traced part's signature digested. The
// signature is found in the received document: the Response's, or the
// clear assertion's. The exclusive path traces the digested bytes
// themselves; the inclusive path traces goxmldsig's tree, which is
// canonicalized again here (etree and goxmldsig stand for the signer side
// only; reading stays with irParse). Either way the digest of the bytes
// returned must be the signature's DigestValue (proven = true). A decrypted
// assertion, and a signature inside an encrypted assertion, cannot be found
// in the received document: the part is returned as traced.
func digestedBytes(p tracePart, received *irNode) ([]byte, bool, error) {
	const ds = "http://www.w3.org/2000/09/xmldsig#"
	var signed *irNode
	switch p.What {
	case "Response":
		signed = received
	case "Assertion":
		signed = received.child(irAssertion, "Assertion")
	}
	sig := signed.child(ds, "Signature")
	if sig == nil {
		if p.What == "Response" {
			return nil, false, errors.New("the received Response carries no signature")
		}
		return p.Canonical.Bytes(), false, nil
	}
	ref := sig.child(ds, "SignedInfo").child(ds, "Reference")
	c14n := ""
	for _, tf := range ref.child(ds, "Transforms").children(ds, "Transform") {
		if alg := tf.attr("Algorithm"); alg != "http://www.w3.org/2000/09/xmldsig#enveloped-signature" {
			c14n = alg
		}
	}
	out := p.Canonical.Bytes()
	if c, ok := irInclusive[c14n]; ok {
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(out); err != nil {
			return nil, false, err
		}
		var err error
		if out, err = c.Canonicalize(doc.Root()); err != nil {
			return nil, false, err
		}
	}
	newHash, ok := irDigests[ref.child(ds, "DigestMethod").attr("Algorithm")]
	if !ok {
		return nil, false, errors.New("unknown digest method")
	}
	want, err := base64.StdEncoding.DecodeString(ref.child(ds, "DigestValue").textOf())
	if err != nil {
		return nil, false, err
	}
	h := newHash()
	h.Write(out)
	if !bytes.Equal(h.Sum(nil), want) {
		return nil, false, fmt.Errorf("traced bytes (C14N %s) are not the digested ones", c14n)
	}
	return out, true, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func partNames(tr *trace) []string {
	var out []string
	for _, p := range tr.parts {
		out = append(out, p.What)
	}
	return out
}

// attributeMap is Assertion.Attributes as readout's rules define it: values
// of one name merged in document order; a name without values maps to an
// empty slice.
func attributeMap(as []readAttribute) map[string][]string {
	out := make(map[string][]string)
	for _, at := range as {
		vals := append(out[at.Name], at.Values...)
		if vals == nil {
			vals = []string{}
		}
		out[at.Name] = vals
	}
	return out
}

// earliestOf parses two xs:dateTime values (either may be absent) and
// returns the earlier.
func earliestOf(a, b string) (time.Time, error) {
	var out time.Time
	for _, s := range []string{a, b} {
		if s == "" {
			continue
		}
		t, err := irTime(s)
		if err != nil {
			return time.Time{}, err
		}
		if out.IsZero() || t.Before(out) {
			out = t
		}
	}
	return out, nil
}

// irTime reads an xs:dateTime: RFC 3339, or without a zone as UTC.
func irTime(s string) (time.Time, error) {
	s = strings.Trim(s, " \t\r\n")
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02T15:04:05.999999999", s)
}

// postedXML undoes the posting: base64 (white space ignored), then raw
// DEFLATE when the result is not XML.
func postedXML(posted string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, posted))
	if err != nil {
		return nil, err
	}
	t := bytes.TrimPrefix(bytes.TrimLeft(raw, " \t\r\n"), []byte("\xef\xbb\xbf"))
	if len(t) > 0 && t[0] != '<' {
		return io.ReadAll(flate.NewReader(bytes.NewReader(raw)))
	}
	return bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")), nil
}

// Diff describes how o reads differently from r ("" when it reads the
// same): every field of the readout and of the Assertion, and the parts
// traced.
func (r ReadSigned) Diff(o ReadSigned) string {
	var out []string
	if d := fieldDiff(r.Read, o.Read); d != "" {
		out = append(out, "readout: "+d)
	}
	if !r.Read.scdExpiry.Equal(o.Read.scdExpiry) || r.Read.nameIDDecrypted != o.Read.nameIDDecrypted {
		out = append(out, "readout: SubjectConfirmationData expiry or NameID decryption differ")
	}
	var ra, oa Assertion
	if r.Assertion != nil {
		ra = *r.Assertion
	}
	if o.Assertion != nil {
		oa = *o.Assertion
	}
	if d := fieldDiff(ra, oa); d != "" {
		out = append(out, "Assertion: "+d)
	}
	if ra.NotOnOrAfter != oa.NotOnOrAfter {
		out = append(out, "Assertion: NotOnOrAfter representation differs")
	}
	if d := fieldDiff(r.Parts, o.Parts); d != "" {
		out = append(out, "parts: "+d)
	}
	return strings.Join(out, "; ")
}

// fieldDiff describes how got and want differ ("" when equal), exported
// field by exported field for structs, treating nil and empty slices and
// maps alike.
func fieldDiff(got, want any) string {
	return valueDiff(reflect.ValueOf(got), reflect.ValueOf(want))
}

func valueDiff(gv, wv reflect.Value) string {
	if gv.Kind() == reflect.Struct && gv.Type() == wv.Type() && gv.Type() != reflect.TypeOf(time.Time{}) {
		var out []string
		for i := 0; i < gv.NumField(); i++ {
			if !gv.Type().Field(i).IsExported() {
				continue
			}
			if d := valueDiff(gv.Field(i), wv.Field(i)); d != "" {
				out = append(out, gv.Type().Field(i).Name+" "+d)
			}
		}
		return strings.Join(out, "; ")
	}
	if isEmpty(gv) && isEmpty(wv) {
		return ""
	}
	if gv.IsValid() && wv.IsValid() && reflect.DeepEqual(gv.Interface(), wv.Interface()) {
		return ""
	}
	return fmt.Sprintf("%q vs %q", sprint(gv), sprint(wv))
}

func sprint(v reflect.Value) string {
	if !v.IsValid() {
		return "<nil>"
	}
	return fmt.Sprint(v.Interface())
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	case reflect.Invalid:
		return true
	}
	return false
}

func TestIndependentReader(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, xml      string
		attr, wantAttr string
		wantText       string
		wantNoText     bool
		wantSpace      string
		wantErr        bool
	}{
		{name: "declaration named like the attribute is not it", xml: `<a xmlns:Name="email" Name="last_name"/>`, attr: "Name", wantAttr: "last_name"},
		{name: "declaration alone is no attribute", xml: `<a xmlns:Name="email"/>`, attr: "Name"},
		{name: "default declaration is no attribute", xml: `<a xmlns="urn:x"/>`, attr: "xmlns", wantSpace: "urn:x"},
		{name: "prefixed attribute is not the unprefixed one", xml: `<p:a xmlns:p="urn:p" p:ID="x" ID="y"/>`, attr: "ID", wantAttr: "y", wantSpace: "urn:p"},
		{name: "xml: attribute is not the unprefixed one", xml: `<a xml:ID="x"/>`, attr: "ID"},
		{name: "text across CDATA and references, trimmed", xml: "<a>\n x<![CDATA[&y]]>&#x7A;&amp; \t</a>", wantText: "x&yz&"},
		{name: "element inside: no text", xml: `<a>x<b/>y</a>`, wantNoText: true},
		{name: "unprefixed attribute twice", xml: `<a ID="1" ID="2"/>`, wantErr: true},
		{name: "two document elements", xml: `<a/><b/>`, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, err := irParse([]byte(tc.xml))
			if (err != nil) != tc.wantErr {
				t.Fatalf("irParse() err = %v; want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if tc.attr != "" {
				if got, ok := n.attrs[tc.attr]; got != tc.wantAttr || ok != (tc.wantAttr != "") {
					t.Errorf("attr(%s) = %q, %v; want %q", tc.attr, got, ok, tc.wantAttr)
				}
			}
			if got, ok := n.value(); got != tc.wantText || ok == tc.wantNoText {
				t.Errorf("value() = %q, %v; want %q, %v", got, ok, tc.wantText, !tc.wantNoText)
			}
			if n.space != tc.wantSpace {
				t.Errorf("namespace = %q; want %q", n.space, tc.wantSpace)
			}
		})
	}
}

// The check must catch what the read != signed bugs of issue 9 produced: a
// hand-made trace, consistent, then with one planted difference per row.
const (
	rsAssertion = `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" IssueInstant="2026-03-01T12:00:00Z" Version="2.0">` +
		`<saml:Issuer>https://idp.example.test/metadata</saml:Issuer><saml:Subject>` +
		`<saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">alice@acme.example</saml:NameID>` +
		`<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"></saml:SubjectConfirmation>` +
		`<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData InResponseTo="id-1" ` +
		`NotOnOrAfter="2026-03-01T12:05:00Z" Recipient="https://app.example.com/acs"></saml:SubjectConfirmationData></saml:SubjectConfirmation></saml:Subject>` +
		`<saml:Conditions NotBefore="2026-03-01T11:55:00Z" NotOnOrAfter="2026-03-01T12:04:00Z"><saml:AudienceRestriction>` +
		`<saml:Audience>https://app.example.com/metadata</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
		`<saml:AuthnStatement AuthnInstant="2026-03-01T12:00:00Z" SessionIndex="_s1"></saml:AuthnStatement>` +
		`<saml:AttributeStatement><saml:Attribute Name="email"><saml:AttributeValue>alice@acme.example</saml:AttributeValue></saml:Attribute>` +
		`<saml:Attribute Name="last_name"><saml:AttributeValue> Liddell </saml:AttributeValue></saml:Attribute>` +
		`<saml:Attribute Name="roles"><saml:AttributeValue>a</saml:AttributeValue><saml:AttributeValue><x></x></saml:AttributeValue></saml:Attribute>` +
		`<saml:Attribute Name=""></saml:Attribute></saml:AttributeStatement></saml:Assertion>`
	rsResponseOpen = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:Destination="https://evil.example/acs" ` +
		`Destination="https://app.example.com/acs" ID="_r1" InResponseTo="id-1" Version="2.0">` +
		`<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">https://idp.example.test/metadata</saml:Issuer>` +
		`<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"></samlp:StatusCode></samlp:Status>`
)

func rsConsistent() (string, *Assertion, *trace) {
	rd := readout{
		ResponseID: "_r1", Destination: "https://app.example.com/acs", ResponseInResponseTo: "id-1",
		ResponseIssuer: "https://idp.example.test/metadata", Status: "urn:oasis:names:tc:SAML:2.0:status:Success",
		AssertionID: "_a1", Issuer: "https://idp.example.test/metadata",
		NameID: "alice@acme.example", NameIDFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
		BearerIndex: 1, Recipient: "https://app.example.com/acs", SCDInResponseTo: "id-1", SCDNotOnOrAfter: "2026-03-01T12:05:00Z",
		NotBefore: "2026-03-01T11:55:00Z", NotOnOrAfter: "2026-03-01T12:04:00Z",
		Audiences: []string{"https://app.example.com/metadata"}, SessionIndex: "_s1",
		Attributes: []readAttribute{
			{Name: "email", Values: []string{"alice@acme.example"}},
			{Name: "last_name", Values: []string{"Liddell"}},
			{Name: "roles", Values: []string{"a"}},
		},
		InResponseTo: "id-1",
	}
	a := &Assertion{ID: "_a1", Issuer: rd.Issuer, NameID: rd.NameID, NameIDFormat: rd.NameIDFormat, SessionIndex: "_s1",
		InResponseTo: "id-1", Attributes: attributeMap(rd.Attributes), NotOnOrAfter: time.Date(2026, 3, 1, 12, 4, 0, 0, time.UTC)}
	tr := &trace{read: rd, parts: []tracePart{{What: "Assertion", Canonical: bytes.NewBufferString(rsAssertion)}}}
	posted := base64.StdEncoding.EncodeToString([]byte(rsResponseOpen + rsAssertion + `</samlp:Response>`))
	return posted, a, tr
}

func TestCheckReadSignedCatches(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		plant func(a *Assertion, tr *trace)
		want  string // in the error; "" = consistent
	}{
		{name: "consistent"},
		{name: "attribute read through xmlns:Name", plant: func(a *Assertion, tr *trace) {
			tr.read.Attributes[1].Name = "email"
			a.Attributes = attributeMap(tr.read.Attributes)
		}, want: "Attributes"},
		{name: "assertion ID read through xmlns:ID", plant: func(a *Assertion, tr *trace) {
			tr.read.AssertionID, a.ID = "_x", "_x"
		}, want: "AssertionID"},
		{name: "NameID Format read through xmlns:Format", plant: func(a *Assertion, tr *trace) {
			tr.read.NameIDFormat, a.NameIDFormat = "urn:evil", "urn:evil"
		}, want: "NameIDFormat"},
		{name: "confirmation that is not bearer", plant: func(_ *Assertion, tr *trace) { tr.read.BearerIndex = 0 }, want: "BearerMethod"},
		{name: "value holding markup read", plant: func(a *Assertion, tr *trace) {
			tr.read.Attributes[2].Values = []string{"a", ""}
			a.Attributes = attributeMap(tr.read.Attributes)
		}, want: "Attributes"},
		{name: "binding from the unsigned Response", plant: func(_ *Assertion, tr *trace) {
			tr.parts[0].Canonical = bytes.NewBufferString(strings.Replace(rsAssertion, ` InResponseTo="id-1"`, "", 1))
			tr.read.SCDInResponseTo = ""
		}, want: "InResponseTo acted on"},
		{name: "expiry not the earliest", plant: func(a *Assertion, _ *trace) {
			a.NotOnOrAfter = time.Date(2026, 3, 1, 12, 5, 0, 0, time.UTC)
		}, want: "NotOnOrAfter"},
		{name: "returned NameID is not the one read", plant: func(a *Assertion, _ *trace) { a.NameID = "mallory@acme.example" }, want: "Assertion.NameID"},
		{name: "unsigned Destination read through xmlns:Destination", plant: func(_ *Assertion, tr *trace) {
			tr.read.Destination = "https://evil.example/acs"
		}, want: "Destination"},
		{name: "claims a signed Response without its part", plant: func(_ *Assertion, tr *trace) { tr.read.ResponseSigned = true }, want: "ResponseSigned"},
		{name: "no signed bytes cover the assertion", plant: func(_ *Assertion, tr *trace) { tr.parts = nil }, want: "no signed bytes"},
		{name: "encryption method not the one received", plant: func(a *Assertion, _ *trace) {
			a.EncryptionMethod = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"
		}, want: "EncryptionMethod"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			posted, a, tr := rsConsistent()
			if tc.plant != nil {
				tc.plant(a, tr)
			}
			_, err := checkReadSigned(posted, a, tr)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("checkReadSigned() = %v; want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("checkReadSigned() = %v; want an error naming %s", err, tc.want)
			}
		})
	}
}
