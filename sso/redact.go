package sso

import (
	"fmt"
	"log/slog"
)

const redacted = "[REDACTED]"

func keyState(set bool) string {
	if set {
		return redacted
	}
	return "<nil>"
}

// String prints the config with the SP key pair and the secret key redacted.
func (c Config) String() string {
	return fmt.Sprintf("sso.Config{BaseURL: %q, SPKeyPair: %s, SecretKey: %s, ClockSkew: %s, MaxResponseSize: %d, RequestTTL: %s}",
		c.BaseURL, keyState(c.SPKeyPair != nil), keyState(c.SecretKey != nil), c.ClockSkew, c.MaxResponseSize, c.RequestTTL)
}

// GoString is String, so %#v does not print the key either.
func (c Config) GoString() string { return c.String() }

// LogValue keeps the key out of structured logs.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// String prints the result without the session token.
func (r *Result) String() string {
	if r == nil {
		return "<nil>"
	}
	tok := "<none>"
	if r.Token != "" {
		tok = redacted
	}
	org := ""
	if r.Org != nil {
		org = r.Org.ID
	}
	return fmt.Sprintf("sso.Result{Org: %q, Email: %q, Test: %t, MFA: %t, ReturnTo: %q, Token: %s}", org, r.Identity.Email, r.Test != nil, r.MFA != nil, r.ReturnTo, tok)
}

// GoString is String, so %#v does not print the token either.
func (r *Result) GoString() string { return r.String() }

// LogValue keeps the token out of structured logs.
func (r *Result) LogValue() slog.Value { return slog.StringValue(r.String()) }
