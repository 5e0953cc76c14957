package saml

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"
)

// Validator checks SAML responses for one IdP and SP pair.
// Build it once per configuration with NewValidator; it parses the
// IdP certificates once and is safe for concurrent use.
type Validator struct {
	sp                SPDetails
	idpEntityID       string
	now               func() time.Time
	skew              time.Duration
	allowIdPInitiated bool
	maxSize           int64
	policy            algorithmPolicy
	certs             []*x509.Certificate // parsed once
	spKeyPair         *tls.Certificate
}

// NewValidator checks cfg and builds a Validator. The SP entity ID and ACS URL
// and at least one IdP certificate are required; certificates must parse (their
// validity period is judged at each Validate, at cfg.Now).
func NewValidator(cfg ValidatorConfig) (*Validator, error) {
	if cfg.SP.EntityID == "" {
		return nil, configErr("SP.EntityID", "is empty")
	}
	if cfg.SP.ACSURL == "" {
		return nil, configErr("SP.ACSURL", "is empty")
	}
	if len(cfg.IdP.Certificates) == 0 {
		return nil, configErr("IdP.Certificates", "no IdP signing certificate configured")
	}
	if cfg.ClockSkew < 0 {
		return nil, configErr("ClockSkew", "is negative")
	}
	if cfg.MaxResponseSize < 0 {
		return nil, configErr("MaxResponseSize", "is negative")
	}
	policy, err := policyFor(cfg.IdP.SignatureAlgorithm)
	if err != nil {
		return nil, &ConfigError{Field: "IdP.SignatureAlgorithm", Reason: "unknown algorithm", Err: err}
	}
	v := &Validator{
		sp:                cfg.SP,
		idpEntityID:       cfg.IdP.EntityID,
		now:               cfg.Now,
		skew:              cfg.ClockSkew,
		allowIdPInitiated: cfg.AllowIdPInitiated,
		maxSize:           cfg.MaxResponseSize,
		policy:            policy,
		spKeyPair:         cfg.SPKeyPair,
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.skew == 0 {
		v.skew = DefaultClockSkew
	}
	if v.maxSize == 0 {
		v.maxSize = DefaultMaxResponseSize
	}
	for i := range cfg.IdP.Certificates {
		c, err := cfg.IdP.parseCertificate(i)
		if err != nil {
			return nil, err
		}
		v.certs = append(v.certs, c)
	}
	if kp := cfg.SPKeyPair; kp != nil {
		if kp.PrivateKey == nil || len(kp.Certificate) == 0 {
			return nil, configErr("SPKeyPair", "needs a certificate and its private key")
		}
	}
	return v, nil
}

// Validate checks a base64 SAMLResponse, as posted to the ACS URL, and returns
// the assertion it carries. requestIDs are the IDs of the AuthnRequests the
// response may answer; a response without InResponseTo is accepted only when
// IdP-initiated sign-in is allowed.
//
// Every failure is a *ValidationError that wraps ErrInvalidResponse and names the
// failed Check. Base64 is accepted with or without line breaks. Certificate
// validity and every time condition are judged at the configured Now.
func (v *Validator) Validate(samlResponse string, requestIDs ...string) (*Assertion, error) {
	return v.ValidateFunc(samlResponse, func(id string) error {
		for _, r := range requestIDs {
			if r == id {
				return nil
			}
		}
		return fmt.Errorf("%q is not one of the %d pending request IDs", id, len(requestIDs))
	})
}

// ValidateFunc is Validate with a caller-supplied InResponseTo check: match is
// called at most once, with the non-empty InResponseTo of a response whose
// signature has already been verified, and the response is refused with
// CheckInResponseTo when it returns an error. A Service uses it to consume the
// pending request atomically in its store, so that only authentic responses can
// use up a request ID.
func (v *Validator) ValidateFunc(samlResponse string, match func(inResponseTo string) error) (*Assertion, error) {
	if match == nil {
		return nil, configErr("match", "is nil")
	}
	return v.validate(samlResponse, match, nil)
}

// validate runs the three stages; tr, when not nil, records what was signed
// and what was read (tests only).
func (v *Validator) validate(samlResponse string, match func(string) error, tr *trace) (*Assertion, error) {
	now := v.now()
	resp, err := v.parse(samlResponse)
	if err != nil {
		return nil, err
	}
	ver, err := v.verify(resp, now, tr)
	if err != nil {
		return nil, err
	}
	return v.checkAssertion(ver, now, match, tr)
}
