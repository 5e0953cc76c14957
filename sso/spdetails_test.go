package sso

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/orgsso/orgsso/saml"
)

func TestNewSPDetails(t *testing.T) {
	tests := []struct {
		name       string
		baseURL    string
		ssoName    string
		wantBase   string // expected prefix of the URLs, before /sso/
		wantErr    error
		wantReason string
	}{
		{name: "https", baseURL: "https://app.example.com", ssoName: "acme", wantBase: "https://app.example.com"},
		{name: "trailing slash", baseURL: "https://app.example.com/", ssoName: "acme", wantBase: "https://app.example.com"},
		{name: "trailing slashes", baseURL: "https://app.example.com//", ssoName: "acme", wantBase: "https://app.example.com"},
		{name: "path and port", baseURL: "https://example.com:8443/app/", ssoName: "acme-2", wantBase: "https://example.com:8443/app"},
		{name: "http for development", baseURL: "http://localhost:8080", ssoName: "acme", wantBase: "http://localhost:8080"},

		{name: "empty base URL", baseURL: "", ssoName: "acme", wantErr: ErrInvalidConfig, wantReason: "BaseURL: is empty"},
		{name: "only a slash", baseURL: "/", ssoName: "acme", wantErr: ErrInvalidConfig, wantReason: "BaseURL: is empty"},
		{name: "relative", baseURL: "app.example.com", ssoName: "acme", wantErr: ErrInvalidConfig, wantReason: "not an absolute http or https URL"},
		{name: "other scheme", baseURL: "ftp://app.example.com", ssoName: "acme", wantErr: ErrInvalidConfig, wantReason: "not an absolute http or https URL"},
		{name: "no host", baseURL: "https:///app", ssoName: "acme", wantErr: ErrInvalidConfig, wantReason: "has no host"},
		{name: "opaque", baseURL: "https:app.example.com", ssoName: "acme", wantErr: ErrInvalidConfig, wantReason: "has no host"},
		{name: "query", baseURL: "https://app.example.com/?x=1", ssoName: "acme", wantErr: ErrInvalidConfig, wantReason: "query or fragment"},
		{name: "empty query", baseURL: "https://app.example.com?", ssoName: "acme", wantErr: ErrInvalidConfig, wantReason: "query or fragment"},
		{name: "fragment", baseURL: "https://app.example.com#top", ssoName: "acme", wantErr: ErrInvalidConfig, wantReason: "query or fragment"},
		{name: "empty fragment", baseURL: "https://app.example.com#", ssoName: "acme", wantErr: ErrInvalidConfig, wantReason: "query or fragment"},
		{name: "credentials", baseURL: "https://u:p@app.example.com", ssoName: "acme", wantErr: ErrInvalidConfig, wantReason: "credentials"},
		{name: "not a URL", baseURL: "https://app.example.com/%zz", ssoName: "acme", wantErr: ErrInvalidConfig, wantReason: "not a URL"},
		{name: "control character", baseURL: "https://app.example.com/\n", ssoName: "acme", wantErr: ErrInvalidConfig, wantReason: "not a URL"},
		{name: "bad SSO name", baseURL: "https://app.example.com", ssoName: "Acme", wantErr: ErrSSONameCharacters, wantReason: "SSOName"},
		{name: "path traversal in SSO name", baseURL: "https://app.example.com", ssoName: "../admin", wantErr: ErrSSONameCharacters, wantReason: "SSOName"},
		{name: "empty SSO name", baseURL: "https://app.example.com", ssoName: "", wantErr: ErrSSONameLength, wantReason: "SSOName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewSPDetails(tt.baseURL, tt.ssoName)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("NewSPDetails(%q, %q) err = %v; want %v", tt.baseURL, tt.ssoName, err, tt.wantErr)
				}
				if !errors.Is(err, ErrInvalidConfig) {
					t.Errorf("NewSPDetails(%q, %q) err = %v; want it to wrap %v", tt.baseURL, tt.ssoName, err, ErrInvalidConfig)
				}
				if !strings.Contains(err.Error(), tt.wantReason) {
					t.Errorf("NewSPDetails(%q, %q) err = %q; want it to contain %q", tt.baseURL, tt.ssoName, err, tt.wantReason)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewSPDetails(%q, %q) err = %v; want nil", tt.baseURL, tt.ssoName, err)
			}
			want := SPDetails{
				EntityID:     tt.wantBase + "/sso/" + tt.ssoName + "/metadata",
				ACSURL:       tt.wantBase + "/sso/" + tt.ssoName + "/acs",
				NameIDFormat: saml.NameIDFormatEmail,
				Attributes:   []string{"email", "first_name", "last_name", "roles"},
			}
			if got.EntityID != want.EntityID || got.ACSURL != want.ACSURL || got.NameIDFormat != want.NameIDFormat ||
				!slices.Equal(got.Attributes, want.Attributes) {
				t.Errorf("NewSPDetails(%q, %q) = %+v; want %+v", tt.baseURL, tt.ssoName, got, want)
			}
		})
	}
}

func TestNewSPDetailsAttributesNotShared(t *testing.T) {
	a, _ := NewSPDetails("https://app.example.com", "acme")
	a.Attributes[0] = "changed"
	b, _ := NewSPDetails("https://app.example.com", "acme")
	if b.Attributes[0] != AttrEmail {
		t.Errorf("NewSPDetails() Attributes[0] = %q after changing an earlier result; want %q", b.Attributes[0], AttrEmail)
	}
}
