package bench

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	saml2 "github.com/russellhaering/gosaml2"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/orgsso/orgsso/internal/xmldsig"
)

// floor does the physical minimum of validating a signed response, nothing
// more: base64 decode, one etree parse, then for every signature: exclusive
// C14N of the signed element without its signature streamed into SHA-256,
// compare with the DigestValue, C14N of SignedInfo, one RSA verify. No SAML
// rule is checked. It uses the fastest canonicalizer at hand (orgsso's
// internal/xmldsig), so the floor is as low as it can honestly be.
func floor(posted string, pub *rsa.PublicKey) error {
	raw, err := base64.StdEncoding.DecodeString(posted)
	if err != nil {
		return err
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return err
	}
	n := 0
	for _, signed := range []*etree.Element{doc.Root(), doc.Root().SelectElement("Assertion")} {
		sig := signed.SelectElement("Signature")
		if sig == nil {
			continue
		}
		n++
		h := sha256.New()
		if err := xmldsig.WriteExclusive(h, signed, nil, nil, sig); err != nil {
			return err
		}
		si := sig.SelectElement("SignedInfo")
		want, _ := base64.StdEncoding.DecodeString(si.FindElement("./Reference/DigestValue").Text())
		if !bytes.Equal(h.Sum(nil), want) {
			return fmt.Errorf("digest mismatch")
		}
		h.Reset()
		if err := xmldsig.WriteExclusive(h, si, nil, nil, nil); err != nil {
			return err
		}
		sv, _ := base64.StdEncoding.DecodeString(sig.SelectElement("SignatureValue").Text())
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h.Sum(nil), sv); err != nil {
			return err
		}
	}
	if n == 0 {
		return fmt.Errorf("no signature")
	}
	return nil
}

func BenchmarkFloor(b *testing.B) {
	w := newWorld(b)
	pub := w.cert.PublicKey.(*rsa.PublicKey)
	for _, s := range w.shapes(b) {
		b.Run(s.name, func(b *testing.B) {
			if err := floor(s.posted, pub); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := floor(s.posted, pub); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkOrgssoValidate(b *testing.B) {
	w := newWorld(b)
	v := w.validator(b)
	for _, s := range w.shapes(b) {
		b.Run(s.name, func(b *testing.B) {
			if _, err := v.Validate(s.posted, requestID); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Validate(s.posted, requestID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGosaml2Raw: gosaml2's RetrieveAssertionInfo plus the checks it
// only reports as warnings and the InResponseTo match it leaves to callers.
func BenchmarkGosaml2Raw(b *testing.B) {
	w := newWorld(b)
	sp := &saml2.SAMLServiceProvider{
		IdentityProviderSSOURL:      w.idp.SSOURL(),
		IdentityProviderIssuer:      w.idp.EntityID(),
		AssertionConsumerServiceURL: w.sp.ACSURL,
		AudienceURI:                 w.sp.EntityID,
		IDPCertificateStore:         &dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{w.cert}},
		Clock:                       dsig.NewFakeClockAt(benchNow),
	}
	check := func(posted string) error {
		info, err := sp.RetrieveAssertionInfo(posted)
		if err != nil {
			return err
		}
		if info.WarningInfo.InvalidTime || info.WarningInfo.NotInAudience {
			return fmt.Errorf("warnings: %+v", info.WarningInfo)
		}
		scd := info.Assertions[0].Subject.SubjectConfirmation.SubjectConfirmationData
		if scd == nil || scd.InResponseTo != requestID {
			return fmt.Errorf("InResponseTo mismatch")
		}
		return nil
	}
	for _, s := range w.shapes(b) {
		b.Run(s.name, func(b *testing.B) {
			if err := check(s.posted); err != nil {
				// The large shape: goxmldsig refuses elements with more than
				// 1,000 descendants ("traversal limit reached").
				b.Skipf("gosaml2 cannot validate the %s shape: %v", s.name, err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := check(s.posted); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCrewjamParseXMLResponse: crewjam/saml's ServiceProvider on the same
// responses. crewjam reads its clock from the package global saml.TimeNow,
// which is set for the benchmark (and why STYLE.md calls it an anti-pattern).
func BenchmarkCrewjamParseXMLResponse(b *testing.B) {
	w := newWorld(b)
	md, err := w.idp.Metadata()
	if err != nil {
		b.Fatal(err)
	}
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(md, &ed); err != nil {
		b.Fatal(err)
	}
	acs, _ := url.Parse(w.sp.ACSURL)
	mdURL, _ := url.Parse(w.sp.EntityID)
	sp := &saml.ServiceProvider{EntityID: w.sp.EntityID, AcsURL: *acs, MetadataURL: *mdURL, IDPMetadata: &ed}
	saved := saml.TimeNow
	saml.TimeNow = func() time.Time { return benchNow }
	b.Cleanup(func() { saml.TimeNow = saved })
	for _, s := range w.shapes(b) {
		b.Run(s.name, func(b *testing.B) {
			if err := crewjamOnce(sp, s.xml, *acs); err != nil {
				b.Skipf("crewjam cannot validate the %s shape: %v", s.name, err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := sp.ParseXMLResponse(s.xml, []string{requestID}, *acs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// crewjamOnce runs ParseXMLResponse once, turning its failure (or panic: on
// the large shape its signature check dereferences nil) into an error.
func crewjamOnce(sp *saml.ServiceProvider, xml []byte, acs url.URL) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	if _, err := sp.ParseXMLResponse(xml, []string{requestID}, acs); err != nil {
		if ire, ok := err.(*saml.InvalidResponseError); ok {
			return fmt.Errorf("%v: %v", err, ire.PrivateErr)
		}
		return err
	}
	return nil
}
