package saml

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/russellhaering/gosaml2/types"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"

	"github.com/orgsso/orgsso/internal/safexml"
	"github.com/orgsso/orgsso/internal/xmldsig"
)

// verified is what signature verification leaves to read, each element with
// the Doc that resolves its names: the assertion, from signed content only,
// and the Response element (signed content when the Response was signed,
// else the received, unverified element).
type verified struct {
	rdoc           *safexml.Doc
	response       *etree.Element
	adoc           *safexml.Doc
	assertion      *etree.Element
	responseSigned bool
	assertionInner bool   // the assertion sits inside the verified Response
	encryption     string // data encryption URI of an encrypted assertion
	decryptCtx     map[string]string
}

// verify checks the signatures and returns the content they cover. Either the
// Response (enclosing exactly one assertion) or the assertion must be signed
// by a configured certificate; every signature present must verify. A signed
// Response is verified before anything in it is decrypted.
func (v *Validator) verify(resp *response, now time.Time, tr *trace) (*verified, error) {
	doc, root := resp.doc, resp.root
	out := &verified{rdoc: doc, response: root}
	sigs := doc.Children(root, nsDSig, "Signature")
	if len(sigs) > 1 {
		return nil, fail(CheckSignature, "Response carries more than one signature")
	}
	if len(sigs) == 1 {
		d, el, err := v.verifyElement(doc, root, sigs[0], nil, now, tr.part("Response"))
		if err != nil {
			return nil, err
		}
		out.rdoc, out.response, out.responseSigned = d, el, true
	}

	out.adoc, out.assertion = out.rdoc, out.rdoc.Child(out.response, nsAssertion, "Assertion")
	out.assertionInner = out.assertion != nil
	if enc := out.rdoc.Child(out.response, nsAssertion, "EncryptedAssertion"); enc != nil {
		d, err := v.decrypt(out.rdoc, enc, nil, "Assertion")
		if err != nil {
			return nil, err
		}
		out.adoc, out.assertion, out.assertionInner = d.doc, d.doc.Root(), false
		out.encryption, out.decryptCtx = d.method, d.context
		if err := checkSignaturePlacement(d.doc, out.assertion); err != nil {
			return nil, err
		}
	}
	if out.assertion == nil {
		return nil, fail(CheckAssertionCount, "signed Response content has no assertion")
	}
	asigs := out.adoc.Children(out.assertion, nsDSig, "Signature")
	switch {
	case len(asigs) > 1:
		return nil, fail(CheckSignature, "assertion carries more than one signature")
	case len(asigs) == 1:
		d, el, err := v.verifyElement(out.adoc, out.assertion, asigs[0], out.decryptCtx, now, tr.part("Assertion"))
		if err != nil {
			return nil, err
		}
		out.adoc, out.assertion = d, el
		if d.Root() == el && out.assertionInner {
			// goxmldsig returned a detached copy of the signed assertion.
			out.assertionInner = false
		}
	case !out.responseSigned:
		return nil, fail(CheckSignature, "neither the Response nor the assertion is signed")
	}
	if tr != nil && len(asigs) == 0 && !out.assertionInner {
		// A decrypted assertion covered by the Response's signature through
		// its ciphertext: what is read is its canonical form.
		tr.addCanonical("DecryptedAssertion", out.assertion, out.decryptCtx)
	}
	return out, nil
}

// verifyElement verifies the enveloped signature sigEl of el and returns the
// element whose content it covers, with its Doc. Signatures with exclusive
// C14N (what every SAML IdP sends) are verified in place by the XML-DSig core
// of internal/xmldsig, and el itself is returned: the caller reads exactly the
// tree that was digested, with no copy and no re-parse. Inclusive
// canonicalizations go through goxmldsig, whose canonical copy is re-indexed
// by the strict reader. Both paths enforce the same profile. The path is
// chosen by the algorithm URIs as the strict reader reads them.
func (v *Validator) verifyElement(doc *safexml.Doc, el, sigEl *etree.Element, inherited map[string]string, now time.Time, digested io.Writer) (*safexml.Doc, *etree.Element, error) {
	id := safexml.AttrValue(el, "ID")
	if id == "" {
		return nil, nil, fail(CheckSignature, "signed element has no ID")
	}
	isRoot := doc.Root() == el
	exclusive := exclusiveC14NOnly(doc, sigEl)
	if !exclusive {
		// xmldsig.Verify enforces the SAML profile and the algorithm policy
		// itself; goxmldsig does neither, so check them first.
		if err := v.checkSignedInfo(doc, sigEl, id, isRoot && inherited == nil); err != nil {
			return nil, nil, err
		}
		for _, a := range el.Attr {
			if a.Space == "xmlns" && a.Key == "ID" {
				// goxmldsig finds the signed element with SelectAttr.
				return nil, nil, fail(CheckSignature, "a namespace declaration on the signed element is named ID")
			}
		}
	}
	certs, err := v.signingCandidates(doc, sigEl, now)
	if err != nil {
		return nil, nil, err
	}
	if !exclusive {
		return v.verifyElementDsig(doc, el, inherited, certs, now, digested)
	}
	_, err = xmldsig.Verify(el, sigEl, xmldsig.VerifyOptions{
		Certificates: certs,
		Allow:        v.allowAlgorithms,
		Inherited:    inherited,
		DocumentRoot: isRoot && inherited == nil,
		Digested:     digested,
	})
	switch {
	case err == nil:
		return doc, el, nil
	case errors.Is(err, xmldsig.ErrUnsupportedAlgorithm):
		return nil, nil, wrapFail(CheckAlgorithm, "signature algorithm refused", err)
	default:
		return nil, nil, wrapFail(CheckSignature, "signature does not verify", err)
	}
}

