package sso

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/orgsso/orgsso/oidc"
	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/saml"
)

// EventType names what happened.
type EventType string

// The events a Service emits through Config.OnEvent.
const (
	EventSignInSucceeded   EventType = "sign_in_succeeded"
	EventSignInFailed      EventType = "sign_in_failed"
	EventMemberProvisioned EventType = "member_provisioned"
	EventRolesChanged      EventType = "roles_changed"
	EventSSOEnabled        EventType = "sso_enabled"
	EventSSODisabled       EventType = "sso_disabled"
	EventTestCompleted     EventType = "test_completed"

	// Audited administration: Actor is who did it.
	EventOrganizationCreated EventType = "organization_created"
	EventSettingsChanged     EventType = "settings_changed" // Fields names what changed
	EventMemberAdded         EventType = "member_added"
	EventMemberChanged       EventType = "member_changed" // Fields: "AllowWithoutSSO", "OrgRole", "StackRoles"
	EventMemberRemoved       EventType = "member_removed"
	EventSessionsEnded       EventType = "sessions_ended" // a user's sessions revoked, or password sessions ended by stricter rules
	// EventCertificateExpiring: a saved IdP certificate expires within 30
	// days; Detail says which and when.
	EventCertificateExpiring EventType = "certificate_expiring"

	// MFA after SSO (Organization.MFA). None carries the intermediate
	// token, a code or a secret.
	//
	// EventMFAChallenged: a sign-in passed the IdP and waits for its second
	// factor (no session yet).
	EventMFAChallenged EventType = "mfa_challenged"
	// EventMFAEnrolled: a member enrolled a second factor (Detail: which).
	EventMFAEnrolled EventType = "mfa_enrolled"
	// EventMFAVerified: a member passed their second factor (Detail: TOTP
	// or recovery code); EventSignInSucceeded follows.
	EventMFAVerified EventType = "mfa_verified"
	// EventMFAFailed: a code was refused (wrong, replayed, or the member
	// is locked out); Err and Detail say which.
	EventMFAFailed EventType = "mfa_failed"
	// EventMFAReset: the owner or an admin (Actor) reset a member's
	// second factor (UserID).
	EventMFAReset EventType = "mfa_reset"

	// EventPasswordSignInSucceeded: PasswordSignIn made a password session
	// (the member's password passed the host's verify under the
	// organization's rules). Refused password sign-ins emit nothing: anyone
	// can try them, and the host's login form sees the error.
	EventPasswordSignInSucceeded EventType = "password_sign_in_succeeded"
)

// Event is one thing that happened, for audit logs and metrics. It never
// carries a SAML response, a token or a key.
type Event struct {
	Type  EventType
	Time  time.Time
	OrgID string
	// SSOName is the organization's SSO name; on a failure for an unknown
	// organization, the name from the URL when it is a valid SSO name, else "".
	SSOName string
	// Email is the signing-in identity, when known; always from a verified
	// (signed) response, never from an unverified post.
	Email  string
	UserID string // the member or the actor
	// Check is the failed check of EventSignInFailed, if any: a saml.Check
	// or an oidc.Check (both are errors: compare with == or errors.Is).
	Check error
	// Err is the failure of EventSignInFailed.
	Err error
	// OldRole and NewRole are set on EventRolesChanged and
	// EventMemberProvisioned (NewRole only).
	OldRole, NewRole rolemap.OrgRole
	// SessionsEnded is set on EventSSODisabled, EventSSOEnabled (password
	// sessions that SSO replaced), EventSettingsChanged, EventMemberChanged,
	// EventMemberRemoved and EventSessionsEnded.
	SessionsEnded int
	// Actor is the user who made an administrative change (the owner or an
	// admin); empty for what sign-ins do.
	Actor string
	// Fields names what an administrative change changed, e.g.
	// ["IdP.Certificates", "StrictMode"]: names only, never values.
	Fields []string
	// Detail is a plain-language sentence for the audit trail, when the
	// type alone does not say enough (certificate expiry, why sessions
	// ended). It never holds a secret.
	Detail string
	// Suppressed, on EventSignInFailed, counts the failures of the same
	// organization and kind (saml.Check, or error code) that were not reported
	// since the previous reported one: failures before the response's
	// signature is verified are reported at most once per
	// Config.FailureEventWindow, so unverified posts cannot flood an
	// organization's event history or the logs. Each Service (each replica)
	// limits on its own, in bounded memory.
	Suppressed int
}

func (s *Service) emit(ctx context.Context, e Event) {
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	attrs := []slog.Attr{slog.String("event", string(e.Type)), slog.String("org", e.OrgID)}
	if e.SSOName != "" {
		attrs = append(attrs, slog.String("sso_name", e.SSOName))
	}
	if e.Email != "" {
		attrs = append(attrs, slog.String("email", e.Email))
	}
	if e.UserID != "" {
		attrs = append(attrs, slog.String("user", e.UserID))
	}
	if e.Actor != "" {
		attrs = append(attrs, slog.String("actor", e.Actor))
	}
	if len(e.Fields) > 0 {
		attrs = append(attrs, slog.Any("fields", e.Fields))
	}
	if e.SessionsEnded > 0 {
		attrs = append(attrs, slog.Int("sessions_ended", e.SessionsEnded))
	}
	level := slog.LevelInfo
	if e.Type == EventMFAFailed {
		level = slog.LevelWarn
		if e.Detail != "" {
			attrs = append(attrs, slog.String("detail", e.Detail))
		}
	}
	if e.Type == EventSignInFailed {
		level = slog.LevelWarn
		if e.Check != nil {
			attrs = append(attrs, slog.String("check", checkName(e.Check)))
		}
		if e.Err != nil {
			attrs = append(attrs, slog.String("error", e.Err.Error()))
		}
	}
	if e.NewRole != "" {
		attrs = append(attrs, slog.String("role", string(e.NewRole)))
	}
	if e.Suppressed > 0 {
		attrs = append(attrs, slog.Int("suppressed", e.Suppressed))
	}
	s.log.LogAttrs(ctx, level, "orgsso "+string(e.Type), attrs...)
	if s.onEvent != nil {
		s.onEvent(ctx, e)
	}
}

