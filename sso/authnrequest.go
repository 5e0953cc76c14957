package sso

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
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/beevik/etree"

	"github.com/orgsso/orgsso/internal/safexml"
	"github.com/orgsso/orgsso/internal/text"
)

// This file implements the SP-initiated AuthnRequest of the SAML 2.0
// HTTP-Redirect binding (saml-bindings-2.0-os, section 3.4): NewAuthnRequest
// builds the redirect for the SP, ParseAuthnRequest decodes it for an IdP.

// ErrInvalidRequest is wrapped by every error ParseAuthnRequest returns for a
// request it refuses: missing or repeated parameters, bad encoding, oversized
// or malformed XML, a missing, weak or wrong signature. The *RequestError it
// comes in names the query parameter at fault.
var ErrInvalidRequest = errors.New("sso: invalid AuthnRequest")

// MaxRelayState is the longest RelayState, in bytes, the SAML bindings
// specification allows (section 3.4.3).
const MaxRelayState = 80

// Limits ParseAuthnRequest applies to untrusted input.
const (
	maxAuthnSAMLRequest = 64 << 10  // base64 characters of the SAMLRequest parameter
	maxAuthnInflated    = 256 << 10 // bytes of XML after inflating
	maxAuthnSignature   = 4 << 10   // base64 characters of the Signature parameter (RSA-16384 fits)
	maxAuthnSigAlg      = 256       // characters of the SigAlg parameter
	maxAuthnDepth       = 32        // element nesting; a real AuthnRequest stays under 6
	maxAuthnQuoted      = 64        // bytes of an untrusted value quoted in an error
)

// SAML names used by AuthnRequests. Distinct from the response validator's
// constants so the two files stay independent.
const (
	authnInstant      = "2006-01-02T15:04:05Z"
	authnParamRequest = "SAMLRequest"
	authnParamRelay   = "RelayState"
	authnParamSigAlg  = "SigAlg"
	authnParamSig     = "Signature"
)

// Redirect is where to send the browser to start a sign-in, and the ID of the
// AuthnRequest it carries (remembered to match the response's InResponseTo).
type Redirect struct {
	URL, RequestID string
	// Cookie binds the sign-in to the browser that started it. The host sets
	// it (http.SetCookie) on the response that redirects to URL; HandleACS
	// refuses an SP-initiated or test response posted without it. Nil from
	// NewAuthnRequest, which knows no browser.
	Cookie *http.Cookie
	// Choices, when set, replace URL: the organization has several
	// connections and the user picks one (see StartLoginWith). Cookie is
	// nil then.
	Choices []Choice
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

// AuthnRequest is a decoded AuthnRequest as an IdP sees it.
type AuthnRequest struct {
	ID, Issuer, Destination, ACSURL, ProtocolBinding, NameIDFormat, RelayState string

	IssueInstant time.Time // in UTC
	ForceAuthn   bool
	Signed       bool // SigAlg and Signature were present and verified
}

// RequestError is the error of a refused AuthnRequest. It names the query
// parameter at fault and wraps ErrInvalidRequest and, when there is one, the
// underlying cause:
//
//	var re *sso.RequestError
//	if errors.As(err, &re) && re.Param == "Signature" { … }
type RequestError struct {
	Param  string // "SAMLRequest", "RelayState", "SigAlg" or "Signature"
	Reason string // what was wrong, for the operator
	Err    error  // underlying cause, may be nil
}

// Error implements error.
func (e *RequestError) Error() string {
	msg := "sso: invalid AuthnRequest: " + e.Param + ": " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns ErrInvalidRequest and the cause, for errors.Is and errors.As.
func (e *RequestError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidRequest, e.Err}
	}
	return []error{ErrInvalidRequest}
}

func requestErr(param, format string, args ...any) *RequestError {
	return &RequestError{Param: param, Reason: fmt.Sprintf(format, args...)}
}

// NewAuthnRequest builds an AuthnRequest for the HTTP-Redirect binding and
// returns the URL to redirect the browser to, with the request's ID. The XML
// is deflated (raw DEFLATE, RFC 1951), base64-encoded and URL-encoded into the
// SAMLRequest query parameter, followed by RelayState when set and, with a
// SigningKey, SigAlg and Signature.
func NewAuthnRequest(opts AuthnRequestOptions) (*Redirect, error) {
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
	return &Redirect{URL: opts.IdPSSOURL + sep + q, RequestID: id}, nil
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
		return nil, fmt.Errorf("sso: serializing AuthnRequest: %w", err)
	}
	return b, nil
}

