package xmldsig

import (
	"bytes"
	"crypto/x509"
	"errors"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// FuzzCanonicalize checks that canonicalisation never panics, and that for
// every document etree parses with fewer than 1,000 elements our output
// equals goxmldsig's, or both fail, except in the known divergence classes
// (where ours must still succeed or fail with ErrMalformed, and be stable).
func FuzzCanonicalize(f *testing.F) {
	f.Add([]byte(samlResponse), "xs")
	f.Add([]byte(`<a xmlns="urn:a"><b xmlns=""><c/></b></a>`), "")
	f.Add([]byte(`<p:a xmlns:p="urn:p" xmlns:q="urn:q"><q:b p:x="1" x="2"><!--c--><?pi x?>t&amp;&lt;&gt;&#13;</q:b></p:a>`), "q")
	f.Fuzz(func(t *testing.T, data []byte, prefixList string) {
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(data); err != nil || doc.Root() == nil {
			return
		}
		els := allElements(doc.Root())
		compare := len(els) < 1000
		if len(els) > 8 {
			els = els[:8]
		}
		list := strings.Fields(prefixList)
		for _, el := range els {
			var exclude *etree.Element
			if kids := el.ChildElements(); len(kids) > 0 {
				exclude = kids[len(kids)-1]
			}
			for _, ex := range []*etree.Element{nil, exclude} {
				got, err := CanonicalizeExclusive(el, nil, list, ex)
				if err != nil && !errors.Is(err, ErrMalformed) {
					t.Fatalf("CanonicalizeExclusive() err = %v; want nil or ErrMalformed", err)
				}
				var streamed bytes.Buffer
				serr := WriteExclusive(&streamed, el, nil, list, ex)
				if (serr == nil) != (err == nil) || (err == nil && !bytes.Equal(streamed.Bytes(), got)) {
					t.Fatalf("WriteExclusive() = %q, %v; CanonicalizeExclusive() = %q, %v", streamed.Bytes(), serr, got, err)
				}
				if !compare {
					continue
				}
				want, werr := goxmldsigC14N(el, prefixList, ex)
				if (err == nil && werr == nil && bytes.Equal(got, want)) || (err != nil && werr != nil) {
					continue
				}
				div := knownDivergences(el, prefixList)
				if len(div) == 0 {
					t.Fatalf("canonical form of <%s> (PrefixList %q) differs from goxmldsig:\n ours: %q, %v\n goxmldsig: %q, %v",
						el.FullTag(), prefixList, got, err, want, werr)
				}
				if err != nil && !div[divNotNSWellFormed] {
					t.Fatalf("CanonicalizeExclusive() err = %v, goxmldsig accepted it, and the input is namespace-well-formed", err)
				}
			}
		}
	})
}

// FuzzVerify checks that Verify never panics and that every error it returns
// wraps one of the package's sentinels, on mutations of signed responses.
func FuzzVerify(f *testing.F) {
	k, _, p256, _ := keys(f)
	for _, key := range []testKey{k, p256} {
		doc := parse(f, samlResponse)
		if _, err := SignEnveloped(doc.Root().FindElement("./Assertion"), key.signer, SignOptions{Certificate: key.cert}); err != nil {
			f.Fatal(err)
		}
		s, _ := doc.WriteToBytes()
		f.Add(s)
	}
	certs := []*x509.Certificate{k.cert, p256.cert}
	sentinels := []error{ErrMalformed, ErrUnsupportedAlgorithm, ErrUntrustedKey, ErrSignatureInvalid, ErrDigestMismatch}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(data); err != nil || doc.Root() == nil {
			return
		}
		for _, el := range allElements(doc.Root()) {
			for _, sig := range el.ChildElements() {
				if sig.Tag != "Signature" {
					continue
				}
				_, err := Verify(el, sig, VerifyOptions{Certificates: certs, Allow: allowAll, DocumentRoot: el == doc.Root()})
				if err == nil {
					continue
				}
				ok := false
				for _, s := range sentinels {
					ok = ok || errors.Is(err, s)
				}
				if !ok {
					t.Fatalf("Verify() err = %v; wraps no sentinel", err)
				}
			}
		}
	})
}
