package saml

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/beevik/etree"

	"github.com/orgsso/orgsso/internal/safexml"
	"github.com/orgsso/orgsso/internal/text"
)

// MaxIdPMetadataSize bounds the IdP metadata document ParseIdPMetadata accepts,
// in bytes. Real IdP metadata is a few kilobytes; a federation aggregate of
// thousands of entities is not something to import for one IdP.
const MaxIdPMetadataSize = 1 << 20

// SAML 2.0 metadata vocabulary.
const (
	mdMaxDepth       = 64   // far deeper than any metadata; bounds recursion
	mdMaxEntityIDLen = 1024 // the schema's limit on entityID
)

// mdField is the ConfigError Field of every ParseIdPMetadata error.
const mdField = "IdP metadata"

// ParseIdPMetadata reads an identity provider's SAML 2.0 metadata document, as
// Okta, Entra ID (Azure AD), AD FS, Google Workspace, OneLogin and others
// publish it, and returns the IdP configuration it describes:
//
//   - EntityID: the entityID of the md:EntityDescriptor;
//   - SSOURL: the Location of its SingleSignOnService with the HTTP-Redirect
//     binding, or else the one with the HTTP-POST binding;
//   - Certificates: the ds:X509Certificate of every KeyDescriptor with
//     use="signing" or no use (encryption keys are skipped), as PEM, each
//     checked to be X.509 and listed once however often the IdP repeats it;
//   - SignatureAlgorithm: "" (the default policy); metadata does not say.
//
// The document is an md:EntityDescriptor, or an md:EntitiesDescriptor in which
// exactly one entity has a SAML 2.0 IDPSSODescriptor. Namespaces are resolved,
// so any prefixes (or none) work; elements of other namespaces (WS-Federation
// role descriptors, extensions, a metadata signature) are ignored. The
// metadata's own signature, if any, is not verified: import metadata from a
// source you trust, such as the IdP's https URL or the admin console.
//
// The input is untrusted: it is refused when empty, over MaxIdPMetadataSize,
// not well-formed, or carrying a DTD. Every error is a *ConfigError with Field
// "IdP metadata" wrapping ErrInvalidConfig, saying what is missing or wrong.
// Certificate validity periods are not judged here; IdPConfig.ValidateAt does
// that.
func ParseIdPMetadata(xml []byte) (IdPConfig, error) {
	doc, err := mdParseDocument(xml)
	if err != nil {
		return IdPConfig{}, err
	}
	md := mdReader{doc}
	entity, err := md.findIdPEntity(doc.Root())
	if err != nil {
		return IdPConfig{}, err
	}
	return md.parseEntity(entity)
}

// mdParseDocument parses untrusted metadata with the strict reader, which
// tolerates comments and processing instructions here (metadata files carry
// them) but nothing else it refuses in SAML messages.
func mdParseDocument(raw []byte) (*safexml.Doc, error) {
	if len(raw) > MaxIdPMetadataSize {
		return nil, configErr(mdField, "is %d bytes, over the %d-byte limit", len(raw), MaxIdPMetadataSize)
	}
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")) // UTF-8 byte order mark
	if len(trimSpaceBytes(raw)) == 0 {
		return nil, configErr(mdField, "is empty")
	}
	if bytes.Contains(raw, []byte("<!DOCTYPE")) || bytes.Contains(raw, []byte("<!doctype")) {
		return nil, configErr(mdField, "contains a DTD (<!DOCTYPE>), which is not allowed")
	}
	doc, err := safexml.Parse(raw, safexml.Options{MaxDepth: mdMaxDepth, AllowComments: true, AllowProcInst: true})
	if err != nil {
		var se *safexml.Error
		if errors.As(err, &se) && strings.Contains(se.Reason, "nested deeper") {
			return nil, configErr(mdField, "nests elements more than %d deep", mdMaxDepth)
		}
		if errors.As(err, &se) && strings.Contains(se.Reason, "directive") {
			return nil, configErr(mdField, "contains an XML directive or DTD, which is not allowed")
		}
		return nil, &ConfigError{Field: mdField, Reason: "is not well-formed XML", Err: err}
	}
	return doc, nil
}

// mdReader reads a metadata document through its strict Doc: elements by
// namespace URI and local name, attributes unprefixed only.
type mdReader struct{ doc *safexml.Doc }

