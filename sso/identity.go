package sso

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/saml"
)

// Bounds on the identity values HandleACS reads from an IdP's assertion. A
// value over its bound, or malformed, fails a sign-in with a
// *saml.ValidationError of saml.CheckIdentity before anything is stored, and is listed
// under TestReport.Problems (and left out of the report's Identity) for a Test
// SSO round trip. The whole response is bounded by MaxResponseSize; these
// bound what a member record and every page that shows one may hold.
//
// Besides its bound, each value must be valid UTF-8 without control
// characters, and the email must be one bare address (addr-spec), as an
// IdP's email attribute or emailAddress NameID carries it: no display name;
// no angle brackets, quotes, parentheses, commas, colons, semicolons, square
// brackets or backslashes; no white space or format characters (such as
// bidirectional overrides); exactly one "@" with a non-empty part before it
// and a domain after it without empty labels. Non-ASCII letters are allowed
// (internationalized addresses). An empty email or name is not refused here:
// a missing email denies access (ErrAccessDenied), and missing names leave
// the member's as they were.
const (
	// MaxEmailBytes bounds the email: RFC 5321's 256-byte path, less the
	// angle brackets.
	MaxEmailBytes = 254
	// MaxEmailLocalBytes bounds the email's local part, before the "@"
	// (RFC 5321).
	MaxEmailLocalBytes = 64
	// MaxNameBytes bounds the first name and the last name, each.
	MaxNameBytes = 256
	// MaxNameIDBytes bounds the NameID. Persistent and transient NameIDs
	// are opaque identifiers, far shorter in every IdP seen.
	MaxNameIDBytes = 1024
	// MaxRoleBytes bounds each IdP role, after splitting by the
	// organization's delimiter and trimming.
	MaxRoleBytes = 256
	// MaxRoles bounds how many distinct IdP roles one assertion may carry,
	// after splitting and removing duplicates.
	MaxRoles = 1000
	// MaxAuthnMethods bounds Identity.AuthnMethods (each at most
	// MaxURLBytes): SAML AuthnContextClassRefs or OIDC amr values.
	MaxAuthnMethods = 32
)

// identityOf reads the identity from the assertion with the connection's
// attribute names. The values are not checked yet: see checkIdentity.
func identityOf(org *Organization, c *Connection, a *Assertion) Identity {
	names := c.Attributes.withDefaults()
	id := Identity{NameID: a.NameID, Attributes: a.Attributes, AuthnMethods: slices.Clone(a.AuthnContextClassRefs)}
	id.Email = strings.TrimSpace(firstValue(a.Attributes, names.Email))
	if id.Email == "" && (a.NameIDFormat == saml.NameIDFormatEmail || (a.NameIDFormat == nameIDUnspecified && strings.Contains(a.NameID, "@"))) {
		id.Email = a.NameID
	}
	id.FirstName = strings.TrimSpace(firstValue(a.Attributes, names.FirstName))
	id.LastName = strings.TrimSpace(firstValue(a.Attributes, names.LastName))
	var raw []string
	for _, n := range names.Roles {
		raw = append(raw, a.Attributes[n]...)
	}
	id.IdPRoles = rolemap.ParseRoles(raw, org.RoleMapping.Delimiter)
	return id
}

const nameIDUnspecified = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"

func firstValue(attrs map[string][]string, names []string) string {
	for _, n := range names {
		for _, v := range attrs[n] {
			if strings.TrimSpace(v) != "" {
				return v
			}
		}
	}
	return ""
}

