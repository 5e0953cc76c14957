package saml

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// This file implements the SP-initiated AuthnRequest of the SAML 2.0
// HTTP-Redirect binding (saml-bindings-2.0-os, section 3.4): NewAuthnRequest
// builds the redirect for the SP. (The IdP side, decoding it, is
// ssotest.ParseAuthnRequest.)

// MaxRelayState is the longest RelayState, in bytes, the SAML bindings
// specification allows (section 3.4.3).
const MaxRelayState = 80

// SAML names used by AuthnRequests. Distinct from the response validator's
// constants so the two files stay independent.
const (
	authnInstant      = "2006-01-02T15:04:05Z"
	authnParamRequest = "SAMLRequest"
	authnParamRelay   = "RelayState"
	authnParamSigAlg  = "SigAlg"
	authnParamSig     = "Signature"
)

// AuthnRequest is a built AuthnRequest: the URL to redirect the browser to
// (the IdP's SSO URL with the request in its query) and the request's ID, to
// remember and match with the InResponseTo of the response.
type AuthnRequest struct {
	URL, ID string
}

// AuthnRequestOptions configures one AuthnRequest. NewAuthnRequest validates
// it; every problem is a *ConfigError wrapping ErrInvalidConfig.
type AuthnRequestOptions struct {
	// SP is the requester: SP.EntityID becomes the Issuer, SP.ACSURL the
	// AssertionConsumerServiceURL (an absolute http or https URL), and
	// SP.NameIDFormat the NameIDPolicy Format ("" = NameIDFormatEmail).
	SP SPDetails
	// IdPSSOURL is the IdP's HTTP-Redirect SingleSignOnService location: the
	// Destination of the request and the base of the redirect URL. An absolute
	// http or https URL in ASCII, without a fragment. A query it already carries
	// is kept; it must not hold the binding's own parameters.
	IdPSSOURL string
	// RelayState is sent back by the IdP with the response. Optional; at most
	// MaxRelayState (80) bytes, as the binding requires.
	RelayState string
	// Now is the IssueInstant, written in UTC to the second. Required.
	Now time.Time
	// Rand is the source of the request ID: "id-" followed by 40 hex digits from
	// 20 random bytes. nil = crypto/rand.
	Rand io.Reader
	// SigningKey, when set, signs the request as the HTTP-Redirect binding does
	// (section 3.4.4.1): rsa-sha256 over the URL-encoded octets
	// "SAMLRequest=…&RelayState=…&SigAlg=…", sent as the SigAlg and Signature
	// query parameters. Only RSA keys of 2048 bits or more are accepted; an
	// ECDSA or other key is a *ConfigError, as RSA is what IdPs verify on
	// this binding. When the certificate chain is present, its leaf must hold
	// the matching public key.
	SigningKey *tls.Certificate
	// ForceAuthn asks the IdP to authenticate the user afresh, ignoring any
	// session it holds.
	ForceAuthn bool
}

