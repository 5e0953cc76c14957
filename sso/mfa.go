package sso

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
)

// MFA after SSO. An organization may require a second factor that orgsso
// checks itself, after its IdP signed the member in (MFAPolicy). Such a
// sign-in (HandleACS, HandleConnectionACS, HandleCallback, IdP-initiated
// included) makes no session: its Result carries MFA, a short-lived,
// single-use intermediate token that the host puts in the browser with
// MFACookie and nowhere else. The MFA pages then read it back (MFAToken) and
// call, with it:
//
//   - MFAState: who is signing in, and whether they have enrolled;
//   - BeginTOTPEnrollment and ConfirmTOTPEnrollment: a member without a
//     second factor enrolls an authenticator app (TOTP) and receives
//     recovery codes, and is signed in;
//   - VerifyMFA: an enrolled member gives a TOTP code or a recovery code,
//     and is signed in.
//
// The last two make the session exactly as the sign-in would have made it,
// consume the token, and put the cookie that clears it in
// Result.ClearCookies. Wrong codes are limited per token (MFACodeAttempts)
// and per member (MFAMemberAttempts per MFALockWindow, across tokens); a
// TOTP code is accepted once; a recovery code once. The owner or an admin
// resets a member's enrollment (ResetMFA) when a device is lost.

// MFAPolicy is an organization's rule for a second factor after SSO. It
// applies to sign-ins through SSO, not to password sign-ins. Making it
// stricter (see Tightens) with UpdateOrganization signs every SSO session
// of the organization out: sessions made under the looser policy may lack
// the factor it now asks for.
type MFAPolicy struct {
	// Required: a member signing in through SSO must also pass a second
	// factor that orgsso checks (TOTP, or a recovery code) before they get
	// a session, unless TrustIdP lets the IdP's own MFA stand for it.
	Required bool
	// TrustIdP: a sign-in whose IdP asserted MFA (one of IdPValues among
	// the SAML AuthnContextClassRefs or the OIDC amr values it sent, signed)
	// needs no second factor here. Off, every sign-in does.
	TrustIdP bool
	// IdPValues are the SAML AuthnContextClassRef URIs and OIDC amr values
	// that count as MFA, compared exactly. nil = DefaultMFAIdPValues; an
	// empty list trusts none. At most MaxMFAIdPValues, each 1 to
	// MaxURLBytes bytes.
	IdPValues []string
}

// MFA bounds and defaults.
const (
	// DefaultMFATokenTTL is how long a sign-in waits for its second factor
	// when Config.MFATokenTTL is 0.
	DefaultMFATokenTTL = 10 * time.Minute
	// MFACodeAttempts is how many codes one intermediate token may try;
	// after that it is used up and the member signs in again.
	MFACodeAttempts = 5
	// MFAMemberAttempts is how many codes a member may try per
	// MFALockWindow, across every token, so that signing in again does not
	// buy more guesses; the next attempt is ErrMFALocked until the window
	// ends. A correct code starts the count again.
	MFAMemberAttempts = 10
	// MFALockWindow is the window of MFAMemberAttempts.
	MFALockWindow = 15 * time.Minute
	// MaxMFAIdPValues bounds MFAPolicy.IdPValues.
	MaxMFAIdPValues = 32
	// RecoveryCodeCount is how many recovery codes an enrollment issues.
	RecoveryCodeCount = 10
	// maxMFATokenBytes bounds the token a request may bring; ours are 43.
	maxMFATokenBytes = 128
	// mfaTokenBytes is the intermediate token's entropy: 256 bits.
	mfaTokenBytes = 32
)

