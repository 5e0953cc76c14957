package main

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

// formError is a message for the person filling in a form: a sentence,
// capitalized and punctuated, unlike a Go error string.
type formError string

// Error implements error.
func (e formError) Error() string { return string(e) }

// formErrorf formats a formError.
func formErrorf(format string, args ...any) error { return formError(fmt.Sprintf(format, args...)) }

// fieldError is a message for the person filling in a form that names the
// input in error, so the page can mark it (aria-invalid): its name and, in
// the role mapping table, its row (from 0; -1 for an input outside the
// table).
type fieldError struct {
	Field string
	Row   int
	Msg   string
}

// Error implements error.
func (e *fieldError) Error() string { return e.Msg }

// rowErrorf is a fieldError of the role mapping table's row (from 0).
func rowErrorf(field string, row int, format string, args ...any) error {
	return &fieldError{Field: field, Row: row, Msg: fmt.Sprintf(format, args...)}
}

// option is one choice of a <select>.
type option struct{ Value, Label string }

// algorithmOptions are the signature policies an owner picks from: the
// weakest algorithm accepted (stronger ones, RSA or ECDSA, always pass).
var algorithmOptions = []option{
	{saml.AlgRSASHA256, "SHA-256 or stronger (recommended)"},
	{saml.AlgRSASHA384, "SHA-384 or stronger"},
	{saml.AlgRSASHA512, "SHA-512 only"},
	{saml.AlgRSASHA1, "SHA-1 or stronger (weak: legacy IdPs only)"},
}

// algorithmChoices returns the options, plus the current value if it is
// another one (set through the API).
func algorithmChoices(current string) []option {
	if current == "" || slices.ContainsFunc(algorithmOptions, func(o option) bool { return o.Value == current }) {
		return algorithmOptions
	}
	return append(slices.Clone(algorithmOptions), option{current, "Current: " + current})
}

// delimiterOptions are the role delimiters an owner picks from, by key.
var delimiterOptions = []struct{ Key, Value, Label string }{
	{"none", "", "None (one role per attribute value)"},
	{"comma", ",", "Comma ( , )"},
	{"semicolon", ";", "Semicolon ( ; )"},
	{"pipe", "|", "Pipe ( | )"},
	{"space", " ", "Space"},
}

// delimiterKey returns the option key of a delimiter, or "current" for one
// that is not among the options.
func delimiterKey(d string) string {
	for _, o := range delimiterOptions {
		if o.Value == d {
			return o.Key
		}
	}
	return "current"
}

// delimiterChoices returns the options, plus the current delimiter if it is
// not one of them.
func delimiterChoices(current string) []option {
	var out []option
	for _, o := range delimiterOptions {
		out = append(out, option{o.Key, o.Label})
	}
	if delimiterKey(current) == "current" {
		out = append(out, option{"current", "Current: " + strconv.Quote(current)})
	}
	return out
}

var orgRoleOptions = []option{{string(rolemap.RoleMember), "Member"}, {string(rolemap.RoleAdmin), "Admin"}}

// idpForm is step 2 entered by hand.
type idpForm struct {
	SSOURL       string
	EntityID     string
	Certificates string // PEM, one or more (rotation)
	Algorithm    string
	Error        string
	Invalid      string // the input in error
}

// idpFormFrom fills step 2 from the saved configuration.
func idpFormFrom(c sso.IdPConfig) idpForm {
	alg := c.SignatureAlgorithm
	if alg == "" {
		alg = saml.AlgRSASHA256
	}
	return idpForm{SSOURL: c.SSOURL, EntityID: c.EntityID, Certificates: strings.Join(c.Certificates, ""), Algorithm: alg}
}

// config reads the form into an IdP configuration; the error is for the
// owner. Whether the configuration is complete is the caller's question.
func (f idpForm) config(current string) (sso.IdPConfig, error) {
	if !slices.ContainsFunc(algorithmChoices(current), func(o option) bool { return o.Value == f.Algorithm }) {
		return sso.IdPConfig{}, &fieldError{Field: "algorithm", Row: -1, Msg: "Choose a signature algorithm from the list."}
	}
	certs, err := splitCertificates(f.Certificates)
	if err != nil {
		return sso.IdPConfig{}, &fieldError{Field: "certificates", Row: -1, Msg: err.Error()}
	}
	return sso.IdPConfig{
		SSOURL:             strings.TrimSpace(f.SSOURL),
		EntityID:           strings.TrimSpace(f.EntityID),
		Certificates:       certs,
		SignatureAlgorithm: f.Algorithm,
	}, nil
}