// deflateBase64 compresses with raw DEFLATE and encodes with standard base64.
func deflateBase64(b []byte) (string, error) {
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		return "", fmt.Errorf("sso: deflating AuthnRequest: %w", err)
	}
	if _, err := w.Write(b); err != nil {
		return "", fmt.Errorf("sso: deflating AuthnRequest: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("sso: deflating AuthnRequest: %w", err)
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

// ParseAuthnRequest decodes the query of an HTTP-Redirect binding request. When
// spCert is non-nil the Signature must be present and verify with it
// (rsa-sha256 or stronger; rsa-sha1 refused); when nil, a present signature is
// not checked (Signed=false).
//
// The signed octets are rebuilt from the decoded values with url.QueryEscape,
// the encoding NewAuthnRequest and most SPs use; a sender that percent-encodes
// differently (lowercase hex, say) fails verification. Only RSA certificates
// are supported (another key type is a *ConfigError); the certificate's
// validity period is not judged, as is usual for keys from SAML metadata.
//
// The request is bounded (64 KiB of base64, 256 KiB of XML once inflated,
// nesting, RelayState of 80 bytes); DTDs, non-UTF-8 encodings, repeated
// parameters, attributes or Issuers are refused. The root must be a SAML 2.0
// protocol AuthnRequest, Version 2.0, with an ID, an IssueInstant and an
// Issuer. Every refusal is a *RequestError wrapping ErrInvalidRequest.
func ParseAuthnRequest(query url.Values, spCert *x509.Certificate) (*AuthnRequest, error) {
	var spKey *rsa.PublicKey
	if spCert != nil {
		k, ok := spCert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return nil, configErr("spCert", "public key of type %T: only RSA keys are supported", spCert.PublicKey)
		}
		spKey = k
	}

	samlRequest, ok, err := authnQueryParam(query, authnParamRequest, maxAuthnSAMLRequest)
	if err != nil {
		return nil, err
	}
	if !ok || samlRequest == "" {
		return nil, requestErr(authnParamRequest, "missing")
	}
	relayState, hasRelayState, err := authnQueryParam(query, authnParamRelay, MaxRelayState)
	if err != nil {
		return nil, err
	}
	sigAlg, hasSigAlg, err := authnQueryParam(query, authnParamSigAlg, maxAuthnSigAlg)
	if err != nil {
		return nil, err
	}
	sig, hasSig, err := authnQueryParam(query, authnParamSig, maxAuthnSignature)
	if err != nil {
		return nil, err
	}

	// Verify before inflating: an unsigned or forged request costs no more.
	if spKey != nil {
		if !hasSigAlg {
			return nil, requestErr(authnParamSigAlg, "missing: the request is not signed")
		}
		if !hasSig {
			return nil, requestErr(authnParamSig, "missing: the request is not signed")
		}
		octets := authnParamRequest + "=" + url.QueryEscape(samlRequest)
		if hasRelayState {
			octets += "&" + authnParamRelay + "=" + url.QueryEscape(relayState)
		}
		octets += "&" + authnParamSigAlg + "=" + url.QueryEscape(sigAlg)
		if err := verifyAuthnSignature(spKey, sigAlg, sig, octets); err != nil {
			return nil, err
		}
	}

	xmlBytes, err := inflateAuthnRequest(samlRequest)
	if err != nil {
		return nil, err
	}
	req, err := parseAuthnRequestXML(xmlBytes)
	if err != nil {
		return nil, err
	}
	req.RelayState = relayState
	req.Signed = spKey != nil
	return req, nil
}

// authnQueryParam returns the single value of a query parameter, refusing a
// repeated or oversized one.
func authnQueryParam(q url.Values, name string, maxLen int) (string, bool, error) {
	vs, ok := q[name]
	if !ok {
		return "", false, nil
	}
	if len(vs) != 1 {
		return "", false, requestErr(name, "given %d times", len(vs))
	}
	if len(vs[0]) > maxLen {
		return "", false, requestErr(name, "%d bytes, more than the %d allowed", len(vs[0]), maxLen)
	}
	return vs[0], true, nil
}

// verifyAuthnSignature checks an HTTP-Redirect binding signature over octets.
func verifyAuthnSignature(key *rsa.PublicKey, sigAlg, sig, octets string) error {
	var h crypto.Hash
	switch sigAlg {
	case AlgRSASHA256:
		h = crypto.SHA256
	case AlgRSASHA384:
		h = crypto.SHA384
	case AlgRSASHA512:
		h = crypto.SHA512
	case AlgRSASHA1:
		return requestErr(authnParamSigAlg, "rsa-sha1 is refused; sign with rsa-sha256 or stronger")
	default:
		return requestErr(authnParamSigAlg, "algorithm %q is not supported; use rsa-sha256, rsa-sha384 or rsa-sha512", text.Truncate(sigAlg, maxAuthnQuoted))
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return &RequestError{Param: authnParamSig, Reason: "not base64", Err: err}
	}
	digest := h.New()
	digest.Write([]byte(octets))
	if err := rsa.VerifyPKCS1v15(key, h, digest.Sum(nil), raw); err != nil {
		return &RequestError{Param: authnParamSig, Reason: "does not verify with the SP certificate", Err: err}
	}
	return nil
}

// inflateAuthnRequest decodes base64 and inflates raw DEFLATE, bounding the
// output against deflate bombs.
func inflateAuthnRequest(s string) ([]byte, error) {
	compressed, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, &RequestError{Param: authnParamRequest, Reason: "not base64", Err: err}
	}
	zr := flate.NewReader(bytes.NewReader(compressed))
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, maxAuthnInflated+1))
	if err != nil {
		return nil, &RequestError{Param: authnParamRequest, Reason: "not raw DEFLATE data", Err: err}
	}
	if len(out) > maxAuthnInflated {
		return nil, requestErr(authnParamRequest, "inflates to more than %d bytes", maxAuthnInflated)
	}
	return out, nil
}

