package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

// settingsPage is the owner's SSO settings: the five steps on one page.
// Each step is its own form; a form that fails comes back with what was
// typed and the error, and nothing is saved. Every change goes through the
// Service's admin API (UpdateOrganization, Enable, Disable, AddMember, …),
// which checks the owner, the organization's rules and concurrent edits, and
// reports each change to the audit trail.
type settingsPage struct {
	base
	Org         *sso.Organization
	OrgName     string
	SP          sso.SPDetails
	MetadataURL string
	OneClickURL string
	IdPMissing  string   // why the IdP configuration is not complete yet; "" = complete
	IdPWarnings []string // IdPConfig.Warnings: certificates expiring soon
	Certs       []certificateRow
	BundledIdP  string // the bundled IdP's metadata URL
	UsesBundled bool

	Notice notice
	Name   nameForm
	IdP    idpForm
	Meta   metaForm
	Attrs  attrForm
	Users  usersForm

	Members       []memberRow
	MembersCursor string // the page shown starts after it; "" = the first page
	MembersNext   string // the next page's cursor; "" = last page
	MemberError   string
	Invite        inviteForm

	MFAError string // a refused save of the MFA policy

	TestError   string
	EnableError string
	Audit       []auditEntry

	Connections []connectionRow
	AddConn     connForm
	ConnError   string // a refused Test / Enable / Disable of a connection
	BundledOP   string // the bundled OpenID provider's issuer
	// RedirectPattern is an OIDC connection's redirect URI, ID left out.
	RedirectPattern string

	Algorithms   []option
	Delimiters   []option
	OrgRoles     []option
	DefaultAttrs attrForm // orgsso's default attribute names, as hints
}

type nameForm struct{ SSOName, Error, Invalid string }

type metaForm struct{ XML, Error string }

// memberRow is one member in step 3's list.
type memberRow struct {
	Email, Name     string
	Role            rolemap.OrgRole
	Stacks          map[string][]string
	AllowWithoutSSO bool
	IsOwner         bool
	HasPassword     bool
	MFAEnrolled     bool // has set up two-step verification
}

// certificateRow is one saved IdP certificate, as step 2 lists it.
type certificateRow struct {
	N        int    // from 1
	Subject  string // common name, or the whole subject
	Expires  string // date
	Expiring bool   // within 30 days, or expired
}

// certificateRows describes the configuration's certificates at now.
func certificateRows(c sso.IdPConfig, now time.Time) []certificateRow {
	var out []certificateRow
	for i, p := range c.Certificates {
		row := certificateRow{N: i + 1, Subject: "(cannot be read)"}
		if b, _ := pem.Decode([]byte(p)); b != nil {
			if cert, err := x509.ParseCertificate(b.Bytes); err == nil {
				row.Subject = cert.Subject.CommonName
				if row.Subject == "" {
					row.Subject = cert.Subject.String()
				}
				row.Expires = cert.NotAfter.UTC().Format(time.DateOnly)
				row.Expiring = cert.NotAfter.Sub(now) < 30*24*time.Hour
			}
		}
		out = append(out, row)
	}
	return out
}

// notice is the message shown after a successful save (?saved=…), in the
// section (step) that was saved.
type notice struct{ Step, Text string }

var settingsNotices = map[string]notice{
	"name":       {"step1", "SSO name saved. The bundled IdP now knows the new ACS URL."},
	"idp":        {"step2", "IdP configuration saved."},
	"metadata":   {"step2", "IdP metadata imported."},
	"attributes": {"step2", "Attribute names saved."},
	"users":      {"step3", "User management settings saved."},
	"member":     {"members", "Member updated."},
	"invited":    {"members", "Member invited. They can sign in through SSO now."},
	"removed":    {"members", "Member removed. Their sessions have ended."},
	"sessions":   {"members", "The member's sessions have ended."},
	"mfa":        {"mfa-settings", "Two-step verification settings saved."},
	"mfa_reset":  {"members", "Two-step verification reset. The member sets it up again at their next SSO sign-in."},
	"enabled":    {"step5", "SSO enabled. Members now sign in through the IdP."},
	"disabled":   {"step5", "SSO disabled. Members sign in with passwords; SSO sessions have ended."},

	"connection_added":    {"connections", "Connection added. It starts disabled: test it, then enable it."},
	"connection_saved":    {"connections", "Connection saved."},
	"connection_enabled":  {"connections", "Connection enabled. Members can choose it at “Login via SSO”."},
	"connection_disabled": {"connections", "Connection disabled. Its SSO sessions have ended."},
}

