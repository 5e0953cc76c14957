package ssotest

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/beevik/etree"

	"github.com/orgsso/orgsso/internal/safexml"
	"github.com/orgsso/orgsso/internal/xmldsig"
	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/sso"
)

// rsaMethods are the signature methods an RSA key can make.
var rsaMethods = map[string]bool{
	saml.AlgRSASHA1: true, saml.AlgRSASHA256: true, saml.AlgRSASHA384: true, saml.AlgRSASHA512: true,
}

// digestMethods are the digest methods a signature may use.
var digestMethods = map[string]bool{
	saml.DigestSHA1: true, saml.DigestSHA256: true, saml.DigestSHA384: true, saml.DigestSHA512: true,
}

// signer makes enveloped XML-DSig signatures with exclusive C14N, the way
// SAML IdPs do (orgsso's own XML-DSig core, which has no element-count limit,
// so responses with thousands of group values can be signed).
type signer struct {
	key       crypto.Signer
	cert      *x509.Certificate // for KeyInfo; nil = no KeyInfo
	method    string            // SignatureMethod URI
	digestURI string
}

// newSigner resolves the signing knobs of r.
func (idp *IdP) newSigner(r Response) (*signer, error) {
	s := &signer{
		key:       idp.key,
		method:    or(r.SignatureMethod, saml.AlgRSASHA256),
		digestURI: or(r.DigestMethod, saml.DigestSHA256),
	}
	switch {
	case r.SigningKey != nil:
		if _, ok := r.SigningKey.Public().(*rsa.PublicKey); !ok {
			return nil, respErr("SigningKey", "must be an RSA key")
		}
		s.key = r.SigningKey
		if r.SigningCert == nil && !r.OmitKeyInfo {
			return nil, respErr("SigningCert", "is required with SigningKey unless OmitKeyInfo")
		}
	case r.SigningCert == nil:
		s.cert = idp.cert
	}
	if r.SigningCert != nil {
		if len(r.SigningCert.Raw) == 0 {
			return nil, respErr("SigningCert", "has no DER encoding (Raw); use a parsed certificate")
		}
		s.cert = r.SigningCert
	}
	if r.OmitKeyInfo {
		s.cert = nil
	}
	if !digestMethods[s.digestURI] {
		return nil, respErr("DigestMethod", fmt.Sprintf("unsupported algorithm %q", s.digestURI))
	}
	if !rsaMethods[s.method] {
		return nil, &sso.ConfigError{Field: "Response.SignatureMethod", Reason: "unsupported with an RSA key",
			Err: fmt.Errorf("signature method %q", s.method)}
	}
	return s, nil
}

// sign adds an enveloped signature of el (Reference URI "#" + its ID) right
// after its Issuer child, or first when it has none, as the SAML schema wants.
func (s *signer) sign(el *etree.Element) error {
	if safexml.AttrValue(el, "ID") == "" {
		return errors.New("element to sign has no ID")
	}
	_, err := xmldsig.SignEnveloped(el, s.key, xmldsig.SignOptions{
		SignatureMethod: s.method,
		DigestMethod:    s.digestURI,
		Certificate:     s.cert,
	})
	return err
}
