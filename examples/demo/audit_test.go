package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

// TestDescribe: the audit trail says who did what in plain language.
func TestDescribe(t *testing.T) {
	names := map[string]string{"u-olivia": "Olivia (owner)", "u-alice": "Alice (member)"}
	name := func(id string) string { return names[id] }
	tests := []struct {
		name string
		rec  auditRecord
		want string
		kind string
	}{
		{"settings", auditRecord{Type: sso.EventSettingsChanged, Actor: "u-olivia", Fields: []string{"IdP.Certificates", "StrictMode"}},
			"Olivia (owner) changed the IdP certificates and strict mode.", "admin"},
		{"settings, three fields and sessions ended", auditRecord{Type: sso.EventSettingsChanged, Actor: "u-olivia",
			Fields: []string{"SSOName", "RoleMapping", "Attributes"}, SessionsEnded: 2},
			"Olivia (owner) changed the SSO name, the role mapping and the attribute names; 2 password sessions ended.", "admin"},
		{"a field without a phrase", auditRecord{Type: sso.EventSettingsChanged, Actor: "u-olivia", Fields: []string{"NewThing"}},
			"Olivia (owner) changed NewThing.", "admin"},
		{"removed", auditRecord{Type: sso.EventMemberRemoved, Actor: "u-olivia", Email: "bob@acme.example", SessionsEnded: 1},
			"Olivia (owner) removed bob@acme.example; 1 session ended.", "admin"},
		{"invited", auditRecord{Type: sso.EventMemberAdded, Actor: "u-olivia", Email: "eve@acme.example", NewRole: rolemap.RoleAdmin},
			"Olivia (owner) invited eve@acme.example as admin.", "admin"},
		{"member changed", auditRecord{Type: sso.EventMemberChanged, Actor: "u-olivia", Email: "dave@acme.example", Fields: []string{"AllowWithoutSSO"}},
			"Olivia (owner) changed the access without SSO of dave@acme.example.", "admin"},
		{"sessions ended", auditRecord{Type: sso.EventSessionsEnded, Actor: "u-olivia", UserID: "u-alice", SessionsEnded: 2},
			"Olivia (owner) ended 2 sessions of Alice (member).", "admin"},
		{"disabled", auditRecord{Type: sso.EventSSODisabled, Actor: "u-olivia", SessionsEnded: 3},
			"Olivia (owner) disabled SSO; 3 SSO sessions ended.", "admin"},
		{"certificate expiring", auditRecord{Type: sso.EventCertificateExpiring, Actor: "u-olivia",
			Detail: "IdP certificate 2 expires on 2030-01-01; add the IdP's next signing certificate before then, or sign-in stops"},
			"Warning: IdP certificate 2 expires on 2030-01-01; add the IdP's next signing certificate before then, or sign-in stops (noticed when Olivia (owner) saved it).", "warning"},
		{"signed in", auditRecord{Type: sso.EventSignInSucceeded, Email: "alice@acme.example", NewRole: rolemap.RoleMember},
			"alice@acme.example signed in with SSO as member.", "sign-in"},
		{"roles changed", auditRecord{Type: sso.EventRolesChanged, Email: "alice@acme.example", OldRole: rolemap.RoleMember, NewRole: rolemap.RoleAdmin},
			"The IdP changed the role of alice@acme.example from member to admin.", "sign-in"},
		{"failed check", auditRecord{Type: sso.EventSignInFailed, Check: saml.CheckAudience, Code: sso.CodeInvalidResponse, Suppressed: 4},
			"A sign-in failed: the response was meant for a different service provider (audience) (4 similar failures before it not listed).", "failure"},
		{"denied", auditRecord{Type: sso.EventSignInFailed, Email: "carol@acme.example", Code: sso.CodeAccessDenied},
			"A sign-in of carol@acme.example failed: the organization's rules refused them (not a member, or IdP roles that map to nothing).", "failure"},
		{"unknown code", auditRecord{Type: sso.EventSignInFailed, Code: "whatever"},
			"A sign-in failed: the IdP's response could not be verified.", "failure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.rec.Time = time.Unix(0, 0)
			got := describe(tt.rec, name)
			assert.Equal(t, tt.want, got.Text)
			assert.Equal(t, tt.kind, got.Kind)
		})
	}
}

// TestEndedMessages: every reason a session ends has its own message on the
// login page, and an unknown reason the general one.
func TestEndedMessages(t *testing.T) {
	for reason, want := range map[string]string{
		session.EndSSODisabled:     "Single sign-on was turned off by your organization's owner",
		session.EndMemberRemoved:   "You were removed from the organization",
		session.EndPasswordRevoked: "This organization now requires single sign-on",
		session.EndRevoked:         "An administrator ended your session",
		"host-specific":            sso.MessageFor(sso.CodeSessionEnded),
	} {
		assert.Contains(t, endedMessages[endedCode(reason)], want, "reason %q", reason)
	}
}
