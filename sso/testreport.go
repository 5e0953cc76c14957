package sso

// newTestReport is what a Test SSO round trip shows the owner: the identity
// as checked (values checkIdentity refuses are left out and listed under
// Problems, with what a sign-in would refuse), what the role mapping would
// grant, and what else to fix before enabling SSO.
func newTestReport(org *Organization, received Identity) *TestReport {
	id, problems := checkIdentity(received)
	m := org.RoleMapping.Map(id.IdPRoles)
	if received.Email == "" {
		problems = append(problems, "no email address: send an email attribute or an emailAddress NameID")
	}
	if received.FirstName == "" || received.LastName == "" {
		problems = append(problems, "first or last name missing: send first_name and last_name attributes")
	}
	if org.RoleMapping.Enabled || len(org.RoleMapping.Mappings) > 0 {
		switch {
		case len(received.IdPRoles) == 0:
			problems = append(problems, "no IdP roles received: send a roles attribute for role mapping")
		case len(id.IdPRoles) == 0:
			// All refused, and said so above.
		case m.OrgRole == "":
			problems = append(problems, "none of the IdP roles "+quoteRoles(id.IdPRoles)+" maps to a role: with role mapping enabled this user would be denied")
		}
	}
	return &TestReport{Identity: id, Mapping: m, Problems: problems}
}
