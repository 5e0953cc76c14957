package sso

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/orgsso/orgsso/internal/text"
	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/storeerr"
)

// Sentinel errors. Every error the package returns wraps one of them, so callers
// branch with errors.Is and log the full error for the operator.
var (
	// ErrInvalidResponse is wrapped by every SAML response validation failure.
	// The *ValidationError it comes in names the check that failed.
	ErrInvalidResponse = errors.New("sso: invalid SAML response")
	// ErrReplay: the assertion was already used (or the request it answers was).
	ErrReplay = errors.New("sso: assertion replayed")
	// ErrUnknownOrganization: no organization has that SSO name.
	ErrUnknownOrganization = errors.New("sso: unknown organization")
	// ErrSSODisabled: the organization has not enabled SSO.
	ErrSSODisabled = errors.New("sso: SSO is not enabled for this organization")
	// ErrAccessDenied: the identity is valid but the organization's rules refuse it.
	ErrAccessDenied = errors.New("sso: access denied")
	// ErrNotOwner: the action is reserved to the organization's owner.
	ErrNotOwner = errors.New("sso: only the organization owner may do this")
	// ErrNotFound is what every Store returns for an unknown key. It is the
	// same value as session.ErrNotFound (both are storeerr.ErrNotFound).
	ErrNotFound = storeerr.ErrNotFound
	// ErrDuplicateID is what every Store returns for a pending request whose
	// ID it already holds (storeerr.ErrDuplicateID, session.ErrDuplicateID).
	ErrDuplicateID = storeerr.ErrDuplicateID
	// ErrSSONameTaken: another organization already uses the SSO name.
	ErrSSONameTaken = errors.New("sso: SSO name already taken")
	// ErrConflict: a concurrent change won; nothing was saved. Load the
	// organization again and redo the edit.
	ErrConflict = errors.New("sso: the organization was changed concurrently; nothing was saved")
	// ErrMemberExists: the organization already has a member with that
	// email (AddMember, AdminStore.CreateMember).
	ErrMemberExists = errors.New("sso: the organization already has a member with that email")
	// ErrUserIDTaken: the organization already has a member with that user
	// ID under another email (AdminStore.CreateMember): one user, one
	// membership.
	ErrUserIDTaken = errors.New("sso: the user is already a member of the organization under another email")
	// ErrNotAdmin: the action is reserved to the organization's owner and
	// admins.
	ErrNotAdmin = errors.New("sso: only the organization owner or an admin may do this")
	// ErrNotAllowed: the organization's state rules refuse the change (the
	// SSO name of an enabled organization, Enabled outside Enable/Disable,
	// roles that role mapping owns, removing the owner, …). It comes in a
	// *RuleError that names the rule.
	ErrNotAllowed = errors.New("sso: the organization's rules do not allow this change")
	// ErrUnavailable: the store failed, timed out or broke its contract; the
	// request may succeed later (HTTP 503). It is never a "no": no
	// organization, member or session was found missing.
	ErrUnavailable = errors.New("sso: store unavailable")
	// ErrInvalidConfig is wrapped by every configuration error: an invalid SSO
	// name, organization, IdP configuration, IdP metadata or Service config.
	ErrInvalidConfig = errors.New("sso: invalid configuration")
)

// ConfigError says which configuration field is invalid and why. It wraps
// ErrInvalidConfig and, when there is one, the underlying cause.
type ConfigError struct {
	Field  string // e.g. "SSOName", "IdP.Certificates[1]"
	Reason string // for the operator's log
	Err    error  // optional cause
	// Message, when set, is a plain sentence for the person who entered
	// the value; UserMessage falls back to one built from Field and Reason.
	Message string
}

// UserMessage returns a plain-language sentence a host can show as is next
// to the field in error: no Go error text, positions counted from 1
// ("certificate 2", "mapping 1").
func (e *ConfigError) UserMessage() string {
	if e.Message != "" {
		return e.Message
	}
	var me *rolemap.MappingError
	if errors.As(e.Err, &me) {
		return "Role mapping " + strconv.Itoa(me.Index+1) + ": " + sentence(me.Reason)
	}
	return fieldLabel(e.Field) + " " + sentence(e.Reason)
}

// fieldLabel names a configuration field for people: "IdP.Certificates[1]"
// is "IdP certificate 2".
func fieldLabel(field string) string {
	if rest, ok := strings.CutPrefix(field, "Connections["); ok {
		// "Connections[1].SAML.Certificates[0]" is "Connection 2: IdP certificate 1".
		idx, sub, _ := strings.Cut(rest, "]")
		n, err := strconv.Atoi(idx)
		if err != nil {
			return "A connection"
		}
		sub = strings.TrimPrefix(sub, ".")
		if r, ok := strings.CutPrefix(sub, "SAML"); ok {
			sub = "IdP" + r
		}
		if sub == "" {
			return "Connection " + strconv.Itoa(n+1)
		}
		return "Connection " + strconv.Itoa(n+1) + ": " + fieldLabel(sub)
	}
	base, idx, hasIdx := strings.Cut(field, "[")
	label, ok := fieldLabels[base]
	if !ok {
		label = base
	}
	if hasIdx {
		if n, err := strconv.Atoi(strings.TrimSuffix(idx, "]")); err == nil {
			label += " " + strconv.Itoa(n+1)
		}
	}
	return label
}

var fieldLabels = map[string]string{
	"SSOName":                "The SSO name",
	"SessionTimeout":         "The session timeout",
	"RoleMapping":            "The role mapping",
	"IdP.EntityID":           "The IdP entity ID",
	"IdP.SSOURL":             "The IdP single sign-on URL",
	"IdP.Certificates":       "IdP certificate",
	"IdP.SignatureAlgorithm": "The signature algorithm",
	"IdPMetadata":            "The IdP metadata",
}

// sentence ends a reason with a full stop.
func sentence(reason string) string {
	reason = strings.TrimSpace(reason)
	if reason == "" || strings.HasSuffix(reason, ".") {
		return reason
	}
	return reason + "."
}

// Error implements error.
func (e *ConfigError) Error() string {
	msg := "sso: invalid " + e.Field + ": " + e.Reason
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
// value, so errors.Is(err, sso.CheckAudience) tells which check failed.
type Check string

// The checks Validator.Validate runs, roughly in order.
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
func (c Check) Error() string { return "sso: " + string(c) + " check failed" }

// ValidationError is the error of a failed response validation. It names the
// check, gives expected and actual values where they are safe to log, and wraps
// ErrInvalidResponse, the Check and the underlying cause:
//
//	var ve *sso.ValidationError
//	if errors.As(err, &ve) { log.Printf("SAML check %s failed", ve.Check) }
//	errors.Is(err, sso.ErrInvalidResponse) // true
//	errors.Is(err, sso.CheckAudience)      // true for an audience failure
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
	msg := "sso: invalid SAML response: " + string(e.Check) + " check failed"
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
