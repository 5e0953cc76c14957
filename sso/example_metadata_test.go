package sso_test

import (
	"fmt"
	"time"

	"github.com/orgsso/orgsso/sso"
)

// An organization's owner pastes the metadata XML their IdP publishes; the
// application stores the IdP configuration it yields.
func ExampleParseIdPMetadata() {
	metadata := []byte(`<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
    entityID="https://idp.example.com/saml/metadata">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data>
          <ds:X509Certificate>
            MIIBRDCB6qADAgECAgID8jAKBggqhkjOPQQDAjAaMRgwFgYDVQQDEw9pZHAuZXhh
            bXBsZS5jb20wHhcNMjUwMTAxMDAwMDAwWhcNMzUwMTAxMDAwMDAwWjAaMRgwFgYD
            VQQDEw9pZHAuZXhhbXBsZS5jb20wWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATi
            w1C//2lAtxFoHYdm7hr+I0rt1vTb4zwNuyPZHIsbP/pjVSOpJp4xU3MZZbB50uaV
            yxfKOYglLI6vh8Jm2jhDoyAwHjAOBgNVHQ8BAf8EBAMCBaAwDAYDVR0TAQH/BAIw
            ADAKBggqhkjOPQQDAgNJADBGAiEA+VoWHqGpBtwDlvEIfMKGwkTSyBgluKGdyJgM
            vAiM0yECIQC5SwKz6nx3U5FRDVWxRoO4f3/MphZE+2IbP07EEMEusg==
          </ds:X509Certificate>
        </ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
        Location="https://idp.example.com/saml/sso/post"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
        Location="https://idp.example.com/saml/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`)

	idp, err := sso.ParseIdPMetadata(metadata)
	if err != nil {
		fmt.Println("cannot import the metadata:", err)
		return
	}
	fmt.Println("EntityID:", idp.EntityID)
	fmt.Println("SSOURL:", idp.SSOURL)
	fmt.Println("certificates:", len(idp.Certificates))

	// Enabling needs a complete, currently valid IdP configuration. (A fixed
	// instant keeps this example's output stable; use Validate in real code.)
	org := &sso.Organization{SSOName: "acme", Enabled: true, IdP: idp}
	fmt.Println("valid:", org.ValidateAt(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) == nil)
	// Output:
	// EntityID: https://idp.example.com/saml/metadata
	// SSOURL: https://idp.example.com/saml/sso
	// certificates: 1
	// valid: true
}
