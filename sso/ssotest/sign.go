package ssotest

import (
	"crypto"
	"crypto/rsa"
	_ "crypto/sha1"   // SHA-1 digests and signatures, on request
	_ "crypto/sha256" // SHA-256
	_ "crypto/sha512" // SHA-384 and SHA-512
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"

	"github.com/orgsso/orgsso/sso"
)

// digestHashes maps the XML-DSig digest URIs to their hash functions.
var digestHashes = map[string]crypto.Hash{
	sso.DigestSHA1:   crypto.SHA1,
	sso.DigestSHA256: crypto.SHA256,
	sso.DigestSHA384: crypto.SHA384,
	sso.DigestSHA512: crypto.SHA512,
}

// signer makes enveloped XML-DSig signatures with exclusive C14N.
type signer struct {
	key        crypto.Signer
	certDER    []byte // certificate for KeyInfo; nil = no KeyInfo
	method     string // SignatureMethod URI
	digestURI  string
	digestHash crypto.Hash
	rand       io.Reader
}

// newSigner resolves the signing knobs of r.
func (idp *IdP) newSigner(r Response) (*signer, error) {
	s := &signer{
		key:       idp.key,
		method:    or(r.SignatureMethod, sso.AlgRSASHA256),
		digestURI: or(r.DigestMethod, sso.DigestSHA256),
		rand:      lockedRand{idp},
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
		s.certDER = idp.cert.Raw
	}
	if r.SigningCert != nil {
		if len(r.SigningCert.Raw) == 0 {
			return nil, respErr("SigningCert", "has no DER encoding (Raw); use a parsed certificate")
		}
		s.certDER = r.SigningCert.Raw
	}
	if r.OmitKeyInfo {
		s.certDER = nil
	}
	h, ok := digestHashes[s.digestURI]
	if !ok {
		return nil, respErr("DigestMethod", fmt.Sprintf("unsupported algorithm %q", s.digestURI))
	}
	s.digestHash = h
	if _, err := s.context(); err != nil {
		return nil, &sso.ConfigError{Field: "Response.SignatureMethod", Reason: "unsupported with an RSA key", Err: err}
	}
	return s, nil
}

// context returns a goxmldsig signing context for the signature method, with
// exclusive C14N.
func (s *signer) context() (*dsig.SigningContext, error) {
	var certs [][]byte
	if s.certDER != nil {
		certs = [][]byte{s.certDER}
	}
	ctx, err := dsig.NewSigningContext(s.key, certs)
	if err != nil {
		return nil, err
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(s.method); err != nil {
		return nil, err
	}
	return ctx, nil
}

// sign adds an enveloped signature of el (Reference URI "#" + its ID) right
// after its Issuer child, or first when it has none, as the SAML schema wants.
func (s *signer) sign(el *etree.Element) error {
	if el.SelectAttrValue("ID", "") == "" {
		return errors.New("element to sign has no ID")
	}
	ctx, err := s.context()
	if err != nil {
		return err
	}
	// Canonicalize a detached copy that declares every namespace in scope:
	// goxmldsig canonicalizes in place and without the ancestors' context.
	nsCtx, err := etreeutils.NSBuildParentContext(el)
	if err != nil {
		return err
	}
	detached, err := etreeutils.NSDetatch(nsCtx, el)
	if err != nil {
		return err
	}
	// goxmldsig uses one hash for the digest and the signature: build the
	// signature with the digest hash, then re-sign SignedInfo with the
	// signature method's hash when they differ.
	sigHash := ctx.Hash
	ctx.Hash = s.digestHash
	sig, err := ctx.ConstructSignature(detached, true)
	if err != nil {
		return err
	}
	if sigHash != s.digestHash {
		if err := s.resign(sig, ctx.Canonicalizer, sigHash); err != nil {
			return err
		}
	}
	if s.certDER == nil {
		if ki := childElement(sig, "KeyInfo"); ki != nil {
			sig.RemoveChild(ki)
		}
	}
	at := 0
	if iss := childElement(el, "Issuer"); iss != nil {
		at = iss.Index() + 1
	}
	el.InsertChildAt(at, sig)
	return nil
}

// resign sets SignedInfo's SignatureMethod to s.method and replaces the
// SignatureValue with a signature of the canonical SignedInfo hashed with h.
func (s *signer) resign(sig *etree.Element, c dsig.Canonicalizer, h crypto.Hash) error {
	si := childElement(sig, dsig.SignedInfoTag)
	if si == nil {
		return errors.New("signature without SignedInfo")
	}
	sm := childElement(si, dsig.SignatureMethodTag)
	sv := childElement(sig, dsig.SignatureValueTag)
	if sm == nil || sv == nil {
		return errors.New("signature without SignatureMethod or SignatureValue")
	}
	sm.CreateAttr(dsig.AlgorithmAttr, s.method)
	nsCtx, err := etreeutils.NSBuildParentContext(si)
	if err != nil {
		return err
	}
	detached, err := etreeutils.NSDetatch(nsCtx, si)
	if err != nil {
		return err
	}
	canonical, err := c.Canonicalize(detached)
	if err != nil {
		return err
	}
	hh := h.New()
	hh.Write(canonical)
	value, err := s.key.Sign(s.rand, hh.Sum(nil), h)
	if err != nil {
		return err
	}
	sv.SetText(base64.StdEncoding.EncodeToString(value))
	return nil
}

// childElement returns el's first child element with the local name tag.
func childElement(el *etree.Element, tag string) *etree.Element {
	for _, c := range el.ChildElements() {
		if c.Tag == tag {
			return c
		}
	}
	return nil
}
