package main

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/orgsso/orgsso/sso"
)

// The settings page's Connections section: the organization's own SAML IdP
// (steps 1 and 2) and its further connections (sso.Connection), each with
// what its IdP needs to know about the app, Test SSO, and Enable / Disable;
// and a form to add an OIDC connection or change one. Every change goes
// through the Service: UpdateOrganization (a new connection starts
// disabled), EnableConnection, DisableConnection, StartConnectionTest.

// connectionRow is one connection as the section lists it.
type connectionRow struct {
	ID       string // "" for the organization's own IdP
	Key      string // ID, or "primary": for element IDs
	Name     string
	Protocol string // "SAML" or "OIDC"
	Primary  bool
	Enabled  bool // offered at sign-in (while SSO is enabled)

	ACSURL, MetadataURL string // SAML
	RedirectURI         string // OIDC: to register at the provider
	Issuer, ClientID    string // OIDC
	SecretSet           bool   // OIDC: a client secret is saved (never shown)
	RolesClaim          string // OIDC
	Domains             string // email domains routed here, comma-separated
	UsesBundled         bool   // trusts the demo's bundled provider

	Form connForm // the edit form (OIDC)
}

// connForm is the form that adds an OIDC connection or changes one. The
// client secret is never filled in: the page says only whether one is set,
// and an empty secret keeps the saved one.
type connForm struct {
	Connection string // the connection changed; "" = a new one
	ID, Name   string // ID: a new connection's
	Issuer     string
	ClientID   string
	RolesClaim string
	Domains    string
	Error      string
	Invalid    string // the input in error
	Open       bool   // show the form opened (after an error)
}

// connectionRows lists the organization's connections, its own IdP first.
func (a *app) connectionRows(org *sso.Organization) []connectionRow {
	sp := a.svc.Details(org)
	rows := []connectionRow{{
		Key: "primary", Name: sso.PrimaryConnectionName + " (the IdP of steps 1–2)", Protocol: "SAML", Primary: true,
		Enabled: org.Enabled && org.IdP.SSOURL != "", ACSURL: sp.ACSURL, MetadataURL: sp.EntityID,
		UsesBundled: a.idp.owns(org.IdP),
	}}
	for _, c := range org.Connections {
		rows = append(rows, a.connectionRow(org, c))
	}
	return rows
}

// connectionRow describes one connection (not the organization's own IdP).
func (a *app) connectionRow(org *sso.Organization, c sso.Connection) connectionRow {
	row := connectionRow{ID: c.ID, Key: c.ID, Name: c.Name, Protocol: protocolLabel(c.Protocol), Enabled: c.Enabled,
		Domains: strings.Join(c.Domains, ", ")}
	switch c.Protocol {
	case sso.ProtocolOIDC:
		row.RedirectURI, _ = a.svc.RedirectURL(org, c.ID)
		row.Issuer, row.ClientID, row.RolesClaim = c.OIDC.Issuer, c.OIDC.ClientID, c.OIDC.RolesClaim
		row.SecretSet = c.OIDC.ClientSecret != ""
		row.UsesBundled = a.idp.op.owns(c.OIDC)
		row.Form = connForm{Connection: c.ID, Name: c.Name, Issuer: c.OIDC.Issuer, ClientID: c.OIDC.ClientID,
			RolesClaim: c.OIDC.RolesClaim, Domains: row.Domains}
	default:
		if sp, err := a.svc.ConnectionDetails(org, c.ID); err == nil {
			row.ACSURL, row.MetadataURL = sp.ACSURL, sp.EntityID
		}
		row.UsesBundled = a.idp.owns(c.SAML)
	}
	return row
}

// connectionName names a connection for people.
func connectionName(org *sso.Organization, id string) string {
	if c := org.Connection(id); c != nil {
		return c.Name
	}
	return sso.PrimaryConnectionName
}

