package saml

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// spTestCert reads the SP certificate the golden files were made with.
func spTestCert(t *testing.T) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden", "spmetadata_cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatal("spmetadata_cert.pem: no PEM block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// spTestDetails is what sso.NewSPDetails gives for base and the SSO name
// acme: the SP details the golden files were made with.
func spTestDetails(base string) SPDetails {
	return SPDetails{
		EntityID:           base + "/sso/acme/metadata",
		ACSURL:             base + "/sso/acme/acs",
		NameIDFormat:       NameIDFormatEmail,
		Attributes:         []string{"email", "first_name", "last_name", "roles"},
		OptionalAttributes: []string{"roles"},
	}
}

func TestSPMetadataGolden(t *testing.T) {
	d := spTestDetails("https://app.example.com")
	tests := []struct {
		golden string
		cert   *x509.Certificate
	}{
		{"spmetadata.xml", nil},
		{"spmetadata_signed.xml", spTestCert(t)},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			got, err := SPMetadata(d, tt.cert)
			if err != nil {
				t.Fatalf("SPMetadata() err = %v; want nil", err)
			}
			again, _ := SPMetadata(d, tt.cert)
			if !bytes.Equal(got, again) {
				t.Errorf("SPMetadata() differs between two calls; want deterministic output")
			}
			checkGolden(t, tt.golden, got)
		})
	}
}

func TestSPMetadataParsesBack(t *testing.T) {
	cert := spTestCert(t)
	d := spTestDetails("https://app.example.com/tenant&co")
	for _, withCert := range []bool{false, true} {
		var c *x509.Certificate
		if withCert {
			c = cert
		}
		out, err := SPMetadata(d, c)
		if err != nil {
			t.Fatalf("SPMetadata(cert=%v) err = %v; want nil", withCert, err)
		}
		if !bytes.HasPrefix(out, []byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n")) {
			t.Errorf("SPMetadata(cert=%v) does not start with an XML declaration:\n%s", withCert, out)
		}
		doc, err := mdParseDocument(out)
		if err != nil {
			t.Fatalf("SPMetadata(cert=%v) output does not parse: %v", withCert, err)
		}
		md, root := mdReader{doc}, doc.Root()
		if !md.is(root, nsMetadata, "EntityDescriptor") || mdAttr(root, "entityID") != d.EntityID {
			t.Errorf("root = %s entityID %q; want md:EntityDescriptor entityID %q", md.name(root), mdAttr(root, "entityID"), d.EntityID)
		}
		sps := md.children(root, nsMetadata, "SPSSODescriptor")
		if len(sps) != 1 {
			t.Fatalf("%d SPSSODescriptors; want 1", len(sps))
		}
		sp := sps[0]
		for attr, want := range map[string]string{
			"protocolSupportEnumeration": nsProtocol,
			"WantAssertionsSigned":       "true",
			"AuthnRequestsSigned":        map[bool]string{false: "false", true: "true"}[withCert],
		} {
			if got := mdAttr(sp, attr); got != want {
				t.Errorf("SPSSODescriptor %s = %q; want %q", attr, got, want)
			}
		}
		acs := md.children(sp, nsMetadata, "AssertionConsumerService")
		if len(acs) != 1 || mdAttr(acs[0], "Location") != d.ACSURL || mdAttr(acs[0], "Binding") != bindingPOST ||
			mdAttr(acs[0], "index") != "0" || mdAttr(acs[0], "isDefault") != "true" {
			t.Errorf("AssertionConsumerService = %d elements, want one HTTP-POST at %q index 0 default", len(acs), d.ACSURL)
		}
		if nf := md.children(sp, nsMetadata, "NameIDFormat"); len(nf) != 1 || nf[0].Text() != NameIDFormatEmail {
			t.Errorf("NameIDFormat: want one, %q", NameIDFormatEmail)
		}

		var required []string
		var optional []string
		for _, svc := range md.children(sp, nsMetadata, "AttributeConsumingService") {
			for _, ra := range md.children(svc, nsMetadata, "RequestedAttribute") {
				if mdAttr(ra, "isRequired") == "true" {
					required = append(required, mdAttr(ra, "Name"))
				} else {
					optional = append(optional, mdAttr(ra, "Name"))
				}
			}
		}
		if want := []string{"email", "first_name", "last_name"}; !slices.Equal(required, want) {
			t.Errorf("required attributes = %q; want %q", required, want)
		}
		if want := []string{"roles"}; !slices.Equal(optional, want) {
			t.Errorf("optional attributes = %q; want %q", optional, want)
		}

		uses := map[string]*etree.Element{}
		for _, kd := range md.children(sp, nsMetadata, "KeyDescriptor") {
			uses[mdAttr(kd, "use")] = kd
			var certs []string
			for _, ki := range md.children(kd, nsDSig, "KeyInfo") {
				for _, xd := range md.children(ki, nsDSig, "X509Data") {
					for _, xc := range md.children(xd, nsDSig, "X509Certificate") {
						certs = append(certs, xc.Text())
					}
				}
			}
			if want := base64.StdEncoding.EncodeToString(cert.Raw); len(certs) != 1 || certs[0] != want {
				t.Errorf("KeyDescriptor use=%q certificates = %q; want the SP certificate", mdAttr(kd, "use"), certs)
			}
		}
		if !withCert {
			if len(uses) != 0 {
				t.Errorf("SPMetadata(nil cert) has %d KeyDescriptors; want none", len(uses))
			}
			continue
		}
		if len(uses) != 2 || uses["signing"] == nil || uses["encryption"] == nil {
			t.Fatalf("KeyDescriptors = %v; want one signing and one encryption", uses)
		}
		// Every method the Validator decrypts, preferred first, and nothing
		// else (TestSPMetadataEncryptionMethodsDecrypt holds the list to
		// what decrypts); RSA-OAEP with its SHA-1 digest and MGF1.
		var algs []string
		for _, em := range md.children(uses["encryption"], nsMetadata, "EncryptionMethod") {
			alg := mdAttr(em, "Algorithm")
			for _, dm := range md.children(em, nsDSig, "DigestMethod") {
				alg += " digest=" + mdAttr(dm, "Algorithm")
			}
			for _, mgf := range md.children(em, spNSXMLEnc11, "MGF") {
				alg += " mgf=" + mdAttr(mgf, "Algorithm")
			}
			algs = append(algs, alg)
		}
		want := []string{
			"http://www.w3.org/2009/xmlenc11#aes256-gcm",
			"http://www.w3.org/2009/xmlenc11#aes192-gcm",
			"http://www.w3.org/2009/xmlenc11#aes128-gcm",
			"http://www.w3.org/2001/04/xmlenc#aes256-cbc",
			"http://www.w3.org/2001/04/xmlenc#aes128-cbc",
			spEncRSAOAEP + " digest=" + spDigestSHA1 + " mgf=" + spMGF1SHA1,
			spEncRSAOAEPMGF1P + " digest=" + spDigestSHA1,
		}
		if !slices.Equal(algs, want) {
			t.Errorf("encryption methods =\n%s\nwant\n%s", strings.Join(algs, "\n"), strings.Join(want, "\n"))
		}
		if n := len(md.children(uses["signing"], nsMetadata, "EncryptionMethod")); n != 0 {
			t.Errorf("signing KeyDescriptor has %d EncryptionMethods; want none", n)
		}
	}
}

