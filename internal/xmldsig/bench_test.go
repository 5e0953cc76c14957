package xmldsig

import (
	"crypto/sha256"
	"crypto/x509"
	"testing"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// benchAssertion returns a response whose assertion has n attribute values,
// and the assertion. n = 40 is a typical 6 KB assertion, 2,000 about 200 KB.
func benchAssertion(b *testing.B, n int) (*etree.Document, *etree.Element) {
	b.Helper()
	doc := bigAssertion(b, n)
	a := doc.Root().FindElement("./Assertion")
	c, err := CanonicalizeExclusive(a, nil, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(c)), "c14n-bytes")
	b.SetBytes(int64(len(c)))
	return doc, a
}

func BenchmarkDigest(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"6KB", 40}, {"200KB", 2000}} {
		b.Run("ours/"+size.name, func(b *testing.B) {
			_, a := benchAssertion(b, size.n)
			b.ReportAllocs()
			for b.Loop() {
				h := sha256.New()
				if err := WriteExclusive(h, a, nil, nil, nil); err != nil {
					b.Fatal(err)
				}
				h.Sum(nil)
			}
		})
		if size.n > 1000 {
			continue // goxmldsig: traversal limit reached
		}
		b.Run("goxmldsig/"+size.name, func(b *testing.B) {
			_, a := benchAssertion(b, size.n)
			b.ReportAllocs()
			for b.Loop() {
				// What goxmldsig's Validate does for the digest.
				c, err := goxmldsigC14N(a, "", nil)
				if err != nil {
					b.Fatal(err)
				}
				h := sha256.New()
				h.Write(c)
				h.Sum(nil)
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	k, _, _, _ := keys(b)
	certs := []*x509.Certificate{k.cert}
	for _, size := range []struct {
		name string
		n    int
	}{{"6KB", 40}, {"200KB", 2000}} {
		_, a := benchAssertion(b, size.n)
		sig, err := SignEnveloped(a, k.signer, SignOptions{Certificate: k.cert})
		if err != nil {
			b.Fatal(err)
		}
		b.Run("ours/"+size.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Verify(a, sig, VerifyOptions{Certificates: certs}); err != nil {
					b.Fatal(err)
				}
			}
		})
		if size.n > 1000 {
			continue
		}
		b.Run("goxmldsig/"+size.name, func(b *testing.B) {
			vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: certs})
			vc.IdAttribute = "ID"
			vc.Clock = dsig.NewFakeClockAt(k.cert.NotBefore.Add(1))
			b.ReportAllocs()
			for b.Loop() {
				d, err := detachErr(a)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := vc.Validate(d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSign(b *testing.B) {
	k, _, _, _ := keys(b)
	_, a := benchAssertion(b, 2000)
	b.ReportAllocs()
	for b.Loop() {
		sig, err := SignEnveloped(a, k.signer, SignOptions{Certificate: k.cert})
		if err != nil {
			b.Fatal(err)
		}
		a.RemoveChild(sig)
	}
}