// NewAuthnRequest builds an AuthnRequest for the HTTP-Redirect binding and
// returns the URL to redirect the browser to, with the request's ID. The XML
// is deflated (raw DEFLATE, RFC 1951), base64-encoded and URL-encoded into the
// SAMLRequest query parameter, followed by RelayState when set and, with a
// SigningKey, SigAlg and Signature.
func NewAuthnRequest(opts AuthnRequestOptions) (*AuthnRequest, error) {
	signer, err := opts.validate()
	if err != nil {
		return nil, err
	}
	id, err := newAuthnRequestID(opts.Rand)
	if err != nil {
		return nil, err
	}
	xmlBytes, err := opts.requestXML(id)
	if err != nil {
		return nil, err
	}
	encoded, err := deflateBase64(xmlBytes)
	if err != nil {
		return nil, err
	}

	q := authnParamRequest + "=" + url.QueryEscape(encoded)
	if opts.RelayState != "" {
		q += "&" + authnParamRelay + "=" + url.QueryEscape(opts.RelayState)
	}
	if signer != nil {
		q += "&" + authnParamSigAlg + "=" + url.QueryEscape(AlgRSASHA256)
		digest := crypto.SHA256.New()
		digest.Write([]byte(q))
		// PKCS #1 v1.5 is deterministic; the reader is for signers that want one.
		sig, err := signer.Sign(rand.Reader, digest.Sum(nil), crypto.SHA256)
		if err != nil {
			return nil, &ConfigError{Field: "SigningKey", Reason: "cannot sign the request", Err: err}
		}
		q += "&" + authnParamSig + "=" + url.QueryEscape(base64.StdEncoding.EncodeToString(sig))
	}

	sep := "?"
	if strings.Contains(opts.IdPSSOURL, "?") {
		sep = "&"
		if strings.HasSuffix(opts.IdPSSOURL, "?") || strings.HasSuffix(opts.IdPSSOURL, "&") {
			sep = ""
		}
	}
	return &AuthnRequest{URL: opts.IdPSSOURL + sep + q, ID: id}, nil
}

// newAuthnRequestID returns "id-" and 40 hex digits read from r (nil =
// crypto/rand). The prefix keeps the ID an xs:ID (an NCName cannot start with
// a digit).
func newAuthnRequestID(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [20]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", &ConfigError{Field: "Rand", Reason: "cannot read 20 random bytes for the request ID", Err: err}
	}
	return "id-" + hex.EncodeToString(b[:]), nil
}

// validate checks the options and returns the signer, nil when unsigned.
func (o AuthnRequestOptions) validate() (crypto.Signer, error) {
	if err := checkAuthnEntityID("SP.EntityID", o.SP.EntityID); err != nil {
		return nil, err
	}
	if _, err := checkAuthnURL("SP.ACSURL", o.SP.ACSURL); err != nil {
		return nil, err
	}
	if o.SP.NameIDFormat != "" {
		if err := checkAuthnXMLChars("SP.NameIDFormat", o.SP.NameIDFormat); err != nil {
			return nil, err
		}
	}
	if err := checkAuthnIdPURL(o.IdPSSOURL); err != nil {
		return nil, err
	}
	if len(o.RelayState) > MaxRelayState {
		return nil, configErr("RelayState", "%d bytes; the HTTP-Redirect binding allows at most %d", len(o.RelayState), MaxRelayState)
	}
	if o.Now.IsZero() {
		return nil, configErr("Now", "required: the IssueInstant of the request")
	}
	if o.SigningKey == nil {
		return nil, nil
	}
	return authnSigner(o.SigningKey)
}

// authnSigner returns the RSA signer of a key pair, checking it matches its
// certificate when one is present.
func authnSigner(kp *tls.Certificate) (crypto.Signer, error) {
	const field = "SigningKey"
	if kp.PrivateKey == nil {
		return nil, configErr(field, "no private key")
	}
	signer, ok := kp.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, configErr(field, "private key of type %T cannot sign", kp.PrivateKey)
	}
	pub, ok := signer.Public().(*rsa.PublicKey)
	if !ok {
		return nil, configErr(field, "key of type %T: only RSA keys sign AuthnRequests", signer.Public())
	}
	if pub.N == nil {
		return nil, configErr(field, "RSA key without a modulus")
	}
	if pub.N.BitLen() < 2048 {
		return nil, configErr(field, "RSA key of %d bits; at least 2048 are required", pub.N.BitLen())
	}
	leaf := kp.Leaf
	if leaf == nil && len(kp.Certificate) > 0 {
		c, err := x509.ParseCertificate(kp.Certificate[0])
		if err != nil {
			return nil, &ConfigError{Field: field, Reason: "leaf certificate cannot be parsed", Err: err}
		}
		leaf = c
	}
	if leaf != nil && !pub.Equal(leaf.PublicKey) {
		return nil, configErr(field, "private key does not match the certificate")
	}
	return signer, nil
}