// mdFindIdPEntity returns the one md:EntityDescriptor of the document that has
// a SAML 2.0 IDPSSODescriptor.
func (md mdReader) findIdPEntity(root *etree.Element) (*etree.Element, error) {
	switch {
	case md.is(root, nsMetadata, "EntityDescriptor"):
		if len(md.idpDescriptors(root)) == 0 {
			return nil, configErr(mdField, "EntityDescriptor %s has no SAML 2.0 IDPSSODescriptor (is this service provider metadata?)",
				mdQuoteEntityID(root))
		}
		return root, nil
	case md.is(root, nsMetadata, "EntitiesDescriptor"):
		var idps []*etree.Element
		md.collectIdPs(root, &idps)
		switch len(idps) {
		case 0:
			return nil, configErr(mdField, "EntitiesDescriptor holds no entity with a SAML 2.0 IDPSSODescriptor")
		case 1:
			return idps[0], nil
		default:
			return nil, configErr(mdField, "EntitiesDescriptor holds %d identity providers (%s, %s, …); import the metadata of one",
				len(idps), mdQuoteEntityID(idps[0]), mdQuoteEntityID(idps[1]))
		}
	default:
		return nil, configErr(mdField, "document element is %s, want md:EntityDescriptor or md:EntitiesDescriptor (namespace %s)",
			md.name(root), nsMetadata)
	}
}

// mdCollectIdPs appends to idps every EntityDescriptor under an
// EntitiesDescriptor (nested ones included) that has an IDPSSODescriptor. The
// parser's depth limit bounds the recursion.
func (md mdReader) collectIdPs(entities *etree.Element, idps *[]*etree.Element) {
	for _, c := range entities.ChildElements() {
		switch {
		case md.is(c, nsMetadata, "EntityDescriptor"):
			if len(md.idpDescriptors(c)) > 0 {
				*idps = append(*idps, c)
			}
		case md.is(c, nsMetadata, "EntitiesDescriptor"):
			md.collectIdPs(c, idps)
		}
	}
}

