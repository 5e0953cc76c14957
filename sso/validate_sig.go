package sso

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"time"

	"github.com/beevik/etree"
	"github.com/russellhaering/gosaml2/types"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"

	"github.com/orgsso/orgsso/internal/xmldsig"
)

// verified is what signature verification leaves to read: the assertion, from
// signed content only, and the Response element (signed content when the
// Response was signed, else the received element).
type verified struct {
	response       *etree.Element
	assertion      *etree.Element
	responseSigned bool
}

// verify checks the signatures and returns the content they cover. Either the
// Response (enclosing exactly one assertion) or the assertion must be signed
// by a configured certificate; every signature present must verify.
func (v *Validator) verify(resp *response, now time.Time) (*verified, error) {
	root := resp.root
	out := &verified{response: root}
	sigs := children(root, nsDSig, "Signature")
	if len(sigs) > 1 {
		return nil, fail(CheckSignature, "Response carries more than one signature")
	}
	if len(sigs) == 1 {
		el, err := v.verifyElement(root, sigs[0], now)
		if err != nil {
			return nil, err
		}
		out.response, out.responseSigned = el, true
	}

	a := firstChild(out.response, nsAssertion, "Assertion")
	if enc := firstChild(out.response, nsAssertion, "EncryptedAssertion"); enc != nil {
		dec, err := v.decrypt(enc)
		if err != nil {
			return nil, err
		}
		a = dec
	}
	if a == nil {
		return nil, fail(CheckAssertionCount, "signed Response content has no assertion")
	}
	asigs := children(a, nsDSig, "Signature")
	switch {
	case len(asigs) > 1:
		return nil, fail(CheckSignature, "assertion carries more than one signature")
	case len(asigs) == 1:
		el, err := v.verifyElement(a, asigs[0], now)
		if err != nil {
			return nil, err
		}
		a = el
	case !out.responseSigned:
		return nil, fail(CheckSignature, "neither the Response nor the assertion is signed")
	}
	out.assertion = a
	return out, nil
}

// verifyElement verifies the enveloped signature sigEl of el and returns the
// element whose content it covers. Signatures with exclusive C14N (what every
// SAML IdP sends) are verified in place by orgsso's own XML-DSig core, and el
// itself is returned: the caller reads exactly the tree that was digested,
// with no copy and no re-parse. Other canonicalizations go through goxmldsig.
func (v *Validator) verifyElement(el, sigEl *etree.Element, now time.Time) (*etree.Element, error) {
	id := el.SelectAttrValue("ID", "")
	if id == "" {
		return nil, failf(CheckSignature, "signed <%s> has no ID", el.Tag)
	}
	isResponse := isElement(el, nsProtocol, "Response")
	exclusive := exclusiveC14NOnly(sigEl)
	if !exclusive {
		// xmldsig.Verify enforces the SAML profile and the algorithm policy
		// itself; goxmldsig does neither, so check them first.
		if err := v.checkSignedInfo(sigEl, id, isResponse); err != nil {
			return nil, err
		}
	}
	certs, err := v.signingCandidates(sigEl, now)
	if err != nil {
		return nil, err
	}
	if !exclusive {
		return v.verifyElementDsig(el, certs, now)
	}
	_, err = xmldsig.Verify(el, sigEl, xmldsig.VerifyOptions{
		Certificates: certs,
		Allow:        v.allowAlgorithms,
		DocumentRoot: isResponse,
	})
	switch {
	case err == nil:
		return el, nil
	case errors.Is(err, xmldsig.ErrUnsupportedAlgorithm):
		return nil, wrapFail(CheckAlgorithm, "signature algorithm refused", err)
	default:
		return nil, wrapFail(CheckSignature, "signature does not verify", err)
	}
}

// signingCandidates returns the configured certificates that may have made
// the signature: the one its KeyInfo names (which must be configured), or
// every configured one when KeyInfo names none; only those valid at now.
func (v *Validator) signingCandidates(sig *etree.Element, now time.Time) ([]*x509.Certificate, error) {
	der, present, err := keyInfoCertificate(sig)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	var timeErr error
	for _, c := range v.certs {
		if present && !bytes.Equal(c.Raw, der) {
			continue
		}
		if err := checkCertificateTime("IdP certificate", c, now); err != nil {
			if timeErr == nil {
				timeErr = wrapFail(CheckCertificate, "IdP signing certificate is not valid now", err)
			}
			continue
		}
		out = append(out, c)
	}
	switch {
	case len(out) > 0:
		return out, nil
	case timeErr != nil:
		return nil, timeErr
	}
	return nil, fail(CheckSignature, "signed with a certificate that is not configured for this IdP")
}