// requestXML serializes the AuthnRequest; etree escapes every value.
func (o AuthnRequestOptions) requestXML(id string) ([]byte, error) {
	format := o.SP.NameIDFormat
	if format == "" {
		format = NameIDFormatEmail
	}
	doc := etree.NewDocument()
	root := doc.CreateElement("samlp:AuthnRequest")
	root.CreateAttr("xmlns:samlp", nsProtocol)
	root.CreateAttr("xmlns:saml", nsAssertion)
	root.CreateAttr("ID", id)
	root.CreateAttr("Version", "2.0")
	root.CreateAttr("IssueInstant", o.Now.UTC().Format(authnInstant))
	root.CreateAttr("Destination", o.IdPSSOURL)
	root.CreateAttr("ProtocolBinding", bindingPOST)
	root.CreateAttr("AssertionConsumerServiceURL", o.SP.ACSURL)
	if o.ForceAuthn {
		root.CreateAttr("ForceAuthn", "true")
	}
	root.CreateElement("saml:Issuer").SetText(o.SP.EntityID)
	policy := root.CreateElement("samlp:NameIDPolicy")
	policy.CreateAttr("Format", format)
	policy.CreateAttr("AllowCreate", "true")
	b, err := doc.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("saml: serializing AuthnRequest: %w", err)
	}
	return b, nil
}

// deflateBase64 compresses with raw DEFLATE and encodes with standard base64.
func deflateBase64(b []byte) (string, error) {
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		return "", fmt.Errorf("saml: deflating AuthnRequest: %w", err)
	}
	if _, err := w.Write(b); err != nil {
		return "", fmt.Errorf("saml: deflating AuthnRequest: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("saml: deflating AuthnRequest: %w", err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// checkAuthnXMLChars refuses what XML 1.0 cannot carry unchanged: invalid
// UTF-8, characters outside the XML Char production and control characters
// (which attribute and line-end normalization would rewrite).
func checkAuthnXMLChars(field, s string) error {
	if !utf8.ValidString(s) {
		return configErr(field, "not valid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0xD800 && r <= 0xDFFF) || r == 0xFFFE || r == 0xFFFF {
			return configErr(field, "contains the character %U, which XML cannot carry", r)
		}
	}
	return nil
}

// checkAuthnEntityID checks the SP entity ID written as the Issuer.
func checkAuthnEntityID(field, s string) error {
	if s == "" {
		return configErr(field, "required")
	}
	if err := checkAuthnXMLChars(field, s); err != nil {
		return err
	}
	if strings.TrimSpace(s) != s {
		return configErr(field, "has leading or trailing white space")
	}
	return nil
}

// checkAuthnURL checks an absolute http or https URL carried in the XML.
func checkAuthnURL(field, s string) (*url.URL, error) {
	if s == "" {
		return nil, configErr(field, "required")
	}
	if err := checkAuthnXMLChars(field, s); err != nil {
		return nil, err
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, &ConfigError{Field: field, Reason: "not a URL", Err: err}
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, configErr(field, "%q is not an absolute http or https URL", s)
	}
	return u, nil
}

// checkAuthnIdPURL checks IdPSSOURL, which also becomes the redirect URL.
func checkAuthnIdPURL(s string) error {
	const field = "IdPSSOURL"
	u, err := checkAuthnURL(field, s)
	if err != nil {
		return err
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return configErr(field, "contains a space or a non-ASCII byte; percent-encode it")
		}
	}
	if strings.Contains(s, "#") {
		return configErr(field, "has a fragment, which would hide the request parameters")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return &ConfigError{Field: field, Reason: "query is not valid", Err: err}
	}
	for _, p := range []string{authnParamRequest, authnParamRelay, authnParamSigAlg, authnParamSig} {
		if _, ok := q[p]; ok {
			return configErr(field, "query already holds the %s parameter", p)
		}
	}
	return nil
}