// checkIdentity checks the values an IdP sent against the bounds and rules
// of MaxEmailBytes and the rest. It returns the identity without the refused values (a refused
// email, name or NameID is "", refused roles are left out) and one problem
// per refused value. A problem names the value and the rule it breaks, with
// lengths and byte offsets, never the value itself. Attributes is returned
// as received.
func checkIdentity(id Identity) (Identity, []string) {
	var problems []string
	refuse := func(field *string, problem string) {
		if problem != "" {
			problems = append(problems, problem)
			*field = ""
		}
	}
	refuse(&id.Email, emailProblem(id.Email))
	refuse(&id.FirstName, textProblem("first name", id.FirstName, MaxNameBytes))
	refuse(&id.LastName, textProblem("last name", id.LastName, MaxNameBytes))
	refuse(&id.NameID, textProblem("NameID", id.NameID, MaxNameIDBytes))

	if len(id.IdPRoles) > MaxRoles {
		problems = append(problems, fmt.Sprintf("IdP roles: %d distinct roles, more than the %d accepted", len(id.IdPRoles), MaxRoles))
		id.IdPRoles = nil
	}
	var kept []string
	long, longest := 0, 0
	for _, r := range id.IdPRoles {
		if len(r) > MaxRoleBytes {
			long, longest = long+1, max(longest, len(r))
			continue
		}
		kept = append(kept, r)
	}
	if long > 0 {
		problems = append(problems, fmt.Sprintf("IdP roles: %d longer than the %d bytes accepted (the longest is %d bytes)", long, MaxRoleBytes, longest))
		id.IdPRoles = kept
	}
	if len(id.AuthnMethods) > MaxAuthnMethods {
		problems = append(problems, fmt.Sprintf("authentication methods: %d, more than the %d accepted", len(id.AuthnMethods), MaxAuthnMethods))
		id.AuthnMethods = nil
	}
	for _, m := range id.AuthnMethods {
		if p := textProblem("authentication method", m, MaxURLBytes); p != "" {
			problems = append(problems, p)
			id.AuthnMethods = nil
			break
		}
	}
	return id, problems
}

// identityError is the error of a sign-in whose identity checkIdentity
// refused.
func identityError(problems []string) error {
	return &saml.ValidationError{Check: saml.CheckIdentity, Reason: "the IdP sent identity values orgsso does not accept: " + strings.Join(problems, "; ")}
}

// emailSpecials are the ASCII characters an unquoted address may not hold
// (RFC 5322 specials, less "@" and "."), which a display name, a comment, a
// quoted local part, a domain literal or a list of addresses would bring.
const emailSpecials = `"(),:;<>[\]`

// emailProblem says why email is not one bare address within the bounds, or
// returns "" when it is (or is empty).
func emailProblem(email string) string {
	const field = "email"
	if email == "" {
		return ""
	}
	if p := textProblem(field, email, MaxEmailBytes); p != "" {
		return p
	}
	for i, r := range email {
		switch {
		case unicode.IsControl(r), unicode.IsSpace(r), unicode.Is(unicode.Cf, r):
			return fmt.Sprintf("%s: a white space, control or format character (%U) at byte %d; send the bare address, like kate@acme.example", field, r, i)
		case strings.ContainsRune(emailSpecials, r):
			return fmt.Sprintf("%s: %s at byte %d; send the bare address, like kate@acme.example, without a display name, quotes or angle brackets", field, strconv.QuoteRune(r), i)
		}
	}
	local, domain, _ := strings.Cut(email, "@")
	switch n := strings.Count(email, "@"); {
	case n != 1:
		return fmt.Sprintf("%s: %d \"@\" signs; want one address, with exactly one", field, n)
	case local == "":
		return field + ": nothing before the \"@\""
	case domain == "":
		return field + ": no domain after the \"@\""
	case len(local) > MaxEmailLocalBytes:
		return fmt.Sprintf("%s: the part before the \"@\" is %d bytes, more than the %d accepted", field, len(local), MaxEmailLocalBytes)
	case strings.HasPrefix(domain, "."), strings.HasSuffix(domain, "."), strings.Contains(domain, ".."):
		return field + ": the domain has an empty label (a leading, trailing or doubled \".\")"
	}
	return ""
}

// textProblem says why s, the named field, is over limit bytes, not valid
// UTF-8 or holds a control character, or returns "".
func textProblem(field, s string, limit int) string {
	switch {
	case len(s) > limit:
		return fmt.Sprintf("%s: %d bytes, more than the %d accepted", field, len(s), limit)
	case !utf8.ValidString(s):
		return field + ": not valid UTF-8"
	}
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		return fmt.Sprintf("%s: a control character (%U) at byte %d", field, r, i)
	}
	return ""
}

// quoteRoles lists roles for a message: quoted, at most the first few, so
// that a message stays short whatever the IdP sent.
func quoteRoles(roles []string) string {
	const shown = 10
	if len(roles) <= shown {
		return fmt.Sprintf("%q", roles)
	}
	return fmt.Sprintf("%q and %d more", roles[:shown], len(roles)-shown)
}
