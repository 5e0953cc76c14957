package sso_test

import (
	"errors"
	"testing"

	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/sso"
)

// TestProtocolConfigErrorsTranslated: a configuration error package saml
// finds reaches a host as an *sso.ConfigError that matches both
// sso.ErrInvalidConfig and saml.ErrInvalidConfig, and keeps the
// *saml.ConfigError in its chain, with this package's message.
func TestProtocolConfigErrorsTranslated(t *testing.T) {
	_, verr := sso.NewValidator(sso.ValidatorConfig{})
	_, merr := sso.ParseIdPMetadata([]byte("<x/>"))
	org := &sso.Organization{ID: "o", SSOName: "acme", OwnerID: "u", IdP: sso.IdPConfig{Certificates: []string{"not PEM"}}}
	oerr := org.Validate()
	for _, tt := range []struct {
		name, wantField, wantMsg string
		err                      error
	}{
		{"NewValidator", "SP.EntityID", "sso: invalid SP.EntityID: is empty", verr},
		{"ParseIdPMetadata", "IdP metadata", "", merr},
		{"Organization.Validate", "IdP.Certificates[0]", "sso: invalid IdP.Certificates[0]: not a PEM block", oerr},
	} {
		if !errors.Is(tt.err, sso.ErrInvalidConfig) || !errors.Is(tt.err, saml.ErrInvalidConfig) {
			t.Errorf("%s err = %v; want both sso.ErrInvalidConfig and saml.ErrInvalidConfig", tt.name, tt.err)
		}
		var ce *sso.ConfigError
		var se *saml.ConfigError
		if !errors.As(tt.err, &ce) || !errors.As(tt.err, &se) || ce.Field != tt.wantField || se.Field != tt.wantField {
			t.Errorf("%s err = %v; want an *sso.ConfigError wrapping a *saml.ConfigError for %s", tt.name, tt.err, tt.wantField)
		}
		if tt.wantMsg != "" && tt.err.Error() != tt.wantMsg {
			t.Errorf("%s err = %q; want %q", tt.name, tt.err, tt.wantMsg)
		}
	}
	var ce *sso.ConfigError
	if errors.As(merr, &ce) && ce.Message == "" {
		t.Errorf("ParseIdPMetadata err has no Message for people")
	}
	if sso.ErrInvalidResponse != saml.ErrInvalidResponse {
		t.Errorf("sso.ErrInvalidResponse is not saml.ErrInvalidResponse")
	}
}
