package saml_test

import (
	"crypto/x509"
	"fmt"
	"testing"

	saml2 "github.com/russellhaering/gosaml2"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/orgsso/orgsso/sso/ssotest"
)

// typicalResponse is an Okta-shaped response of about 6 KB: assertion signed
// with RSA-2048 / SHA-256, five role values and the usual profile attributes.
func typicalResponse(b testing.TB, f *fixture) string {
	b.Helper()
	return f.response(b, func(r *ssotest.Response) {
		r.User.Attributes = map[string][]string{
			"department":  {"Engineering"},
			"title":       {"Staff Software Engineer"},
			"employee_id": {"E-104729"},
			"locale":      {"en-GB"},
			"groups_display_names": {"Contentstack Developers (Okta group, managed by IT)", "Everyone",
				"Blog Editors (EU)", "Admins for the EU region", "Support rota"},
		}
	})
}

func BenchmarkValidate(b *testing.B) {
	f := newFixture(b)
	posted := typicalResponse(b, f)
	v := f.validator(b, nil)
	if _, err := v.Validate(posted, testRequestID); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Validate(posted, testRequestID); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(posted))*3/4, "xml-bytes")
}

// BenchmarkGosaml2Raw runs gosaml2's RetrieveAssertionInfo on the same
// response, certificate and clock, plus the checks gosaml2 only reports as
// warnings (audience, time) and the InResponseTo match it leaves to callers:
// what a careful caller of gosaml2 has to do to get the same verdict.
func BenchmarkGosaml2Raw(b *testing.B) {
	f := newFixture(b)
	posted := typicalResponse(b, f)
	sp := &saml2.SAMLServiceProvider{
		IdentityProviderSSOURL:      f.idp.SSOURL(),
		IdentityProviderIssuer:      f.idp.EntityID(),
		AssertionConsumerServiceURL: f.sp.ACSURL,
		AudienceURI:                 f.sp.EntityID,
		IDPCertificateStore:         &dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{f.idp.Certificate()}},
		Clock:                       dsig.NewFakeClockAt(testNow),
	}
	check := func() error {
		info, err := sp.RetrieveAssertionInfo(posted)
		if err != nil {
			return err
		}
		if info.WarningInfo.InvalidTime || info.WarningInfo.NotInAudience {
			return fmt.Errorf("warnings: %+v", info.WarningInfo)
		}
		a := info.Assertions[0]
		if a.Subject == nil || a.Subject.SubjectConfirmation == nil ||
			a.Subject.SubjectConfirmation.SubjectConfirmationData == nil ||
			a.Subject.SubjectConfirmation.SubjectConfirmationData.InResponseTo != testRequestID {
			return fmt.Errorf("InResponseTo mismatch")
		}
		return nil
	}
	if err := check(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := check(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(posted))*3/4, "xml-bytes")
}