// parseAuthnRequestXML parses and checks the AuthnRequest document with the
// strict reader (comments and processing instructions tolerated, as the
// request is not signed XML-wise and nothing reads across them).
func parseAuthnRequestXML(b []byte) (*AuthnRequest, error) {
	const param = authnParamRequest
	doc, err := safexml.Parse(b, safexml.Options{MaxDepth: maxAuthnDepth, AllowComments: true})
	if err != nil {
		var se *safexml.Error
		if errors.As(err, &se) {
			return nil, requestErr(param, "%s", se.Reason)
		}
		return nil, &RequestError{Param: param, Reason: "not well-formed XML", Err: err}
	}
	root := doc.Root()
	if !doc.Is(root, nsProtocol, "AuthnRequest") {
		return nil, requestErr(param, "document element is {%s}%s, want a SAML 2.0 protocol AuthnRequest", text.Truncate(doc.Namespace(root), maxAuthnQuoted), text.Truncate(root.Tag, maxAuthnQuoted))
	}

	req := &AuthnRequest{}
	attr := func(name string) string { return safexml.AttrValue(root, name) }
	if v := attr("Version"); v != "2.0" {
		return nil, requestErr(param, "Version is %q, want \"2.0\"", text.Truncate(v, maxAuthnQuoted))
	}
	req.ID = attr("ID")
	if req.ID == "" || strings.ContainsFunc(req.ID, unicode.IsSpace) {
		return nil, requestErr(param, "ID %q is empty or has white space", text.Truncate(req.ID, maxAuthnQuoted))
	}
	instant := attr("IssueInstant")
	t, err := time.Parse(time.RFC3339Nano, instant)
	if err != nil {
		return nil, requestErr(param, "IssueInstant %q is not an xs:dateTime with a time zone", text.Truncate(instant, maxAuthnQuoted))
	}
	req.IssueInstant = t.UTC()
	req.Destination = attr("Destination")
	req.ACSURL = attr("AssertionConsumerServiceURL")
	req.ProtocolBinding = attr("ProtocolBinding")
	switch v := strings.TrimSpace(attr("ForceAuthn")); v {
	case "", "false", "0":
	case "true", "1":
		req.ForceAuthn = true
	default:
		return nil, requestErr(param, "ForceAuthn %q is not an xs:boolean", text.Truncate(v, maxAuthnQuoted))
	}

	switch doc.Count(root, nsAssertion, "Issuer") {
	case 0:
		return nil, requestErr(param, "no saml:Issuer, which the Web Browser SSO profile requires")
	case 1:
	default:
		return nil, requestErr(param, "more than one Issuer")
	}
	if doc.Count(root, nsProtocol, "NameIDPolicy") > 1 {
		return nil, requestErr(param, "more than one NameIDPolicy")
	}
	issuer, ok := safexml.TrimmedText(doc.Child(root, nsAssertion, "Issuer"))
	if !ok {
		return nil, requestErr(param, "Issuer holds an element")
	}
	req.Issuer = issuer
	if req.Issuer == "" {
		return nil, requestErr(param, "Issuer is empty")
	}
	if policy := doc.Child(root, nsProtocol, "NameIDPolicy"); policy != nil {
		req.NameIDFormat = safexml.AttrValue(policy, "Format")
	}
	return req, nil
}