// allowAlgorithms applies the organization's algorithm policy for xmldsig.
func (v *Validator) allowAlgorithms(sigAlg, digestAlg string) error {
	if err := v.policy.checkSignatureMethod(sigAlg); err != nil {
		return err
	}
	return v.policy.checkDigestMethod(digestAlg)
}

// exclusiveC14NOnly reports whether the signature canonicalizes SignedInfo
// and the signed element with exclusive C14N (without comments) only.
func exclusiveC14NOnly(sig *etree.Element) bool {
	si := firstChild(sig, nsDSig, "SignedInfo")
	if si == nil {
		return true // let Verify report the shape
	}
	if cm := firstChild(si, nsDSig, "CanonicalizationMethod"); cm != nil && cm.SelectAttrValue("Algorithm", "") != xmldsig.ExclusiveC14N {
		return false
	}
	for _, ref := range children(si, nsDSig, "Reference") {
		if ts := firstChild(ref, nsDSig, "Transforms"); ts != nil {
			for _, t := range children(ts, nsDSig, "Transform") {
				switch t.SelectAttrValue("Algorithm", "") {
				case xmldsig.ExclusiveC14N, string(dsig.EnvelopedSignatureAltorithmId):
				default:
					return false
				}
			}
		}
	}
	return true
}

// verifyElementDsig verifies with goxmldsig, for the inclusive
// canonicalizations some IdPs still use; it returns goxmldsig's canonical copy
// of the signed content.
func (v *Validator) verifyElementDsig(el *etree.Element, certs []*x509.Certificate, now time.Time) (*etree.Element, error) {
	target := el
	if el.Parent() != nil {
		ctx, err := etreeutils.NSBuildParentContext(el)
		if err != nil {
			return nil, wrapFail(CheckXML, "namespace declarations", err)
		}
		target, err = etreeutils.NSDetatch(ctx, el)
		if err != nil {
			return nil, wrapFail(CheckXML, "namespace declarations", err)
		}
	} else {
		target = el.Copy()
	}
	sig := firstChild(target, nsDSig, "Signature")
	if _, present, _ := keyInfoCertificate(sig); !present {
		if ki := firstChild(sig, nsDSig, "KeyInfo"); ki != nil {
			// KeyInfo without a certificate (a KeyName, say): we try the
			// configured certificates ourselves, so goxmldsig must not look.
			sig.RemoveChild(ki)
		}
	}
	var firstErr error
	for _, c := range certs {
		ctx := &dsig.ValidationContext{
			CertificateStore: &dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{c}},
			IdAttribute:      "ID",
			Clock:            dsig.NewFakeClockAt(now),
		}
		out, err := ctx.Validate(target)
		if err == nil {
			return out, nil
		}
		if firstErr == nil {
			firstErr = wrapFail(CheckSignature, "signature does not verify", err)
		}
	}
	return nil, firstErr
}

// checkSignedInfo enforces the SAML profile of XML-DSig (one Reference, to the
// enclosing element's ID) and the organization's algorithm policy, before
// goxmldsig runs (xmldsig.Verify does the same itself).
func (v *Validator) checkSignedInfo(sig *etree.Element, id string, isRoot bool) error {
	sis := children(sig, nsDSig, "SignedInfo")
	if len(sis) != 1 {
		return fail(CheckSignature, "signature must have exactly one SignedInfo")
	}
	si := sis[0]
	sm := firstChild(si, nsDSig, "SignatureMethod")
	if sm == nil {
		return fail(CheckSignature, "SignedInfo has no SignatureMethod")
	}
	if err := v.policy.checkSignatureMethod(sm.SelectAttrValue("Algorithm", "")); err != nil {
		return err
	}
	refs := children(si, nsDSig, "Reference")
	if len(refs) != 1 {
		return failf(CheckSignature, "SignedInfo must have exactly one Reference, has %d", len(refs))
	}
	ref := refs[0]
	// The Reference names the signed element's ID; "" (the whole document) is
	// accepted only for the Response, which is the whole document.
	if uri := ref.SelectAttrValue("URI", ""); uri != "#"+id && !(uri == "" && isRoot) {
		return mismatch(CheckSignature, "signature Reference", "#"+truncate(id, 80), truncate(uri, 80))
	}
	dm := firstChild(ref, nsDSig, "DigestMethod")
	if dm == nil {
		return fail(CheckSignature, "Reference has no DigestMethod")
	}
	if err := v.policy.checkDigestMethod(dm.SelectAttrValue("Algorithm", "")); err != nil {
		return err
	}
	if ts := firstChild(ref, nsDSig, "Transforms"); ts != nil {
		for _, t := range children(ts, nsDSig, "Transform") {
			switch alg := t.SelectAttrValue("Algorithm", ""); alg {
			case string(dsig.EnvelopedSignatureAltorithmId), string(dsig.CanonicalXML10ExclusiveAlgorithmId),
				string(dsig.CanonicalXML10ExclusiveWithCommentsAlgorithmId), string(dsig.CanonicalXML11AlgorithmId),
				string(dsig.CanonicalXML10RecAlgorithmId):
			default:
				return failf(CheckAlgorithm, "transform %q is not supported", truncate(alg, 100))
			}
		}
	}
	return nil
}

