package xmldsig

import (
	"encoding/base64"
	"strings"

	"github.com/beevik/etree"
)

// signature is what parseSignature read from a ds:Signature, none of it
// trusted before the SignatureValue verifies over signedInfo.
type signature struct {
	signedInfo         *etree.Element
	signedInfoPrefixes []string
	signatureMethod    string
	referenceURI       string
	referencePrefixes  []string
	digestMethod       string
	digestValue        []byte
	signatureValue     []byte
	keyInfoCerts       [][]byte // X509Certificates in KeyInfo, DER
}

// scope resolves element namespaces while walking down the signature.
type scope map[string]string

// enter returns the scope inside el (s itself when el declares nothing).
func (s scope) enter(el *etree.Element) (scope, error) {
	var out scope
	for i := range el.Attr {
		p, ok := declPrefix(&el.Attr[i])
		if !ok {
			continue
		}
		if err := checkDecl(p, el.Attr[i].Value); err != nil {
			return nil, err
		}
		if out == nil {
			out = make(scope, len(s)+2)
			for k, v := range s {
				out[k] = v
			}
		}
		out[p] = el.Attr[i].Value
	}
	if out == nil {
		return s, nil
	}
	return out, nil
}

// is reports whether el, a child of an element with scope s, is ns:local.
func (s scope) is(el *etree.Element, ns, local string) bool {
	if el.Tag != local {
		return false
	}
	for i := range el.Attr {
		if p, ok := declPrefix(&el.Attr[i]); ok && p == el.Space {
			return el.Attr[i].Value == ns
		}
	}
	if el.Space == "xml" {
		return ns == nsXML
	}
	uri, ok := s[el.Space]
	return ok && uri == ns
}

