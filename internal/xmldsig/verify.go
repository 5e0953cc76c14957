package xmldsig

import (
	"crypto/subtle"
	"crypto/x509"
	"io"

	"github.com/beevik/etree"
)

// idAttr is the attribute a SAML Reference URI names.
const idAttr = "ID"

// VerifyOptions says which keys and algorithms Verify accepts and where the
// signed element sits.
type VerifyOptions struct {
	// Certificates are the trusted signing certificates. When the signature's
	// KeyInfo carries X509Certificates, only the trusted ones byte-equal to one
	// of them are tried; otherwise every trusted certificate is tried. Their
	// validity dates are not looked at: that is the caller's policy.
	Certificates []*x509.Certificate

	// Allow is called with the SignatureMethod and DigestMethod URIs, both
	// implemented by this package, before any cryptography; an error refuses
	// the signature (it is wrapped with ErrUnsupportedAlgorithm). Nil allows
	// everything implemented except SHA-1.
	Allow func(signatureMethod, digestMethod string) error

	// Inherited maps the namespace prefixes in scope at the signed element's
	// parent to their URIs. Nil: they are read from the signed element's
	// ancestors in its etree tree.
	Inherited map[string]string

	// DocumentRoot says the signed element is the whole document, so that a
	// Reference URI "" (the document) names it too.
	DocumentRoot bool

	// Digested, when not nil, also receives the canonical bytes of the signed
	// element that were digested (tests hold what a caller reads to them).
	Digested io.Writer
}

// Verify checks the enveloped signature sig, which must be a ds:Signature
// child of signed, and returns the trusted certificate that verified it.
//
// It enforces the SAML profile: one SignedInfo with CanonicalizationMethod
// exc-c14n and one Reference whose URI is "#" + signed's ID attribute, with
// the transforms enveloped-signature then exc-c14n. It then verifies the
// SignatureValue over the canonical SignedInfo and, only once SignedInfo is
// authentic, compares (in constant time) the digest of signed's canonical
// form without sig to the DigestValue. Nothing outside SignedInfo is trusted
// but the choice among opts.Certificates.
//
// Verify only reads the tree. The caller must read the signed content from
// signed itself, minus sig, and must treat its comments with care: exc-c14n
// leaves them out, so text split by a comment is signed as one string.
func Verify(signed, sig *etree.Element, opts VerifyOptions) (*x509.Certificate, error) {
	if signed == nil || sig == nil {
		return nil, malformed("no signed element or no signature")
	}
	if sig.Parent() != signed {
		return nil, malformed("the signature is not a child of the signed element")
	}
	s, err := parseSignature(signed, sig, opts.Inherited)
	if err != nil {
		return nil, err
	}

	allow := opts.Allow
	if allow == nil {
		allow = defaultAllow
	}
	if err := allow(s.signatureMethod, s.digestMethod); err != nil {
		return nil, wrapErr(ErrUnsupportedAlgorithm, "algorithm refused by policy", err)
	}

	id := attrValue(signed, idAttr)
	switch {
	case s.referenceURI == "" && opts.DocumentRoot:
	case s.referenceURI == "":
		return nil, malformed(`Reference URI "" (the whole document) does not name the signed element`)
	case id == "" || s.referenceURI != "#"+id:
		return nil, malformed("Reference URI " + truncate(s.referenceURI) + " does not name the signed element (ID " + truncate(id) + ")")
	}

	candidates, err := s.candidates(opts.Certificates)
	if err != nil {
		return nil, err
	}

	// Signature over the canonical SignedInfo.
	method := signatureMethods[s.signatureMethod]
	h := method.hash.New()
	if err := canonicalizeInContext(h, s.signedInfo, opts.Inherited, signed, s.signedInfoPrefixes, nil); err != nil {
		return nil, err
	}
	hashed := h.Sum(nil)
	var cert *x509.Certificate
	for _, c := range candidates {
		if verifySignature(c.PublicKey, method, hashed, s.signatureValue) {
			cert = c
			break
		}
	}
	if cert == nil {
		return nil, newErr(ErrSignatureInvalid, "SignatureValue does not verify with any trusted certificate")
	}

	// Digest of the signed element without the signature.
	dh := digestMethods[s.digestMethod].New()
	var w io.Writer = dh
	if opts.Digested != nil {
		w = io.MultiWriter(dh, opts.Digested)
	}
	if err := canonicalizeInContext(w, signed, opts.Inherited, signed, s.referencePrefixes, sig); err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(dh.Sum(nil), s.digestValue) != 1 {
		return nil, newErr(ErrDigestMismatch, "the signed element was modified after signing")
	}
	return cert, nil
}

// canonicalizeInContext writes the exclusive canonical form of el to w, with
// the namespaces in scope at el's parent being inherited (in scope at top's
// parent) plus the declarations from top down to el's parent; with inherited
// nil, those of all of el's ancestors.
func canonicalizeInContext(w interface{ Write([]byte) (int, error) }, el *etree.Element, inherited map[string]string, top *etree.Element, prefixes []string, exclude *etree.Element) error {
	c := canonicalizer{w: w, buf: make([]byte, 0, flushSize+1024)}
	return c.run(el, inherited, top, prefixes, exclude)
}

// candidates returns the trusted certificates to try, in order.
func (s *signature) candidates(trusted []*x509.Certificate) ([]*x509.Certificate, error) {
	method := signatureMethods[s.signatureMethod]
	var out []*x509.Certificate
	for _, c := range trusted {
		if c == nil || !keyFits(c.PublicKey, method) {
			continue
		}
		if len(s.keyInfoCerts) > 0 && !containsDER(s.keyInfoCerts, c.Raw) {
			continue
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		if len(s.keyInfoCerts) > 0 {
			return nil, newErr(ErrUntrustedKey, "the KeyInfo certificate is not a trusted certificate for this signature method")
		}
		return nil, newErr(ErrUntrustedKey, "no trusted certificate has a key for this signature method")
	}
	return out, nil
}

func containsDER(list [][]byte, der []byte) bool {
	for _, d := range list {
		if subtle.ConstantTimeCompare(d, der) == 1 {
			return true
		}
	}
	return false
}
