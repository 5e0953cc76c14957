package main

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/orgsso/orgsso/sso"
)

// eventLog keeps the last few orgsso events (sso.Config.OnEvent) in memory
// for the settings page. Demo-only: a real app would write an audit log.
type eventLog struct {
	mu     sync.Mutex
	max    int
	events []sso.Event // oldest first
}

// newEventLog keeps the last max events.
func newEventLog(max int) *eventLog { return &eventLog{max: max} }

// add is the Service's OnEvent hook.
func (l *eventLog) add(_ context.Context, e sso.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
	if n := len(l.events) - l.max; n > 0 {
		l.events = append(l.events[:0:0], l.events[n:]...)
	}
}

// eventView is one event as the settings page shows it.
type eventView struct {
	Time    time.Time
	Type    string
	SSOName string
	Email   string
	Detail  string
	Failed  bool
}

// recent returns the events of an organization, newest first.
func (l *eventLog) recent(orgID, ssoName string) []eventView {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []eventView
	for i := len(l.events) - 1; i >= 0; i-- {
		e := l.events[i]
		if e.OrgID != orgID && (e.OrgID != "" || e.SSOName != ssoName) {
			continue
		}
		v := eventView{Time: e.Time, Type: string(e.Type), SSOName: e.SSOName, Email: e.Email, Failed: e.Type == sso.EventSignInFailed}
		switch e.Type {
		case sso.EventSignInFailed:
			if e.Check != "" {
				v.Detail = "check " + string(e.Check) + ": "
			}
			if e.Err != nil {
				v.Detail += cut(e.Err.Error(), 300)
			}
		case sso.EventRolesChanged:
			v.Detail = string(e.OldRole) + " → " + string(e.NewRole)
		case sso.EventMemberProvisioned, sso.EventSignInSucceeded:
			v.Detail = "role " + string(e.NewRole)
		case sso.EventSSODisabled:
			v.Detail = "SSO sessions ended: " + strconv.Itoa(e.SessionsEnded)
		}
		out = append(out, v)
	}
	return out
}

// cut shortens s to about n bytes, on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