// owner returns the signed-in owner, or answers the request itself (sign-in
// redirect, 403, 503) and returns nil.
func (a *app) owner(w http.ResponseWriter, r *http.Request) *viewer {
	v := a.signedIn(w, r)
	if v != nil && !v.IsOwner() {
		a.log.Info("settings refused", "user", v.User.ID, "role", v.Member.OrgRole)
		a.renderError(w, r, http.StatusForbidden, "Owner only",
			"Only the organization owner can see and change the SSO settings. You are signed in as "+
				v.Member.Email+" ("+string(v.Member.OrgRole)+").")
		return nil
	}
	return v
}

// actor is who makes an administrative change: the session's user.
func (v *viewer) actor() string { return v.Session.UserID }

// settingsData fills the page from the organization as it is now.
// membersCursor is where the member list starts ("" = the first page).
func (a *app) settingsData(ctx context.Context, v *viewer, membersCursor string) (settingsPage, error) {
	org, err := a.svc.Organization(ctx, v.Org.ID)
	if err != nil {
		return settingsPage{}, err
	}
	v.Org = org
	now := a.now()
	def := sso.DefaultAttributeNames()
	p := settingsPage{
		base:            base{Title: "SSO settings", Viewer: v},
		Org:             org,
		OrgName:         orgDisplayName(org),
		SP:              a.svc.Details(org),
		MetadataURL:     a.baseURL + "/sso/" + org.SSOName + "/metadata",
		OneClickURL:     a.baseURL + "/login?" + sso.TriggerParam + "=" + org.SSOName,
		IdPWarnings:     org.IdP.Warnings(now),
		Certs:           certificateRows(org.IdP, now),
		BundledIdP:      a.idp.URL + "/metadata",
		UsesBundled:     a.idp.owns(org.IdP),
		Name:            nameForm{SSOName: org.SSOName},
		IdP:             idpFormFrom(org.IdP),
		Attrs:           attrFormFrom(org.Attributes),
		Users:           usersFormFrom(org),
		MembersCursor:   membersCursor,
		Invite:          inviteForm{Role: string(rolemap.RoleMember)},
		Connections:     a.connectionRows(org),
		AddConn:         connForm{RolesClaim: oidcRolesClaim},
		BundledOP:       a.idp.op.Issuer,
		RedirectPattern: a.baseURL + "/sso/" + org.SSOName + "/{ID}/callback",
		Algorithms:      algorithmChoices(org.IdP.SignatureAlgorithm),
		Delimiters:      delimiterChoices(org.RoleMapping.Delimiter),
		OrgRoles:        orgRoleOptions,
		DefaultAttrs: attrFormFrom(sso.AttributeNames{Email: def.Email[:2], FirstName: def.FirstName[:2],
			LastName: def.LastName[:2], Roles: def.Roles[:2]}),
	}
	// What the IdP settings still lack: the organization's check as if
	// enabled (the rest of a saved organization is valid already).
	complete := org.Clone()
	complete.Enabled = true
	if err := complete.ValidateAt(now); err != nil {
		p.IdPMissing = userMessage(err)
	}
	members, next, err := a.svc.Members(ctx, org.ID, v.User.ID, membersCursor, a.perPage)
	if err != nil {
		return settingsPage{}, err
	}
	p.MembersNext = next
	for _, m := range members {
		row := memberRow{
			Email: m.Email, Name: strings.TrimSpace(m.FirstName + " " + m.LastName), Role: m.OrgRole, Stacks: m.StackRoles,
			AllowWithoutSSO: m.AllowWithoutSSO, IsOwner: m.UserID == org.OwnerID,
		}
		if u, err := a.users.ByID(ctx, m.UserID); err == nil && u.OrgID == org.ID {
			row.HasPassword = u.PasswordHash != ""
		} else if err != nil && !errors.Is(err, errNoUser) {
			return settingsPage{}, err
		}
		if row.MFAEnrolled, err = a.svc.MFAEnrolled(ctx, org.ID, v.actor(), m.UserID); err != nil {
			return settingsPage{}, err
		}
		p.Members = append(p.Members, row)
	}
	if p.Audit, err = a.auditTrail(ctx, org); err != nil {
		return settingsPage{}, err
	}
	return p, nil
}

// showSettings renders the page after edit changed it (a form's input and
// error), or the saved state when edit is nil.
func (a *app) showSettings(w http.ResponseWriter, r *http.Request, v *viewer, status int, edit func(*settingsPage)) {
	p, err := a.settingsData(r.Context(), v, cut(r.URL.Query().Get("members_after"), 600))
	if err != nil {
		a.failure(w, r, err)
		return
	}
	if edit != nil {
		edit(&p)
	} else {
		p.Notice = settingsNotices[r.URL.Query().Get("saved")]
	}
	a.render(w, status, "settings", p)
}

