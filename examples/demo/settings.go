package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/sso"
)

// settingsPage is the owner's SSO settings: the five steps on one page.
// Each step is its own form; a form that fails comes back with what was
// typed and the error, and nothing is saved.
type settingsPage struct {
	base
	Org         *sso.Organization
	OrgName     string
	SP          sso.SPDetails
	MetadataURL string
	OneClickURL string
	IdPMissing  string // why the IdP configuration is not complete yet; "" = complete
	BundledIdP  string // the bundled IdP's metadata URL
	UsesBundled bool

	Notice      notice
	Name        nameForm
	IdP         idpForm
	Meta        metaForm
	Users       usersForm
	Members     []memberRow
	MemberError string
	TestError   string
	EnableError string
	Events      []eventView

	Algorithms []option
	Delimiters []option
	OrgRoles   []option
}

type nameForm struct{ SSOName, Error string }

type metaForm struct{ XML, Error string }

// memberRow is one member in step 3's list.
type memberRow struct {
	Email, Name     string
	Role            rolemap.OrgRole
	Stacks          map[string][]string
	AllowWithoutSSO bool
	IsOwner         bool
	HasPassword     bool
}

// notice is the message shown after a successful save (?saved=…), in the
// section (step) that was saved.
type notice struct{ Step, Text string }

var settingsNotices = map[string]notice{
	"name":     {"step1", "SSO name saved. The bundled IdP now knows the new ACS URL."},
	"idp":      {"step2", "IdP configuration saved."},
	"metadata": {"step2", "IdP metadata imported."},
	"users":    {"step3", "User management settings saved."},
	"members":  {"step3", "Member updated."},
	"enabled":  {"step5", "SSO enabled. Members now sign in through the IdP."},
	"disabled": {"step5", "SSO disabled. Members sign in with passwords; SSO sessions have ended."},
}

// owner returns the signed-in owner, or answers the request itself (sign-in
// redirect, 403) and returns nil.
func (a *app) owner(w http.ResponseWriter, r *http.Request) *viewer {
	v, err := a.viewer(r)
	switch {
	case err != nil:
		a.internalError(w, r, err)
		return nil
	case v == nil:
		http.Redirect(w, r, "/login?"+sso.ReturnToParam+"=/settings", http.StatusSeeOther)
		return nil
	case !v.IsOwner():
		a.log.Info("settings refused", "user", v.User.ID, "role", v.Member.OrgRole)
		a.renderError(w, r, http.StatusForbidden, "Owner only",
			"Only the organization owner can see and change the SSO settings. You are signed in as "+
				v.User.Email+" ("+string(v.Member.OrgRole)+").")
		return nil
	}
	return v
}

// settingsData fills the page from the stored organization.
func (a *app) settingsData(ctx context.Context, v *viewer) (settingsPage, error) {
	org, err := a.store.Organization(ctx, v.Org.ID)
	if err != nil {
		return settingsPage{}, err
	}
	v.Org = org
	p := settingsPage{
		base:        base{Title: "SSO settings", Viewer: v},
		Org:         org,
		OrgName:     demoOrgName,
		SP:          a.svc.Details(org),
		MetadataURL: a.baseURL + "/sso/" + org.SSOName + "/metadata",
		OneClickURL: a.baseURL + "/login?" + sso.TriggerParam + "=" + org.SSOName,
		BundledIdP:  a.idp.URL + "/metadata",
		UsesBundled: a.idp.owns(org.IdP),
		Name:        nameForm{SSOName: org.SSOName},
		IdP:         idpFormFrom(org.IdP),
		Users:       usersFormFrom(org),
		Events:      a.events.recent(org.ID, org.SSOName),
		Algorithms:  algorithmChoices(org.IdP.SignatureAlgorithm),
		Delimiters:  delimiterChoices(org.RoleMapping.Delimiter),
		OrgRoles:    orgRoleOptions,
	}
	if err := org.IdP.ValidateAt(a.now()); err != nil {
		p.IdPMissing = configMessage(err)
	}
	users, err := a.users.List(ctx, org.ID)
	if err != nil {
		return settingsPage{}, err
	}
	for _, u := range users {
		m, err := a.store.Member(ctx, org.ID, u.Email)
		if errors.Is(err, sso.ErrNotFound) {
			continue
		} else if err != nil {
			return settingsPage{}, err
		}
		p.Members = append(p.Members, memberRow{
			Email: m.Email, Name: strings.TrimSpace(m.FirstName + " " + m.LastName), Role: m.OrgRole, Stacks: m.StackRoles,
			AllowWithoutSSO: m.AllowWithoutSSO, IsOwner: m.UserID == org.OwnerID, HasPassword: u.PasswordHash != "",
		})
	}
	return p, nil
}

