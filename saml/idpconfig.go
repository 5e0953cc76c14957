package saml

import (
	"net/url"
	"strings"
	"time"
)

// Validate checks c at the current time; see ValidateAt.
func (c IdPConfig) Validate() error { return c.ValidateAt(time.Now()) }

// ValidateAt checks c as a complete IdP configuration (what a Validator and
// an AuthnRequest need), judging certificate validity at now:
//
//   - EntityID, the Issuer every response must carry, is set (metadata import
//     supplies it) and not blank: without it any Issuer would be accepted;
//   - SSOURL is an absolute https URL (http only for localhost, 127.0.0.1 and
//     ::1, for development), without user credentials;
//   - there is at least one certificate, and each is one PEM X.509 certificate
//     valid at now (an expired one is an error that says so);
//   - SignatureAlgorithm is "" (the default policy) or one of the Alg* URIs.
//
// The first problem found is returned as a *ConfigError wrapping
// ErrInvalidConfig, with Field naming it, e.g. "IdP.Certificates[1]", and a
// Message for the person who entered it when there is a plain one to give.
func (c IdPConfig) ValidateAt(now time.Time) error { return c.check(now, true) }

// ValidatePartial checks the fields of c that are set, as ValidateAt would,
// without requiring the others: an incomplete configuration (an
// draft of one) may lack any field, but every one it has must be
// well-formed. Certificates must parse; their validity period is not judged.
func (c IdPConfig) ValidatePartial() error { return c.check(time.Time{}, false) }

// check validates c. complete requires every field and judges certificate
// validity at now; otherwise only the fields that are set are checked, and
// certificates need only parse.
func (c IdPConfig) check(now time.Time, complete bool) error {
	if c.EntityID != "" && strings.TrimSpace(c.EntityID) == "" {
		return configErr("IdP.EntityID", "is blank")
	}
	switch {
	case c.SSOURL != "":
		if err := checkIdPSSOURL("IdP.SSOURL", c.SSOURL); err != nil {
			return err
		}
	case complete:
		e := configErr("IdP.SSOURL", "is empty: the IdP's single sign-on URL is required")
		e.Message = "Enter the IdP's single sign-on URL."
		return e
	}
	if complete && len(c.Certificates) == 0 {
		e := configErr("IdP.Certificates", "no IdP signing certificate configured")
		e.Message = "Add the IdP's signing certificate."
		return e
	}
	for i := range c.Certificates {
		cert, err := c.parseCertificate(i)
		if err != nil {
			return err
		}
		if complete {
			field, label := certField(i)
			if err := checkCertificateTime(field, label, cert, now); err != nil {
				return err
			}
		}
	}
	if complete && c.EntityID == "" {
		e := configErr("IdP.EntityID", "is empty: the IdP's entity ID (the Issuer of its responses) is required")
		e.Message = "Enter the IdP's entity ID (the issuer of its responses), or import its metadata."
		return e
	}
	if _, err := policyFor(c.SignatureAlgorithm); err != nil {
		return &ConfigError{Field: "IdP.SignatureAlgorithm", Reason: "unknown algorithm", Err: err}
	}
	return nil
}

// checkIdPSSOURL reports whether raw is an acceptable IdP single sign-on URL:
// absolute, https (or http to a loopback host), a host, no user credentials.
func checkIdPSSOURL(field, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return &ConfigError{Field: field, Reason: "is not a URL", Err: err}
	}
	if !u.IsAbs() || u.Opaque != "" || u.Hostname() == "" {
		return configErr(field, "%q is not an absolute URL with a host", raw)
	}
	if u.User != nil {
		return configErr(field, "must not contain user credentials")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopbackHostname(u.Hostname()) {
			return configErr(field, "must use https (http is allowed only for localhost, 127.0.0.1 and ::1)")
		}
	default:
		return configErr(field, "scheme %q is not https", u.Scheme)
	}
	return nil
}

// isLoopbackHostname reports whether host (as from url.URL.Hostname) names the
// local machine: localhost, 127.0.0.1 or ::1.
func isLoopbackHostname(host string) bool {
	return strings.EqualFold(host, "localhost") || host == "127.0.0.1" || host == "::1"
}
