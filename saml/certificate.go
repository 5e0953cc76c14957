package saml

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/orgsso/orgsso/internal/text"
)

// CertificateExpiryWarning is how long before a certificate's NotAfter
// IdPConfig.Warnings starts to warn about it.
const CertificateExpiryWarning = 30 * 24 * time.Hour

// certField names certificate i of an IdPConfig: the configuration field,
// for operators ("IdP.Certificates[0]"), and a label for people, counted
// from 1 ("IdP certificate 1").
func certField(i int) (field, label string) {
	return "IdP.Certificates[" + strconv.Itoa(i) + "]", "IdP certificate " + strconv.Itoa(i+1)
}

// parseCertificate parses c.Certificates[i] with parseCertificatePEM.
func (c IdPConfig) parseCertificate(i int) (*x509.Certificate, error) {
	field, _ := certField(i)
	return parseCertificatePEM(field, c.Certificates[i])
}

// CheckCertificate parses c.Certificates[i] and checks that it is valid at
// now, as ValidateAt does for each certificate, and returns it. An error is a
// *ConfigError for "IdP.Certificates[i]" (with a Message for people when the
// certificate has expired or is not valid yet). i must be an index of
// c.Certificates.
func (c IdPConfig) CheckCertificate(i int, now time.Time) (*x509.Certificate, error) {
	cert, err := c.parseCertificate(i)
	if err != nil {
		return nil, err
	}
	field, label := certField(i)
	if err := checkCertificateTime(field, label, cert, now); err != nil {
		return nil, err
	}
	return cert, nil
}

// parseCertificatePEM parses one PEM CERTIFICATE block (trailing text allowed
// only if it is white space) with parseCertificateDER. field names the config
// field for errors.
func parseCertificatePEM(field, s string) (*x509.Certificate, error) {
	block, rest := pem.Decode([]byte(s))
	if block == nil {
		return nil, configErr(field, "not a PEM block")
	}
	if block.Type != "CERTIFICATE" {
		return nil, configErr(field, "PEM block is %q, want CERTIFICATE", text.Truncate(block.Type, 64))
	}
	if len(trimSpaceBytes(rest)) != 0 {
		return nil, configErr(field, "more than one PEM block; give each certificate separately")
	}
	return parseCertificateDER(field, block.Bytes)
}

// parseCertificateDER is parseCertificate with its error as a *ConfigError
// for field.
func parseCertificateDER(field string, der []byte) (*x509.Certificate, error) {
	cert, err := parseCertificate(der)
	if err != nil {
		return nil, &ConfigError{Field: field, Reason: "not an X.509 certificate", Err: err}
	}
	return cert, nil
}

// parseCertificate parses one DER X.509 certificate the way
// x509.ParseCertificate does, with one exception: a certificate whose serial
// number is negative is accepted. RFC 5280 forbids negative serials and Go
// refuses them since 1.23 (GODEBUG x509negativeserial=1 would bring them
// back, but for the whole process), yet real IdP certificates have them
// (issued by CAs and tools that wrote a random serial as a signed number).
// IdPConfig.Warnings reports such a certificate. Nothing panics on malformed
// input.
func parseCertificate(der []byte) (*x509.Certificate, error) {
	cert, err := x509.ParseCertificate(der)
	if err == nil {
		return cert, nil
	}
	c, ferr := parseNegativeSerialCertificate(der)
	switch {
	case ferr == nil:
		return c, nil
	case errors.Is(ferr, errNoNegativeSerial):
		return nil, err
	default:
		// The serial is negative, and something else is wrong too: that is
		// what the operator must hear about.
		return nil, ferr
	}
}

// errNoNegativeSerial: parseNegativeSerialCertificate was given something
// that is not a certificate with a negative serial number (malformed up to
// and including the serial, or a serial of zero or more), so a failure of
// x509.ParseCertificate on it has another cause.
var errNoNegativeSerial = errors.New("not a certificate with a negative serial number")

