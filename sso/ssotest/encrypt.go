package ssotest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"errors"

	"github.com/beevik/etree"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// XML Encryption data encryption algorithms for Response.EncryptionMethod.
const (
	EncryptionAES128CBC = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"
	EncryptionAES256CBC = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
	EncryptionAES128GCM = "http://www.w3.org/2009/xmlenc11#aes128-gcm"
	EncryptionAES256GCM = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
)

// Key transport: RSA-OAEP with MGF1-SHA1 and a SHA-1 OAEP digest, the one
// every SAML SP supports.
const (
	keyTransportRSAOAEP = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
	typeElement         = "http://www.w3.org/2001/04/xmlenc#Element"
)

// dataKeySize is the AES key size of each data encryption algorithm.
var dataKeySize = map[string]int{
	EncryptionAES128CBC: 16,
	EncryptionAES256CBC: 32,
	EncryptionAES128GCM: 16,
	EncryptionAES256GCM: 32,
}

// encrypt replaces assertion, in place, by a saml:EncryptedAssertion of it for
// the holder of cert's RSA key.
func (idp *IdP) encrypt(assertion *etree.Element, cert *x509.Certificate, method string) error {
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("certificate key is not RSA")
	}
	parent := assertion.Parent()
	if parent == nil {
		return errors.New("assertion has no parent")
	}
	nsCtx, err := etreeutils.NSBuildParentContext(assertion)
	if err != nil {
		return err
	}
	standalone, err := etreeutils.NSDetatch(nsCtx, assertion)
	if err != nil {
		return err
	}
	plain, err := etree.NewDocumentWithRoot(standalone).WriteToBytes()
	if err != nil {
		return err
	}

	key := make([]byte, dataKeySize[method])
	if err := idp.readRand(key); err != nil {
		return err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return err
	}
	var data []byte
	switch method {
	case EncryptionAES128GCM, EncryptionAES256GCM:
		if data, err = idp.sealGCM(block, plain); err != nil {
			return err
		}
	case EncryptionAES128CBC, EncryptionAES256CBC:
		if data, err = idp.sealCBC(block, plain); err != nil {
			return err
		}
	default:
		return errors.New("unsupported encryption method " + method)
	}
	wrapped, err := rsa.EncryptOAEP(sha1.New(), lockedRand{idp}, pub, key, nil)
	if err != nil {
		return err
	}

	ea := etree.NewElement("saml:EncryptedAssertion")
	ed := ea.CreateElement("xenc:EncryptedData")
	ed.CreateAttr("xmlns:xenc", nsXMLEnc)
	ed.CreateAttr("Type", typeElement)
	ed.CreateElement("xenc:EncryptionMethod").CreateAttr("Algorithm", method)
	ki := ed.CreateElement("ds:KeyInfo")
	ki.CreateAttr("xmlns:ds", nsDSig)
	ek := ki.CreateElement("xenc:EncryptedKey")
	em := ek.CreateElement("xenc:EncryptionMethod")
	em.CreateAttr("Algorithm", keyTransportRSAOAEP)
	em.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", "http://www.w3.org/2000/09/xmldsig#sha1")
	ek.CreateElement("ds:KeyInfo").
		CreateElement("ds:X509Data").
		CreateElement("ds:X509Certificate").
		SetText(base64.StdEncoding.EncodeToString(cert.Raw))
	ek.CreateElement("xenc:CipherData").
		CreateElement("xenc:CipherValue").
		SetText(base64.StdEncoding.EncodeToString(wrapped))
	ed.CreateElement("xenc:CipherData").
		CreateElement("xenc:CipherValue").
		SetText(base64.StdEncoding.EncodeToString(data))

	at := assertion.Index()
	parent.RemoveChildAt(at)
	parent.InsertChildAt(at, ea)
	return nil
}

// sealGCM returns nonce || ciphertext || tag, as XML Encryption 1.1 wants.
func (idp *IdP) sealGCM(block cipher.Block, plain []byte) ([]byte, error) {
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if err := idp.readRand(nonce); err != nil {
		return nil, err
	}
	return gcm.Seal(nonce, nonce, plain, nil), nil
}

// sealCBC returns IV || ciphertext, the plaintext padded as XML Encryption
// says (the last byte counts the padding bytes, 1 to a block).
func (idp *IdP) sealCBC(block cipher.Block, plain []byte) ([]byte, error) {
	bs := block.BlockSize()
	pad := bs - len(plain)%bs
	out := make([]byte, bs+len(plain)+pad)
	iv := out[:bs]
	if err := idp.readRand(iv); err != nil {
		return nil, err
	}
	body := out[bs:]
	copy(body, plain)
	for i := len(plain); i < len(body); i++ {
		body[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(body, body)
	return out, nil
}
