package saml

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// mdTestFile reads a file of the module's testdata/idpmetadata.
func mdTestFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "idpmetadata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mdTestCertB64 returns the base64 DER of a PEM fixture, as metadata carries it.
func mdTestCertB64(t testing.TB, name string) string {
	t.Helper()
	block, _ := pem.Decode(mdTestFile(t, name))
	if block == nil {
		t.Fatalf("%s: no PEM block", name)
	}
	return base64.StdEncoding.EncodeToString(block.Bytes)
}

// mdTestEntity builds an IdP EntityDescriptor from the inner XML of its
// IDPSSODescriptor.
func mdTestEntity(inner string) []byte {
	return []byte(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.example.com/saml">` +
		`<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` + inner +
		`</md:IDPSSODescriptor></md:EntityDescriptor>`)
}

// mdTestKey is a KeyDescriptor holding base64 certificate text.
func mdTestKey(use, b64 string) string {
	attr := ""
	if use != "" {
		attr = ` use="` + use + `"`
	}
	return `<md:KeyDescriptor` + attr + `><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` + b64 +
		`</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`
}

const (
	mdTestRedirect = `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso/redirect"/>`
	mdTestPOST     = `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/sso/post"/>`
)

func TestParseIdPMetadataProviders(t *testing.T) {
	tests := []struct {
		file      string
		wantID    string
		wantURL   string
		wantCerts []string // PEM fixtures, in order
	}{
		{"okta.xml", "http://www.okta.com/exk8x2hq1bZpW5Sv35d7",
			"https://dev-123456.okta.com/app/dev-123456_orgsso_1/exk8x2hq1bZpW5Sv35d7/sso/saml",
			[]string{"okta.pem"}},
		{"entra.xml", "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/",
			"https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/saml2",
			[]string{"entra_current.pem", "entra_next.pem"}},
		{"adfs.xml", "http://adfs.example.com/adfs/services/trust",
			"https://adfs.example.com/adfs/ls/",
			[]string{"adfs_signing.pem"}},
		{"google.xml", "https://accounts.google.com/o/saml2?idpid=C03k8x7q2",
			"https://accounts.google.com/o/saml2/idp?idpid=C03k8x7q2",
			[]string{"google.pem"}},
		{"onelogin.xml", "https://app.onelogin.com/saml/metadata/5f0c7e4a-2b9d-4c61-8e3f-a1d2b3c4e5f6",
			"https://example-corp.onelogin.com/trust/saml2/http-redirect/sso/5f0c7e4a-2b9d-4c61-8e3f-a1d2b3c4e5f6",
			[]string{"onelogin.pem"}},
		{"federation.xml", "https://idp.university.example/idp/shibboleth",
			"https://idp.university.example/idp/profile/SAML2/Redirect/SSO",
			[]string{"federation.pem"}},
		{"rotation_dupes.xml", "https://idp.rotation.example/saml",
			"https://idp.rotation.example/saml/sso",
			[]string{"okta.pem", "google.pem"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseIdPMetadata(mdTestFile(t, tt.file))
			if err != nil {
				t.Fatalf("ParseIdPMetadata() err = %v; want nil", err)
			}
			var wantCerts []string
			for _, f := range tt.wantCerts {
				wantCerts = append(wantCerts, string(mdTestFile(t, f)))
			}
			want := IdPConfig{EntityID: tt.wantID, SSOURL: tt.wantURL, Certificates: wantCerts}
			if got.EntityID != want.EntityID {
				t.Errorf("EntityID = %q; want %q", got.EntityID, want.EntityID)
			}
			if got.SSOURL != want.SSOURL {
				t.Errorf("SSOURL = %q; want %q", got.SSOURL, want.SSOURL)
			}
			if !slices.Equal(got.Certificates, want.Certificates) {
				t.Errorf("Certificates = %d certificates %q; want %d %q", len(got.Certificates), got.Certificates, len(want.Certificates), tt.wantCerts)
			}
			if got.SignatureAlgorithm != "" {
				t.Errorf("SignatureAlgorithm = %q; want \"\"", got.SignatureAlgorithm)
			}
			// What the metadata gives is a complete configuration.
			if err := got.ValidateAt(idpTestNow); err != nil {
				t.Errorf("ValidateAt() of the parsed config err = %v; want nil", err)
			}
		})
	}
}

