package oidc

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/orgsso/orgsso/internal/text"
)

// Sentinel errors. Every *ValidationError wraps exactly one of them, so a host
// can tell "what we were given is bad" from "talking to the provider failed"
// with errors.Is, and log the full error for the operator.
var (
	// ErrInvalidToken is wrapped by every failure of an ID token or of the
	// authorization callback: the sign-in is refused. The *ValidationError
	// it comes in names the Check that failed.
	ErrInvalidToken = errors.New("oidc: invalid ID token or callback")
	// ErrProvider is wrapped by every failure to talk to the provider:
	// discovery, the key set, the token endpoint (including a refused code),
	// the userinfo endpoint, or an error the provider sent to the callback.
	ErrProvider = errors.New("oidc: provider request failed")
	// ErrInvalidConfig is wrapped by every *ConfigError.
	ErrInvalidConfig = errors.New("oidc: invalid configuration")
)

// Check names one check of the relying-party protocol. A Check is itself an
// error value, so errors.Is(err, oidc.CheckNonce) tells which check failed.
type Check string

// The checks, roughly in the order they run.
const (
	// Callback and provider checks.
	CheckAuthorization Check = "authorization"  // the provider sent error=… to the callback, or the callback has no single code
	CheckState         Check = "state"          // callback state missing or not the one issued
	CheckDiscovery     Check = "discovery"      // discovery document unreachable, oversized, malformed, issuer mismatch, insecure endpoint
	CheckTokenExchange Check = "token_exchange" // token endpoint refused the code, failed, timed out, or sent no id_token
	CheckKeys          Check = "jwks"           // the key set could not be fetched or decoded
	CheckUserInfo      Check = "userinfo"       // userinfo call failed, or its sub is not the ID token's

	// ID token checks.
	CheckSize            Check = "size"           // token larger than the limit
	CheckMalformed       Check = "malformed"      // not a compact JWS, bad base64 or JSON, claims of the wrong type or read ambiguously
	CheckAlgorithm       Check = "algorithm"      // alg is none, HMAC, or not in Config.Algorithms
	CheckSignature       Check = "signature"      // no key of the provider's key set verifies the signature
	CheckIssuer          Check = "issuer"         // iss is not Config.Issuer, exactly
	CheckAudience        Check = "audience"       // aud does not contain Config.ClientID
	CheckAuthorizedParty Check = "azp"            // several audiences without azp, or azp is another client
	CheckExpiry          Check = "exp"            // exp missing, or at or before now - skew
	CheckIssuedAt        Check = "iat"            // iat missing, after now + skew, or older than MaxTokenAge
	CheckNotBefore       Check = "nbf"            // nbf after now + skew
	CheckNonce           Check = "nonce"          // nonce missing, or not the one issued
	CheckSubject         Check = "sub"            // sub missing or longer than 255 bytes
	CheckRoles           Check = "roles"          // roles claim not a string or array of strings, too many, too long
	CheckEmailVerified   Check = "email_verified" // Claims.VerifiedEmail: no email, or email_verified is not true
)

// Error implements error, so a Check can be the target of errors.Is.
func (c Check) Error() string { return "oidc: " + string(c) + " check failed" }

// provider reports whether the check is about talking to the provider
// (wrapping ErrProvider) rather than about what was received.
func (c Check) provider() bool {
	switch c {
	case CheckAuthorization, CheckDiscovery, CheckTokenExchange, CheckKeys, CheckUserInfo:
		return true
	}
	return false
}

// ValidationError is the error of a failed check. It names the check, gives
// expected and actual values where they are safe to log, and wraps
// ErrInvalidToken (or ErrProvider for provider checks), the Check and the
// underlying cause:
//
//	var ve *oidc.ValidationError
//	if errors.As(err, &ve) { log.Printf("OIDC check %s failed", ve.Check) }
//	errors.Is(err, oidc.ErrInvalidToken) // true for a token failure
//	errors.Is(err, oidc.CheckNonce)      // true for a nonce failure
//
// Got is a verified value, or a bounded cut of unverified input; Error cuts
// Want, Got and the cause's text, UTF-8 safely. No error ever carries the
// client secret, the authorization code or the code verifier.
type ValidationError struct {
	Check  Check
	Want   string // expected value, when safe to log
	Got    string // actual value, cut to a bounded length
	Reason string // what was wrong, for the operator
	Err    error  // underlying cause, may be nil
}

// maxQuoted bounds each Want and Got value in an error message; maxCause
// bounds the text of the cause.
const (
	maxQuoted = 200
	maxCause  = 512
)

// Error implements error.
func (e *ValidationError) Error() string {
	msg := "oidc: invalid ID token: "
	if e.Check.provider() {
		msg = "oidc: provider: "
	}
	msg += string(e.Check) + " check failed"
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	switch {
	case e.Want != "" && e.Got != "":
		msg += fmt.Sprintf(" (want %q, got %q)", text.Truncate(e.Want, maxQuoted), text.Truncate(e.Got, maxQuoted))
	case e.Want != "":
		msg += fmt.Sprintf(" (want %q)", text.Truncate(e.Want, maxQuoted))
	case e.Got != "":
		msg += fmt.Sprintf(" (got %q)", text.Truncate(e.Got, maxQuoted))
	}
	if e.Err != nil {
		msg += ": " + text.Truncate(e.Err.Error(), maxCause)
	}
	return msg
}

// Unwrap returns ErrInvalidToken or ErrProvider, the Check and the cause.
func (e *ValidationError) Unwrap() []error {
	sentinel := ErrInvalidToken
	if e.Check.provider() {
		sentinel = ErrProvider
	}
	errs := []error{sentinel, e.Check}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

func fail(c Check, reason string) *ValidationError {
	return &ValidationError{Check: c, Reason: reason}
}

func mismatch(c Check, what, want, got string) *ValidationError {
	return &ValidationError{Check: c, Reason: what + " does not match", Want: want, Got: text.Truncate(got, maxQuoted)}
}

func wrapFail(c Check, reason string, err error) *ValidationError {
	return &ValidationError{Check: c, Reason: reason, Err: err}
}

// ConfigError says which Config field is invalid and why. It wraps
// ErrInvalidConfig and, when there is one, the cause.
type ConfigError struct {
	Field  string // e.g. "Issuer", "Algorithms[1]"
	Reason string // for the operator
	Err    error  // optional cause
}

// Error implements error.
func (e *ConfigError) Error() string {
	msg := "oidc: invalid " + e.Field + ": " + e.Reason
	if e.Err != nil {
		msg += ": " + text.Truncate(e.Err.Error(), maxCause)
	}
	return msg
}

// Unwrap returns ErrInvalidConfig and the cause.
func (e *ConfigError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidConfig, e.Err}
	}
	return []error{ErrInvalidConfig}
}

func configErr(field, format string, args ...any) *ConfigError {
	return &ConfigError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

func indexed(field string, i int) string { return field + "[" + strconv.Itoa(i) + "]" }