// keyInfoCertificate returns the DER of the first X509Certificate in the
// signature's KeyInfo, and whether there was one.
func keyInfoCertificate(sig *etree.Element) ([]byte, bool, error) {
	ki := firstChild(sig, nsDSig, "KeyInfo")
	if ki == nil {
		return nil, false, nil
	}
	xd := firstChild(ki, nsDSig, "X509Data")
	if xd == nil {
		return nil, false, nil
	}
	xc := firstChild(xd, nsDSig, "X509Certificate")
	if xc == nil {
		return nil, false, nil
	}
	der, err := decodeBase64(xc.Text())
	if err != nil || len(der) == 0 {
		return nil, true, wrapFail(CheckSignature, "KeyInfo certificate is not base64", err)
	}
	return der, true, nil
}

// decrypt decrypts an EncryptedAssertion with the SP key and returns the
// assertion as the root of its own document, after the same XML safety checks
// as the Response.
func (v *Validator) decrypt(enc *etree.Element) (el *etree.Element, err error) {
	if v.spKeyPair == nil {
		return nil, fail(CheckDecryption, "assertion is encrypted but no SP key is configured")
	}
	ctx, err := etreeutils.NSBuildParentContext(enc)
	if err != nil {
		return nil, wrapFail(CheckXML, "namespace declarations", err)
	}
	detached, err := etreeutils.NSDetatch(ctx, enc)
	if err != nil {
		return nil, wrapFail(CheckXML, "namespace declarations", err)
	}
	d := etree.NewDocument()
	d.SetRoot(detached)
	raw, err := d.WriteToBytes()
	if err != nil {
		return nil, wrapFail(CheckDecryption, "cannot serialise EncryptedAssertion", err)
	}
	var ea types.EncryptedAssertion
	if err := xml.Unmarshal(raw, &ea); err != nil {
		return nil, wrapFail(CheckDecryption, "malformed EncryptedAssertion", err)
	}
	for _, ek := range []types.EncryptedKey{ea.EncryptedKey, ea.DetEncryptedKey} {
		if ek.EncryptionMethod.Algorithm == types.MethodRSAv1_5 {
			return nil, fail(CheckDecryption, "RSA PKCS#1 v1.5 key transport is refused (padding-oracle prone); use RSA-OAEP")
		}
	}
	plain, err := decryptBytes(&ea, v.spKeyPair)
	if err != nil {
		return nil, wrapFail(CheckDecryption, "cannot decrypt assertion", err)
	}
	doc, err := parseSafeXML(plain)
	if err != nil {
		return nil, err
	}
	a := doc.Root()
	if !isElement(a, nsAssertion, "Assertion") {
		return nil, failf(CheckSchema, "decrypted element is <%s>, want <Assertion>", a.Tag)
	}
	if err := checkSignaturePlacement(a); err != nil {
		return nil, err
	}
	return a, nil
}

// decryptBytes calls gosaml2's decryption, which indexes ciphertext without
// bounds checks: a malformed ciphertext (which anyone holding our public key
// can produce) must be an error, not a panic.
func decryptBytes(ea *types.EncryptedAssertion, kp *tls.Certificate) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, errors.New("malformed ciphertext")
		}
	}()
	return ea.DecryptBytes(kp)
}

// checkSignaturePlacement allows ds:Signature only as a direct child of the
// given element or of a direct-child Assertion of it.
func checkSignaturePlacement(root *etree.Element) error {
	stack := []*etree.Element{root}
	for len(stack) > 0 {
		el := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if err := checkPlacedSignature(root, el); err != nil {
			return err
		}
		stack = append(stack, el.ChildElements()...)
	}
	return nil
}

// checkPlacedSignature refuses el if it is a ds:Signature anywhere but as a
// direct child of root or of a direct-child Assertion of root.
func checkPlacedSignature(root, el *etree.Element) error {
	if el.Tag != "Signature" || el.NamespaceURI() != nsDSig {
		return nil
	}
	p := el.Parent()
	if p == root || (p != nil && p.Parent() == root && isElement(p, nsAssertion, "Assertion")) {
		return nil
	}
	return fail(CheckSignature, "signature in an unexpected place (signature wrapping?)")
}