// splitCertificates turns pasted or uploaded text into one PEM string per
// certificate. It takes PEM blocks, or a bare base64 DER certificate as some
// IdP consoles show it. Duplicates are dropped.
func splitCertificates(text string) ([]string, error) {
	rest := bytes.TrimSpace([]byte(text))
	if len(rest) == 0 {
		return nil, nil
	}
	if !bytes.HasPrefix(rest, []byte("-----BEGIN")) {
		der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(rest)), ""))
		if err != nil {
			return nil, formError("The certificate is not in PEM format (-----BEGIN CERTIFICATE-----) or base64.")
		}
		rest = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	var out []string
	for n := 1; len(rest) > 0; n++ {
		if !bytes.HasPrefix(rest, []byte("-----BEGIN")) {
			return nil, formErrorf("Unexpected text after certificate %d; paste only PEM certificates.", n-1)
		}
		block, after := pem.Decode(rest)
		if block == nil {
			return nil, formErrorf("Certificate %d is not a complete PEM block (check the -----END CERTIFICATE----- line).", n)
		}
		if block.Type != "CERTIFICATE" {
			return nil, formErrorf("Certificate %d is a %q block; paste the IdP's X.509 signing certificate, never a private key.", n, block.Type)
		}
		p := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: block.Bytes}))
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
		rest = bytes.TrimSpace(after)
	}
	return out, nil
}

// usersForm is step 3: strict mode, session timeout, role mapping, JIT.
type usersForm struct {
	StrictMode     bool
	TimeoutHours   string
	MappingEnabled bool
	Delimiter      string // a delimiterOptions key, or "current"
	JIT            bool
	Rows           []mappingRow
	Error          string
	Invalid        string // the input in error
	InvalidRow     int    // its row in the role mapping table, from 0; -1 = none
}

// IsInvalid reports whether the input field of row i is the one in error.
func (f usersForm) IsInvalid(field string, i int) bool {
	return f.Invalid == field && f.InvalidRow == i
}

// withError is f showing err: its message and, for a fieldError, the input
// in error.
func (f usersForm) withError(err error) usersForm {
	f.Error, f.Invalid, f.InvalidRow = userMessage(err), "", -1
	var fe *fieldError
	if errors.As(err, &fe) {
		f.Invalid, f.InvalidRow = fe.Field, fe.Row
	}
	return f
}

// mappingRow is one row of the role mapping table: an IdP role, an
// organization role, and one stack with its roles. An IdP role with several
// stacks takes several rows.
type mappingRow struct {
	IdPRole    string
	OrgRole    string
	StackUID   string
	StackRoles string // comma-separated
	Remove     bool
}

// blank reports whether nothing was typed in the row.
func (r mappingRow) blank() bool {
	return strings.TrimSpace(r.IdPRole) == "" && strings.TrimSpace(r.StackUID) == "" && strings.TrimSpace(r.StackRoles) == ""
}

// usersFormFrom fills step 3 from the saved organization: one row per
// mapping, or per stack of a mapping, and an empty row to fill in.
func usersFormFrom(org *sso.Organization) usersForm {
	f := usersForm{
		InvalidRow:     -1,
		StrictMode:     org.StrictMode,
		TimeoutHours:   strconv.Itoa(int(org.EffectiveSessionTimeout() / time.Hour)),
		MappingEnabled: org.RoleMapping.Enabled,
		Delimiter:      delimiterKey(org.RoleMapping.Delimiter),
		JIT:            org.JITProvisioning,
	}
	for _, m := range org.RoleMapping.Mappings {
		if len(m.StackRoles) == 0 {
			f.Rows = append(f.Rows, mappingRow{IdPRole: m.IdPRole, OrgRole: string(m.OrgRole)})
			continue
		}
		for _, s := range slices.Sorted(maps.Keys(m.StackRoles)) {
			f.Rows = append(f.Rows, mappingRow{IdPRole: m.IdPRole, OrgRole: string(m.OrgRole), StackUID: s, StackRoles: strings.Join(m.StackRoles[s], ", ")})
		}
	}
	return f.withBlankRow()
}

// withBlankRow makes sure the table ends with an empty row to fill in.
func (f usersForm) withBlankRow() usersForm {
	if len(f.Rows) == 0 || !f.Rows[len(f.Rows)-1].blank() {
		f.Rows = append(f.Rows, mappingRow{OrgRole: string(rolemap.RoleMember)})
	}
	return f
}