// signingCandidates returns the configured certificates that may have made
// the signature: the one its KeyInfo names (which must be configured), or
// every configured one when KeyInfo names none; only those valid at now.
func (v *Validator) signingCandidates(doc *safexml.Doc, sig *etree.Element, now time.Time) ([]*x509.Certificate, error) {
	der, present, err := keyInfoCertificate(doc, sig)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	var timeErr error
	for _, c := range v.certs {
		if present && !bytes.Equal(c.Raw, der) {
			continue
		}
		if err := checkCertificateTime("IdP certificate", "IdP certificate", c, now); err != nil {
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

// allowAlgorithms applies the configured algorithm policy for xmldsig.
func (v *Validator) allowAlgorithms(sigAlg, digestAlg string) error {
	if err := v.policy.checkSignatureMethod(sigAlg); err != nil {
		return err
	}
	return v.policy.checkDigestMethod(digestAlg)
}

// exclusiveC14NOnly reports whether the signature canonicalizes SignedInfo
// and the signed element with exclusive C14N (without comments) only.
func exclusiveC14NOnly(doc *safexml.Doc, sig *etree.Element) bool {
	si := doc.Child(sig, nsDSig, "SignedInfo")
	if si == nil {
		return true // let Verify report the shape
	}
	if cm := doc.Child(si, nsDSig, "CanonicalizationMethod"); cm != nil && safexml.AttrValue(cm, "Algorithm") != xmldsig.ExclusiveC14N {
		return false
	}
	for _, ref := range doc.Children(si, nsDSig, "Reference") {
		if ts := doc.Child(ref, nsDSig, "Transforms"); ts != nil {
			for _, t := range doc.Children(ts, nsDSig, "Transform") {
				switch safexml.AttrValue(t, "Algorithm") {
				case xmldsig.ExclusiveC14N, xmldsig.EnvelopedSignature:
				default:
					return false
				}
			}
		}
	}
	return true
}

// verifyElementDsig verifies with goxmldsig, for the inclusive
// canonicalizations some IdPs still use. It returns goxmldsig's canonical
// copy of the signed content, indexed by the strict reader.
func (v *Validator) verifyElementDsig(doc *safexml.Doc, el *etree.Element, inherited map[string]string, certs []*x509.Certificate, now time.Time, digested io.Writer) (*safexml.Doc, *etree.Element, error) {
	var target *etree.Element
	if el.Parent() != nil {
		// goxmldsig's traversal stops at 1,000 elements: a user in some
		// hundreds of groups is more than its inclusive-C14N path can read.
		const tooBig = "the signed element cannot be read by the inclusive-C14N verifier (over 1,000 elements?); ask the IdP to sign with exclusive C14N"
		ctx, err := etreeutils.NSBuildParentContext(el)
		if err != nil {
			return nil, nil, fail(CheckXML, tooBig)
		}
		if target, err = etreeutils.NSDetatch(ctx, el); err != nil {
			return nil, nil, fail(CheckXML, tooBig)
		}
	} else {
		target = el.Copy()
		declareInherited(target, inherited)
	}
	sig := firstDSigChild(target, "Signature")
	if sig == nil {
		return nil, nil, fail(CheckSignature, "signature not found in the signed element")
	}
	if ki := firstDSigChild(sig, "KeyInfo"); ki != nil {
		// signingCandidates has matched KeyInfo's certificate, if any, to
		// the configured ones, and each is tried alone below, so goxmldsig
		// must not look: it would parse the certificate with
		// x509.ParseCertificate, which refuses a negative serial number.
		sig.RemoveChild(ki)
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
			d, err := safexml.Index(out, safexml.Options{MaxDepth: maxXMLDepth})
			if err != nil {
				return nil, nil, fail(CheckXML, "signed content does not read back")
			}
			if digested != nil {
				w := etree.NewDocument()
				w.SetRoot(out.Copy())
				_, _ = w.WriteTo(digested)
			}
			return d, out, nil
		}
		if firstErr == nil {
			// goxmldsig's message may quote the unverified input: not kept.
			firstErr = fail(CheckSignature, "signature does not verify (inclusive C14N)")
		}
	}
	return nil, nil, firstErr
}

// declareInherited adds to a detached root the declarations of the prefixes
// it inherited and does not declare itself (inclusive C14N renders every
// namespace in scope).
func declareInherited(el *etree.Element, inherited map[string]string) {
	for p, uri := range inherited {
		declared := false
		for _, a := range el.Attr {
			if (p == "" && a.Space == "" && a.Key == "xmlns") || (p != "" && a.Space == "xmlns" && a.Key == p) {
				declared = true
				break
			}
		}
		if declared || (p == "" && uri == "") {
			continue
		}
		if p == "" {
			el.CreateAttr("xmlns", uri)
		} else {
			el.CreateAttr("xmlns:"+p, uri)
		}
	}
}

// firstDSigChild finds a ds child in goxmldsig's detached copy, which carries
// its own declarations (no Doc indexes it yet).
func firstDSigChild(el *etree.Element, local string) *etree.Element {
	if el == nil {
		return nil
	}
	for _, c := range el.ChildElements() {
		if c.Tag == local && c.NamespaceURI() == nsDSig {
			return c
		}
	}
	return nil
}

// checkSignedInfo enforces, before goxmldsig runs, the same SAML profile of
// XML-DSig that xmldsig.Verify enforces on the exclusive path, and the
// configured algorithm policy: one SignedInfo of CanonicalizationMethod,
// SignatureMethod and one Reference to the enclosing element's ID, whose
// transforms are enveloped-signature then one canonicalization.
func (v *Validator) checkSignedInfo(doc *safexml.Doc, sig *etree.Element, id string, isRoot bool) error {
	if doc.Count(sig, nsDSig, "SignedInfo") != 1 {
		return fail(CheckSignature, "signature must have exactly one SignedInfo")
	}
	if shadowedAttribute(sig) {
		// goxmldsig reads some attributes with etree's SelectAttrValue,
		// which a declaration of that name would shadow.
		return fail(CheckSignature, "a namespace declaration in the signature is named like an attribute")
	}
	si := doc.Child(sig, nsDSig, "SignedInfo")
	parts := si.ChildElements()
	if len(parts) != 3 || !doc.Is(parts[0], nsDSig, "CanonicalizationMethod") ||
		!doc.Is(parts[1], nsDSig, "SignatureMethod") || !doc.Is(parts[2], nsDSig, "Reference") {
		return fail(CheckSignature, "SignedInfo must be CanonicalizationMethod, SignatureMethod, Reference")
	}
	if !c14nMethod(safexml.AttrValue(parts[0], "Algorithm")) {
		return fail(CheckAlgorithm, "CanonicalizationMethod is not supported")
	}
	if err := v.policy.checkSignatureMethod(safexml.AttrValue(parts[1], "Algorithm")); err != nil {
		return err
	}
	ref := parts[2]
	// The Reference names the signed element's ID; "" (the whole document) is
	// accepted only for the Response, which is the whole document.
	if uri, ok := safexml.Attr(ref, "URI"); !ok || (uri != "#"+id && !(uri == "" && isRoot)) {
		return fail(CheckSignature, "signature Reference does not name the signed element")
	}
	rparts := ref.ChildElements()
	if len(rparts) != 3 || !doc.Is(rparts[0], nsDSig, "Transforms") ||
		!doc.Is(rparts[1], nsDSig, "DigestMethod") || !doc.Is(rparts[2], nsDSig, "DigestValue") {
		return fail(CheckSignature, "Reference must be Transforms, DigestMethod, DigestValue")
	}
	if err := v.policy.checkDigestMethod(safexml.AttrValue(rparts[1], "Algorithm")); err != nil {
		return err
	}
	ts := rparts[0].ChildElements()
	if len(ts) != 2 || !doc.Is(ts[0], nsDSig, "Transform") || !doc.Is(ts[1], nsDSig, "Transform") ||
		safexml.AttrValue(ts[0], "Algorithm") != xmldsig.EnvelopedSignature || !c14nMethod(safexml.AttrValue(ts[1], "Algorithm")) {
		return fail(CheckAlgorithm, "transforms must be enveloped-signature then one canonicalization")
	}
	return nil
}

// shadowedAttribute reports whether an element under (and including) el
// declares a namespace prefix named like an XML-DSig attribute or like one of
// its own attributes.
func shadowedAttribute(el *etree.Element) bool {
	stack := []*etree.Element{el}
	for len(stack) > 0 {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, a := range e.Attr {
			if a.Space != "xmlns" {
				continue
			}
			switch a.Key {
			case "Algorithm", "URI", "Id", "ID", "Type", "PrefixList":
				return true
			}
			if _, own := safexml.Attr(e, a.Key); own {
				return true
			}
		}
		stack = append(stack, e.ChildElements()...)
	}
	return false
}

// c14nMethod reports a canonicalization without comments that a verifier
// path implements.
func c14nMethod(alg string) bool {
	switch alg {
	case xmldsig.ExclusiveC14N, string(dsig.CanonicalXML11AlgorithmId), string(dsig.CanonicalXML10RecAlgorithmId):
		return true
	}
	return false
}

// keyInfoCertificate returns the DER of the first X509Certificate in the
// signature's KeyInfo, and whether there was one.
func keyInfoCertificate(doc *safexml.Doc, sig *etree.Element) ([]byte, bool, error) {
	ki := doc.Child(sig, nsDSig, "KeyInfo")
	if ki == nil {
		return nil, false, nil
	}
	xd := doc.Child(ki, nsDSig, "X509Data")
	if xd == nil {
		return nil, false, nil
	}
	xc := doc.Child(xd, nsDSig, "X509Certificate")
	if xc == nil {
		return nil, false, nil
	}
	text, ok := safexml.Text(xc)
	if !ok {
		return nil, true, fail(CheckSignature, "KeyInfo certificate holds markup")
	}
	der, err := decodeBase64(text)
	if err != nil || len(der) == 0 {
		return nil, true, fail(CheckSignature, "KeyInfo certificate is not base64")
	}
	return der, true, nil
}

// decrypted is an encrypted element's plaintext, read in the namespace
// context of the element it replaces.
type decrypted struct {
	doc     *safexml.Doc
	method  string
	context map[string]string
}

// acceptedDataEncryption lists the block ciphers an encrypted assertion or
// NameID may use, strongest first. AES-CBC stays (some IdPs send nothing
// else; a Test SSO warns about it); Triple DES, which gosaml2 would decrypt,
// is refused.
var acceptedDataEncryption = []string{
	types.MethodAES256GCM, types.MethodAES192GCM, types.MethodAES128GCM,
	types.MethodAES256CBC, types.MethodAES128CBC,
}

// errUndecryptable is the one error of everything from the key transport to
// reading the plaintext: which step failed (OAEP, padding, inflation,
// parsing, the element found) is not told, in the error, the event or the
// log, so that a tampered ciphertext is no oracle.
var errUndecryptable = &ValidationError{Check: CheckDecryption, Reason: "the encrypted element cannot be decrypted with the SP key"}

// nsXEnc is the XML Encryption namespace.
const nsXEnc = "http://www.w3.org/2001/04/xmlenc#"

// readEncrypted reads an EncryptedAssertion or EncryptedID through the strict
// reader (namespace URI and local name, unprefixed attributes only) into the
// form gosaml2 decrypts: its one xenc:EncryptedData (EncryptionMethod,
// CipherData/CipherValue) and the first xenc:EncryptedKey inside its
// ds:KeyInfo, else beside it.
func readEncrypted(doc *safexml.Doc, enc *etree.Element) (*types.EncryptedAssertion, error) {
	malformed := fail(CheckDecryption, "malformed encrypted element")
	if doc.Count(enc, nsXEnc, "EncryptedData") != 1 {
		return nil, malformed
	}
	ed := doc.Child(enc, nsXEnc, "EncryptedData")
	if doc.Count(ed, nsXEnc, "EncryptionMethod") != 1 {
		return nil, malformed
	}
	out := &types.EncryptedAssertion{}
	out.EncryptionMethod.Algorithm = safexml.AttrValue(doc.Child(ed, nsXEnc, "EncryptionMethod"), "Algorithm")
	cv, ok := cipherValue(doc, ed)
	if !ok {
		return nil, malformed
	}
	out.CipherValue = cv
	var ek *etree.Element
	if ki := doc.Child(ed, nsDSig, "KeyInfo"); ki != nil {
		ek = doc.Child(ki, nsXEnc, "EncryptedKey")
	}
	if ek == nil {
		ek = doc.Child(enc, nsXEnc, "EncryptedKey")
	}
	if ek == nil {
		return nil, malformed
	}
	key := &out.EncryptedKey
	if key.CipherValue, ok = cipherValue(doc, ek); !ok {
		return nil, malformed
	}
	if doc.Count(ek, nsXEnc, "EncryptionMethod") != 1 {
		return nil, malformed
	}
	em := doc.Child(ek, nsXEnc, "EncryptionMethod")
	key.EncryptionMethod.Algorithm = safexml.AttrValue(em, "Algorithm")
	if dm := doc.Child(em, nsDSig, "DigestMethod"); dm != nil {
		key.EncryptionMethod.DigestMethod = &types.DigestMethod{Algorithm: safexml.AttrValue(dm, "Algorithm")}
	}
	if ki := doc.Child(ek, nsDSig, "KeyInfo"); ki != nil {
		if xd := doc.Child(ki, nsDSig, "X509Data"); xd != nil {
			if xc := doc.Child(xd, nsDSig, "X509Certificate"); xc != nil {
				text, ok := safexml.Text(xc)
				if !ok {
					return nil, malformed
				}
				key.X509Data = stripSpace(text)
			}
		}
	}
	return out, nil
}

// cipherValue returns the base64 text of el's xenc:CipherData/CipherValue,
// white space removed.
func cipherValue(doc *safexml.Doc, el *etree.Element) (string, bool) {
	cd := doc.Child(el, nsXEnc, "CipherData")
	if cd == nil || doc.Count(cd, nsXEnc, "CipherValue") != 1 {
		return "", false
	}
	text, ok := safexml.Text(doc.Child(cd, nsXEnc, "CipherValue"))
	if !ok {
		return "", false
	}
	return stripSpace(text), true
}

// stripSpace removes XML white space (base64 in XML is wrapped and indented).
func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
}

// decrypt decrypts an EncryptedAssertion or EncryptedID (enc, resolved by
// doc) with the SP key and returns the plaintext element, which must be
// saml:want, as the root of its own Doc read in enc's namespace context (plus
// inherited, the context of doc's root), after the same XML safety checks as
// the Response.
func (v *Validator) decrypt(doc *safexml.Doc, enc *etree.Element, inherited map[string]string, want string) (*decrypted, error) {
	if v.spKeyPair == nil {
		return nil, fail(CheckDecryption, "the IdP encrypts, but no SP key is configured")
	}
	ea, err := readEncrypted(doc, enc)
	if err != nil {
		return nil, err
	}
	if ea.EncryptedKey.EncryptionMethod.Algorithm == types.MethodRSAv1_5 {
		return nil, fail(CheckDecryption, "RSA PKCS#1 v1.5 key transport is refused (padding-oracle prone); use RSA-OAEP")
	}
	method := ea.EncryptionMethod.Algorithm
	if !slices.Contains(acceptedDataEncryption, method) {
		return nil, fail(CheckDecryption, "the data encryption method is not accepted; use AES-GCM")
	}
	// From here on, every failure is errUndecryptable.
	plain, err := decryptBytes(ea, v.spKeyPair)
	if err != nil {
		return nil, errUndecryptable
	}
	inScope := doc.InScope(enc, inherited)
	pd, err := parseSafeXMLIn(plain, inScope)
	if err != nil || !pd.Is(pd.Root(), nsAssertion, want) {
		return nil, errUndecryptable
	}
	return &decrypted{doc: pd, method: method, context: inScope}, nil
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
func checkSignaturePlacement(doc *safexml.Doc, root *etree.Element) error {
	stack := []*etree.Element{root}
	for len(stack) > 0 {
		el := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if err := checkPlacedSignature(doc, root, el); err != nil {
			return err
		}
		stack = append(stack, el.ChildElements()...)
	}
	return nil
}

// checkPlacedSignature refuses el if it is a ds:Signature anywhere but as a
// direct child of root or of a direct-child Assertion of root.
func checkPlacedSignature(doc *safexml.Doc, root, el *etree.Element) error {
	if !doc.Is(el, nsDSig, "Signature") {
		return nil
	}
	p := el.Parent()
	if p == root || (p != nil && p.Parent() == root && doc.Is(p, nsAssertion, "Assertion")) {
		return nil
	}
	return fail(CheckSignature, "signature in an unexpected place (signature wrapping?)")
}
