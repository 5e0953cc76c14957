package saml

import (
	"fmt"
	"log/slog"
)

// keyState prints whether a key is set, never the key.
func keyState(set bool) string {
	if set {
		return "[REDACTED]"
	}
	return "<nil>"
}

// String prints the config with the SP key pair redacted.
func (c ValidatorConfig) String() string {
	return fmt.Sprintf("saml.ValidatorConfig{SP: %+v, IdP.EntityID: %q, IdP.Certificates: %d, ClockSkew: %s, AllowIdPInitiated: %t, SPKeyPair: %s, MaxResponseSize: %d}",
		c.SP, c.IdP.EntityID, len(c.IdP.Certificates), c.ClockSkew, c.AllowIdPInitiated, keyState(c.SPKeyPair != nil), c.MaxResponseSize)
}

// GoString is String, so %#v does not print the key either.
func (c ValidatorConfig) GoString() string { return c.String() }

// LogValue keeps the key out of structured logs.
func (c ValidatorConfig) LogValue() slog.Value { return slog.StringValue(c.String()) }