func TestSPMetadataErrors(t *testing.T) {
	good := spTestDetails("https://app.example.com")
	with := func(f func(d *SPDetails)) SPDetails {
		d := good
		d.Attributes = slices.Clone(good.Attributes)
		f(&d)
		return d
	}
	tests := []struct {
		name       string
		d          SPDetails
		cert       *x509.Certificate
		wantErr    error
		wantReason string
	}{
		{"zero details", SPDetails{}, nil, ErrInvalidConfig, "SP.EntityID"},
		{"no entity ID", with(func(d *SPDetails) { d.EntityID = "" }), nil, ErrInvalidConfig, "SP.EntityID"},
		{"no ACS URL", with(func(d *SPDetails) { d.ACSURL = "" }), nil, ErrInvalidConfig, "SP.ACSURL"},
		{"blank attribute", with(func(d *SPDetails) { d.Attributes[2] = " " }), nil, ErrInvalidConfig, "SP.Attributes[2]"},
		{"certificate without DER", good, &x509.Certificate{}, ErrInvalidConfig, "SPCertificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := SPMetadata(tt.d, tt.cert)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("SPMetadata() err = %v; want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantReason) {
				t.Errorf("SPMetadata() err = %q; want it to contain %q", err, tt.wantReason)
			}
			if out != nil {
				t.Errorf("SPMetadata() = %d bytes with an error; want nil", len(out))
			}
		})
	}
}

func TestSPMetadataMinimal(t *testing.T) {
	// No NameID format and no attributes: neither element is written.
	out, err := SPMetadata(SPDetails{EntityID: "urn:sp", ACSURL: "https://sp.example.com/acs"}, nil)
	if err != nil {
		t.Fatalf("SPMetadata() err = %v; want nil", err)
	}
	for _, absent := range []string{"NameIDFormat", "AttributeConsumingService", "KeyDescriptor", "xmlns:ds"} {
		if bytes.Contains(out, []byte(absent)) {
			t.Errorf("SPMetadata() contains %s; want it absent:\n%s", absent, out)
		}
	}
}
