package saml

import (
	"errors"
	"fmt"

	"github.com/orgsso/orgsso/internal/text"
)

// Sentinel errors. Every error the package returns wraps one of them, so
// callers branch with errors.Is and log the full error for the operator.
var (
	// ErrInvalidResponse is wrapped by every SAML response validation failure.
	// The *ValidationError it comes in names the check that failed.
	ErrInvalidResponse = errors.New("saml: invalid SAML response")
	// ErrInvalidConfig is wrapped by every configuration error: a
	// ValidatorConfig, an IdPConfig, IdP metadata, SP details, AuthnRequest
	// options. The *ConfigError it comes in names the field.
	ErrInvalidConfig = errors.New("saml: invalid configuration")
)

// ConfigError says which configuration field is invalid and why. It wraps
// ErrInvalidConfig and, when there is one, the underlying cause.
type ConfigError struct {
	Field  string // e.g. "SP.ACSURL", "IdP.Certificates[1]", "IdP metadata"
	Reason string // for the operator's log
	// Message, when set, is a plain sentence for the person who entered the
	// value (an expired certificate, a missing IdP field).
	Message string
	Err     error // optional cause
}

// Error implements error.
func (e *ConfigError) Error() string {
	msg := "saml: invalid " + e.Field + ": " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns ErrInvalidConfig and the cause, for errors.Is and errors.As.
func (e *ConfigError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidConfig, e.Err}
	}
	return []error{ErrInvalidConfig}
}

func configErr(field, format string, args ...any) *ConfigError {
	return &ConfigError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Check names one check of SAML response validation. A Check is itself an error
// value, so errors.Is(err, saml.CheckAudience) tells which check failed.
type Check string

// The checks Validator.Validate runs, roughly in order. CheckBinding and
// CheckIdentity are not run by the Validator: they name the checks a
// service provider makes around it (that the posting browser started the
// sign-in; that the identity values are acceptable), so that one Check type
// covers every reason a response is refused.
const (
	CheckSize           Check = "size"            // posted value over MaxResponseSize
	CheckEncoding       Check = "encoding"        // not base64
	CheckXML            Check = "xml"             // not well-formed, DTD, comments, too deep, does not survive a round trip
	CheckSchema         Check = "schema"          // not a SAML 2.0 Response, or a required element missing
	CheckStatus         Check = "status"          // status is not Success
	CheckAssertionCount Check = "assertion_count" // not exactly one assertion
	CheckDecryption     Check = "decryption"      // encrypted assertion cannot be decrypted
	CheckAlgorithm      Check = "algorithm"       // signature or digest algorithm below policy
	CheckSignature      Check = "signature"       // unsigned, not covering the assertion, untrusted key, bad value
	CheckCertificate    Check = "certificate"     // the trusted signing certificate is outside its validity
	CheckIssuer         Check = "issuer"          // Issuer is not the IdP entity ID
	CheckDestination    Check = "destination"     // Response Destination is not the ACS URL
	CheckRecipient      Check = "recipient"       // SubjectConfirmationData Recipient is not the ACS URL
	CheckAudience       Check = "audience"        // Audience is not the SP entity ID
	CheckNotYetValid    Check = "not_before"      // NotBefore is after now (+ skew)
	CheckExpired        Check = "not_on_or_after" // NotOnOrAfter is at or before now (- skew)
	CheckInResponseTo   Check = "in_response_to"  // unknown, missing or unsolicited
	CheckSubject        Check = "subject"         // no NameID, or no bearer subject confirmation
	CheckUnsolicited    Check = "unsolicited"     // no signed InResponseTo, and IdP-initiated sign-in is off
	CheckBinding        Check = "binding"         // the posting browser is not the one that started the sign-in
	CheckIdentity       Check = "identity"        // the identity values (email, names) are malformed or too long
)

// Error implements error, so a Check can be the target of errors.Is.
func (c Check) Error() string { return "saml: " + string(c) + " check failed" }

// ValidationError is the error of a failed response validation. It names the
// check, gives expected and actual values where they are safe to log, and wraps
// ErrInvalidResponse, the Check and the underlying cause:
//
//	var ve *saml.ValidationError
//	if errors.As(err, &ve) { log.Printf("SAML check %s failed", ve.Check) }
//	errors.Is(err, saml.ErrInvalidResponse) // true
//	errors.Is(err, saml.CheckAudience)      // true for an audience failure
type ValidationError struct {
	Check  Check
	Want   string // expected value, when safe to log
	Got    string // actual value: only ever a verified value, never unsigned input
	Reason string // what was wrong, for the operator
	Err    error  // underlying cause, may be nil
}

// maxQuoted bounds each Want and Got value in an error message.
const maxQuoted = 200

// Error implements error. Want and Got are cut to maxQuoted bytes.
func (e *ValidationError) Error() string {
	msg := "saml: invalid SAML response: " + string(e.Check) + " check failed"
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	if e.Want != "" || e.Got != "" {
		msg += fmt.Sprintf(" (want %q, got %q)", text.Truncate(e.Want, maxQuoted), text.Truncate(e.Got, maxQuoted))
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns ErrInvalidResponse, the Check and the cause.
func (e *ValidationError) Unwrap() []error {
	errs := []error{ErrInvalidResponse, e.Check}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

func fail(c Check, reason string) *ValidationError {
	return &ValidationError{Check: c, Reason: reason}
}

func failf(c Check, format string, args ...any) *ValidationError {
	return &ValidationError{Check: c, Reason: fmt.Sprintf(format, args...)}
}

func mismatch(c Check, what, want, got string) *ValidationError {
	return &ValidationError{Check: c, Reason: what + " does not match", Want: want, Got: got}
}

func wrapFail(c Check, reason string, err error) *ValidationError {
	return &ValidationError{Check: c, Reason: reason, Err: err}
}
