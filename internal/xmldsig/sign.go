package xmldsig

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"

	"github.com/beevik/etree"
)

// nsAssertion is the SAML 2.0 assertion namespace, of saml:Issuer.
const nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"

// SignOptions are the algorithms and key information of SignEnveloped.
type SignOptions struct {
	// SignatureMethod is a SignatureMethod URI fit for the key. Empty:
	// RSASHA256 for an RSA key, ECDSASHA256 for an ECDSA key.
	SignatureMethod string
	// DigestMethod is a DigestMethod URI. Empty: DigestSHA256.
	DigestMethod string
	// Certificate, when set, is written to KeyInfo as an X509Certificate.
	// It is not checked against the key, so that tests can sign with a
	// mismatched certificate. Nil: no KeyInfo.
	Certificate *x509.Certificate
	// Inherited maps the namespace prefixes in scope at el's parent to their
	// URIs. Nil: they are read from el's ancestors in its etree tree.
	Inherited map[string]string
}

// SignEnveloped signs el with an enveloped signature in the form SAML IdPs
// produce, and inserts it into el: after el's saml:Issuer child when it has
// one, else as el's first child. It returns the ds:Signature element:
//
//	<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
//	  <ds:SignedInfo> exc-c14n, the signature method, one Reference to "#"+ID
//	    with the transforms enveloped-signature and exc-c14n </ds:SignedInfo>
//	  <ds:SignatureValue>…</ds:SignatureValue>
//	  <ds:KeyInfo><ds:X509Data><ds:X509Certificate>…</…></…></ds:KeyInfo>
//	</ds:Signature>
//
// (without white space). el must have a non-empty ID attribute and no
// ds:Signature child. RSA keys sign with PKCS#1 v1.5; ECDSA values are r||s.
// On error el is left unchanged.
func SignEnveloped(el *etree.Element, key crypto.Signer, opts SignOptions) (*etree.Element, error) {
	if el == nil || key == nil {
		return nil, malformed("no element or no key to sign with")
	}
	id := attrValue(el, idAttr)
	if id == "" {
		return nil, malformed("the element to sign has no ID attribute")
	}
	sigAlg := opts.SignatureMethod
	if sigAlg == "" {
		sigAlg = RSASHA256
		if _, ok := key.Public().(*ecdsa.PublicKey); ok {
			sigAlg = ECDSASHA256
		}
	}
	method, ok := signatureMethods[sigAlg]
	if !ok {
		return nil, newErr(ErrUnsupportedAlgorithm, "SignatureMethod "+truncate(sigAlg)+" is not supported")
	}
	if !keyFits(key.Public(), method) {
		return nil, newErr(ErrUnsupportedAlgorithm, "SignatureMethod "+truncate(sigAlg)+" does not fit the key")
	}
	digestAlg := opts.DigestMethod
	if digestAlg == "" {
		digestAlg = DigestSHA256
	}
	digestHash, ok := digestMethods[digestAlg]
	if !ok {
		return nil, newErr(ErrUnsupportedAlgorithm, "DigestMethod "+truncate(digestAlg)+" is not supported")
	}
	if opts.Certificate != nil && len(opts.Certificate.Raw) == 0 {
		return nil, malformed("the certificate has no DER encoding (Raw); use a parsed certificate")
	}

	elScope, err := scopeAt(el, el, opts.Inherited)
	if err != nil {
		return nil, err
	}
	at := 0
	for _, c := range el.ChildElements() {
		if elScope.is(c, Namespace, "Signature") {
			return nil, malformed("the element already has a signature")
		}
		if at == 0 && elScope.is(c, nsAssertion, "Issuer") {
			at = c.Index() + 1
		}
	}

	h := digestHash.New()
	if err := canonicalizeInContext(h, el, opts.Inherited, el, nil, nil); err != nil {
		return nil, err
	}
	digest := h.Sum(nil)

	sig := etree.NewElement("ds:Signature")
	sig.CreateAttr("xmlns:ds", Namespace)
	si := sig.CreateElement("ds:SignedInfo")
	si.CreateElement("ds:CanonicalizationMethod").CreateAttr("Algorithm", ExclusiveC14N)
	si.CreateElement("ds:SignatureMethod").CreateAttr("Algorithm", sigAlg)
	ref := si.CreateElement("ds:Reference")
	ref.CreateAttr("URI", "#"+id)
	ts := ref.CreateElement("ds:Transforms")
	ts.CreateElement("ds:Transform").CreateAttr("Algorithm", EnvelopedSignature)
	ts.CreateElement("ds:Transform").CreateAttr("Algorithm", ExclusiveC14N)
	ref.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", digestAlg)
	ref.CreateElement("ds:DigestValue").SetText(base64.StdEncoding.EncodeToString(digest))

	// SignedInfo is canonicalised in its final place, in el's scope.
	el.InsertChildAt(at, sig)
	value, err := signSignedInfo(si, el, opts.Inherited, key, method)
	if err != nil {
		el.RemoveChild(sig)
		return nil, err
	}
	sig.CreateElement("ds:SignatureValue").SetText(base64.StdEncoding.EncodeToString(value))
	if opts.Certificate != nil {
		ki := sig.CreateElement("ds:KeyInfo")
		ki.CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").
			SetText(base64.StdEncoding.EncodeToString(opts.Certificate.Raw))
	}
	return sig, nil
}

// signSignedInfo returns the signature value of the canonical SignedInfo si,
// whose signed element is el.
func signSignedInfo(si, el *etree.Element, inherited map[string]string, key crypto.Signer, method signatureMethod) ([]byte, error) {
	h := method.hash.New()
	if err := canonicalizeInContext(h, si, inherited, el, nil, nil); err != nil {
		return nil, err
	}
	value, err := key.Sign(rand.Reader, h.Sum(nil), method.hash)
	if err != nil {
		return nil, wrapErr(ErrUnsupportedAlgorithm, "the key cannot sign", err)
	}
	switch pub := key.Public().(type) {
	case *ecdsa.PublicKey:
		return ecdsaRaw(value, pub)
	case *rsa.PublicKey:
		return value, nil
	}
	return nil, newErr(ErrUnsupportedAlgorithm, "only RSA and ECDSA keys are supported")
}