func TestParseIdPMetadataVariants(t *testing.T) {
	okta := mdTestCertB64(t, "okta.pem")
	google := mdTestCertB64(t, "google.pem")
	oktaPEM := string(mdTestFile(t, "okta.pem"))
	googlePEM := string(mdTestFile(t, "google.pem"))
	wrapped := func(s string, n int, sep string) string {
		var b strings.Builder
		for len(s) > n {
			b.WriteString(s[:n] + sep)
			s = s[n:]
		}
		return b.String() + s
	}
	tests := []struct {
		name      string
		in        []byte
		wantURL   string
		wantCerts []string
	}{
		{"only HTTP-POST binding", mdTestEntity(mdTestKey("signing", okta) + mdTestPOST),
			"https://idp.example.com/sso/post", []string{oktaPEM}},
		{"HTTP-Redirect preferred after HTTP-POST", mdTestEntity(mdTestKey("signing", okta) + mdTestPOST + mdTestRedirect),
			"https://idp.example.com/sso/redirect", []string{oktaPEM}},
		{"first of two HTTP-Redirect services", mdTestEntity(mdTestKey("signing", okta) + mdTestRedirect +
			strings.Replace(mdTestRedirect, "/sso/redirect", "/other", 1)),
			"https://idp.example.com/sso/redirect", []string{oktaPEM}},
		{"Location white space trimmed", mdTestEntity(mdTestKey("signing", okta) +
			strings.Replace(mdTestRedirect, `Location="`, `Location=" `, 1)),
			"https://idp.example.com/sso/redirect", []string{oktaPEM}},
		{"key without use", mdTestEntity(mdTestKey("", okta) + mdTestRedirect),
			"https://idp.example.com/sso/redirect", []string{oktaPEM}},
		{"encryption key skipped", mdTestEntity(mdTestKey("encryption", google) + mdTestKey("signing", okta) + mdTestRedirect),
			"https://idp.example.com/sso/redirect", []string{oktaPEM}},
		{"base64 with spaces, tabs and CRLF", mdTestEntity(mdTestKey("signing", "\r\n\t "+wrapped(okta, 40, " \r\n\t")+"\n  ") + mdTestRedirect),
			"https://idp.example.com/sso/redirect", []string{oktaPEM}},
		{"two certificates in one X509Data", mdTestEntity(`<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` + okta +
			`</ds:X509Certificate><ds:X509Certificate>` + google + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` + mdTestRedirect),
			"https://idp.example.com/sso/redirect", []string{oktaPEM, googlePEM}},
		{"same certificate twice", mdTestEntity(mdTestKey("signing", okta) + mdTestKey("", wrapped(okta, 64, "\n")) + mdTestRedirect),
			"https://idp.example.com/sso/redirect", []string{oktaPEM}},
		{"UTF-8 byte order mark", append([]byte("\xef\xbb\xbf"), mdTestEntity(mdTestKey("signing", okta)+mdTestRedirect)...),
			"https://idp.example.com/sso/redirect", []string{oktaPEM}},
		{"other prefixes", []byte(`<?xml version="1.0"?><!-- exported --><m:EntityDescriptor xmlns:m="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com/saml">` +
			`<m:IDPSSODescriptor protocolSupportEnumeration=" urn:oasis:names:tc:SAML:2.0:protocol ">` +
			`<m:KeyDescriptor use="signing"><sig:KeyInfo xmlns:sig="http://www.w3.org/2000/09/xmldsig#"><sig:X509Data><sig:X509Certificate>` + okta + `</sig:X509Certificate></sig:X509Data></sig:KeyInfo></m:KeyDescriptor>` +
			`<m:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso/redirect"/></m:IDPSSODescriptor></m:EntityDescriptor>`),
			"https://idp.example.com/sso/redirect", []string{oktaPEM}},
		{"nested EntitiesDescriptor", []byte(`<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata"><EntitiesDescriptor>` +
			string(mdTestEntity(mdTestKey("signing", okta)+mdTestRedirect)) + `</EntitiesDescriptor></EntitiesDescriptor>`),
			"https://idp.example.com/sso/redirect", []string{oktaPEM}},
		{"EntitiesDescriptor with a SAML 1.1-only IdP", []byte(`<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata">` +
			strings.Replace(string(mdTestEntity(mdTestKey("signing", google)+mdTestRedirect)), "SAML:2.0:protocol", "SAML:1.1:protocol", 1) +
			string(mdTestEntity(mdTestKey("signing", okta)+mdTestRedirect)) + `</EntitiesDescriptor>`),
			"https://idp.example.com/sso/redirect", []string{oktaPEM}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIdPMetadata(tt.in)
			if err != nil {
				t.Fatalf("ParseIdPMetadata() err = %v; want nil", err)
			}
			if got.EntityID != "https://idp.example.com/saml" {
				t.Errorf("EntityID = %q; want %q", got.EntityID, "https://idp.example.com/saml")
			}
			if got.SSOURL != tt.wantURL {
				t.Errorf("SSOURL = %q; want %q", got.SSOURL, tt.wantURL)
			}
			if !slices.Equal(got.Certificates, tt.wantCerts) {
				t.Errorf("Certificates = %d certificates; want %d", len(got.Certificates), len(tt.wantCerts))
			}
		})
	}
}

