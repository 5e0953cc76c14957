package xmldsig

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	_ "crypto/sha1"   // SHA-1 digests and rsa-sha1, for IdPs that still use them
	_ "crypto/sha256" // SHA-256
	_ "crypto/sha512" // SHA-384 and SHA-512
	"encoding/asn1"
	"errors"
	"math/big"
)

// Namespace is the XML-DSig namespace.
const Namespace = "http://www.w3.org/2000/09/xmldsig#"

// Transform and canonicalization algorithm URIs.
const (
	ExclusiveC14N      = "http://www.w3.org/2001/10/xml-exc-c14n#"
	EnvelopedSignature = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
)

// SignatureMethod algorithm URIs.
const (
	RSASHA1     = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
	RSASHA256   = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	RSASHA384   = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
	RSASHA512   = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
	ECDSASHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
	ECDSASHA384 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"
	ECDSASHA512 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"
)

// DigestMethod algorithm URIs.
const (
	DigestSHA1   = "http://www.w3.org/2000/09/xmldsig#sha1"
	DigestSHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
	DigestSHA384 = "http://www.w3.org/2001/04/xmldsig-more#sha384"
	DigestSHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"
)

const (
	nsExcC14N = ExclusiveC14N // namespace of InclusiveNamespaces
	nsXML     = "http://www.w3.org/XML/1998/namespace"
	nsXMLNS   = "http://www.w3.org/2000/xmlns/"
)

// signatureMethod is what a SignatureMethod URI means.
type signatureMethod struct {
	hash  crypto.Hash
	ecdsa bool // else RSA PKCS#1 v1.5
}

var signatureMethods = map[string]signatureMethod{
	RSASHA1:     {crypto.SHA1, false},
	RSASHA256:   {crypto.SHA256, false},
	RSASHA384:   {crypto.SHA384, false},
	RSASHA512:   {crypto.SHA512, false},
	ECDSASHA256: {crypto.SHA256, true},
	ECDSASHA384: {crypto.SHA384, true},
	ECDSASHA512: {crypto.SHA512, true},
}

var digestMethods = map[string]crypto.Hash{
	DigestSHA1:   crypto.SHA1,
	DigestSHA256: crypto.SHA256,
	DigestSHA384: crypto.SHA384,
	DigestSHA512: crypto.SHA512,
}

// defaultAllow is the algorithm policy when the caller gives none: everything
// implemented except SHA-1.
func defaultAllow(sigAlg, digestAlg string) error {
	if sigAlg == RSASHA1 || digestAlg == DigestSHA1 {
		return errors.New("SHA-1 is refused unless the caller's policy allows it")
	}
	return nil
}

// ecdsaSize is the length in bytes of r and of s for the key's curve.
func ecdsaSize(pub *ecdsa.PublicKey) int {
	return (pub.Curve.Params().BitSize + 7) / 8
}

// verifySignature checks a signature value over hashed with pub, for m.
func verifySignature(pub crypto.PublicKey, m signatureMethod, hashed, value []byte) bool {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return !m.ecdsa && rsa.VerifyPKCS1v15(k, m.hash, hashed, value) == nil
	case *ecdsa.PublicKey:
		if !m.ecdsa {
			return false
		}
		// XML-DSig ECDSA values are r||s, each as long as the group order.
		n := ecdsaSize(k)
		if len(value) != 2*n {
			return false
		}
		r := new(big.Int).SetBytes(value[:n])
		s := new(big.Int).SetBytes(value[n:])
		return ecdsa.Verify(k, hashed, r, s)
	}
	return false
}

// keyFits reports whether pub can verify signatures of method m.
func keyFits(pub crypto.PublicKey, m signatureMethod) bool {
	switch pub.(type) {
	case *rsa.PublicKey:
		return !m.ecdsa
	case *ecdsa.PublicKey:
		return m.ecdsa
	}
	return false
}

// ecdsaRaw converts an ASN.1 ECDSA signature (what crypto.Signer returns) to
// the r||s form of XML-DSig.
func ecdsaRaw(der []byte, pub *ecdsa.PublicKey) ([]byte, error) {
	var sig struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &sig)
	if err != nil || len(rest) != 0 || sig.R == nil || sig.S == nil || sig.R.Sign() <= 0 || sig.S.Sign() <= 0 {
		return nil, malformed("ECDSA signer returned a value that is not an ASN.1 signature")
	}
	n := ecdsaSize(pub)
	if sig.R.BitLen() > 8*n || sig.S.BitLen() > 8*n {
		return nil, malformed("ECDSA signature is larger than the curve order")
	}
	out := make([]byte, 2*n)
	sig.R.FillBytes(out[:n])
	sig.S.FillBytes(out[n:])
	return out, nil
}