// formFailed answers a settings form that the demo or the Service refused:
// the settings page again (fill puts the message and what was typed into
// the form), 422, or 409 for a concurrent change. A store that cannot
// answer, a refusal of the actor, or a failure without a message for the
// owner answer with their own page.
func (a *app) formFailed(w http.ResponseWriter, r *http.Request, v *viewer, err error, fill func(p *settingsPage, msg string)) {
	var fe *fieldError
	var fm formError
	var re *sso.RuleError
	var ce *sso.ConfigError
	switch {
	case errors.Is(err, sso.ErrUnavailable):
		a.failure(w, r, err)
		return
	case errors.Is(err, sso.ErrNotOwner), errors.Is(err, sso.ErrNotAdmin):
		a.renderError(w, r, http.StatusForbidden, "Owner only", sso.UserMessage(err))
		return
	case errors.As(err, &fe), errors.As(err, &fm), errors.As(err, &re), errors.As(err, &ce),
		errors.Is(err, sso.ErrConflict), errors.Is(err, sso.ErrSSONameTaken),
		errors.Is(err, sso.ErrMemberExists), errors.Is(err, sso.ErrNotFound), errors.Is(err, session.ErrInvalidArgument):
	default:
		a.failure(w, r, err)
		return
	}
	status := http.StatusUnprocessableEntity
	if errors.Is(err, sso.ErrConflict) {
		status = http.StatusConflict
	}
	a.showSettings(w, r, v, status, func(p *settingsPage) { fill(p, userMessage(err)) })
}

// saved redirects to the settings page after a successful form (POST,
// redirect, GET), at the anchor of the step whose notice it shows.
func saved(w http.ResponseWriter, r *http.Request, what string) {
	http.Redirect(w, r, "/settings?saved="+what+"#"+settingsNotices[what].Step, http.StatusSeeOther)
}

// handleSettings shows the owner the SSO settings.
func (a *app) handleSettings(w http.ResponseWriter, r *http.Request) {
	if v := a.owner(w, r); v != nil {
		a.showSettings(w, r, v, http.StatusOK, nil)
	}
}

// ownerForm is owner, then parseForm: the owner's settings form, read, or nil
// when the answer was already sent.
func (a *app) ownerForm(w http.ResponseWriter, r *http.Request, limit int64) *viewer {
	v := a.owner(w, r)
	if v == nil {
		return nil
	}
	if err := parseForm(w, r, limit); err != nil {
		a.badForm(w, r, err)
		return nil
	}
	return v
}

// parseForm reads a urlencoded or multipart form of at most limit bytes.
func parseForm(w http.ResponseWriter, r *http.Request, limit int64) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return r.ParseMultipartForm(limit)
	}
	return r.ParseForm()
}

// badForm answers a form that could not even be read.
func (a *app) badForm(w http.ResponseWriter, r *http.Request, err error) {
	msg := "The form could not be read. Please try again."
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		msg = "The form is too large (at most " + strconv.FormatInt(mbe.Limit>>10, 10) + " KiB)."
	}
	a.renderError(w, r, http.StatusBadRequest, "Bad request", msg)
}

// update is Service.UpdateOrganization by the viewer.
func (a *app) update(ctx context.Context, v *viewer, edit func(*sso.Organization) error) (*sso.Organization, error) {
	return a.svc.UpdateOrganization(ctx, v.Org.ID, v.actor(), edit)
}

// handleSaveName saves step 1, the SSO name (orgsso allows it only while
// SSO is disabled).
func (a *app) handleSaveName(w http.ResponseWriter, r *http.Request) {
	v := a.ownerForm(w, r, 16<<10)
	if v == nil {
		return
	}
	ctx := r.Context()
	name := strings.TrimSpace(r.PostForm.Get("sso_name"))
	old := v.Org.SSOName
	org, err := a.update(ctx, v, func(o *sso.Organization) error {
		o.SSOName = name
		return nil
	})
	if err != nil {
		a.formFailed(w, r, v, err, func(p *settingsPage, msg string) {
			p.Name = nameForm{SSOName: cut(name, 200), Error: msg, Invalid: "sso_name"}
		})
		return
	}
	if org.SSOName != old {
		if err := a.registerSP(ctx, org); err != nil {
			a.log.Warn("registering the new SP metadata at the bundled IdP", "err", err)
		}
	}
	saved(w, r, "name")
}