// DefaultMFAIdPValues returns what counts as MFA asserted by an IdP when
// MFAPolicy.IdPValues is nil: the OIDC amr values "mfa" (multiple factors),
// "otp" (a one-time password) and "hwk" (a hardware key; RFC 8176), and the
// SAML authentication context classes of two-factor and token
// authentication (SAML 2.0 MobileTwoFactorContract, MobileTwoFactor
// Unregistered, TimeSyncToken), the REFEDS MFA profile, Microsoft Entra ID
// and AD FS's multipleauthn, and the OpenID PAPE multi-factor policy.
func DefaultMFAIdPValues() []string {
	return []string{
		"mfa", "otp", "hwk",
		"urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
		"urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered",
		"urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken",
		"https://refeds.org/profile/mfa",
		"http://schemas.microsoft.com/claims/multipleauthn",
		"http://schemas.openid.net/pape/policies/2007/06/multi-factor",
	}
}

// values returns what counts as MFA asserted by the IdP.
func (p MFAPolicy) values() []string {
	if p.IdPValues == nil {
		return DefaultMFAIdPValues()
	}
	return p.IdPValues
}

// AssertedBy reports whether an identity's authentication methods
// (Identity.AuthnMethods) include a value the policy counts as MFA,
// whether or not the policy trusts the IdP.
func (p MFAPolicy) AssertedBy(methods []string) bool {
	vals := p.values()
	return slices.ContainsFunc(methods, func(m string) bool { return slices.Contains(vals, m) })
}

// Needed reports whether a sign-in with these authentication methods needs
// the second factor here: the policy requires MFA and does not accept the
// IdP's (TrustIdP off, or the IdP asserted none of IdPValues).
func (p MFAPolicy) Needed(methods []string) bool {
	return p.Required && !(p.TrustIdP && p.AssertedBy(methods))
}

// Tightens reports whether p is stricter than old for some sign-in: a
// sign-in through SSO that old let through without the second factor here
// needs it under p. That is: p requires MFA and old did not; or both do,
// and old trusted the IdP's MFA and p does not; or both trust it, and a
// value old counted as MFA (its IdPValues, or DefaultMFAIdPValues for nil)
// does not count under p. UpdateOrganization signs SSO sessions out when
// the policy saved tightens the one before.
func (p MFAPolicy) Tightens(old MFAPolicy) bool {
	switch {
	case !p.Required:
		return false
	case !old.Required:
		return true
	case !old.TrustIdP:
		return false // old accepted only the second factor here: nothing is stricter
	case !p.TrustIdP:
		return true
	}
	vals := p.values()
	return slices.ContainsFunc(old.values(), func(v string) bool { return !slices.Contains(vals, v) })
}

// validate checks the policy's bounds.
func (p MFAPolicy) validate() error {
	if len(p.IdPValues) > MaxMFAIdPValues {
		return &ConfigError{Field: "MFA.IdPValues", Reason: "more than 32 values",
			Message: "List at most 32 IdP values that count as MFA."}
	}
	for _, v := range p.IdPValues {
		if strings.TrimSpace(v) != v || v == "" || len(v) > MaxURLBytes || textProblem("value", v, MaxURLBytes) != "" {
			return &ConfigError{Field: "MFA.IdPValues", Reason: "a value is empty, padded, longer than 2048 bytes or holds a control character",
				Message: "Each IdP value that counts as MFA must be a URI or amr value without spaces around it."}
		}
	}
	return nil
}

// MFAChallenge is what a sign-in that needs the second factor returns
// (Result.MFA) instead of a session.
type MFAChallenge struct {
	// Token is the intermediate token: the MFA pages' key to this sign-in.
	// Give it to the browser only in the cookie MFACookie makes; never log
	// it, put it in a URL or show it.
	Token string
	// ExpiresAt ends the pending sign-in (Config.MFATokenTTL).
	ExpiresAt time.Time
	// Enrolled reports whether the member has a second factor already
	// (VerifyMFA); without one, they enroll (BeginTOTPEnrollment).
	Enrolled bool
}

// String prints the challenge without its token.
func (c MFAChallenge) String() string {
	return fmt.Sprintf("sso.MFAChallenge{Token: %s, ExpiresAt: %s, Enrolled: %t}", redacted, c.ExpiresAt.UTC().Format(time.RFC3339), c.Enrolled)
}