// apply writes the form into o, an organization being edited (with
// Service.UpdateOrganization), and checks the result with
// Organization.ValidateAt, so that an invalid mapping is reported with its
// row in the table. The error is a *fieldError naming the input.
func (f usersForm) apply(o *sso.Organization, now time.Time) error {
	hours, err := strconv.Atoi(strings.TrimSpace(f.TimeoutHours))
	if err != nil || hours < 1 || hours > 24 {
		return &fieldError{Field: "session_timeout_hours", Row: -1, Msg: "Session timeout must be a whole number of hours from 1 to 24."}
	}
	delim, ok := "", false
	for _, opt := range delimiterOptions {
		if opt.Key == f.Delimiter {
			delim, ok = opt.Value, true
		}
	}
	if f.Delimiter == "current" {
		delim, ok = o.RoleMapping.Delimiter, true
	}
	if !ok {
		return &fieldError{Field: "delimiter", Row: -1, Msg: "Choose a role delimiter from the list."}
	}
	mappings, rowOf, err := buildMappings(f.Rows)
	if err != nil {
		return err
	}
	o.StrictMode = f.StrictMode
	if timeout := time.Duration(hours) * time.Hour; timeout != o.EffectiveSessionTimeout() {
		o.SessionTimeout = timeout // else the default stays the default (0)
	}
	o.JITProvisioning = f.JIT
	o.RoleMapping = rolemap.Config{Enabled: f.MappingEnabled, Delimiter: delim, Mappings: mappings}
	if err := o.ValidateAt(now); err != nil {
		var me *rolemap.MappingError
		if errors.As(err, &me) && me.Index >= 0 && me.Index < len(rowOf) {
			field := "idp_role"
			switch {
			case strings.HasPrefix(me.Reason, "organization role"):
				field = "org_role"
			case strings.HasPrefix(me.Reason, "stack UID"):
				field = "stack_uid"
			case strings.HasPrefix(me.Reason, "stack"):
				field = "stack_roles"
			}
			row := rowOf[me.Index]
			return rowErrorf(field, row, "Role mapping row %d (%q): %s.", row+1, me.IdPRole, me.Reason)
		}
		return err
	}
	return nil
}

// buildMappings turns table rows into mappings: blank and removed rows are
// skipped, rows with the same IdP role are merged (their stacks combined),
// and rowOf[i] is the first row of mapping i.
func buildMappings(rows []mappingRow) (ms []rolemap.Mapping, rowOf []int, err error) {
	index := make(map[string]int)
	for i, r := range rows {
		if r.Remove || r.blank() {
			continue
		}
		n := i + 1
		idpRole := strings.TrimSpace(r.IdPRole)
		stack := strings.TrimSpace(r.StackUID)
		var roles []string
		for _, s := range strings.Split(r.StackRoles, ",") {
			if s = strings.TrimSpace(s); s != "" && !slices.Contains(roles, s) {
				roles = append(roles, s)
			}
		}
		role := rolemap.OrgRole(r.OrgRole)
		switch {
		case idpRole == "":
			return nil, nil, rowErrorf("idp_role", i, "Role mapping row %d: enter the IdP role (group name or UID).", n)
		case role != rolemap.RoleMember && role != rolemap.RoleAdmin:
			return nil, nil, rowErrorf("org_role", i, "Role mapping row %d: choose Member or Admin as the organization role.", n)
		case stack != "" && len(roles) == 0:
			return nil, nil, rowErrorf("stack_roles", i, "Role mapping row %d: stack %q needs at least one stack role.", n, stack)
		case stack == "" && len(roles) > 0:
			return nil, nil, rowErrorf("stack_uid", i, "Role mapping row %d: enter the stack UID the stack roles apply to.", n)
		}
		j, seen := index[idpRole]
		if !seen {
			j = len(ms)
			index[idpRole] = j
			ms = append(ms, rolemap.Mapping{IdPRole: idpRole, OrgRole: role})
			rowOf = append(rowOf, i)
		} else if ms[j].OrgRole != role {
			return nil, nil, rowErrorf("org_role", i, "Role mapping row %d: IdP role %q is already mapped to %s in row %d; one IdP role has one organization role.",
				n, idpRole, ms[j].OrgRole, rowOf[j]+1)
		}
		if stack != "" {
			if ms[j].StackRoles == nil {
				ms[j].StackRoles = make(map[string][]string)
			}
			for _, s := range roles {
				if !slices.Contains(ms[j].StackRoles[stack], s) {
					ms[j].StackRoles[stack] = append(ms[j].StackRoles[stack], s)
				}
			}
		}
	}
	return ms, rowOf, nil
}