// connFields name the input of a connection's configuration field (the
// part of ConfigError.Field after "Connections[i]").
var connFields = map[string]string{
	".ID":                "connection_id",
	".Name":              "name",
	".OIDC.Issuer":       "issuer",
	".OIDC.ClientID":     "client_id",
	".OIDC.ClientSecret": "client_secret",
	".OIDC.RolesClaim":   "roles_claim",
	".Domains":           "domains",
}

// connInvalid returns the input of the connection form err is about.
func connInvalid(err error) string {
	var fe *fieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	var ce *sso.ConfigError
	if !errors.As(err, &ce) {
		return ""
	}
	_, rest, ok := strings.Cut(ce.Field, "]")
	if !ok {
		rest = strings.TrimPrefix(ce.Field, "Connections")
	}
	if i := strings.Index(rest, "["); i >= 0 { // ".Domains[2]"
		rest = rest[:i]
	}
	return connFields[rest]
}

// parseDomains reads a list of email domains separated by commas or
// spaces, lowercased, without duplicates.
func parseDomains(s string) []string {
	var out []string
	for _, d := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		d = strings.TrimPrefix(strings.TrimSpace(d), "@")
		if d != "" && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// handleSaveConnection adds an OIDC connection (disabled: Test it, then
// Enable it) or changes one. An empty client secret keeps the saved one.
func (a *app) handleSaveConnection(w http.ResponseWriter, r *http.Request) {
	v := a.ownerForm(w, r, 64<<10)
	if v == nil {
		return
	}
	ctx := r.Context()
	f := connForm{
		Connection: cut(strings.TrimSpace(r.PostForm.Get("connection")), 64),
		ID:         cut(strings.TrimSpace(r.PostForm.Get("connection_id")), 64),
		Name:       cut(strings.TrimSpace(r.PostForm.Get("name")), 400),
		Issuer:     cut(strings.TrimSpace(r.PostForm.Get("issuer")), 4096),
		ClientID:   cut(strings.TrimSpace(r.PostForm.Get("client_id")), 1024),
		RolesClaim: cut(strings.TrimSpace(r.PostForm.Get("roles_claim")), 512),
		Domains:    cut(r.PostForm.Get("domains"), 8<<10),
	}
	secret := strings.TrimSpace(r.PostForm.Get("client_secret"))
	add := f.Connection == ""
	org, err := a.update(ctx, v, func(o *sso.Organization) error {
		cfg := sso.OIDCConfig{Issuer: f.Issuer, ClientID: f.ClientID, RolesClaim: f.RolesClaim}
		if add {
			if err := sso.ValidateConnectionID(f.ID); err != nil {
				return &fieldError{Field: "connection_id", Row: -1, Msg: userMessage(err)}
			}
			if o.Connection(f.ID) != nil {
				return &fieldError{Field: "connection_id", Row: -1, Msg: "Another connection already has the ID “" + f.ID + "”."}
			}
			cfg.ClientSecret = sso.Secret(secret)
			o.Connections = append(o.Connections, sso.Connection{ID: f.ID, Name: f.Name, Protocol: sso.ProtocolOIDC,
				OIDC: cfg, Domains: parseDomains(f.Domains)})
			return nil
		}
		c := o.Connection(f.Connection)
		if c == nil {
			return formError("That connection is not in the organization (any more). Reload the page.")
		}
		if c.Protocol != sso.ProtocolOIDC {
			return formError("Only OIDC connections are edited here.")
		}
		cfg.ClientSecret = c.OIDC.ClientSecret
		retype := false
		if secret != "" {
			cfg.ClientSecret = sso.Secret(secret)
		} else {
			// The saved secret was given for one provider and client: it is
			// never sent to another one unless the owner types it again.
			retype = c.OIDC.ClientSecret != "" && (cfg.Issuer != c.OIDC.Issuer || cfg.ClientID != c.OIDC.ClientID)
		}
		cfg.Scopes, cfg.UserInfo = c.OIDC.Scopes, c.OIDC.UserInfo
		c.Name, c.OIDC, c.Domains = f.Name, cfg, parseDomains(f.Domains)
		if retype {
			if err := o.Validate(); err != nil {
				return err // a malformed issuer is said first
			}
			return &fieldError{Field: "client_secret", Row: -1, Msg: "Enter the client secret again: the issuer or client ID changed."}
		}
		return nil
	})
	if err != nil {
		a.formFailed(w, r, v, err, func(p *settingsPage, msg string) {
			f.Error, f.Invalid, f.Open = msg, connInvalid(err), true
			if add {
				p.AddConn = f
				return
			}
			for i := range p.Connections {
				if p.Connections[i].ID == f.Connection {
					p.Connections[i].Form = f
				}
			}
		})
		return
	}
	if err := a.registerSP(ctx, org); err != nil {
		a.log.Warn("registering the connection's redirect URI at the bundled provider", "err", err)
	}
	if add {
		saved(w, r, "connection_added")
	} else {
		saved(w, r, "connection_saved")
	}
}

// connectionAction reads the connection a Connections button is about, or
// answers the request itself and returns nil.
func (a *app) connectionAction(w http.ResponseWriter, r *http.Request) (*viewer, string) {
	v := a.ownerForm(w, r, 16<<10)
	if v == nil {
		return nil, ""
	}
	return v, cut(r.PostForm.Get("connection"), 64)
}

// connectionFailed shows a refused Connections button's error in the
// section.
func (a *app) connectionFailed(w http.ResponseWriter, r *http.Request, v *viewer, prefix string, err error) {
	if errors.Is(err, sso.ErrNotFound) || errors.Is(err, sso.ErrUnknownConnection) {
		err = formError("That connection is not in the organization (any more). Reload the page.")
	}
	a.formFailed(w, r, v, err, func(p *settingsPage, msg string) { p.ConnError = prefix + msg })
}

// handleTestConnection starts a Test SSO of one connection
// (Service.StartConnectionTest), enabled or not; the report is the same as
// step 4's.
func (a *app) handleTestConnection(w http.ResponseWriter, r *http.Request) {
	v, id := a.connectionAction(w, r)
	if v == nil {
		return
	}
	rd, err := a.svc.StartConnectionTest(r.Context(), v.Org.ID, id, v.actor())
	if err != nil {
		a.log.Info("Test SSO refused", "connection", id, "err", err)
		a.connectionFailed(w, r, v, "Test SSO cannot start: ", err)
		return
	}
	if c := v.Org.Connection(id); c != nil && c.Protocol == sso.ProtocolOIDC {
		setTestHint(w, id) // a failed callback then shows the owner the report
	}
	http.SetCookie(w, rd.Cookie) // the report opens only in this browser
	http.Redirect(w, r, rd.URL, http.StatusSeeOther)
}

// handleEnableConnection offers a connection at sign-in.
func (a *app) handleEnableConnection(w http.ResponseWriter, r *http.Request) {
	a.setConnectionEnabled(w, r, true)
}

// handleDisableConnection stops offering a connection; its sessions end.
func (a *app) handleDisableConnection(w http.ResponseWriter, r *http.Request) {
	a.setConnectionEnabled(w, r, false)
}

// setConnectionEnabled enables or disables one connection.
func (a *app) setConnectionEnabled(w http.ResponseWriter, r *http.Request, on bool) {
	v, id := a.connectionAction(w, r)
	if v == nil {
		return
	}
	var err error
	if on {
		err = a.svc.EnableConnection(r.Context(), v.Org.ID, id, v.actor())
	} else {
		err = a.svc.DisableConnection(r.Context(), v.Org.ID, id, v.actor())
	}
	if err != nil {
		prefix := ""
		if on && errors.Is(err, sso.ErrInvalidConfig) {
			prefix = "The connection cannot be enabled yet. "
		}
		a.connectionFailed(w, r, v, prefix, err)
		return
	}
	if on {
		saved(w, r, "connection_enabled")
	} else {
		saved(w, r, "connection_disabled")
	}
}
