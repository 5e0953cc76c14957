package saml_test

import (
	"encoding/base64"
	"errors"
	"testing"

	"github.com/orgsso/orgsso/saml"
)

// FuzzValidate feeds arbitrary XML (base64-encoded as a browser would post it)
// and arbitrary posted strings to a Validator holding the fixture's keys. The
// seed corpus in testdata/fuzz/FuzzValidate holds valid responses in every sign
// mode, encrypted ones and attack shapes, so mutations start from deep inside
// the signature and assertion checks. Properties: no panic; an error is always
// a *ValidationError wrapping ErrInvalidResponse; success yields a NameID, and
// what was read is what was signed (validateReadSigned).
func FuzzValidate(f *testing.F) {
	fx := newFixture(f)
	v := fx.validator(f, func(c *saml.ValidatorConfig) { c.AllowIdPInitiated = true })
	f.Add([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_1" Version="2.0"/>`))
	f.Fuzz(func(t *testing.T, xml []byte) {
		for _, posted := range []string{base64.StdEncoding.EncodeToString(xml), string(xml)} {
			a, err := validateReadSigned(t, nil, v, posted, testRequestID)
			if err != nil {
				var ve *saml.ValidationError
				if a != nil || !errors.Is(err, saml.ErrInvalidResponse) || !errors.As(err, &ve) {
					t.Fatalf("Validate() = %v, %v; want nil and a *ValidationError", a, err)
				}
				continue
			}
			if a == nil || a.NameID == "" || a.ID == "" {
				t.Fatalf("Validate() = %+v, nil; want an assertion with NameID and ID", a)
			}
		}
	})
}