// mdIdPDescriptors returns the IDPSSODescriptor children of an
// EntityDescriptor that support the SAML 2.0 protocol.
func (md mdReader) idpDescriptors(entity *etree.Element) []*etree.Element {
	var out []*etree.Element
	for _, c := range entity.ChildElements() {
		if !md.is(c, nsMetadata, "IDPSSODescriptor") {
			continue
		}
		for _, p := range strings.Fields(mdAttr(c, "protocolSupportEnumeration")) {
			if p == nsProtocol {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// mdParseEntity extracts the IdP configuration of one EntityDescriptor.
func (md mdReader) parseEntity(entity *etree.Element) (IdPConfig, error) {
	entityID := mdAttr(entity, "entityID")
	if strings.TrimSpace(entityID) == "" {
		return IdPConfig{}, configErr(mdField, "EntityDescriptor has no entityID")
	}
	if len(entityID) > mdMaxEntityIDLen {
		return IdPConfig{}, configErr(mdField, "entityID is %d characters long, over the %d allowed", len(entityID), mdMaxEntityIDLen)
	}
	descs := md.idpDescriptors(entity)
	if len(descs) != 1 {
		return IdPConfig{}, configErr(mdField, "entity %s has %d SAML 2.0 IDPSSODescriptors, want exactly one",
			mdQuoteEntityID(entity), len(descs))
	}
	idp := descs[0]
	ssoURL, err := md.ssoURL(idp)
	if err != nil {
		return IdPConfig{}, err
	}
	certs, err := md.signingCertificates(idp)
	if err != nil {
		return IdPConfig{}, err
	}
	return IdPConfig{EntityID: entityID, SSOURL: ssoURL, Certificates: certs}, nil
}

// mdSSOURL returns the Location of the first HTTP-Redirect SingleSignOnService
// of an IDPSSODescriptor, or else of the first HTTP-POST one.
func (md mdReader) ssoURL(idp *etree.Element) (string, error) {
	var redirect, post *etree.Element
	n := 0
	for _, c := range idp.ChildElements() {
		if !md.is(c, nsMetadata, "SingleSignOnService") {
			continue
		}
		n++
		switch mdAttr(c, "Binding") {
		case bindingRedirect:
			if redirect == nil {
				redirect = c
			}
		case bindingPOST:
			if post == nil {
				post = c
			}
		}
	}
	svc := redirect
	if svc == nil {
		svc = post
	}
	if svc == nil {
		if n == 0 {
			return "", configErr(mdField, "IDPSSODescriptor has no SingleSignOnService")
		}
		return "", configErr(mdField, "IDPSSODescriptor has no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding (found %d with other bindings)", n)
	}
	loc := strings.TrimSpace(mdAttr(svc, "Location"))
	if loc == "" {
		return "", configErr(mdField, "SingleSignOnService (%s) has no Location", mdAttr(svc, "Binding"))
	}
	u, err := url.Parse(loc)
	if err != nil {
		// The *url.Error would quote the whole Location: quote a cut copy.
		return "", configErr(mdField, "SingleSignOnService Location %q is not a URL", text.Truncate(loc, 200))
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" {
		return "", configErr(mdField, "SingleSignOnService Location %q is not an absolute http(s) URL", text.Truncate(loc, 200))
	}
	return loc, nil
}

// mdSigningCertificates returns, as PEM, the X.509 certificates of the
// KeyDescriptors of an IDPSSODescriptor with use="signing" or no use, in
// document order and without duplicates.
func (md mdReader) signingCertificates(idp *etree.Element) ([]string, error) {
	var certs []string
	seen := make(map[string]bool)
	for i, kd := range md.children(idp, nsMetadata, "KeyDescriptor") {
		if use := mdAttr(kd, "use"); use != "" && use != "signing" {
			continue
		}
		for _, ki := range md.children(kd, nsDSig, "KeyInfo") {
			for _, data := range md.children(ki, nsDSig, "X509Data") {
				for _, xc := range md.children(data, nsDSig, "X509Certificate") {
					text, _ := safexml.Text(xc)
					der, err := mdDecodeCertificate(text)
					if err != nil {
						return nil, &ConfigError{Field: mdField,
							Reason: fmt.Sprintf("KeyDescriptor %d (signing): X509Certificate is not a base64 X.509 certificate", i), Err: err}
					}
					if seen[string(der)] {
						continue
					}
					seen[string(der)] = true
					certs = append(certs, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
				}
			}
		}
	}
	if len(certs) == 0 {
		return nil, configErr(mdField, "IDPSSODescriptor has no signing certificate (a KeyDescriptor with use=\"signing\" or no use, holding a ds:X509Certificate)")
	}
	return certs, nil
}

// mdDecodeCertificate decodes base64 DER, ignoring white space anywhere (IdPs
// wrap lines and indent), and checks it is one X.509 certificate.
func mdDecodeCertificate(text string) ([]byte, error) {
	if strings.TrimSpace(text) == "" {
		return nil, errors.New("empty")
	}
	der, err := decodeBase64(text)
	if err != nil {
		return nil, err
	}
	if _, err := parseCertificate(der); err != nil {
		return nil, err
	}
	return der, nil
}

// mdIs reports whether el is the element local in namespace ns, whatever
// prefix (or default namespace) the document uses for it. It needs a tree from
// mdParseDocument, whose element Spaces hold namespace URIs.
func (md mdReader) is(el *etree.Element, ns, local string) bool {
	return md.doc.Is(el, ns, local)
}

// mdChildren returns the child elements of el named local in namespace ns.
func (md mdReader) children(el *etree.Element, ns, local string) []*etree.Element {
	return md.doc.Children(el, ns, local)
}

// mdAttr returns the value of el's unqualified attribute key, or "". (etree's
// SelectAttrValue would also match a prefixed attribute of that name.)
func mdAttr(el *etree.Element, key string) string {
	return safexml.AttrValue(el, key)
}

// mdName describes an element for an error: {namespace}local.
func (md mdReader) name(el *etree.Element) string {
	return fmt.Sprintf("{%s}%s", text.Truncate(md.doc.Namespace(el), 100), text.Truncate(el.Tag, 100))
}

// mdQuoteEntityID quotes an entity's entityID for an error message.
func mdQuoteEntityID(entity *etree.Element) string {
	return fmt.Sprintf("%q", text.Truncate(mdAttr(entity, "entityID"), 200))
}