// scopeAt returns the namespaces in scope inside el, which is top or below it.
func scopeAt(el, top *etree.Element, inherited map[string]string) (scope, error) {
	var chain []*etree.Element
	p := el
	for ; p != nil; p = p.Parent() {
		chain = append(chain, p)
		if inherited != nil && p == top {
			break
		}
	}
	if inherited != nil && p == nil {
		return nil, malformed("namespace context element is not an ancestor")
	}
	s := make(scope, len(inherited)+4)
	for k, v := range inherited {
		if err := checkDecl(k, v); err != nil {
			return nil, err
		}
		s[k] = v
	}
	for i := len(chain) - 1; i >= 0; i-- {
		var err error
		if s, err = s.enter(chain[i]); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// children returns el's child elements, requiring each to be in the XML-DSig
// namespace with one of the given local names (scope s is el's own).
func children(el *etree.Element, s scope, what string, allowed ...string) ([]*etree.Element, error) {
	var out []*etree.Element
	for _, tok := range el.Child {
		c, ok := tok.(*etree.Element)
		if !ok || c == nil {
			continue
		}
		known := false
		for _, name := range allowed {
			if s.is(c, Namespace, name) {
				known = true
				break
			}
		}
		if !known {
			return nil, malformed("unexpected element " + truncate(c.FullTag()) + " in " + what)
		}
		out = append(out, c)
	}
	return out, nil
}

// parseSignature reads the parts of a ds:Signature the SAML profile allows,
// refusing anything else.
func parseSignature(signed, sig *etree.Element, inherited map[string]string) (*signature, error) {
	sigScope, err := scopeAt(sig, signed, inherited)
	if err != nil {
		return nil, err
	}
	parentScope, err := scopeAt(signed, signed, inherited)
	if err != nil {
		return nil, err
	}
	if !parentScope.is(sig, Namespace, "Signature") {
		return nil, malformed("the signature element is not a ds:Signature")
	}
	parts, err := children(sig, sigScope, "Signature", "SignedInfo", "SignatureValue", "KeyInfo", "Object")
	if err != nil {
		return nil, err
	}
	var si, sv, ki *etree.Element
	for _, p := range parts {
		var dst **etree.Element
		switch p.Tag {
		case "SignedInfo":
			dst = &si
		case "SignatureValue":
			dst = &sv
		case "KeyInfo":
			dst = &ki
		default:
			continue // ds:Object: unsigned here, never read
		}
		if *dst != nil {
			return nil, malformed("more than one " + p.Tag + " in Signature")
		}
		*dst = p
	}
	if si == nil || sv == nil {
		return nil, malformed("Signature needs a SignedInfo and a SignatureValue")
	}
	s := &signature{signedInfo: si}
	if s.signatureValue, err = base64Text(sv, "SignatureValue"); err != nil {
		return nil, err
	}
	if ki != nil {
		if s.keyInfoCerts, err = keyInfoCerts(ki, sigScope); err != nil {
			return nil, err
		}
	}
	if err := s.parseSignedInfo(si, sigScope); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *signature) parseSignedInfo(si *etree.Element, sigScope scope) error {
	siScope, err := sigScope.enter(si)
	if err != nil {
		return err
	}
	parts, err := children(si, siScope, "SignedInfo", "CanonicalizationMethod", "SignatureMethod", "Reference")
	if err != nil {
		return err
	}
	refs := 0
	for _, p := range parts {
		if p.Tag == "Reference" {
			refs++
		}
	}
	if refs != 1 {
		return malformed("SignedInfo must have exactly one Reference")
	}
	if len(parts) != 3 || parts[0].Tag != "CanonicalizationMethod" || parts[1].Tag != "SignatureMethod" {
		return malformed("SignedInfo must be CanonicalizationMethod, SignatureMethod, Reference")
	}

	cm, sm, ref := parts[0], parts[1], parts[2]
	if alg := attrValue(cm, "Algorithm"); alg != ExclusiveC14N {
		return newErr(ErrUnsupportedAlgorithm, "CanonicalizationMethod "+truncate(alg)+" is not exclusive C14N without comments")
	}
	if s.signedInfoPrefixes, err = inclusivePrefixes(cm, siScope, "CanonicalizationMethod"); err != nil {
		return err
	}

	s.signatureMethod = attrValue(sm, "Algorithm")
	if _, ok := signatureMethods[s.signatureMethod]; !ok {
		return newErr(ErrUnsupportedAlgorithm, "SignatureMethod "+truncate(s.signatureMethod)+" is not supported")
	}
	if len(sm.ChildElements()) != 0 {
		return malformed("SignatureMethod has parameters")
	}

	uri, ok := lookupAttr(ref, "URI")
	if !ok {
		return malformed("Reference has no URI")
	}
	s.referenceURI = uri
	return s.parseReference(ref, siScope)
}

func (s *signature) parseReference(ref *etree.Element, siScope scope) error {
	refScope, err := siScope.enter(ref)
	if err != nil {
		return err
	}
	parts, err := children(ref, refScope, "Reference", "Transforms", "DigestMethod", "DigestValue")
	if err != nil {
		return err
	}
	if len(parts) != 3 || parts[0].Tag != "Transforms" || parts[1].Tag != "DigestMethod" || parts[2].Tag != "DigestValue" {
		return malformed("Reference must be Transforms, DigestMethod, DigestValue")
	}
	tsScope, err := refScope.enter(parts[0])
	if err != nil {
		return err
	}
	ts, err := children(parts[0], tsScope, "Transforms", "Transform")
	if err != nil {
		return err
	}
	for _, t := range ts {
		switch alg := attrValue(t, "Algorithm"); alg {
		case EnvelopedSignature, ExclusiveC14N:
		default:
			return newErr(ErrUnsupportedAlgorithm, "transform "+truncate(alg)+" is not supported")
		}
	}
	if len(ts) != 2 || attrValue(ts[0], "Algorithm") != EnvelopedSignature || attrValue(ts[1], "Algorithm") != ExclusiveC14N {
		return newErr(ErrUnsupportedAlgorithm, "transforms must be enveloped-signature then exclusive C14N")
	}
	if len(ts[0].ChildElements()) != 0 {
		return malformed("enveloped-signature transform has parameters")
	}
	if s.referencePrefixes, err = inclusivePrefixes(ts[1], tsScope, "Transform"); err != nil {
		return err
	}

	s.digestMethod = attrValue(parts[1], "Algorithm")
	hash, ok := digestMethods[s.digestMethod]
	if !ok {
		return newErr(ErrUnsupportedAlgorithm, "DigestMethod "+truncate(s.digestMethod)+" is not supported")
	}
	if len(parts[1].ChildElements()) != 0 {
		return malformed("DigestMethod has parameters")
	}
	if s.digestValue, err = base64Text(parts[2], "DigestValue"); err != nil {
		return err
	}
	if len(s.digestValue) != hash.Size() {
		return malformed("DigestValue has the wrong length for its DigestMethod")
	}
	return nil
}

// inclusivePrefixes reads the optional ec:InclusiveNamespaces child of an
// exclusive C14N method (el; s is the scope of its parent).
func inclusivePrefixes(el *etree.Element, parent scope, what string) ([]string, error) {
	s, err := parent.enter(el)
	if err != nil {
		return nil, err
	}
	var prefixes []string
	seen := false
	for _, c := range el.ChildElements() {
		if seen || !s.is(c, nsExcC14N, "InclusiveNamespaces") {
			return nil, malformed("unexpected element " + truncate(c.FullTag()) + " in " + what)
		}
		seen = true
		if len(c.ChildElements()) != 0 {
			return nil, malformed("InclusiveNamespaces has child elements")
		}
		prefixes = strings.Fields(attrValue(c, "PrefixList"))
	}
	return prefixes, nil
}

// keyInfoCerts returns the DER of every ds:X509Data/ds:X509Certificate in
// KeyInfo; other key information is ignored.
func keyInfoCerts(ki *etree.Element, sigScope scope) ([][]byte, error) {
	kiScope, err := sigScope.enter(ki)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, xd := range ki.ChildElements() {
		if !kiScope.is(xd, Namespace, "X509Data") {
			continue
		}
		xdScope, err := kiScope.enter(xd)
		if err != nil {
			return nil, err
		}
		for _, xc := range xd.ChildElements() {
			if !xdScope.is(xc, Namespace, "X509Certificate") {
				continue
			}
			der, err := base64Text(xc, "X509Certificate")
			if err != nil {
				return nil, err
			}
			out = append(out, der)
		}
	}
	return out, nil
}

// attrValue returns the value of el's unprefixed attribute key ("" if none).
// etree's SelectAttrValue would also match a prefixed attribute of that name.
func attrValue(el *etree.Element, key string) string {
	v, _ := lookupAttr(el, key)
	return v
}

// lookupAttr returns the value of el's unprefixed attribute key and whether
// it is present.
func lookupAttr(el *etree.Element, key string) (string, bool) {
	for _, a := range el.Attr {
		if a.Space == "" && a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

// base64Text decodes el's text: all of its character data, as canonical
// form sees it (comments dropped), white space ignored. Child elements and
// processing instructions are refused.
func base64Text(el *etree.Element, what string) ([]byte, error) {
	var sb strings.Builder
	for _, tok := range el.Child {
		switch t := tok.(type) {
		case *etree.CharData:
			for i := 0; i < len(t.Data); i++ {
				switch b := t.Data[i]; b {
				case ' ', '\t', '\r', '\n':
				default:
					sb.WriteByte(b)
				}
			}
		case *etree.Comment:
		default:
			return nil, malformed(what + " holds markup")
		}
	}
	out, err := base64.StdEncoding.Strict().DecodeString(sb.String())
	if err != nil || len(out) == 0 {
		return nil, wrapErr(ErrMalformed, what+" is not base64", err)
	}
	return out, nil
}