// handleSaveIdP saves step 2 entered by hand: SSO URL, entity ID,
// certificates (pasted or uploaded), algorithm. orgsso refuses a new
// certificate that is not valid now (expired, say); one that expires
// within 30 days is saved and warned about.
func (a *app) handleSaveIdP(w http.ResponseWriter, r *http.Request) {
	v := a.ownerForm(w, r, 1<<20)
	if v == nil {
		return
	}
	f := idpForm{
		SSOURL:       cut(r.PostFormValue("sso_url"), 2048),
		EntityID:     cut(r.PostFormValue("entity_id"), 1024),
		Certificates: r.PostFormValue("certificates"),
		Algorithm:    r.PostFormValue("algorithm"),
	}
	fail := func(err error) {
		a.formFailed(w, r, v, err, func(p *settingsPage, msg string) {
			f.Error, f.Invalid = msg, invalidField(err)
			p.IdP = f
		})
	}
	// An uploaded file joins the pasted text, so a failed save shows it in
	// the text area and nothing typed or chosen is lost.
	if file, err := readUpload(r, "certificate_file", 64<<10); err != nil {
		fail(&fieldError{Field: "certificates", Row: -1, Msg: err.Error()})
		return
	} else if file != "" {
		f.Certificates = strings.TrimSpace(f.Certificates + "\n" + file)
	}
	cfg, err := f.config(v.Org.IdP.SignatureAlgorithm)
	if err != nil {
		fail(err)
		return
	}
	if _, err := a.update(r.Context(), v, func(o *sso.Organization) error {
		o.IdP = cfg
		return nil
	}); err != nil {
		fail(err)
		return
	}
	saved(w, r, "idp")
}

// handleImportMetadata saves step 2 from the IdP's metadata XML (pasted or
// uploaded).
func (a *app) handleImportMetadata(w http.ResponseWriter, r *http.Request) {
	v := a.ownerForm(w, r, 2*saml.MaxIdPMetadataSize+(64<<10))
	if v == nil {
		return
	}
	xml := r.PostFormValue("metadata")
	fail := func(err error) {
		a.formFailed(w, r, v, err, func(p *settingsPage, msg string) {
			p.Meta = metaForm{XML: xml, Error: msg}
		})
	}
	if file, err := readUpload(r, "metadata_file", saml.MaxIdPMetadataSize); err != nil {
		fail(err)
		return
	} else if file != "" {
		xml = file
	}
	if strings.TrimSpace(xml) == "" {
		fail(formError("Paste the IdP's metadata XML or choose the file."))
		return
	}
	cfg, err := sso.ParseIdPMetadata([]byte(xml))
	if err != nil {
		fail(err)
		return
	}
	if _, err := a.update(r.Context(), v, func(o *sso.Organization) error {
		// Metadata does not say which algorithm the IdP signs with: keep
		// the owner's choice.
		cfg.SignatureAlgorithm = o.IdP.SignatureAlgorithm
		o.IdP = cfg
		return nil
	}); err != nil {
		fail(err)
		return
	}
	saved(w, r, "metadata")
}

// handleSaveAttributes saves the attribute names identities are read from
// (Organization.Attributes), as a Test SSO report shows them.
func (a *app) handleSaveAttributes(w http.ResponseWriter, r *http.Request) {
	v := a.ownerForm(w, r, 64<<10)
	if v == nil {
		return
	}
	f := attrForm{
		Email:     cut(r.PostForm.Get("attr_email"), 8<<10),
		FirstName: cut(r.PostForm.Get("attr_first_name"), 8<<10),
		LastName:  cut(r.PostForm.Get("attr_last_name"), 8<<10),
		Roles:     cut(r.PostForm.Get("attr_roles"), 8<<10),
	}
	names, err := f.names()
	if err == nil {
		_, err = a.update(r.Context(), v, func(o *sso.Organization) error {
			o.Attributes = names
			return nil
		})
	}
	if err != nil {
		a.formFailed(w, r, v, err, func(p *settingsPage, msg string) {
			f.Error, f.Invalid = msg, invalidField(err)
			p.Attrs = f
		})
		return
	}
	saved(w, r, "attributes")
}