func TestParseIdPMetadataErrors(t *testing.T) {
	okta := mdTestCertB64(t, "okta.pem")
	oktaXML := mdTestFile(t, "okta.xml")
	good := mdTestKey("signing", okta) + mdTestRedirect
	spMetadata, err := SPMetadata(SPDetails{EntityID: "https://app.example.com/sso/acme/metadata", ACSURL: "https://app.example.com/sso/acme/acs"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	entities := func(entities ...[]byte) []byte {
		return []byte(`<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata">` + string(bytes.Join(entities, nil)) + `</EntitiesDescriptor>`)
	}
	other := bytes.Replace(mdTestEntity(good), []byte("https://idp.example.com/saml"), []byte("https://idp2.example.com/saml"), 1)

	tests := []struct {
		name       string
		in         []byte
		wantErr    error
		wantReason string // substring of the error message
	}{
		{"nil", nil, ErrInvalidConfig, "is empty"},
		{"white space", []byte(" \n\t"), ErrInvalidConfig, "is empty"},
		{"too large", append(oktaXML, bytes.Repeat([]byte(" "), MaxIdPMetadataSize)...), ErrInvalidConfig, "limit"},
		{"not XML", []byte("hello, world"), ErrInvalidConfig, "not well-formed"},
		{"JSON", []byte(`{"entityID": "x"}`), ErrInvalidConfig, "not well-formed"},
		{"truncated", oktaXML[:len(oktaXML)/2], ErrInvalidConfig, "not well-formed"},
		{"mismatched end tag", []byte(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"></md:EntitiesDescriptor>`), ErrInvalidConfig, "not well-formed"},
		{"two document elements", append(mdTestEntity(good), mdTestEntity(good)...), ErrInvalidConfig, "more than one document element"},
		{"text after the document element", append(mdTestEntity(good), "trailing"...), ErrInvalidConfig, "text outside"},
		{"DTD with entity", []byte(`<?xml version="1.0"?><!DOCTYPE md:EntityDescriptor [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` +
			string(mdTestEntity(good+"<md:Extensions>&xxe;</md:Extensions>"))), ErrInvalidConfig, "DTD"},
		{"lower-case doctype", []byte(`<!doctype x>` + string(mdTestEntity(good))), ErrInvalidConfig, "DTD"},
		{"billion laughs", []byte(`<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>`), ErrInvalidConfig, "DTD"},
		{"undefined entity", mdTestEntity(good + "<md:Extensions>&xxe;</md:Extensions>"), ErrInvalidConfig, "not well-formed"},
		{"directive", []byte(`<!ENTITY x "y">` + string(mdTestEntity(good))), ErrInvalidConfig, "entity declarations are not allowed"},
		{"too deep", []byte(strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100)), ErrInvalidConfig, "more than 64 deep"},
		{"SAML response", []byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`), ErrInvalidConfig, "want md:EntityDescriptor"},
		{"undeclared md prefix", []byte(`<md:EntityDescriptor entityID="x"/>`), ErrInvalidConfig, "namespace prefix is not declared"},
		{"wrong namespace", bytes.Replace(mdTestEntity(good), []byte("SAML:2.0:metadata"), []byte("SAML:1.0:metadata"), 1), ErrInvalidConfig, "want md:EntityDescriptor"},
		{"SP metadata", spMetadata, ErrInvalidConfig, "no SAML 2.0 IDPSSODescriptor"},
		{"SAML 1.1 IdP only", bytes.Replace(mdTestEntity(good), []byte("SAML:2.0:protocol"), []byte("SAML:1.1:protocol"), 1), ErrInvalidConfig, "no SAML 2.0 IDPSSODescriptor"},
		{"no protocolSupportEnumeration", bytes.Replace(mdTestEntity(good), []byte("protocolSupportEnumeration"), []byte("x"), 1), ErrInvalidConfig, "no SAML 2.0 IDPSSODescriptor"},
		{"two IDPSSODescriptors", bytes.Replace(mdTestEntity(good), []byte("</md:EntityDescriptor>"),
			[]byte(`<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">`+good+`</md:IDPSSODescriptor></md:EntityDescriptor>`), 1),
			ErrInvalidConfig, "2 SAML 2.0 IDPSSODescriptors"},
		{"no entityID", bytes.Replace(mdTestEntity(good), []byte(`entityID="https://idp.example.com/saml"`), nil, 1), ErrInvalidConfig, "no entityID"},
		{"blank entityID", bytes.Replace(mdTestEntity(good), []byte(`entityID="https://idp.example.com/saml"`), []byte(`entityID="  "`), 1), ErrInvalidConfig, "no entityID"},
		{"prefixed entityID only", bytes.Replace(mdTestEntity(good), []byte(`entityID=`), []byte(`md:entityID=`), 1), ErrInvalidConfig, "no entityID"},
		{"entityID too long", bytes.Replace(mdTestEntity(good), []byte(`entityID="`), []byte(`entityID="https://x/`+strings.Repeat("a", 1100)), 1), ErrInvalidConfig, "over the 1024"},
		{"no SingleSignOnService", mdTestEntity(mdTestKey("signing", okta)), ErrInvalidConfig, "no SingleSignOnService"},
		{"only SOAP and Artifact bindings", mdTestEntity(mdTestKey("signing", okta) +
			`<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" Location="https://idp.example.com/soap"/>` +
			`<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact" Location="https://idp.example.com/art"/>`),
			ErrInvalidConfig, "HTTP-Redirect or HTTP-POST binding (found 2"},
		{"SSO service without Location", mdTestEntity(mdTestKey("signing", okta) +
			`<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"/>`), ErrInvalidConfig, "no Location"},
		{"relative Location", mdTestEntity(mdTestKey("signing", okta) +
			`<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="/sso"/>`), ErrInvalidConfig, "not an absolute http(s) URL"},
		{"javascript Location", mdTestEntity(mdTestKey("signing", okta) +
			`<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="javascript:alert(1)"/>`), ErrInvalidConfig, "not an absolute http(s) URL"},
		{"bad Location", mdTestEntity(mdTestKey("signing", okta) +
			`<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/%zz"/>`), ErrInvalidConfig, "not a URL"},
		{"no KeyDescriptor", mdTestEntity(mdTestRedirect), ErrInvalidConfig, "no signing certificate"},
		{"only an encryption key", mdTestEntity(mdTestKey("encryption", okta) + mdTestRedirect), ErrInvalidConfig, "no signing certificate"},
		{"KeyName only", mdTestEntity(`<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:KeyName>k1</ds:KeyName></ds:KeyInfo></md:KeyDescriptor>` + mdTestRedirect),
			ErrInvalidConfig, "no signing certificate"},
		{"certificate outside the ds namespace", bytes.ReplaceAll(mdTestEntity(good), []byte("ds:"), []byte("md:")), ErrInvalidConfig, "no signing certificate"},
		{"bad base64 certificate", mdTestEntity(mdTestKey("signing", "MIIC!!not-base64") + mdTestRedirect), ErrInvalidConfig, "not a base64 X.509 certificate"},
		{"base64 that is not X.509", mdTestEntity(mdTestKey("signing", base64.StdEncoding.EncodeToString([]byte("hello"))) + mdTestRedirect),
			ErrInvalidConfig, "not a base64 X.509 certificate"},
		{"truncated certificate", mdTestEntity(mdTestKey("signing", okta[:len(okta)/2]) + mdTestRedirect), ErrInvalidConfig, "not a base64 X.509 certificate"},
		{"empty certificate", mdTestEntity(mdTestKey("signing", " ") + mdTestRedirect), ErrInvalidConfig, "not a base64 X.509 certificate"},
		{"bad second certificate", mdTestEntity(mdTestKey("signing", okta) + mdTestKey("", "AAAA") + mdTestRedirect), ErrInvalidConfig, "KeyDescriptor 1"},
		{"two IdPs", entities(mdTestEntity(good), other), ErrInvalidConfig, `2 identity providers ("https://idp.example.com/saml", "https://idp2.example.com/saml"`},
		{"EntitiesDescriptor without IdP", entities(spMetadata[bytes.Index(spMetadata, []byte("<md:EntityDescriptor")):]), ErrInvalidConfig, "no entity with a SAML 2.0 IDPSSODescriptor"},
		{"empty EntitiesDescriptor", entities(), ErrInvalidConfig, "no entity with a SAML 2.0 IDPSSODescriptor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIdPMetadata(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseIdPMetadata() err = %v; want %v", err, tt.wantErr)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != "IdP metadata" {
				t.Errorf("ParseIdPMetadata() err = %#v; want a *ConfigError for %q", err, "IdP metadata")
			}
			if !strings.Contains(err.Error(), tt.wantReason) {
				t.Errorf("ParseIdPMetadata() err = %q; want it to contain %q", err, tt.wantReason)
			}
			if got.EntityID != "" || got.SSOURL != "" || got.Certificates != nil {
				t.Errorf("ParseIdPMetadata() = %+v with an error; want the zero IdPConfig", got)
			}
		})
	}
}

func TestParseIdPMetadataSizeLimit(t *testing.T) {
	doc := mdTestFile(t, "okta.xml")
	padded := append(doc, bytes.Repeat([]byte("\n"), MaxIdPMetadataSize-len(doc))...)
	if _, err := ParseIdPMetadata(padded); err != nil {
		t.Errorf("ParseIdPMetadata(%d bytes) err = %v; want nil", len(padded), err)
	}
	if _, err := ParseIdPMetadata(append(padded, '\n')); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("ParseIdPMetadata(%d bytes) err = %v; want %v", len(padded)+1, err, ErrInvalidConfig)
	}
}

func FuzzParseIdPMetadata(f *testing.F) {
	// Seeds: testdata/fuzz/FuzzParseIdPMetadata (the provider fixtures and
	// broken documents), plus two small ones here.
	f.Add(mdTestEntity(mdTestKey("signing", mdTestCertB64(f, "okta.pem")) + mdTestRedirect))
	f.Add([]byte(`<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata"/>`))
	f.Fuzz(func(t *testing.T, in []byte) {
		cfg, err := ParseIdPMetadata(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("ParseIdPMetadata() err = %v; want it to wrap %v", err, ErrInvalidConfig)
			}
			return
		}
		if strings.TrimSpace(cfg.EntityID) == "" || cfg.SSOURL == "" || len(cfg.Certificates) == 0 {
			t.Fatalf("ParseIdPMetadata() = %+v, nil; want EntityID, SSOURL and certificates", cfg)
		}
		for i, c := range cfg.Certificates {
			if _, err := parseCertificatePEM(fmt.Sprintf("Certificates[%d]", i), c); err != nil {
				t.Fatalf("ParseIdPMetadata() certificate %d does not parse: %v", i, err)
			}
		}
	})
}
