package sso

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/orgsso/orgsso/rolemap"
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
)

// Event is one thing that happened, for audit logs and metrics. It never
// carries a SAML response, a token or a key.
type Event struct {
	Type    EventType
	Time    time.Time
	OrgID   string
	SSOName string
	Email   string // the signing-in identity, when known
	UserID  string // the member or the actor
	// Check is the failed validation check of EventSignInFailed, if any.
	Check Check
	// Err is the failure of EventSignInFailed.
	Err error
	// OldRole and NewRole are set on EventRolesChanged and
	// EventMemberProvisioned (NewRole only).
	OldRole, NewRole rolemap.OrgRole
	// SessionsEnded is set on EventSSODisabled.
	SessionsEnded int
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
	level := slog.LevelInfo
	if e.Type == EventSignInFailed {
		level = slog.LevelWarn
		if e.Check != "" {
			attrs = append(attrs, slog.String("check", string(e.Check)))
		}
		if e.Err != nil {
			attrs = append(attrs, slog.String("error", e.Err.Error()))
		}
	}
	if e.NewRole != "" {
		attrs = append(attrs, slog.String("role", string(e.NewRole)))
	}
	s.log.LogAttrs(ctx, level, "orgsso "+string(e.Type), attrs...)
	if s.onEvent != nil {
		s.onEvent(ctx, e)
	}
}

// failed reports a failed sign-in and returns err.
func (s *Service) failed(ctx context.Context, org *Organization, ssoName, email string, err error) error {
	e := Event{Type: EventSignInFailed, SSOName: ssoName, Email: email, Err: err}
	if org != nil {
		e.OrgID = org.ID
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		e.Check = ve.Check
	}
	s.emit(ctx, e)
	return err
}
