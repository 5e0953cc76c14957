// Package xmldsig is a small XML Signature core for the SAML 2.0 profile of
// XML-DSig: Exclusive XML Canonicalization 1.0, and verification and creation
// of enveloped signatures over one element.
//
// It exists because goxmldsig, which orgsso used before, refuses any element
// with more than 1,000 descendants ("traversal limit reached") when signing,
// verifying and canonicalising, so a response for a user in 2,000 IdP groups
// cannot be verified; and because it copies, re-serialises and re-parses the
// tree several times per signature. This package canonicalises the etree tree
// in place, in one pass, in time linear in its size, without recursion and
// without an element limit, writing straight into the digest.
//
// # What is implemented
//
// Canonicalization: Exclusive XML Canonicalization 1.0 without comments
// (https://www.w3.org/TR/xml-exc-c14n/), with an InclusiveNamespaces
// PrefixList (including "#default"), of an element subtree, optionally
// omitting one descendant (the enveloped-signature transform). Namespaces in
// scope from the element's ancestors are taken from the tree or given by the
// caller. Comments are omitted; processing instructions are rendered, as the
// specification requires; character data, CDATA sections included, is
// escaped. Input that is not namespace-well-formed is refused with ErrMalformed
// (undeclared prefixes, reserved prefixes or namespace names misused, prefix
// undeclarations, two attributes with one expanded name, directives inside an
// element). Characters that XML cannot carry are written as U+FFFD, as etree's
// serialiser writes them, so that what is signed is what etree sends.
//
// Signatures (Verify, SignEnveloped): exactly one ds:Signature as a direct
// child of the signed element, with one SignedInfo holding one Reference whose
// URI is "#" plus the signed element's ID attribute ("" only for a document
// element when the caller allows it), the transforms enveloped-signature then
// exc-c14n, CanonicalizationMethod exc-c14n, digests SHA-1, SHA-256, SHA-384
// and SHA-512, and signatures RSA PKCS#1 v1.5 with SHA-1/256/384/512 and
// ECDSA with SHA-256/384/512, whose value is r||s as XML-DSig 1.1 specifies
// (not ASN.1). Keys come only from the caller's certificates; a certificate
// in KeyInfo selects among them and is never trusted by itself.
//
// Not implemented, and refused: inclusive C14N 1.0 and 1.1, comments-preserving
// canonicalization, XPath and XSLT transforms, several References, detached
// and enveloping signatures, HMAC, RSA-PSS, DSA and EdDSA, KeyValue and
// RetrievalMethod keys, and Manifests.
//
// Failures are *Error values wrapping one of ErrMalformed,
// ErrUnsupportedAlgorithm, ErrUntrustedKey, ErrSignatureInvalid or
// ErrDigestMismatch, for errors.Is; only WriteExclusive also returns its
// io.Writer's own errors as they are.
//
// Verify reads nothing outside SignedInfo as trusted except which of the
// caller's certificates KeyInfo names. After it succeeds the caller reads the
// signed element itself (not a re-parsed copy), minus the signature; since
// exc-c14n drops comments, text split by a comment is signed as one string,
// so a caller must refuse comments in signed content or read text whole.
package xmldsig
