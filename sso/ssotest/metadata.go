package ssotest

import (
	"encoding/base64"

	"github.com/beevik/etree"

	"github.com/orgsso/orgsso/saml"
)

// SAML namespace, binding and other URIs the IdP writes.
const (
	nsMetadata  = "urn:oasis:names:tc:SAML:2.0:metadata"
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"
	nsXMLEnc    = "http://www.w3.org/2001/04/xmlenc#"
	nsXS        = "http://www.w3.org/2001/XMLSchema"
	nsXSI       = "http://www.w3.org/2001/XMLSchema-instance"

	bindingRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
	bindingPOST     = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"

	nameIDFormatEntity = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
	cmBearer           = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
	acPasswordProtect  = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
	attrNameFormatBase = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
)

// Metadata returns the IdP's SAML 2.0 metadata: an EntityDescriptor with one
// IDPSSODescriptor carrying the signing certificate, the emailAddress NameID
// format and the SSO service at SSOURL for the HTTP-Redirect and HTTP-POST
// bindings. It is what an organization imports to configure this IdP.
func (idp *IdP) Metadata() ([]byte, error) {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	ed := doc.CreateElement("md:EntityDescriptor")
	ed.CreateAttr("xmlns:md", nsMetadata)
	ed.CreateAttr("xmlns:ds", nsDSig)
	ed.CreateAttr("entityID", idp.entityID)

	desc := ed.CreateElement("md:IDPSSODescriptor")
	desc.CreateAttr("WantAuthnRequestsSigned", "false")
	desc.CreateAttr("protocolSupportEnumeration", nsProtocol)

	kd := desc.CreateElement("md:KeyDescriptor")
	kd.CreateAttr("use", "signing")
	kd.CreateElement("ds:KeyInfo").
		CreateElement("ds:X509Data").
		CreateElement("ds:X509Certificate").
		SetText(base64.StdEncoding.EncodeToString(idp.cert.Raw))

	desc.CreateElement("md:NameIDFormat").SetText(saml.NameIDFormatEmail)
	for _, b := range []string{bindingRedirect, bindingPOST} {
		s := desc.CreateElement("md:SingleSignOnService")
		s.CreateAttr("Binding", b)
		s.CreateAttr("Location", idp.ssoURL)
	}
	doc.Indent(2)
	return doc.WriteToBytes()
}
