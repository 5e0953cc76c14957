package main

import (
	"errors"
	"net/http"
	"strings"

	"github.com/orgsso/orgsso/sso"
)

// The members of step 3: listed with Service.Members (a page at a time),
// invited with AddMember, changed with SetMemberAccess, removed with
// RemoveMember, their sessions ended with RevokeSessions. orgsso checks that
// the actor may, and reports each change to the audit trail.

// memberFailed shows a member action's error above the member list.
func (a *app) memberFailed(w http.ResponseWriter, r *http.Request, v *viewer, err error) {
	a.formFailed(w, r, v, err, func(p *settingsPage, msg string) { p.MemberError = msg })
}

// handleMemberAccess sets a member's "allow access without SSO".
func (a *app) handleMemberAccess(w http.ResponseWriter, r *http.Request) {
	v := a.ownerForm(w, r, 16<<10)
	if v == nil {
		return
	}
	allow := r.PostForm.Get("allow") == "on"
	if _, err := a.svc.SetMemberAccess(r.Context(), v.Org.ID, v.actor(), r.PostForm.Get("email"), allow); err != nil {
		a.memberFailed(w, r, v, err)
		return
	}
	saved(w, r, "member")
}

// handleInvite adds a member: the app's user of this organization with that
// email (made now, without a password, if there is none), then the orgsso
// member with that user ID.
func (a *app) handleInvite(w http.ResponseWriter, r *http.Request) {
	v := a.ownerForm(w, r, 16<<10)
	if v == nil {
		return
	}
	ctx := r.Context()
	f := inviteForm{
		Email:           cut(strings.TrimSpace(r.PostForm.Get("email")), 254),
		Name:            cut(strings.TrimSpace(r.PostForm.Get("name")), 200),
		Role:            r.PostForm.Get("role"),
		AllowWithoutSSO: r.PostForm.Get("allow_without_sso") == "on",
	}
	fail := func(err error) {
		a.formFailed(w, r, v, err, func(p *settingsPage, msg string) {
			f.Error, f.Invalid, f.Open = msg, invalidField(err), true
			p.Invite = f
		})
	}
	m, err := f.member()
	if err != nil {
		fail(err)
		return
	}
	if err := sso.ValidateMemberEmail(m.Email); err != nil || !strings.Contains(m.Email, "@") {
		fail(&fieldError{Field: "email", Row: -1, Msg: "Enter the member's email address, like name@example.com."})
		return
	}
	u, err := a.users.ByEmail(ctx, v.Org.ID, m.Email)
	isNew := errors.Is(err, errNoUser)
	switch {
	case isNew:
		id, err := newUserID()
		if err != nil {
			a.failure(w, r, err)
			return
		}
		u = User{ID: id, OrgID: v.Org.ID, Email: m.Email, Name: strings.TrimSpace(m.FirstName + " " + m.LastName)}
	case err != nil:
		a.failure(w, r, err)
		return
	}
	m.UserID = u.ID
	if _, err := a.svc.AddMember(ctx, v.Org.ID, v.actor(), m); err != nil {
		fail(err)
		return
	}
	if isNew {
		if err := a.users.Save(ctx, u); err != nil {
			// The member is in; the app's user is made at their first SSO
			// sign-in (linkMember) instead.
			a.log.Warn("invite: saving the app's user", "err", err)
		}
	}
	saved(w, r, "invited")
}

// handleRemoveMember removes a member; orgsso ends their sessions.
func (a *app) handleRemoveMember(w http.ResponseWriter, r *http.Request) {
	v := a.ownerForm(w, r, 16<<10)
	if v == nil {
		return
	}
	if err := a.svc.RemoveMember(r.Context(), v.Org.ID, v.actor(), r.PostForm.Get("email")); err != nil {
		a.memberFailed(w, r, v, err)
		return
	}
	saved(w, r, "removed")
}

// handleEndSessions ends every session of a member ("an administrator ended
// your session").
func (a *app) handleEndSessions(w http.ResponseWriter, r *http.Request) {
	v := a.ownerForm(w, r, 16<<10)
	if v == nil {
		return
	}
	ctx := r.Context()
	m, err := a.svc.Member(ctx, v.Org.ID, r.PostForm.Get("email"))
	if err == nil {
		_, err = a.svc.RevokeSessions(ctx, v.Org.ID, v.actor(), m.UserID)
	}
	if err != nil {
		a.memberFailed(w, r, v, err)
		return
	}
	saved(w, r, "sessions")
}
