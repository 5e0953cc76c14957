package saml

import (
	"fmt"

	"github.com/orgsso/orgsso/internal/xmldsig"
)

// XML-DSig signature algorithm URIs accepted in IdPConfig.SignatureAlgorithm.
// They are the URIs internal/xmldsig verifies (ecdsa-sha1 is named for
// policy only: no such signature verifies).
const (
	AlgRSASHA1     = xmldsig.RSASHA1
	AlgRSASHA256   = xmldsig.RSASHA256
	AlgRSASHA384   = xmldsig.RSASHA384
	AlgRSASHA512   = xmldsig.RSASHA512
	AlgECDSASHA1   = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1"
	AlgECDSASHA256 = xmldsig.ECDSASHA256
	AlgECDSASHA384 = xmldsig.ECDSASHA384
	AlgECDSASHA512 = xmldsig.ECDSASHA512
)

// XML-DSig digest algorithm URIs.
const (
	DigestSHA1   = xmldsig.DigestSHA1
	DigestSHA256 = xmldsig.DigestSHA256
	DigestSHA384 = xmldsig.DigestSHA384
	DigestSHA512 = xmldsig.DigestSHA512
)

// hash strength tiers: a policy accepts every algorithm of its tier or above.
const (
	tierSHA1   = 1
	tierSHA256 = 2
	tierSHA384 = 3
	tierSHA512 = 4
)

var signatureTier = map[string]int{
	AlgRSASHA1: tierSHA1, AlgECDSASHA1: tierSHA1,
	AlgRSASHA256: tierSHA256, AlgECDSASHA256: tierSHA256,
	AlgRSASHA384: tierSHA384, AlgECDSASHA384: tierSHA384,
	AlgRSASHA512: tierSHA512, AlgECDSASHA512: tierSHA512,
}

var digestTier = map[string]int{
	DigestSHA1:   tierSHA1,
	DigestSHA256: tierSHA256,
	DigestSHA384: tierSHA384,
	DigestSHA512: tierSHA512,
}

// algorithmPolicy is the weakest accepted tier for signatures and digests.
type algorithmPolicy struct{ min int }

// policyFor returns the policy of an IdPConfig.SignatureAlgorithm value.
func policyFor(alg string) (algorithmPolicy, error) {
	if alg == "" {
		return algorithmPolicy{min: tierSHA256}, nil
	}
	t, ok := signatureTier[alg]
	if !ok {
		return algorithmPolicy{}, fmt.Errorf("unknown XML-DSig signature algorithm %q", alg)
	}
	return algorithmPolicy{min: t}, nil
}

// checkSignatureMethod reports whether a SignatureMethod URI is allowed.
func (p algorithmPolicy) checkSignatureMethod(uri string) error {
	t, ok := signatureTier[uri]
	if !ok {
		return fail(CheckAlgorithm, "the signature algorithm is not supported (unknown URIs are not quoted)")
	}
	if t < p.min {
		return failf(CheckAlgorithm, "signature algorithm %q is weaker than the IdP configuration allows", uri)
	}
	return nil
}

// checkDigestMethod reports whether a DigestMethod URI is allowed.
func (p algorithmPolicy) checkDigestMethod(uri string) error {
	t, ok := digestTier[uri]
	if !ok {
		return fail(CheckAlgorithm, "the digest algorithm is not supported (unknown URIs are not quoted)")
	}
	if t < p.min {
		return failf(CheckAlgorithm, "digest algorithm %q is weaker than the IdP configuration allows", uri)
	}
	return nil
}

func trimSpaceBytes(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	for j > i && (b[j-1] == ' ' || b[j-1] == '\n' || b[j-1] == '\r' || b[j-1] == '\t') {
		j--
	}
	return b[i:j]
}
