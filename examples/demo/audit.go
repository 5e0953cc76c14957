package main

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/sso"
)

// auditLog keeps the organizations' orgsso events (sso.Config.OnEvent) in
// the demo_audit table: every administrative change with who made it
// (Event.Actor), every sign-in, and the certificate warnings. The settings
// page shows them in plain language, newest first.
type auditLog struct {
	db  *sql.DB
	log *slog.Logger
	// keep bounds the table: older rows are deleted as new ones come.
	keep int
}

// auditKeep is how many events the demo keeps per organization: one
// organization's events never push another's out.
const auditKeep = 5000

// openAuditLog creates the demo_audit table if it does not exist yet.
func openAuditLog(ctx context.Context, db *sql.DB, log *slog.Logger) (*auditLog, error) {
	_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS demo_audit (
		id             INTEGER PRIMARY KEY AUTOINCREMENT,
		org_id         TEXT NOT NULL,
		at             TEXT NOT NULL,
		type           TEXT NOT NULL,
		actor          TEXT NOT NULL DEFAULT '',
		user_id        TEXT NOT NULL DEFAULT '',
		email          TEXT NOT NULL DEFAULT '',
		fields         TEXT NOT NULL DEFAULT '',
		detail         TEXT NOT NULL DEFAULT '',
		check_name     TEXT NOT NULL DEFAULT '',
		code           TEXT NOT NULL DEFAULT '',
		old_role       TEXT NOT NULL DEFAULT '',
		new_role       TEXT NOT NULL DEFAULT '',
		sessions_ended INTEGER NOT NULL DEFAULT 0,
		suppressed     INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX IF NOT EXISTS demo_audit_org ON demo_audit (org_id, id)`)
	if err != nil {
		return nil, err
	}
	return &auditLog{db: db, log: log, keep: auditKeep}, nil
}

// auditRecord is one stored event.
type auditRecord struct {
	Time                         time.Time
	Type                         sso.EventType
	Actor, UserID, Email, Detail string
	Fields                       []string
	Check                        saml.Check
	Code                         string // sso.ErrorCode of a failure
	OldRole, NewRole             rolemap.OrgRole
	SessionsEnded, Suppressed    int
}

// record is the Service's OnEvent hook. A failure of an organization the
// Service does not know (an SSO name nobody uses) belongs to nobody's trail:
// the operator log has it. It stores the error's code, never its text.
func (l *auditLog) record(ctx context.Context, e sso.Event) {
	if e.OrgID == "" {
		return
	}
	// The request may be over (or cancelled) by now; the trail is written
	// all the same, within its own deadline.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	check, _ := e.Check.(saml.Check) // a SAML check's name; OIDC failures keep their code
	_, err := l.db.ExecContext(ctx, `INSERT INTO demo_audit
		(org_id, at, type, actor, user_id, email, fields, detail, check_name, code, old_role, new_role, sessions_ended, suppressed)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.OrgID, e.Time.UTC().Format(time.RFC3339Nano), string(e.Type), e.Actor, e.UserID, e.Email,
		strings.Join(e.Fields, ","), e.Detail, string(check), sso.ErrorCode(e.Err),
		string(e.OldRole), string(e.NewRole), e.SessionsEnded, e.Suppressed)
	if err == nil {
		_, err = l.db.ExecContext(ctx, `DELETE FROM demo_audit WHERE org_id = ? AND id <= (
			SELECT id FROM demo_audit WHERE org_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`, e.OrgID, e.OrgID, l.keep)
	}
	if err != nil {
		l.log.Error("audit trail: recording an event failed", "event", string(e.Type), "org", e.OrgID, "err", err)
	}
}