// GoString is String, so %#v does not print the token either.
func (c MFAChallenge) GoString() string { return c.String() }

// LogValue keeps the token out of structured logs.
func (c MFAChallenge) LogValue() slog.Value { return slog.StringValue(c.String()) }

// MFA errors. Each comes in an *MFAError.
var (
	// ErrMFAToken: the intermediate token is unknown, expired, already
	// used, or has tried MFACodeAttempts codes. The member signs in again.
	ErrMFAToken = errors.New("sso: the sign-in waiting for its second factor is unknown, expired, used or out of attempts; sign in again")
	// ErrMFACode: the code is wrong.
	ErrMFACode = errors.New("sso: wrong MFA code")
	// ErrMFAReplay: the TOTP code, though right, was of a time step
	// already used; it wraps ErrMFACode. Wait for the next code.
	ErrMFAReplay = fmt.Errorf("%w: the code was used already", ErrMFACode)
	// ErrMFALocked: the member tried MFAMemberAttempts codes within
	// MFALockWindow; MFAError.LockedUntil says until when.
	ErrMFALocked = errors.New("sso: too many MFA attempts; try again later")
	// ErrMFAEnrolled: the member has a second factor already; enrolling
	// another needs ResetMFA first.
	ErrMFAEnrolled = errors.New("sso: the member has enrolled a second factor already")
	// ErrMFANotEnrolled: VerifyMFA for a member without a second factor,
	// or ConfirmTOTPEnrollment before BeginTOTPEnrollment.
	ErrMFANotEnrolled = errors.New("sso: no second factor enrolled")
)

// MFAError is a second factor the Service refused. It wraps its sentinel
// (ErrMFAToken, ErrMFACode, ErrMFAReplay, ErrMFALocked, ErrMFAEnrolled,
// ErrMFANotEnrolled); a wrong code that used up the token also wraps
// ErrMFAToken, one that reached the member's limit ErrMFALocked.
type MFAError struct {
	Err    error  // the sentinel
	Reason string // for the operator's log
	// AttemptsLeft is how many more codes the token may try; 0 when it is
	// used up (ErrMFAToken) or not known.
	AttemptsLeft int
	// LockedUntil is when the member may try again, with ErrMFALocked.
	LockedUntil time.Time
}

