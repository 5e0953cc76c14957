package sso

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/orgsso/orgsso/internal/text"
)

// SSO name length bounds, in bytes (an SSO name is ASCII).
const (
	MinSSONameLength = 2
	MaxSSONameLength = 63
)

// The rules an SSO name follows, one sentinel each. ValidateSSOName returns a
// *ConfigError that wraps ErrInvalidConfig and exactly one of these, so a caller
// can tell the user which rule the name breaks:
//
//	errors.Is(err, sso.ErrSSONameCharacters) // e.g. "Acme" has an upper-case letter
var (
	// ErrSSONameLength: the name is shorter than MinSSONameLength or longer
	// than MaxSSONameLength.
	ErrSSONameLength = errors.New("sso: SSO name must be 2 to 63 characters long")
	// ErrSSONameCharacters: the name has a character other than a lowercase
	// ASCII letter, a digit or a hyphen.
	ErrSSONameCharacters = errors.New("sso: SSO name may contain only lowercase letters a-z, digits and hyphens")
	// ErrSSONameEdgeHyphen: the name starts or ends with a hyphen.
	ErrSSONameEdgeHyphen = errors.New("sso: SSO name must not start or end with a hyphen")
	// ErrSSONameDoubleHyphen: the name has two hyphens in a row.
	ErrSSONameDoubleHyphen = errors.New("sso: SSO name must not contain two hyphens in a row")
)

// ValidateSSOName reports whether name can be an organization's SSO name: 2 to
// 63 lowercase ASCII letters, digits and hyphens, neither starting nor ending
// with a hyphen and without two hyphens in a row. The name appears in URLs
// (/sso/{name}/acs), so it is never normalized: "Acme" is refused, not lowered.
//
// The error is a *ConfigError with Field "SSOName" that wraps ErrInvalidConfig
// and the sentinel of the broken rule (ErrSSONameLength, ErrSSONameCharacters,
// ErrSSONameEdgeHyphen or ErrSSONameDoubleHyphen). Rules are checked in that
// order; the first broken one is reported.
func ValidateSSOName(name string) error {
	bad := func(rule error, format string, args ...any) error {
		return &ConfigError{Field: "SSOName", Reason: fmt.Sprintf(format, args...), Err: rule, Message: ssoNameMessages[rule]}
	}
	if n := len(name); n < MinSSONameLength || n > MaxSSONameLength {
		if n == 0 {
			return bad(ErrSSONameLength, "is empty")
		}
		return bad(ErrSSONameLength, "%s has length %d", quoteSSOName(name), n)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '-' {
			continue
		}
		return bad(ErrSSONameCharacters, "%s has %s at position %d", quoteSSOName(name), ssoNameCharAt(name, i), i)
	}
	if name[0] == '-' || name[len(name)-1] == '-' {
		return bad(ErrSSONameEdgeHyphen, "%s", quoteSSOName(name))
	}
	if i := strings.Index(name, "--"); i >= 0 {
		return bad(ErrSSONameDoubleHyphen, "%s has \"--\" at position %d", quoteSSOName(name), i)
	}
	return nil
}

// ssoNameMessages are the plain sentences of the SSO name rules.
var ssoNameMessages = map[error]string{
	ErrSSONameLength:       "The SSO name must be 2 to 63 characters long.",
	ErrSSONameCharacters:   "The SSO name may contain only lowercase letters a-z, digits and hyphens.",
	ErrSSONameEdgeHyphen:   "The SSO name must not start or end with a hyphen.",
	ErrSSONameDoubleHyphen: "The SSO name must not contain two hyphens in a row.",
}

// quoteSSOName quotes a user-supplied name for an error message, cut short so
// a huge input cannot flood the operator's log.
func quoteSSOName(name string) string {
	return strconv.Quote(text.Truncate(name, 2*MaxSSONameLength))
}

// ssoNameCharAt quotes the character at byte offset i of s, which starts a
// rune (everything before it is ASCII); an invalid UTF-8 byte is shown in hex.
func ssoNameCharAt(s string, i int) string {
	r, size := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size <= 1 {
		return fmt.Sprintf("byte 0x%02x", s[i])
	}
	return strconv.QuoteRune(r)
}