// recent returns the organization's last n events, newest first.
func (l *auditLog) recent(ctx context.Context, orgID string, n int) ([]auditRecord, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT at, type, actor, user_id, email, fields, detail, check_name, code,
		old_role, new_role, sessions_ended, suppressed FROM demo_audit WHERE org_id = ? ORDER BY id DESC LIMIT ?`, orgID, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []auditRecord
	for rows.Next() {
		var r auditRecord
		var at, typ, fields, check, oldRole, newRole string
		if err := rows.Scan(&at, &typ, &r.Actor, &r.UserID, &r.Email, &fields, &r.Detail, &check, &r.Code,
			&oldRole, &newRole, &r.SessionsEnded, &r.Suppressed); err != nil {
			return nil, err
		}
		if r.Time, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, err
		}
		r.Type, r.Check, r.OldRole, r.NewRole = sso.EventType(typ), saml.Check(check), rolemap.OrgRole(oldRole), rolemap.OrgRole(newRole)
		if fields != "" {
			r.Fields = strings.Split(fields, ",")
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// auditEntry is one event as the settings page shows it.
type auditEntry struct {
	Time time.Time
	Text string // a plain sentence: who did what
	Kind string // "admin", "sign-in", "failure" or "warning"
}

// describe turns a record into a sentence; name says who a user ID is
// ("Olivia (owner)").
func describe(r auditRecord, name func(userID string) string) auditEntry {
	e := auditEntry{Time: r.Time, Kind: "admin"}
	actor := name(r.Actor)
	who := r.Email
	if who == "" {
		who = name(r.UserID)
	}
	switch r.Type {
	case sso.EventOrganizationCreated:
		e.Text = actor + " created the organization"
	case sso.EventSettingsChanged:
		e.Text = actor + " changed " + listPhrases(r.Fields, settingPhrases) + endedPhrase(r.SessionsEnded, "password session")
	case sso.EventSSOEnabled:
		e.Text = actor + " enabled SSO" + endedPhrase(r.SessionsEnded, "password session")
	case sso.EventSSODisabled:
		e.Text = actor + " disabled SSO" + endedPhrase(r.SessionsEnded, "SSO session")
	case sso.EventConnectionEnabled, sso.EventConnectionDisabled:
		// Detail: "Connection “Okta” (okta) turned on."
		e.Text = actor + ": " + strings.TrimSuffix(r.Detail, ".")
		if r.SessionsEnded > 0 {
			e.Text += " (" + plural(r.SessionsEnded, "SSO session") + ")"
		}
	case sso.EventMemberAdded:
		e.Text = actor + " invited " + who + " as " + roleName(r.NewRole)
	case sso.EventMemberChanged:
		e.Text = actor + " changed " + listPhrases(r.Fields, memberPhrases) + " of " + who + endedPhrase(r.SessionsEnded, "password session")
	case sso.EventMemberRemoved:
		e.Text = actor + " removed " + who + endedPhrase(r.SessionsEnded, "session")
	case sso.EventSessionsEnded:
		if r.Actor == "" {
			e.Text = plural(r.SessionsEnded, "session") + " of " + who + " ended"
		} else {
			e.Text = actor + " ended " + plural(r.SessionsEnded, "session") + " of " + who
		}
	case sso.EventCertificateExpiring:
		e.Kind = "warning"
		e.Text = "Warning: " + sentenceCase(r.Detail)
		if r.Actor != "" {
			e.Text += " (noticed when " + actor + " saved it)"
		}
	case sso.EventSignInSucceeded:
		e.Kind = "sign-in"
		e.Text = who + " signed in with SSO as " + roleName(r.NewRole)
	case sso.EventPasswordSignInSucceeded:
		e.Kind = "sign-in"
		e.Text = who + " signed in with a password"
	case sso.EventMemberProvisioned:
		e.Kind = "sign-in"
		e.Text = who + " joined at their first SSO sign-in as " + roleName(r.NewRole)
	case sso.EventRolesChanged:
		e.Kind = "sign-in"
		e.Text = "The IdP changed the role of " + who + " from " + roleName(r.OldRole) + " to " + roleName(r.NewRole)
	case sso.EventTestCompleted:
		e.Kind = "sign-in"
		e.Text = name(r.UserID) + " ran Test SSO (the IdP signed in " + r.Email + ")"
	case sso.EventMFAChallenged:
		e.Kind = "sign-in"
		e.Text = who + " passed the IdP and was asked for a second factor"
	case sso.EventMFAEnrolled:
		e.Kind = "sign-in"
		e.Text = who + " set up two-step verification"
	case sso.EventMFAVerified:
		e.Kind = "sign-in"
		e.Text = who + " passed two-step verification"
		if r.Detail != "" {
			e.Text += " (" + r.Detail + ")"
		}
	case sso.EventMFAFailed:
		e.Kind = "failure"
		e.Text = "A two-step verification code of " + who + " was refused"
	case sso.EventMFAReset:
		e.Text = actor + " reset the two-step verification of " + who
	case sso.EventSignInFailed:
		e.Kind = "failure"
		if r.Email != "" {
			e.Text = "A sign-in of " + r.Email + " failed: "
		} else {
			e.Text = "A sign-in failed: "
		}
		e.Text += failurePhrase(r.Check, r.Code)
		if r.Suppressed > 0 {
			e.Text += " (" + plural(r.Suppressed, "similar failure") + " before it not listed)"
		}
	default:
		e.Text = string(r.Type)
		if r.Actor != "" {
			e.Text = actor + ": " + e.Text
		}
	}
	if !strings.HasSuffix(e.Text, ".") {
		e.Text += "."
	}
	return e
}

// settingPhrases name the organization's fields (Event.Fields of
// EventSettingsChanged) in the audit trail.
var settingPhrases = map[string]string{
	"SSOName":                "the SSO name",
	"IdP.EntityID":           "the IdP entity ID",
	"IdP.SSOURL":             "the IdP single sign-on URL",
	"IdP.Certificates":       "the IdP certificates",
	"IdP.SignatureAlgorithm": "the signature algorithm",
	"StrictMode":             "strict mode",
	"SessionTimeout":         "the session timeout",
	"RoleMapping":            "the role mapping",
	"JITProvisioning":        "just-in-time provisioning",
	"AllowIdPInitiated":      "IdP-initiated sign-in",
	"Attributes":             "the attribute names",
	"Connections":            "the connections",
	"MFA":                    "two-step verification",
}

// memberPhrases name a member's fields (Event.Fields of EventMemberChanged).
var memberPhrases = map[string]string{
	"AllowWithoutSSO": "the access without SSO",
	"OrgRole":         "the role",
	"StackRoles":      "the stack roles",
}

// listPhrases joins the phrases of fields: "a", "a and b", "a, b and c".
// A field without a phrase is named as it is.
func listPhrases(fields []string, phrases map[string]string) string {
	var out []string
	for _, f := range fields {
		p, ok := phrases[f]
		if !ok {
			p = f
		}
		out = append(out, p)
	}
	switch len(out) {
	case 0:
		return "nothing"
	case 1:
		return out[0]
	}
	return strings.Join(out[:len(out)-1], ", ") + " and " + out[len(out)-1]
}

// endedPhrase says how many sessions a change ended, if any: "; 2 SSO sessions
// ended".
func endedPhrase(n int, what string) string {
	if n == 0 {
		return ""
	}
	return "; " + plural(n, what) + " ended"
}

// plural is "1 session", "2 sessions".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// roleName names an organization role.
func roleName(r rolemap.OrgRole) string {
	if r == "" {
		return "no role"
	}
	return string(r)
}

// sentenceCase upper-cases the first letter of an ASCII sentence.
func sentenceCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// failurePhrases say why a sign-in failed, by sso.ErrorCode, for the owner.
var failurePhrases = map[string]string{
	sso.CodeAccessDenied: "the organization's rules refused them (not a member, or IdP roles that map to nothing)",
	sso.CodeReplay:       "the IdP's response had already been used",
	sso.CodeExpired:      "the sign-in took too long, or did not answer a sign-in started here",
	sso.CodeUnsolicited:  "it was started at the IdP, and IdP-initiated sign-in is off",
	sso.CodeBinding:      "it was finished in another browser than the one that started it",
	sso.CodeIdentity:     "the IdP sent an email address or name that cannot be accepted",
	sso.CodeSSODisabled:  "SSO is disabled",
	sso.CodeUnavailable:  "the service was temporarily unavailable",
}

// failurePhrase says why a sign-in failed: the failed check's problem, as a
// failed Test SSO names it, or the failure's kind.
func failurePhrase(check saml.Check, code string) string {
	if check != "" {
		if r := sso.ReportFailure(&saml.ValidationError{Check: check}); r != nil && r.Problem != "" {
			return lowerFirst(strings.TrimSuffix(r.Problem, "."))
		}
	}
	if p, ok := failurePhrases[code]; ok {
		return p
	}
	return "the IdP's response could not be verified"
}

// lowerFirst lower-cases the first letter of an ASCII sentence.
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// auditTrail returns the organization's last events as the settings page
// shows them. People are named by their first name and role in the
// organization ("Olivia (owner)"); a former member by the app's user.
func (a *app) auditTrail(ctx context.Context, org *sso.Organization) ([]auditEntry, error) {
	recs, err := a.audit.recent(ctx, org.ID, 50)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	name := func(userID string) string {
		if userID == "" {
			return "Someone"
		}
		if n, ok := names[userID]; ok {
			return n
		}
		n := a.personName(ctx, org, userID)
		names[userID] = n
		return n
	}
	out := make([]auditEntry, 0, len(recs))
	for _, r := range recs {
		out = append(out, describe(r, name))
	}
	return out, nil
}

// personName names a user of the organization for the audit trail.
func (a *app) personName(ctx context.Context, org *sso.Organization, userID string) string {
	m, err := a.svc.MemberByUserID(ctx, org.ID, userID)
	if err == nil {
		n := m.FirstName
		if n == "" {
			n = m.Email
		}
		return n + " (" + string(m.OrgRole) + ")"
	}
	if !errors.Is(err, sso.ErrNotFound) {
		a.log.Warn("audit trail: looking a member up", "err", err)
	}
	if u, err := a.users.ByID(ctx, userID); err == nil && u.OrgID == org.ID {
		n := u.Email
		if first, _, _ := strings.Cut(u.Name, " "); first != "" {
			n = first
		}
		return n + " (former member)"
	}
	return "A former member"
}
