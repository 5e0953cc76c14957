package saml

// XML namespaces and URIs of SAML 2.0 and XML-DSig, shared by the parsers and
// builders of this package.
const (
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsMetadata  = "urn:oasis:names:tc:SAML:2.0:metadata"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"
	nsXML       = "http://www.w3.org/XML/1998/namespace"

	bindingPOST     = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
	bindingRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"

	statusSuccess      = "urn:oasis:names:tc:SAML:2.0:status:Success"
	confirmationBearer = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
)