// showSettings renders the page after edit changed it (a form's input and
// error), or the saved state when edit is nil.
func (a *app) showSettings(w http.ResponseWriter, r *http.Request, v *viewer, status int, edit func(*settingsPage)) {
	p, err := a.settingsData(r.Context(), v)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	if edit != nil {
		edit(&p)
	} else {
		p.Notice = settingsNotices[r.URL.Query().Get("saved")]
	}
	a.render(w, status, "settings", p)
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

// handleSaveName saves step 1, the SSO name (only while SSO is disabled).
func (a *app) handleSaveName(w http.ResponseWriter, r *http.Request) {
	v := a.ownerForm(w, r, 16<<10)
	if v == nil {
		return
	}
	ctx := r.Context()
	name := strings.TrimSpace(r.PostForm.Get("sso_name"))
	fail := func(msg string) {
		a.showSettings(w, r, v, http.StatusUnprocessableEntity, func(p *settingsPage) {
			p.Name = nameForm{SSOName: cut(name, 200), Error: msg}
		})
	}
	org := v.Org // loaded for this request by owner(); settingsData reloads it
	if name == org.SSOName {
		saved(w, r, "name")
		return
	}
	if org.Enabled {
		fail("Disable SSO (step 5) before changing the SSO name: your IdP sends sign-ins to the current ACS URL.")
		return
	}
	if err := sso.ValidateSSOName(name); err != nil {
		fail(configMessage(err))
		return
	}
	org.SSOName = name
	if err := a.store.SaveOrganization(ctx, org); err != nil {
		if errors.Is(err, sso.ErrSSONameTaken) {
			fail("Another organization already uses that SSO name. Choose another one.")
			return
		}
		a.internalError(w, r, err)
		return
	}
	if err := a.registerSP(ctx, org); err != nil {
		a.log.Warn("registering the new SP metadata at the bundled IdP", "err", err)
	}
	saved(w, r, "name")
}

// handleSaveIdP saves step 2 entered by hand: SSO URL, entity ID,
// certificates (pasted or uploaded), algorithm.
func (a *app) handleSaveIdP(w http.ResponseWriter, r *http.Request) {
	v := a.ownerForm(w, r, 1<<20)
	if v == nil {
		return
	}
	ctx := r.Context()
	f := idpForm{
		SSOURL:       cut(r.PostFormValue("sso_url"), 2048),
		EntityID:     cut(r.PostFormValue("entity_id"), 1024),
		Certificates: r.PostFormValue("certificates"),
		Algorithm:    r.PostFormValue("algorithm"),
	}
	fail := func(msg string) {
		a.showSettings(w, r, v, http.StatusUnprocessableEntity, func(p *settingsPage) {
			f.Error = msg
			p.IdP = f
		})
	}
	// An uploaded file joins the pasted text, so a failed save shows it in
	// the text area and nothing typed or chosen is lost.
	if file, err := readUpload(r, "certificate_file", 64<<10); err != nil {
		fail(err.Error())
		return
	} else if file != "" {
		f.Certificates = strings.TrimSpace(f.Certificates + "\n" + file)
	}
	org := v.Org // loaded for this request by owner(); settingsData reloads it
	cfg, err := f.config(org.IdP.SignatureAlgorithm)
	if err != nil {
		fail(err.Error())
		return
	}
	c := *org
	c.IdP = cfg
	// Enabled: the configuration must be complete and its certificates
	// valid now. A draft may be saved piece by piece.
	if err := c.ValidateAt(a.now()); err != nil {
		fail(configMessage(err))
		return
	}
	if err := a.store.SaveOrganization(ctx, &c); err != nil {
		a.internalError(w, r, err)
		return
	}
	saved(w, r, "idp")
}

// handleImportMetadata saves step 2 from the IdP's metadata XML (pasted or
// uploaded).
func (a *app) handleImportMetadata(w http.ResponseWriter, r *http.Request) {
	v := a.ownerForm(w, r, 2*sso.MaxIdPMetadataSize+(64<<10))
	if v == nil {
		return
	}
	ctx := r.Context()
	xml := r.PostFormValue("metadata")
	fail := func(msg string) {
		a.showSettings(w, r, v, http.StatusUnprocessableEntity, func(p *settingsPage) {
			p.Meta = metaForm{XML: xml, Error: msg}
		})
	}
	if file, err := readUpload(r, "metadata_file", sso.MaxIdPMetadataSize); err != nil {
		fail(err.Error())
		return
	} else if file != "" {
		xml = file
	}
	if strings.TrimSpace(xml) == "" {
		fail("Paste the IdP's metadata XML or choose the file.")
		return
	}
	cfg, err := sso.ParseIdPMetadata([]byte(xml))
	if err != nil {
		fail(configMessage(err))
		return
	}
	org := v.Org // loaded for this request by owner(); settingsData reloads it
	// Metadata does not say which algorithm the IdP signs with: keep the
	// owner's choice.
	cfg.SignatureAlgorithm = org.IdP.SignatureAlgorithm
	c := *org
	c.IdP = cfg
	if err := c.IdP.ValidateAt(a.now()); err != nil {
		fail(configMessage(err))
		return
	}
	if err := a.store.SaveOrganization(ctx, &c); err != nil {
		a.internalError(w, r, err)
		return
	}
	saved(w, r, "metadata")
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
	ctx := r.Context()
	f := parseUsersForm(r)
	if r.PostForm.Get("op") == "add_row" {
		a.showSettings(w, r, v, http.StatusOK, func(p *settingsPage) {
			f.Rows = append(f.Rows, mappingRow{OrgRole: string(rolemap.RoleMember)})
			p.Users = f
		})
		return
	}
	org := v.Org // loaded for this request by owner(); settingsData reloads it
	c, err := f.apply(org, a.now())
	if err != nil {
		a.showSettings(w, r, v, http.StatusUnprocessableEntity, func(p *settingsPage) {
			f.Error = err.Error()
			p.Users = f.withBlankRow()
		})
		return
	}
	if err := a.store.SaveOrganization(ctx, c); err != nil {
		a.internalError(w, r, err)
		return
	}
	saved(w, r, "users")
}

// parseUsersForm reads step 3's form. Rows come as parallel lists; the
// "remove" checkboxes carry row numbers.
func parseUsersForm(r *http.Request) usersForm {
	f := usersForm{
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

// handleSaveMember sets a member's "allow access without SSO" (step 3).
func (a *app) handleSaveMember(w http.ResponseWriter, r *http.Request) {
	v := a.ownerForm(w, r, 16<<10)
	if v == nil {
		return
	}
	ctx := r.Context()
	fail := func(msg string) {
		a.showSettings(w, r, v, http.StatusUnprocessableEntity, func(p *settingsPage) { p.MemberError = msg })
	}
	m, err := a.store.Member(ctx, v.Org.ID, r.PostForm.Get("email"))
	switch {
	case errors.Is(err, sso.ErrNotFound):
		fail("No such member.")
		return
	case err != nil:
		a.internalError(w, r, err)
		return
	case m.UserID == v.Org.OwnerID:
		fail("The owner can always sign in with a password; nothing to change.")
		return
	}
	m.AllowWithoutSSO = r.PostForm.Get("allow") == "on"
	if err := a.store.SaveMember(ctx, m); err != nil {
		a.internalError(w, r, err)
		return
	}
	saved(w, r, "members")
}

// handleTestSSO starts step 4, Test SSO: a round trip for the owner alone.
func (a *app) handleTestSSO(w http.ResponseWriter, r *http.Request) {
	v := a.owner(w, r)
	if v == nil {
		return
	}
	rd, err := a.svc.StartTest(r.Context(), v.Org.ID, v.User.ID)
	if err != nil {
		a.log.Info("Test SSO refused", "err", err)
		a.showSettings(w, r, v, http.StatusUnprocessableEntity, func(p *settingsPage) {
			p.TestError = "Test SSO cannot start: " + configMessage(err)
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
		err = a.svc.Enable(r.Context(), v.Org.ID, v.User.ID)
	} else {
		err = a.svc.Disable(r.Context(), v.Org.ID, v.User.ID)
	}
	switch {
	case errors.Is(err, sso.ErrInvalidConfig):
		a.showSettings(w, r, v, http.StatusUnprocessableEntity, func(p *settingsPage) {
			p.EnableError = "SSO cannot be enabled yet. " + configMessage(err)
		})
		return
	case errors.Is(err, sso.ErrNotOwner):
		a.renderError(w, r, http.StatusForbidden, "Owner only", sso.UserMessage(err))
		return
	case err != nil:
		a.internalError(w, r, err)
		return
	}
	if on {
		saved(w, r, "enabled")
	} else {
		saved(w, r, "disabled")
	}
}