// failed reports a failed sign-in and returns err. A failure before the
// response was verified (verified false), and a verified one a reposted
// response can repeat (replay, binding, request), is reported only when the
// limiter admits it; email must come from verified content.
func (s *Service) failed(ctx context.Context, org *Organization, ssoName, email string, verified bool, err error) error {
	e := Event{Type: EventSignInFailed, Err: err}
	if org != nil {
		e.OrgID, e.SSOName = org.ID, org.SSOName
	} else if ValidateSSOName(ssoName) == nil {
		e.SSOName = ssoName
	}
	e.Check = failedCheck(err)
	kind := checkName(e.Check)
	if kind == "" {
		kind = ErrorCode(err)
	}
	// A verified failure that anyone holding one response can repeat at will
	// (reposting it: a replay, or a binding or request mismatch) is limited
	// like an unverified one, so one captured response cannot flood the
	// organization's events.
	limited := !verified || errors.Is(err, ErrReplay) || errors.Is(err, saml.CheckBinding) || errors.Is(err, saml.CheckInResponseTo) ||
		errors.Is(err, oidc.CheckState)
	if verified {
		// Per signed identity: repeats of one's own response cannot hide a
		// failure naming someone else.
		kind += "\x00" + email
	}
	ok, n := s.failures.admit(failureKey{org: e.OrgID, kind: kind}, !limited, s.now())
	if !ok {
		return err
	}
	if verified {
		e.Email = email
	}
	e.Suppressed = n
	s.emit(ctx, e)
	return err
}

// DefaultFailureEventWindow is how often, at most, a sign-in failure of one
// organization and kind that came before signature verification is reported.
const DefaultFailureEventWindow = time.Minute

// maxFailureKeys bounds the limiter's memory: organizations × kinds it
// remembers at once. Beyond it, failures of new keys share one overflow key.
const maxFailureKeys = 4096

// failureKey is what the limiter counts by.
type failureKey struct{ org, kind string }

// overflowKey counts the failures of keys the full limiter could not take.
var overflowKey = failureKey{kind: "\x00overflow"}

// failureWindow is one key's current window.
type failureWindow struct {
	start      time.Time // when the window's reported failure happened
	suppressed int       // failures since, not reported
}

// failureLimiter limits EventSignInFailed of unverified posts: per key, the
// first failure of a window is reported, the others are counted and the count
// travels on the next reported one. Its memory is bounded by maxFailureKeys.
type failureLimiter struct {
	window time.Duration

	mu        sync.Mutex
	entries   map[failureKey]*failureWindow
	lastSweep time.Time
}

func newFailureLimiter(window time.Duration) *failureLimiter {
	return &failureLimiter{window: window, entries: make(map[failureKey]*failureWindow)}
}

// admit reports whether a failure of k at now is reported and, if so, how
// many failures of k were suppressed before it. A verified failure is always
// reported, and carries (and resets) the count of k.
func (l *failureLimiter) admit(k failureKey, verified bool, now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.entries[k]
	if !ok && !verified && len(l.entries) >= maxFailureKeys {
		l.sweepLocked(now)
		if len(l.entries) >= maxFailureKeys {
			k = overflowKey
			w, ok = l.entries[k]
		}
	}
	switch {
	case ok && !verified && l.within(w, now):
		w.suppressed++
		return false, 0
	case ok:
		n := w.suppressed
		if verified {
			// The verified failure reports the count; the unverified window
			// stays as it was.
			w.suppressed = 0
			return true, n
		}
		w.start, w.suppressed = now, 0
		return true, n
	case verified:
		return true, 0
	}
	l.entries[k] = &failureWindow{start: now}
	return true, 0
}

// within reports whether now falls in w's window. A clock that went back
// counts as within, so it cannot open windows.
func (l *failureLimiter) within(w *failureWindow, now time.Time) bool {
	return now.Sub(w.start) < l.window
}

// sweepLocked drops the keys whose window has passed, at most once per
// window; a count they still held is lost (counts are advisory; the
// alternative is unbounded memory). The caller holds l.mu.
func (l *failureLimiter) sweepLocked(now time.Time) {
	if !l.lastSweep.IsZero() && l.within(&failureWindow{start: l.lastSweep}, now) {
		return
	}
	l.lastSweep = now
	for k, w := range l.entries {
		if !l.within(w, now) {
			delete(l.entries, k)
		}
	}
}

// failedCheck returns the check a sign-in failure names: a saml.Check or an
// oidc.Check; nil when err is no check failure.
func failedCheck(err error) error {
	var sv *saml.ValidationError
	if errors.As(err, &sv) {
		return sv.Check
	}
	var ov *oidc.ValidationError
	if errors.As(err, &ov) {
		return ov.Check
	}
	return nil
}

// checkName is the name of a check for logs and limiter keys: "audience",
// "oidc:nonce" (OIDC checks are prefixed, so one name never means two
// checks); "" for nil.
func checkName(c error) string {
	switch c := c.(type) {
	case saml.Check:
		return string(c)
	case oidc.Check:
		return "oidc:" + string(c)
	}
	return ""
}