// Error implements error.
func (e *MFAError) Error() string {
	msg := e.Err.Error()
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Unwrap returns the sentinels the failure matches, for errors.Is.
func (e *MFAError) Unwrap() []error {
	errs := []error{e.Err}
	if errors.Is(e.Err, ErrMFACode) && e.AttemptsLeft == 0 {
		errs = append(errs, ErrMFAToken)
	}
	if !e.LockedUntil.IsZero() && e.Err != ErrMFALocked {
		errs = append(errs, ErrMFALocked)
	}
	return errs
}

func mfaErr(sentinel error, reason string) *MFAError {
	return &MFAError{Err: sentinel, Reason: reason}
}

// errNoMFAStore is the cause of what a Store without MFAStore cannot do.
var errNoMFAStore = errors.New("the store does not implement sso.MFAStore: sign-ins to an organization that requires MFA are refused")

// MFACookieName is the cookie that carries the intermediate token (with the
// __Host- prefix when BaseURL is https).
const MFACookieName = "orgsso_mfa"

// mfaCookieName is MFACookieName as this Service names it: with the
// __Host- prefix on https, so that a sibling subdomain cannot plant its own
// sign-in in the browser (login CSRF).
func (s *Service) mfaCookieName() string { return s.hostCookieName(MFACookieName) }

// MFACookie returns the cookie that carries a sign-in's intermediate token
// to the MFA pages: HttpOnly, SameSite=Lax (the redirect after the IdP's
// cross-site POST is a top-level navigation), Secure and __Host- prefixed on
// https, Path "/", expiring with the pending sign-in. Set it on the
// response to the ACS or callback, then redirect to the MFA page. It is nil
// when res carries no challenge.
func (s *Service) MFACookie(res *Result) *http.Cookie {
	if res == nil || res.MFA == nil || res.MFA.Token == "" {
		return nil
	}
	return &http.Cookie{
		Name: s.mfaCookieName(), Value: res.MFA.Token, Path: "/",
		MaxAge:   max(int(res.MFA.ExpiresAt.Sub(s.now())/time.Second), 1),
		HttpOnly: true, Secure: s.cookieSecure(), SameSite: http.SameSiteLaxMode,
	}
}

// ClearMFACookie returns the cookie that deletes the MFA cookie. VerifyMFA
// and ConfirmTOTPEnrollment put it in Result.ClearCookies; set it yourself
// when the member gives up, or the token is used up.
func (s *Service) ClearMFACookie() *http.Cookie {
	return &http.Cookie{Name: s.mfaCookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.cookieSecure(), SameSite: http.SameSiteLaxMode}
}

// MFAToken returns the intermediate token of the request's MFA cookie, or
// "" when it has none.
func (s *Service) MFAToken(r *http.Request) string {
	if r == nil {
		return ""
	}
	c, err := r.Cookie(s.mfaCookieName())
	if err != nil || len(c.Value) > maxMFATokenBytes {
		return ""
	}
	return c.Value
}

// mfaTokenHash is what the store keeps of a token.
func mfaTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// mfaNeeded reports whether a sign-in of org with the verified identity id
// needs the second factor here.
func mfaNeeded(org *Organization, id Identity) bool { return org.MFA.Needed(id.AuthnMethods) }

// challenge ends a sign-in that needs the second factor: instead of the
// session, a pending sign-in that holds what the session will be made from,
// and its token in res.MFA. Without an MFAStore it fails closed.
func (s *Service) challenge(ctx context.Context, res *Result, org *Organization, c *Connection, m *Member) (*Result, error) {
	if s.mfa == nil {
		return res, &StoreError{Op: "CreateMFAPending", Err: errNoMFAStore}
	}
	var b [mfaTokenBytes]byte
	if err := s.readRand(b[:]); err != nil {
		return res, randErr("for an MFA token", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b[:])
	p := &MFAPending{TokenHash: mfaTokenHash(token), OrgID: org.ID, UserID: m.UserID, Email: m.Email, Connection: c.ID,
		Epoch: c.sessionEpoch(org), SessionTTL: org.EffectiveSessionTimeout(), ReturnTo: res.ReturnTo,
		ExpiresAt: s.now().Add(s.mfaTTL)}
	if err := s.do(ctx, "CreateMFAPending", func(ctx context.Context) error { return s.mfa.CreateMFAPending(ctx, p) }); err != nil {
		return res, err
	}
	enrolled, err := s.enrolled(ctx, org.ID, m.UserID)
	if err != nil {
		return res, err
	}
	res.MFA = &MFAChallenge{Token: token, ExpiresAt: p.ExpiresAt, Enrolled: enrolled}
	s.emit(ctx, Event{Type: EventMFAChallenged, OrgID: org.ID, SSOName: org.SSOName, Email: m.Email, UserID: m.UserID})
	return res, nil
}

// enrolled reports whether the member has a confirmed second factor.
func (s *Service) enrolled(ctx context.Context, orgID, userID string) (bool, error) {
	_, err := s.loadEnrollment(ctx, orgID, userID)
	switch {
	case isNotFound(err):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

func (s *Service) loadEnrollment(ctx context.Context, orgID, userID string) (*MFAEnrollment, error) {
	return get(s, ctx, "MFAEnrollment", func(ctx context.Context) (*MFAEnrollment, error) {
		return s.mfa.MFAEnrollment(ctx, orgID, userID)
	})
}

// MFAStatus is what MFAState tells the MFA pages about a pending sign-in.
type MFAStatus struct {
	OrgID, SSOName, Email string
	// Enrolled: the member has a second factor; ask for a code
	// (VerifyMFA). Otherwise, enroll (BeginTOTPEnrollment).
	Enrolled bool
	// EnrollmentBegun: BeginTOTPEnrollment ran with this token; its code
	// confirms the enrollment (ConfirmTOTPEnrollment).
	EnrollmentBegun bool
	// AttemptsLeft is how many codes the token may still try.
	AttemptsLeft int
	ExpiresAt    time.Time
	ReturnTo     string
}

// MFAState returns the state of the pending sign-in of an intermediate
// token, for the MFA pages: who is signing in, whether they have enrolled.
// An unknown, expired, used or used-up token is ErrMFAToken.
func (s *Service) MFAState(ctx context.Context, token string) (*MFAStatus, error) {
	p, err := s.pending(ctx, token, false)
	if err != nil {
		return nil, err
	}
	enrolled, err := s.enrolled(ctx, p.OrgID, p.UserID)
	if err != nil {
		return nil, err
	}
	st := &MFAStatus{OrgID: p.OrgID, Email: p.Email, Enrolled: enrolled, EnrollmentBegun: p.Secret != "",
		AttemptsLeft: max(MFACodeAttempts-p.Attempts, 0), ExpiresAt: p.ExpiresAt, ReturnTo: p.ReturnTo}
	if org, err := s.loadOrg(ctx, p.OrgID); err == nil {
		st.SSOName = org.SSOName
	} else if !isNotFound(err) {
		return nil, err
	}
	return st, nil
}

// pending returns the live pending sign-in of token. With attempt, it
// counts one attempt on it (AttemptMFAPending) first.
func (s *Service) pending(ctx context.Context, token string, attempt bool) (*MFAPending, error) {
	if s.mfa == nil {
		return nil, &StoreError{Op: "MFAPending", Err: errNoMFAStore}
	}
	if token == "" || len(token) > maxMFATokenBytes {
		return nil, mfaErr(ErrMFAToken, "no token")
	}
	hash := mfaTokenHash(token)
	var p *MFAPending
	var err error
	if attempt {
		p, err = get(s, ctx, "AttemptMFAPending", func(ctx context.Context) (*MFAPending, error) {
			return s.mfa.AttemptMFAPending(ctx, hash, MFACodeAttempts)
		})
	} else {
		p, err = get(s, ctx, "MFAPending", func(ctx context.Context) (*MFAPending, error) { return s.mfa.MFAPending(ctx, hash) })
	}
	switch {
	case isNotFound(err):
		return nil, mfaErr(ErrMFAToken, "unknown, used or out of attempts")
	case err != nil:
		return nil, err
	case !s.now().Before(p.ExpiresAt):
		return nil, mfaErr(ErrMFAToken, "expired")
	case !attempt && p.Attempts >= MFACodeAttempts:
		return nil, mfaErr(ErrMFAToken, "out of attempts")
	}
	return p, nil
}

// mfaReport is the Test SSO report's sentence on MFA: whether the IdP
// asserted it, and what the policy makes of that.
func mfaReport(p MFAPolicy, methods []string) string {
	asserted := p.AssertedBy(methods)
	said := "The IdP did not assert multi-factor authentication"
	if asserted {
		said = "The IdP asserted multi-factor authentication"
	}
	if len(methods) > 0 {
		said += " (authentication: " + quoteRoles(methods) + ")"
	}
	switch {
	case !p.Required:
		return said + "; the organization does not require MFA."
	case asserted && p.TrustIdP:
		return said + "; the organization trusts it: members signing in like this need no second factor here."
	case p.TrustIdP:
		return said + "; members signing in like this will be asked for a second factor here."
	}
	return said + "; the organization does not rely on it: every member will be asked for a second factor here."
}
