package sso

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/storeerr"
)

// Sentinel errors. Every error the package returns wraps one of them, so callers
// branch with errors.Is and log the full error for the operator.
var (
	// ErrInvalidResponse is wrapped by every SAML response validation failure.
	// The *saml.ValidationError it comes in names the check that failed. It
	// is saml.ErrInvalidResponse, the same value.
	ErrInvalidResponse = saml.ErrInvalidResponse
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
	// A configuration error found by package saml (an IdP certificate, the
	// SP metadata, an AuthnRequest) wraps saml.ErrInvalidConfig too.
	ErrInvalidConfig = errors.New("sso: invalid configuration")
)

// ConfigError says which configuration field is invalid and why. It wraps
// ErrInvalidConfig and, when there is one, the underlying cause. One that
// package saml found also wraps that *saml.ConfigError (and so
// saml.ErrInvalidConfig), with the same Field, Reason, Message and cause.
type ConfigError struct {
	Field  string // e.g. "SSOName", "IdP.Certificates[1]"
	Reason string // for the operator's log
	Err    error  // optional cause
	// Message, when set, is a plain sentence for the person who entered
	// the value; UserMessage falls back to one built from Field and Reason.
	Message string

	protocol *saml.ConfigError // the saml error it translates, if any
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

// Unwrap returns ErrInvalidConfig, the cause and the *saml.ConfigError it
// translates, for errors.Is and errors.As.
func (e *ConfigError) Unwrap() []error {
	errs := []error{ErrInvalidConfig}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if e.protocol != nil {
		errs = append(errs, e.protocol)
	}
	return errs
}

func configErr(field, format string, args ...any) *ConfigError {
	return &ConfigError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// samlConfigErr translates a configuration error of package saml into this
// package's: a *saml.ConfigError becomes a *ConfigError with the same Field,
// Reason, Message and cause that also wraps it, so that errors.Is matches
// both ErrInvalidConfig and saml.ErrInvalidConfig. Any other error (nil
// included) is returned as is. Every call into saml that can fail on
// configuration goes through it.
func samlConfigErr(err error) error {
	var se *saml.ConfigError
	if !errors.As(err, &se) {
		return err
	}
	return &ConfigError{Field: se.Field, Reason: se.Reason, Message: se.Message, Err: se.Err, protocol: se}
}

// fail returns the validation failure of check c with reason (for the
// checks the Service runs around the Validator: the posted form, the
// pending request, the browser binding).
func fail(c saml.Check, reason string) *saml.ValidationError {
	return &saml.ValidationError{Check: c, Reason: reason}
}

// wrapFail is fail with an underlying cause.
func wrapFail(c saml.Check, reason string, err error) *saml.ValidationError {
	return &saml.ValidationError{Check: c, Reason: reason, Err: err}
}

// randErr reports that Config.Rand failed: a *ConfigError naming Rand,
// which StatusCode answers with 500 (the server cannot make a secret; the
// request is not at fault).
func randErr(purpose string, err error) error {
	return &ConfigError{Field: "Rand", Reason: "cannot read random bytes " + purpose, Err: err}
}

// isRandErr reports whether err is a failure of Config.Rand: a *ConfigError
// naming the Rand field, the convention of this package (randErr) and of
// package saml (its request IDs), whose ConfigError samlConfigErr carries
// over with its Field.
func isRandErr(err error) bool {
	var ce *ConfigError
	return errors.As(err, &ce) && ce.Field == "Rand"
}