// userMessage turns an error of a settings form into a sentence for the
// owner: the demo's own form errors as they are, the organization's rules
// (*sso.RuleError) by their Rule, configuration errors by
// ConfigError.UserMessage (positions from 1), anything else by
// sso.UserMessage. Never Go error text.
func userMessage(err error) string {
	var fe *fieldError
	var fm formError
	var re *sso.RuleError
	var ce *sso.ConfigError
	switch {
	case errors.As(err, &fe):
		return fe.Msg
	case errors.As(err, &fm):
		return string(fm)
	case errors.As(err, &re):
		return re.Rule
	case errors.Is(err, sso.ErrSSONameTaken):
		return "Another organization already uses that SSO name. Choose another one."
	case errors.Is(err, sso.ErrMemberExists):
		return "That email address is already a member of the organization."
	case errors.Is(err, sso.ErrNotFound), errors.Is(err, session.ErrInvalidArgument):
		return "That member is not in the organization (any more). Reload the page."
	case errors.As(err, &ce):
		return ce.UserMessage()
	}
	return sso.UserMessage(err)
}

// formFields name the input of a configuration field (ConfigError.Field),
// to mark it in error.
var formFields = map[string]string{
	"SSOName":                "sso_name",
	"IdP.SSOURL":             "sso_url",
	"IdP.EntityID":           "entity_id",
	"IdP.Certificates":       "certificates",
	"IdP.SignatureAlgorithm": "algorithm",
	"Email":                  "email",
	"FirstName":              "name",
	"OrgRole":                "role",
}

// invalidField returns the input err is about: a fieldError's, or a
// configuration field's; "" when it names none.
func invalidField(err error) string {
	var fe *fieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	var ce *sso.ConfigError
	if errors.As(err, &ce) {
		base, _, _ := strings.Cut(ce.Field, "[")
		return formFields[base]
	}
	var re *sso.RuleError
	if errors.As(err, &re) {
		return formFields[re.Field]
	}
	return ""
}

// attrForm is the attribute names an organization reads identities from
// (Organization.Attributes), one list per field, comma-separated.
type attrForm struct {
	Email, FirstName, LastName, Roles string
	Error, Invalid                    string
}

// attrFormFrom fills the form from the saved names.
func attrFormFrom(n sso.AttributeNames) attrForm {
	return attrForm{Email: strings.Join(n.Email, ", "), FirstName: strings.Join(n.FirstName, ", "),
		LastName: strings.Join(n.LastName, ", "), Roles: strings.Join(n.Roles, ", ")}
}

// maxAttributeNames bounds each list of attribute names.
const maxAttributeNames = sso.MaxAttributeNames

// names reads the form; empty lists mean orgsso's defaults.
func (f attrForm) names() (sso.AttributeNames, error) {
	var out sso.AttributeNames
	for _, x := range []struct {
		field, label, text string
		dst                *[]string
	}{
		{"attr_email", "Email", f.Email, &out.Email},
		{"attr_first_name", "First name", f.FirstName, &out.FirstName},
		{"attr_last_name", "Last name", f.LastName, &out.LastName},
		{"attr_roles", "Roles", f.Roles, &out.Roles},
	} {
		for _, n := range strings.Split(x.text, ",") {
			n = strings.TrimSpace(n)
			switch {
			case n == "":
				continue
			case len(n) > 256 || !utf8.ValidString(n) || strings.ContainsFunc(n, unicode.IsControl):
				return out, &fieldError{Field: x.field, Row: -1, Msg: x.label + ": an attribute name is at most 256 characters, without control characters."}
			}
			if !slices.Contains(*x.dst, n) {
				*x.dst = append(*x.dst, n)
			}
		}
		if len(*x.dst) > maxAttributeNames {
			return out, &fieldError{Field: x.field, Row: -1, Msg: fmt.Sprintf("%s: at most %d attribute names.", x.label, maxAttributeNames)}
		}
	}
	return out, nil
}

// inviteForm is the invitation of a member.
type inviteForm struct {
	Email, Name, Role string
	AllowWithoutSSO   bool
	Error, Invalid    string
	Open              bool // show the form (it failed)
}

// member reads the form into the member to add; the user ID is the
// caller's.
func (f inviteForm) member() (sso.Member, error) {
	first, last, _ := strings.Cut(strings.TrimSpace(f.Name), " ")
	role := rolemap.OrgRole(f.Role)
	if role != rolemap.RoleMember && role != rolemap.RoleAdmin {
		return sso.Member{}, &fieldError{Field: "role", Row: -1, Msg: "Choose the role Member or Admin."}
	}
	email := strings.TrimSpace(f.Email)
	if email == "" {
		return sso.Member{}, &fieldError{Field: "email", Row: -1, Msg: "Enter the member's email address."}
	}
	return sso.Member{Email: email, FirstName: first, LastName: strings.TrimSpace(last), OrgRole: role,
		AllowWithoutSSO: f.AllowWithoutSSO}, nil
}
