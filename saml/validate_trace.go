package saml

import (
	"bytes"
	"io"
	"time"

	"github.com/beevik/etree"

	"github.com/orgsso/orgsso/internal/safexml"
	"github.com/orgsso/orgsso/internal/xmldsig"
)

// trace records, for the read == signed tests, the canonical bytes each
// verified signature digested and everything the Validator read from them.
// Validation builds one only when a test asks (validateTraced); in production
// it is nil and costs nothing.
type trace struct {
	parts []tracePart
	read  readout
}

// tracePart is the canonical form of one signed (or decrypted) element:
// What is "Response", "Assertion" or "DecryptedAssertion".
type tracePart struct {
	What      string
	Canonical *bytes.Buffer
}

// part returns the writer xmldsig tees the digested bytes of What into (a
// nil interface when not tracing).
func (t *trace) part(what string) io.Writer {
	if t == nil {
		return nil
	}
	b := new(bytes.Buffer)
	t.parts = append(t.parts, tracePart{What: what, Canonical: b})
	return b
}

// addCanonical records the exclusive canonical form of el (a decrypted
// assertion, covered by the Response's signature through its ciphertext).
func (t *trace) addCanonical(what string, el *etree.Element, inherited map[string]string) {
	b, err := xmldsig.CanonicalizeExclusive(el, inherited, nil, nil)
	if err != nil {
		return
	}
	t.parts = append(t.parts, tracePart{What: what, Canonical: bytes.NewBuffer(b)})
}

// readout is everything a successful validation read, as read (attribute
// values verbatim, text trimmed of XML white space):
//
//   - Response fields (ResponseID, Destination, ResponseInResponseTo,
//     ResponseIssuer, Status): from the Response element; signed only when
//     ResponseSigned.
//   - Assertion fields: the assertion's ID; its Issuer's text; the Subject's
//     NameID (text, Format, SPNameQualifier); of the bearer
//     SubjectConfirmation at BearerIndex (an index among the Subject's
//     SubjectConfirmation children) its SubjectConfirmationData's Recipient,
//     InResponseTo, NotBefore, NotOnOrAfter; the Conditions' NotBefore and
//     NotOnOrAfter and every Audience of every AudienceRestriction, in order;
//     the first non-empty SessionNotOnOrAfter and SessionIndex among the
//     AuthnStatements; the AuthnContextClassRef of each AuthnStatement (the
//     first in its first AuthnContext, text trimmed, left out when empty or
//     holding an element), in document order, each once; every Attribute with a non-empty Name of every
//     AttributeStatement in document order, with its AttributeValues that
//     hold no element.
type readout struct {
	ResponseSigned bool

	ResponseID, Destination, ResponseInResponseTo, ResponseIssuer, Status string

	AssertionID, Issuer, NameID, NameIDFormat, NameIDSPNameQualifier string
	BearerIndex                                                      int
	Recipient, SCDInResponseTo, SCDNotBefore, SCDNotOnOrAfter        string
	NotBefore, NotOnOrAfter                                          string
	Audiences                                                        []string
	SessionIndex, SessionNotOnOrAfter                                string
	AuthnContextClassRefs                                            []string
	Attributes                                                       []readAttribute

	InResponseTo string // the binding the Validator acted on

	scdExpiry       time.Time
	nameIDDecrypted bool
}

// readAttribute is one Attribute element as read.
type readAttribute struct {
	Name   string
	Values []string
}

// fill copies into rd what the Assertion returned and the Response fields.
func (rd *readout) fill(a *Assertion, ver *verified, r *etree.Element) {
	rd.ResponseSigned = ver.responseSigned
	rd.AssertionID, rd.Issuer = a.ID, a.Issuer
	rd.NameID, rd.NameIDFormat = a.NameID, a.NameIDFormat
	rd.SessionIndex = a.SessionIndex
	rd.InResponseTo = a.InResponseTo
	rd.ResponseID = attrOf(r, "ID")
	if st := ver.rdoc.Child(r, nsProtocol, "Status"); st != nil {
		rd.Status = attrOf(ver.rdoc.Child(st, nsProtocol, "StatusCode"), "Value")
	}
}

// validateTraced is ValidateFunc recording a trace.
func (v *Validator) validateTraced(samlResponse string, match func(string) error) (*Assertion, *trace, error) {
	tr := &trace{}
	a, err := v.validate(samlResponse, match, tr)
	return a, tr, err
}

func attrOf(el *etree.Element, name string) string {
	if el == nil {
		return ""
	}
	return safexml.AttrValue(el, name)
}
