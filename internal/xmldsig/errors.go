package xmldsig

import (
	"errors"
	"strconv"
)

// Sentinel errors: every *Error this package returns wraps exactly one of them.
var (
	// ErrMalformed reports input outside the SAML profile of XML-DSig or XML
	// that is not namespace-well-formed: a missing or repeated signature part,
	// a Reference that does not name the signed element, bad base64, an
	// undeclared prefix.
	ErrMalformed = errors.New("xmldsig: malformed signature or document")
	// ErrUnsupportedAlgorithm reports an algorithm or transform this package
	// does not implement, or one the caller's policy refused.
	ErrUnsupportedAlgorithm = errors.New("xmldsig: unsupported or refused algorithm")
	// ErrUntrustedKey reports a signature whose KeyInfo certificate is not one
	// of the trusted certificates, or no trusted key fit for its algorithm.
	ErrUntrustedKey = errors.New("xmldsig: signing key is not trusted")
	// ErrSignatureInvalid reports a SignatureValue that does not verify over
	// the canonical SignedInfo with any trusted key.
	ErrSignatureInvalid = errors.New("xmldsig: signature value does not verify")
	// ErrDigestMismatch reports signed content whose digest differs from the
	// DigestValue of an authentic SignedInfo: the content was changed.
	ErrDigestMismatch = errors.New("xmldsig: digest of the signed content does not match")
)

// Error is the error type of this package: Kind is one of the sentinels, Reason
// says what was wrong, and Err, when set, is the cause (a caller's policy
// error, a crypto error). errors.Is matches both Kind and Err.
type Error struct {
	Kind   error
	Reason string
	Err    error
}

// Error returns the reason, prefixed by the kind and followed by the cause.
func (e *Error) Error() string {
	s := e.Kind.Error() + ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

func newErr(kind error, reason string) *Error { return &Error{Kind: kind, Reason: reason} }

func wrapErr(kind error, reason string, err error) *Error {
	return &Error{Kind: kind, Reason: reason, Err: err}
}

func malformed(reason string) *Error { return newErr(ErrMalformed, reason) }

// truncate names input in an error without echoing it: the input is not
// verified yet, so only a URI this package knows is quoted; anything else is
// described by its length. Operators see which algorithm was refused; an
// attacker's text never reaches a log.
func truncate(s string) string {
	if knownURI(s) {
		return s
	}
	return "(" + strconv.Itoa(len(s)) + " bytes, not shown)"
}

// knownURI reports an algorithm or transform URI of XML-DSig and XML-Enc that
// is safe to quote.
func knownURI(s string) bool {
	if _, ok := signatureMethods[s]; ok {
		return true
	}
	if _, ok := digestMethods[s]; ok {
		return true
	}
	switch s {
	case ExclusiveC14N, EnvelopedSignature, ExclusiveC14N + "WithComments",
		"http://www.w3.org/TR/2001/REC-xml-c14n-20010315", "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",
		"http://www.w3.org/2006/12/xml-c14n11", "http://www.w3.org/2006/12/xml-c14n11#WithComments",
		"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1", "http://www.w3.org/2000/09/xmldsig#dsa-sha1",
		"http://www.w3.org/2001/04/xmldsig-more#hmac-sha256", "http://www.w3.org/2000/09/xmldsig#hmac-sha1", "":
		return true
	}
	return false
}
