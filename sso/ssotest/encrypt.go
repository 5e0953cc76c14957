package ssotest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"errors"

	"github.com/beevik/etree"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// XML Encryption data encryption algorithms for Response.EncryptionMethod.
// orgsso decrypts the AES-GCM and the AES-128/256-CBC ones (the ones its SP
// metadata lists); AES-192-CBC and Triple DES are here so a test can check
// that they are refused.
const (
	EncryptionAES128GCM    = "http://www.w3.org/2009/xmlenc11#aes128-gcm"
	EncryptionAES192GCM    = "http://www.w3.org/2009/xmlenc11#aes192-gcm"
	EncryptionAES256GCM    = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
	EncryptionAES128CBC    = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"
	EncryptionAES192CBC    = "http://www.w3.org/2001/04/xmlenc#aes192-cbc"
	EncryptionAES256CBC    = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
	EncryptionTripleDESCBC = "http://www.w3.org/2001/04/xmlenc#tripledes-cbc"
)

// XML Encryption key transport algorithms for Response.KeyTransport. The
// RSA-OAEP ones use a SHA-1 OAEP digest and MGF1 with SHA-1, and say so in a
// ds:DigestMethod (and, for the XML Encryption 1.1 URI, an xenc11:MGF).
// orgsso refuses RSA PKCS#1 v1.5, which is here so a test can check that.
const (
	KeyTransportRSAOAEPMGF1P = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
	KeyTransportRSAOAEP      = "http://www.w3.org/2009/xmlenc11#rsa-oaep"
	KeyTransportRSA15        = "http://www.w3.org/2001/04/xmlenc#rsa-1_5"
)

const (
	typeElement   = "http://www.w3.org/2001/04/xmlenc#Element"
	nsXMLEnc11    = "http://www.w3.org/2009/xmlenc11#"
	digestSHA1URI = "http://www.w3.org/2000/09/xmldsig#sha1"
	mgf1SHA1      = "http://www.w3.org/2009/xmlenc11#mgf1sha1"
)

// dataCipher is a data encryption algorithm: its key size, block cipher and
// mode.
type dataCipher struct {
	keySize int
	block   func(key []byte) (cipher.Block, error)
	gcm     bool
}

// dataCiphers are the data encryption algorithms, by URI.
var dataCiphers = map[string]dataCipher{
	EncryptionAES128GCM:    {16, aes.NewCipher, true},
	EncryptionAES192GCM:    {24, aes.NewCipher, true},
	EncryptionAES256GCM:    {32, aes.NewCipher, true},
	EncryptionAES128CBC:    {16, aes.NewCipher, false},
	EncryptionAES192CBC:    {24, aes.NewCipher, false},
	EncryptionAES256CBC:    {32, aes.NewCipher, false},
	EncryptionTripleDESCBC: {24, des.NewTripleDESCipher, false},
}

// keyTransports are the key transport algorithm URIs.
var keyTransports = map[string]bool{
	KeyTransportRSAOAEPMGF1P: true, KeyTransportRSAOAEP: true, KeyTransportRSA15: true,
}

// encrypt replaces assertion (or a NameID), in place, by a wrapper element
// (saml:EncryptedAssertion, saml:EncryptedID) holding its encryption for the
// holder of cert's RSA key.
func (idp *IdP) encrypt(assertion *etree.Element, cert *x509.Certificate, method, keyTransport, wrapper string) error {
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

	dc, ok := dataCiphers[method]
	if !ok {
		return errors.New("unsupported encryption method " + method)
	}
	key := make([]byte, dc.keySize)
	if err := idp.readRand(key); err != nil {
		return err
	}
	block, err := dc.block(key)
	if err != nil {
		return err
	}
	var data []byte
	if dc.gcm {
		data, err = idp.sealGCM(block, plain)
	} else {
		data, err = idp.sealCBC(block, plain)
	}
	if err != nil {
		return err
	}
	var wrapped []byte
	switch keyTransport {
	case KeyTransportRSAOAEPMGF1P, KeyTransportRSAOAEP:
		wrapped, err = rsa.EncryptOAEP(sha1.New(), lockedRand{idp}, pub, key, nil)
	case KeyTransportRSA15:
		//lint:ignore SA1019 a test IdP makes PKCS#1 v1.5 key transport so that SPs can check they refuse it
		wrapped, err = rsa.EncryptPKCS1v15(lockedRand{idp}, pub, key)
	default:
		err = errors.New("unsupported key transport " + keyTransport)
	}
	if err != nil {
		return err
	}

	ea := etree.NewElement(wrapper)
	ed := ea.CreateElement("xenc:EncryptedData")
	ed.CreateAttr("xmlns:xenc", nsXMLEnc)
	ed.CreateAttr("Type", typeElement)
	ed.CreateElement("xenc:EncryptionMethod").CreateAttr("Algorithm", method)
	ki := ed.CreateElement("ds:KeyInfo")
	ki.CreateAttr("xmlns:ds", nsDSig)
	ek := ki.CreateElement("xenc:EncryptedKey")
	em := ek.CreateElement("xenc:EncryptionMethod")
	em.CreateAttr("Algorithm", keyTransport)
	if keyTransport != KeyTransportRSA15 {
		em.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", digestSHA1URI)
	}
	if keyTransport == KeyTransportRSAOAEP {
		mgf := em.CreateElement("xenc11:MGF")
		mgf.CreateAttr("xmlns:xenc11", nsXMLEnc11)
		mgf.CreateAttr("Algorithm", mgf1SHA1)
	}
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