// readUpload returns the text of an uploaded file field, "" when none was
// chosen.
func readUpload(r *http.Request, field string, limit int64) (string, error) {
	if r.MultipartForm == nil {
		return "", nil
	}
	fhs := r.MultipartForm.File[field]
	if len(fhs) == 0 || fhs[0].Size == 0 {
		return "", nil
	}
	if fhs[0].Size > limit {
		return "", formErrorf("The file is too large (at most %d KiB).", limit>>10)
	}
	f, err := fhs[0].Open()
	if err != nil {
		return "", formError("The uploaded file could not be read.")
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return "", formError("The uploaded file could not be read.")
	}
	return string(b), nil
}

// handleSaveUsers saves step 3: strict mode, session timeout, role mapping,
// JIT. Its "Add row" button only shows the form again with one more row.
func (a *app) handleSaveUsers(w http.ResponseWriter, r *http.Request) {
	v := a.ownerForm(w, r, 256<<10)
	if v == nil {
		return
	}
	f := parseUsersForm(r)
	if r.PostForm.Get("op") == "add_row" {
		a.showSettings(w, r, v, http.StatusOK, func(p *settingsPage) {
			f.Rows = append(f.Rows, mappingRow{OrgRole: string(rolemap.RoleMember)})
			p.Users = f
		})
		return
	}
	now := a.now()
	if _, err := a.update(r.Context(), v, func(o *sso.Organization) error { return f.apply(o, now) }); err != nil {
		a.formFailed(w, r, v, err, func(p *settingsPage, _ string) {
			p.Users = f.withBlankRow().withError(err)
		})
		return
	}
	saved(w, r, "users")
}

// parseUsersForm reads step 3's form. Rows come as parallel lists; the
// "remove" checkboxes carry row numbers.
func parseUsersForm(r *http.Request) usersForm {
	f := usersForm{
		InvalidRow:     -1,
		StrictMode:     r.PostForm.Get("strict_mode") == "on",
		TimeoutHours:   cut(r.PostForm.Get("session_timeout_hours"), 20),
		MappingEnabled: r.PostForm.Get("mapping_enabled") == "on",
		Delimiter:      r.PostForm.Get("delimiter"),
		JIT:            r.PostForm.Get("jit") == "on",
	}
	idp, roles, stacks, stackRoles := r.PostForm["idp_role"], r.PostForm["org_role"], r.PostForm["stack_uid"], r.PostForm["stack_roles"]
	remove := make(map[string]bool)
	for _, i := range r.PostForm["remove"] {
		remove[i] = true
	}
	at := func(s []string, i int) string {
		if i < len(s) {
			return cut(s[i], 500)
		}
		return ""
	}
	for i := range min(len(idp), 500) {
		f.Rows = append(f.Rows, mappingRow{
			IdPRole: at(idp, i), OrgRole: at(roles, i), StackUID: at(stacks, i), StackRoles: at(stackRoles, i),
			Remove: remove[strconv.Itoa(i)],
		})
	}
	return f
}

// handleTestSSO starts step 4, Test SSO: a round trip for the owner alone.
func (a *app) handleTestSSO(w http.ResponseWriter, r *http.Request) {
	v := a.owner(w, r)
	if v == nil {
		return
	}
	rd, err := a.svc.StartTest(r.Context(), v.Org.ID, v.actor())
	if err != nil {
		a.log.Info("Test SSO refused", "err", err)
		a.formFailed(w, r, v, err, func(p *settingsPage, msg string) {
			p.TestError = "Test SSO cannot start: " + msg
		})
		return
	}
	http.SetCookie(w, rd.Cookie) // the report opens only in this browser
	http.Redirect(w, r, rd.URL, http.StatusSeeOther)
}

// handleEnable turns SSO on: step 5 (owner only; orgsso checks it again).
func (a *app) handleEnable(w http.ResponseWriter, r *http.Request) { a.setEnabled(w, r, true) }

// handleDisable turns SSO off.
func (a *app) handleDisable(w http.ResponseWriter, r *http.Request) { a.setEnabled(w, r, false) }

// setEnabled enables or disables SSO for the owner's organization.
func (a *app) setEnabled(w http.ResponseWriter, r *http.Request, on bool) {
	v := a.owner(w, r)
	if v == nil {
		return
	}
	var err error
	if on {
		err = a.svc.Enable(r.Context(), v.Org.ID, v.actor())
	} else {
		err = a.svc.Disable(r.Context(), v.Org.ID, v.actor())
	}
	if err != nil {
		a.formFailed(w, r, v, err, func(p *settingsPage, msg string) {
			if on && errors.Is(err, sso.ErrInvalidConfig) {
				msg = "SSO cannot be enabled yet. " + msg
			}
			p.EnableError = msg
		})
		return
	}
	if on {
		saved(w, r, "enabled")
	} else {
		saved(w, r, "disabled")
	}
}
