package ssotest

// This file is the IdP side of the SP-initiated AuthnRequest of the SAML 2.0
// HTTP-Redirect binding (saml-bindings-2.0-os, section 3.4): ParseAuthnRequest
// decodes, bounds and (optionally) verifies what an SP's NewAuthnRequest sent.
// The IdP's ServeHTTP is its caller; tests of an SP can call it too.

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/orgsso/orgsso/internal/safexml"
	"github.com/orgsso/orgsso/internal/text"
	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/sso"
)

// ErrInvalidRequest is wrapped by every error ParseAuthnRequest returns for a
// request it refuses: missing or repeated parameters, bad encoding, oversized
// or malformed XML, a missing, weak or wrong signature. The *RequestError it
// comes in names the query parameter at fault.
var ErrInvalidRequest = errors.New("ssotest: invalid AuthnRequest")

// Limits ParseAuthnRequest applies to untrusted input.
const (
	maxAuthnSAMLRequest = 64 << 10  // base64 characters of the SAMLRequest parameter
	maxAuthnInflated    = 256 << 10 // bytes of XML after inflating
	maxAuthnSignature   = 4 << 10   // base64 characters of the Signature parameter (RSA-16384 fits)
	maxAuthnSigAlg      = 256       // characters of the SigAlg parameter
	maxAuthnDepth       = 32        // element nesting; a real AuthnRequest stays under 6
	maxAuthnQuoted      = 64        // bytes of an untrusted value quoted in an error
)

// Names of the HTTP-Redirect binding's query parameters.
const (
	authnParamRequest = "SAMLRequest"
	authnParamRelay   = "RelayState"
	authnParamSigAlg  = "SigAlg"
	authnParamSig     = "Signature"
)

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
//	var re *ssotest.RequestError
//	if errors.As(err, &re) && re.Param == "Signature" { … }
type RequestError struct {
	Param  string // "SAMLRequest", "RelayState", "SigAlg" or "Signature"
	Reason string // what was wrong, for the operator
	Err    error  // underlying cause, may be nil
}

// Error implements error.
func (e *RequestError) Error() string {
	msg := "ssotest: invalid AuthnRequest: " + e.Param + ": " + e.Reason
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

// ParseAuthnRequest decodes the query of an HTTP-Redirect binding request. When
// spCert is non-nil the Signature must be present and verify with it
// (rsa-sha256 or stronger; rsa-sha1 refused); when nil, a present signature is
// not checked (Signed=false).
//
// The signed octets are rebuilt from the decoded values with url.QueryEscape,
// the encoding saml.NewAuthnRequest and most SPs use; a sender that percent-encodes
// differently (lowercase hex, say) fails verification. Only RSA certificates
// are supported (another key type is an *sso.ConfigError); the certificate's
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
			return nil, &sso.ConfigError{Field: "spCert", Reason: fmt.Sprintf("public key of type %T: only RSA keys are supported", spCert.PublicKey)}
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
	relayState, hasRelayState, err := authnQueryParam(query, authnParamRelay, saml.MaxRelayState)
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
	case saml.AlgRSASHA256:
		h = crypto.SHA256
	case saml.AlgRSASHA384:
		h = crypto.SHA384
	case saml.AlgRSASHA512:
		h = crypto.SHA512
	case saml.AlgRSASHA1:
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