// parseNegativeSerialCertificate parses a DER certificate whose serial number
// is negative. It splits the outer Certificate and the TBSCertificate SEQUENCEs
// (the outer one must span all of der), reads the optional version and the
// serial INTEGER (minimally encoded, negative), and hands a copy with the
// serial replaced by 1 to x509.ParseCertificate, so every other field (names,
// validity, SubjectPublicKeyInfo, extensions, signature algorithm) is read and
// checked by the same parser as any other certificate. The result then gets
// the real serial number and the original DER back in Raw and
// RawTBSCertificate, which is what a signature over the TBSCertificate and a
// comparison with a certificate in KeyInfo use. der must hold the certificate
// and nothing else.
//
// Errors up to and including the serial number wrap errNoNegativeSerial;
// after it, they are x509.ParseCertificate's.
func parseNegativeSerialCertificate(der []byte) (*x509.Certificate, error) {
	var outer asn1.RawValue
	trailing, err := asn1.Unmarshal(der, &outer)
	if err != nil {
		return nil, noNegativeSerial("malformed certificate", err)
	}
	if !isSequence(outer) {
		return nil, noNegativeSerial("certificate is not a SEQUENCE", nil)
	}
	var tbs asn1.RawValue
	afterTBS, err := asn1.Unmarshal(outer.Bytes, &tbs)
	if err != nil {
		return nil, noNegativeSerial("malformed TBSCertificate", err)
	}
	if !isSequence(tbs) {
		return nil, noNegativeSerial("TBSCertificate is not a SEQUENCE", nil)
	}

	var el asn1.RawValue
	rest, err := asn1.Unmarshal(tbs.Bytes, &el)
	if err != nil {
		return nil, noNegativeSerial("malformed TBSCertificate", err)
	}
	var version []byte // [0] EXPLICIT Version, absent for v1
	if el.Class == asn1.ClassContextSpecific && el.Tag == 0 && el.IsCompound {
		version = el.FullBytes
		if rest, err = asn1.Unmarshal(rest, &el); err != nil {
			return nil, noNegativeSerial("malformed TBSCertificate", err)
		}
	}
	if el.Class != asn1.ClassUniversal || el.Tag != asn1.TagInteger || el.IsCompound {
		return nil, noNegativeSerial("TBSCertificate has no serial number INTEGER", nil)
	}
	var serial *big.Int
	if _, err := asn1.Unmarshal(el.FullBytes, &serial); err != nil {
		return nil, noNegativeSerial("malformed serial number", err)
	}
	if serial.Sign() >= 0 {
		return nil, noNegativeSerial("serial number is not negative", nil)
	}
	if len(trailing) != 0 {
		return nil, fmt.Errorf("%d bytes of trailing data after the certificate", len(trailing))
	}

	// The DER INTEGER 1 in place of the serial, so that x509 parses the rest.
	positiveSerial := []byte{asn1.TagInteger, 1, 1}
	body := make([]byte, 0, len(version)+len(positiveSerial)+len(rest))
	body = append(append(append(body, version...), positiveSerial...), rest...)
	patchedTBS, err := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: body})
	if err != nil {
		return nil, err
	}
	patched, err := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true,
		Bytes: append(patchedTBS, afterTBS...)})
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(patched)
	if err != nil {
		return nil, err
	}
	cert.Raw = der
	cert.RawTBSCertificate = tbs.FullBytes
	cert.SerialNumber = serial
	return cert, nil
}

// noNegativeSerial is an error wrapping errNoNegativeSerial that says why,
// with the cause when there is one.
func noNegativeSerial(reason string, cause error) error {
	if cause != nil {
		return fmt.Errorf("%w: %s: %w", errNoNegativeSerial, reason, cause)
	}
	return fmt.Errorf("%w: %s", errNoNegativeSerial, reason)
}

// isSequence reports whether v is a constructed universal SEQUENCE.
func isSequence(v asn1.RawValue) bool {
	return v.Class == asn1.ClassUniversal && v.Tag == asn1.TagSequence && v.IsCompound
}

// checkCertificateTime reports a certificate outside its validity at now;
// field names it for operators, label for people.
func checkCertificateTime(field, label string, cert *x509.Certificate, now time.Time) error {
	if now.After(cert.NotAfter) {
		e := configErr(field, "certificate expired on %s (now %s)", cert.NotAfter.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		e.Message = label + " expired on " + cert.NotAfter.UTC().Format(time.DateOnly) + ": paste the IdP's current signing certificate."
		return e
	}
	if now.Before(cert.NotBefore) {
		e := configErr(field, "certificate is not valid until %s (now %s)", cert.NotBefore.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		e.Message = label + " is not valid until " + cert.NotBefore.UTC().Format(time.DateOnly) + ": use the IdP's current signing certificate."
		return e
	}
	return nil
}

// Warnings returns what an operator should fix in c although c is accepted,
// judged at now, one sentence per finding, each starting with the field it is
// about, naming it for people ("IdP certificate 1: …", counted from 1):
//
//   - a certificate with a negative serial number, which RFC 5280 forbids and
//     Go's crypto/x509 refuses: it is accepted, but the IdP should replace
//     it at its next certificate rotation;
//   - a certificate that expires within 30 days of now (or has expired, or is
//     not valid yet): the SP must add the IdP's next certificate
//     before its IdP switches, or sign-in stops.
//
// Warnings never fails: what makes c invalid (a certificate that does not
// parse, say) is ValidateAt's to report, and such entries are skipped here.
// The result is nil when there is nothing to say. A host can show it on the
// settings page of the IdP configuration.
func (c IdPConfig) Warnings(now time.Time) []string {
	var out []string
	for i := range c.Certificates {
		cert, err := c.parseCertificate(i)
		if err != nil {
			continue
		}
		_, field := certField(i) // for people: "IdP certificate 1"
		if cert.SerialNumber != nil && cert.SerialNumber.Sign() < 0 {
			out = append(out, field+": the certificate has a negative serial number, which RFC 5280 forbids"+
				" and many SAML libraries refuse; it is accepted here, but ask the IdP to replace it at its next certificate rotation")
		}
		switch notAfter := cert.NotAfter.UTC().Format(time.DateOnly); {
		case now.After(cert.NotAfter):
			out = append(out, field+": the certificate expired on "+notAfter+"; add the IdP's current signing certificate")
		case now.Before(cert.NotBefore):
			out = append(out, field+": the certificate is not valid until "+cert.NotBefore.UTC().Format(time.DateOnly)+
				"; signatures made with it are refused until then")
		case cert.NotAfter.Sub(now) < CertificateExpiryWarning:
			in := "less than a day"
			switch days := int(cert.NotAfter.Sub(now) / (24 * time.Hour)); {
			case days == 1:
				in = "1 day"
			case days > 1:
				in = strconv.Itoa(days) + " days"
			}
			out = append(out, field+": the certificate expires on "+notAfter+" (in "+in+
				"); add the IdP's next signing certificate before then, or sign-in stops")
		}
	}
	return out
}
