package saml_test

import (
	"encoding/xml"
	"errors"
	"slices"
	"testing"

	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// TestSPMetadataEncryptionMethodsDecrypt holds the SP metadata's encryption
// methods and what the Validator decrypts equal: for every data encryption
// and key transport algorithm ssotest can encrypt with, an encrypted
// assertion is accepted exactly when the metadata lists both, and the
// metadata lists nothing this test cannot try.
func TestSPMetadataEncryptionMethodsDecrypt(t *testing.T) {
	f := newFixture(t)
	md, err := saml.SPMetadata(f.sp, f.spCert)
	if err != nil {
		t.Fatal(err)
	}
	var ed struct {
		KeyDescriptors []struct {
			Use     string `xml:"use,attr"`
			Methods []struct {
				Algorithm string `xml:"Algorithm,attr"`
			} `xml:"urn:oasis:names:tc:SAML:2.0:metadata EncryptionMethod"`
		} `xml:"urn:oasis:names:tc:SAML:2.0:metadata SPSSODescriptor>KeyDescriptor"`
	}
	if err := xml.Unmarshal(md, &ed); err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, kd := range ed.KeyDescriptors {
		for _, m := range kd.Methods {
			if kd.Use != "encryption" {
				t.Errorf("KeyDescriptor use=%q lists EncryptionMethod %s", kd.Use, m.Algorithm)
			}
			listed[m.Algorithm] = true
		}
	}

	data := []string{
		ssotest.EncryptionAES256GCM, ssotest.EncryptionAES192GCM, ssotest.EncryptionAES128GCM,
		ssotest.EncryptionAES256CBC, ssotest.EncryptionAES192CBC, ssotest.EncryptionAES128CBC,
		ssotest.EncryptionTripleDESCBC,
	}
	transports := []string{ssotest.KeyTransportRSAOAEP, ssotest.KeyTransportRSAOAEPMGF1P, ssotest.KeyTransportRSA15}
	for alg := range listed {
		if !slices.Contains(data, alg) && !slices.Contains(transports, alg) {
			t.Errorf("metadata lists %s, which this test cannot try", alg)
		}
	}

	v := f.validator(t, nil)
	for _, d := range data {
		for _, kt := range transports {
			posted := f.response(t, func(r *ssotest.Response) {
				r.EncryptFor, r.EncryptionMethod, r.KeyTransport = f.spCert, d, kt
			})
			a, err := v.Validate(posted, testRequestID)
			switch want := listed[d] && listed[kt]; {
			case want && err != nil:
				t.Errorf("%s with %s: listed, but Validate() err = %v", d, kt, err)
			case want && a.NameID != alice.Email:
				t.Errorf("%s with %s: NameID = %q; want %q", d, kt, a.NameID, alice.Email)
			case !want && !errors.Is(err, saml.ErrInvalidResponse):
				t.Errorf("%s with %s: not listed, but Validate() err = %v; want it refused", d, kt, err)
			}
		}
	}
}
