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

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/sso"
)

// formError is a message for the person filling in a form: a sentence,
// capitalized and punctuated, unlike a Go error string.
type formError string

// Error implements error.
func (e formError) Error() string { return string(e) }

// formErrorf formats a formError.
func formErrorf(format string, args ...any) error { return formError(fmt.Sprintf(format, args...)) }

// option is one choice of a <select>.
type option struct{ Value, Label string }

// algorithmOptions are the signature policies an owner picks from: the
// weakest algorithm accepted (stronger ones, RSA or ECDSA, always pass).
var algorithmOptions = []option{
	{sso.AlgRSASHA256, "SHA-256 or stronger (recommended)"},
	{sso.AlgRSASHA384, "SHA-384 or stronger"},
	{sso.AlgRSASHA512, "SHA-512 only"},
	{sso.AlgRSASHA1, "SHA-1 or stronger (weak: legacy IdPs only)"},
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
}

// idpFormFrom fills step 2 from the saved configuration.
func idpFormFrom(c sso.IdPConfig) idpForm {
	alg := c.SignatureAlgorithm
	if alg == "" {
		alg = sso.AlgRSASHA256
	}
	return idpForm{SSOURL: c.SSOURL, EntityID: c.EntityID, Certificates: strings.Join(c.Certificates, ""), Algorithm: alg}
}

// config reads the form into an IdP configuration; the error is for the
// owner. Whether the configuration is complete is the caller's question.
func (f idpForm) config(current string) (sso.IdPConfig, error) {
	if !slices.ContainsFunc(algorithmChoices(current), func(o option) bool { return o.Value == f.Algorithm }) {
		return sso.IdPConfig{}, formError("Choose a signature algorithm from the list.")
	}
	certs, err := splitCertificates(f.Certificates)
	if err != nil {
		return sso.IdPConfig{}, err
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

// apply writes the form into a copy of the organization and checks the
// result with Organization.ValidateAt. The error names the field or row.
func (f usersForm) apply(org *sso.Organization, now time.Time) (*sso.Organization, error) {
	hours, err := strconv.Atoi(strings.TrimSpace(f.TimeoutHours))
	if err != nil || hours < 1 || hours > 24 {
		return nil, formError("Session timeout must be a whole number of hours from 1 to 24.")
	}
	delim, ok := "", false
	for _, o := range delimiterOptions {
		if o.Key == f.Delimiter {
			delim, ok = o.Value, true
		}
	}
	if f.Delimiter == "current" {
		delim, ok = org.RoleMapping.Delimiter, true
	}
	if !ok {
		return nil, formError("Choose a role delimiter from the list.")
	}
	mappings, rowOf, err := buildMappings(f.Rows)
	if err != nil {
		return nil, err
	}
	c := *org
	c.StrictMode = f.StrictMode
	c.SessionTimeout = time.Duration(hours) * time.Hour
	c.JITProvisioning = f.JIT
	c.RoleMapping = rolemap.Config{Enabled: f.MappingEnabled, Delimiter: delim, Mappings: mappings}
	if err := c.ValidateAt(now); err != nil {
		var me *rolemap.MappingError
		if errors.As(err, &me) && me.Index >= 0 && me.Index < len(rowOf) {
			return nil, formErrorf("Role mapping row %d (%q): %s.", rowOf[me.Index]+1, me.IdPRole, me.Reason)
		}
		return nil, formError(configMessage(err))
	}
	return &c, nil
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
			return nil, nil, formErrorf("Role mapping row %d: enter the IdP role (group name or UID).", n)
		case role != rolemap.RoleMember && role != rolemap.RoleAdmin:
			return nil, nil, formErrorf("Role mapping row %d: choose Member or Admin as the organization role.", n)
		case stack != "" && len(roles) == 0:
			return nil, nil, formErrorf("Role mapping row %d: stack %q needs at least one stack role.", n, stack)
		case stack == "" && len(roles) > 0:
			return nil, nil, formErrorf("Role mapping row %d: enter the stack UID the stack roles apply to.", n)
		}
		j, seen := index[idpRole]
		if !seen {
			j = len(ms)
			index[idpRole] = j
			ms = append(ms, rolemap.Mapping{IdPRole: idpRole, OrgRole: role})
			rowOf = append(rowOf, i)
		} else if ms[j].OrgRole != role {
			return nil, nil, formErrorf("Role mapping row %d: IdP role %q is already mapped to %s in row %d; one IdP role has one organization role.",
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

// fieldLabels name orgsso's configuration fields as the settings page does.
var fieldLabels = map[string]string{
	"SSOName":                "SSO name",
	"SessionTimeout":         "Session timeout",
	"RoleMapping":            "Role mapping",
	"IdP.SSOURL":             "Single Sign-On URL",
	"IdP.EntityID":           "IdP entity ID",
	"IdP.Certificates":       "Certificate",
	"IdP.SignatureAlgorithm": "Signature algorithm",
	"IdP metadata":           "IdP metadata",
}

// configMessage turns an orgsso configuration error into a sentence for the
// owner (who is the operator here, so the reason may be specific).
func configMessage(err error) string {
	var ce *sso.ConfigError
	if !errors.As(err, &ce) {
		return sso.UserMessage(err)
	}
	label, ok := fieldLabels[ce.Field]
	if !ok {
		label = ce.Field
		if i, found := strings.CutPrefix(ce.Field, "IdP.Certificates["); found {
			if n, err := strconv.Atoi(strings.TrimSuffix(i, "]")); err == nil {
				label = "Certificate " + strconv.Itoa(n+1)
			}
		}
	}
	msg := label + ": " + ce.Reason
	for _, rule := range []error{sso.ErrSSONameLength, sso.ErrSSONameCharacters, sso.ErrSSONameEdgeHyphen, sso.ErrSSONameDoubleHyphen} {
		if errors.Is(err, rule) {
			return msg + ". " + capitalize(strings.TrimPrefix(rule.Error(), "sso: ")) + "."
		}
	}
	if ce.Err != nil {
		msg += " (" + cut(strings.TrimPrefix(ce.Err.Error(), "sso: "), 200) + ")"
	}
	return msg + "."
}

// capitalize upper-cases the first letter of an ASCII sentence.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
