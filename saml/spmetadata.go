package saml

import (
	"crypto/x509"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// SP metadata vocabulary.
const (
	spAttrNameFormatBasic = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
	spEncRSAOAEP          = "http://www.w3.org/2009/xmlenc11#rsa-oaep"
	spEncRSAOAEPMGF1P     = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
	spNSXMLEnc11          = "http://www.w3.org/2009/xmlenc11#"
	spDigestSHA1          = "http://www.w3.org/2000/09/xmldsig#sha1"
	spMGF1SHA1            = "http://www.w3.org/2009/xmlenc11#mgf1sha1"
)

// spKeyTransports are the key transport algorithms the SP metadata lists
// after the data encryptions (acceptedDataEncryption, the decrypter's own
// list): RSA-OAEP, which is decrypted with a SHA-1 OAEP digest and MGF1 with
// SHA-1 only, as the ds:DigestMethod (and xenc11:MGF) say per the SAML
// metadata algorithm support profile. RSA PKCS#1 v1.5 is refused.
var spKeyTransports = []struct {
	alg    string
	digest string // ds:DigestMethod
	mgf    string // xenc11:MGF, for XML Encryption 1.1 RSA-OAEP
}{
	{alg: spEncRSAOAEP, digest: spDigestSHA1, mgf: spMGF1SHA1},
	{alg: spEncRSAOAEPMGF1P, digest: spDigestSHA1},
}

// SPMetadata renders the SAML 2.0 metadata of a service
// provider: an md:EntityDescriptor (entityID d.EntityID) with one
// SPSSODescriptor that wants signed assertions, the NameID format, the ACS
// URL (HTTP-POST binding, index 0, default) and an AttributeConsumingService
// requesting d.Attributes (all required but those in d.OptionalAttributes).
//
// When spCert is not nil the SP signs its AuthnRequests (AuthnRequestsSigned)
// and the certificate is listed twice: for signing, and for encryption with
// every algorithm the Validator decrypts, preferred first: AES-256-GCM, AES-192-GCM,
// AES-128-GCM, AES-256-CBC, AES-128-CBC; RSA-OAEP key transport (XML
// Encryption 1.1 and rsa-oaep-mgf1p, SHA-1 digest and MGF1). The output is
// indented UTF-8 with an XML declaration and is deterministic, so it can be
// cached and compared.
//
// d.EntityID and d.ACSURL are required; errors wrap ErrInvalidConfig.
func SPMetadata(d SPDetails, spCert *x509.Certificate) ([]byte, error) {
	if d.EntityID == "" {
		return nil, configErr("SP.EntityID", "is empty")
	}
	if d.ACSURL == "" {
		return nil, configErr("SP.ACSURL", "is empty")
	}
	for i, a := range d.Attributes {
		if strings.TrimSpace(a) == "" {
			return nil, configErr("SP.Attributes["+strconv.Itoa(i)+"]", "is blank")
		}
	}
	if spCert != nil && len(spCert.Raw) == 0 {
		return nil, configErr("SPCertificate", "has no DER encoding (parse it with x509.ParseCertificate)")
	}

	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	ed := doc.CreateElement("md:EntityDescriptor")
	ed.CreateAttr("xmlns:md", nsMetadata)
	if spCert != nil {
		ed.CreateAttr("xmlns:ds", nsDSig)
	}
	ed.CreateAttr("entityID", d.EntityID)

	sp := ed.CreateElement("md:SPSSODescriptor")
	sp.CreateAttr("AuthnRequestsSigned", strconv.FormatBool(spCert != nil))
	sp.CreateAttr("WantAssertionsSigned", "true")
	sp.CreateAttr("protocolSupportEnumeration", nsProtocol)

	if spCert != nil {
		b64 := base64.StdEncoding.EncodeToString(spCert.Raw)
		for _, use := range []string{"signing", "encryption"} {
			kd := sp.CreateElement("md:KeyDescriptor")
			kd.CreateAttr("use", use)
			kd.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").SetText(b64)
			if use == "encryption" {
				for _, alg := range acceptedDataEncryption {
					kd.CreateElement("md:EncryptionMethod").CreateAttr("Algorithm", alg)
				}
				for _, m := range spKeyTransports {
					em := kd.CreateElement("md:EncryptionMethod")
					em.CreateAttr("Algorithm", m.alg)
					if m.digest != "" {
						em.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", m.digest)
					}
					if m.mgf != "" {
						mgf := em.CreateElement("xenc11:MGF")
						mgf.CreateAttr("xmlns:xenc11", spNSXMLEnc11)
						mgf.CreateAttr("Algorithm", m.mgf)
					}
				}
			}
		}
	}
	if d.NameIDFormat != "" {
		sp.CreateElement("md:NameIDFormat").SetText(d.NameIDFormat)
	}
	acs := sp.CreateElement("md:AssertionConsumerService")
	acs.CreateAttr("Binding", bindingPOST)
	acs.CreateAttr("Location", d.ACSURL)
	acs.CreateAttr("index", "0")
	acs.CreateAttr("isDefault", "true")

	if len(d.Attributes) > 0 {
		svc := sp.CreateElement("md:AttributeConsumingService")
		svc.CreateAttr("index", "0")
		svc.CreateAttr("isDefault", "true")
		name := svc.CreateElement("md:ServiceName")
		name.CreateAttr("xml:lang", "en")
		name.SetText(d.EntityID)
		for _, a := range d.Attributes {
			ra := svc.CreateElement("md:RequestedAttribute")
			ra.CreateAttr("Name", a)
			ra.CreateAttr("NameFormat", spAttrNameFormatBasic)
			ra.CreateAttr("isRequired", strconv.FormatBool(!slices.Contains(d.OptionalAttributes, a)))
		}
	}

	doc.Indent(2)
	return doc.WriteToBytes()
}
